/**
 * The exchange-wide bound of the idempotency (dedup) tables: a FIFO ring of the last `max` keys
 * added to ANY account's table (client order ids and request ids alike), oldest first.
 *
 * Retention, stated: a key is remembered while it is among the last `dedupKeysMax` keys added
 * exchange-wide AND among the last `dedupKeysPerAccountMax` keys of its account and kind. Either
 * limit evicts the oldest first; an evicted key counts as new if reused. The per-account limit
 * alone let the table (and so every snapshot and every restart) grow with the number of
 * accounts; this ring caps the whole table, whatever the account count.
 *
 * Each slot names a table and the absolute number of the entry it added there. Tables are FIFOs
 * too, so the globally oldest slot is always its table's oldest entry, unless the per-account
 * limit already evicted it (a stale slot, which still counts: the ring is "the last N adds").
 */
import { fail } from './assert.js';

/** A FIFO table whose entries the ring may expire. */
export interface RingMember {
  /** The ring says entry `n` (this table's n-th add) is too old: evict it if still held. */
  expire(n: number): void;
}

/** Consumed slots tolerated before compacting the ring's arrays. */
const ringCompactMin = 1024;

export class DedupRing {
  /**
   * Slot k (its FIFO index) is slots[2k] (the member) and slots[2k + 1] (the entry number): one
   * array to grow and one sequential stream to write per add, where two parallel arrays cost two.
   */
  private slotArray: (RingMember | number | undefined)[] = [];
  /** FIFO index of the oldest slot held. */
  private head = 0;

  constructor(readonly max: number) {
    if (!Number.isSafeInteger(max) || max < 1) fail(`DedupRing: bad max ${max}`);
  }

  /** Slots held (live and stale). */
  get size(): number {
    return (this.slotArray.length >> 1) - this.head;
  }

  /** Records that `member` added its entry `n`; expires the oldest slot beyond `max`. */
  push(member: RingMember, n: number): void {
    this.slotArray.push(member, n);
    if (this.size <= this.max) return;
    const at = 2 * this.head;
    const oldest = this.slotArray[at] as RingMember;
    const oldestN = this.slotArray[at + 1] as number;
    this.slotArray[at] = undefined;
    this.head++;
    if (this.head >= ringCompactMin && this.head * 2 >= this.slotArray.length >> 1) {
      this.slotArray = this.slotArray.slice(2 * this.head);
      this.head = 0;
    }
    oldest.expire(oldestN);
  }

  /** Slots oldest first: the table and the number of the entry it added. */
  *slots(): Generator<[RingMember, number]> {
    const slots = this.slotArray;
    for (let p = this.head; 2 * p < slots.length; p++) yield [slots[2 * p] as RingMember, slots[2 * p + 1] as number];
  }
}
