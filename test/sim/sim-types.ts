/**
 * The slice of the Raft core the simulator drives, written structurally so the checkers and the
 * cluster can be tested against hand-made nodes. `raft-factory.ts` proves the real `RaftNode`
 * fits it.
 */
import type { Membership, MembershipChange, MembershipProposeResult, ProposeResult, RaftStatus, ReadIndexResult } from '../../src/raft/index.js';
import type { LogEntry, LogIndex, Message, NodeId, Ready, SnapshotMeta, Term } from '../../src/raft/types.js';

/** What `RaftNode.status()` reports (the fields the simulator reads). */
export type SimNodeStatus = Pick<RaftStatus,
  'id' | 'role' | 'term' | 'leaderId' | 'commitIndex' | 'lastApplied' | 'lastLogIndex' | 'firstLogIndex' | 'voters' | 'membership' | 'followers'>;

/** The outcome of `RaftNode.propose`. */
export type SimProposeResult = ProposeResult;

/** The outcome of `RaftNode.readIndex`. */
export type SimReadIndexResult = ReadIndexResult;

/** The driver-facing surface of a Raft node. */
export interface SimRaftNode {
  tick(): void;
  step(message: Message): void;
  propose(data: Uint8Array, timestampMs: number): SimProposeResult;
  readIndex(requestId: string): SimReadIndexResult;
  campaign(): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(ready: Ready): void;
  status(): SimNodeStatus;
  /** Leader only: hand leadership to `to` (TimeoutNow once it is caught up). */
  transferLeadership(to: NodeId): { readonly ok: boolean };
  /** The driver saved a snapshot at snapshot.index (<= applied): compact the log to `compactTo`. */
  compact(snapshot: SnapshotMeta, compactTo: LogIndex): void;
  /** Leader only: one single-server membership change. */
  proposeMembershipChange(change: MembershipChange, timestampMs: number): MembershipProposeResult;
  /** The configuration in effect. */
  membership(): Membership;
  /** The configuration in effect at `index` (what a snapshot there records). */
  membershipAt(index: LogIndex): Membership;
}

/** Read access to a node's log, as the checkers need it. */
export interface LogView {
  lastIndex(): LogIndex;
  /** Entries at or below this index are compacted into a snapshot (0 = none). */
  snapshotIndex(): LogIndex;
  term(index: LogIndex): Term | undefined;
  entry(index: LogIndex): LogEntry | undefined;
}
