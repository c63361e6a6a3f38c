/**
 * The durable `RaftStorage`: a CRC'd, segmented WAL with group commit, plus a snapshot store,
 * behind the same read interface as the in-memory store. Every read is served synchronously from
 * an in-memory copy of the log; writes are staged in memory and on their way to disk at once,
 * and are durable only when `sync()` resolves (the node runtime sends nothing before that).
 *
 * Layout of `dir`: `wal-<seq>.log` segments, `snap/snap-<index>-<term>.snap` snapshots and a
 * `LOCK` file naming the process that has it open (dir-lock.ts).
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../raft/assert.js';
import type { HardState, LogEntry, LogIndex, RaftStorage, RaftStorageWriter, SnapshotMeta, Term } from '../raft/types.js';
import type { EntryLog } from './entry-log.js';
import { lockDataDir, type DirLock } from './dir-lock.js';
import { SnapshotStore, type Snapshot } from './snapshot-store.js';
import type { StorageWarn } from './storage-warning.js';
import { WalCorruptionError } from './wal-errors.js';
import { encodeRecord } from './wal-record.js';
import { replayWal } from './wal-replay.js';
import { segmentBytesDefault, WalWriter, type SegmentState, type WalCounters, type WalFaultHooks } from './wal-writer.js';

/** How to open a DiskStorage; every field has a default. */
export interface DiskStorageOptions {
  /** Roll over to a new segment once the active one reaches this many bytes (default 64 MiB). */
  readonly segmentBytes?: number;
  /** Snapshots kept on disk (default 2). */
  readonly snapshotsKept?: number;
  /** Receives recovery and housekeeping warnings (torn tail cut, bad snapshot skipped...). */
  readonly warn?: StorageWarn;
  /** Test-only I/O fault injection. */
  readonly faults?: WalFaultHooks;
}

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.votedFor === b.votedFor && a.commitIndex === b.commitIndex;
}

/**
 * The durable store: `open()` it, use it as the node's RaftStorage + RaftStorageWriter, await
 * `sync()` before sending, `saveSnapshot()` to compact, `close()` on shutdown.
 */
export class DiskStorage implements RaftStorage, RaftStorageWriter {
  private appended = 0;
  private snapshotting: Promise<void> = Promise.resolve();

  private constructor(
    /** The directory this store owns. */
    readonly dir: string,
    private readonly log: EntryLog,
    private hs: HardState,
    private snapMeta: SnapshotMeta | null,
    private readonly wal: WalWriter,
    private readonly snapshots: SnapshotStore,
    private readonly lock: DirLock,
  ) {}

  /**
   * Opens (creating if needed) the store in `dir` and recovers it: replays the WAL, cuts a torn
   * tail, applies the newest snapshot. Throws WalCorruptionError when the log is damaged.
   */
  static async open(dir: string, options: DiskStorageOptions = {}): Promise<DiskStorage> {
    await mkdir(dir, { recursive: true });
    const lock = await lockDataDir(dir);
    try {
      return await DiskStorage.recover(dir, options, lock);
    } catch (e) {
      await lock.release();
      throw e;
    }
  }

  private static async recover(dir: string, options: DiskStorageOptions, lock: DirLock): Promise<DiskStorage> {
    const warn = options.warn ?? (() => undefined);
    const snapshots = await SnapshotStore.open(join(dir, 'snap'), { kept: options.snapshotsKept, warn });
    const replay = await replayWal(dir, warn);
    const log = replay.log;
    const snap = snapshots.latest();
    let resetBySnapshot = false;
    if (snap !== null) {
      if (replay.started && log.first() - 1 > snap.index) {
        throw new WalCorruptionError(replay.firstSegment ?? dir, 0, `log starts at ${log.first()} but the newest snapshot ends at ${snap.index}`);
      }
      if (!replay.started) log.reset(snap.index + 1, snap.term);
      else {
        const { reset, dropped } = log.applySnapshot(snap.index, snap.term);
        if (dropped > 0) warn({ kind: 'logDiscardedBySnapshot', snapshotIndex: snap.index, entriesDropped: dropped });
        // A reset (conflict, or a snapshot past the log's end) must reach the WAL before any
        // append that follows it, or a later replay would see the old entries and then a gap.
        resetBySnapshot = reset;
      }
    } else if (replay.started && log.first() > 1) {
      throw new WalCorruptionError(replay.firstSegment ?? dir, 0, `log starts at ${log.first()} and no snapshot covers the entries before it`);
    }
    const wal = await WalWriter.open({
      dir,
      segmentBytes: options.segmentBytes ?? segmentBytesDefault,
      segments: replay.segments,
      hardStateRecord: replay.hardStateRecord,
      durableIndex: log.last(),
      faults: options.faults,
    });
    const storage = new DiskStorage(dir, log, replay.hardState, snap, wal, snapshots, lock);
    if (resetBySnapshot && snap !== null) {
      storage.stageSnapshotMarker(snap);
      await storage.sync();
    }
    return storage;
  }

  // ---- RaftStorage (reads) ----

  hardState(): HardState {
    return this.hs;
  }

  snapshot(): SnapshotMeta | null {
    return this.snapMeta;
  }

  firstIndex(): LogIndex {
    return this.log.first();
  }

  lastIndex(): LogIndex {
    return this.log.last();
  }

  term(index: LogIndex): Term | undefined {
    return this.log.term(index);
  }

  entries(lo: LogIndex, hi: LogIndex): LogEntry[] {
    return this.log.slice(lo, hi);
  }

  // ---- RaftStorageWriter ----

  setHardState(hardState: HardState): void {
    if (sameHardState(hardState, this.hs)) return;
    this.hs = hardState;
    this.wal.stage(encodeRecord({ kind: 'hardState', hardState }), this.log.last(), null, 0, true);
  }

  /** Appends entries, replacing any stored suffix from `entries[0].index` on. */
  append(entries: readonly LogEntry[]): void {
    const head = entries[0];
    if (head === undefined) return;
    const first = this.log.first();
    const last = this.log.last();
    if (!(head.index >= first && head.index <= last + 1)) assert(false, `append at ${head.index} outside [${first}, ${last + 1}]`);
    if (head.index <= last) {
      this.log.truncateFrom(head.index);
      this.wal.stage(encodeRecord({ kind: 'truncate', nextIndex: head.index }), head.index - 1, head.index - 1, head.index - 1, false);
    }
    for (const e of entries) {
      this.log.push(e);
      this.wal.stage(encodeRecord({ kind: 'entry', entry: e }), e.index, null, e.index, false);
    }
    this.appended += entries.length;
  }

  /** Resolves once every write staged before this call is on disk (group commit). */
  sync(): Promise<void> {
    return this.wal.sync();
  }

  // ---- snapshots and compaction ----

  /**
   * Saves a snapshot durably, then makes the log start after it: a local snapshot keeps the
   * entries above its index; one the log conflicts with or does not reach (installed from the
   * leader) drops them all. Then deletes the WAL segments wholly at or below its index.
   */
  async saveSnapshot(snapshot: Snapshot): Promise<void> {
    // One at a time: a second call waits, then sees the first's snapshot and skips if older.
    const run = this.snapshotting.then(() => this.saveSnapshotNow(snapshot));
    this.snapshotting = run.catch(() => undefined);
    return run;
  }

  private async saveSnapshotNow(snapshot: Snapshot): Promise<void> {
    const meta = snapshot.meta;
    if (this.snapMeta !== null && meta.index <= this.snapMeta.index) return;
    await this.snapshots.save(snapshot);
    this.snapMeta = meta;
    // Start a new segment with the marker, so the ones before it go whole at the next snapshot.
    const rolled = this.wal.rollAtSnapshot();
    // Re-log the hard state next to the marker: the segments about to go may hold the only copy
    // (a rollover whose hard-state prefix was torn off leaves a segment without one).
    this.wal.stage(encodeRecord({ kind: 'hardState', hardState: this.hs }), this.log.last(), null, 0, true);
    this.stageSnapshotMarker(meta);
    if (rolled) this.relogAbove(meta.index);
    await this.sync();
    await this.wal.deleteSegmentsThrough(meta.index);
  }

  /** The newest readable snapshot with its data (on start, to restore the state machine). */
  loadSnapshot(): Promise<Snapshot | null> {
    return this.snapshots.loadLatest();
  }

  // ---- observability ----

  /** Highest index such that the log up to it is durable. */
  get durableIndex(): LogIndex {
    return this.wal.durableIndex;
  }

  /** fdatasync calls on WAL segments so far. */
  get fsyncCount(): number {
    return this.wal.counters.fsyncCount;
  }

  /** Entries appended through `append` since open. */
  get appendCount(): number {
    return this.appended;
  }

  /** All WAL counters (flushes, dir syncs, bytes). */
  get counters(): Readonly<WalCounters> {
    return this.wal.counters;
  }

  /** The WAL segments, oldest first. */
  segments(): readonly SegmentState[] {
    return this.wal.segmentList();
  }

  /** Waits for an in-flight flush, then closes files. Unsynced writes are dropped. */
  async close(): Promise<void> {
    try {
      await this.wal.close();
    } finally {
      await this.lock.release();
    }
  }

  /**
   * After a roll at a snapshot: writes the entries above `index` again, so the new segment holds
   * the whole log after the snapshot. The old segment is deleted at a later snapshot above ITS
   * last entry, and replay must then find no hole between this marker and the entries after it.
   * No truncation: replay takes a copy of an entry it holds (same index, term and bytes) as a
   * no-op, so a crash mid-way through this batch loses nothing. The tail is what the log runs
   * ahead of apply: small.
   */
  private relogAbove(index: LogIndex): void {
    const last = this.log.last();
    if (last <= index || this.log.first() !== index + 1) return;
    for (const e of this.log.slice(index + 1, last + 1)) this.wal.stage(encodeRecord({ kind: 'entry', entry: e }), last, null, e.index, false);
  }

  private stageSnapshotMarker(meta: SnapshotMeta): void {
    const { reset } = this.log.applySnapshot(meta.index, meta.term);
    this.wal.stage(encodeRecord({ kind: 'snapshot', index: meta.index, term: meta.term }), this.log.last(), reset ? meta.index : null, meta.index, false);
  }
}
