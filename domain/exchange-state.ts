/**
 * The whole replicated state of the exchange, mutated in place by the command handlers
 * (`funds-commands.ts`, `matching.ts`, `order-commands.ts`) and read by queries, snapshots and
 * invariant checks. Nothing here reads a clock or a random source.
 */
import { fail } from './assert.js';
import type { AssetInfo, CompiledConfig, MarketInfo } from './config.js';
import { DedupRing } from './dedup-ring.js';
import { Account, type Balance } from './ledger.js';
import { formatSteps } from './money.js';
import { OrderBook, orderSeqOf, type Order } from './order-book.js';
import { OrderIndex } from './order-index.js';
import type { BalanceView, OrderView } from './types.js';

export class ExchangeState {
  readonly books = new Map<string, OrderBook>();
  readonly accounts = new Map<string, Account>();
  /**
   * Every open order and the most recently closed ones (at most closedOrdersMax), by id, in
   * placement order. Closed orders stay so queries can show them and so cancelling one is
   * answered `orderNotOpen` rather than `unknownOrder`.
   */
  readonly orders = new OrderIndex();
  /** Ids of closed orders still in `orders`, oldest first from `closedHead` (a FIFO). */
  closedIds: number[] = [];
  closedHead = 0;
  /** Units ever deposited per asset. */
  readonly deposited = new Map<string, number>();
  /** Units ever withdrawn per asset. */
  readonly withdrawn = new Map<string, number>();
  lastAppliedIndex = 0;
  /** The exchange-wide bound of every account's dedup tables (dedupKeysMax). */
  readonly dedupRing: DedupRing;

  /** An open or remembered closed order by its id. */
  order(orderId: string): Order | undefined {
    const seq = orderSeqOf(orderId);
    return seq === null ? undefined : this.orders.get(seq);
  }

  constructor(readonly config: CompiledConfig) {
    this.dedupRing = new DedupRing(config.source.dedupKeysMax);
    for (const market of config.markets.values()) this.books.set(market.symbol, new OrderBook(market));
  }

  /** The account, created on first use. */
  account(id: string): Account {
    let a = this.accounts.get(id);
    if (!a) {
      a = new Account(id, this.config.source.dedupKeysPerAccountMax, this.dedupRing);
      this.accounts.set(id, a);
    }
    return a;
  }

  asset(name: string): AssetInfo {
    const info = this.config.assets.get(name);
    if (info === undefined) fail(`unknown asset ${name}`);
    return info;
  }

  /** Units of `asset` deposited and not withdrawn: what all balances of it must add up to. */
  supply(asset: string): number {
    return (this.deposited.get(asset) ?? 0) - (this.withdrawn.get(asset) ?? 0);
  }

  /** Registers a new order (before it matches). */
  register(order: Order): void {
    this.orders.add(order);
  }

  /** Lists a resting order under its account. */
  addOpen(order: Order, account: Account): void {
    account.openOrders.add(order);
  }

  /** Marks an order that left the book (or never rested) closed; forgets the oldest closed one beyond the limit. */
  close(order: Order, status: 'filled' | 'cancelled', account: Account): void {
    if (account.id !== order.accountId) fail(`closing ${order.id} under account ${account.id}`);
    order.status = status;
    account.openOrders.delete(order);
    this.closedIds.push(order.seq);
    if (this.closedIds.length - this.closedHead > this.config.source.closedOrdersMax) {
      const oldest = this.closedIds[this.closedHead++]!;
      this.orders.delete(oldest);
      // Drop the consumed prefix now and then, so the FIFO's array stays O(closedOrdersMax).
      if (this.closedHead >= closedCompactMin && this.closedHead * 2 >= this.closedIds.length) {
        this.closedIds = this.closedIds.slice(this.closedHead);
        this.closedHead = 0;
      }
    }
  }

  /** Open orders in placement order. */
  *openOrders(): Generator<Order> {
    for (const o of this.orders.values()) if (o.isOpen) yield o;
  }
}

/** Consumed FIFO slots tolerated before compacting the closed-id array. */
const closedCompactMin = 1024;

/** Notional in quote units of `lots` at `priceTicks`. */
export function notional(market: MarketInfo, priceTicks: number, lots: number): number {
  const n = priceTicks * lots * market.quotePerTickLot;
  if (!Number.isSafeInteger(n)) fail(`notional overflow: ${priceTicks} x ${lots}`);
  return n;
}

export function balanceView(asset: AssetInfo, balance: Balance | undefined): BalanceView {
  return {
    asset: asset.name,
    // Not memoised: balances rarely repeat, they would only churn the formatter's cache.
    available: formatSteps(balance?.available ?? 0, asset.unit),
    reserved: formatSteps(balance?.reserved ?? 0, asset.unit),
  };
}

export function priceText(market: MarketInfo, priceTicks: number): string {
  return market.priceFormat.format(priceTicks);
}

export function lotsText(market: MarketInfo, lots: number): string {
  return market.base.format.format(lots);
}

export function orderView(order: Order): OrderView {
  const m = order.market;
  return {
    orderId: order.id,
    clientOrderId: order.clientOrderId,
    accountId: order.accountId,
    symbol: m.symbol,
    side: order.side,
    orderType: order.orderType,
    timeInForce: order.timeInForce,
    price: order.orderType === 'market' ? null : priceText(m, order.priceTicks),
    quantity: lotsText(m, order.quantityLots),
    filledQuantity: lotsText(m, order.filledLots),
    remainingQuantity: lotsText(m, order.status === 'cancelled' || order.status === 'filled' ? 0 : order.remainingLots),
    status: order.status,
  };
}
