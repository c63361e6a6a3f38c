/**
 * A node's simulated disk. Writes (`setHardState`, `append`) land in a volatile layer that reads
 * see at once (like an OS page cache); only `syncNow()` makes them durable. `crash()` throws the
 * volatile layer away, so a node restarted after a crash sees exactly what was synced: a Ready
 * that was handed out but not yet persisted is lost with the crash.
 */
import type { HardState, LogEntry, LogIndex, RaftStorage, RaftStorageWriter, SnapshotMeta, Term } from '../../src/raft/types.js';
import { assert } from '../../src/raft/assert.js';

const emptyHardState: HardState = { term: 0, votedFor: null, commitIndex: 0 };

/** The simulated state machine: a rolling hash over every applied entry (see sim-state.ts). */
export type SimSnapshotData = string;

/** Fills the hidden prefix of a log reset by a snapshot: never read (reads stop at the snapshot). */
function placeholder(index: LogIndex): LogEntry {
  return { index, term: 0, type: 'noop', timestampMs: 0, data: new Uint8Array(0) };
}

/** In-memory storage with an explicit durability boundary, for the simulator. */
export class SimStorage implements RaftStorage, RaftStorageWriter {
  /** The log as reads see it (durable + unsynced writes). Entry i lives at [i - 1]. */
  private log: LogEntry[] = [];
  private hs: HardState = emptyHardState;
  private durableHs: HardState = emptyHardState;
  /** Length of the log at the last sync. */
  private durableLast = 0;
  /** Durable entries overwritten or truncated since the last sync, so a crash can restore them. */
  private readonly undo = new Map<LogIndex, LogEntry>();
  /** Count of syncs, for stats. */
  syncs = 0;
  /** The newest snapshot and its state: written atomically and durably (like the snapshot store). */
  private snap: SnapshotMeta | null = null;
  private snapData: SimSnapshotData | null = null;

  private snapIndex(): LogIndex {
    return this.snap?.index ?? 0;
  }

  /** The state the snapshot holds, or null without one. */
  snapshotData(): SimSnapshotData | null {
    return this.snapData;
  }

  /**
   * Saves a snapshot (a local one, or Ready.snapshot from the leader) and makes the log start
   * after it, with the core's rule: keep the suffix when the entry at meta.index has meta.term,
   * else drop the log. Durable at once, with every write before it (as DiskStorage's marker + sync).
   */
  saveSnapshot(meta: SnapshotMeta, data: SimSnapshotData): void {
    if (meta.index <= this.snapIndex()) return;
    if (this.term(meta.index) !== meta.term) {
      const kept = this.log.slice(0, Math.min(this.log.length, meta.index));
      for (let i = kept.length + 1; i <= meta.index; i++) kept.push(placeholder(i));
      this.log = kept;
    }
    this.snap = meta;
    this.snapData = data;
    this.syncNow();
  }

  hardState(): HardState {
    return this.hs;
  }

  snapshot(): SnapshotMeta | null {
    return this.snap;
  }

  firstIndex(): LogIndex {
    return this.snapIndex() + 1;
  }

  lastIndex(): LogIndex {
    return this.log.length;
  }

  term(index: LogIndex): Term | undefined {
    if (index === this.snapIndex()) return this.snap?.term ?? 0;
    if (index < this.snapIndex()) return undefined;
    return this.log[index - 1]?.term;
  }

  entries(lo: LogIndex, hi: LogIndex): LogEntry[] {
    assert(lo >= this.firstIndex() && lo <= hi && hi <= this.log.length + 1, `entries(${lo}, ${hi}) outside [1, ${this.log.length + 1}]`);
    return this.log.slice(lo - 1, hi - 1);
  }

  /** Entry `index`, or undefined when not held. */
  entry(index: LogIndex): LogEntry | undefined {
    if (index <= this.snapIndex()) return undefined;
    return this.log[index - 1];
  }

  /** The index the snapshot ends at (0 without one): entries at or below it are not readable. */
  snapshotIndex(): LogIndex {
    return this.snapIndex();
  }

  setHardState(hardState: HardState): void {
    this.hs = hardState;
  }

  /** Replace the stored suffix from `entries[0].index` on (Ready contract step 1). */
  append(entries: readonly LogEntry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    assert(first.index >= this.firstIndex() && first.index <= this.log.length + 1,
      `append at ${first.index} leaves a gap after last index ${this.log.length}`);
    for (let i = 1; i < entries.length; i++) {
      assert(entries[i]!.index === first.index + i, `append: entries not contiguous at ${entries[i]!.index}`);
    }
    for (let i = first.index; i <= Math.min(this.log.length, this.durableLast); i++) {
      if (!this.undo.has(i)) this.undo.set(i, this.log[i - 1]!);
    }
    this.log.length = first.index - 1;
    for (const e of entries) this.log.push(e);
  }

  /** Make every write so far durable. */
  syncNow(): void {
    this.durableHs = this.hs;
    this.durableLast = this.log.length;
    this.undo.clear();
    this.syncs++;
  }

  sync(): Promise<void> {
    this.syncNow();
    return Promise.resolve();
  }

  /** Whether there are writes that a crash would lose. */
  hasUnsynced(): boolean {
    return this.hs !== this.durableHs || this.undo.size > 0 || this.log.length !== this.durableLast;
  }

  /** Lose every unsynced write: the state after a power cut. */
  crash(): void {
    const restored: LogEntry[] = [];
    for (let i = 1; i <= this.durableLast; i++) {
      const e = this.undo.get(i) ?? this.log[i - 1];
      assert(e !== undefined, `sim storage lost durable entry ${i}`);
      restored.push(e);
    }
    this.log = restored;
    this.undo.clear();
    this.hs = this.durableHs;
  }
}
