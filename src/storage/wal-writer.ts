/**
 * The WAL's write side: staging, group commit and segment rollover.
 *
 * Records are staged synchronously (in the order the store mutates its in-memory log). `sync()`
 * resolves once everything staged before it is fdatasynced. One flush runs at a time; whatever
 * is staged while it is in flight is written and fdatasynced together by the next flush, so N
 * concurrent `append + sync` callers cost far fewer than N fsyncs (group commit).
 *
 * A flush never spans segments: rollover happens between flushes, after the previous segment's
 * last flush completed, so every segment but the last is sealed and fully durable. A new segment
 * starts with the most recent hard state, so deleting old segments never loses the vote.
 */
import { open, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { assert } from '../raft/assert.js';
import type { LogIndex } from '../raft/types.js';
import { fsyncDir, writeFully } from './fs-durable.js';
import { StorageFailedError } from './wal-errors.js';
import { segmentMagic, segmentName } from './wal-segment.js';

/** Default segment size: roll over to a new file once the active one reaches it. */
export const segmentBytesDefault = 64 * 1024 * 1024;
/** Bytes handed to one write() call; a larger flush is written in several calls, synced once. */
export const writeChunkBytesMax = 4 * 1024 * 1024;
/**
 * Bytes that may sit staged (not yet taken by a flush). The runtime awaits sync() after every
 * Ready, so staging never holds more than a Ready or two; reaching this means nobody is syncing.
 */
export const stagedBytesMax = 1024 * 1024 * 1024;
/**
 * A snapshot starts a new segment once the active one holds at least this much, so the segments
 * before it are wholly below the NEXT snapshot and are deleted then: the WAL a restart replays
 * stays about one snapshot interval long instead of up to two whole segments. Below this size a
 * roll would only make a file per snapshot of a quiet log.
 */
export const snapshotRollBytesMin = 1024 * 1024;

/** Test hooks to inject I/O faults; production code passes none. */
export interface WalFaultHooks {
  /** Replaces the fdatasync of a segment (e.g. to make it fail). */
  readonly datasync?: (fh: FileHandle) => Promise<void>;
}

/** A segment as the writer tracks it. */
export interface SegmentState {
  readonly seq: number;
  readonly path: string;
  /** Bytes written (valid) so far. */
  bytes: number;
  /** Highest log index any record in it mentions; decides when it is wholly below a snapshot. */
  maxIndex: LogIndex;
}

interface Waiter {
  readonly seq: number;
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (err: unknown) => void;
}

/** Counters for tests and benchmarks. */
export interface WalCounters {
  /** fdatasync calls on segment files (one per flush). */
  fsyncCount: number;
  /** fsync calls on the directory (segment created or deleted). */
  dirSyncCount: number;
  /** Flushes (write + fdatasync rounds). */
  flushCount: number;
  /** Bytes written to segments, headers included. */
  bytesWritten: number;
}

/** What the writer needs from recovery. */
export interface WalWriterOptions {
  readonly dir: string;
  readonly segmentBytes: number;
  /** Existing segments, oldest first; the last one is reopened for appending. */
  readonly segments: SegmentState[];
  /** Encoded hard-state record to start new segments with (the latest durable one), or null. */
  readonly hardStateRecord: Buffer | null;
  /** The log's last index as recovered (made durable again by open). */
  readonly durableIndex: LogIndex;
  readonly faults?: WalFaultHooks;
}

/** The single writer of the WAL directory: stages records, group-commits them, rolls segments. */
export class WalWriter {
  readonly counters: WalCounters = { fsyncCount: 0, dirSyncCount: 0, flushCount: 0, bytesWritten: 0 };
  private readonly dir: string;
  private readonly segmentBytes: number;
  private readonly segments: SegmentState[];
  private active: { readonly fh: FileHandle; readonly seg: SegmentState } | null = null;

  private staged: Buffer[] = [];
  private stagedBytes = 0;
  private stagedMaxIndex = 0;
  private stagedLastIndex: LogIndex;
  private stagedHardState: Buffer | null;
  /** Lowest "last index" a truncation staged since the current flush took its batch. */
  private floorSinceTake = Number.POSITIVE_INFINITY;
  private writtenHardState: Buffer | null;

  private stagedSeq = 0;
  private durableSeq = 0;
  private durableIdx: LogIndex;
  /** One waiter per distinct target seq (sync() calls with nothing new staged share it), so
   * this queue is bounded by the staged records, which stagedBytesMax bounds. */
  private readonly waiters: Waiter[] = [];
  private readonly faults: WalFaultHooks;
  private flushing: Promise<void> | null = null;
  /** The next flush starts a new segment (see rollAtSnapshot). */
  private rollPending = false;
  private failure: StorageFailedError | null = null;
  private closed = false;

  private constructor(options: WalWriterOptions) {
    assert(options.segmentBytes > 0, 'segmentBytes must be positive');
    this.dir = options.dir;
    this.segmentBytes = options.segmentBytes;
    this.segments = options.segments;
    this.writtenHardState = options.hardStateRecord;
    this.stagedHardState = options.hardStateRecord;
    this.durableIdx = options.durableIndex;
    this.stagedLastIndex = options.durableIndex;
    this.faults = options.faults ?? {};
  }

  /**
   * Opens the writer, reopening the last existing segment for appends. What replay read may
   * only have been in the page cache (the previous process died before its fdatasync), so it is
   * synced once here: from now on "recovered" means "durable".
   */
  static async open(options: WalWriterOptions): Promise<WalWriter> {
    const w = new WalWriter(options);
    const last = w.segments.at(-1);
    if (last !== undefined) {
      const fh = await open(last.path, 'r+');
      w.active = { fh, seg: last };
      await fh.datasync();
      await fsyncDir(w.dir);
    }
    return w;
  }

  /** Highest index such that the log up to it, as the store now holds it, is on disk. */
  get durableIndex(): LogIndex {
    return this.durableIdx;
  }

  /** Segments oldest first (read-only view for tests and compaction). */
  segmentList(): readonly SegmentState[] {
    return this.segments;
  }

  /**
   * Stages one encoded record. `lastIndex` is the store's last index once it is applied;
   * `floor`, when set, is the last index that stays unchanged (a truncation or snapshot reset);
   * `maxIndex` is the highest index the record mentions; `isHardState` marks hard-state records.
   */
  stage(record: Buffer, lastIndex: LogIndex, floor: LogIndex | null, maxIndex: LogIndex, isHardState: boolean): void {
    this.throwIfUnusable();
    if (this.stagedBytes + record.length > stagedBytesMax) assert(false, `staged WAL bytes exceed ${stagedBytesMax}: is anyone awaiting sync()?`);
    this.staged.push(record);
    this.stagedBytes += record.length;
    this.stagedSeq++;
    this.stagedLastIndex = lastIndex;
    this.stagedMaxIndex = Math.max(this.stagedMaxIndex, maxIndex);
    if (isHardState) this.stagedHardState = record;
    if (floor !== null) {
      this.floorSinceTake = Math.min(this.floorSinceTake, floor);
      this.durableIdx = Math.min(this.durableIdx, floor);
    }
  }

  /** Resolves once everything staged before this call is durable. */
  sync(): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (this.durableSeq >= this.stagedSeq) return Promise.resolve();
    const last = this.waiters.at(-1);
    if (last?.seq === this.stagedSeq) return last.promise;
    let resolve!: () => void;
    let reject!: (err: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const waiter: Waiter = { seq: this.stagedSeq, promise, resolve, reject };
    this.waiters.push(waiter);
    if (this.flushing === null) this.flushing = this.flushLoop();
    return waiter.promise;
  }

  /**
   * A snapshot was saved: makes the next flush start a new segment if the active one holds at
   * least `snapshotRollBytesMin`, so everything written so far is deleted by a later snapshot.
   * Returns whether the next flush rolls (the caller then re-logs the entries above the snapshot
   * in it, so the new segment never depends on the old one's tail).
   */
  rollAtSnapshot(): boolean {
    this.throwIfUnusable();
    if (this.active !== null && this.active.seg.bytes >= snapshotRollBytesMin) this.rollPending = true;
    return this.rollPending;
  }

  /**
   * Deletes the oldest sealed segments whose records all lie at or below `index` (never the
   * active one), then fsyncs the directory. Returns how many were deleted.
   */
  async deleteSegmentsThrough(index: LogIndex): Promise<number> {
    this.throwIfUnusable();
    const doomed: SegmentState[] = [];
    while (this.segments.length > 1 && this.segments[0]!.maxIndex <= index) doomed.push(this.segments.shift()!);
    if (doomed.length === 0) return 0;
    for (const seg of doomed) await unlink(seg.path);
    await fsyncDir(this.dir);
    this.counters.dirSyncCount++;
    return doomed.length;
  }

  /** Waits for in-flight work, then closes the active segment. Staged-but-unsynced data is dropped. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushing?.catch(() => undefined);
    const active = this.active;
    this.active = null;
    await active?.fh.close();
  }

  private throwIfUnusable(): void {
    if (this.failure !== null) throw this.failure;
    assert(!this.closed, 'WAL used after close');
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.staged.length > 0 && !this.closed) {
        // Take the batch synchronously: records staged from here on go to the next flush.
        const batch = this.staged;
        const batchBytes = this.stagedBytes;
        const upToSeq = this.stagedSeq;
        const lastIndex = this.stagedLastIndex;
        const maxIndex = this.stagedMaxIndex;
        const hsBefore = this.writtenHardState;
        this.writtenHardState = this.stagedHardState;
        this.staged = [];
        this.stagedBytes = 0;
        this.stagedMaxIndex = 0;
        this.floorSinceTake = Number.POSITIVE_INFINITY;

        const created = await this.writeBatch(batch, batchBytes, maxIndex, hsBefore);
        const fh = this.active!.fh;
        await (this.faults.datasync === undefined ? fh.datasync() : this.faults.datasync(fh));
        this.counters.fsyncCount++;
        if (created) {
          await fsyncDir(this.dir);
          this.counters.dirSyncCount++;
        }
        this.counters.flushCount++;
        this.durableSeq = upToSeq;
        this.durableIdx = Math.min(lastIndex, this.floorSinceTake);
        while (this.waiters.length > 0 && this.waiters[0]!.seq <= upToSeq) this.waiters.shift()!.resolve();
      }
    } catch (err) {
      this.failure = new StorageFailedError(`WAL write failed; the store is unusable: ${String(err)}`, { cause: err });
      for (const w of this.waiters.splice(0)) w.reject(this.failure);
    } finally {
      this.flushing = null;
    }
    // close() raced a flush: callers still waiting will never be synced.
    if (this.closed) for (const w of this.waiters.splice(0)) w.reject(new StorageFailedError('WAL closed before sync'));
  }

  /** Writes one batch, rolling over first if needed. Returns true when a segment was created. */
  private async writeBatch(batch: Buffer[], batchBytes: number, maxIndex: LogIndex, hsBefore: Buffer | null): Promise<boolean> {
    let created = false;
    const prefix: Buffer[] = [];
    if (this.active === null || this.active.seg.bytes >= this.segmentBytes || this.rollPending) {
      this.rollPending = false;
      await this.rollover();
      created = true;
      prefix.push(segmentMagic);
      if (hsBefore !== null) prefix.push(hsBefore);
    }
    const { fh, seg } = this.active!;
    const parts = prefix.concat(batch);
    let bytes = batchBytes;
    for (const p of prefix) bytes += p.length;
    let i = 0;
    while (i < parts.length) {
      // Coalesce records into chunks of at most writeChunkBytesMax (a single record may exceed it).
      const chunk: Buffer[] = [];
      let chunkBytes = 0;
      while (i < parts.length && (chunk.length === 0 || chunkBytes + parts[i]!.length <= writeChunkBytesMax)) {
        chunkBytes += parts[i]!.length;
        chunk.push(parts[i++]!);
      }
      const buf = chunk.length === 1 ? chunk[0]! : Buffer.concat(chunk, chunkBytes);
      await writeFully(fh, buf, seg.bytes);
      seg.bytes += buf.length;
    }
    assert(bytes > 0, 'empty flush');
    this.counters.bytesWritten += bytes;
    seg.maxIndex = Math.max(seg.maxIndex, maxIndex);
    return created;
  }

  private async rollover(): Promise<void> {
    const prev = this.active;
    const seq = (this.segments.at(-1)?.seq ?? 0) + 1;
    const path = join(this.dir, segmentName(seq));
    // 'wx': a segment name is never reused while its file exists.
    const fh = await open(path, 'wx');
    const seg: SegmentState = { seq, path, bytes: 0, maxIndex: 0 };
    this.segments.push(seg);
    this.active = { fh, seg };
    // The previous segment's last flush already completed (flushes are serial): it is sealed.
    await prev?.fh.close();
  }
}
