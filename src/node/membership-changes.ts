/**
 * AddMember and RemoveMember on the leader, as sequences of single-server changes the core
 * appends one at a time (src/raft/membership.ts):
 *
 *  - add: append `addLearner`, wait for it to commit, wait until the learner's match index is
 *    within {@link learnerCatchUpLagMax} of the commit index (so promoting it cannot stall
 *    commits while a new voter copies the whole log), append `promote`, answer once committed.
 *    A retry resumes where the last attempt stopped: an existing learner goes straight to the
 *    catch-up wait, an existing voter at the same address answers at once.
 *  - remove: append `remove`, answer once committed. Removing the leader itself first hands
 *    leadership to the most up-to-date other voter and then fails with NotLeaderError naming it,
 *    so the service forwards the request to the new leader, which removes the old one.
 *
 * A change that finds another one uncommitted (`changeInProgress`) retries for
 * {@link membershipBusyWaitMs}, then fails FAILED_PRECONDITION: changes are rare and quick, a
 * longer wait would only hide an operator racing themselves. Progress is polled every
 * {@link membershipPollMs} rather than hooked into the apply path: these are rare admin calls.
 */
import { assertNever } from '../raft/assert.js';
import { isLearner, isMember, isVoter, type Member, type Membership, type MembershipChange, type MembershipChangeError } from '../raft/membership.js';
import type { FollowerStatus, LogIndex, NodeId, RoleKind, Term } from '../raft/types.js';
import { DeadlineError, NotLeaderError, UnavailableError } from './exchange-node-api.js';
import type { MembershipProposeResult } from './raft-driver.js';

/** A learner is promoted once its match index is at most this many entries behind the commit index. */
export const learnerCatchUpLagMax = 64;
/** Longest wait for a learner to catch up before AddMember gives up (UNAVAILABLE; a retry resumes). */
export const learnerCatchUpTimeoutMs = 30_000;
/** How long a change waits for a previous uncommitted change before FAILED_PRECONDITION. */
export const membershipBusyWaitMs = 3_000;
/** How long removing the leader waits for leadership to move to another voter. */
export const removeLeaderTransferMs = 3_000;
/** Poll interval of the waits above. */
export const membershipPollMs = 10;

/** Why a membership request cannot be done; the service maps it to a gRPC status. */
export type MemberChangeRefusal =
  /** The node is not a member (NOT_FOUND). */
  | 'notFound'
  /** The node is a member with another address, or it is the last voter (FAILED_PRECONDITION). */
  | 'conflict'
  /** Another change stayed uncommitted for too long (FAILED_PRECONDITION). */
  | 'busy'
  /** Malformed id or address (INVALID_ARGUMENT). */
  | 'invalid';

/** A membership request refused for a reason the caller can act on. */
export class MemberChangeRefusedError extends Error {
  override readonly name = 'MemberChangeRefusedError';
  constructor(readonly reason: MemberChangeRefusal, message: string) {
    super(message);
  }
}

/** A committed configuration change: the configuration after it and the entry's index. */
export interface MemberChangeResult {
  readonly membership: Membership;
  readonly logIndex: LogIndex;
}

/** What the changer needs from the node (ExchangeNode provides it; tests fake it). */
export interface MembershipHost {
  readonly selfId: NodeId;
  membership(): Membership;
  propose(change: MembershipChange): MembershipProposeResult;
  status(): {
    readonly role: RoleKind;
    readonly term: Term;
    readonly leaderId: NodeId | null;
    readonly commitIndex: LogIndex;
    readonly lastLogIndex: LogIndex;
    readonly followers: readonly FollowerStatus[];
  };
  /** Hands leadership to voter `target`; resolves once it moved. */
  transferLeadership(target: NodeId, deadlineMs: number): Promise<{ leaderId: NodeId; term: Term }>;
  /** The NotLeaderError (with the leader's address) the service forwards on. */
  notLeader(leaderId: NodeId | null): NotLeaderError;
  /** The address this node knows for `id` ('' if none): an existing voter's address check. */
  knownAddress(id: NodeId): string;
  isStopped(): boolean;
  now(): number;
  sleep(ms: number): Promise<void>;
  readonly logger: { info(obj: object, msg?: string): void };
}

export class MembershipChanges {
  constructor(private readonly host: MembershipHost) {}

  /** AddMember on the leader; see the file comment. */
  async add(id: NodeId, address: string, deadlineMs: number): Promise<MemberChangeResult> {
    const existing = findMember(this.host.membership(), id);
    if (existing !== null) {
      const known = this.host.knownAddress(id);
      if (known !== '' && known !== address) {
        throw new MemberChangeRefusedError('conflict', `${id} is already a member at ${known}; remove it first to change its address`);
      }
    }
    if (existing === null || !existing.voter) {
      // The learner must hold at least this index: the entry that added it, or on a retry what was
      // committed when the retry came in. Proves it is alive and receiving, not just "not far
      // behind" a young log.
      let floor = this.requireLeader().commitIndex;
      if (existing === null) {
        const learner = await this.change({ type: 'addLearner', id, address }, deadlineMs);
        this.host.logger.info({ id, address, index: learner.logIndex }, 'learner added; waiting for it to catch up');
        floor = learner.logIndex;
      }
      await this.waitCaughtUp(id, floor, deadlineMs);
      if (isLearner(this.host.membership(), id)) {
        const promoted = await this.change({ type: 'promote', id }, deadlineMs);
        this.host.logger.info({ id, index: promoted.logIndex }, 'learner promoted to voter');
        return promoted;
      }
    }
    // Already a voter (a retry, or a concurrent promotion): answer once that is committed.
    return this.committedNow(deadlineMs);
  }

  /** RemoveMember on the leader; see the file comment. */
  async remove(id: NodeId, deadlineMs: number): Promise<MemberChangeResult> {
    this.requireLeader();
    const membership = this.host.membership();
    if (!isMember(membership, id)) throw new MemberChangeRefusedError('notFound', `${id} is not a member`);
    if (id === this.host.selfId) {
      if (membership.voters.length <= 1) throw new MemberChangeRefusedError('conflict', `${id} is the last voter`);
      const target = this.successor(membership);
      if (target === null) throw new UnavailableError('no other voter to hand leadership to is reachable');
      this.host.logger.info({ to: target }, 'removing the leader: handing leadership over first');
      const moved = await this.host.transferLeadership(target, Math.min(deadlineMs, this.host.now() + removeLeaderTransferMs));
      // The new leader does the removal: the service forwards there.
      throw this.host.notLeader(moved.leaderId);
    }
    const removed = await this.change({ type: 'remove', id }, deadlineMs);
    this.host.logger.info({ id, index: removed.logIndex }, 'member removed');
    return removed;
  }

  /** The other voter with the highest match index (null when the leader knows no progress). */
  private successor(membership: Membership): NodeId | null {
    const voters = this.host.status().followers.filter((f) => isVoter(membership, f.id) && f.id !== this.host.selfId);
    return [...voters].sort((a, b) => b.matchIndex - a.matchIndex)[0]?.id ?? null;
  }

  /** Appends `change` (retrying while another change is uncommitted) and waits for it to commit. */
  private async change(change: MembershipChange, deadlineMs: number): Promise<MemberChangeResult> {
    const busyUntil = this.host.now() + membershipBusyWaitMs;
    for (;;) {
      this.checkStopped();
      const term = this.host.status().term;
      const result = this.host.propose(change);
      switch (result.type) {
        case 'accepted':
          await this.waitCommitted(result.index, term, deadlineMs);
          return { membership: result.membership, logIndex: result.index };
        case 'notLeader':
          throw this.host.notLeader(result.leaderId);
        case 'changeInProgress': {
          const now = this.host.now();
          if (now >= deadlineMs) throw new DeadlineError(`deadline passed waiting for an earlier membership change to commit (${change.type} ${change.id})`);
          if (now >= busyUntil) {
            throw new MemberChangeRefusedError('busy', `another membership change is still uncommitted after ${membershipBusyWaitMs} ms; retry later`);
          }
          await this.host.sleep(membershipPollMs);
          continue;
        }
        case 'rejected':
          throw refusal(result.reason, change);
        default:
          return assertNever(result);
      }
    }
  }

  /** Until the commit index reaches `index` in the same leader term (then it is our entry). */
  private async waitCommitted(index: LogIndex, term: Term, deadlineMs: number): Promise<void> {
    for (;;) {
      this.checkStopped();
      const s = this.host.status();
      if (s.role !== 'leader' || s.term !== term) {
        throw new UnavailableError(`leadership lost before the membership change at ${index} committed; retry`);
      }
      if (s.commitIndex >= index) return;
      if (this.host.now() >= deadlineMs) throw new DeadlineError(`deadline passed before the membership change at ${index} committed; it may still commit`);
      await this.host.sleep(membershipPollMs);
    }
  }

  /** Until learner `id` holds `floor` and is within the lag bound of the commit index. */
  private async waitCaughtUp(id: NodeId, floor: LogIndex, deadlineMs: number): Promise<void> {
    const giveUpAt = Math.min(deadlineMs, this.host.now() + learnerCatchUpTimeoutMs);
    for (;;) {
      this.checkStopped();
      const s = this.requireLeader();
      if (!isMember(this.host.membership(), id)) throw new MemberChangeRefusedError('notFound', `${id} was removed while catching up`);
      const progress = s.followers.find((f) => f.id === id);
      if (progress !== undefined && progress.matchIndex >= floor && progress.matchIndex + learnerCatchUpLagMax >= s.commitIndex) return;
      const now = this.host.now();
      if (now >= giveUpAt) {
        const where = `match ${progress?.matchIndex ?? 0}, commit ${s.commitIndex}`;
        if (now >= deadlineMs) throw new DeadlineError(`deadline passed while learner ${id} catches up (${where}); retry AddMember to resume`);
        throw new UnavailableError(`learner ${id} did not catch up within ${learnerCatchUpTimeoutMs} ms (${where}); retry AddMember to resume`);
      }
      await this.host.sleep(membershipPollMs);
    }
  }

  /** The current configuration once everything appended so far is committed. */
  private async committedNow(deadlineMs: number): Promise<MemberChangeResult> {
    const s = this.requireLeader();
    const index = s.lastLogIndex;
    await this.waitCommitted(index, s.term, deadlineMs);
    return { membership: this.host.membership(), logIndex: index };
  }

  private requireLeader(): ReturnType<MembershipHost['status']> {
    const s = this.host.status();
    if (s.role !== 'leader') throw this.host.notLeader(s.leaderId);
    return s;
  }

  private checkStopped(): void {
    if (this.host.isStopped()) throw new UnavailableError('node is shutting down');
  }
}

function findMember(membership: Membership, id: NodeId): { member: Member; voter: boolean } | null {
  const voter = membership.voters.find((m) => m.id === id);
  if (voter !== undefined) return { member: voter, voter: true };
  const learner = membership.learners.find((m) => m.id === id);
  return learner === undefined ? null : { member: learner, voter: false };
}

function refusal(reason: MembershipChangeError, change: MembershipChange): MemberChangeRefusedError {
  switch (reason) {
    case 'not-a-member':
      return new MemberChangeRefusedError('notFound', `${change.id} is not a member`);
    case 'not-a-learner':
    case 'already-member':
      return new MemberChangeRefusedError('conflict', `${change.type} ${change.id}: ${reason} (a concurrent change?)`);
    case 'last-voter':
      return new MemberChangeRefusedError('conflict', `${change.id} is the last voter`);
    case 'invalid-id':
    case 'invalid-address':
      return new MemberChangeRefusedError('invalid', `${change.type} ${change.id}: ${reason}`);
    default:
      return assertNever(reason);
  }
}
