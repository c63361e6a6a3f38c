/**
 * The vocabulary of the Raft core: ids, entries, hard state, the one message union and the
 * Ready batch the core hands to its driver. Everything here is plain data so the simulator,
 * the WAL and the gRPC codec can copy it without knowing the core.
 */
import type { Membership } from './membership.js';


/** A node id: 1-64 characters from [A-Za-z0-9._:-]. */
export type NodeId = string;
/** A Raft term; 0 before any election. */
export type Term = number;
/** A 1-based log index; 0 means "before the first entry". */
export type LogIndex = number;

/**
 * What a log entry carries. `command` holds an exchange command's bytes; `noop` is the empty entry
 * a new leader appends at the start of its term (Raft §8, so it can commit earlier-term entries);
 * `config` carries a membership change (the membership issue).
 */
export type EntryType = 'command' | 'noop' | 'config';

/** One replicated log entry. Immutable once appended. */
export interface LogEntry {
  readonly index: LogIndex;
  readonly term: Term;
  readonly type: EntryType;
  /** Milliseconds since the epoch, stamped by the leader at append: the only clock the domain sees. */
  readonly timestampMs: number;
  readonly data: Uint8Array;
}

/** The state that must be on disk before the node answers or sends anything. */
export interface HardState {
  readonly term: Term;
  /** The candidate this node voted for in `term`, or null. */
  readonly votedFor: NodeId | null;
  /** The highest index known committed. Persisted lazily: losing it is safe, it only speeds restarts. */
  readonly commitIndex: LogIndex;
}

/** The metadata of a snapshot that replaces the log prefix up to and including `index`. */
export interface SnapshotMeta {
  readonly index: LogIndex;
  readonly term: Term;
  /** Voting members at `index`. */
  readonly voters: readonly NodeId[];
  /** Non-voting members at `index`. */
  readonly learners: readonly NodeId[];
  /**
   * The leader timestamp of the entry at `index`, so the log's clock stays monotonic across a
   * compaction (a new leader stamps no earlier than the last entry). Absent: 0.
   */
  readonly timestampMs?: number;
  /**
   * The configuration in effect at `index`, with addresses, so they survive compaction. Absent
   * (an older snapshot): `voters`/`learners` with address ''. When present, its ids equal them.
   */
  readonly membership?: Membership;
}

export interface RequestVote {
  readonly type: 'requestVote';
  readonly from: NodeId;
  readonly to: NodeId;
  /** For a pre-vote, the term the candidate WOULD campaign in; the receiver's term never changes. */
  readonly term: Term;
  readonly lastLogIndex: LogIndex;
  readonly lastLogTerm: Term;
  readonly preVote: boolean;
  /**
   * The candidate campaigns because the leader told it to (TimeoutNow, leadership transfer):
   * voters grant it even inside a leader lease, as the leader itself asked. Absent: false.
   */
  readonly leadershipTransfer?: boolean;
}

export interface RequestVoteResponse {
  readonly type: 'requestVoteResponse';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  readonly voteGranted: boolean;
  readonly preVote: boolean;
}

export interface AppendEntries {
  readonly type: 'appendEntries';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  readonly prevLogIndex: LogIndex;
  readonly prevLogTerm: Term;
  readonly entries: readonly LogEntry[];
  readonly leaderCommit: LogIndex;
  /**
   * The leader's heartbeat round when it sent this (0 = none). Echoed in the response; a read
   * registered at round r is confirmed once a quorum has echoed a round >= r (ReadIndex).
   */
  readonly round: number;
}

export interface AppendEntriesResponse {
  readonly type: 'appendEntriesResponse';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  readonly success: boolean;
  /** On success: the last index the follower holds that matches the leader's log. */
  readonly matchIndex: LogIndex;
  /** On rejection: the follower's term at prevLogIndex, or 0 when its log is shorter. */
  readonly conflictTerm: Term;
  /** On rejection: the first index the follower holds of conflictTerm, or its last index + 1. */
  readonly conflictIndex: LogIndex;
  /** Echo of the request's prevLogIndex, so the leader can discard stale responses. */
  readonly prevLogIndex: LogIndex;
  /** Echo of the request's entry count. */
  readonly entryCount: number;
  /** Echo of the request's round. */
  readonly round: number;
}

/**
 * The leader tells a follower that lags below its compacted log to install snapshot `meta`. The
 * core carries only the metadata: the transport streams the snapshot bytes from the store in
 * bounded chunks and steps this message once they have all arrived (the driver holds the bytes
 * and installs them when the Ready carries `snapshot`).
 */
export interface InstallSnapshot {
  readonly type: 'installSnapshot';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  readonly meta: SnapshotMeta;
}

export interface InstallSnapshotResponse {
  readonly type: 'installSnapshotResponse';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
  /** The follower holds the snapshot (or a longer committed prefix); false: the transfer failed. */
  readonly success: boolean;
  /** Echo of the snapshot index this answers (stale answers to an older transfer are dropped). */
  readonly snapshotIndex: LogIndex;
  /** On success: the last index the follower now holds that matches the leader's log. */
  readonly matchIndex: LogIndex;
}

/**
 * Leadership transfer: the leader tells a follower whose log is as up to date as its own to start
 * a real election at once (no pre-vote, no waiting for its timeout).
 */
export interface TimeoutNow {
  readonly type: 'timeoutNow';
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: Term;
}

/**
 * The one message union. Every `switch (message.type)` over it ends in `assertNever`, so adding
 * a message type (InstallSnapshot, TimeoutNow, ReadIndex...) is a compile error everywhere it is
 * not handled yet.
 */
export type Message =
  | RequestVote
  | RequestVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | InstallSnapshot
  | InstallSnapshotResponse
  | TimeoutNow;
export type MessageType = Message['type'];

/** Public view of the node's role, for status reporting. */
export type RoleKind = 'follower' | 'candidate' | 'leader';

/** A follower's replication progress as seen by the leader (status reporting). */
export interface FollowerStatus {
  readonly id: NodeId;
  readonly matchIndex: LogIndex;
  readonly nextIndex: LogIndex;
  readonly state: 'probe' | 'replicate' | 'snapshot';
}

/**
 * One batch of work for the driver, in this order:
 *  1. persist `hardState` (if set) and `entries` (they may start at or below the stored last index:
 *     the stored suffix from `entries[0].index` on is replaced) — durably. Write the entries
 *     before the hard state (or both atomically): a crash between them must not leave a commit
 *     index that covers a conflicting suffix the entries were replacing;
 *  2. only then send `messages`;
 *  3. apply `committed` in order (they are already in storage, or in `entries` of this batch).
 * The driver then calls `advance(ready)`.
 */
export interface Ready {
  /**
   * A snapshot received from the leader to install first of all (step 0): save it durably with
   * the bytes the transport delivered for it, drop the stored log it conflicts with (or keep the
   * suffix after it when the entry at its index has its term) and restore the state machine from
   * it. `entries` then start after it and `committed` continues from its index.
   */
  readonly snapshot: SnapshotMeta | null;
  readonly hardState: HardState | null;
  readonly entries: readonly LogEntry[];
  readonly messages: readonly Message[];
  readonly committed: readonly LogEntry[];
  /** ReadIndex requests the leader has confirmed: serve each once applied >= index. */
  readonly readStates: readonly ReadState[];
}

/** A confirmed linearizable read point (Raft §6.4). */
export interface ReadState {
  /** The id the driver passed to `readIndex()`. */
  readonly requestId: string;
  /** The commit index at the time of the request; a read is served once applied >= it. */
  readonly index: LogIndex;
}

/**
 * Read access to what the node has persisted, used to build a RaftNode on start and by the log
 * for entries it no longer keeps in memory. Writes go through the driver (persist the Ready), so
 * the same interface fits the in-memory store (tests, simulator) and the durable WAL.
 *
 * Designed for compaction: `firstIndex()` may be greater than 1, in which case `snapshot()`
 * describes what replaced the entries below it and `term(firstIndex() - 1)` is the snapshot term.
 */
export interface RaftStorage {
  hardState(): HardState;
  /** The latest snapshot's metadata, or null when the log starts at index 1. */
  snapshot(): SnapshotMeta | null;
  /** Index of the first entry held (snapshot index + 1, or 1). */
  firstIndex(): LogIndex;
  /** Index of the last entry held (snapshot index when the log is empty, or 0). */
  lastIndex(): LogIndex;
  /** Term of entry `index`; for `firstIndex() - 1` the snapshot term (0 at index 0); undefined if not held. */
  term(index: LogIndex): Term | undefined;
  /** Entries in [lo, hi), lo >= firstIndex(), hi <= lastIndex() + 1. */
  entries(lo: LogIndex, hi: LogIndex): LogEntry[];
}

/**
 * The write side of a store: what the node runtime does with a Ready. `append` replaces any
 * stored suffix starting at `entries[0].index`. Nothing is durable until `sync()` resolves.
 */
export interface RaftStorageWriter {
  setHardState(hardState: HardState): void;
  append(entries: readonly LogEntry[]): void;
  sync(): Promise<void>;
}
