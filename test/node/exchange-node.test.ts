/**
 * The node runtime in-process: real RaftNode + MemoryStorage + in-memory transport. Covers the
 * ExchangeNodeApi semantics that are awkward to provoke through processes: NotLeader, follower
 * ReadIndex, leadership loss -> UNAVAILABLE, deadlines, the proposal limit.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import type { Command } from '../../domain/index.js';
import { DeadlineError, OverloadedError, UnavailableError } from '../../src/node/exchange-node-api.js';
import { defaultNodeLimits } from '../../src/node/exchange-node.js';
import { MemoryCluster } from '../support/memory-cluster.js';

const seed = Number(process.env['SEED'] ?? 7);
const dep = (accountId: string, asset: string, amount: string, requestId: string): Command => ({ type: 'deposit', accountId, asset, amount, requestId });
const order = (accountId: string, clientOrderId: string, side: 'buy' | 'sell', quantity: string, price: string): Command =>
  ({ type: 'placeOrder', accountId, clientOrderId, symbol: 'AAPL', side, orderType: 'limit', quantity, price, timeInForce: 'gtc' }) as unknown as Command;
const soon = (ms = 3000) => Date.now() + ms;

describe(`ExchangeNode in-process (SEED=${seed})`, () => {
  let cluster: MemoryCluster;
  afterEach(async () => {
    await cluster?.stop();
  });

  it('writes on the leader, linearizable reads and trade streams on followers', async () => {
    cluster = new MemoryCluster({ seed });
    const leaderId = await cluster.waitForLeader();
    const leader = cluster.node(leaderId);
    const followerId = [...cluster.nodes.keys()].find((id) => id !== leaderId)!;
    const follower = cluster.node(followerId);

    await expect(follower.submit(dep('a', 'USD', '10', 'r0'), soon())).rejects.toMatchObject({ name: 'NotLeaderError', leaderId, leaderAddress: `mem:${leaderId}` });

    const live = firstValueFrom(follower.trades('AAPL', 0).pipe(take(1)));
    const r1 = await leader.submit(dep('alice', 'USD', '1000', 'r1'), soon());
    expect(r1).toMatchObject({ kind: 'balance' });
    // The follower may not have applied r1 yet; a linearizable read must still see it.
    const { value, appliedIndex } = await follower.read((ex) => ex.portfolio('alice'), soon());
    expect(appliedIndex).toBeGreaterThanOrEqual(r1.logIndex);
    expect(value.find((b) => b.asset === 'USD')?.available).toMatch(/^1000(\.0+)?$/);

    await leader.submit(dep('bob', 'AAPL', '5', 'r2'), soon());
    await leader.submit(order('alice', 'b1', 'buy', '5', '100'), soon());
    const sell = await leader.submit(order('bob', 's1', 'sell', '5', '100'), soon());
    const trade = await live;
    expect(trade.logIndex).toBe(sell.logIndex);
    const resumed = await firstValueFrom(cluster.node(followerId).trades('', trade.logIndex).pipe(take(1), toArray()));
    expect(resumed).toEqual([trade]);
    // Status without the (costly) state hash, for pollers; the default still carries it.
    expect(leader.status({ withStateHash: false }).stateHash).toBe('');
    expect(leader.status().stateHash).toMatch(/^[0-9a-f]{64}$/);
    expect(cluster.fatals).toEqual([]);
  });

  it('a leader cut off from the majority fails waiting writes with UNAVAILABLE, or DEADLINE first', async () => {
    cluster = new MemoryCluster({ seed });
    const leaderId = await cluster.waitForLeader();
    const leader = cluster.node(leaderId);
    await leader.submit(dep('x', 'USD', '1', 'warm'), soon());
    cluster.isolate(leaderId);
    const short = leader.submit(dep('x', 'USD', '1', 'short'), Date.now() + 20);
    const long = leader.submit(dep('x', 'USD', '1', 'long'), soon(10_000));
    await expect(short).rejects.toBeInstanceOf(DeadlineError);
    // Check-quorum: the isolated leader steps down within about an election timeout.
    await expect(long).rejects.toBeInstanceOf(UnavailableError);
    const newLeader = await cluster.waitForLeader(5000, [leaderId]);
    expect(newLeader).not.toBe(leaderId);
    // Reads on the isolated old leader cannot be confirmed by anyone.
    await expect(leader.read((ex) => ex.portfolio('x'), Date.now() + 300)).rejects.toSatisfy((e) => e instanceof UnavailableError || e instanceof DeadlineError);
    cluster.isolate(leaderId, false);
    // After healing, the retry with the same request id applies once.
    const retried = await cluster.node(newLeader).submit(dep('x', 'USD', '1', 'long'), soon());
    const again = await cluster.node(newLeader).submit(dep('x', 'USD', '1', 'long'), soon());
    expect(again).toEqual(retried);
  });

  it('rejects proposals beyond the pending limit with OverloadedError', async () => {
    cluster = new MemoryCluster({ seed, limits: { ...defaultNodeLimits, pendingProposalsMax: 2 } });
    const leaderId = await cluster.waitForLeader();
    const leader = cluster.node(leaderId);
    cluster.isolate(leaderId);
    const a = leader.submit(dep('y', 'USD', '1', 'p1'), soon(500));
    const b = leader.submit(dep('y', 'USD', '1', 'p2'), soon(500));
    await expect(leader.submit(dep('y', 'USD', '1', 'p3'), soon(500))).rejects.toBeInstanceOf(OverloadedError);
    await Promise.allSettled([a, b]);
  });
});
