/**
 * The leader's view of one follower's log (etcd `tracker/progress.go`). A union so that fields
 * valid only while probing or only while pipelining cannot be read in the wrong state.
 *
 * Invariants (asserted on every change): matchIndex < nextIndex, and matchIndex never decreases
 * within a term. nextIndex may go backwards (a rejection), but never to or below matchIndex.
 */
import { assert, assertNever } from './assert.js';
import type { LogIndex } from './types.js';

/**
 * The last index of every AppendEntries sent with entries and not yet acknowledged, oldest first.
 * Bounded by `inflightAppendsMax`: a full window pauses replication to that follower.
 */
export class Inflights {
  private readonly lastIndexes: LogIndex[] = [];

  constructor(readonly countMax: number) {
    assert(countMax >= 1, 'inflight window must hold at least one append');
  }

  get count(): number {
    return this.lastIndexes.length;
  }

  isFull(): boolean {
    return this.lastIndexes.length >= this.countMax;
  }

  add(lastIndex: LogIndex): void {
    assert(!this.isFull(), 'inflight window overflow');
    const newest = this.lastIndexes.at(-1);
    assert(newest === undefined || lastIndex > newest, 'inflight appends must be sent in index order');
    this.lastIndexes.push(lastIndex);
  }

  /** Frees every append whose entries are all acknowledged (last index <= `index`). */
  freeTo(index: LogIndex): void {
    let freed = 0;
    while (freed < this.lastIndexes.length && (this.lastIndexes[freed] ?? Infinity) <= index) freed++;
    if (freed > 0) this.lastIndexes.splice(0, freed);
  }

  /** Frees the oldest slot: its append or its ack was probably lost (heartbeat recovery). */
  freeFirst(): void {
    this.lastIndexes.shift();
  }

  clear(): void {
    this.lastIndexes.length = 0;
  }
}

interface ProgressBase {
  /** Highest index known to match the leader's log. Invariant: never decreases in a term. */
  matchIndex: LogIndex;
  /** Next index to send. Invariant: nextIndex > matchIndex. */
  nextIndex: LogIndex;
}

/** Where the follower's log diverges is unknown: one AppendEntries at a time, resent on heartbeat. */
export interface ProbeProgress extends ProgressBase {
  readonly state: 'probe';
  /** A probe is in flight; the next one waits for its answer or for the heartbeat. */
  probeSent: boolean;
}

/** The follower matched once: entries are pipelined optimistically, up to the inflight window. */
export interface ReplicateProgress extends ProgressBase {
  readonly state: 'replicate';
  readonly inflights: Inflights;
}

/** An InstallSnapshot is on its way: appends paused until the follower answers (or it times out). */
export interface SnapshotProgress extends ProgressBase {
  readonly state: 'snapshot';
  readonly pendingSnapshotIndex: LogIndex;
  /** Leader tick at which the InstallSnapshot was sent: an unanswered one is retried after a while. */
  readonly sentTick: number;
}

export type ProgressState = ProbeProgress | ReplicateProgress | SnapshotProgress;

/** One follower's progress plus what the leader tracks for it in every state. */
export interface Progress {
  flow: ProgressState;
  /** Leader ticks at which this follower last answered (check-quorum). */
  lastResponseTick: number;
  /** Highest heartbeat round this follower has echoed in the current term (ReadIndex). */
  roundAcked: number;
  /** Highest leaderCommit sent to this follower: a commit it has not heard of yet is pushed at flush. */
  commitSent: LogIndex;
  /** The last heartbeat round whose answer triggered lost-append recovery (at most once per round). */
  recoveryRound: number;
}

function checkIndexes(flow: ProgressState): void {
  assert(flow.matchIndex >= 0, `matchIndex ${flow.matchIndex} negative`);
  assert(flow.nextIndex > flow.matchIndex, `nextIndex ${flow.nextIndex} <= matchIndex ${flow.matchIndex}`);
}

/** A fresh progress for a new leader: probe from the leader's last index + 1. */
export function newProgress(lastIndex: LogIndex, nowTick: number): Progress {
  const flow: ProbeProgress = { state: 'probe', matchIndex: 0, nextIndex: lastIndex + 1, probeSent: false };
  checkIndexes(flow);
  return { flow, lastResponseTick: nowTick, roundAcked: 0, commitSent: 0, recoveryRound: 0 };
}

/** Switch to probing at `nextIndex` (after a rejection), keeping matchIndex. */
export function becomeProbe(progress: Progress, nextIndex: LogIndex): void {
  const flow: ProbeProgress = {
    state: 'probe',
    matchIndex: progress.flow.matchIndex,
    nextIndex: Math.max(nextIndex, progress.flow.matchIndex + 1),
    probeSent: false,
  };
  checkIndexes(flow);
  progress.flow = flow;
}

/** Switch to pipelining right after matchIndex (after the first success). */
export function becomeReplicate(progress: Progress, inflightAppendsMax: number): void {
  const flow: ReplicateProgress = {
    state: 'replicate',
    matchIndex: progress.flow.matchIndex,
    nextIndex: progress.flow.matchIndex + 1,
    inflights: new Inflights(inflightAppendsMax),
  };
  checkIndexes(flow);
  progress.flow = flow;
}

/**
 * The entries this follower needs are compacted away: stop appending until a snapshot reaches it
 * (InstallSnapshot, snapshot issue). Heartbeats continue so it stays in the leader's lease.
 */
export function becomeSnapshot(progress: Progress, pendingSnapshotIndex: LogIndex, nowTick: number): void {
  const flow: SnapshotProgress = {
    state: 'snapshot',
    matchIndex: progress.flow.matchIndex,
    nextIndex: Math.max(pendingSnapshotIndex + 1, progress.flow.matchIndex + 1),
    pendingSnapshotIndex,
    sentTick: nowTick,
  };
  checkIndexes(flow);
  progress.flow = flow;
}

/**
 * Records an acknowledgement of everything up to `matchIndex`. Returns true if matchIndex grew;
 * an older (stale, duplicated, reordered) ack changes nothing.
 */
export function recordMatch(progress: Progress, matchIndex: LogIndex): boolean {
  const flow = progress.flow;
  if (matchIndex <= flow.matchIndex) return false;
  flow.matchIndex = matchIndex;
  flow.nextIndex = Math.max(flow.nextIndex, matchIndex + 1);
  if (flow.state === 'replicate') flow.inflights.freeTo(matchIndex);
  checkIndexes(flow);
  return true;
}

/** Records that entries up to `lastIndex` were sent (optimistic nextIndex while pipelining). */
export function recordSent(progress: Progress, lastIndex: LogIndex, entryCount: number): void {
  const flow = progress.flow;
  switch (flow.state) {
    case 'probe':
      flow.probeSent = true;
      break;
    case 'replicate':
      if (entryCount > 0) {
        flow.inflights.add(lastIndex);
        flow.nextIndex = lastIndex + 1;
      }
      break;
    case 'snapshot':
      assert(false, 'no appends are sent while a snapshot is pending');
      break;
    default:
      assertNever(flow);
  }
  checkIndexes(flow);
}

/** True when the leader may send this follower an AppendEntries with entries now. */
export function canSendEntries(progress: Progress): boolean {
  const flow = progress.flow;
  switch (flow.state) {
    case 'probe':
      return !flow.probeSent;
    case 'replicate':
      return !flow.inflights.isFull();
    case 'snapshot':
      return false;
    default:
      return assertNever(flow);
  }
}
