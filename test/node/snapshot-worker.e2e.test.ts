/**
 * A node with --snapshot-worker: its snapshots come from the shadow worker (logged offThread),
 * and a restart from such a snapshot, captured inline this time, reaches the same state hash.
 * Runs the compiled worker (`npm test` builds dist/ first).
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Command, Exchange } from '../../domain/index.js';
import { startNode, type RunningNode } from '../../src/node/start-node.js';
import { freePorts, sleep } from '../support/cluster.js';

const timing = { electionTimeoutMs: 300, heartbeatMs: 50 };
const workerUrl = new URL('../../dist/src/node/shadow-worker.js', import.meta.url);
const policy = { entriesPerSnapshot: 20, trailingEntries: 2 };

function commands(from: number, n: number): Command[] {
  const out: Command[] = [];
  for (let i = from; i < from + n; i++) {
    out.push({ type: 'deposit', accountId: `a${i % 3}`, asset: i % 2 === 0 ? 'USD' : 'AAPL', amount: '1000', requestId: `d${i}` });
    const buy = i % 2 === 0;
    out.push({
      type: 'placeOrder', accountId: `a${i % 3}`, clientOrderId: `o${i}`, symbol: 'AAPL', side: buy ? 'buy' : 'sell',
      orderType: 'limit', timeInForce: 'gtc', quantity: '1', price: buy ? '10.00' : i % 4 === 1 ? '9.99' : '10.50',
    });
  }
  return out;
}

/** A logger whose lines are kept, parsed. */
function capturingLogger(lines: Record<string, unknown>[]): pino.Logger {
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l.trim() !== '') lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return pino({ level: 'info', base: { node: 'n1' } }, sink);
}

describe('--snapshot-worker', () => {
  let root = '';
  const running: RunningNode[] = [];

  afterAll(async () => {
    await Promise.all(running.map((n) => n.stop()));
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  async function until(what: string, probe: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!probe()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  it('snapshots off the node thread, and a restart from them reaches the same state', async () => {
    expect(existsSync(workerUrl), 'dist/ is missing: run `npm test` (it builds first)').toBe(true);
    root = await mkdtemp(join(tmpdir(), 'raftex-snapshot-worker-'));
    const [port] = await freePorts(1);
    const listen = `127.0.0.1:${port!}`;
    const lines: Record<string, unknown>[] = [];
    const first = await startNode({
      id: 'n1', listen, peers: new Map(), dataDir: join(root, 'n1'), timing, snapshotPolicy: policy,
      snapshotWorker: true, snapshotWorkerUrl: workerUrl, logger: capturingLogger(lines),
    });
    running.push(first);
    await until('n1 to lead', () => first.node.status().role === 'leader');
    for (const c of commands(0, 40)) await first.node.submit(c, Date.now() + 5000).catch(() => undefined);
    await until('two snapshots', () => first.node.snapshotter!.stats.taken >= 2);
    const saved = lines.filter((l) => l['msg'] === 'snapshot saved');
    expect(saved.length).toBeGreaterThanOrEqual(2);
    expect(saved.every((l) => l['offThread'] === true)).toBe(true);
    expect(lines.some((l) => String(l['msg']).includes('shadow worker failed'))).toBe(false);
    const view = (ex: Exchange): unknown => [ex.portfolio('a0'), ex.portfolio('a1'), ex.portfolio('a2'), ex.orderBook('AAPL', 10), ex.openOrders('a0')];
    const before = (await first.node.read(view, Date.now() + 5000)).value;
    const applied = first.node.lastApplied;
    await first.stop();
    running.pop();

    // Restart inline from the worker's snapshot plus the WAL after it.
    const second = await startNode({ id: 'n1', listen, peers: new Map(), dataDir: join(root, 'n1'), timing, snapshotPolicy: policy, logger: pino({ level: 'silent' }) });
    running.push(second);
    await until('n1 to replay', () => second.node.lastApplied >= applied);
    expect(second.node.snapshotter!.stats.lastIndex).toBeGreaterThan(0);
    await until('n1 to lead again', () => second.node.status().role === 'leader');
    // The same balances, book and open orders (the new term's noop moves only the applied index).
    const after = (await second.node.read(view, Date.now() + 5000)).value;
    expect(JSON.stringify(after)).toBe(JSON.stringify(before));
    expect((before as unknown[][])[3]).not.toEqual({ bids: [], asks: [] });
  });
});
