/**
 * A naive reference exchange for differential testing: obviously right, slow on purpose.
 * Every amount is a bigint scaled by 10^8; the book is one array of resting orders per symbol and
 * every match step scans it linearly for the best (price, then arrival) counter-order.
 *
 * Rules (the same ones the engine documents):
 * - price-time priority; a trade executes at the resting (maker) order's price; partial fills;
 * - limit GTC rests its remainder; IOC cancels it; a market order never rests (cancel, cause market);
 * - FOK: fills completely or changes nothing (cancelled with cause fok);
 * - self-trade prevention: when the next maker belongs to the taker's account, matching stops and
 *   the taker's remainder is cancelled (cause selfTrade), even for GTC;
 * - a limit buy reserves limit x quantity of cash and releases (limit - price) x fill on each fill;
 *   a sell (limit or market) reserves its shares; a market buy reserves nothing and buys only what
 *   its available cash covers at each maker's price, whole lots;
 * - a market buy that cannot afford one lot at the best ask is rejected (insufficientFunds);
 * - reduce takes its quantity off the open remainder in place (keeps priority); reducing by the
 *   whole remainder or more cancels the order;
 * - cancel and reduce release exactly what the removed part had reserved;
 * - idempotency: a repeated (account, clientOrderId) or (account, requestId) returns the first
 *   outcome and does nothing.
 */
import type { Command, OrderStatus, RejectReason, Side, TimeInForce } from '../../domain/index.js';

/** Fixed-point scale of every amount in the reference. */
export const refScale = 10n ** 8n;

/** A plain decimal string -> bigint at `refScale` (exact; throws on more than 8 decimals). */
export function toUnits(s: string): bigint {
  const m = /^([0-9]+)(?:\.([0-9]+))?$/.exec(s);
  if (m === null) throw new Error(`reference: not a plain decimal: ${JSON.stringify(s)}`);
  const frac = (m[2] ?? '').replace(/0+$/, '');
  if (frac.length > 8) throw new Error(`reference: too many decimals: ${s}`);
  return BigInt(m[1]!) * refScale + BigInt(frac.padEnd(8, '0'));
}

/** bigint at `refScale` -> canonical plain decimal (no trailing zeros). */
export function fromUnits(u: bigint): string {
  const neg = u < 0n;
  const a = neg ? -u : u;
  const whole = a / refScale;
  const frac = (a % refScale).toString().padStart(8, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole}${frac === '' ? '' : `.${frac}`}`;
}

export interface RefInstrument {
  readonly symbol: string;
  readonly quoteAsset: string;
  readonly tick: string;
  readonly lot: string;
}

export interface RefTrade {
  readonly price: bigint;
  readonly quantity: bigint;
  readonly makerOrderId: string;
  readonly takerOrderId: string;
  readonly buyerAccountId: string;
  readonly sellerAccountId: string;
  readonly aggressorSide: Side;
}

export type RefOutcome =
  | { readonly kind: 'balance'; readonly available: bigint; readonly reserved: bigint }
  | { readonly kind: 'order'; readonly orderId: string; readonly status: OrderStatus; readonly filled: bigint; readonly remaining: bigint; readonly trades: readonly RefTrade[] }
  | { readonly kind: 'cancel'; readonly orderId: string; readonly cancelled: bigint }
  | { readonly kind: 'reduce'; readonly orderId: string; readonly remaining: bigint }
  | { readonly kind: 'rejected'; readonly reason: RejectReason };

interface RefOrder {
  readonly id: string;
  readonly accountId: string;
  readonly symbol: string;
  readonly side: Side;
  /** null for market orders. */
  readonly price: bigint | null;
  readonly timeInForce: TimeInForce;
  /** Arrival number: time priority. */
  readonly seq: number;
  quantity: bigint;
  filled: bigint;
  status: OrderStatus;
}

interface Balance {
  available: bigint;
  reserved: bigint;
}

const mulPrice = (price: bigint, qty: bigint): bigint => {
  const raw = price * qty;
  if (raw % refScale !== 0n) throw new Error('reference: notional is not exact at 10^-8');
  return raw / refScale;
};

/** The reference exchange. Feed it the same commands as the engine, in the same order. */
export class ReferenceMatcher {
  private readonly instruments = new Map<string, RefInstrument>();
  private readonly assets = new Set<string>();
  private readonly balances = new Map<string, Map<string, Balance>>();
  /** All accepted orders by id (open and closed). */
  private readonly orders = new Map<string, RefOrder>();
  /** Resting orders, any symbol, any order: the naive book. */
  private resting: RefOrder[] = [];
  private readonly dedup = new Map<string, { command: string; outcome: RefOutcome }>();
  private seq = 0;
  /** How often each rule stopped a match: lets the property test check its streams reached them. */
  readonly stops = { selfTrade: 0, cash: 0, fokUnfillable: 0 };

  constructor(instruments: readonly RefInstrument[]) {
    for (const i of instruments) {
      this.instruments.set(i.symbol, i);
      this.assets.add(i.symbol);
      this.assets.add(i.quoteAsset);
    }
  }

  private balance(accountId: string, asset: string): Balance {
    let acct = this.balances.get(accountId);
    if (acct === undefined) this.balances.set(accountId, (acct = new Map()));
    let b = acct.get(asset);
    if (b === undefined) acct.set(asset, (b = { available: 0n, reserved: 0n }));
    return b;
  }

  /** Every (asset, available, reserved) of an account with a non-zero total or a touched entry, sorted by asset. */
  portfolio(accountId: string): { asset: string; available: bigint; reserved: bigint }[] {
    const acct = this.balances.get(accountId);
    if (acct === undefined) return [];
    return [...acct.entries()]
      .map(([asset, b]) => ({ asset, available: b.available, reserved: b.reserved }))
      .sort((a, b) => (a.asset < b.asset ? -1 : a.asset > b.asset ? 1 : 0));
  }

  /** Open orders of a symbol and side, best first (price, then arrival). */
  book(symbol: string, side: Side): RefOrder[] {
    return this.resting.filter((o) => o.symbol === symbol && o.side === side).sort((a, b) => this.priority(a, b));
  }

  /** Aggregated levels best first: [price, quantity, orderCount]. */
  levels(symbol: string, side: Side): { price: bigint; quantity: bigint; orderCount: number }[] {
    const out: { price: bigint; quantity: bigint; orderCount: number }[] = [];
    for (const o of this.book(symbol, side)) {
      const last = out[out.length - 1];
      const open = o.quantity - o.filled;
      if (last !== undefined && last.price === o.price) {
        last.quantity += open;
        last.orderCount++;
      } else out.push({ price: o.price!, quantity: open, orderCount: 1 });
    }
    return out;
  }

  order(orderId: string): RefOrder | undefined {
    return this.orders.get(orderId);
  }

  private priority(a: RefOrder, b: RefOrder): number {
    if (a.price !== b.price) {
      const better = a.side === 'buy' ? a.price! > b.price! : a.price! < b.price!;
      return better ? -1 : 1;
    }
    return a.seq - b.seq;
  }

  /** The best resting order on `side` of `symbol`, by a linear scan. */
  private bestMaker(symbol: string, side: Side): RefOrder | undefined {
    let best: RefOrder | undefined;
    for (const o of this.resting) {
      if (o.symbol !== symbol || o.side !== side) continue;
      if (best === undefined || this.priority(o, best) < 0) best = o;
    }
    return best;
  }

  /**
   * Applies one command. `newOrderId` names the order a placeOrder creates (the engine derives it
   * from the log index; the test passes the same name).
   */
  apply(command: Command, newOrderId: string): RefOutcome {
    const key = this.dedupKey(command);
    if (key !== undefined) {
      const seen = this.dedup.get(key);
      const text = JSON.stringify(command);
      if (seen !== undefined) return seen.command === text ? seen.outcome : { kind: 'rejected', reason: 'duplicateKeyMismatch' };
      const outcome = this.applyNew(command, newOrderId);
      this.dedup.set(key, { command: text, outcome });
      return outcome;
    }
    return this.applyNew(command, newOrderId);
  }

  private dedupKey(c: Command): string | undefined {
    switch (c.type) {
      case 'deposit':
      case 'withdraw':
        return `${c.accountId}\u0000req\u0000${c.requestId}`;
      case 'placeOrder':
        return `${c.accountId}\u0000ord\u0000${c.clientOrderId}`;
      case 'cancelOrder':
      case 'reduceOrder':
        return undefined;
    }
  }

  private applyNew(c: Command, newOrderId: string): RefOutcome {
    switch (c.type) {
      case 'deposit': {
        if (!this.assets.has(c.asset)) return { kind: 'rejected', reason: 'unknownAsset' };
        const b = this.balance(c.accountId, c.asset);
        b.available += toUnits(c.amount);
        return { kind: 'balance', available: b.available, reserved: b.reserved };
      }
      case 'withdraw': {
        if (!this.assets.has(c.asset)) return { kind: 'rejected', reason: 'unknownAsset' };
        const b = this.balance(c.accountId, c.asset);
        const amount = toUnits(c.amount);
        if (b.available < amount) return { kind: 'rejected', reason: 'insufficientFunds' };
        b.available -= amount;
        return { kind: 'balance', available: b.available, reserved: b.reserved };
      }
      case 'placeOrder':
        return this.place(c, newOrderId);
      case 'cancelOrder': {
        const o = this.orders.get(c.orderId);
        if (o === undefined) return { kind: 'rejected', reason: 'unknownOrder' };
        if (o.accountId !== c.accountId) return { kind: 'rejected', reason: 'notOrderOwner' };
        if (!this.isOpen(o)) return { kind: 'rejected', reason: 'orderNotOpen' };
        const cancelled = o.quantity - o.filled;
        this.releaseOpen(o, cancelled);
        this.unrest(o);
        o.status = 'cancelled';
        return { kind: 'cancel', orderId: o.id, cancelled };
      }
      case 'reduceOrder': {
        const o = this.orders.get(c.orderId);
        if (o === undefined) return { kind: 'rejected', reason: 'unknownOrder' };
        if (o.accountId !== c.accountId) return { kind: 'rejected', reason: 'notOrderOwner' };
        if (!this.isOpen(o)) return { kind: 'rejected', reason: 'orderNotOpen' };
        // `quantity` is taken off the open remainder in place; taking all of it (or more) cancels.
        const by = toUnits(c.quantity);
        if (by === 0n) return { kind: 'rejected', reason: 'invalidCommand' };
        const open = o.quantity - o.filled;
        const taken = by < open ? by : open;
        this.releaseOpen(o, taken);
        o.quantity -= taken;
        if (o.quantity === o.filled) {
          this.unrest(o);
          o.status = 'cancelled';
        }
        return { kind: 'reduce', orderId: o.id, remaining: o.quantity - o.filled };
      }
    }
  }

  private isOpen(o: RefOrder): boolean {
    return o.status === 'new' || o.status === 'partiallyFilled';
  }

  private unrest(o: RefOrder): void {
    this.resting = this.resting.filter((r) => r !== o);
  }

  /** Releases what `qty` open lots of a resting order had reserved. */
  private releaseOpen(o: RefOrder, qty: bigint): void {
    const inst = this.instruments.get(o.symbol)!;
    if (o.side === 'buy') {
      const b = this.balance(o.accountId, inst.quoteAsset);
      const amount = mulPrice(o.price!, qty);
      b.reserved -= amount;
      b.available += amount;
    } else {
      const b = this.balance(o.accountId, o.symbol);
      b.reserved -= qty;
      b.available += qty;
    }
  }

  /** Would `taker` fill completely? A dry run of the match loop (no state changes). */
  private fillable(taker: RefOrder, cash: bigint): bigint {
    const makers = this.book(taker.symbol, taker.side === 'buy' ? 'sell' : 'buy');
    let left = taker.quantity;
    let cashLeft = cash;
    const lot = toUnits(this.instruments.get(taker.symbol)!.lot);
    for (const m of makers) {
      if (left === 0n) break;
      if (!this.crosses(taker, m.price!)) break;
      if (m.accountId === taker.accountId) break;
      let fill = left < m.quantity - m.filled ? left : m.quantity - m.filled;
      if (taker.price === null && taker.side === 'buy') {
        const affordable = ((cashLeft * refScale) / m.price! / lot) * lot;
        if (affordable < fill) fill = affordable;
        if (fill === 0n) break;
        cashLeft -= mulPrice(m.price!, fill);
      }
      left -= fill;
    }
    return taker.quantity - left;
  }

  private crosses(taker: RefOrder, makerPrice: bigint): boolean {
    if (taker.price === null) return true;
    return taker.side === 'buy' ? makerPrice <= taker.price : makerPrice >= taker.price;
  }

  private place(c: Extract<Command, { type: 'placeOrder' }>, id: string): RefOutcome {
    const inst = this.instruments.get(c.symbol);
    if (inst === undefined) return { kind: 'rejected', reason: 'unknownSymbol' };
    const price = c.price === null ? null : toUnits(c.price);
    const quantity = toUnits(c.quantity);
    const cash = this.balance(c.accountId, inst.quoteAsset);
    const shares = this.balance(c.accountId, c.symbol);
    // Funds check first: a FOK or IOC that cannot pay is rejected, not cancelled.
    if (c.side === 'buy' && price !== null) {
      if (cash.available < mulPrice(price, quantity)) return { kind: 'rejected', reason: 'insufficientFunds' };
    } else if (c.side === 'sell') {
      if (shares.available < quantity) return { kind: 'rejected', reason: 'insufficientFunds' };
    } else {
      const bestAsk = this.bestMaker(c.symbol, 'sell');
      if (bestAsk !== undefined && cash.available < mulPrice(bestAsk.price!, toUnits(inst.lot))) {
        return { kind: 'rejected', reason: 'insufficientFunds' };
      }
    }
    const taker: RefOrder = {
      id, accountId: c.accountId, symbol: c.symbol, side: c.side, price, timeInForce: c.timeInForce,
      seq: ++this.seq, quantity, filled: 0n, status: 'new',
    };
    this.orders.set(id, taker);
    if (c.timeInForce === 'fok' && this.fillable(taker, cash.available) < quantity) {
      this.stops.fokUnfillable++;
      taker.status = 'cancelled';
      return { kind: 'order', orderId: id, status: 'cancelled', filled: 0n, remaining: 0n, trades: [] };
    }
    // Reserve: limit buy the whole notional at its limit; a sell its shares; a market buy nothing.
    if (c.side === 'buy' && price !== null) {
      const n = mulPrice(price, quantity);
      cash.available -= n;
      cash.reserved += n;
    } else if (c.side === 'sell') {
      shares.available -= quantity;
      shares.reserved += quantity;
    }
    const trades: RefTrade[] = [];
    const lot = toUnits(inst.lot);
    const makerSide: Side = c.side === 'buy' ? 'sell' : 'buy';
    let stoppedBy: 'none' | 'selfTrade' | 'cash' = 'none';
    while (taker.filled < taker.quantity) {
      const m = this.bestMaker(c.symbol, makerSide);
      if (m === undefined || !this.crosses(taker, m.price!)) break;
      if (m.accountId === taker.accountId) {
        stoppedBy = 'selfTrade';
        break;
      }
      const tLeft = taker.quantity - taker.filled;
      const mLeft = m.quantity - m.filled;
      let fill = tLeft < mLeft ? tLeft : mLeft;
      if (price === null && c.side === 'buy') {
        const affordable = ((cash.available * refScale) / m.price! / lot) * lot;
        if (affordable < fill) fill = affordable;
        if (fill === 0n) {
          stoppedBy = 'cash';
          break;
        }
      }
      this.settle(taker, m, fill);
      trades.push({
        price: m.price!, quantity: fill, makerOrderId: m.id, takerOrderId: taker.id,
        buyerAccountId: c.side === 'buy' ? taker.accountId : m.accountId,
        sellerAccountId: c.side === 'sell' ? taker.accountId : m.accountId, aggressorSide: c.side,
      });
    }
    if (stoppedBy !== 'none') this.stops[stoppedBy]++;
    const remaining = taker.quantity - taker.filled;
    if (remaining === 0n) {
      taker.status = 'filled';
    } else if (c.timeInForce === 'gtc' && price !== null && stoppedBy === 'none') {
      taker.status = taker.filled > 0n ? 'partiallyFilled' : 'new';
      this.resting.push(taker);
    } else {
      // IOC, FOK (cannot happen after the dry run), market, self-trade: cancel the remainder.
      if (price !== null || c.side === 'sell') this.releaseOpen(taker, remaining);
      taker.status = 'cancelled';
    }
    const open = this.isOpen(taker) ? remaining : 0n;
    return { kind: 'order', orderId: id, status: taker.status, filled: taker.filled, remaining: open, trades };
  }

  /** Moves cash and shares for one fill of `fill` lots at the maker's price. */
  private settle(taker: RefOrder, maker: RefOrder, fill: bigint): void {
    const inst = this.instruments.get(taker.symbol)!;
    const tradePrice = maker.price!;
    const notional = mulPrice(tradePrice, fill);
    const [buy, sell] = taker.side === 'buy' ? [taker, maker] : [maker, taker];
    const buyerCash = this.balance(buy.accountId, inst.quoteAsset);
    if (buy.price === null) {
      buyerCash.available -= notional;
    } else {
      // The buy reserved its limit price; the fill pays the trade price and frees the difference.
      const reservedPart = mulPrice(buy.price, fill);
      buyerCash.reserved -= reservedPart;
      buyerCash.available += reservedPart - notional;
    }
    this.balance(buy.accountId, inst.symbol).available += fill;
    this.balance(sell.accountId, inst.symbol).reserved -= fill;
    this.balance(sell.accountId, inst.quoteAsset).available += notional;
    for (const o of [taker, maker]) {
      o.filled += fill;
      o.status = o.filled === o.quantity ? 'filled' : 'partiallyFilled';
    }
    if (maker.filled === maker.quantity) this.unrest(maker);
  }
}
