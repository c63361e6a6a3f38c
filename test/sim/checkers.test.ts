/**
 * The checkers must be able to fail: each test feeds a deliberately broken history and asserts
 * that exactly the right invariant is reported; a clean history reports nothing.
 */
import { describe, expect, it } from 'vitest';
import type { FollowerStatus, HardState, LogEntry, NodeId, RoleKind } from '../../src/raft/types.js';
import { initialMembership } from '../../src/raft/membership.js';
import { SafetyChecker, type ViolationKind } from './checkers.js';
import { SimStorage } from './sim-storage.js';
import type { SimNodeStatus } from './sim-types.js';

const enc = new TextEncoder();

function entry(index: number, term: number, data = `e${index}`, timestampMs = 0): LogEntry {
  return { index, term, type: 'command', timestampMs, data: enc.encode(data) };
}

function status(id: NodeId, role: RoleKind, term: number, commitIndex: number, log: SimStorage, followers: FollowerStatus[] = []): SimNodeStatus {
  return { id, role, term, leaderId: role === 'leader' ? id : null, commitIndex, lastApplied: 0, lastLogIndex: log.lastIndex(), firstLogIndex: 1, voters: ['n1', 'n2', 'n3'],
    membership: initialMembership(['n1', 'n2', 'n3']), followers };
}

/** A node with its own storage, wired to a checker the way the cluster wires it. */
class FakeNode {
  readonly log = new SimStorage();
  constructor(readonly checker: SafetyChecker, readonly id: NodeId) {
    checker.nodeStarted(id, 1, status(id, 'follower', 0, 0, this.log), this.log);
  }

  persist(entries: LogEntry[], hs: HardState | null = null): void {
    const before = this.log.hardState();
    const lastBefore = this.log.lastIndex();
    const first = entries[0]?.index ?? lastBefore + 1;
    const replaced = first <= lastBefore ? this.log.entries(first, lastBefore + 1) : [];
    if (hs !== null) this.log.setHardState(hs);
    this.log.append(entries);
    this.log.syncNow();
    this.checker.persisted(this.id, before, hs, entries, replaced, this.log);
  }

  apply(entries: LogEntry[]): void {
    this.checker.applied(this.id, entries, this.log);
  }

  observe(role: RoleKind, term: number, commit: number, followers: FollowerStatus[] = []): void {
    this.checker.observe(this.id, status(this.id, role, term, commit, this.log, followers), this.log);
  }
}

function setup(): { checker: SafetyChecker; n1: FakeNode; n2: FakeNode; n3: FakeNode } {
  const checker = new SafetyChecker();
  return { checker, n1: new FakeNode(checker, 'n1'), n2: new FakeNode(checker, 'n2'), n3: new FakeNode(checker, 'n3') };
}

function kinds(checker: SafetyChecker): ViolationKind[] {
  return checker.violations.map((v) => v.kind);
}

describe('SafetyChecker', () => {
  it('accepts a clean history: election, replication, commit, apply, a second term', () => {
    const { checker, n1, n2, n3 } = setup();
    const log1 = [entry(1, 1), entry(2, 1)];
    for (const n of [n1, n2, n3]) n.persist(log1, { term: 1, votedFor: 'n1', commitIndex: 0 });
    n1.observe('leader', 1, 2, [{ id: 'n2', matchIndex: 2, nextIndex: 3, state: 'replicate' }]);
    n2.observe('follower', 1, 2);
    for (const n of [n1, n2, n3]) n.apply(log1);
    n2.persist([entry(3, 2)], { term: 2, votedFor: 'n2', commitIndex: 2 });
    n2.observe('leader', 2, 2);
    expect(checker.violations).toEqual([]);
  });

  it('reports two leaders in one term (election safety)', () => {
    const { checker, n1, n2 } = setup();
    n1.observe('leader', 3, 0);
    n2.observe('leader', 3, 0);
    expect(kinds(checker)).toEqual(['electionSafety']);
  });

  it('reports a second node sending AppendEntries in a term another node led', () => {
    const { checker, n1 } = setup();
    n1.observe('leader', 4, 0);
    checker.sentAsLeader('n1', 4);
    expect(checker.violations).toEqual([]);
    checker.sentAsLeader('n3', 4);
    expect(kinds(checker)).toEqual(['electionSafety']);
  });

  it('reports two different entries with the same index and term (log matching)', () => {
    const { checker, n1, n2 } = setup();
    n1.persist([entry(1, 1, 'a')]);
    n2.persist([entry(1, 1, 'b')]);
    expect(kinds(checker)).toEqual(['logMatching']);
  });

  it('reports the same (index, term) over different predecessors (log matching)', () => {
    const { checker, n1, n2 } = setup();
    n1.persist([entry(1, 1), entry(2, 3, 'x')]);
    n2.persist([entry(1, 2), entry(2, 3, 'x')]);
    expect(kinds(checker)).toEqual(['logMatching']);
  });

  it('reports a new leader that lacks a committed entry (leader completeness)', () => {
    const { checker, n1, n2 } = setup();
    n1.persist([entry(1, 1), entry(2, 1)]);
    n1.observe('leader', 1, 2);
    n2.persist([entry(1, 1)]);
    n2.observe('leader', 2, 1);
    expect(kinds(checker)).toEqual(['leaderCompleteness']);
  });

  it('reports a sitting later-term leader when an entry it lacks becomes known committed', () => {
    const { checker, n1, n2 } = setup();
    n2.persist([entry(1, 1)]);
    n2.observe('leader', 3, 0);
    n1.persist([entry(1, 1), entry(2, 1)]);
    n1.observe('follower', 1, 2);
    expect(kinds(checker)).toEqual(['leaderCompleteness']);
  });

  it('does not demand an entry committed only in a later term from an earlier leader (Figure 8)', () => {
    const { checker, n1, n2 } = setup();
    // n2 leads term 3 without (2,2); later, in term 4, n1 commits (2,2) indirectly.
    n2.persist([entry(1, 1), entry(2, 3)]);
    n2.observe('leader', 3, 1);
    n2.observe('follower', 4, 1);
    n1.persist([entry(1, 1), entry(2, 2), entry(3, 4)]);
    n1.observe('leader', 4, 3);
    expect(checker.violations).toEqual([]);
  });

  it('reports nodes applying different entries at one index (state-machine safety)', () => {
    const { checker, n1, n2 } = setup();
    n1.persist([entry(1, 1, 'a')]);
    n2.persist([entry(1, 2, 'b')]);
    n1.apply([entry(1, 1, 'a')]);
    n2.apply([entry(1, 2, 'b')]);
    expect(kinds(checker)).toEqual(['stateMachineSafety']);
  });

  it('reports applying an entry the node does not hold (state-machine safety)', () => {
    const { checker, n1 } = setup();
    n1.persist([entry(1, 1, 'a')]);
    n1.apply([entry(1, 1, 'zzz')]);
    expect(kinds(checker)).toEqual(['stateMachineSafety']);
  });

  it('reports two different entries committed at one index', () => {
    const { checker, n1, n2 } = setup();
    n1.persist([entry(1, 1, 'a')]);
    n1.observe('follower', 1, 1);
    n2.persist([entry(1, 2, 'b')]);
    n2.observe('follower', 2, 1);
    expect(kinds(checker)).toEqual(['stateMachineSafety']);
  });

  it('reports an apply that rolls back or skips', () => {
    const { checker, n1 } = setup();
    n1.persist([entry(1, 1), entry(2, 1), entry(3, 1)]);
    n1.apply([entry(1, 1), entry(2, 1)]);
    n1.apply([entry(2, 1)]);
    expect(kinds(checker)).toEqual(['appliedRollback']);
  });

  it('reports a committed entry being overwritten by a truncation', () => {
    const { checker, n1 } = setup();
    n1.persist([entry(1, 1), entry(2, 1)]);
    n1.observe('follower', 1, 2);
    n1.persist([entry(2, 2, 'other')]);
    expect(kinds(checker)).toContain('committedOverwritten');
  });

  it('allows truncating an uncommitted entry at an index committed elsewhere with another term', () => {
    const { checker, n1, n2 } = setup();
    n1.persist([entry(1, 1), entry(2, 2), entry(3, 2)]);
    n1.observe('follower', 2, 3);
    n2.persist([entry(1, 1), entry(2, 1, 'stale'), entry(3, 1, 'stale')]);
    n2.persist([entry(2, 2)]);
    expect(checker.violations).toEqual([]);
  });

  it('reports commitIndex moving backwards within a lifetime, but not across a restart', () => {
    const { checker, n1 } = setup();
    n1.persist([entry(1, 1), entry(2, 1), entry(3, 1)]);
    n1.observe('follower', 1, 3);
    checker.nodeStarted('n1', 2, status('n1', 'follower', 1, 0, n1.log), n1.log);
    expect(checker.violations).toEqual([]);
    n1.observe('follower', 1, 2);
    n1.observe('follower', 1, 1);
    expect(kinds(checker)).toEqual(['commitMonotonic']);
  });

  it('reports commitIndex beyond the stored log', () => {
    const { checker, n1 } = setup();
    n1.persist([entry(1, 1)]);
    n1.observe('follower', 1, 4);
    expect(kinds(checker)).toEqual(['commitBeyondLog']);
  });

  it('reports matchIndex >= nextIndex and matchIndex moving backwards', () => {
    const { checker, n1 } = setup();
    n1.persist([entry(1, 1), entry(2, 1), entry(3, 1)]);
    n1.observe('leader', 1, 0, [{ id: 'n2', matchIndex: 2, nextIndex: 2, state: 'replicate' }]);
    expect(kinds(checker)).toEqual(['matchIndex']);
    n1.observe('leader', 1, 0, [{ id: 'n2', matchIndex: 1, nextIndex: 2, state: 'probe' }]);
    expect(kinds(checker)).toEqual(['matchIndex', 'matchIndex']);
  });

  it('reports a read point older than a commit known when the read was asked, and a read confirmed twice', () => {
    const { checker, n1, n2 } = setup();
    n1.persist([entry(1, 1), entry(2, 1)]);
    n1.observe('follower', 2, 2);
    n2.persist([entry(1, 1)]);
    checker.readRequested('n2', 'r1');
    checker.readConfirmed('n2', { requestId: 'r1', index: 1 }, n2.log);
    expect(kinds(checker)).toEqual(['staleRead']);
    checker.readRequested('n1', 'r2');
    checker.readConfirmed('n1', { requestId: 'r2', index: 2 }, n1.log);
    expect(kinds(checker)).toEqual(['staleRead']);
    checker.readConfirmed('n1', { requestId: 'r2', index: 2 }, n1.log);
    expect(kinds(checker)).toEqual(['staleRead', 'staleRead']);
  });

  it('reports the leader clock running backwards along the applied log', () => {
    const { checker, n1 } = setup();
    const log = [entry(1, 1, 'a', 1000), entry(2, 1, 'b', 1000), entry(3, 2, 'c', 900)];
    n1.persist(log);
    n1.apply(log);
    expect(kinds(checker)).toEqual(['timestampRegressed']);
  });

  it('reports a vote changed within a term and a term going back', () => {
    const { checker, n1 } = setup();
    n1.persist([], { term: 2, votedFor: 'n2', commitIndex: 0 });
    n1.persist([], { term: 2, votedFor: 'n3', commitIndex: 0 });
    n1.persist([], { term: 1, votedFor: null, commitIndex: 0 });
    expect(kinds(checker)).toEqual(['hardState', 'hardState']);
  });

  it('reports a learner or a node without a configuration campaigning, not a voter', () => {
    const checker = new SafetyChecker();
    const log = new SimStorage();
    const withMembership = (id: NodeId, role: RoleKind, membership: SimNodeStatus['membership']): SimNodeStatus =>
      ({ ...status(id, role, 1, 0, log), voters: membership.voters.map((m) => m.id), membership });
    checker.nodeStarted('n4', 1, withMembership('n4', 'follower', { voters: [], learners: [] }), log);
    checker.observe('n4', withMembership('n4', 'candidate', { voters: [], learners: [] }), log);
    const learner = { voters: initialMembership(['n1']).voters, learners: [{ id: 'n4', address: '' }] };
    checker.observe('n4', withMembership('n4', 'leader', learner), log);
    checker.nodeStarted('n1', 1, withMembership('n1', 'follower', learner), log);
    checker.observe('n1', withMembership('n1', 'candidate', learner), log);
    expect(kinds(checker)).toEqual(['nonVoterCampaigned', 'nonVoterCampaigned']);
  });
});
