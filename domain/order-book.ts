/**
 * One instrument's limit order book in integer ticks and lots.
 *
 * Each side keeps its level prices in a sorted array whose LAST element is the best price (bids
 * ascending, asks descending), so the best level is O(1) and removing an emptied best level is a
 * pop. Levels live in a Map by price; each level is an intrusive doubly linked FIFO of orders
 * (time priority), so a cancel or a fill anywhere in the queue is O(1) once the order is found.
 */
import { fail } from './assert.js';
import type { MarketInfo } from './config.js';
import type { OrderStatus, OrderType, PlaceOrderCommand, Side, TimeInForce, TradeView } from './types.js';

/** An order as the engine holds it: mutated in place as it fills, is reduced or leaves the book. */
export class Order {
  prev: Order | null = null;
  next: Order | null = null;
  level: Level | null = null;
  /** Lots filled so far. */
  filledLots = 0;
  status: OrderStatus = 'new';
  /**
   * What the PlaceOrder reply said (status and filled lots right after its own entry, and its
   * trades): a retry with the same client order id gets that reply rebuilt from these fields.
   */
  placedStatus: OrderStatus = 'new';
  placedFilledLots = 0;
  placedRemainingLots = 0;
  placedTrades: TradeView[] | null = null;
  /** `O<seq>`: built once, since every reply and event of the order names it. */
  readonly id: string;

  constructor(
    /** The log index of the PlaceOrder entry; the order id is `O<seq>`. */
    readonly seq: number,
    readonly accountId: string,
    readonly market: MarketInfo,
    readonly side: Side,
    /** Limit price in ticks; 0 for market orders. */
    readonly priceTicks: number,
    /** Total lots after reduces: filled + remaining while open. */
    public quantityLots: number,
    /**
     * The PlaceOrder command (immutable): the source of the rarely read fields below, and what a
     * retry with the same client order id is compared with. Keeping them off the object keeps
     * every order (the engine holds many) small.
     */
    readonly command: PlaceOrderCommand,
  ) {
    this.id = `O${seq}`;
  }

  get clientOrderId(): string {
    return this.command.clientOrderId;
  }

  get orderType(): OrderType {
    return this.command.orderType;
  }

  get timeInForce(): TimeInForce {
    return this.command.timeInForce;
  }

  get remainingLots(): number {
    return this.quantityLots - this.filledLots;
  }

  get isOpen(): boolean {
    return this.status === 'new' || this.status === 'partiallyFilled';
  }
}

/** The log index in an order id `O<index>`, or null when `orderId` is not of that form. */
export function orderSeqOf(orderId: string): number | null {
  const n = orderId.length;
  if (n < 2 || n > 17 || orderId.charCodeAt(0) !== 79 /* O */) return null;
  let v = 0;
  for (let i = 1; i < n; i++) {
    const d = orderId.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || (d === 0 && i === 1)) return null;
    v = v * 10 + d;
  }
  return Number.isSafeInteger(v) ? v : null;
}

/** One price level: a FIFO of orders and their total remaining lots. */
export class Level {
  head: Order | null = null;
  tail: Order | null = null;
  totalLots = 0;
  count = 0;

  constructor(readonly priceTicks: number) {}

  append(order: Order): void {
    order.prev = this.tail;
    order.next = null;
    if (this.tail) this.tail.next = order;
    else this.head = order;
    this.tail = order;
    order.level = this;
    this.totalLots += order.remainingLots;
    this.count++;
  }

  /** Unlinks `order`; the caller has already taken its remaining lots off `totalLots`. */
  unlink(order: Order): void {
    if (order.level !== this) fail(`order ${order.id} is not on level ${this.priceTicks}`);
    if (order.prev) order.prev.next = order.next;
    else this.head = order.next;
    if (order.next) order.next.prev = order.prev;
    else this.tail = order.prev;
    order.prev = null;
    order.next = null;
    order.level = null;
    this.count--;
  }
}

/** One side of a book. */
export class BookSide {
  /** Level prices, best LAST. */
  readonly prices: number[] = [];
  readonly levels = new Map<number, Level>();

  constructor(readonly side: Side) {}

  /** The best level, or undefined when the side is empty. */
  best(): Level | undefined {
    const n = this.prices.length;
    return n === 0 ? undefined : this.levels.get(this.prices[n - 1]!);
  }

  /** True when `a` is a better price than `b` for this side. */
  better(a: number, b: number): boolean {
    return this.side === 'buy' ? a > b : a < b;
  }

  /** Appends `order` at the back of its price level, creating the level if needed. */
  add(order: Order): void {
    let level = this.levels.get(order.priceTicks);
    if (!level) {
      level = new Level(order.priceTicks);
      this.levels.set(order.priceTicks, level);
      this.insertPrice(order.priceTicks);
    }
    level.append(order);
  }

  /** Takes `order`'s remaining lots off its level and unlinks it; drops the level when empty. */
  remove(order: Order): void {
    const level = order.level;
    if (level === null) fail(`order ${order.id} is not resting`);
    level.totalLots -= order.remainingLots;
    level.unlink(order);
    if (level.count === 0) {
      if (level.totalLots !== 0) fail(`empty level ${level.priceTicks} holds ${level.totalLots} lots`);
      this.dropLevel(level.priceTicks);
    }
  }

  /** Levels best first, at most `depth`. */
  *levelsBestFirst(depth: number): Generator<Level> {
    for (let i = this.prices.length - 1, n = 0; i >= 0 && n < depth; i--, n++) {
      yield this.levels.get(this.prices[i]!)!;
    }
  }

  private insertPrice(price: number): void {
    // Binary search for the first index whose price is better than `price` (array is worst..best).
    const prices = this.prices;
    let lo = 0;
    let hi = prices.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(prices[mid]!, price)) hi = mid;
      else lo = mid + 1;
    }
    if (lo === prices.length) prices.push(price);
    else prices.splice(lo, 0, price);
  }

  private dropLevel(price: number): void {
    this.levels.delete(price);
    const prices = this.prices;
    const last = prices.length - 1;
    if (prices[last] === price) {
      prices.pop();
      return;
    }
    let lo = 0;
    let hi = last;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.better(prices[mid]!, price)) hi = mid;
      else if (prices[mid] === price) {
        lo = mid;
        break;
      } else lo = mid + 1;
    }
    if (prices[lo] !== price) fail(`level ${price} missing from the price index`);
    prices.splice(lo, 1);
  }
}

/** The book of one instrument. */
export class OrderBook {
  readonly bids = new BookSide('buy');
  readonly asks = new BookSide('sell');

  constructor(readonly market: MarketInfo) {}

  sideOf(side: Side): BookSide {
    return side === 'buy' ? this.bids : this.asks;
  }

  oppositeOf(side: Side): BookSide {
    return side === 'buy' ? this.asks : this.bids;
  }

  /** Best bid < best ask (or a side empty). */
  isCrossed(): boolean {
    const bid = this.bids.best();
    const ask = this.asks.best();
    return bid !== undefined && ask !== undefined && bid.priceTicks >= ask.priceTicks;
  }
}
