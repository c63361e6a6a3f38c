/**
 * RaftNode's driver contract (Ready/advance with work arriving during a pending fsync), single-voter
 * behaviour, proposals, ReadIndex, config validation and input validation.
 */
import { describe, expect, it } from 'vitest';
import {
  AssertionError,
  MemoryStorage,
  RaftConfigError,
  RaftNode,
  SeededRng,
  defaultRaftConfig,
  validateRaftConfig,
  type LogEntry,
  type Message,
} from '../../src/raft/index.js';
import { Harness, craftedStorage } from './harness.js';

const bytes = (text: string) => new TextEncoder().encode(text);

function singleVoter(): { node: RaftNode; storage: MemoryStorage } {
  const storage = new MemoryStorage();
  const node = new RaftNode(defaultRaftConfig('solo', ['solo']), storage, new SeededRng(1));
  return { node, storage };
}

function drain(node: RaftNode, storage: MemoryStorage) {
  const ready = node.ready();
  storage.persist(ready);
  node.advance(ready);
  return ready;
}

describe('single-voter cluster', () => {
  it('elects itself on timeout and commits a proposal in the same Ready', () => {
    const { node, storage } = singleVoter();
    for (let i = 0; i < 20 && node.status().role !== 'leader'; i++) node.tick();
    expect(node.status()).toMatchObject({ role: 'leader', term: 1, leaderId: 'solo' });
    const first = drain(node, storage);
    expect(first.committed.map((e) => e.type)).toEqual(['noop']);
    // The persisted commit index only covers entries of earlier Readies (see currentHardState).
    expect(first.hardState).toEqual({ term: 1, votedFor: 'solo', commitIndex: 0 });
    expect(node.propose(bytes('x'), 100)).toEqual({ ok: true, index: 2, term: 1 });
    const ready = drain(node, storage);
    expect(ready.entries.map((e) => e.index)).toEqual([2]);
    expect(ready.committed.map((e) => e.index)).toEqual([2]);
    expect(ready.hardState).toEqual({ term: 1, votedFor: 'solo', commitIndex: 1 });
    expect(ready.messages).toEqual([]);
    expect(node.status()).toMatchObject({ commitIndex: 2, lastApplied: 2 });
    // When idle, one more Ready carries just the commit index up to what is now durable.
    expect(drain(node, storage)).toMatchObject({ hardState: { commitIndex: 2 }, entries: [], messages: [], committed: [] });
    expect(node.hasReady()).toBe(false);
  });

  it('confirms a ReadIndex immediately at the commit index', () => {
    const { node, storage } = singleVoter();
    node.campaign();
    drain(node, storage);
    expect(node.readIndex('r1')).toEqual({ ok: true });
    expect(drain(node, storage).readStates).toEqual([{ requestId: 'r1', index: 1 }]);
  });

  it('keeps leader timestamps monotonic along the log', () => {
    const { node, storage } = singleVoter();
    node.campaign();
    node.propose(bytes('a'), 500);
    node.propose(bytes('b'), 400); // the wall clock stepped back
    const ready = drain(node, storage);
    expect(ready.entries.map((e) => e.timestampMs)).toEqual([0, 500, 500]);
  });

  it('refuses proposals beyond uncommittedEntriesMax', () => {
    const h = new Harness({ config: { uncommittedEntriesMax: 3 } });
    h.elect('a');
    h.isolate('a');
    // The no-op is committed; three more may be pending.
    expect(h.node('a').propose(bytes('1'), 1).ok).toBe(true);
    expect(h.node('a').propose(bytes('2'), 1).ok).toBe(true);
    expect(h.node('a').propose(bytes('3'), 1).ok).toBe(true);
    expect(h.node('a').propose(bytes('4'), 1)).toEqual({ ok: false, reason: 'overloaded' });
  });
});

describe('Ready / advance contract', () => {
  it('work done while a Ready is being persisted goes into the next Ready, and nothing is applied twice', () => {
    const h = new Harness();
    h.elect('a');
    h.tick(1);
    const leader = h.node('a');
    const storage = h.storage('a');
    leader.propose(bytes('p1'), 1);
    const r1 = leader.ready();
    expect(r1.entries.map((e) => e.index)).toEqual([2]);
    expect(() => leader.ready()).toThrow(AssertionError);
    // While r1 is "being fsynced": more proposals and follower acks arrive.
    leader.propose(bytes('p2'), 2);
    storage.persist(r1);
    for (const message of r1.messages) h.inject(message);
    h.processReady('b');
    h.processReady('c');
    h.deliver((m) => m.to === 'a');
    leader.advance(r1);
    const r2 = leader.ready();
    expect(r2.entries.map((e) => e.index)).toEqual([3]);
    expect(r2.committed.map((e) => e.index)).toEqual([2]);
    storage.persist(r2);
    leader.advance(r2);
    expect(() => leader.advance(r2)).toThrow(AssertionError);
    expect(leader.status().lastApplied).toBe(2);
  });

  it('a truncation while a Ready is pending re-emits the rewritten suffix in the next Ready', () => {
    const storage = craftedStorage([[1, 2], [2, 3]], 2, 2);
    const node = new RaftNode(defaultRaftConfig('c', ['a', 'b', 'c']), storage, new SeededRng(3));
    const entry = (index: number, term: number): LogEntry => ({ index, term, type: 'command', timestampMs: 0, data: bytes(`${index}@${term}`) });
    const append = (prevLogIndex: number, prevLogTerm: number, entries: LogEntry[], term: number): Message => ({
      type: 'appendEntries', from: 'a', to: 'c', term, prevLogIndex, prevLogTerm, entries, leaderCommit: 0, round: 0,
    });
    node.step(append(5, 2, [entry(6, 2), entry(7, 2)], 2));
    const r1 = node.ready();
    expect(r1.entries.map((e) => e.index)).toEqual([6, 7]);
    // A new leader's append conflicts from index 4 on while r1 is in flight.
    node.step(append(3, 2, [entry(4, 3)], 3));
    storage.persist(r1);
    node.advance(r1);
    const r2 = node.ready();
    expect(r2.entries.map((e) => `${e.index}@${e.term}`)).toEqual(['4@3']);
    expect(r2.hardState).toMatchObject({ term: 3 });
    storage.persist(r2);
    node.advance(r2);
    expect(storage.lastIndex()).toBe(4);
    expect(storage.term(4)).toBe(3);
  });

  it('restarts from storage with its hard state and log, re-applying committed entries', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 4);
    h.tick(1);
    h.crash('b');
    h.restart('b');
    expect(h.node('b').status()).toMatchObject({ term: 1, commitIndex: 5, lastLogIndex: 5, lastApplied: 0, role: 'follower' });
    h.processReady('b');
    expect(h.applied('b').map((e) => e.index)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('ReadIndex', () => {
  it('waits for the no-op to commit, then for a heartbeat round, then hands back the read', () => {
    const h = new Harness();
    h.node('a').campaign();
    h.stabilize((m) => m.type !== 'appendEntries');
    expect(h.node('a').status().role).toBe('leader');
    expect(h.node('a').readIndex('r1')).toEqual({ ok: true });
    h.processAll();
    expect(h.readStates('a')).toEqual([]);
    h.stabilize();
    expect(h.readStates('a')).toEqual([{ requestId: 'r1', index: 1 }]);
    h.propose('a', 2);
    expect(h.node('a').readIndex('r2')).toEqual({ ok: true });
    h.stabilize();
    expect(h.readStates('a')).toEqual([{ requestId: 'r1', index: 1 }, { requestId: 'r2', index: 3 }]);
  });

  it('an isolated leader confirms no reads', () => {
    const h = new Harness();
    h.elect('a');
    h.tick(1);
    h.isolate('a');
    expect(h.node('a').readIndex('r')).toEqual({ ok: true });
    h.tick(3, ['a']);
    expect(h.readStates('a')).toEqual([]);
  });

  it('a follower refuses with the leader hint', () => {
    const h = new Harness();
    h.elect('a');
    expect(h.node('b').readIndex('r')).toEqual({ ok: false, reason: 'notLeader', leaderId: 'a' });
    expect(h.node('b').propose(bytes('x'), 0)).toEqual({ ok: false, reason: 'notLeader', leaderId: 'a' });
  });
});

describe('validation', () => {
  it('validateRaftConfig rejects bad relations with a named error', () => {
    const good = defaultRaftConfig('a', ['a', 'b', 'c']);
    expect(() => validateRaftConfig(good)).not.toThrow();
    expect(() => validateRaftConfig({ ...good, heartbeatTicks: 10 })).toThrow(RaftConfigError);
    expect(() => validateRaftConfig({ ...good, voters: ['b', 'c'] })).toThrow(RaftConfigError);
    expect(() => validateRaftConfig({ ...good, voters: ['a', 'a'] })).toThrow(RaftConfigError);
    expect(() => validateRaftConfig({ ...good, inflightAppendsMax: 0 })).toThrow(RaftConfigError);
    expect(() => validateRaftConfig({ ...good, id: 'bad id' })).toThrow(RaftConfigError);
    expect(() => new RaftNode({ ...good, electionTicks: 1.5 }, new MemoryStorage(), new SeededRng(1))).toThrow(RaftConfigError);
  });

  it('ignores messages for another node, from strangers, or with bad fields', () => {
    const h = new Harness();
    h.elect('a');
    h.tick(1);
    const before = h.node('b').status();
    const good: Message = { type: 'appendEntries', from: 'a', to: 'b', term: 1, prevLogIndex: 1, prevLogTerm: 1, entries: [], leaderCommit: 1, round: 0 };
    const bad: Message[] = [
      { ...good, to: 'c' },
      { ...good, from: 'bad id' },
      // Strangers (not in b's configuration): answers and a vote request from a log behind b's
      // are dropped, so their higher terms do not move b (AppendEntries from a leader b does not
      // know is taken: see membership.test.ts).
      { type: 'requestVoteResponse', from: 'zz', to: 'b', term: 5, voteGranted: false, preVote: false },
      { type: 'appendEntriesResponse', from: 'zz', to: 'b', term: 5, success: false, matchIndex: 0, conflictTerm: 0, conflictIndex: 0, prevLogIndex: 0, entryCount: 0, round: 0 },
      { type: 'requestVote', from: 'zz', to: 'b', term: 5, lastLogIndex: 0, lastLogTerm: 0, preVote: false },
      { type: 'timeoutNow', from: 'zz', to: 'b', term: 1 },
      { ...good, term: -1 },
      { ...good, prevLogIndex: 1.5 },
      { ...good, entries: [{ index: 3, term: 1, type: 'command', timestampMs: 0, data: new Uint8Array() }] }, // gap
      { ...good, entries: [{ index: 2, term: 9, type: 'command', timestampMs: 0, data: new Uint8Array() }] }, // term > message term
      { ...good, type: 'bogus' } as unknown as Message,
    ];
    for (const message of bad) h.inject(message);
    expect(h.node('b').hasReady()).toBe(false);
    expect(h.node('b').status()).toEqual(before);
  });
});

describe('restart from a torn Ready', () => {
  it('forgets a stored commit index beyond the stored log and adopts a newer log term without a vote', () => {
    const storage = craftedStorage([[1, 3], [4, 2]], 2, 9);
    storage.setHardState({ term: 2, votedFor: 'b', commitIndex: 9 });
    const node = new RaftNode(defaultRaftConfig('a', ['a', 'b', 'c']), storage, new SeededRng(1));
    expect(node.status()).toMatchObject({ term: 4, votedFor: null, commitIndex: 0, lastLogIndex: 5 });
    const ready = node.ready();
    expect(ready.hardState).toEqual({ term: 4, votedFor: null, commitIndex: 0 });
    expect(ready.committed).toEqual([]);
  });
});
