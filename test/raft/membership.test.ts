/**
 * Membership changes in the core (issue 7): single-server changes with learners, a configuration
 * in effect from the moment its entry is appended and reverted when it is truncated, one change
 * at a time, removed leaders stepping down after the commit, joiners with no configuration, and
 * configurations (with addresses) carried through snapshots and InstallSnapshot.
 */
import { describe, expect, it } from 'vitest';
import {
  MemoryStorage,
  RaftNode,
  SeededRng,
  defaultRaftConfig,
  learnerIds,
  snapshotMembershipFields,
  voterIds,
  type MembershipChange,
  type MembershipProposeResult,
  type SnapshotMeta,
} from '../../src/raft/index.js';
import { Harness } from './harness.js';

const bytes = (text: string) => new TextEncoder().encode(text);

/** Proposes a change on `leader`, expects it accepted, and lets the cluster settle. */
function change(h: Harness, leader: string, c: MembershipChange): MembershipProposeResult & { type: 'accepted' } {
  const result = h.node(leader).proposeMembershipChange(c, 5_000);
  if (result.type !== 'accepted') throw new Error(`change ${JSON.stringify(c)} refused: ${JSON.stringify(result)}`);
  h.stabilize();
  return result;
}

function roles(h: Harness): Record<string, string> {
  return Object.fromEntries(h.upIds().map((id) => [id, h.node(id).status().role]));
}

/** The driver's snapshot: at applied, recording the configuration there, then compact. */
function snapshotAndCompact(h: Harness, id: string, trailing: number): SnapshotMeta {
  const node = h.node(id);
  const applied = node.status().lastApplied;
  const storage = h.storage(id);
  const entry = storage.entries(applied, applied + 1)[0]!;
  const meta: SnapshotMeta = { index: applied, term: entry.term, timestampMs: entry.timestampMs, ...snapshotMembershipFields(node.membershipAt(applied)) };
  storage.applySnapshot(meta);
  node.compact(meta, applied - trailing);
  return meta;
}

describe('membership changes', () => {
  it('adds a learner that catches up, does not count for commit, and is promoted to a voter', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 10);
    const d = h.addNode('d');
    // A joiner has no configuration until the log gives it one.
    expect(d.membership()).toEqual({ voters: [], learners: [] });
    const added = change(h, 'a', { type: 'addLearner', id: 'd', address: 'd:7000' });
    expect(learnerIds(added.membership)).toEqual(['d']);
    h.tick(2);
    const last = h.node('a').status().lastLogIndex;
    expect(h.logOf('d')).toEqual(h.logOf('a'));
    expect(h.node('d').status()).toMatchObject({ role: 'follower', leaderId: 'a', commitIndex: last, voters: ['a', 'b', 'c'] });
    expect(h.node('d').membership().learners).toEqual([{ id: 'd', address: 'd:7000' }]);
    expect(h.node('a').status().followers.find((f) => f.id === 'd')).toMatchObject({ matchIndex: last, state: 'replicate' });
    // The learner's ack does not count: with b and c down, a and d are no majority of {a, b, c}.
    h.crash('b');
    h.crash('c');
    const pending = h.node('a').propose(bytes('learner-only'), 1);
    h.stabilize();
    expect(pending.ok && h.node('a').status().commitIndex < pending.index).toBe(true);
    expect(h.node('d').status().lastLogIndex).toBe(h.node('a').status().lastLogIndex);
    h.restart('b');
    h.restart('c');
    h.tick(3);
    expect(h.node('a').status().role).toBe('leader');
    const promoted = change(h, 'a', { type: 'promote', id: 'd' });
    expect(voterIds(promoted.membership)).toEqual(['a', 'b', 'c', 'd']);
    h.tick(2);
    for (const id of h.ids) expect(h.node(id).status().voters).toEqual(['a', 'b', 'c', 'd']);
    // Now d counts: a, b, d are a majority of four while c is down; a and d alone are not.
    h.crash('c');
    const withD = h.node('a').propose(bytes('with-d'), 2);
    h.stabilize();
    expect(withD.ok && h.node('a').status().commitIndex >= withD.index).toBe(true);
    h.crash('b');
    const withoutMajority = h.node('a').propose(bytes('two-of-four'), 3);
    h.stabilize();
    expect(withoutMajority.ok && h.node('a').status().commitIndex < withoutMajority.index).toBe(true);
  });

  it('removes a follower: it is told its removal committed, then dropped, and stops campaigning', () => {
    const h = new Harness({ config: { preVote: false } });
    h.elect('a');
    h.propose('a', 5);
    const removed = change(h, 'a', { type: 'remove', id: 'c' });
    expect(voterIds(removed.membership)).toEqual(['a', 'b']);
    h.tick(2);
    // The leader replicated to c until c had the entry and its commit: c knows it is out.
    expect(h.node('c').membership()).toEqual(removed.membership);
    expect(h.node('c').status().commitIndex).toBeGreaterThanOrEqual(removed.index);
    expect(h.node('a').status().followers.map((f) => f.id)).toEqual(['b']);
    const term = h.node('a').status().term;
    h.tick(100);
    // A removed node that knows it never campaigns: no term growth, the leader undisturbed.
    expect(h.node('c').status()).toMatchObject({ role: 'follower', term });
    expect(h.node('a').status()).toMatchObject({ role: 'leader', term });
    h.propose('a', 3, 'y');
    expect(h.node('b').status().commitIndex).toBe(h.node('a').status().lastLogIndex);
    // c gets nothing after its removal.
    expect(h.node('c').status().lastLogIndex).toBeLessThan(h.node('a').status().lastLogIndex);
  });

  it('removes a follower that is down: it never learns it, and its campaigns cannot disrupt the rest', () => {
    const h = new Harness({ config: { preVote: false } });
    h.elect('a');
    h.propose('a', 5);
    h.crash('c');
    const removed = change(h, 'a', { type: 'remove', id: 'c' });
    h.tick(40);
    // Silent for an election timeout: the leader forgot it.
    expect(h.node('a').status().followers.map((f) => f.id)).toEqual(['b']);
    h.restart('c');
    expect(voterIds(h.node('c').membership())).toEqual(['a', 'b', 'c']);
    const term = h.node('a').status().term;
    // c times out and campaigns with ever higher terms; a and b drop its requests (c is not a
    // member and its log lacks the entry that removed it), so the leader is never disturbed.
    h.tick(100);
    expect(h.node('c').status().term).toBeGreaterThan(term);
    expect(h.node('a').status()).toMatchObject({ role: 'leader', term });
    expect(h.node('b').status()).toMatchObject({ role: 'follower', term, leaderId: 'a' });
    expect(h.node('b').membership()).toEqual(removed.membership);
  });

  it('removes the leader: it leads until the change commits, then steps down and a voter takes over', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 5);
    const result = h.node('a').proposeMembershipChange({ type: 'remove', id: 'a' }, 1);
    expect(result.type).toBe('accepted');
    // In effect at once, yet a still leads: the entry is not committed.
    expect(h.node('a').membership().voters.map((m) => m.id)).toEqual(['b', 'c']);
    expect(h.node('a').status().role).toBe('leader');
    h.stabilize();
    const a = h.node('a').status();
    expect(a.role).toBe('follower');
    expect(result.type === 'accepted' && a.commitIndex >= result.index).toBe(true);
    // The TimeoutNow it sent on stepping down elected a caught-up voter without a timeout.
    const leader = h.leader();
    expect(leader === 'b' || leader === 'c').toBe(true);
    h.propose(leader!, 3, 'z');
    h.tick(50);
    expect(h.node('a').status().role).toBe('follower');
    expect(h.leader()).toBe(leader);
  });

  it('a leader that removed itself and fell before the commit still campaigns, or the cluster would stall', () => {
    // Thesis Figure 4.6: voters {a, b}; a appends C_new = {b} and crashes before b has it. b
    // cannot win without a's vote and a refuses it (a's log is longer), so a must campaign.
    const h = new Harness({ ids: ['a', 'b'] });
    h.elect('a');
    h.propose('a', 3);
    expect(h.node('a').proposeMembershipChange({ type: 'remove', id: 'a' }, 1).type).toBe('accepted');
    h.processAll();
    h.drop(() => true);
    h.crash('a');
    h.restart('a');
    expect(voterIds(h.node('a').membership())).toEqual(['b']);
    expect(voterIds(h.node('b').membership())).toEqual(['a', 'b']);
    // a wins counting b's vote only, commits C_new, steps down and hands over to b.
    h.tickUntil(() => h.leader() === 'b' && voterIds(h.node('b').membership()).length === 1, 300);
    expect(h.node('a').status().role).toBe('follower');
    expect(h.node('b').status().commitIndex).toBe(h.node('b').status().lastLogIndex);
    h.tick(60);
    expect(h.leader()).toBe('b');
    expect(h.node('a').status().role).toBe('follower');
  });

  it('reverts a configuration when its uncommitted entry is truncated away', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 3);
    h.isolate('a');
    const result = h.node('a').proposeMembershipChange({ type: 'addLearner', id: 'd', address: '' }, 1);
    expect(result.type).toBe('accepted');
    h.stabilize();
    expect(learnerIds(h.node('a').membership())).toEqual(['d']);
    expect(h.node('a').status().followers.map((f) => f.id)).toEqual(['b', 'c', 'd']);
    // b and c elect a new leader that never saw the entry and overwrite a's log.
    h.tickUntil(() => h.leader() !== null && h.leader() !== 'a', 200, ['b', 'c']);
    const newLeader = h.leader()!;
    h.propose(newLeader, 4, 'n');
    h.heal();
    h.tick(5);
    expect(h.node('a').status()).toMatchObject({ role: 'follower', leaderId: newLeader });
    expect(h.logOf('a')).toEqual(h.logOf(newLeader));
    expect(h.node('a').membership()).toEqual(h.node(newLeader).membership());
    expect(learnerIds(h.node('a').membership())).toEqual([]);
  });

  it('refuses a second change while one is pending, before the term commits, during a transfer, and invalid ones', () => {
    const h = new Harness();
    h.elect('a');
    const first = h.node('a').proposeMembershipChange({ type: 'addLearner', id: 'd', address: '' }, 1);
    expect(first.type).toBe('accepted');
    expect(h.node('a').proposeMembershipChange({ type: 'addLearner', id: 'e', address: '' }, 1)).toEqual({ type: 'changeInProgress' });
    h.stabilize();
    expect(h.node('a').proposeMembershipChange({ type: 'promote', id: 'b' }, 1)).toEqual({ type: 'rejected', reason: 'not-a-learner' });
    expect(h.node('a').proposeMembershipChange({ type: 'addLearner', id: 'b', address: '' }, 1)).toEqual({ type: 'rejected', reason: 'already-member' });
    expect(h.node('a').proposeMembershipChange({ type: 'remove', id: 'bad id' }, 1)).toEqual({ type: 'rejected', reason: 'invalid-id' });
    expect(h.node('b').proposeMembershipChange({ type: 'remove', id: 'c' }, 1)).toEqual({ type: 'notLeader', leaderId: 'a' });
    // A transfer in progress is a handover: no change meanwhile.
    h.isolate('c');
    h.node('a').propose(bytes('lag'), 1);
    h.stabilize();
    expect(h.node('a').transferLeadership('c')).toEqual({ ok: true });
    expect(h.node('a').proposeMembershipChange({ type: 'remove', id: 'b' }, 1)).toEqual({ type: 'changeInProgress' });
    h.heal();
    h.tick(3);
    expect(h.leader()).toBe('c');
    expect(h.node('c').proposeMembershipChange({ type: 'remove', id: 'b' }, 1).type).toBe('accepted');
  });

  it('a new leader refuses a change until an entry of its term commits', () => {
    const h = new Harness({ config: { preVote: false, checkQuorum: false } });
    h.elect('a');
    h.propose('a', 2);
    // b wins, but the votes arrive before any append: its no-op is not committed yet.
    h.node('b').campaign();
    for (let i = 0; i < 4; i++) {
      h.processAll();
      h.deliver((m) => m.type === 'requestVote' || m.type === 'requestVoteResponse');
    }
    expect(h.node('b').status().role).toBe('leader');
    expect(h.node('b').proposeMembershipChange({ type: 'remove', id: 'c' }, 1)).toEqual({ type: 'changeInProgress' });
    h.stabilize();
    expect(h.node('b').proposeMembershipChange({ type: 'remove', id: 'c' }, 1).type).toBe('accepted');
  });

  it('a learner never campaigns and its vote is never counted', () => {
    const h = new Harness({ config: { preVote: false } });
    h.elect('a');
    h.addNode('d');
    change(h, 'a', { type: 'addLearner', id: 'd', address: '' });
    h.tick(2);
    // Cut off from everyone, d times out over and over and never campaigns.
    h.isolate('d');
    h.tick(100, ['d']);
    expect(h.node('d').status()).toMatchObject({ role: 'follower', preCandidate: false });
    h.node('d').campaign();
    h.stabilize();
    expect(h.node('d').status().role).toBe('follower');
    expect(h.delivered.some((m) => m.type === 'requestVote' && m.from === 'd')).toBe(false);
    // c campaigns with only d reachable: it does not ask d, and d's vote would not count.
    h.heal();
    h.partition(['c', 'd'], ['a', 'b']);
    h.node('c').campaign();
    h.stabilize();
    const c = h.node('c').status();
    expect(c.role).toBe('candidate');
    expect(h.delivered.some((m) => m.type === 'requestVote' && m.from === 'c' && m.to === 'd')).toBe(false);
    h.inject({ type: 'requestVoteResponse', from: 'd', to: 'c', term: c.term, voteGranted: true, preVote: false });
    expect(h.node('c').status().role).toBe('candidate');
    // A TimeoutNow to a learner is ignored too.
    h.inject({ type: 'timeoutNow', from: 'a', to: 'd', term: h.node('d').status().term });
    expect(h.node('d').status().role).toBe('follower');
    expect(roles(h).a).toBe('leader');
  });

  it('a joining node takes the log and configuration from InstallSnapshot; addresses survive compaction', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 10);
    h.addNode('d');
    change(h, 'a', { type: 'addLearner', id: 'd', address: 'd.example:7000' });
    h.tick(2);
    h.propose('a', 10, 'y');
    // The config entry is compacted away on a: only the snapshot records d's address.
    const meta = snapshotAndCompact(h, 'a', 0);
    expect(meta.membership?.learners).toEqual([{ id: 'd', address: 'd.example:7000' }]);
    expect(meta).toMatchObject({ voters: ['a', 'b', 'c'], learners: ['d'] });
    expect(h.node('a').membership()).toEqual(meta.membership);
    h.crash('a');
    h.restart('a');
    expect(h.node('a').membership()).toEqual(meta.membership);
    h.tickUntil(() => h.leader() !== null, 200);
    const leader = h.leader()!;
    if (leader !== 'a') snapshotAndCompact(h, leader, 0);
    h.propose(leader, 2, 'z');
    // e joins after the compaction: it is repaired by InstallSnapshot, whose meta names d's address.
    h.addNode('e');
    const addedE = change(h, leader, { type: 'addLearner', id: 'e', address: 'e:1' });
    h.tick(3);
    const installed = h.delivered.filter((m) => m.type === 'installSnapshot' && m.to === 'e');
    expect(installed.length).toBeGreaterThan(0);
    expect(h.storage('e').snapshot()?.membership?.learners).toEqual([{ id: 'd', address: 'd.example:7000' }]);
    expect(h.node('e').membership()).toEqual(addedE.membership);
    expect(h.node('e').status().commitIndex).toBe(h.node(leader).status().commitIndex);
    expect(h.node('e').membershipAt(h.storage('e').snapshot()!.index).learners).toEqual([{ id: 'd', address: 'd.example:7000' }]);
  });

  it('a snapshot without a recorded membership yields its ids with empty addresses', () => {
    const storage = new MemoryStorage({ index: 5, term: 1, voters: ['a', 'b'], learners: ['x'] });
    const node = new RaftNode(defaultRaftConfig('a', ['a', 'b', 'c']), storage, new SeededRng(1));
    expect(node.membership()).toEqual({ voters: [{ id: 'a', address: '' }, { id: 'b', address: '' }], learners: [{ id: 'x', address: '' }] });
    expect(node.status().voters).toEqual(['a', 'b']);
  });

  it('a joiner with empty voters never campaigns and accepts the first leader that reaches it', () => {
    const storage = new MemoryStorage();
    const node = new RaftNode(defaultRaftConfig('j', []), storage, new SeededRng(2));
    for (let i = 0; i < 200; i++) node.tick();
    node.campaign();
    expect(node.status()).toMatchObject({ role: 'follower', term: 0, voters: [] });
    expect(node.hasReady()).toBe(false);
    node.step({ type: 'appendEntries', from: 'z', to: 'j', term: 3, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round: 1 });
    expect(node.status()).toMatchObject({ term: 3, leaderId: 'z' });
    // A config entry whose bytes do not decode is dropped with its message.
    node.step({ type: 'appendEntries', from: 'z', to: 'j', term: 3, prevLogIndex: 0, prevLogTerm: 0, entries: [{ index: 1, term: 3, type: 'config', timestampMs: 0, data: bytes('{') }], leaderCommit: 0, round: 2 });
    expect(node.status().lastLogIndex).toBe(0);
  });
});
