/**
 * Compaction end to end over real gRPC and disks: a 3-node in-process cluster snapshots every 40
 * entries; a follower that was down while the leader compacted past its log rejoins through a
 * streamed InstallSnapshot and reaches the same state hash; restarted again, it rebuilds its
 * state from its own snapshot plus the WAL tail, still with the same hash.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Command } from '../../domain/index.js';
import { startNode, type RunningNode } from '../../src/node/start-node.js';
import { freePorts, sleep } from '../support/cluster.js';

const silentLogger = { level: 'silent' };
const policy = { entriesPerSnapshot: 40, trailingEntries: 10 };
// Generous: three nodes share one event loop on a loaded test machine; a stall must not depose.
const timing = { electionTimeoutMs: 1000, heartbeatMs: 50 };

const deposit = (accountId: string, asset: string, amount: string, requestId: string): Command =>
  ({ type: 'deposit', accountId, asset, amount, requestId });
const order = (accountId: string, clientOrderId: string, side: 'buy' | 'sell', quantity: string, price: string): Command =>
  ({ type: 'placeOrder', accountId, clientOrderId, symbol: 'AAPL', side, orderType: 'limit', quantity, price, timeInForce: 'gtc' }) as unknown as Command;

describe('a follower down across a compaction', () => {
  const running = new Map<string, RunningNode>();
  let root = '';
  let addresses = new Map<string, string>();

  async function start(id: string): Promise<RunningNode> {
    const peers = new Map([...addresses].filter(([other]) => other !== id));
    const { pino } = await import('pino');
    const node = await startNode({
      id, listen: addresses.get(id)!, peers, dataDir: join(root, id), timing, snapshotPolicy: policy,
      logger: pino(silentLogger),
    });
    running.set(id, node);
    return node;
  }

  async function leader(timeoutMs = 20_000): Promise<RunningNode> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      for (const node of running.values()) if (node.node.status().role === 'leader') return node;
      await sleep(20);
    }
    throw new Error('no leader');
  }

  /** Submits on whoever leads, retrying (same ids: idempotent) across a leadership change. */
  async function submit(command: Command): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const lead = await leader();
      try {
        await lead.node.submit(command, Date.now() + 10_000);
        return;
      } catch (error) {
        if (attempt >= 50) throw error;
        await sleep(50);
      }
    }
  }

  async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(20);
    }
  }

  afterAll(async () => {
    await Promise.all([...running.values()].map((n) => n.stop()));
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('rejoins through InstallSnapshot, reaches the same state hash, and restarts from its snapshot', async () => {
    root = await mkdtemp(join(tmpdir(), 'raftex-snap-'));
    const ports = await freePorts(3);
    addresses = new Map(['n1', 'n2', 'n3'].map((id, i) => [id, `127.0.0.1:${ports[i]!}`]));
    for (const id of addresses.keys()) await start(id);
    let lead = await leader();
    await submit(deposit('alice', 'USD', '1000000', 'd1'));
    await submit(deposit('bob', 'AAPL', '100000', 'd2'));
    lead = await leader();

    const followerId = [...running.keys()].find((id) => running.get(id) !== lead)!;
    await running.get(followerId)!.stop();
    running.delete(followerId);

    for (let i = 0; i < 150; i++) {
      const side = i % 2 === 0 ? 'buy' : 'sell';
      await submit(order(side === 'buy' ? 'alice' : 'bob', `o${i}`, side, '1', String(100 + (i % 7))));
    }
    lead = await leader();
    const leaderStats = lead.node.snapshotter!.stats;
    expect(leaderStats.taken).toBeGreaterThan(0);
    // The leader's log now starts past everything the stopped follower holds.
    expect(lead.node.status().lastApplied).toBeGreaterThan(100);

    const follower = await start(followerId);
    await until('the follower to catch up', () => follower.node.lastApplied === lead.node.lastApplied);
    expect(follower.node.snapshotter!.stats.installed).toBeGreaterThanOrEqual(1);
    expect(follower.node.status().stateHash).toBe(lead.node.status().stateHash);
    // The trades inside the installed snapshot were never replayed on the follower, but the
    // snapshot carries them: a resume from log index 1 there gives exactly the leader's trades.
    // Everything the node replays from log index 1 (nothing new is committed meanwhile): the
    // history comes in batches, then the stream goes quiet; an OUT_OF_RANGE refusal rejects.
    const all = (n: RunningNode): Promise<string[]> => new Promise((resolve, reject) => {
      const ids: string[] = [];
      let quiet = setTimeout(() => done(), 1000);
      const done = (): void => {
        subscription.unsubscribe();
        resolve(ids);
      };
      const subscription = n.node.trades('', 1).subscribe({
        next: (t) => {
          ids.push(t.tradeId);
          clearTimeout(quiet);
          quiet = setTimeout(() => done(), 300);
        },
        error: (e: unknown) => {
          clearTimeout(quiet);
          reject(e);
        },
      });
    });
    const leaderTrades = await all(lead);
    expect(leaderTrades.length).toBeGreaterThan(10);
    expect(await all(follower)).toEqual(leaderTrades);
    const snaps = await readdir(join(root, followerId, 'snap'));
    expect(snaps.some((name) => name.endsWith('.snap'))).toBe(true);

    // Restart the follower: snapshot + WAL tail give the same state.
    await follower.stop();
    running.delete(followerId);
    const again = await start(followerId);
    await until('the restarted follower to catch up', () => again.node.lastApplied === lead.node.lastApplied);
    expect(again.node.status().stateHash).toBe(lead.node.status().stateHash);
    // Restarted from its own snapshot, which carries the trades too.
    expect(await all(again)).toEqual(leaderTrades);
  }, 90_000);
});
