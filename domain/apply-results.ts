/**
 * The results of the hot commands (an accepted PlaceOrder, a CancelOrder, a ReduceOrder), with
 * their reply and their events built on first read rather than during `apply`: one small object
 * per command.
 *
 * Why: a follower (and a catching-up or replaying node) reads neither; only the leader answers
 * the client and only the projection reads events. Building a reply object (with its order id
 * and quantity strings) plus an events array for every command was the largest share of the
 * allocation (and so of the GC time) of the hot path: measured, apply ran ~35% faster without
 * them. Each result captures, at apply time, only IMMUTABLE values (numbers, strings, and the
 * accepted order, whose placement fields `placed*`, seq, price, market and command never change
 * after its own entry), so reply and events are byte-identical whenever they are read, however
 * the state has moved on since (test/domain/lazy-events.test.ts). `toJSON` makes
 * `JSON.stringify(result)` show `{ reply, events }` as a plain result would.
 */
import { assertNever } from './assert.js';
import type { MarketInfo } from './config.js';
import { placedReply } from './placed-reply.js';
import type { Order } from './order-book.js';
import type { ApplyResult, CancelCause, Event, OrderStatus, Reply } from './types.js';

/** How an accepted order's own entry ended: filled, resting, or its remainder cancelled with a cause. */
export type PlacementEnd = 'filled' | 'rested' | CancelCause;

/** An accepted PlaceOrder: orderAccepted, then per trade tradeExecuted (+ orderFilled of a filled maker), then the end. */
export class PlacedResult implements ApplyResult {
  private builtReply: Reply | null = null;
  private built: Event[] | null = null;

  constructor(
    /** The accepted order; only its immutable placement fields are read (see the file comment). */
    private readonly order: Order,
    /** The quantity placed, in lots (the order's own total may shrink later by reduces). */
    private readonly lots: number,
    /** Per trade, the maker's order id when that trade filled it (else null); null when no maker filled. */
    private readonly makersFilled: readonly (string | null)[] | null,
    private readonly end: PlacementEnd,
    /** Lots cancelled at the end (0 unless `end` is a cancel cause). */
    private readonly cancelledLots: number,
  ) {}

  get reply(): Reply {
    return (this.builtReply ??= placedReply(this.order));
  }

  get events(): Event[] {
    return (this.built ??= this.build());
  }

  toJSON(): { reply: Reply; events: Event[] } {
    return { reply: this.reply, events: this.events };
  }

  private build(): Event[] {
    const o = this.order;
    const c = o.command;
    const m = o.market;
    const accountId = c.accountId;
    const orderId = (this.reply as Extract<Reply, { kind: 'order' }>).orderId;
    const trades = o.placedTrades;
    const events: Event[] = [{
      type: 'orderAccepted', orderId, accountId, clientOrderId: c.clientOrderId, symbol: m.symbol,
      side: c.side, orderType: c.orderType, timeInForce: c.timeInForce,
      price: c.orderType === 'limit' ? m.priceFormat.format(o.priceTicks) : null, quantity: m.base.format.format(this.lots),
    }];
    if (trades !== null) {
      for (let i = 0; i < trades.length; i++) {
        const trade = trades[i]!;
        events.push({ type: 'tradeExecuted', trade });
        const maker = this.makersFilled?.[i] ?? null;
        if (maker !== null) {
          events.push({ type: 'orderFilled', orderId: maker, accountId: c.side === 'buy' ? trade.sellerAccountId : trade.buyerAccountId });
        }
      }
    }
    const end = this.end;
    switch (end) {
      case 'rested':
        break;
      case 'filled':
        events.push({ type: 'orderFilled', orderId, accountId });
        break;
      case 'user':
      case 'ioc':
      case 'market':
      case 'fok':
      case 'selfTrade':
      case 'reduced':
        events.push({ type: 'orderCancelled', orderId, accountId, cause: end, cancelledQuantity: m.base.format.format(this.cancelledLots) });
        break;
      default:
        assertNever(end);
    }
    return events;
  }
}

/** A CancelOrder, or a ReduceOrder that took the whole remainder: one orderCancelled event. */
export class CancelledResult implements ApplyResult {
  private builtReply: Reply | null = null;
  private built: Event[] | null = null;

  constructor(
    /** 'reduce' for a ReduceOrder that took the whole remainder (cause 'reduced'), else 'cancel' (cause 'user'). */
    private readonly kind: 'cancel' | 'reduce',
    private readonly logIndex: number,
    /** The order id as the command named it (the same string). */
    private readonly orderId: string,
    private readonly accountId: string,
    private readonly market: MarketInfo,
    private readonly cancelledLots: number,
  ) {}

  get reply(): Reply {
    if (this.builtReply === null) {
      const f = this.market.base.format;
      this.builtReply = this.kind === 'cancel'
        ? { kind: 'cancel', logIndex: this.logIndex, orderId: this.orderId, status: 'cancelled', cancelledQuantity: f.format(this.cancelledLots) }
        : { kind: 'reduce', logIndex: this.logIndex, orderId: this.orderId, status: 'cancelled', remainingQuantity: f.format(0) };
    }
    return this.builtReply;
  }

  get events(): Event[] {
    return (this.built ??= [{
      type: 'orderCancelled', orderId: this.orderId, accountId: this.accountId, cause: this.kind === 'cancel' ? 'user' : 'reduced',
      cancelledQuantity: this.market.base.format.format(this.cancelledLots),
    }]);
  }

  toJSON(): { reply: Reply; events: Event[] } {
    return { reply: this.reply, events: this.events };
  }
}

/** A ReduceOrder that left the order open: one orderReduced event. */
export class ReducedResult implements ApplyResult {
  private builtReply: Reply | null = null;
  private built: Event[] | null = null;

  constructor(
    private readonly logIndex: number,
    private readonly orderId: string,
    private readonly accountId: string,
    private readonly market: MarketInfo,
    /** The order's status after the reduce ('new' or 'partiallyFilled'). */
    private readonly status: OrderStatus,
    private readonly reducedByLots: number,
    /** The order's total and remaining lots after the reduce. */
    private readonly quantityLots: number,
    private readonly remainingLots: number,
  ) {}

  get reply(): Reply {
    return (this.builtReply ??= {
      kind: 'reduce', logIndex: this.logIndex, orderId: this.orderId, status: this.status,
      remainingQuantity: this.market.base.format.format(this.remainingLots),
    });
  }

  get events(): Event[] {
    const f = this.market.base.format;
    return (this.built ??= [{
      type: 'orderReduced', orderId: this.orderId, accountId: this.accountId, reducedBy: f.format(this.reducedByLots),
      quantity: f.format(this.quantityLots), remainingQuantity: f.format(this.remainingLots),
    }]);
  }

  toJSON(): { reply: Reply; events: Event[] } {
    return { reply: this.reply, events: this.events };
  }
}
