/**
 * Accounts: balances in integer units per asset, the account's open orders, and its slice of the
 * idempotency (dedup) table. An account exists from the first command that names it with an
 * idempotency key (normally its first deposit); it has balances only for assets it has touched.
 */
import { fail } from './assert.js';
import { BoundedMap } from './bounded-map.js';
import type { DedupRing } from './dedup-ring.js';
import { OpenOrders } from './open-orders.js';
import type { Order } from './order-book.js';
import type { Command, DepositCommand, PlaceOrderCommand, Reply, WithdrawCommand } from './types.js';

/** One asset's holding: `available` can be spent or withdrawn; `reserved` backs open orders. */
export class Balance {
  available = 0;
  reserved = 0;

  /** Moves `units` from available to reserved (the caller checked availability). */
  reserve(units: number): void {
    if (!(units >= 0 && units <= this.available)) fail(`reserve ${units} of available ${this.available}`);
    this.available -= units;
    this.reserved += units;
  }

  /** Moves `units` from reserved back to available. */
  release(units: number): void {
    if (!(units >= 0 && units <= this.reserved)) fail(`release ${units} of reserved ${this.reserved}`);
    this.reserved -= units;
    this.available += units;
  }

  /** Spends `units` out of reserved (a fill of a reserved order). */
  spendReserved(units: number): void {
    if (!(units >= 0 && units <= this.reserved)) fail(`spend ${units} of reserved ${this.reserved}`);
    this.reserved -= units;
  }

  /** Spends `units` out of available (a market buy, a withdrawal). */
  spendAvailable(units: number): void {
    if (!(units >= 0 && units <= this.available)) fail(`spend ${units} of available ${this.available}`);
    this.available -= units;
  }

  credit(units: number): void {
    if (!(units >= 0)) fail(`credit ${units}`);
    this.available += units;
  }
}

/**
 * A remembered outcome: the original command (kept by reference: commands are immutable values
 * once applied) and the reply it got.
 */
export interface DedupEntry<C extends Command> {
  readonly command: C;
  readonly reply: Reply;
}

/** Same idempotency key, same request? (the fields a retry must repeat exactly) */
export function samePlaceOrder(a: PlaceOrderCommand, b: PlaceOrderCommand): boolean {
  return a.symbol === b.symbol && a.side === b.side && a.orderType === b.orderType && a.timeInForce === b.timeInForce
    && a.quantity === b.quantity && a.price === b.price;
}

export function sameFundsRequest(a: DepositCommand | WithdrawCommand, b: DepositCommand | WithdrawCommand): boolean {
  return a.type === b.type && a.asset === b.asset && a.amount === b.amount;
}

export class Account {
  readonly balances = new Map<string, Balance>();
  /** Open orders in placement order. */
  readonly openOrders = new OpenOrders();
  /**
   * Idempotency records, each namespace bounded by dedupKeysPerAccountMax in insertion order:
   * client order ids of PlaceOrder, and request ids of Deposit/Withdraw (one namespace for both).
   * Both also count towards the exchange-wide dedupKeysMax (the state's DedupRing).
   */
  readonly orderKeys: BoundedMap<Order | DedupEntry<PlaceOrderCommand>>;
  readonly requestKeys: BoundedMap<DedupEntry<DepositCommand | WithdrawCommand>>;

  constructor(readonly id: string, dedupKeysMax: number, ring: DedupRing | null = null) {
    this.orderKeys = new BoundedMap(dedupKeysMax, ring);
    this.requestKeys = new BoundedMap(dedupKeysMax, ring);
  }

  /** The balance of `asset`, created empty on first touch. */
  balance(asset: string): Balance {
    let b = this.balances.get(asset);
    if (!b) {
      b = new Balance();
      this.balances.set(asset, b);
    }
    return b;
  }

  /** The balance of `asset`, or null when the account never touched it. */
  balanceOrNull(asset: string): Balance | null {
    return this.balances.get(asset) ?? null;
  }

  /** Available units of `asset` without creating a balance. */
  available(asset: string): number {
    return this.balances.get(asset)?.available ?? 0;
  }
}
