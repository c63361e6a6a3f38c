/**
 * PlaceOrder: funds check, reservation, price-time matching, and what happens to the remainder.
 *
 * Rules (the contract of issue 4/5):
 * - Price-time priority; trades execute at the RESTING order's price; partial fills allowed.
 * - A limit buy reserves price x quantity of quote cash, any sell reserves its shares. A fill below
 *   a buy's limit releases the difference at once. A market buy reserves nothing: it pays from
 *   available cash level by level and stops at the first lot it cannot afford (rest cancelled).
 * - Market orders never rest (IOC or FOK only); IOC rests nothing; FOK fills completely or
 *   changes nothing (book and balances untouched; the order is recorded as cancelled, cause 'fok').
 * - Self-trade prevention: when the next resting order in priority belongs to the same account,
 *   matching stops and the INCOMING remainder is cancelled (cause 'selfTrade'); the resting order
 *   is untouched. A FOK that would reach its own resting order before filling is not fillable.
 * - Rejections (FAILED_PRECONDITION): unknown symbol; a limit order whose reservation the
 *   available balance cannot cover; a sell without the shares; a market buy that cannot afford one
 *   lot at the best ask; a resting order beyond openOrdersPerAccountMax.
 */
import { assert, assertNever, fail } from './assert.js';
import { type ExchangeState, lotsText, notional, priceText } from './exchange-state.js';
import { type Account, samePlaceOrder } from './ledger.js';
import { countSteps } from './money.js';
import { type BookSide, Order, Placement } from './order-book.js';
import { PlacedResult, type PlacementEnd } from './apply-results.js';
import { placedReply } from './placed-reply.js';
import type { ApplyContext, ApplyResult, PlaceOrderCommand, PlacementCancelCause, RejectReason, TradeView } from './types.js';

function rejectOrder(cmd: PlaceOrderCommand, reason: RejectReason, message: string, ctx: ApplyContext): ApplyResult {
  return {
    reply: { kind: 'rejected', logIndex: ctx.logIndex, reason, message },
    events: [{ type: 'orderRejected', accountId: cmd.accountId, clientOrderId: cmd.clientOrderId, symbol: cmd.symbol, reason, message }],
  };
}

/** Applies a PlaceOrder, idempotent by (account, client order id). */
export function applyPlaceOrder(state: ExchangeState, cmd: PlaceOrderCommand, ctx: ApplyContext): ApplyResult {
  const account = state.account(cmd.accountId);
  const seen = account.orderKeys.get(cmd.clientOrderId);
  if (seen) {
    if (samePlaceOrder(seen.command, cmd)) return { reply: seen instanceof Order ? placedReply(seen) : seen.reply, events: [] };
    return rejectOrder(cmd, 'duplicateKeyMismatch', `client order id ${cmd.clientOrderId} was already used with different fields`, ctx);
  }
  const result = placeFresh(state, account, cmd, ctx);
  // An accepted order is its own idempotency record (placeFresh adds it; the reply is rebuilt
  // from it on a retry); a rejection keeps its reply.
  if (!(result instanceof PlacedResult)) account.orderKeys.add(cmd.clientOrderId, { command: cmd, reply: result.reply });
  return result;
}

/** What `match` found. */
interface MatchOutcome {
  /** The cancel cause for a remainder that may not rest, or null when the remainder (if any) rests. */
  readonly cause: PlacementCancelCause | null;
  /** Per trade, the maker's id when that trade filled it; null while no maker filled. */
  readonly makersFilled: (string | null)[] | null;
  /** The trades, in order; null when there were none. */
  readonly trades: TradeView[] | null;
}

/** Places a fresh order: a PlacedResult (the order recorded as its own idempotency record) or a rejection. */
function placeFresh(state: ExchangeState, account: Account, cmd: PlaceOrderCommand, ctx: ApplyContext): ApplyResult {
  const book = state.books.get(cmd.symbol);
  if (!book) return rejectOrder(cmd, 'unknownSymbol', `unknown symbol ${cmd.symbol}`, ctx);
  const m = book.market;
  const lots = countSteps(cmd.quantity, m.lot);
  if (typeof lots !== 'number' || lots === 0 || lots > m.quantityLotsMax) {
    return rejectOrder(cmd, 'invalidCommand', `invalid quantity ${cmd.quantity} for ${m.symbol}`, ctx);
  }
  const isLimit = cmd.orderType === 'limit';
  let priceTicks = 0;
  if (isLimit) {
    const p = cmd.price === null ? 'malformed' : countSteps(cmd.price, m.tick);
    if (typeof p !== 'number' || p === 0 || p > m.priceTicksMax) {
      return rejectOrder(cmd, 'invalidCommand', `invalid price ${cmd.price ?? 'null'} for ${m.symbol}`, ctx);
    }
    priceTicks = p;
  } else if (cmd.price !== null || cmd.timeInForce === 'gtc') {
    return rejectOrder(cmd, 'invalidCommand', 'a market order takes no price and is IOC or FOK', ctx);
  }
  const isBuy = cmd.side === 'buy';
  const opposite = isBuy ? book.asks : book.bids;
  const best = opposite.best();
  // The balance this order reserves from (or, for a market buy, pays from).
  const funding = account.balanceOrNull(isBuy ? m.quote.name : m.base.name);
  const available = funding === null ? 0 : funding.available;
  let reserve: number;
  if (!isBuy) {
    reserve = lots;
    if (available < lots) {
      return rejectOrder(cmd, 'insufficientFunds', `available ${m.base.name} does not cover ${cmd.quantity}`, ctx);
    }
  } else if (isLimit) {
    reserve = notional(m, priceTicks, lots);
    if (available < reserve) {
      return rejectOrder(cmd, 'insufficientFunds', `available ${m.quote.name} does not cover ${cmd.quantity} x ${cmd.price ?? ''}`, ctx);
    }
  } else {
    reserve = 0;
    if (best !== undefined && available < notional(m, best.priceTicks, 1)) {
      return rejectOrder(cmd, 'insufficientFunds', `available ${m.quote.name} does not cover one lot at the best ask`, ctx);
    }
  }
  const tif = cmd.timeInForce;
  if (tif === 'gtc' && account.openOrders.size >= state.config.source.openOrdersPerAccountMax) {
    return rejectOrder(cmd, 'limitExceeded', 'too many open orders', ctx);
  }

  const order = new Order(ctx.logIndex, cmd.accountId, m, cmd.side, priceTicks, lots, cmd);
  state.register(order);
  if (reserve > 0) {
    // The checks above found enough available, so the balance exists.
    if (funding === null) fail(`reserving from a missing balance of ${account.id}`);
    funding.reserve(reserve);
  }

  let outcome: MatchOutcome;
  if (best === undefined || !crosses(order, best.priceTicks)) outcome = tif === 'gtc' ? restsOutcome : noMatch(order);
  else if (tif === 'fok' && !fillable(opposite, order, account)) outcome = fokOutcome;
  else outcome = match(state, opposite, order, account, ctx);
  const cause = outcome.cause;

  let end: PlacementEnd;
  let cancelledLots = 0;
  if (order.remainingLots === 0) {
    state.close(order, 'filled', account);
    end = 'filled';
  } else if (cause === null) {
    assert(isLimit && tif === 'gtc', 'only a GTC limit order rests');
    if (order.filledLots > 0) order.status = 'partiallyFilled';
    book.sideOf(cmd.side).add(order);
    state.addOpen(order, account);
    end = 'rested';
  } else {
    assert(cause !== 'fok' || order.filledLots === 0, 'a FOK order traded and was then cancelled');
    releaseRemainder(account, order);
    cancelledLots = order.remainingLots;
    state.close(order, 'cancelled', account);
    end = cause;
  }
  order.placed = Placement.of(lots, order.status, order.filledLots, end === 'rested' ? order.remainingLots : 0, outcome.trades, cause);
  account.orderKeys.add(cmd.clientOrderId, order);
  return new PlacedResult(order, lots, outcome.makersFilled, end, cancelledLots);
}

const restsOutcome: MatchOutcome = { cause: null, makersFilled: null, trades: null };
const iocOutcome: MatchOutcome = { cause: 'ioc', makersFilled: null, trades: null };
const marketOutcome: MatchOutcome = { cause: 'market', makersFilled: null, trades: null };
const fokOutcome: MatchOutcome = { cause: 'fok', makersFilled: null, trades: null };

/** The outcome of an order that meets no crossing liquidity: it rests, or its time in force cancels it. */
function noMatch(taker: Order): MatchOutcome {
  if (taker.orderType === 'market') return marketOutcome;
  switch (taker.timeInForce) {
    case 'gtc':
      return restsOutcome;
    case 'ioc':
      return iocOutcome;
    case 'fok':
      return fokOutcome;
    default:
      return assertNever(taker.timeInForce);
  }
}

/**
 * `releaseRemainder` of a resting order, which is always a limit order (market orders never rest),
 * so its command need not be read.
 */
export function releaseResting(account: Account, order: Order): void {
  const m = order.market;
  const rest = order.remainingLots;
  if (order.side === 'sell') account.balance(m.base.name).release(rest);
  else account.balance(m.quote.name).release(notional(m, order.priceTicks, rest));
}

/** Gives back what the unfilled rest of `order` had reserved (nothing for a market buy). */
export function releaseRemainder(account: Account, order: Order): void {
  const m = order.market;
  const rest = order.remainingLots;
  if (order.side === 'sell') account.balance(m.base.name).release(rest);
  else if (order.orderType === 'limit') account.balance(m.quote.name).release(notional(m, order.priceTicks, rest));
}

function crosses(order: Order, levelPrice: number): boolean {
  if (order.orderType === 'market') return true;
  return order.side === 'buy' ? levelPrice <= order.priceTicks : levelPrice >= order.priceTicks;
}

/**
 * Matches `taker` against `opposite` until filled, out of crossing liquidity, stopped by its own
 * resting order, or (market buy) out of cash. The trades come back in the outcome.
 */
function match(state: ExchangeState, opposite: BookSide, taker: Order, account: Account, ctx: ApplyContext): MatchOutcome {
  const m = taker.market;
  const marketBuy = taker.orderType === 'market' && taker.side === 'buy';
  let stopped: PlacementCancelCause | null = null;
  let makersFilled: (string | null)[] | null = null;
  let trades: TradeView[] | null = null;
  let takerId: string | null = null;
  while (taker.remainingLots > 0) {
    const level = opposite.best();
    if (level === undefined || !crosses(taker, level.priceTicks)) break;
    const maker = level.head;
    if (maker === null) fail(`empty level ${level.priceTicks} in the book`);
    if (maker.accountId === taker.accountId) {
      stopped = 'selfTrade';
      break;
    }
    let fill = Math.min(taker.remainingLots, maker.remainingLots);
    if (marketBuy) {
      const affordable = Math.floor(account.available(m.quote.name) / notional(m, level.priceTicks, 1));
      if (affordable < fill) {
        fill = affordable;
        stopped = 'market';
      }
      if (fill === 0) break;
    }
    trades ??= [];
    // The taker's id once per order, not once per trade (ids are built, not stored: see Order.id).
    takerId ??= taker.id;
    const trade = execute(state, opposite, taker, takerId, maker, fill, ctx, trades.length + 1, account);
    trades.push(trade);
    if (maker.status === 'filled') {
      makersFilled ??= [];
      while (makersFilled.length < trades.length - 1) makersFilled.push(null);
      makersFilled.push(taker.side === 'buy' ? trade.sellOrderId : trade.buyOrderId);
    }
    if (stopped !== null) break;
  }
  let cause: PlacementCancelCause | null = null;
  if (taker.remainingLots === 0) cause = null;
  else if (stopped !== null) cause = stopped;
  else if (taker.orderType === 'market') cause = 'market';
  else if (taker.timeInForce === 'ioc') cause = 'ioc';
  else assert(taker.timeInForce === 'gtc', 'a FOK order passed its check but did not fill');
  return { cause, makersFilled, trades };
}

/** One trade of `lots` at the maker's price: moves cash and shares, updates both orders and the level. */
function execute(
  state: ExchangeState, opposite: BookSide, taker: Order, takerId: string, maker: Order, lots: number,
  ctx: ApplyContext, seq: number, takerAccount: Account,
): TradeView {
  const m = taker.market;
  const price = maker.priceTicks;
  const cost = notional(m, price, lots);
  const makerAccount = state.accounts.get(maker.accountId);
  if (makerAccount === undefined) fail(`maker ${maker.id} has no account`);
  const buyer = taker.side === 'buy' ? takerAccount : makerAccount;
  const seller = taker.side === 'buy' ? makerAccount : takerAccount;
  const buyOrder = taker.side === 'buy' ? taker : maker;
  const sellOrder = taker.side === 'buy' ? maker : taker;
  const buyerQuote = buyer.balance(m.quote.name);
  if (buyOrder.orderType === 'market') {
    buyerQuote.spendAvailable(cost);
  } else {
    // The buy reserved its own limit price; a cheaper fill gives the difference back now.
    const reservedForFill = notional(m, buyOrder.priceTicks, lots);
    buyerQuote.spendReserved(reservedForFill);
    buyerQuote.credit(reservedForFill - cost);
  }
  buyer.balance(m.base.name).credit(lots);
  seller.balance(m.base.name).spendReserved(lots);
  seller.balance(m.quote.name).credit(cost);

  taker.filledLots += lots;
  maker.filledLots += lots;
  const level = maker.level;
  if (level === null) fail(`maker ${maker.id} is not resting`);
  level.totalLots -= lots;
  if (maker.remainingLots === 0) {
    opposite.remove(maker);
    state.close(maker, 'filled', makerAccount);
  } else {
    maker.status = 'partiallyFilled';
  }
  const makerId = maker.id;
  return {
    tradeId: `T${ctx.logIndex}.${seq}`,
    symbol: m.symbol,
    price: priceText(m, price),
    quantity: lotsText(m, lots),
    buyOrderId: taker.side === 'buy' ? takerId : makerId,
    sellOrderId: taker.side === 'buy' ? makerId : takerId,
    buyerAccountId: buyOrder.accountId,
    sellerAccountId: sellOrder.accountId,
    aggressorSide: taker.side,
    logIndex: ctx.logIndex,
    timestampMs: ctx.timestampMs,
  };
}

/** Whether a FOK order would fill completely, walking the book exactly as `match` would. */
function fillable(opposite: BookSide, taker: Order, account: Account): boolean {
  const m = taker.market;
  const marketBuy = taker.orderType === 'market' && taker.side === 'buy';
  let need = taker.remainingLots;
  let budget = marketBuy ? account.available(m.quote.name) : 0;
  for (let rank = 0; rank < opposite.depth; rank++) {
    const level = opposite.levelAt(rank);
    if (!crosses(taker, level.priceTicks)) return false;
    const perLot = marketBuy ? notional(m, level.priceTicks, 1) : 0;
    for (let o = level.head; o !== null; o = o.next) {
      if (o.accountId === taker.accountId) return false;
      const take = Math.min(need, o.remainingLots);
      if (marketBuy) {
        if (Math.floor(budget / perLot) < take) return false;
        budget -= take * perLot;
      }
      need -= take;
      if (need === 0) return true;
    }
  }
  return false;
}
