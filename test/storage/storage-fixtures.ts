/** Shared helpers for the storage tests: temp dirs, deterministic entries, a seeded PRNG. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogEntry, LogIndex, Term } from '../../src/raft/types.js';
import type { StorageWarning } from '../../src/storage/storage-warning.js';

/** Creates a fresh temp dir; `cleanup()` removes every dir made. */
export function tempDirs(): { make: () => Promise<string>; cleanup: () => Promise<void> } {
  const made: string[] = [];
  return {
    make: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'raftex-storage-'));
      made.push(dir);
      return dir;
    },
    cleanup: async () => {
      for (const d of made.splice(0)) await rm(d, { recursive: true, force: true });
    },
  };
}

/** mulberry32: a tiny seeded PRNG for reproducible randomized tests. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of a randomized test: env SEED or the fixed default. */
export function testSeed(fallback: number): number {
  const env = process.env['SEED'];
  return env !== undefined && env !== '' ? Number(env) : fallback;
}

/** Deterministic payload bytes for (index, term): the crash test re-derives them to compare. */
export function payload(index: LogIndex, term: Term, length = 16 + (index % 48)): Uint8Array {
  const out = new Uint8Array(length);
  let x = (index * 2654435761 + term * 40503) >>> 0;
  for (let i = 0; i < length; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

/** A deterministic entry. */
export function entry(index: LogIndex, term: Term, data: Uint8Array = payload(index, term)): LogEntry {
  return { index, term, type: index % 7 === 0 ? 'noop' : 'command', timestampMs: 1_700_000_000_000 + index, data };
}

/** Entries [from, to] of one term. */
export function entries(from: LogIndex, to: LogIndex, term: Term): LogEntry[] {
  const out: LogEntry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

/** Collects warnings for assertions. */
export function warnings(): { list: StorageWarning[]; warn: (w: StorageWarning) => void } {
  const list: StorageWarning[] = [];
  return { list, warn: (w) => list.push(w) };
}
