/**
 * The safety checkers. The cluster reports what it observes (a persist, an apply, a node's status
 * after each step) and the checker compares it with everything seen so far in the run, across all
 * nodes and all their lifetimes. Each check is incremental, so running them after every step stays
 * cheap. A broken invariant is recorded as a Violation, never thrown: the runner decides to stop.
 *
 * The invariants (Raft paper, Figure 3, plus the extra ones):
 *  - electionSafety: at most one leader per term.
 *  - logMatching: an (index, term) pair names one entry, with one predecessor term; by induction
 *    two logs holding the same (index, term) agree on every entry up to it.
 *  - leaderCompleteness: an entry committed in term C is in the log of every leader of a term > C.
 *  - stateMachineSafety: every node applies the same entry at each index; applies are contiguous
 *    and never roll back within a node's lifetime; a committed entry is never overwritten.
 *  - commitIndex is monotonic per node lifetime and never beyond the stored log.
 *  - every leader's followers have matchIndex < nextIndex, and matchIndex never moves backwards.
 *  - hard state: the term never decreases, a vote is never changed within a term (across crashes too).
 *  - the leader-stamped clock never runs backwards along the applied log (the domain's only clock).
 *  - snapshots: a snapshot's state is the fold of exactly the entries applied up to its index, and
 *    a node that installs one continues applying right after it.
 *  - membership: a learner of its own configuration, or a node with none (a joiner), never
 *    campaigns or leads.
 *  - linearizable reads: a ReadIndex read point is at or above every index known committed when the
 *    read was requested (a deposed leader must not confirm a stale read), and comes back once.
 */
import type { HardState, LogEntry, LogIndex, NodeId, ReadState, SnapshotMeta, Term } from '../../src/raft/types.js';
import { foldEntry, initialSimState } from './sim-state.js';
import type { SimSnapshotData } from './sim-storage.js';
import type { LogView, SimNodeStatus } from './sim-types.js';

/** Every kind of broken invariant the simulator can report. */
export type ViolationKind =
  | 'electionSafety'
  | 'logMatching'
  | 'leaderCompleteness'
  | 'stateMachineSafety'
  | 'appliedRollback'
  | 'committedOverwritten'
  | 'commitMonotonic'
  | 'commitBeyondLog'
  | 'matchIndex'
  | 'hardState'
  | 'staleRead'
  | 'timestampRegressed'
  | 'liveness'
  | 'nonVoterCampaigned'
  | 'coreThrew'
  | 'readyUnsettled';

/** One broken invariant, with enough context to find it in the trace. */
export interface Violation {
  readonly kind: ViolationKind;
  readonly tick: number;
  readonly nodeId: NodeId | null;
  readonly detail: string;
}

/** Upper bound on recorded violations: after the first few the rest are usually echoes. */
export const violationsMax = 20;

/** Reads remembered while waiting for confirmation; the oldest are forgotten beyond it (a leader may drop them). */
export const readsTrackedMax = 10_000;

interface CommittedRecord {
  readonly entry: LogEntry;
  /** An upper bound on the term in which the entry became committed. */
  commitTerm: Term;
}

interface EntryRecord {
  readonly entry: LogEntry;
  readonly prevTerm: Term;
  readonly nodeId: NodeId;
}

/** What the checker remembers about one node's current lifetime. */
interface NodeTrack {
  lifetime: number;
  commitIndex: LogIndex;
  /** Commits up to here have been recorded as known-committed. */
  notedCommit: LogIndex;
  appliedNext: LogIndex;
  /** Timestamp of the last entry applied in this lifetime. */
  appliedTimestampMs: number;
  /** The term in which it was last seen leading (0 = not leading). */
  leaderTerm: Term;
  /** Per follower, the highest matchIndex reported in `leaderTerm`. */
  readonly matchSeen: Map<NodeId, LogIndex>;
  status: SimNodeStatus | null;
  log: LogView | null;
}

/** Incremental checker over one simulated run. */
export class SafetyChecker {
  readonly violations: Violation[] = [];
  /** The current virtual tick, set by the driver; stamped on violations. */
  now = 0;
  private readonly leaderOfTerm = new Map<Term, NodeId>();
  /** index -> the entries ever stored at that index (one per term). */
  private readonly entriesAt = new Map<LogIndex, EntryRecord[]>();
  /** index -> the entry known to be committed there. */
  private readonly committed = new Map<LogIndex, CommittedRecord>();
  private committedMax: LogIndex = 0;
  /** index -> the first entry any node applied there. */
  private readonly appliedAt = new Map<LogIndex, { entry: LogEntry; nodeId: NodeId }>();
  /** stateAfter[i] = the state machine after applying entries 1..i (grown on demand from appliedAt). */
  private readonly stateAfter: SimSnapshotData[] = [initialSimState];
  private readonly nodes = new Map<NodeId, NodeTrack>();
  /** requestId -> who was asked and the highest index known committed at that moment. */
  private readonly reads = new Map<string, { readonly nodeId: NodeId; readonly minIndex: LogIndex; readonly tick: number }>();

  /** True once anything was violated. */
  get failed(): boolean {
    return this.violations.length > 0;
  }

  /** Highest index known committed anywhere. */
  get highestCommitted(): LogIndex {
    return this.committedMax;
  }

  /** The entry known committed at `index`, if any. */
  committedAt(index: LogIndex): LogEntry | undefined {
    return this.committed.get(index)?.entry;
  }

  /** Record a broken invariant (bounded by violationsMax). */
  report(kind: ViolationKind, nodeId: NodeId | null, detail: string): void {
    if (this.violations.length < violationsMax) this.violations.push({ kind, tick: this.now, nodeId, detail });
  }

  /** A (re)started node: a new lifetime begins with the status the fresh node reports. */
  nodeStarted(id: NodeId, lifetime: number, status: SimNodeStatus, log: LogView): void {
    this.nodes.set(id, {
      lifetime,
      commitIndex: status.commitIndex,
      notedCommit: 0,
      appliedNext: status.lastApplied + 1,
      appliedTimestampMs: 0,
      leaderTerm: 0,
      matchSeen: new Map(),
      status,
      log,
    });
    this.observe(id, status, log);
  }

  /** A node crashed: it is no longer a leader whose log must be checked. */
  nodeCrashed(id: NodeId): void {
    const t = this.nodes.get(id);
    if (t !== undefined) {
      t.status = null;
      t.log = null;
    }
  }

  /**
   * A node wrote a Ready's hard state and entries. `before` is the hard state before the write and
   * `replaced` the stored entries the write overwrote or truncated; `log` already reflects the write.
   */
  persisted(id: NodeId, before: HardState, hardState: HardState | null, entries: readonly LogEntry[], replaced: readonly LogEntry[], log: LogView): void {
    if (hardState !== null) {
      if (hardState.term < before.term) {
        this.report('hardState', id, `term went back from ${before.term} to ${hardState.term}`);
      } else if (hardState.term === before.term && before.votedFor !== null && hardState.votedFor !== before.votedFor) {
        this.report('hardState', id, `vote changed in term ${before.term}: ${before.votedFor} -> ${String(hardState.votedFor)}`);
      }
      if (hardState.commitIndex > log.lastIndex()) {
        this.report('commitBeyondLog', id, `persisted commitIndex ${hardState.commitIndex} beyond last index ${log.lastIndex()}`);
      }
    }
    // Truncation must never remove or replace a committed entry.
    for (const old of replaced) {
      const c = this.committed.get(old.index);
      const now = log.entry(old.index);
      if (c !== undefined && sameEntry(c.entry, old) && (now === undefined || !sameEntry(old, now))) {
        this.report('committedOverwritten', id, `committed ${fmtEntry(old)} replaced by ${now === undefined ? 'nothing' : fmtEntry(now)} (log now ends at ${log.lastIndex()})`);
        break;
      }
    }
    for (const e of entries) this.noteStored(id, e, log.term(e.index - 1) ?? -1);
  }

  /** A node applied `entries` (a Ready's committed batch), in order. */
  applied(id: NodeId, entries: readonly LogEntry[], log: LogView): void {
    const t = this.nodes.get(id);
    if (t === undefined) return;
    for (const e of entries) {
      if (e.index !== t.appliedNext) {
        this.report('appliedRollback', id, `applied index ${e.index} but the next to apply was ${t.appliedNext}`);
      }
      t.appliedNext = e.index + 1;
      if (e.timestampMs < t.appliedTimestampMs) {
        this.report('timestampRegressed', id, `applied ${fmtEntry(e)} stamped ${e.timestampMs} ms after an entry stamped ${t.appliedTimestampMs} ms`);
      }
      t.appliedTimestampMs = Math.max(t.appliedTimestampMs, e.timestampMs);
      const stored = log.entry(e.index);
      if (stored === undefined || !sameEntry(stored, e)) {
        this.report('stateMachineSafety', id, `applied ${fmtEntry(e)} but storage holds ${stored === undefined ? 'nothing' : fmtEntry(stored)}`);
      }
      const first = this.appliedAt.get(e.index);
      if (first === undefined) {
        this.appliedAt.set(e.index, { entry: e, nodeId: id });
      } else if (!sameEntry(first.entry, e)) {
        this.report('stateMachineSafety', id, `applied ${fmtEntry(e)} but ${first.nodeId} applied ${fmtEntry(first.entry)}`);
      }
    }
  }

  /** `id` saved a snapshot of its own state at meta.index. */
  snapshotTaken(id: NodeId, meta: SnapshotMeta, data: SimSnapshotData): void {
    this.checkSnapshot(id, meta, data, 'took');
  }

  /** `id` installed the leader's snapshot (Ready.snapshot): it applies from meta.index + 1 on. */
  snapshotInstalled(id: NodeId, meta: SnapshotMeta, data: SimSnapshotData): void {
    this.checkSnapshot(id, meta, data, 'installed');
    const t = this.nodes.get(id);
    if (t === undefined) return;
    if (meta.index < t.appliedNext - 1) {
      this.report('appliedRollback', id, `installed snapshot ${meta.index} below applied ${t.appliedNext - 1}`);
    }
    t.appliedNext = meta.index + 1;
  }

  private checkSnapshot(id: NodeId, meta: SnapshotMeta, data: SimSnapshotData, verb: string): void {
    const expected = this.stateAt(meta.index);
    if (expected === null) {
      this.report('stateMachineSafety', id, `${verb} snapshot ${meta.index}/${meta.term} covering entries no node applied`);
    } else if (expected !== data) {
      this.report('stateMachineSafety', id, `${verb} snapshot ${meta.index}/${meta.term} with state ${data}, the applied entries give ${expected}`);
    }
  }

  /** The state after the entries applied at 1..index, or null if one of them was never applied. */
  private stateAt(index: LogIndex): SimSnapshotData | null {
    while (this.stateAfter.length <= index) {
      const next = this.appliedAt.get(this.stateAfter.length);
      if (next === undefined) return null;
      this.stateAfter.push(foldEntry(this.stateAfter.at(-1)!, next.entry));
    }
    return this.stateAfter[index]!;
  }

  /** A client asked `id` for a read point; it must not be older than anything committed by now. */
  readRequested(id: NodeId, requestId: string): void {
    if (this.reads.size >= readsTrackedMax) {
      const oldest = this.reads.keys().next();
      if (oldest.done !== true) this.reads.delete(oldest.value);
    }
    this.reads.set(requestId, { nodeId: id, minIndex: this.committedMax, tick: this.now });
  }

  /** `id` confirmed a read point (a Ready's readStates). */
  readConfirmed(id: NodeId, rs: ReadState, log: LogView): void {
    const req = this.reads.get(rs.requestId);
    if (req === undefined) {
      this.report('staleRead', id, `read ${rs.requestId} confirmed but never requested, or confirmed twice`);
      return;
    }
    this.reads.delete(rs.requestId);
    if (req.nodeId !== id) {
      this.report('staleRead', id, `read ${rs.requestId} asked of ${req.nodeId} but confirmed by ${id}`);
    } else if (rs.index < req.minIndex) {
      this.report('staleRead', id, `read ${rs.requestId} (asked at t=${req.tick}) confirmed at index ${rs.index}, but ${req.minIndex} was already committed`);
    } else if (rs.index > log.lastIndex()) {
      this.report('staleRead', id, `read ${rs.requestId} confirmed at index ${rs.index} beyond the log (${log.lastIndex()})`);
    }
  }

  /** After each step: what a live node reports, and its (synced) log. */
  observe(id: NodeId, status: SimNodeStatus, log: LogView): void {
    const t = this.nodes.get(id);
    if (t === undefined) return;
    t.status = status;
    t.log = log;
    if (status.commitIndex < t.commitIndex) {
      this.report('commitMonotonic', id, `commitIndex went back from ${t.commitIndex} to ${status.commitIndex}`);
    }
    t.commitIndex = status.commitIndex;
    if (status.commitIndex > log.lastIndex()) {
      this.report('commitBeyondLog', id, `commitIndex ${status.commitIndex} beyond stored last index ${log.lastIndex()}`);
    }
    if (status.lastApplied > status.commitIndex) {
      this.report('commitBeyondLog', id, `lastApplied ${status.lastApplied} beyond commitIndex ${status.commitIndex}`);
    }
    // Entries up to commitIndex are committed; the node's term bounds the term they were committed in.
    for (let i = t.notedCommit + 1; i <= Math.min(status.commitIndex, log.lastIndex()); i++) {
      const e = log.entry(i);
      if (e !== undefined) this.noteCommitted(id, e, status.term);
    }
    t.notedCommit = Math.max(t.notedCommit, status.commitIndex);
    if (status.role !== 'follower' && (status.membership.voters.length === 0 || status.membership.learners.some((m) => m.id === id))) {
      this.report('nonVoterCampaigned', id, `${status.role} in term ${status.term} while ${status.membership.voters.length === 0 ? 'it has no configuration' : 'a learner'}`);
    }
    if (status.role === 'leader') {
      this.observeLeader(id, t, status, log);
    } else {
      t.leaderTerm = 0;
    }
  }

  /**
   * `id` sent an AppendEntries in `term`: only the leader of a term does, so this catches a leader
   * that came and went within one step, between two observations.
   */
  sentAsLeader(id: NodeId, term: Term): void {
    this.claimLeadership(id, term);
  }

  private claimLeadership(id: NodeId, term: Term): void {
    const holder = this.leaderOfTerm.get(term);
    if (holder === undefined) {
      this.leaderOfTerm.set(term, id);
    } else if (holder !== id) {
      this.report('electionSafety', id, `two leaders in term ${term}: ${holder} and ${id}`);
    }
  }

  private observeLeader(id: NodeId, t: NodeTrack, status: SimNodeStatus, log: LogView): void {
    this.claimLeadership(id, status.term);
    if (t.leaderTerm !== status.term) {
      t.leaderTerm = status.term;
      t.matchSeen.clear();
      // A new leadership: it must hold every entry committed in an earlier term.
      for (const [index, c] of this.committed) {
        if (c.commitTerm < status.term) this.checkHolds(id, status.term, log, index, c.entry);
      }
    }
    for (const f of status.followers) {
      if (f.matchIndex >= f.nextIndex) {
        this.report('matchIndex', id, `follower ${f.id}: matchIndex ${f.matchIndex} >= nextIndex ${f.nextIndex}`);
      }
      if (f.matchIndex > status.lastLogIndex) {
        this.report('matchIndex', id, `follower ${f.id}: matchIndex ${f.matchIndex} beyond leader's last index ${status.lastLogIndex}`);
      }
      const seen = t.matchSeen.get(f.id) ?? 0;
      if (f.matchIndex < seen) {
        this.report('matchIndex', id, `follower ${f.id}: matchIndex went back from ${seen} to ${f.matchIndex} in term ${status.term}`);
      }
      t.matchSeen.set(f.id, Math.max(seen, f.matchIndex));
    }
  }

  private noteCommitted(id: NodeId, e: LogEntry, termBound: Term): void {
    const c = this.committed.get(e.index);
    if (c !== undefined) {
      if (!sameEntry(c.entry, e)) {
        this.report('stateMachineSafety', id, `${id} committed ${fmtEntry(e)} but ${fmtEntry(c.entry)} was committed there before`);
      } else if (termBound < c.commitTerm) {
        c.commitTerm = termBound;
      }
      return;
    }
    this.committed.set(e.index, { entry: e, commitTerm: termBound });
    if (e.index > this.committedMax) this.committedMax = e.index;
    // Leaders already in office for a later term must hold it too.
    for (const [leaderId, lt] of this.nodes) {
      if (lt.status?.role === 'leader' && lt.log !== null && lt.status.term > termBound) {
        this.checkHolds(leaderId, lt.status.term, lt.log, e.index, e);
      }
    }
  }

  private checkHolds(leaderId: NodeId, term: Term, log: LogView, index: LogIndex, e: LogEntry): void {
    // Compacted: the leader's snapshot holds it (snapshots are checked against the applied entries).
    if (index <= log.snapshotIndex()) return;
    const held = log.entry(index);
    if (held === undefined || !sameEntry(held, e)) {
      this.report('leaderCompleteness', leaderId, `leader of term ${term} lacks committed ${fmtEntry(e)} (holds ${held === undefined ? 'nothing' : fmtEntry(held)})`);
    }
  }

  private noteStored(id: NodeId, e: LogEntry, prevTerm: Term): void {
    let recs = this.entriesAt.get(e.index);
    if (recs === undefined) {
      recs = [];
      this.entriesAt.set(e.index, recs);
    }
    const same = recs.find((r) => r.entry.term === e.term);
    if (same === undefined) {
      recs.push({ entry: e, prevTerm, nodeId: id });
      return;
    }
    if (!sameEntry(same.entry, e)) {
      this.report('logMatching', id, `${id} stored ${fmtEntry(e)} but ${same.nodeId} stored ${fmtEntry(same.entry)} at the same index and term`);
    } else if (same.prevTerm !== prevTerm) {
      this.report('logMatching', id, `${id} stored ${fmtEntry(e)} after term ${prevTerm}, ${same.nodeId} after term ${same.prevTerm}`);
    }
  }
}

/** Entries are equal when index, term, type, timestamp and bytes all are. */
export function sameEntry(a: LogEntry, b: LogEntry): boolean {
  if (a === b) return true;
  if (a.index !== b.index || a.term !== b.term || a.type !== b.type || a.timestampMs !== b.timestampMs) return false;
  if (a.data.length !== b.data.length) return false;
  for (let i = 0; i < a.data.length; i++) if (a.data[i] !== b.data[i]) return false;
  return true;
}

/** `5/2:command(8B)` — index/term:type(size). */
export function fmtEntry(e: LogEntry): string {
  return `${e.index}/${e.term}:${e.type}(${e.data.length}B)`;
}
