/**
 * Log compaction on the node: every `entriesPerSnapshot` applied entries it captures the
 * exchange's canonical snapshot at lastApplied (synchronously, between two applies, so the bytes
 * are exactly the state at that index), saves it with its Raft metadata through the snapshot
 * store (which then drops the WAL below it), and finally lets the core compact its in-memory log,
 * keeping `trailingEntries` below the snapshot so a slightly slow follower still catches up by
 * AppendEntries instead of a whole snapshot. One snapshot is saved at a time.
 */
import { learnerIds, voterIds, type Membership } from '../raft/membership.js';
import type { LogIndex, SnapshotMeta, Term } from '../raft/types.js';

/** When to snapshot and how much log to keep behind it. */
export interface SnapshotPolicy {
  /** Take a snapshot once this many entries were applied since the last one (0 = never). */
  readonly entriesPerSnapshot: number;
  /** Entries kept in memory below the snapshot for slow followers. */
  readonly trailingEntries: number;
}

/**
 * The defaults: a snapshot every 100,000 entries (etcd's default snapshot-count), keeping 10,000
 * behind it. Capturing is synchronous and costs about as much as the state is large (a full dedup
 * table makes ~8 MB), so at 10,000 a busy node paused for it every two seconds; the WAL tail a
 * restart replays is still well under a second at 100,000.
 */
export const defaultSnapshotPolicy: SnapshotPolicy = { entriesPerSnapshot: 100_000, trailingEntries: 10_000 };

/** `trailingEntries` for a given `entriesPerSnapshot` (`--snapshot-entries`): a tenth of it. */
export function snapshotPolicyEvery(entriesPerSnapshot: number): SnapshotPolicy {
  return { entriesPerSnapshot, trailingEntries: Math.floor(entriesPerSnapshot / 10) };
}

/** A snapshot with its bytes (the storage layer's `Snapshot`, structurally). */
export interface SnapshotData {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** Where snapshots go (DiskStorage fits). */
export interface SnapshotSink {
  saveSnapshot(snapshot: SnapshotData): Promise<void>;
}

/** The last applied entry: what a snapshot at lastApplied records. */
export interface AppliedPoint {
  readonly index: LogIndex;
  readonly term: Term;
  readonly timestampMs: number;
}

export interface SnapshotterDeps {
  readonly sink: SnapshotSink;
  readonly policy: SnapshotPolicy;
  /**
   * The node snapshot at `index`, the last applied index: bytes captured now, or a promise of the
   * bytes at exactly that index (a shadow worker, shadow-state.ts). A rejected promise skips this
   * snapshot (the next apply tries again); it is not a storage failure.
   */
  readonly capture: (index: LogIndex) => Uint8Array | Promise<Uint8Array>;
  /** The configuration in effect at `index`, recorded with addresses in the snapshot's meta. */
  readonly membership: (index: LogIndex) => Membership;
  /** Tell the core: snapshot saved, compact the log below `compactTo`. */
  readonly compact: (meta: SnapshotMeta, compactTo: LogIndex) => void;
  /** Saving failed: storage is broken, the node must stop. */
  readonly fatal: (error: unknown) => void;
  readonly logger: { info(obj: object, msg?: string): void; warn?(obj: object, msg?: string): void };
}

/** Figures for status and the restart bench. */
export interface SnapshotterStats {
  taken: number;
  /** Snapshots installed from a leader. */
  installed: number;
  lastIndex: LogIndex;
  lastBytes: number;
  lastSaveMs: number;
}

export class Snapshotter {
  private saving: Promise<void> | null = null;
  /** Index of the newest snapshot saved (or installed, or restored at start). */
  private snapshotIndex: LogIndex;
  private stopped = false;
  /** The last applied point seen, so a save that ends after the last apply can start the next one. */
  private latest: AppliedPoint | null = null;
  readonly stats: SnapshotterStats = { taken: 0, installed: 0, lastIndex: 0, lastBytes: 0, lastSaveMs: 0 };

  constructor(private readonly deps: SnapshotterDeps, startIndex: LogIndex) {
    this.snapshotIndex = startIndex;
    this.stats.lastIndex = startIndex;
  }

  /** After each apply: snapshot if the policy says so and none is being saved. */
  onApplied(applied: AppliedPoint): void {
    this.latest = applied;
    const every = this.deps.policy.entriesPerSnapshot;
    if (this.stopped || every <= 0 || this.saving !== null || applied.index - this.snapshotIndex < every) return;
    this.take(applied);
  }

  /** A snapshot from the leader was installed: count from there. */
  installed(index: LogIndex): void {
    this.stats.installed++;
    this.snapshotIndex = Math.max(this.snapshotIndex, index);
  }

  /** Takes a snapshot at `applied` now (tests and shutdown may force one). Resolves once saved. */
  take(applied: AppliedPoint): Promise<void> {
    if (this.saving !== null) return this.saving;
    const membership = this.deps.membership(applied.index);
    const meta: SnapshotMeta = {
      index: applied.index,
      term: applied.term,
      voters: voterIds(membership),
      learners: learnerIds(membership),
      timestampMs: applied.timestampMs,
      membership,
    };
    const started = performance.now();
    const captured = this.deps.capture(meta.index);
    const run = (async () => {
      try {
        let data: Uint8Array;
        try {
          data = await captured;
        } catch (error) {
          this.deps.logger.warn?.({ index: meta.index, err: error }, 'snapshot capture failed; retrying');
          return;
        }
        const captureMs = performance.now() - started;
        await this.deps.sink.saveSnapshot({ meta, data });
        this.snapshotIndex = Math.max(this.snapshotIndex, meta.index);
        this.stats.taken++;
        this.stats.lastIndex = meta.index;
        this.stats.lastBytes = data.byteLength;
        this.stats.lastSaveMs = performance.now() - started;
        this.deps.logger.info({ index: meta.index, term: meta.term, bytes: data.byteLength, captureMs: Math.round(captureMs), offThread: captured instanceof Promise, ms: Math.round(this.stats.lastSaveMs) }, 'snapshot saved');
        if (!this.stopped) this.deps.compact(meta, Math.max(0, meta.index - this.deps.policy.trailingEntries));
      } catch (error) {
        if (!this.stopped) this.deps.fatal(error);
      } finally {
        this.saving = null;
        this.recheck();
      }
    })();
    this.saving = run;
    return run;
  }

  /**
   * A capture off the node's thread lets applies go on meanwhile, and those skip the policy while
   * a save runs: look again once it ended, or a log that went quiet would stay past the threshold.
   */
  private recheck(): void {
    if (this.stopped || this.latest === null) return;
    try {
      this.onApplied(this.latest);
    } catch (error) {
      this.deps.fatal(error);
    }
  }

  /** Waits for a save in progress; no new snapshot starts afterwards. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.saving;
  }
}
