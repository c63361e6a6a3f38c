/**
 * Interop: a Python client (Debian's python3-grpcio, stubs built at run time from the descriptor
 * set `buf build` makes of proto/) deposits, trades and reads portfolios on a live 3-node cluster.
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosCluster } from '../chaos/chaos-cluster.js';

const python = fs.existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
function pythonHasGrpc(): boolean {
  try {
    execFileSync(python, ['-c', 'import grpc, google.protobuf']);
    return true;
  } catch {
    return false;
  }
}
const hasGrpc = pythonHasGrpc();
if (!hasGrpc) console.warn('interop: python3-grpcio is not installed (apt-get install -y python3-grpcio python3-protobuf); skipping');

describe.runIf(hasGrpc || process.env.CI)('python interop', () => {
  let cluster: ChaosCluster;
  const fds = path.join(os.tmpdir(), `raftex-fds-${process.pid}.binpb`);

  beforeAll(async () => {
    execFileSync(path.resolve('node_modules/.bin/buf'), ['build', '-o', fds]);
    cluster = await ChaosCluster.start({ nodes: 3, electionTimeoutMs: 300, heartbeatMs: 50 });
    const until = Date.now() + 30_000;
    while (!(await cluster.leader()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    fs.rmSync(fds, { force: true });
  });

  it('a Python client deposits, trades and reads portfolios through a follower', async () => {
    const leader = await cluster.leader();
    const follower = cluster.nodes.find((n) => n !== leader)!;
    // Async: the peer-link proxies live in this process, a blocking exec would stall them.
    const { stdout: out } = await promisify(execFile)(python, ['test/interop/interop_client.py', follower.address, fds, String(process.pid)], { encoding: 'utf8' });
    const r = JSON.parse(out);
    expect(Number(r.deposit_usd)).toBe(1000);
    expect(Number(r.deposit_aapl)).toBe(10);
    expect(r.sell_status).toBe('ORDER_STATUS_NEW');
    expect(r.buy_status).toBe('ORDER_STATUS_FILLED');
    expect(r.trades).toHaveLength(1);
    expect(Number(r.trades[0].price)).toBe(101.5);
    expect(Number(r.trades[0].quantity)).toBe(3);
    expect(r.malformed).toBe('INVALID_ARGUMENT');
    // Buyer paid 3 x 101.50 = 304.50 and holds 3 AAPL; seller has 1 AAPL still reserved on the book.
    expect(Number(r.buyer.USD.available)).toBeCloseTo(695.5, 10);
    expect(Number(r.buyer.USD.reserved)).toBe(0);
    expect(Number(r.buyer.AAPL.available)).toBe(3);
    expect(Number(r.seller.USD.available)).toBeCloseTo(304.5, 10);
    expect(Number(r.seller.AAPL.available)).toBe(6);
    expect(Number(r.seller.AAPL.reserved)).toBe(1);
  }, 60_000);
});
