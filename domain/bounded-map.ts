/**
 * A Map that keeps at most `max` keys, evicting the oldest inserted first. Eviction order is kept
 * in an explicit FIFO array rather than by iterating the Map from its start: V8 leaves deleted
 * entries in place until the table is rebuilt, so "first key" after many front deletions walks
 * all of them, and a full table would make every insert O(n).
 */
import { fail } from './assert.js';

/** Consumed FIFO slots tolerated before compacting the FIFO array. */
const fifoCompactMin = 1024;

export class BoundedMap<V> {
  private readonly map = new Map<string, V>();
  private fifo: string[] = [];
  private head = 0;

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) fail(`BoundedMap: bad max ${max}`);
  }

  get size(): number {
    return this.map.size;
  }

  get(key: string): V | undefined {
    return this.map.get(key);
  }

  /** Adds a NEW key (a bug to add one twice); evicts the oldest key beyond `max`. */
  add(key: string, value: V): void {
    const before = this.map.size;
    this.map.set(key, value);
    if (this.map.size !== before + 1) fail(`BoundedMap: key ${key} added twice`);
    this.fifo.push(key);
    if (this.map.size > this.max) {
      this.map.delete(this.fifo[this.head++]!);
      if (this.head >= fifoCompactMin && this.head * 2 >= this.fifo.length) {
        this.fifo = this.fifo.slice(this.head);
        this.head = 0;
      }
    }
  }

  /** Entries oldest first. */
  entries(): IterableIterator<[string, V]> {
    return this.map.entries();
  }
}
