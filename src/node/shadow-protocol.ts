/**
 * Messages between a node and its shadow-state worker (shadow-state.ts, shadow-worker.ts).
 * Plain structured-clone data only.
 */
import type { TradeHistoryLimits } from './trade-history.js';

/**
 * A batch of applied log entries, packed into four buffers that are transferred, not copied:
 * entry k has log index `indexes[k]`, timestamp `timestamps[k]`, and its encoded command in
 * `bytes[ends[k - 1], ends[k])` (from 0 for k = 0), or no command when `ends[k]` is -1 (noop,
 * configuration: it only moves the applied index; the next start is then the previous end).
 * Packed because an entry's bytes are usually a view into a larger network buffer, which
 * structured cloning would copy whole.
 */
export interface ShadowBatch {
  readonly type: 'entries';
  readonly indexes: Float64Array;
  readonly timestamps: Float64Array;
  readonly ends: Int32Array;
  readonly bytes: Uint8Array;
}

/** workerData: where the shadow starts. */
export interface ShadowInit {
  /** A node snapshot (node-snapshot.ts) to start from, or null for an empty exchange. */
  readonly snapshot: Uint8Array | null;
  /** The log index `snapshot` is at (0 without one). */
  readonly index: number;
  readonly limits: TradeHistoryLimits;
}

export type ToShadow =
  | ShadowBatch
  | { readonly type: 'capture'; readonly index: number };

export type FromShadow =
  | { readonly type: 'applied'; readonly index: number }
  | { readonly type: 'captured'; readonly index: number; readonly bytes: Uint8Array }
  | { readonly type: 'failed'; readonly message: string };
