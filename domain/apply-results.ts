/**
 * The results of the hot commands (an accepted PlaceOrder, a CancelOrder, a ReduceOrder), with
 * their events built on first read rather than during `apply`.
 *
 * Why: most callers of `apply` (the bench, a follower catching up, the replay) read only the
 * reply, and building an events array plus its event objects for every command was a large share
 * of the allocation (and so of the GC time) of the hot path. Each result captures, at apply time,
 * only IMMUTABLE values (strings, numbers, the trades array that the reply already holds), so the
 * events are byte-identical whenever they are read, however the state has moved on since.
 * `toJSON` makes `JSON.stringify(result)` show `{ reply, events }` as a plain result would.
 */
import { assertNever } from './assert.js';
import type { MarketInfo } from './config.js';
import type { ApplyResult, CancelCause, Event, PlaceOrderCommand, Reply, TradeView } from './types.js';

/** How an accepted order's own entry ended: filled, resting, or its remainder cancelled with a cause. */
export type PlacementEnd = 'filled' | 'rested' | CancelCause;

/** An accepted PlaceOrder: orderAccepted, then per trade tradeExecuted (+ orderFilled of a filled maker), then the end. */
export class PlacedResult implements ApplyResult {
  private built: Event[] | null = null;

  constructor(
    readonly reply: Reply,
    private readonly orderId: string,
    private readonly command: PlaceOrderCommand,
    private readonly market: MarketInfo,
    /** Limit price in ticks (0 for a market order) and the quantity placed, in lots. */
    private readonly priceTicks: number,
    private readonly lots: number,
    private readonly trades: readonly TradeView[],
    /** Per trade, the maker's order id when that trade filled it (else null); null when no maker filled. */
    private readonly makersFilled: readonly (string | null)[] | null,
    private readonly end: PlacementEnd,
    /** Lots cancelled at the end (0 unless `end` is a cancel cause). */
    private readonly cancelledLots: number,
  ) {}

  get events(): Event[] {
    return (this.built ??= this.build());
  }

  toJSON(): { reply: Reply; events: Event[] } {
    return { reply: this.reply, events: this.events };
  }

  private build(): Event[] {
    const c = this.command;
    const m = this.market;
    const accountId = c.accountId;
    const events: Event[] = [{
      type: 'orderAccepted', orderId: this.orderId, accountId, clientOrderId: c.clientOrderId, symbol: m.symbol,
      side: c.side, orderType: c.orderType, timeInForce: c.timeInForce,
      price: c.orderType === 'limit' ? m.priceFormat.format(this.priceTicks) : null, quantity: m.base.format.format(this.lots),
    }];
    for (let i = 0; i < this.trades.length; i++) {
      const trade = this.trades[i]!;
      events.push({ type: 'tradeExecuted', trade });
      const maker = this.makersFilled?.[i] ?? null;
      if (maker !== null) {
        events.push({ type: 'orderFilled', orderId: maker, accountId: c.side === 'buy' ? trade.sellerAccountId : trade.buyerAccountId });
      }
    }
    const end = this.end;
    switch (end) {
      case 'rested':
        break;
      case 'filled':
        events.push({ type: 'orderFilled', orderId: this.orderId, accountId });
        break;
      case 'user':
      case 'ioc':
      case 'market':
      case 'fok':
      case 'selfTrade':
      case 'reduced':
        events.push({ type: 'orderCancelled', orderId: this.orderId, accountId, cause: end, cancelledQuantity: m.base.format.format(this.cancelledLots) });
        break;
      default:
        assertNever(end);
    }
    return events;
  }
}

/** A CancelOrder, or a ReduceOrder that took the whole remainder: one orderCancelled event. */
export class CancelledResult implements ApplyResult {
  private built: Event[] | null = null;

  constructor(
    readonly reply: Reply,
    private readonly orderId: string,
    private readonly accountId: string,
    private readonly cause: 'user' | 'reduced',
    private readonly cancelledQuantity: string,
  ) {}

  get events(): Event[] {
    return (this.built ??= [{
      type: 'orderCancelled', orderId: this.orderId, accountId: this.accountId, cause: this.cause, cancelledQuantity: this.cancelledQuantity,
    }]);
  }

  toJSON(): { reply: Reply; events: Event[] } {
    return { reply: this.reply, events: this.events };
  }
}

/** A ReduceOrder that left the order open: one orderReduced event. */
export class ReducedResult implements ApplyResult {
  private built: Event[] | null = null;

  constructor(
    readonly reply: Reply,
    private readonly orderId: string,
    private readonly accountId: string,
    private readonly reducedBy: string,
    private readonly quantity: string,
    private readonly remainingQuantity: string,
  ) {}

  get events(): Event[] {
    return (this.built ??= [{
      type: 'orderReduced', orderId: this.orderId, accountId: this.accountId, reducedBy: this.reducedBy,
      quantity: this.quantity, remainingQuantity: this.remainingQuantity,
    }]);
  }

  toJSON(): { reply: Reply; events: Event[] } {
    return { reply: this.reply, events: this.events };
  }
}
