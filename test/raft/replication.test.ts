/**
 * Replication scenarios: no commit without a majority, a partitioned old leader's uncommitted
 * entries overwritten after the heal, the Figure 8 sequence, and fast repair of lagging or
 * conflicting followers (rejection counts printed and bounded).
 */
import { describe, expect, it } from 'vitest';
import { Harness, craftedStorage } from './harness.js';
import { MemoryStorage, type NodeId } from '../../src/raft/index.js';

const T = 10;

function electFirst(h: Harness): NodeId {
  h.tickUntil(() => h.leader() !== null, 3 * T);
  return h.leader()!;
}

describe('replication', () => {
  it('commits nothing without a majority, and commits once a majority is back', () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const h = new Harness({ ids, seed: 4 });
    const leader = electFirst(h);
    h.tick(1);
    const followers = ids.filter((id) => id !== leader);
    for (const id of followers.slice(0, 3)) h.crash(id);
    const commitBefore = h.node(leader).status().commitIndex;
    const result = h.node(leader).propose(new Uint8Array([42]), 5);
    expect(result.ok).toBe(true);
    h.stabilize();
    h.tick(T - 2, [leader, followers[3]!]); // less than a check-quorum timeout
    expect(h.node(leader).status().commitIndex).toBe(commitBefore);
    expect(h.node(followers[3]!).status().commitIndex).toBeLessThanOrEqual(commitBefore);
    expect(h.applied(leader).some((e) => e.data[0] === 42)).toBe(false);
    h.restart(followers[0]!);
    h.tick(1, [leader, followers[0]!, followers[3]!]);
    expect(h.node(leader).status().commitIndex).toBe(commitBefore + 1);
    expect(h.applied(leader).at(-1)?.data[0]).toBe(42);
  });

  it("overwrites a partitioned old leader's uncommitted entries after the heal", () => {
    const ids = ['a', 'b', 'c', 'd', 'e'];
    const h = new Harness({ ids, seed: 9 });
    const oldLeader = electFirst(h);
    h.propose(oldLeader, 2, 'committed');
    h.tick(1);
    const buddy = ids.find((id) => id !== oldLeader)!;
    const majority = ids.filter((id) => id !== oldLeader && id !== buddy);
    h.partition([oldLeader, buddy], majority);
    const stale = h.node(oldLeader).propose(new TextEncoder().encode('lost'), 9);
    expect(stale.ok).toBe(true);
    h.propose(oldLeader, 3, 'lost');
    const staleIndex = stale.ok ? stale.index : 0;
    const staleTerm = stale.ok ? stale.term : 0;
    expect(h.node(buddy).status().lastLogIndex).toBeGreaterThanOrEqual(staleIndex);
    // The majority elects a new leader once its lease runs out; the old leader steps down.
    h.tickUntil(() => majority.some((id) => h.node(id).status().role === 'leader') && h.node(oldLeader).status().role === 'follower', 4 * T);
    const newLeader = majority.find((id) => h.node(id).status().role === 'leader')!;
    expect(h.node(oldLeader).status().role).toBe('follower');
    h.propose(newLeader, 4, 'new');
    h.heal();
    h.tick(2);
    const reference = h.logOf(newLeader);
    for (const id of ids) expect(h.logOf(id)).toEqual(reference);
    expect(h.node(oldLeader).status().leaderId).toBe(newLeader);
    expect(h.everApplied(staleIndex, staleTerm)).toBe(false);
    for (const id of ids) expect(h.applied(id).some((e) => new TextDecoder().decode(e.data).startsWith('lost'))).toBe(false);
  });

  it('Figure 8 (c)-(d): an entry of an earlier term is not committed by counting replicas', () => {
    const h = figure8Cluster();
    // (c) S1 wins term 4 with S2, S3, S4 (S5's log is more up to date than S1's? no: 2@3 > 2@2, it refuses).
    h.node('s1').campaign();
    h.stabilize((m) => m.type === 'requestVote' || m.type === 'requestVoteResponse');
    expect(h.node('s1').status()).toMatchObject({ role: 'leader', term: 4, lastLogIndex: 3 });
    h.drop((m) => m.type === 'appendEntries');
    // S1 replicates only its term-2 entry to S2 and S3 (one entry per append): index 2 is now on a
    // majority (S1, S2, S3), but it is of an earlier term.
    const entry2 = h.storage('s1').entries(2, 3)[0]!;
    expect(entry2.term).toBe(2);
    for (const to of ['s2', 's3']) {
      h.inject({ type: 'appendEntries', from: 's1', to, term: 4, prevLogIndex: 1, prevLogTerm: 1, entries: [entry2], leaderCommit: 1, round: 0 });
      h.processReady(to);
    }
    h.deliver((m) => m.type === 'appendEntriesResponse' && m.to === 's1');
    h.processReady('s1');
    expect(h.node('s1').status().followers.filter((f) => f.matchIndex === 2).length).toBe(2);
    expect(h.node('s1').status().commitIndex).toBe(1);
    // (d) S1 crashes before its no-op reaches a majority; S5 wins term 5 and overwrites index 2.
    h.drop(() => true);
    h.crash('s1');
    h.elect('s5');
    h.tick(1);
    h.restart('s1');
    h.tick(2);
    const reference = h.logOf('s5');
    expect(reference).toEqual(['1@1', '2@3', '3@5']);
    for (const id of h.ids) expect(h.logOf(id)).toEqual(reference);
    expect(h.everApplied(2, 2)).toBe(false);
    expect(h.everApplied(2, 3)).toBe(true);
  });

  it('Figure 8 (e): once the no-op of the term is on a majority, both entries commit and S5 cannot win', () => {
    const h = figure8Cluster();
    h.isolate('s5'); // S5 keeps its stale 2@3
    h.elect('s1');
    h.tick(1);
    expect(h.node('s1').status().commitIndex).toBe(3);
    expect(h.everApplied(2, 2)).toBe(true);
    h.crash('s1');
    h.heal();
    h.node('s5').campaign();
    h.stabilize();
    expect(h.node('s5').status().role).not.toBe('leader');
    expect(h.logOf('s5')).toEqual(['1@1', '2@3']);
    for (const id of ['s2', 's3', 's4']) expect(h.logOf(id)).toEqual(['1@1', '2@2', '3@4']);
  });

  it('a follower 5,000 entries behind catches up with few rejections', () => {
    const h = new Harness({ seed: 21 });
    const leader = electFirst(h);
    const lagging = h.ids.find((id) => id !== leader)!;
    h.isolate(lagging);
    h.propose(leader, 5_000);
    expect(h.node(leader).status().commitIndex).toBe(5_001);
    const mark = h.delivered.length;
    h.heal();
    const ticks = h.tickUntil(() => h.node(lagging).status().commitIndex === 5_001, 5);
    const rejections = h.rejectionsFrom(lagging, mark);
    console.log(`5,000 behind: caught up in ${ticks} ticks with ${rejections} rejection(s)`);
    expect(rejections).toBeLessThanOrEqual(2);
    expect(h.logOf(lagging)).toEqual(h.logOf(leader));
  });

  it('a follower whose conflicting tail spans 3 terms is repaired in <= 5 rejections', () => {
    const rejections = repairConflict([[1, 100], [5, 500]], [[1, 100], [2, 30], [3, 30], [4, 30]]);
    console.log(`3-term conflicting tail: repaired with ${rejections} rejection(s)`);
    expect(rejections).toBeLessThanOrEqual(5);
  });

  it('a follower 10,000 behind with a 3-term conflicting tail is repaired in <= k + 2 rejections', () => {
    const rejections = repairConflict([[1, 100], [5, 10_090]], [[1, 100], [2, 30], [3, 30], [4, 30]]);
    console.log(`10,000 behind + 3-term conflict: repaired with ${rejections} rejection(s)`);
    expect(rejections).toBeLessThanOrEqual(3 + 2);
  });

  it('a follower 10,000 behind (no conflict) is repaired in <= 2 rejections', () => {
    const rejections = repairConflict([[1, 10_100]], [[1, 100]]);
    console.log(`10,000 behind: repaired with ${rejections} rejection(s)`);
    expect(rejections).toBeLessThanOrEqual(2);
  });

  it('a conflicting tail longer than the leader log spanning 3 terms is repaired in <= 5 rejections', () => {
    const rejections = repairConflict([[1, 100], [5, 20]], [[1, 100], [2, 300], [3, 300], [4, 300]]);
    console.log(`longer 3-term conflicting tail: repaired with ${rejections} rejection(s)`);
    expect(rejections).toBeLessThanOrEqual(5);
  });
});

/** Leader `a` and follower `b` hold `leaderRuns`; follower `c` holds `followerRuns`. Returns c's rejections. */
function repairConflict(leaderRuns: [number, number][], followerRuns: [number, number][]): number {
  const leaderTerm = Math.max(...leaderRuns.map(([term]) => term));
  const followerTerm = Math.max(...followerRuns.map(([term]) => term));
  const storages = new Map<NodeId, MemoryStorage>([
    ['a', craftedStorage(leaderRuns, leaderTerm, 100)],
    ['b', craftedStorage(leaderRuns, leaderTerm, 100)],
    ['c', craftedStorage(followerRuns, followerTerm, 100)],
  ]);
  const h = new Harness({ seed: 31, storages });
  h.elect('a');
  h.tick(2);
  expect(h.logOf('c')).toEqual(h.logOf('a'));
  expect(h.node('c').status().commitIndex).toBe(h.node('a').status().lastLogIndex);
  return h.rejectionsFrom('c');
}

/**
 * The state of Raft Figure 8 just before (c): index 1 (term 1) everywhere; S1 and S2 hold 2@2
 * from S1's term-2 leadership; S5 holds 2@3 from its term-3 leadership; everyone saw term 3.
 * Pre-vote and check-quorum are off: Figure 8 is about the base algorithm.
 */
function figure8Cluster(): Harness {
  const ids = ['s1', 's2', 's3', 's4', 's5'];
  const storages = new Map<NodeId, MemoryStorage>([
    ['s1', craftedStorage([[1, 1], [2, 1]], 3, 1)],
    ['s2', craftedStorage([[1, 1], [2, 1]], 3, 1)],
    ['s3', craftedStorage([[1, 1]], 3, 1)],
    ['s4', craftedStorage([[1, 1]], 3, 1)],
    ['s5', craftedStorage([[1, 1], [3, 1]], 3, 1)],
  ]);
  return new Harness({ ids, seed: 8, storages, config: { preVote: false, checkQuorum: false, entriesPerAppendMax: 1 } });
}

describe('compacted leader log', () => {
  it('repairs a follower that needs compacted entries through InstallSnapshot instead of crashing', () => {
    const full = craftedStorage([[1, 110]], 1, 110);
    const compacted = new MemoryStorage({ index: 100, term: 1, voters: ['a', 'b', 'c'], learners: [] });
    compacted.append(full.entries(101, 111));
    compacted.setHardState({ term: 1, votedFor: null, commitIndex: 110 });
    const storages = new Map<NodeId, MemoryStorage>([
      ['a', compacted],
      ['b', full],
      ['c', new MemoryStorage()],
    ]);
    const h = new Harness({ seed: 41, storages });
    h.elect('a');
    h.tick(3 * T);
    const status = h.node('a').status();
    expect(status).toMatchObject({ role: 'leader', firstLogIndex: 101, commitIndex: 111 });
    expect(status.followers.find((f) => f.id === 'b')).toMatchObject({ state: 'replicate', matchIndex: 111 });
    // c went to snapshot state, was sent a's snapshot at 100 and then the entries after it.
    expect(h.delivered.filter((m) => m.type === 'installSnapshot' && m.to === 'c')).toHaveLength(1);
    expect(status.followers.find((f) => f.id === 'c')).toMatchObject({ state: 'replicate', matchIndex: 111 });
    expect(h.node('c').status()).toMatchObject({ role: 'follower', leaderId: 'a', firstLogIndex: 101, lastLogIndex: 111, commitIndex: 111 });
  });
});
