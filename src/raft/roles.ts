/**
 * The node's role as a discriminated union (role-only state lives in its variant) and the value
 * types RaftNode's public methods return.
 */
import type { VoteTally } from './election-module.js';
import type { LeaderRole } from './leader-replication.js';
import type { Membership, MembershipChangeError } from './membership.js';
import type { FollowerStatus, LogIndex, NodeId, RoleKind, Term } from './types.js';

/** A follower knows (or not yet) who leads its term. */
export interface FollowerRole {
  readonly kind: 'follower';
  leaderId: NodeId | null;
}

/** A (pre-)candidate collects votes; a pre-candidate has not bumped its term. */
export interface CandidateRole {
  readonly kind: 'candidate';
  readonly preVote: boolean;
  readonly votes: VoteTally;
}

export type Role = FollowerRole | CandidateRole | LeaderRole;

/** The outcome of `propose()`: a refusal is a value, not an exception. */
export type ProposeResult =
  | { readonly ok: true; readonly index: LogIndex; readonly term: Term }
  | { readonly ok: false; readonly reason: 'notLeader'; readonly leaderId: NodeId | null }
  | { readonly ok: false; readonly reason: 'overloaded' };

/** The outcome of `proposeMembershipChange()`: a refusal is a value, not an exception. */
export type MembershipProposeResult =
  /** A `config` entry for `membership` was appended at `index`; it is in effect already. */
  | { readonly type: 'accepted'; readonly index: LogIndex; readonly membership: Membership }
  | { readonly type: 'notLeader'; readonly leaderId: NodeId | null }
  /**
   * Retry later: the previous config entry is not committed yet, no entry of this leader's term is
   * committed yet, or a leadership transfer is running.
   */
  | { readonly type: 'changeInProgress' }
  /** The change does not apply to the configuration in effect. */
  | { readonly type: 'rejected'; readonly reason: MembershipChangeError };

/** The outcome of `readIndex()`. */
export type ReadIndexResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'notLeader'; readonly leaderId: NodeId | null }
  | { readonly ok: false; readonly reason: 'overloaded' };

/** A snapshot of the node's state for status reporting and tests. */
export interface RaftStatus {
  readonly id: NodeId;
  readonly role: RoleKind;
  /** True while a candidate is only pre-voting (its term not bumped). */
  readonly preCandidate: boolean;
  readonly term: Term;
  readonly votedFor: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly commitIndex: LogIndex;
  readonly lastApplied: LogIndex;
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  readonly firstLogIndex: LogIndex;
  /** Voter ids of the configuration in effect (`membership.voters`). */
  readonly voters: readonly NodeId[];
  /**
   * The configuration in effect: the latest config entry in the log (committed or not), else the
   * snapshot's, else the RaftConfig's initial voters. A learner's role stays 'follower'.
   */
  readonly membership: Membership;
  /** Leader only (every other member, learners included); empty otherwise. */
  readonly followers: readonly FollowerStatus[];
}
