/**
 * The leader's AddMember/RemoveMember sequences (src/node/membership-changes.ts) over a scripted
 * host: a fake core whose commit index and follower progress the test moves by hand, and a
 * virtual clock (sleep advances it), so every wait and timeout is exercised without real time.
 */
import { describe, expect, it } from 'vitest';
import { DeadlineError, NotLeaderError, UnavailableError } from '../../src/node/exchange-node-api.js';
import {
  learnerCatchUpLagMax, learnerCatchUpTimeoutMs, MemberChangeRefusedError, MembershipChanges, membershipBusyWaitMs,
  type MembershipHost,
} from '../../src/node/membership-changes.js';
import { applyMembershipChange, initialMembership, type Membership, type MembershipChange } from '../../src/raft/membership.js';
import type { MembershipProposeResult } from '../../src/node/raft-driver.js';
import type { FollowerStatus, RoleKind } from '../../src/raft/types.js';

/** A scripted leader: proposals append at lastLogIndex + 1; `onSleep` moves the world along. */
class FakeHost implements MembershipHost {
  readonly selfId = 'n1';
  readonly logger = { info: (): void => undefined };
  current: Membership = initialMembership(['n1', 'n2', 'n3']);
  role: RoleKind = 'leader';
  term = 3;
  leaderId: string | null = 'n1';
  commitIndex = 10;
  lastLogIndex = 10;
  followers: FollowerStatus[] = [
    { id: 'n2', matchIndex: 10, nextIndex: 11, state: 'replicate' },
    { id: 'n3', matchIndex: 9, nextIndex: 10, state: 'replicate' },
  ];
  clock = 1_000;
  proposed: MembershipChange[] = [];
  /** Answers `changeInProgress` this many more times. */
  busy = 0;
  stopped = false;
  transfers: string[] = [];
  /** Runs on every sleep (the virtual time step): the test's model of the cluster moving. */
  onSleep: (host: FakeHost) => void = (h) => {
    h.commitIndex = h.lastLogIndex;
  };

  membership(): Membership {
    return this.current;
  }

  propose(change: MembershipChange): MembershipProposeResult {
    if (this.role !== 'leader') return { type: 'notLeader', leaderId: this.leaderId };
    if (this.busy > 0) {
      this.busy--;
      return { type: 'changeInProgress' };
    }
    const next = applyMembershipChange(this.current, change);
    if (typeof next === 'string') return { type: 'rejected', reason: next };
    this.proposed.push(change);
    this.current = next;
    this.lastLogIndex++;
    if (change.type === 'addLearner') this.followers.push({ id: change.id, matchIndex: 0, nextIndex: this.lastLogIndex, state: 'probe' });
    if (change.type === 'remove') this.followers = this.followers.filter((f) => f.id !== change.id);
    return { type: 'accepted', index: this.lastLogIndex, membership: next };
  }

  status(): ReturnType<MembershipHost['status']> {
    return { role: this.role, term: this.term, leaderId: this.leaderId, commitIndex: this.commitIndex, lastLogIndex: this.lastLogIndex, followers: this.followers };
  }

  async transferLeadership(target: string): Promise<{ leaderId: string; term: number }> {
    this.transfers.push(target);
    this.role = 'follower';
    this.leaderId = target;
    this.term++;
    return { leaderId: target, term: this.term };
  }

  notLeader(leaderId: string | null): NotLeaderError {
    return new NotLeaderError(leaderId, leaderId === null ? null : `addr-${leaderId}`);
  }

  knownAddress(id: string): string {
    return [...this.current.voters, ...this.current.learners].find((m) => m.id === id)?.address ?? '';
  }

  isStopped(): boolean {
    return this.stopped;
  }

  now(): number {
    return this.clock;
  }

  async sleep(ms: number): Promise<void> {
    this.clock += ms;
    this.onSleep(this);
  }

  progress(id: string): FollowerStatus {
    const f = this.followers.find((x) => x.id === id);
    if (f === undefined) throw new Error(`no progress for ${id}`);
    return f;
  }

  setMatch(id: string, matchIndex: number): void {
    this.followers = this.followers.map((f) => (f.id === id ? { ...f, matchIndex, nextIndex: matchIndex + 1 } : f));
  }
}

const farDeadline = 1e12;

describe('MembershipChanges.add', () => {
  it('adds a learner, waits until it caught up (not merely "near" a young log), then promotes it', async () => {
    const host = new FakeHost();
    let sleeps = 0;
    host.onSleep = (h) => {
      sleeps++;
      h.commitIndex = h.lastLogIndex;
      // The learner answers only after a while: until then its match index is 0.
      if (sleeps === 20) h.setMatch('n4', h.lastLogIndex);
    };
    const result = await new MembershipChanges(host).add('n4', '127.0.0.1:7004', farDeadline);
    expect(host.proposed).toEqual([{ type: 'addLearner', id: 'n4', address: '127.0.0.1:7004' }, { type: 'promote', id: 'n4' }]);
    // Promoted only after the learner held the entry that added it.
    expect(sleeps).toBeGreaterThanOrEqual(20);
    expect(result.logIndex).toBe(12);
    expect(result.membership.voters.map((m) => m.id)).toEqual(['n1', 'n2', 'n3', 'n4']);
  });

  it('a retry for an existing learner resumes at the promotion; an existing voter at the same address answers at once', async () => {
    const host = new FakeHost();
    host.current = applyMembershipChange(host.current, { type: 'addLearner', id: 'n4', address: 'h:4' }) as Membership;
    host.followers.push({ id: 'n4', matchIndex: 10, nextIndex: 11, state: 'replicate' });
    const changes = new MembershipChanges(host);
    const promoted = await changes.add('n4', 'h:4', farDeadline);
    expect(host.proposed).toEqual([{ type: 'promote', id: 'n4' }]);
    const again = await changes.add('n4', 'h:4', farDeadline);
    expect(host.proposed).toHaveLength(1);
    expect(again.membership).toEqual(promoted.membership);
    expect(again.logIndex).toBeGreaterThanOrEqual(promoted.logIndex);
  });

  it('refuses a member at another address, and a learner that is still far behind times out UNAVAILABLE', async () => {
    const host = new FakeHost();
    host.current = applyMembershipChange(host.current, { type: 'addLearner', id: 'n4', address: 'h:4' }) as Membership;
    host.followers.push({ id: 'n4', matchIndex: 0, nextIndex: 1, state: 'probe' });
    const changes = new MembershipChanges(host);
    await expect(changes.add('n4', 'h:5', farDeadline)).rejects.toMatchObject({ reason: 'conflict' });
    host.onSleep = (h) => {
      // Keeps receiving but stays more than the lag behind a busy log.
      h.lastLogIndex += 100;
      h.commitIndex = h.lastLogIndex;
      h.setMatch('n4', h.commitIndex - learnerCatchUpLagMax - 1);
    };
    const started = host.clock;
    await expect(changes.add('n4', 'h:4', farDeadline)).rejects.toBeInstanceOf(UnavailableError);
    expect(host.clock - started).toBeGreaterThanOrEqual(learnerCatchUpTimeoutMs);
    expect(host.proposed).toEqual([]);
    // With a nearer call deadline it is DEADLINE_EXCEEDED instead.
    await expect(changes.add('n4', 'h:4', host.clock + 100)).rejects.toBeInstanceOf(DeadlineError);
  });

  it('retries while another change is uncommitted, then gives up FAILED_PRECONDITION (busy)', async () => {
    const host = new FakeHost();
    host.busy = 3;
    host.onSleep = (h) => {
      h.commitIndex = h.lastLogIndex;
      h.setMatch('n4', h.lastLogIndex);
    };
    await new MembershipChanges(host).add('n4', 'h:4', farDeadline);
    expect(host.proposed.map((c) => c.type)).toEqual(['addLearner', 'promote']);
    host.busy = Number.MAX_SAFE_INTEGER;
    const started = host.clock;
    const error = await new MembershipChanges(host).remove('n4', farDeadline).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MemberChangeRefusedError);
    expect((error as MemberChangeRefusedError).reason).toBe('busy');
    expect(host.clock - started).toBeGreaterThanOrEqual(membershipBusyWaitMs);
  });

  it('a non-leader answers NotLeaderError (the service forwards); leadership lost mid-change is UNAVAILABLE', async () => {
    const host = new FakeHost();
    host.role = 'follower';
    host.leaderId = 'n2';
    await expect(new MembershipChanges(host).add('n4', 'h:4', farDeadline)).rejects.toMatchObject({ leaderId: 'n2', leaderAddress: 'addr-n2' });
    const lost = new FakeHost();
    lost.onSleep = (h) => {
      h.role = 'follower';
      h.term++;
    };
    await expect(new MembershipChanges(lost).remove('n3', farDeadline)).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe('MembershipChanges.remove', () => {
  it('removes a follower once committed; an unknown node is NOT_FOUND; the last voter cannot go', async () => {
    const host = new FakeHost();
    const changes = new MembershipChanges(host);
    const result = await changes.remove('n3', farDeadline);
    expect(host.proposed).toEqual([{ type: 'remove', id: 'n3' }]);
    expect(result).toMatchObject({ logIndex: 11 });
    expect(result.membership.voters.map((m) => m.id)).toEqual(['n1', 'n2']);
    await expect(changes.remove('n9', farDeadline)).rejects.toMatchObject({ reason: 'notFound' });
    const single = new FakeHost();
    single.current = initialMembership(['n1']);
    await expect(new MembershipChanges(single).remove('n1', farDeadline)).rejects.toMatchObject({ reason: 'conflict' });
  });

  it('removing the leader hands leadership to the most up-to-date other voter, never a learner, then forwards', async () => {
    const host = new FakeHost();
    host.current = applyMembershipChange(host.current, { type: 'addLearner', id: 'n4', address: 'h:4' }) as Membership;
    host.followers = [
      { id: 'n2', matchIndex: 8, nextIndex: 9, state: 'replicate' },
      { id: 'n3', matchIndex: 9, nextIndex: 10, state: 'replicate' },
      { id: 'n4', matchIndex: 10, nextIndex: 11, state: 'replicate' },
    ];
    const error = await new MembershipChanges(host).remove('n1', farDeadline).catch((e: unknown) => e);
    expect(host.transfers).toEqual(['n3']);
    expect(error).toBeInstanceOf(NotLeaderError);
    expect(error).toMatchObject({ leaderId: 'n3', leaderAddress: 'addr-n3' });
    expect(host.proposed).toEqual([]);
  });
});
