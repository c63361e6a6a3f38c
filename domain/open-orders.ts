/**
 * One account's open (resting) orders in placement order: an intrusive doubly linked list through
 * the orders themselves (`openPrev`/`openNext`). An order is only ever on its own account's list
 * (the callers check the account), so "on a list" is "on this list".
 *
 * Why not a Map<seq, Order>: every resting order was a Map insert and every cancel or fill a Map
 * delete, and a Map that sees ~as many deletes as inserts keeps rehashing and reallocating its
 * backing store (garbage for the GC to trace and copy). Here adding and removing an order is a
 * few pointer writes and allocates nothing. Orders rest in seq order (an order rests during its own
 * entry), so appending keeps placement order. Bounded by openOrdersPerAccountMax (checked by the
 * caller before an order rests).
 */
import { fail } from './assert.js';
import type { Order } from './order-book.js';

export class OpenOrders {
  private head: Order | null = null;
  private tail: Order | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Appends `order` (it must not be on any list). */
  add(order: Order): void {
    if (this.has(order)) fail(`order ${order.id} is already listed open`);
    order.openPrev = this.tail;
    order.openNext = null;
    if (this.tail !== null) this.tail.openNext = order;
    else this.head = order;
    this.tail = order;
    this.count++;
  }

  /** Takes `order` off this list; false when it is not on it. */
  delete(order: Order): boolean {
    if (!this.has(order)) return false;
    const prev = order.openPrev;
    const next = order.openNext;
    if (prev !== null) prev.openNext = next;
    else this.head = next;
    if (next !== null) next.openPrev = prev;
    else this.tail = prev;
    order.openPrev = null;
    order.openNext = null;
    this.count--;
    return true;
  }

  /** Whether `order` is on the list (it must be one of this account's orders). */
  has(order: Order): boolean {
    return order.openPrev !== null || this.head === order;
  }

  /** Orders in placement order. */
  *values(): Generator<Order> {
    for (let o = this.head; o !== null; o = o.openNext) yield o;
  }
}
