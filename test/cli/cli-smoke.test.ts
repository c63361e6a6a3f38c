/**
 * The `raftex` client verbs as a user runs them (`node --import tsx src/cli/main.ts ...`) against a
 * fake two-node cluster served over real gRPC in this process.
 */
import { execFile } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canon, startCluster } from '../api/grpc-harness.js';
import type { RunningNode } from '../api/grpc-harness.js';

let nodes: RunningNode[] = [];

beforeAll(async () => {
  nodes = (await startCluster(['n1', 'n2'], 'n1')).nodes;
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

/** Runs the CLI without blocking this process's event loop (it serves the gRPC calls). */
function raftex(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { timeout: 30_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('raftex CLI', () => {
  // Each spawn costs a node + tsx start-up (seconds on a loaded 2-core box): few, and in parallel.
  it('client verbs: --json output, tables, gRPC codes and exit status 1 on failure', async () => {
    const [leader, follower] = [nodes[0]!.address, nodes[1]!.address];
    const ok = await raftex('deposit', 'alice', 'USD', '100.5', '--request-id', 'cli-1', '--server', follower, '--json');
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    const res = JSON.parse(ok.stdout) as { balance: { asset: string; available: string }; logIndex: number; requestId: string };
    expect(canon(res.balance)).toMatchObject({ asset: 'USD', available: '100.5' });
    expect(res.logIndex).toBe(1);
    expect(res.requestId).toBe('cli-1');

    const [poor, malformed, table, status, failover, ioc] = await Promise.all([
      raftex('buy', 'alice', 'AAPL', '10', '100', '--server', follower),
      raftex('deposit', 'bob', 'USD', '1e3', '--server', leader),
      raftex('portfolio', 'alice', '--server', leader),
      raftex('status', '--server', follower),
      // Nothing listens on port 1: a list moves on to the next node.
      raftex('portfolio', 'alice', '--json', '--server', `127.0.0.1:1,${follower}`),
      // Nothing to trade against: the IOC is cancelled whole, and the table says how much.
      raftex('buy', 'alice', 'AAPL', '2', '1', '--ioc', '--server', leader),
    ]);
    expect(ioc.code, ioc.stderr).toBe(0);
    expect(ioc.stdout).toMatch(/status:\s+CANCELLED/);
    expect(ioc.stdout).toMatch(/cancelled:\s+2\n/);
    expect(failover.code, failover.stderr).toBe(0);
    expect(JSON.parse(failover.stdout)).toMatchObject({ accountId: 'alice' });
    expect(poor.code).toBe(1);
    expect(poor.stderr).toMatch(/^error: FAILED_PRECONDITION: insufficientFunds/);
    expect(malformed.code).toBe(1);
    expect(malformed.stderr).toMatch(/^error: INVALID_ARGUMENT: /);

    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/asset\s+available\s+reserved/);
    expect(table.stdout).toMatch(/USD\s+100\.50?\s+0(\.0+)?\n/);

    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^n1\s+127\.0\.0\.1:\d+\s+leader/m);
    expect(status.stdout).toMatch(/^n2\s+127\.0\.0\.1:\d+\s+follower/m);
    expect(status.stdout).toMatch(/^leader: n1$/m);
  });
});
