/**
 * Leadership transfer (Raft thesis §3.10): the leader stops taking proposals, brings the chosen
 * follower's log up to its own, then sends it TimeoutNow; the follower campaigns at once and, its
 * log being the most up to date, wins the next term. A transfer that has not completed within an
 * election timeout is abandoned and the leader takes proposals again.
 */
import type { LeaderRole, ReplicationHost } from './leader-replication.js';
import type { NodeId } from './types.js';

/** A transfer in progress on the leader. */
export interface PendingTransfer {
  readonly to: NodeId;
  /** Leader ticks since the transfer started: abandoned at electionTicks. */
  elapsedTicks: number;
  /** TimeoutNow went out: sent once per transfer. */
  timeoutNowSent: boolean;
}

/** The outcome of `transferLeadership()`. */
export type TransferResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly reason: 'notLeader'; readonly leaderId: NodeId | null }
  | { readonly ok: false; readonly reason: 'unknownMember' };

/** Starts a transfer to `to` (replacing any other) and sends TimeoutNow if it is already caught up. */
export function startTransfer(host: ReplicationHost, leader: LeaderRole, to: NodeId): void {
  leader.transfer = { to, elapsedTicks: 0, timeoutNowSent: false };
  // Push whatever the transferee lacks now rather than at the next heartbeat.
  leader.sendPending = true;
  maybeSendTimeoutNow(host, leader, to);
}

/** Sends TimeoutNow once the transferee's log matches the leader's last index. */
export function maybeSendTimeoutNow(host: ReplicationHost, leader: LeaderRole, from: NodeId): void {
  const transfer = leader.transfer;
  if (transfer === null || transfer.to !== from || transfer.timeoutNowSent) return;
  const progress = leader.progress.get(from);
  if (progress === undefined || progress.flow.matchIndex < host.log.lastIndex()) return;
  transfer.timeoutNowSent = true;
  host.send({ type: 'timeoutNow', from: host.config.id, to: from, term: host.currentTerm() });
}

/** One leader tick: abandons a transfer that took longer than an election timeout. */
export function tickTransfer(host: ReplicationHost, leader: LeaderRole): void {
  const transfer = leader.transfer;
  if (transfer !== null && ++transfer.elapsedTicks >= host.config.electionTicks) leader.transfer = null;
}
