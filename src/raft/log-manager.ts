/**
 * The node's log: what storage held at start plus everything appended since, kept in memory from
 * `firstIndex` on, with the commit and apply cursors and the bookkeeping of what has already been
 * handed to the driver in a Ready (so every entry is persisted and applied exactly once).
 *
 * Invariants: entries are contiguous from firstIndex; terms never decrease along the log;
 * snapshotIndex <= appliedIndex <= committedHandedOutIndex <= commitIndex <= lastIndex;
 * nothing at or below commitIndex is ever truncated.
 */
import { assert } from './assert.js';
import { initialMembership, membershipOfSnapshot } from './membership.js';
import { MembershipLog } from './membership-log.js';
import type { LogEntry, LogIndex, NodeId, RaftStorage, SnapshotMeta, Term } from './types.js';

export class LogManager {
  /** Entries from `snapshotIndex + 1` on; entries[i] has index snapshotIndex + 1 + i. */
  private readonly entriesHeld: LogEntry[];
  /**
   * The index and term the log's compacted prefix ends at: 0/0 before any compaction. Moves up
   * on `compactTo` (a local snapshot) and `installSnapshot` (one from the leader).
   */
  private snapshotIndex: LogIndex;
  private snapshotTerm: Term;
  /** The leader timestamp of the entry at snapshotIndex (0 when unknown). */
  private snapshotTimestampMs: number;
  /** A snapshot from the leader installed since the last Ready: handed out in the next one. */
  private installedSnapshot: SnapshotMeta | null = null;
  /** Highest index known committed. Invariant: never decreases; <= lastIndex. */
  private commitIndexValue: LogIndex;
  /** Highest index the driver has applied (acknowledged by advance). */
  private appliedIndexValue: LogIndex;
  /** Highest index already handed out in Ready.committed (applied once that Ready advances). */
  private committedHandedOutIndex: LogIndex;
  /** Highest index already handed out in Ready.entries; lowered when a truncation rewrites it. */
  private persistHandedOutIndex: LogIndex;
  /** The configuration along the log, kept in step with every append, truncation and compaction. */
  readonly membership: MembershipLog;

  /** `initialVoters`: the configuration when neither the snapshot nor the log holds one. */
  constructor(storage: RaftStorage, initialVoters: readonly NodeId[] = []) {
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.snapshotIndex = first - 1;
    const snapshotTerm = storage.term(this.snapshotIndex);
    assert(snapshotTerm !== undefined, `storage has no term for its snapshot index ${this.snapshotIndex}`);
    this.snapshotTerm = snapshotTerm;
    const snapshot = storage.snapshot();
    this.snapshotTimestampMs = snapshot?.timestampMs ?? 0;
    this.membership = new MembershipLog(snapshot === null ? initialMembership(initialVoters) : membershipOfSnapshot(snapshot), this.snapshotIndex);
    this.entriesHeld = last >= first ? storage.entries(first, last + 1) : [];
    this.entriesHeld.forEach((entry, offset) => {
      assert(entry.index === first + offset, `storage entry ${entry.index} out of place`);
      const previousTerm = offset === 0 ? snapshotTerm : this.entriesHeld[offset - 1]!.term;
      assert(entry.term >= previousTerm, `storage entry ${entry.index} has a decreasing term`);
      this.membership.appended(entry);
    });
    // A stored commit beyond the stored log means a torn Ready kept its hard state but lost its
    // entries (a driver that writes entries first never does that). The entries it lost may have
    // replaced a conflicting suffix we still hold, so no prefix is known to be committed: forget
    // the commit index. That is safe, as it is only a hint the leader repeats.
    const commit = storage.hardState().commitIndex;
    this.commitIndexValue = commit <= this.lastIndex() ? Math.max(commit, this.snapshotIndex) : this.snapshotIndex;
    // The in-memory state machine restarts from the snapshot: committed entries are re-applied.
    this.appliedIndexValue = this.snapshotIndex;
    this.committedHandedOutIndex = this.snapshotIndex;
    this.persistHandedOutIndex = this.lastIndex();
  }

  firstIndex(): LogIndex {
    return this.snapshotIndex + 1;
  }

  lastIndex(): LogIndex {
    return this.snapshotIndex + this.entriesHeld.length;
  }

  lastTerm(): Term {
    return this.entriesHeld.at(-1)?.term ?? this.snapshotTerm;
  }

  commitIndex(): LogIndex {
    return this.commitIndexValue;
  }

  appliedIndex(): LogIndex {
    return this.appliedIndexValue;
  }

  /** Term of entry `index`: the snapshot term at the boundary, undefined when not held. */
  term(index: LogIndex): Term | undefined {
    if (index === this.snapshotIndex) return this.snapshotTerm;
    if (index < this.snapshotIndex || index > this.lastIndex()) return undefined;
    return this.entriesHeld[index - this.snapshotIndex - 1]!.term;
  }

  entry(index: LogIndex): LogEntry | undefined {
    if (index <= this.snapshotIndex) return undefined;
    return this.entriesHeld[index - this.snapshotIndex - 1];
  }

  /** The leader timestamp of entry `index`, including the compacted boundary; 0 when unknown. */
  timestampAt(index: LogIndex): number {
    if (index === this.snapshotIndex) return this.snapshotTimestampMs;
    return this.entry(index)?.timestampMs ?? 0;
  }

  /** True when the log holds an entry at `index` of `term` (index 0 / the snapshot boundary included). */
  matchTerm(index: LogIndex, term: Term): boolean {
    return this.term(index) === term;
  }

  /** The election restriction (§5.4.1): is a log ending at (lastIndex, lastTerm) at least as up to date? */
  isUpToDate(lastIndex: LogIndex, lastTerm: Term): boolean {
    return lastTerm > this.lastTerm() || (lastTerm === this.lastTerm() && lastIndex >= this.lastIndex());
  }

  /**
   * Entries in [lo, hi) bounded by count and bytes (always at least one if lo < hi, so a huge
   * entry still goes out on its own).
   */
  slice(lo: LogIndex, hi: LogIndex, countMax: number, bytesMax: number): LogEntry[] {
    assert(lo > this.snapshotIndex, `entry ${lo} is compacted`);
    const end = Math.min(hi, this.lastIndex() + 1, lo + countMax);
    const out: LogEntry[] = [];
    let bytes = 0;
    for (let index = lo; index < end; index++) {
      const entry = this.entriesHeld[index - this.snapshotIndex - 1]!;
      bytes += entry.data.byteLength;
      if (out.length > 0 && bytes > bytesMax) break;
      out.push(entry);
    }
    return out;
  }

  /** The leader appends a new entry of its term at lastIndex + 1. */
  appendNew(entry: LogEntry): void {
    assert(entry.index === this.lastIndex() + 1, `append at ${entry.index}, last is ${this.lastIndex()}`);
    assert(entry.term >= this.lastTerm(), `append of term ${entry.term} after term ${this.lastTerm()}`);
    this.entriesHeld.push(entry);
    this.membership.appended(entry);
  }

  /**
   * A follower stores the entries of a matched AppendEntries: entries it already holds with the
   * same term are skipped (a duplicate must not truncate what a later append added), the first
   * conflicting entry truncates the suffix from there, and the rest is appended.
   */
  appendFromLeader(entries: readonly LogEntry[]): void {
    let skip = 0;
    for (const entry of entries) {
      if (entry.index > this.lastIndex() || !this.matchTerm(entry.index, entry.term)) break;
      skip++;
    }
    const fresh = entries.slice(skip);
    const head = fresh[0];
    if (head === undefined) return;
    if (head.index <= this.lastIndex()) this.truncateFrom(head.index);
    for (const entry of fresh) this.appendNew(entry);
  }

  /** Drops entries from `index` on. Committed entries are never dropped (Raft safety). */
  private truncateFrom(index: LogIndex): void {
    assert(index > this.commitIndexValue, `truncation at ${index} at or below commitIndex ${this.commitIndexValue}`);
    assert(index > this.snapshotIndex, `truncation at ${index} inside the snapshot`);
    this.entriesHeld.length = index - this.snapshotIndex - 1;
    this.membership.truncatedFrom(index);
    // The rewritten suffix must be persisted again, replacing what the driver stored.
    this.persistHandedOutIndex = Math.min(this.persistHandedOutIndex, index - 1);
  }

  /** Advances commitIndex (never backwards, never past the log). Returns true if it moved. */
  commitTo(index: LogIndex): boolean {
    if (index <= this.commitIndexValue) return false;
    assert(index <= this.lastIndex(), `commit ${index} beyond last index ${this.lastIndex()}`);
    this.commitIndexValue = index;
    return true;
  }

  /**
   * Binary search, using that terms never decrease along the log: the last index holding an
   * entry of `term` at or below `atMost`, or 0 if the log holds none.
   */
  lastIndexOfTerm(term: Term, atMost: LogIndex): LogIndex {
    let lo = this.snapshotIndex;
    let hi = Math.min(atMost, this.lastIndex());
    if (hi < lo) return 0;
    // Find the largest index in [lo, hi] whose term <= `term`.
    if ((this.term(lo) ?? 0) > term) return 0;
    while (lo < hi) {
      const mid = Math.ceil((lo + hi) / 2);
      if ((this.term(mid) ?? 0) <= term) lo = mid;
      else hi = mid - 1;
    }
    return this.term(lo) === term && lo > 0 ? lo : 0;
  }

  /** The first index held whose term is `term` at or below `atMost` (the follower's conflict hint). */
  firstIndexOfTerm(term: Term, atMost: LogIndex): LogIndex {
    assert(this.term(atMost) === term, `entry ${atMost} is not of term ${term}`);
    let lo = Math.max(this.firstIndex(), 1);
    let hi = atMost;
    // Find the smallest index in [lo, hi] whose term >= `term`; terms are sorted.
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      if ((this.term(mid) ?? 0) >= term) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  /**
   * The last index persisted by Readies already advanced (call only with no Ready outstanding):
   * everything up to here is durable and, up to commitIndex, never rewritten.
   */
  persistedIndex(): LogIndex {
    return this.persistHandedOutIndex;
  }

  /** Entries not yet handed to the driver for persistence (handed out by this call). */
  takeUnpersisted(): LogEntry[] {
    const from = this.persistHandedOutIndex + 1;
    const out = this.entriesHeld.slice(from - this.snapshotIndex - 1);
    this.persistHandedOutIndex = this.lastIndex();
    return out;
  }

  hasUnpersisted(): boolean {
    return this.persistHandedOutIndex < this.lastIndex();
  }

  /** Committed entries not yet handed to the driver for applying (handed out by this call). */
  takeCommitted(): LogEntry[] {
    const from = this.committedHandedOutIndex + 1;
    const out = this.entriesHeld.slice(from - this.snapshotIndex - 1, this.commitIndexValue - this.snapshotIndex);
    this.committedHandedOutIndex = this.commitIndexValue;
    return out;
  }

  hasCommittedToHandOut(): boolean {
    return this.committedHandedOutIndex < this.commitIndexValue;
  }

  /**
   * Drops the in-memory entries up to and including `index` (a snapshot covers them and the
   * storage holds them or the snapshot). Only applied entries go: they are durable and final.
   */
  compactTo(index: LogIndex): void {
    if (index <= this.snapshotIndex) return;
    assert(index <= this.appliedIndexValue, `compaction to ${index} beyond applied ${this.appliedIndexValue}`);
    const term = this.term(index);
    assert(term !== undefined, `no term for compaction index ${index}`);
    this.snapshotTimestampMs = this.timestampAt(index);
    this.membership.compactedTo(index);
    this.entriesHeld.splice(0, index - this.snapshotIndex);
    this.snapshotIndex = index;
    this.snapshotTerm = term;
  }

  /**
   * Makes the log start after the leader's snapshot `meta` (meta.index > commitIndex). When the
   * entry at meta.index has meta.term the suffix after it is kept (it matches the leader up to
   * there); otherwise the whole log is dropped, as it conflicts with or does not reach the snapshot.
   * Everything up to meta.index is then committed and, once the Ready installs it, applied.
   */
  installSnapshot(meta: SnapshotMeta): void {
    assert(meta.index > this.commitIndexValue, `snapshot ${meta.index} at or below commitIndex ${this.commitIndexValue}`);
    if (this.term(meta.index) === meta.term) {
      this.entriesHeld.splice(0, meta.index - this.snapshotIndex);
    } else {
      this.entriesHeld.length = 0;
      this.membership.truncatedFrom(this.snapshotIndex + 1);
      // Nothing above the snapshot survives: whatever was handed out there is rewritten later.
      this.persistHandedOutIndex = meta.index;
    }
    this.membership.snapshotInstalled(meta.index, membershipOfSnapshot(meta));
    this.snapshotIndex = meta.index;
    this.snapshotTerm = meta.term;
    this.snapshotTimestampMs = meta.timestampMs ?? 0;
    this.persistHandedOutIndex = Math.max(this.persistHandedOutIndex, meta.index);
    this.commitIndexValue = meta.index;
    this.committedHandedOutIndex = meta.index;
    this.appliedIndexValue = meta.index;
    this.installedSnapshot = meta;
  }

  /** The snapshot installed since the last Ready, if any (handed out by this call). */
  takeInstalledSnapshot(): SnapshotMeta | null {
    const meta = this.installedSnapshot;
    this.installedSnapshot = null;
    return meta;
  }

  hasInstalledSnapshot(): boolean {
    return this.installedSnapshot !== null;
  }

  /** The driver applied everything up to `index` (from an advanced Ready). */
  appliedTo(index: LogIndex): void {
    assert(index <= this.committedHandedOutIndex, `applied ${index} beyond what was handed out`);
    if (index > this.appliedIndexValue) this.appliedIndexValue = index;
  }
}
