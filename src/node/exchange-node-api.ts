/**
 * The seam between the node runtime (src/node) and the gRPC services (src/api): what a client
 * request may ask of the replicated exchange. The runtime implements it; the services map proto
 * messages onto it and its errors onto gRPC status codes.
 */
import type { Observable } from 'rxjs';
import type { Command, Exchange, Reply, TradeView } from '../../domain/index.js';
import type { NodeId, LogIndex, RoleKind, FollowerStatus, Term } from '../raft/types.js';
import type { StreamFlow } from './trade-history.js';

/** Named failures the services map to gRPC codes. */
export class NotLeaderError extends Error {
  override readonly name = 'NotLeaderError';
  constructor(readonly leaderId: NodeId | null, readonly leaderAddress: string | null) {
    super(leaderId ? `not the leader; leader is ${leaderId}` : 'no leader known');
  }
}
/** Leadership was lost (or no leader appeared) before the request applied: UNAVAILABLE; a retry with the same id is safe. */
export class UnavailableError extends Error {
  override readonly name = 'UnavailableError';
}
/** The caller's deadline passed first: DEADLINE_EXCEEDED; the write may still apply later. */
export class DeadlineError extends Error {
  override readonly name = 'DeadlineError';
}
/** A bounded queue is full (proposals, stream buffer): RESOURCE_EXHAUSTED. */
export class OverloadedError extends Error {
  override readonly name = 'OverloadedError';
}

/**
 * StreamTrades asked to resume from a log index older than the retained trade history:
 * OUT_OF_RANGE (the client should resume from a later index).
 */
export class TradeHistoryTrimmedError extends Error {
  override readonly name = 'TradeHistoryTrimmedError';
  constructor(message: string, readonly resumeFromLogIndex: LogIndex) {
    super(message);
  }
}

/** A committed membership change: the members after it (as GetStatus lists them) and its index. */
export interface MemberChangeReply {
  readonly members: readonly { id: NodeId; address: string; voter: boolean }[];
  readonly logIndex: LogIndex;
}

export interface NodeStatus {
  readonly nodeId: NodeId;
  readonly role: RoleKind;
  readonly term: Term;
  readonly leaderId: NodeId | null;
  readonly commitIndex: LogIndex;
  readonly lastApplied: LogIndex;
  readonly lastLogIndex: LogIndex;
  /** Every member including this node; `address` is where this node sends to it (its own --listen for itself). */
  readonly members: readonly { id: NodeId; address: string; voter: boolean }[];
  /** This node is a non-voting learner (its Raft role is 'follower'; GetStatus says ROLE_LEARNER). */
  readonly learner?: boolean;
  /** Leader only (learners included). */
  readonly followers: readonly FollowerStatus[];
  readonly stateHash: string;
  /** Runtime counters since this node process started (optional: fakes may leave them out). */
  readonly counters?: NodeCounters;
}

/** Counters since the node process started (GetStatus fields 11-14). */
export interface NodeCounters {
  /** AppendEntries this node rejected as a follower. */
  readonly appendRejectionsSent: number;
  /** Rejections of its AppendEntries this node received as a leader. */
  readonly appendRejectionsReceived: number;
  /** Storage syncs (one per persisted batch). */
  readonly fsyncs: number;
  /** Log entries made durable. */
  readonly entriesPersisted: number;
}

export interface ExchangeNodeApi {
  /**
   * Leader only: append the (already validated) command, resolve with the domain's reply once the
   * entry is applied locally. Throws NotLeaderError when this node does not lead (the service then
   * forwards to the leader), UnavailableError if leadership is lost before the entry applies,
   * DeadlineError when `deadlineMs` (epoch ms) passes, OverloadedError when the proposal queue is full.
   */
  submit(command: Command, deadlineMs: number): Promise<Reply>;
  /**
   * Leader only: hand leadership to voter `targetId` (null: the most up-to-date follower) and
   * resolve with the new leader once it has moved. Throws NotLeaderError on a non-leader,
   * UnavailableError when the transfer did not complete by `deadlineMs`. Optional: fakes may lack it.
   */
  transferLeadership?(targetId: NodeId | null, deadlineMs: number): Promise<{ leaderId: NodeId; term: number }>;
  /**
   * Leader only: add node `id` at `address` as a learner, promote it to voter once caught up, and
   * resolve once that is committed (see src/node/membership-changes.ts). Throws NotLeaderError on a
   * non-leader (the service forwards), MemberChangeRefusedError for requests it cannot do,
   * UnavailableError / DeadlineError when it did not complete. Optional: fakes may lack it.
   */
  addMember?(id: NodeId, address: string, deadlineMs: number): Promise<MemberChangeReply>;
  /**
   * Leader only: remove member `id` and resolve once committed; removing the leader itself hands
   * leadership over and throws NotLeaderError naming the new leader. Errors as `addMember`.
   */
  removeMember?(id: NodeId, deadlineMs: number): Promise<MemberChangeReply>;
  /**
   * Linearizable read on any node (ReadIndex): waits until this node has applied everything
   * committed when the read started, then runs `read` against the exchange state.
   */
  read<T>(read: (exchange: Exchange) => T, deadlineMs: number): Promise<{ value: T; appliedIndex: LogIndex }>;
  /**
   * Committed trades from `fromLogIndex` (0 = live only; N > 0 = history at index >= N then live,
   * no gap, no duplicate); `symbol` '' = all. The observable errors with OverloadedError when the
   * subscriber falls more than the stream buffer limit behind. Subscription is registered
   * synchronously on subscribe. `flow` (the transport's backpressure) paces the history replay.
   */
  trades(symbol: string, fromLogIndex: LogIndex, flow?: StreamFlow): Observable<TradeView>;
  /** `withStateHash: false` leaves stateHash empty (it serialises and hashes the whole state). */
  status(options?: { readonly withStateHash?: boolean }): NodeStatus;
  /** The address (host:port) of the current leader as this node sends to it, or null. */
  leaderAddress(): string | null;
  readonly nodeId: NodeId;
}
