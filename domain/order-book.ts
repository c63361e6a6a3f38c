/**
 * One instrument's limit order book in integer ticks and lots.
 *
 * Each side keeps its levels in one array sorted worst..best, so the best level is the LAST
 * element (O(1), and an emptied best level is a pop). A level is found by price with a check of
 * the best level first (most adds and nearly all fills happen there) and then a binary search;
 * ~100-300 levels per side on real flow, so that is a handful of compares and no hashing. Each
 * level is an intrusive doubly linked FIFO of orders (time priority), so a cancel or a fill
 * anywhere in the queue is O(1) once the order is found.
 *
 * Memory matters more than it seems: every order the exchange remembers (open ones and the most
 * recent closed ones, see closedOrdersMax) is an `Order` object, and on real flow most orders
 * survive the young generation, so their size is what the garbage collector copies. `Order`
 * therefore stores little that can be derived: its id comes from its seq (the order id string is
 * built when asked for, not held), its rarely read fields from its command. Account and side are
 * the exception (see `Order.accountId`).
 */
import { fail } from './assert.js';
import type { MarketInfo } from './config.js';
import { countSteps } from './money.js';
import type { OrderStatus, OrderType, PlaceOrderCommand, PlacementCancelCause, Side, TimeInForce, TradeView } from './types.js';

/** An order as the engine holds it: mutated in place as it fills, is reduced or leaves the book. */
export class Order {
  prev: Order | null = null;
  next: Order | null = null;
  level: Level | null = null;
  /** Lots filled so far. */
  filledLots = 0;
  status: OrderStatus = 'new';
  /**
   * How the order's own entry left it, which the PlaceOrder reply shows (a retry with the same
   * client order id gets that reply rebuilt from it): null for the common case, an order that
   * rested untouched (status 'new', nothing filled, all it placed remaining, no trades), so most
   * orders carry one field here instead of four. Set once, at placement; never changed after.
   */
  placed: Placement | null = null;
  /** Its neighbours on its account's open-orders list while it rests (open-orders.ts). */
  openPrev: Order | null = null;
  openNext: Order | null = null;
  /** The log index of the PlaceOrder entry; the order id is `O<seq>`. */
  readonly seq: number;
  readonly market: MarketInfo;
  /** Limit price in ticks; 0 for market orders. */
  readonly priceTicks: number;
  /** Total lots after reduces: filled + remaining while open. */
  quantityLots: number;
  /**
   * The command's account and side, held on the order too (the same strings, so two fields):
   * a cancel or a fill reads them, and reading them through `command` cost a cache miss on the
   * command object per cancel, the largest single cost of a cancel.
   */
  readonly accountId: string;
  readonly side: Side;
  /**
   * The PlaceOrder command (immutable): the source of the rarely read fields, and what a retry
   * with the same client order id is compared with.
   */
  readonly command: PlaceOrderCommand;

  /** `accountId` and `side` must be the command's. */
  constructor(
    seq: number, accountId: string, market: MarketInfo, side: Side, priceTicks: number, quantityLots: number,
    command: PlaceOrderCommand,
  ) {
    if (command.accountId !== accountId || command.side !== side) fail(`order ${seq}: account/side differ from its command`);
    this.seq = seq;
    this.market = market;
    this.priceTicks = priceTicks;
    this.quantityLots = quantityLots;
    this.accountId = accountId;
    this.side = side;
    this.command = command;
  }

  /** `O<seq>`, built on each read: holding it would add a string per remembered order. */
  get id(): string {
    return orderIdOf(this.seq);
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

  get placedStatus(): OrderStatus {
    return this.placed === null ? 'new' : this.placed.status;
  }

  get placedFilledLots(): number {
    return this.placed === null ? 0 : this.placed.filledLots;
  }

  /** Untouched, it still had all it placed: the command's quantity (not `quantityLots`, which reduces lower). */
  get placedRemainingLots(): number {
    return this.placed === null ? this.placedLots : this.placed.remainingLots;
  }

  get placedTrades(): TradeView[] | null {
    return this.placed === null ? null : this.placed.trades;
  }

  get placedCancelCause(): PlacementCancelCause | null {
    return this.placed === null ? null : this.placed.cancelCause;
  }

  /** The quantity the order was placed with, in lots (from its command, validated when placed). */
  get placedLots(): number {
    const lots = countSteps(this.command.quantity, this.market.lot);
    if (typeof lots !== 'number') fail(`order ${this.seq}: quantity ${this.command.quantity} is not a lot count`);
    return lots;
  }

  get remainingLots(): number {
    return this.quantityLots - this.filledLots;
  }

  get isOpen(): boolean {
    return this.status === 'new' || this.status === 'partiallyFilled';
  }
}

/** How an order's own entry left it, when that was anything but "rested untouched" (see `Order.placed`). */
export class Placement {
  constructor(
    readonly status: OrderStatus,
    readonly filledLots: number,
    /** What rested (0 when the order did not rest). */
    readonly remainingLots: number,
    /** The trades of its own entry, or null when it traded nothing. */
    readonly trades: TradeView[] | null,
    /** Why its own entry cancelled its remainder, or null (filled or rested). */
    readonly cancelCause: PlacementCancelCause | null,
  ) {}

  /**
   * The placement to record for an order placed with `placedLots`: null when it equals the
   * untouched default (see `Order.placed`).
   */
  static of(
    placedLots: number, status: OrderStatus, filledLots: number, remainingLots: number, trades: TradeView[] | null,
    cancelCause: PlacementCancelCause | null,
  ): Placement | null {
    if (status === 'new' && filledLots === 0 && trades === null && remainingLots === placedLots && cancelCause === null) return null;
    return new Placement(status, filledLots, remainingLots, trades, cancelCause);
  }
}

/** '000'..'999': the last three digits of an order id. */
const threeDigits: readonly string[] = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'));
/** `O<seq / 1000>` of the last id built: consecutive orders share it. A memo only; ids do not depend on it. */
let idPrefixOf = -1;
let idPrefix = '';

/**
 * The order id of the order placed by log entry `seq`: `O<seq>`. Built from a memoised prefix and
 * a table of 3-digit suffixes, because number-to-string conversion of ever new seqs misses V8's
 * number-string cache every time and was a visible share of placing an order.
 */
export function orderIdOf(seq: number): string {
  if (!(seq >= 1000 && seq <= Number.MAX_SAFE_INTEGER)) return 'O' + String(seq);
  const high = Math.floor(seq / 1000);
  if (high !== idPrefixOf) {
    idPrefix = 'O' + String(high);
    idPrefixOf = high;
  }
  return idPrefix + threeDigits[seq - high * 1000]!;
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

  constructor(
    /** Mutable only so that an emptied level can be reused for another price (see levelPoolMax). */
    public priceTicks: number,
    /** The side the level belongs to, so a cancel needs no book lookup. */
    readonly side: BookSide,
  ) {}

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

/** Emptied Level objects a side keeps for reuse: levels come and go all the time at the touch. */
export const levelPoolMax = 64;

/**
 * The levels of a side keyed by price, as a read-only Map view over the sorted array (for
 * snapshots and invariant checks; the engine itself uses `find`).
 */
class LevelsView implements ReadonlyMap<number, Level> {
  constructor(private readonly owner: BookSide) {}

  get size(): number {
    return this.owner.depth;
  }

  get(price: number): Level | undefined {
    return this.owner.find(price) ?? undefined;
  }

  has(price: number): boolean {
    return this.owner.find(price) !== null;
  }

  /** Worst price first, like `prices`. */
  *entries(): MapIterator<[number, Level]> {
    for (let i = 0; i < this.owner.depth; i++) {
      const level = this.owner.levelAt(this.owner.depth - 1 - i);
      yield [level.priceTicks, level];
    }
  }

  *keys(): MapIterator<number> {
    for (const [price] of this.entries()) yield price;
  }

  *values(): MapIterator<Level> {
    for (const [, level] of this.entries()) yield level;
  }

  [Symbol.iterator](): MapIterator<[number, Level]> {
    return this.entries();
  }

  forEach(fn: (value: Level, key: number, map: ReadonlyMap<number, Level>) => void): void {
    for (const [price, level] of this.entries()) fn(level, price, this);
  }
}

/** One side of a book. */
export class BookSide {
  /** Levels sorted worst..best: the best is the last. */
  private readonly sorted: Level[] = [];
  private readonly pool: Level[] = [];
  /** +1 for bids (higher is better), -1 for asks. */
  private readonly sign: number;
  /** The levels by price (a view; see LevelsView). */
  readonly levels: ReadonlyMap<number, Level> = new LevelsView(this);

  constructor(readonly side: Side) {
    this.sign = side === 'buy' ? 1 : -1;
  }

  /** Number of levels. */
  get depth(): number {
    return this.sorted.length;
  }

  /** Level prices, best LAST (a fresh array). */
  get prices(): number[] {
    return this.sorted.map((l) => l.priceTicks);
  }

  /** The best level, or undefined when the side is empty. */
  best(): Level | undefined {
    const sorted = this.sorted;
    return sorted.length === 0 ? undefined : sorted[sorted.length - 1];
  }

  /** The level `rank` places from the best (0 = best); `rank` must be below `depth`. */
  levelAt(rank: number): Level {
    const level = this.sorted[this.sorted.length - 1 - rank];
    if (level === undefined) fail(`no level at rank ${rank} of ${this.sorted.length}`);
    return level;
  }

  /** True when `a` is a better price than `b` for this side. */
  better(a: number, b: number): boolean {
    return (a - b) * this.sign > 0;
  }

  /** The level at `price`, or null. */
  find(price: number): Level | null {
    const sorted = this.sorted;
    const n = sorted.length;
    if (n === 0) return null;
    const top = sorted[n - 1]!;
    if (top.priceTicks === price) return top;
    const i = this.searchFirstBetter(price, n - 1);
    const l = i > 0 ? sorted[i - 1]! : null;
    return l !== null && l.priceTicks === price ? l : null;
  }

  /** Appends `order` at the back of its price level, creating the level if needed. */
  add(order: Order): void {
    const price = order.priceTicks;
    const sorted = this.sorted;
    const n = sorted.length;
    // Fast paths: the best level, or a new best price (both common at the touch).
    if (n > 0) {
      const top = sorted[n - 1]!;
      if (top.priceTicks === price) {
        top.append(order);
        return;
      }
      if ((price - top.priceTicks) * this.sign > 0) {
        const level = this.newLevel(price);
        sorted.push(level);
        level.append(order);
        return;
      }
    }
    const i = this.searchFirstBetter(price, n);
    const below = i > 0 ? sorted[i - 1]! : null;
    if (below !== null && below.priceTicks === price) {
      below.append(order);
      return;
    }
    const level = this.newLevel(price);
    // Open a gap at i (no splice: it allocates the array of removed elements).
    sorted.push(level);
    for (let j = n; j > i; j--) sorted[j] = sorted[j - 1]!;
    sorted[i] = level;
    level.append(order);
  }

  /** Takes `order`'s remaining lots off its level and unlinks it; drops the level when empty. */
  remove(order: Order): void {
    const level = order.level;
    if (level === null || level.side !== this) fail(`order ${order.id} is not resting on this side`);
    level.totalLots -= order.remainingLots;
    level.unlink(order);
    if (level.count === 0) {
      if (level.totalLots !== 0) fail(`empty level ${level.priceTicks} holds ${level.totalLots} lots`);
      this.dropLevel(level);
    }
  }

  /** Levels best first, at most `depth`. */
  *levelsBestFirst(depth: number): Generator<Level> {
    const sorted = this.sorted;
    for (let i = sorted.length - 1, n = 0; i >= 0 && n < depth; i--, n++) yield sorted[i]!;
  }

  /** Index of the first level in `sorted[0, hi)` whose price is better than `price` (hi if none). */
  private searchFirstBetter(price: number, hi: number): number {
    const sorted = this.sorted;
    const sign = this.sign;
    let lo = 0;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid]!.priceTicks - price) * sign > 0) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }

  private newLevel(price: number): Level {
    const level = this.pool.pop();
    if (level === undefined) return new Level(price, this);
    level.priceTicks = price;
    return level;
  }

  private dropLevel(level: Level): void {
    const sorted = this.sorted;
    const last = sorted.length - 1;
    if (sorted[last] === level) {
      sorted.pop();
    } else {
      // The level is in the array, so the search stops right after it.
      const i = this.searchFirstBetter(level.priceTicks, last) - 1;
      if (sorted[i] !== level) fail(`level ${level.priceTicks} missing from its side`);
      for (let j = i; j < last; j++) sorted[j] = sorted[j + 1]!;
      sorted.pop();
    }
    if (this.pool.length < levelPoolMax) {
      level.head = null;
      level.tail = null;
      this.pool.push(level);
    }
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
