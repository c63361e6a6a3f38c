/**
 * Snapshots without stopping the node: a worker thread keeps a shadow copy of the exchange and of
 * the trade window, fed every entry the node applies, in order, and serialises each snapshot on
 * its own thread.
 *
 * Why: capturing on the node's thread walks the whole state (~100-200 ms for a full dedup table
 * and trade window) while nothing else runs, no AppendEntries, no replies: every 100,000 entries
 * the cluster's p99.9 was that pause. Here the node's thread only packs each applied batch into a
 * transferable buffer (a memcpy) and receives the finished bytes. Applying is deterministic, so
 * the shadow's bytes at index N are the ones the node would have written at N (tested).
 *
 * Failure is never fatal: a shadow that errors, exits, or falls more than shadowBacklogEntriesMax
 * entries behind is dropped (`healthy` false) and the node captures on its own thread again,
 * restarting the shadow from those bytes.
 */
import { Worker } from 'node:worker_threads';
import type { LogEntry, LogIndex } from '../raft/types.js';
import type { FromShadow, ShadowBatch, ShadowInit, ToShadow } from './shadow-protocol.js';

/**
 * Entries the shadow may still have to apply when another batch is posted before it is given up
 * on. The batch being posted does not count: one batch is bounded by the core (a restart hands
 * over the whole WAL tail at once, which must not fail the shadow every time).
 */
export const shadowBacklogEntriesMax = 200_000;
/**
 * Applied entries are handed to the shadow in batches of up to this many, or after
 * shadowFlushMs, or before a capture: one message (and one worker wake-up) per Ready cost the
 * busy box more in scheduling than the copying itself.
 */
export const shadowBatchEntriesMax = 4096;
export const shadowFlushMs = 25;
/** How long a capture may take before the shadow is given up on (it is far below this). */
export const shadowCaptureDeadlineMs = 30_000;

interface PendingCapture {
  readonly index: LogIndex;
  readonly resolve: (bytes: Uint8Array) => void;
  readonly reject: (error: Error) => void;
}

/** The shadow failed; the node captures on its own thread. */
export class ShadowStateError extends Error {
  override readonly name = 'ShadowStateError';
}

export class ShadowState {
  private worker: Worker | null = null;
  private posted: LogIndex = 0;
  private applied: LogIndex = 0;
  private pending: PendingCapture | null = null;
  private failure: string | null = null;
  /** Applied entries not yet handed over (at most shadowBatchEntriesMax). */
  private queued: LogEntry[] = [];
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(private readonly workerUrl: URL, private readonly init: Omit<ShadowInit, 'snapshot' | 'index'>, snapshot: Uint8Array | null, index: LogIndex,
    private readonly onFailure: (reason: string) => void = () => undefined) {
    this.start(snapshot, index);
  }

  /** False once the shadow failed (until `restart`). */
  get healthy(): boolean {
    return this.worker !== null && this.failure === null;
  }

  /** Entries the node applied, in order (after the shadow's start index). */
  appliedEntries(entries: readonly LogEntry[]): void {
    if (this.worker === null || this.failure !== null || entries.length === 0) return;
    for (const e of entries) {
      this.queued.push(e);
      if (this.queued.length >= shadowBatchEntriesMax) this.flush();
    }
    if (this.queued.length > 0 && this.flushTimer === null) {
      this.flushTimer = setTimeout(() => {
        this.flushTimer = null;
        this.flush();
      }, shadowFlushMs);
      this.flushTimer.unref();
    }
  }

  /** Hands the queued entries to the worker as one packed batch. */
  private flush(): void {
    const entries = this.queued;
    this.queued = [];
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    if (this.worker === null || this.failure !== null || entries.length === 0) return;
    const n = entries.length;
    let size = 0;
    for (const e of entries) if (e.type === 'command') size += e.data.byteLength;
    const indexes = new Float64Array(n);
    const timestamps = new Float64Array(n);
    const ends = new Int32Array(n);
    const bytes = new Uint8Array(size);
    const behind = this.posted - this.applied;
    let at = 0;
    for (let k = 0; k < n; k++) {
      const e = entries[k]!;
      indexes[k] = e.index;
      timestamps[k] = e.timestampMs;
      if (e.type === 'command') {
        bytes.set(e.data, at);
        at += e.data.byteLength;
        ends[k] = at;
      } else {
        ends[k] = -1;
      }
    }
    this.posted = entries[n - 1]!.index;
    const batch: ShadowBatch = { type: 'entries', indexes, timestamps, ends, bytes };
    this.send(batch, [indexes.buffer, timestamps.buffer, ends.buffer, bytes.buffer]);
    if (behind > shadowBacklogEntriesMax) this.fail(`fell ${behind} entries behind`);
  }

  /** The node snapshot at `index`, which must be the last index passed to `appliedEntries`. */
  capture(index: LogIndex): Promise<Uint8Array> {
    if (!this.healthy) return Promise.reject(new ShadowStateError(`shadow state unavailable: ${this.failure ?? 'stopped'}`));
    if (this.pending !== null) return Promise.reject(new ShadowStateError('a shadow capture is already in progress'));
    this.flush();
    if (!this.healthy) return Promise.reject(new ShadowStateError(`shadow state unavailable: ${this.failure ?? 'stopped'}`));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.fail(`no capture at ${index} within ${shadowCaptureDeadlineMs} ms`), shadowCaptureDeadlineMs);
      timer.unref();
      const settle = (): void => clearTimeout(timer);
      this.pending = {
        index,
        resolve: (bytes) => {
          settle();
          resolve(bytes);
        },
        reject: (error) => {
          settle();
          reject(error);
        },
      };
      this.send({ type: 'capture', index });
    });
  }

  /** Starts over from a node snapshot at `index` (after an inline capture or an InstallSnapshot). */
  restart(snapshot: Uint8Array, index: LogIndex): void {
    if (this.failure === 'closed') return;
    this.stopWorker(new ShadowStateError('shadow restarted'));
    this.failure = null;
    this.start(snapshot, index);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.stopWorker(new ShadowStateError('shadow closed'));
    this.failure = 'closed';
    await worker?.terminate();
  }

  private start(snapshot: Uint8Array | null, index: LogIndex): void {
    const workerData: ShadowInit = { ...this.init, snapshot, index };
    const worker = new Worker(this.workerUrl, { workerData });
    this.worker = worker;
    this.posted = index;
    this.applied = index;
    worker.on('message', (message: FromShadow) => {
      if (worker === this.worker) this.onMessage(message);
    });
    worker.on('error', (error) => {
      if (worker === this.worker) this.fail(`worker error: ${error.message}`);
    });
    worker.on('exit', (code) => {
      if (worker === this.worker && this.failure === null) this.fail(`worker exited (${code})`);
    });
    // The shadow must never keep the process alive on its own.
    worker.unref();
  }

  private onMessage(message: FromShadow): void {
    switch (message.type) {
      case 'applied':
        this.applied = message.index;
        return;
      case 'captured': {
        const pending = this.pending;
        if (pending === null || pending.index !== message.index) {
          // fail() rejects the pending capture, if any.
          this.fail(`unexpected capture at ${message.index}`);
          return;
        }
        this.pending = null;
        pending.resolve(message.bytes);
        return;
      }
      case 'failed':
        this.fail(message.message);
        return;
    }
  }

  private send(message: ToShadow, transfer: ArrayBuffer[] = []): void {
    this.worker?.postMessage(message, transfer);
  }

  private fail(reason: string): void {
    if (this.failure !== null) return;
    this.failure = reason;
    this.stopWorker(new ShadowStateError(`shadow state failed: ${reason}`));
    this.onFailure(reason);
  }

  private stopWorker(error: ShadowStateError): void {
    const worker = this.worker;
    this.worker = null;
    this.queued = [];
    if (this.flushTimer !== null) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const pending = this.pending;
    this.pending = null;
    pending?.reject(error);
    if (worker !== null) void worker.terminate();
  }
}
