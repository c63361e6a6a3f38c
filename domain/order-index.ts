/**
 * Orders by their seq (the log index of their PlaceOrder entry), for the exchange's `orders`.
 *
 * Why not a Map: every place registers an order and every cancel looks one up, and a Map of
 * ~100k numeric keys costs a hash probe (and a cache miss or two) each time plus rehashing as it
 * grows. Seqs are log indexes, so they arrive in increasing order and are dense: a plain array
 * indexed by `seq - base` (a sliding window) makes both a single indexed load. Slots of entries
 * that carried no order, or of forgotten orders, hold `undefined`.
 *
 * Bounded memory: the window's front advances past forgotten orders, and the consumed prefix is
 * dropped now and then. An order that stays open for very long would pin the front while the log
 * moves on, so when the window gets sparse (far more slots than orders) the front half's orders
 * move to a small Map (`old`) and the window slides past them. Memory stays O(orders held).
 */
import { fail } from './assert.js';
import type { Order } from './order-book.js';

/** Consumed slots tolerated at the front before the array is compacted. */
const windowCompactMin = 1024;
/** Slots tolerated per held order (plus windowSparseMin) before old orders are moved out of the window. */
const windowSlotsPerOrderMax = 4;
/** Window slots always tolerated, however few orders it holds. */
const windowSparseMin = 4096;

export class OrderIndex {
  /** slots[i] is the order with seq `base + i`, for i >= head. */
  private slots: (Order | undefined)[] = [];
  private head = 0;
  private base = 0;
  /** Orders in the window. */
  private inWindow = 0;
  /** Orders whose seq fell behind the window, in seq order. */
  private readonly old = new Map<number, Order>();
  /** The highest seq ever added (seqs must increase). */
  private lastSeq = 0;

  get size(): number {
    return this.inWindow + this.old.size;
  }

  get(seq: number): Order | undefined {
    const i = seq - this.base;
    if (i >= this.head) return i < this.slots.length ? this.slots[i] : undefined;
    return this.old.size === 0 ? undefined : this.old.get(seq);
  }

  /** Adds an order whose seq is above every seq added before. */
  add(order: Order): void {
    const seq = order.seq;
    if (!(Number.isSafeInteger(seq) && seq > this.lastSeq)) fail(`order id ${order.id} reused or out of order`);
    this.lastSeq = seq;
    const slots = this.slots;
    if (slots.length === this.head) {
      // Empty window: restart it at this seq (no holes for the entries in between).
      this.slots = [order];
      this.base = seq;
      this.head = 0;
    } else {
      const i = seq - this.base;
      while (slots.length < i) slots.push(undefined);
      slots.push(order);
    }
    this.inWindow++;
    if (this.slots.length - this.head > windowSlotsPerOrderMax * this.inWindow + windowSparseMin) this.spill();
  }

  /** Forgets the order with `seq`; false when it is not held. */
  delete(seq: number): boolean {
    const i = seq - this.base;
    if (i < this.head) return this.old.delete(seq);
    const slots = this.slots;
    if (i >= slots.length || slots[i] === undefined) return false;
    slots[i] = undefined;
    this.inWindow--;
    if (i === this.head) {
      let h = i + 1;
      while (h < slots.length && slots[h] === undefined) h++;
      this.head = h;
      if (h >= windowCompactMin && h * 2 >= slots.length) this.compact();
    }
    return true;
  }

  /** Held orders in seq (placement) order. */
  *values(): Generator<Order> {
    yield* this.old.values();
    const slots = this.slots;
    for (let i = this.head; i < slots.length; i++) {
      const o = slots[i];
      if (o !== undefined) yield o;
    }
  }

  private compact(): void {
    this.slots = this.slots.slice(this.head);
    this.base += this.head;
    this.head = 0;
  }

  /** Moves the orders of the window's front half to `old` and slides the window past them. */
  private spill(): void {
    const slots = this.slots;
    const end = this.head + Math.floor((slots.length - this.head) / 2);
    for (let i = this.head; i < end; i++) {
      const o = slots[i];
      if (o !== undefined) {
        this.old.set(o.seq, o);
        this.inWindow--;
      }
    }
    this.head = end;
    while (this.head < slots.length && slots[this.head] === undefined) this.head++;
    this.compact();
  }
}
