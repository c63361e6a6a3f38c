/**
 * An in-memory RaftStorage for tests and the simulator. Writes are visible at once and `sync()`
 * resolves immediately; a simulator that models lost unsynced writes wraps it (or clones it at
 * its last sync point with `clone()`).
 */
import { assert } from './assert.js';
import type { HardState, LogEntry, LogIndex, RaftStorage, RaftStorageWriter, Ready, SnapshotMeta, Term } from './types.js';

export class MemoryStorage implements RaftStorage, RaftStorageWriter {
  private hardStateValue: HardState = { term: 0, votedFor: null, commitIndex: 0 };
  private snapshotMeta: SnapshotMeta | null;
  /** Entries from snapshotIndex + 1 on. */
  private log: LogEntry[] = [];

  /** Starts empty, or (compaction) after `snapshot`, with the log beginning at snapshot.index + 1. */
  constructor(snapshot: SnapshotMeta | null = null) {
    this.snapshotMeta = snapshot;
    if (snapshot !== null) this.hardStateValue = { term: snapshot.term, votedFor: null, commitIndex: snapshot.index };
  }

  private snapshotIndex(): LogIndex {
    return this.snapshotMeta?.index ?? 0;
  }

  hardState(): HardState {
    return this.hardStateValue;
  }

  snapshot(): SnapshotMeta | null {
    return this.snapshotMeta;
  }

  firstIndex(): LogIndex {
    return this.snapshotIndex() + 1;
  }

  lastIndex(): LogIndex {
    return this.snapshotIndex() + this.log.length;
  }

  term(index: LogIndex): Term | undefined {
    if (index === this.snapshotIndex()) return this.snapshotMeta?.term ?? 0;
    return this.log[index - this.snapshotIndex() - 1]?.term;
  }

  entries(lo: LogIndex, hi: LogIndex): LogEntry[] {
    assert(lo >= this.firstIndex() && hi <= this.lastIndex() + 1 && lo <= hi, `entries [${lo}, ${hi}) out of range`);
    return this.log.slice(lo - this.snapshotIndex() - 1, hi - this.snapshotIndex() - 1);
  }

  setHardState(hardState: HardState): void {
    this.hardStateValue = hardState;
  }

  /** Replaces the stored suffix from `entries[0].index` on. */
  append(entries: readonly LogEntry[]): void {
    const head = entries[0];
    if (head === undefined) return;
    assert(head.index >= this.firstIndex(), `append at ${head.index} below first index ${this.firstIndex()}`);
    assert(head.index <= this.lastIndex() + 1, `append at ${head.index} leaves a gap after ${this.lastIndex()}`);
    entries.forEach((entry, offset) => assert(entry.index === head.index + offset, 'appended entries must be contiguous'));
    this.log.length = head.index - this.snapshotIndex() - 1;
    this.log.push(...entries);
  }

  /**
   * Makes the log start after snapshot `meta` (a local snapshot, or Ready.snapshot from the
   * leader), with the core's rule: the suffix after it survives when the entry at meta.index has
   * meta.term, otherwise the whole log goes. An older snapshot than the current one is ignored.
   */
  applySnapshot(meta: SnapshotMeta): void {
    if (meta.index <= this.snapshotIndex()) return;
    this.log = this.term(meta.index) === meta.term ? this.log.slice(meta.index - this.snapshotIndex()) : [];
    this.snapshotMeta = meta;
  }

  sync(): Promise<void> {
    return Promise.resolve();
  }

  /** The synchronous driver step 1: persist a Ready's entries, then its hard state (the safe order). */
  persist(ready: Ready): void {
    if (ready.snapshot !== null) this.applySnapshot(ready.snapshot);
    this.append(ready.entries);
    if (ready.hardState !== null) this.setHardState(ready.hardState);
  }

  /** An independent copy (entries are immutable, so they are shared). */
  clone(): MemoryStorage {
    const copy = new MemoryStorage(this.snapshotMeta);
    copy.hardStateValue = this.hardStateValue;
    copy.log = [...this.log];
    return copy;
  }
}
