/**
 * A string-keyed map that keeps at most `max` keys, evicting the oldest inserted first: the
 * idempotency (dedup) tables, one per account and kind, up to dedupKeysPerAccountMax keys each,
 * and together at most dedupKeysMax (the shared DedupRing expires the oldest exchange-wide).
 *
 * Why not a JS Map: a lookup that misses (the normal case: a new client order id) walks a hash
 * chain whose entries point at key strings scattered over the heap, a cache miss per entry, and
 * each place does a miss and then an insert. Here the probe runs over a flat Int32Array of entry
 * positions, checked against the entries' stored hashes, and a key string is only touched when its
 * hash matches. Entries live in one FIFO array in insertion order, three slots each (key, value,
 * hash: one array to grow and one sequential stream to write per add, where three parallel arrays
 * cost three; under cachegrind, adding keys was about a quarter of the L1 data misses of a
 * bench:matching round), so eviction and `entries()` need no Map iteration (V8 leaves deleted
 * Map entries in place until it rebuilds, which made "oldest key" scans O(n)).
 *
 * Open addressing with linear probing, load factor at most 1/2, backward-shift deletion (no
 * tombstones). Positions are absolute FIFO indexes + 1 (0 = empty slot); compacting the FIFO's
 * consumed prefix rebuilds the table from the stored hashes.
 */
import { fail } from './assert.js';
import type { DedupRing, RingMember } from './dedup-ring.js';

/** Consumed FIFO slots tolerated before compacting the FIFO arrays. */
const fifoCompactMin = 1024;
/** Initial (and smallest) probe table size; a power of two. */
const tableSizeMin = 16;

/** FNV-1a over the UTF-16 code units: cheap for short ids, and deterministic (not V8's seeded hash). */
function hashOf(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h;
}

/** FIFO slots per entry: key, value, hash. */
const entrySlots = 3;

export class BoundedMap<V> implements RingMember {
  /** Entry p (its FIFO index) is fifo[3p] (key), fifo[3p + 1] (value), fifo[3p + 2] (hash); undefined once evicted. */
  private fifo: (string | V | number | undefined)[] = [];
  /** Entries in `fifo`, held or evicted (fifo.length / 3). */
  private count = 0;
  /** FIFO index of the oldest entry still held. */
  private head = 0;
  /** Probe table: FIFO index + 1 of an entry, 0 for an empty slot. */
  private table = new Int32Array(tableSizeMin);
  private mask = tableSizeMin - 1;
  /**
   * Entries ever evicted: the absolute number (0-based count of adds) of the oldest held entry.
   * The exchange-wide ring names entries by these numbers.
   */
  private evicted = 0;
  /**
   * The last `get` that missed: its key, hash and the empty slot it stopped at, valid while
   * `tableVersion` is unchanged. An idempotent command looks its key up and, when new, adds it
   * right after; the add then reuses the probe instead of hashing and probing again.
   */
  private missKey: string | null = null;
  private missHash = 0;
  private missSlot = 0;
  private missVersion = -1;
  /** Bumped by every change of `table` (add, evict, rebuild). */
  private tableVersion = 0;

  /** `ring`, when given, is told of every add and may expire this map's oldest entries. */
  constructor(readonly max: number, private readonly ring: DedupRing | null = null) {
    if (!Number.isSafeInteger(max) || max < 1) fail(`BoundedMap: bad max ${max}`);
  }

  get size(): number {
    return this.count - this.head;
  }

  private keyAt(p: number): string {
    return this.fifo[entrySlots * p] as string;
  }

  private valueAt(p: number): V {
    return this.fifo[entrySlots * p + 1] as V;
  }

  private hashAt(p: number): number {
    return this.fifo[entrySlots * p + 2] as number;
  }

  get(key: string): V | undefined {
    const h = hashOf(key);
    const table = this.table;
    const mask = this.mask;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const e = table[i]!;
      if (e === 0) {
        this.missKey = key;
        this.missHash = h;
        this.missSlot = i;
        this.missVersion = this.tableVersion;
        return undefined;
      }
      if (this.hashAt(e - 1) === h && this.keyAt(e - 1) === key) return this.valueAt(e - 1);
    }
  }

  /** Adds a NEW key (a bug to add one twice); evicts the oldest key beyond `max`. */
  add(key: string, value: V): void {
    let h: number;
    let i: number;
    if (key === this.missKey && this.missVersion === this.tableVersion) {
      // `get(key)` just missed and the table has not changed since: its empty slot is ours.
      h = this.missHash;
      i = this.missSlot;
    } else {
      h = hashOf(key);
      const mask = this.mask;
      for (i = h & mask; ; i = (i + 1) & mask) {
        const e = this.table[i]!;
        if (e === 0) break;
        if (this.hashAt(e - 1) === h && this.keyAt(e - 1) === key) fail(`BoundedMap: key ${key} added twice`);
      }
    }
    this.missKey = null;
    this.tableVersion++;
    this.table[i] = this.count + 1;
    this.fifo.push(key, value, h);
    this.count++;
    const n = this.evicted + this.size - 1;
    if (this.size > this.max) this.evictOldest();
    if (this.size * 2 > this.table.length) this.rebuild(this.table.length * 2);
    this.ring?.push(this, n);
  }

  /** RingMember: the exchange-wide ring expired entry `n`; evict it unless already gone. */
  expire(n: number): void {
    if (n < this.evicted) return; // the per-map limit evicted it first
    // The ring's slots of one map are in its add order, so a held expired entry is the oldest.
    if (n !== this.evicted) fail(`BoundedMap: ring expired entry ${n} but the oldest held is ${this.evicted}`);
    this.evictOldest();
  }

  /** The entry with absolute number `n`, or undefined when it was evicted (or not yet added). */
  entryAt(n: number): [string, V] | undefined {
    if (n < this.evicted || n >= this.evicted + this.size) return undefined;
    const p = this.head + (n - this.evicted);
    return [this.keyAt(p), this.valueAt(p)];
  }

  /**
   * Snapshot restore only: counts an add whose entry the per-map limit already evicted, while
   * its ring slot still exists (see dedup-ring.ts). Such adds precede every held entry.
   */
  addEvicted(): void {
    if (this.size !== 0) fail('BoundedMap: an evicted add restored after a held entry');
    this.evicted++;
    this.ring?.push(this, this.evicted - 1);
  }

  /** Entries oldest first. */
  *entries(): Generator<[string, V]> {
    for (let p = this.head; p < this.count; p++) yield [this.keyAt(p), this.valueAt(p)];
  }

  private evictOldest(): void {
    const pos = this.head;
    const mask = this.mask;
    const table = this.table;
    let i = this.hashAt(pos) & mask;
    while (table[i] !== pos + 1) i = (i + 1) & mask;
    // Backward-shift deletion: pull later entries of the probe run into the hole, so every
    // entry stays reachable from its home slot without tombstones.
    let hole = i;
    for (let j = (i + 1) & mask; table[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashAt(table[j]! - 1) & mask;
      // The entry at j may move to the hole unless its home lies cyclically in (hole, j].
      const inRun = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (!inRun) {
        table[hole] = table[j]!;
        hole = j;
      }
    }
    table[hole] = 0;
    this.tableVersion++;
    this.fifo[entrySlots * pos] = undefined;
    this.fifo[entrySlots * pos + 1] = undefined;
    this.head++;
    this.evicted++;
    if (this.head >= fifoCompactMin && this.head * 2 >= this.count) {
      this.fifo = this.fifo.slice(entrySlots * this.head);
      this.count -= this.head;
      this.head = 0;
      this.rebuild(this.table.length);
    }
  }

  /** Re-inserts every held entry into a fresh table of `size` slots (a power of two). */
  private rebuild(size: number): void {
    const table = new Int32Array(size);
    const mask = size - 1;
    for (let p = this.head; p < this.count; p++) {
      let i = this.hashAt(p) & mask;
      while (table[i] !== 0) i = (i + 1) & mask;
      table[i] = p + 1;
    }
    this.table = table;
    this.mask = mask;
    this.tableVersion++;
  }
}
