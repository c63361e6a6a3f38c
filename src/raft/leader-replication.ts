/**
 * The leader's side of log replication: what to send each follower (probe or pipeline, bounded by
 * the config's limits), how a response moves its progress (including the conflict-hint jump), the
 * commit rule of Figure 8, heartbeats with rounds, and check-quorum.
 */
import { assert, assertNever } from './assert.js';
import { checkQuorumTicks, type RaftConfig } from './config.js';
import type { LogManager } from './log-manager.js';
import {
  becomeProbe,
  becomeReplicate,
  becomeSnapshot,
  canSendEntries,
  newProgress,
  recordMatch,
  recordSent,
  type Progress,
} from './progress.js';
import { maybeSendTimeoutNow, type PendingTransfer } from './leadership-transfer.js';
import { hasQuorum, quorumMatchIndex } from './quorum.js';
import { ReadIndexQueue } from './read-index.js';
import type { AppendEntriesResponse, InstallSnapshotResponse, LogIndex, Message, NodeId, ReadState, SnapshotMeta, Term } from './types.js';

/**
 * Leader ticks an InstallSnapshot may go unanswered before the leader falls back to probing (and
 * so sends it again): a lost message must not park a follower forever. The transport answers a
 * failed transfer at once; this only covers a message lost without trace.
 */
export const snapshotResponseTicksMax = 50;

/** The leader variant of the node's role: all state only a leader has. */
export interface LeaderRole {
  readonly kind: 'leader';
  /** One entry per other member of the current configuration (voters and learners). */
  readonly progress: Map<NodeId, Progress>;
  /** The last heartbeat round broadcast (ReadIndex); echoed by followers. */
  round: number;
  heartbeatElapsed: number;
  /** Ticks since this node became leader: the clock for check-quorum. */
  ticksAsLeader: number;
  readonly reads: ReadIndexQueue;
  /** Entries were proposed since the last flush: send them when the Ready is built (batching). */
  sendPending: boolean;
  /** An entry of this term has committed, so commitIndex is current (ReadIndex may register). */
  termCommitted: boolean;
  /** A leadership transfer in progress: proposals are refused meanwhile. */
  transfer: PendingTransfer | null;
}

/**
 * The role a node takes on winning: every other member (`others`, learners included) probed from
 * lastIndex + 1, appends due at once.
 */
export function newLeaderRole(config: RaftConfig, lastIndex: LogIndex, others: readonly NodeId[]): LeaderRole {
  const progress = new Map<NodeId, Progress>();
  for (const id of others) if (id !== config.id) progress.set(id, newProgress(lastIndex, 0));
  return {
    kind: 'leader',
    progress,
    round: 0,
    heartbeatElapsed: 0,
    ticksAsLeader: 0,
    reads: new ReadIndexQueue(config.pendingReadsMax),
    sendPending: true,
    termCommitted: false,
    transfer: null,
  };
}

/** What the replication code needs from the node. */
export interface ReplicationHost {
  readonly config: RaftConfig;
  readonly log: LogManager;
  currentTerm(): Term;
  /** Voter ids of the configuration in effect: only they count for commit, reads and check-quorum. */
  voters(): readonly NodeId[];
  /** The newest durable snapshot (what a follower below the log's start is sent), or null. */
  latestSnapshot(): SnapshotMeta | null;
  send(message: Message): void;
  emitReadStates(states: readonly ReadState[]): void;
}

/**
 * Sends `to` an AppendEntries from its nextIndex, if its flow state allows. `allowEmpty` sends
 * even with nothing new (a probe or heartbeat recovery); otherwise only when entries are due.
 */
export function sendAppend(host: ReplicationHost, leader: LeaderRole, to: NodeId, allowEmpty: boolean): boolean {
  const progress = leader.progress.get(to);
  assert(progress !== undefined, `no progress for ${to}`);
  const { log, config } = host;
  const flow = progress.flow;
  if (flow.state === 'snapshot') return false;
  const hasNew = flow.nextIndex <= log.lastIndex();
  if (!hasNew && !allowEmpty) return false;
  const prevLogIndex = flow.nextIndex - 1;
  const prevLogTerm = log.term(prevLogIndex);
  if (prevLogTerm === undefined) {
    // Compacted below what this follower needs: only a snapshot can catch it up.
    sendSnapshot(host, leader, to, progress);
    return false;
  }
  const entries = hasNew && canSendEntries(progress)
    ? log.slice(flow.nextIndex, log.lastIndex() + 1, config.entriesPerAppendMax, config.bytesPerAppendMax)
    : [];
  if (entries.length === 0 && !allowEmpty) return false;
  const lastSent = prevLogIndex + entries.length;
  // A follower may only commit what it is known to hold once this append is stored.
  const leaderCommit = Math.min(log.commitIndex(), lastSent);
  host.send({
    type: 'appendEntries',
    from: config.id,
    to,
    term: host.currentTerm(),
    prevLogIndex,
    prevLogTerm,
    entries,
    leaderCommit,
    round: leader.round,
  });
  progress.commitSent = Math.max(progress.commitSent, leaderCommit);
  recordSent(progress, lastSent, entries.length);
  return true;
}

/** Parks `to` in snapshot state and sends it the newest snapshot's metadata (the transport streams the bytes). */
function sendSnapshot(host: ReplicationHost, leader: LeaderRole, to: NodeId, progress: Progress): void {
  const meta = host.latestSnapshot();
  assert(meta !== null, 'the log is compacted but there is no snapshot');
  assert(meta.index >= host.log.firstIndex() - 1, `snapshot ${meta.index} does not reach the log start ${host.log.firstIndex()}`);
  becomeSnapshot(progress, meta.index, leader.ticksAsLeader);
  host.send({ type: 'installSnapshot', from: host.config.id, to, term: host.currentTerm(), meta });
}

/**
 * A follower's answer to InstallSnapshot. Success: it holds everything up to matchIndex, so
 * pipelining resumes from there. Failure (the transfer broke): probe again, which sends the
 * snapshot anew. Answers to another transfer than the pending one only ever raise matchIndex.
 */
export function handleSnapshotResponse(host: ReplicationHost, leader: LeaderRole, message: InstallSnapshotResponse): void {
  const progress = leader.progress.get(message.from);
  if (progress === undefined) return;
  progress.lastResponseTick = leader.ticksAsLeader;
  const flow = progress.flow;
  const answersPending = flow.state === 'snapshot' && message.snapshotIndex === flow.pendingSnapshotIndex;
  if (message.success) {
    if (message.matchIndex > host.log.lastIndex()) return;
    const advanced = recordMatch(progress, message.matchIndex);
    if (answersPending || (progress.flow.state === 'snapshot' && progress.flow.matchIndex >= progress.flow.pendingSnapshotIndex)) {
      becomeReplicate(progress, host.config.inflightAppendsMax);
      leader.sendPending = true;
    }
    if (advanced) {
      maybeCommit(host, leader);
      leader.sendPending = true;
    }
    return;
  }
  // The transfer failed: probe from matchIndex + 1; the next heartbeat re-sends (no hot loop).
  if (answersPending) becomeProbe(progress, progress.flow.matchIndex + 1);
}

/**
 * An empty AppendEntries at the follower's matchIndex: it always matches, so reordering cannot
 * turn it into a rejection. Carries the commit (up to what the follower holds) and the round.
 */
function sendEmptyAtMatch(host: ReplicationHost, leader: LeaderRole, to: NodeId, progress: Progress): void {
  const matchIndex = progress.flow.matchIndex;
  const matchTerm = host.log.term(matchIndex);
  // Compacted below matchIndex (a follower waiting for a snapshot): its term is gone, so point
  // at index 0, which every log matches. Pointing at the snapshot boundary instead was rejected
  // by every heartbeat of a long transfer (issue 6: 108 rejections for a 100k-behind follower).
  const prevLogIndex = matchTerm === undefined ? 0 : matchIndex;
  const prevLogTerm = matchTerm ?? 0;
  const leaderCommit = Math.min(host.log.commitIndex(), prevLogIndex);
  host.send({
    type: 'appendEntries',
    from: host.config.id,
    to,
    term: host.currentTerm(),
    prevLogIndex,
    prevLogTerm,
    entries: [],
    leaderCommit,
    round: leader.round,
  });
  progress.commitSent = Math.max(progress.commitSent, leaderCommit);
}

/** Sends every follower what its flow state allows (called when the Ready is built: batching). */
export function flushAppends(host: ReplicationHost, leader: LeaderRole): void {
  leader.sendPending = false;
  for (const [id, progress] of leader.progress) {
    flushOne(host, leader, id);
    // Tell a follower about a commit it could apply now, rather than at the next heartbeat: one
    // message per follower per Ready at most, and only when its known commit would move.
    const commitDue = Math.min(host.log.commitIndex(), progress.flow.matchIndex);
    if (commitDue > progress.commitSent && progress.flow.state === 'replicate') sendEmptyAtMatch(host, leader, id, progress);
  }
}

/**
 * One heartbeat round: probing followers get their probe resent, replicating ones an empty append
 * at their matchIndex (known to match, so it cannot be rejected by reordering). Every message
 * carries the new round for ReadIndex.
 */
export function broadcastHeartbeat(host: ReplicationHost, leader: LeaderRole): void {
  leader.round++;
  for (const [id, progress] of leader.progress) {
    const flow = progress.flow;
    switch (flow.state) {
      case 'probe':
        flow.probeSent = false;
        sendAppend(host, leader, id, true);
        break;
      case 'replicate':
        if (flow.matchIndex < host.log.firstIndex() - 1) {
          // What it acknowledged is compacted away (it fell behind the trailing window, or its
          // appends were lost): a heartbeat there would only be rejected. Probe, i.e. snapshot.
          becomeProbe(progress, flow.matchIndex + 1);
          sendAppend(host, leader, id, true);
        } else {
          sendEmptyAtMatch(host, leader, id, progress);
        }
        break;
      case 'snapshot':
        if (leader.ticksAsLeader - flow.sentTick >= snapshotResponseTicksMax) {
          // No answer for too long: the message was lost. Probe again, which re-sends it.
          becomeProbe(progress, flow.matchIndex + 1);
          sendAppend(host, leader, id, true);
        } else {
          sendEmptyAtMatch(host, leader, id, progress);
        }
        break;
      default:
        assertNever(flow);
    }
  }
}

/**
 * Commit rule (Raft §5.4.2, Figure 8): advance commitIndex to the majority match index only if
 * that entry is of the current term; earlier-term entries commit indirectly with it.
 */
export function maybeCommit(host: ReplicationHost, leader: LeaderRole): boolean {
  const matches = new Map<NodeId, LogIndex>();
  for (const [id, progress] of leader.progress) matches.set(id, progress.flow.matchIndex);
  matches.set(host.config.id, host.log.lastIndex());
  const candidate = quorumMatchIndex(host.voters(), matches);
  if (candidate <= host.log.commitIndex() || host.log.term(candidate) !== host.currentTerm()) return false;
  host.log.commitTo(candidate);
  if (!leader.termCommitted) {
    leader.termCommitted = true;
    for (const requestId of leader.reads.takeDeferred()) registerRead(host, leader, requestId);
  }
  return true;
}

/** Registers a read at the current commit index, confirmed by the next round (at once if alone). */
export function registerRead(host: ReplicationHost, leader: LeaderRole, requestId: string): void {
  assert(leader.termCommitted, 'reads register only after the term commits an entry');
  leader.reads.register(requestId, host.log.commitIndex(), leader.round + 1);
  confirmReads(host, leader);
}

/** Hands back every read whose round a majority (the leader included) has echoed. */
export function confirmReads(host: ReplicationHost, leader: LeaderRole): void {
  const rounds = new Map<NodeId, number>();
  for (const [id, progress] of leader.progress) rounds.set(id, progress.roundAcked);
  // The leader is always current with itself, including the round it has not sent yet.
  rounds.set(host.config.id, leader.round + 1);
  const quorumRound = quorumMatchIndex(host.voters(), rounds);
  const confirmed = leader.reads.confirm(quorumRound);
  if (confirmed.length > 0) host.emitReadStates(confirmed);
}

/** The follower's rejection moves nextIndex with the conflict hint (etcd findConflictByTerm / thesis §5.3). */
function nextIndexFromHint(log: LogManager, message: AppendEntriesResponse): LogIndex {
  if (message.conflictTerm > 0) {
    const leaderLast = log.lastIndexOfTerm(message.conflictTerm, message.prevLogIndex);
    if (leaderLast > 0) return leaderLast + 1;
  }
  return message.conflictIndex;
}

/**
 * Handles a follower's AppendEntries response in the current term. Stale, duplicated or reordered
 * responses can only raise matchIndex (monotonic) and never push nextIndex to or below it.
 */
export function handleAppendResponse(host: ReplicationHost, leader: LeaderRole, message: AppendEntriesResponse): void {
  const progress = leader.progress.get(message.from);
  if (progress === undefined) return;
  const { log } = host;
  progress.lastResponseTick = leader.ticksAsLeader;
  if (message.round > progress.roundAcked && message.round <= leader.round) {
    progress.roundAcked = message.round;
    confirmReads(host, leader);
  }
  if (message.success) {
    // The follower cannot match beyond what this leader sent it in this term.
    if (message.matchIndex > log.lastIndex()) return;
    const matchBefore = progress.flow.matchIndex;
    const advanced = recordMatch(progress, message.matchIndex);
    assert(progress.flow.matchIndex >= matchBefore, 'matchIndex went backwards');
    if (progress.flow.state === 'snapshot' && progress.flow.matchIndex >= progress.flow.pendingSnapshotIndex) {
      // The follower caught up past the snapshot some other way (it held the entries after all).
      becomeReplicate(progress, host.config.inflightAppendsMax);
      leader.sendPending = true;
    } else if (progress.flow.state === 'probe') {
      // The first success ends probing: pipeline from matchIndex on.
      becomeReplicate(progress, host.config.inflightAppendsMax);
      leader.sendPending = true;
    } else if (
      !advanced &&
      message.entryCount === 0 &&
      message.round > progress.recoveryRound &&
      progress.flow.state === 'replicate' &&
      progress.flow.matchIndex < log.lastIndex()
    ) {
      // The first empty-append answer of a round without progress: an append or its ack may have
      // been lost (etcd does this on every heartbeat response). Free a slot and send from
      // nextIndex; if the follower lacks what precedes it, its rejection starts a probe.
      progress.recoveryRound = message.round;
      if (progress.flow.inflights.isFull()) progress.flow.inflights.freeFirst();
      sendAppend(host, leader, message.from, true);
    }
    if (advanced) {
      maybeCommit(host, leader);
      maybeSendTimeoutNow(host, leader, message.from);
      // Refill the freed window (and push the commit) when the Ready is built, batching with
      // proposals made meanwhile.
      leader.sendPending = true;
    }
    return;
  }
  // A rejection of something at or below what is known to match is stale.
  if (message.prevLogIndex <= progress.flow.matchIndex) return;
  const flow = progress.flow;
  switch (flow.state) {
    case 'probe':
      // Only the answer to the outstanding probe moves a probing follower.
      if (message.prevLogIndex !== flow.nextIndex - 1) return;
      break;
    case 'replicate':
      // Every append of this replicate run went out below nextIndex: one at or above it was sent
      // before the last fall-back to probing, and its rejection is stale.
      if (message.prevLogIndex >= flow.nextIndex) return;
      break;
    case 'snapshot':
      return;
    default:
      assertNever(flow);
  }
  const hinted = nextIndexFromHint(log, message);
  // The rejected prevLogIndex does not match, so the next probe goes strictly below it.
  const nextIndex = Math.max(flow.matchIndex + 1, Math.min(hinted, message.prevLogIndex));
  becomeProbe(progress, nextIndex);
  sendAppend(host, leader, message.from, true);
}

/** Sends one follower whatever its window allows now. */
function flushOne(host: ReplicationHost, leader: LeaderRole, to: NodeId): void {
  const progress = leader.progress.get(to)!;
  let sends = 0;
  while (canSendEntries(progress) && progress.flow.nextIndex <= host.log.lastIndex()) {
    if (!sendAppend(host, leader, to, false)) break;
    if (progress.flow.state !== 'replicate' || ++sends >= host.config.inflightAppendsMax) break;
  }
}

/**
 * Check-quorum: true while a majority of voters (the leader included) answered within the last
 * check-quorum window (config.ts). The leader steps down as soon as this turns false.
 */
export function hasActiveQuorum(host: ReplicationHost, leader: LeaderRole): boolean {
  const active = new Set<NodeId>([host.config.id]);
  const window = checkQuorumTicks(host.config);
  for (const [id, progress] of leader.progress) {
    if (leader.ticksAsLeader - progress.lastResponseTick < window) active.add(id);
  }
  return hasQuorum(host.voters(), active);
}
