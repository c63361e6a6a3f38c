/**
 * One account's open (resting) orders in placement order: an intrusive doubly linked list through
 * the orders themselves (`openPrev`/`openNext`, and `openIn` naming the list an order is on).
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
    if (order.openIn !== null) fail(`order ${order.id} is already listed open`);
    order.openIn = this;
    order.openPrev = this.tail;
    order.openNext = null;
    if (this.tail !== null) this.tail.openNext = order;
    else this.head = order;
    this.tail = order;
    this.count++;
  }

  /** Takes `order` off this list; false when it is not on it. */
  delete(order: Order): boolean {
    if (order.openIn !== this) return false;
    const prev = order.openPrev;
    const next = order.openNext;
    if (prev !== null) prev.openNext = next;
    else this.head = next;
    if (next !== null) next.openPrev = prev;
    else this.tail = prev;
    order.openIn = null;
    order.openPrev = null;
    order.openNext = null;
    this.count--;
    return true;
  }

  has(order: Order): boolean {
    return order.openIn === this;
  }

  /** Orders in placement order. */
  *values(): Generator<Order> {
    for (let o = this.head; o !== null; o = o.openNext) yield o;
  }
}
