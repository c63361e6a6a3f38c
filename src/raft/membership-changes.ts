/**
 * The leader's side of membership changes (see membership.ts for the design): when a change may
 * be proposed, keeping one replication progress per member as configurations come and go, and
 * the step-down of a leader its own configuration no longer counts as a voter (thesis §4.2.2).
 */
import { applyMembershipChange, memberIds, type Membership, type MembershipChange, type MembershipChangeError } from './membership.js';
import type { LeaderRole, ReplicationHost } from './leader-replication.js';
import type { LogManager } from './log-manager.js';
import { newProgress } from './progress.js';
import type { NodeId } from './types.js';

/** Why a change cannot be proposed now, or the configuration it leads to. */
export type ChangeCheck =
  | { readonly type: 'ok'; readonly membership: Membership }
  | { readonly type: 'changeInProgress' }
  | { readonly type: 'rejected'; readonly reason: MembershipChangeError };

/**
 * One change at a time, and only once this leader's term has committed an entry: with a single
 * pending change any two successive configurations share a majority, and the own-term commit
 * closes the hole Ongaro described on raft-dev (2015) where a config entry of a deposed leader
 * and one of its successor could both seem to commit. A running transfer is a handover too.
 */
export function checkChange(log: LogManager, leader: LeaderRole, change: MembershipChange): ChangeCheck {
  if (leader.transfer !== null || !leader.termCommitted || log.membership.latestIndex() > log.commitIndex()) {
    return { type: 'changeInProgress' };
  }
  const next = applyMembershipChange(log.membership.current(), change);
  if (typeof next === 'string') return { type: 'rejected', reason: next };
  return { type: 'ok', membership: next };
}

/**
 * Makes the leader's progress map match the configuration in effect: a new member is probed from
 * the leader's last index + 1 (its rejection's hint then finds where its log ends, or a snapshot
 * catches it up), and a transfer to a node that is no longer a voter is abandoned. A member the
 * latest, still uncommitted, change removed keeps its progress: the leader goes on replicating to
 * it until it has been told that its removal committed (see pruneDeparted), so it learns it is out
 * and stops campaigning instead of knocking on the cluster's door forever.
 */
export function syncProgress(host: ReplicationHost, leader: LeaderRole): void {
  const { log, config } = host;
  const members = new Set<NodeId>(log.membership.othersThan(config.id));
  const latest = log.membership.latestIndex();
  const departing = latest > log.commitIndex() ? memberIds(log.membership.at(latest - 1)) : [];
  for (const id of leader.progress.keys()) if (!members.has(id) && !departing.includes(id)) leader.progress.delete(id);
  for (const id of members) {
    if (!leader.progress.has(id)) leader.progress.set(id, newProgress(log.lastIndex(), leader.ticksAsLeader));
  }
  if (leader.transfer !== null && !log.membership.isVoter(leader.transfer.to)) leader.transfer = null;
  leader.sendPending = true;
}

/**
 * Forgets a removed member once its removal committed and it was sent that commit index, or once
 * it has been silent for an election timeout (down: nothing more to tell it). Its acks never count
 * towards a quorum meanwhile: every quorum is taken over the voters of the configuration in effect.
 */
export function pruneDeparted(host: ReplicationHost, leader: LeaderRole): void {
  const { log, config } = host;
  if (leader.progress.size === log.membership.othersThan(config.id).length) return;
  const latest = log.membership.latestIndex();
  if (log.commitIndex() < latest) return;
  for (const [id, progress] of leader.progress) {
    if (log.membership.isMember(id)) continue;
    const silent = leader.ticksAsLeader - progress.lastResponseTick >= config.electionTicks;
    if (progress.commitSent >= latest || silent) leader.progress.delete(id);
  }
}

/**
 * Thesis §4.2.2: a leader removed from the voters keeps replicating until the configuration that
 * removed it commits (counting only the new voters), then steps down. True once that happened.
 */
export function removedAndCommitted(host: ReplicationHost): boolean {
  const { log, config } = host;
  return !log.membership.isVoter(config.id) && log.commitIndex() >= log.membership.latestIndex();
}

/**
 * The voter best placed to take over from a leader stepping down: one holding the leader's whole
 * log (so it wins at once on TimeoutNow), or null when none does yet (an election timeout then).
 */
export function successorOf(host: ReplicationHost, leader: LeaderRole): NodeId | null {
  for (const id of host.voters()) {
    if (id !== host.config.id && (leader.progress.get(id)?.flow.matchIndex ?? 0) >= host.log.lastIndex()) return id;
  }
  return null;
}
