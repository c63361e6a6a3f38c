/**
 * The simulated state machine: a rolling FNV-1a hash over every applied entry (index, term and
 * bytes). Two replicas hash equal exactly when they applied the same entries in order, so a
 * snapshot's state can be checked against the entries the cluster applied up to its index.
 */
import type { LogEntry } from '../../src/raft/types.js';
import type { SimSnapshotData } from './sim-storage.js';

/** The state before any entry is applied. */
export const initialSimState: SimSnapshotData = '0:811c9dc5';

function fnv(hash: number, byte: number): number {
  return Math.imul(hash ^ byte, 0x01000193) >>> 0;
}

function mixNumber(hash: number, value: number): number {
  let h = hash;
  let v = value;
  for (let i = 0; i < 7; i++) {
    h = fnv(h, v & 0xff);
    v = Math.floor(v / 256);
  }
  return h;
}

/** The state after applying `entry` to `state` (entries must come in index order). */
export function foldEntry(state: SimSnapshotData, entry: LogEntry): SimSnapshotData {
  const colon = state.indexOf(':');
  let h = Number.parseInt(state.slice(colon + 1), 16);
  h = mixNumber(mixNumber(h, entry.index), entry.term);
  for (const byte of entry.data) h = fnv(h, byte);
  return `${entry.index}:${h.toString(16).padStart(8, '0')}`;
}
