/**
 * Whole-state invariant checks, for tests (the property test runs them after every command) and
 * debugging. Slow on purpose: recomputes everything from scratch, sums in bigint.
 */
import type { Exchange } from './exchange.js';
import { notional } from './exchange-state.js';
import type { BookSide, OrderBook } from './order-book.js';

function checkSide(book: OrderBook, side: BookSide, seen: Set<string>, problems: string[], exchange: Exchange): void {
  const sym = book.market.symbol;
  for (let i = 1; i < side.prices.length; i++) {
    if (!side.better(side.prices[i]!, side.prices[i - 1]!)) problems.push(`${sym} ${side.side}: level prices not sorted at ${i}`);
  }
  if (side.levels.size !== side.prices.length) problems.push(`${sym} ${side.side}: ${side.levels.size} levels vs ${side.prices.length} prices`);
  for (const price of side.prices) {
    const level = side.levels.get(price);
    if (!level) {
      problems.push(`${sym} ${side.side}: price ${price} has no level`);
      continue;
    }
    let total = 0;
    let count = 0;
    let prev = null;
    for (let o = level.head; o !== null; o = o.next) {
      count++;
      total += o.remainingLots;
      if (o.prev !== prev) problems.push(`${sym}: order ${o.id} has a broken prev link`);
      if (o.level !== level) problems.push(`${sym}: order ${o.id} points at another level`);
      if (o.priceTicks !== price || o.side !== side.side) problems.push(`${sym}: order ${o.id} on the wrong level/side`);
      if (o.remainingLots <= 0) problems.push(`${sym}: resting order ${o.id} has nothing left`);
      const expected = o.filledLots > 0 ? 'partiallyFilled' : 'new';
      if (o.status !== expected) problems.push(`${sym}: resting order ${o.id} has status ${o.status}, expected ${expected}`);
      if (exchange.state.orders.get(o.seq) !== o) problems.push(`${sym}: resting order ${o.id} missing from the orders`);
      seen.add(o.id);
      prev = o;
    }
    if (level.tail !== prev) problems.push(`${sym}: level ${price} tail is wrong`);
    if (count === 0) problems.push(`${sym}: empty level ${price}`);
    if (count !== level.count) problems.push(`${sym}: level ${price} count ${level.count}, holds ${count}`);
    if (total !== level.totalLots) problems.push(`${sym}: level ${price} total ${level.totalLots}, holds ${total}`);
  }
}

/**
 * Every broken invariant as a message; [] when the state is sound:
 * conservation (sum of available + reserved over accounts == deposited - withdrawn, per asset),
 * no negative or non-integer balance, no crossed book, book structure consistent, and each
 * account's reserved == what its open orders need (sells: remaining shares; limit buys:
 * remaining x limit price).
 */
export function checkInvariants(exchange: Exchange): string[] {
  const problems: string[] = [];
  const state = exchange.state;
  const totals = new Map<string, bigint>();
  const needed = new Map<string, bigint>();
  const key = (account: string, asset: string): string => `${account}\u0000${asset}`;

  for (const book of state.books.values()) {
    if (book.isCrossed()) problems.push(`${book.market.symbol}: book crossed`);
    const seen = new Set<string>();
    checkSide(book, book.bids, seen, problems, exchange);
    checkSide(book, book.asks, seen, problems, exchange);
    for (const o of state.openOrders()) {
      if (o.market === book.market && !seen.has(o.id)) problems.push(`${book.market.symbol}: open order ${o.id} is not in the book`);
    }
  }
  for (const o of state.openOrders()) {
    const m = o.market;
    const k = o.side === 'sell' ? key(o.accountId, m.base.name) : key(o.accountId, m.quote.name);
    const units = o.side === 'sell' ? o.remainingLots : notional(m, o.priceTicks, o.remainingLots);
    needed.set(k, (needed.get(k) ?? 0n) + BigInt(units));
    if (state.accounts.get(o.accountId)?.openOrders.has(o) !== true) problems.push(`order ${o.id} missing from its account's open orders`);
  }
  let dedupKeys = 0;
  for (const account of state.accounts.values()) dedupKeys += account.orderKeys.size + account.requestKeys.size;
  if (dedupKeys > state.config.source.dedupKeysMax) problems.push(`${dedupKeys} dedup keys held, over dedupKeysMax`);
  for (const account of state.accounts.values()) {
    for (const listed of account.openOrders.values()) {
      const o = state.orders.get(listed.seq);
      if (o !== listed || !o.isOpen || o.accountId !== account.id) problems.push(`account ${account.id} lists order ${listed.id} as open, which is closed, forgotten or not its own`);
    }
    const keysMax = state.config.source.dedupKeysPerAccountMax;
    if (account.orderKeys.size > keysMax || account.requestKeys.size > keysMax) problems.push(`account ${account.id}: dedup table over its limit`);
    for (const [asset, b] of account.balances) {
      if (!state.config.assets.has(asset)) problems.push(`account ${account.id} holds unknown asset ${asset}`);
      for (const [what, v] of [['available', b.available], ['reserved', b.reserved]] as const) {
        if (!Number.isSafeInteger(v) || v < 0) problems.push(`account ${account.id} ${asset} ${what} is ${v}`);
      }
      totals.set(asset, (totals.get(asset) ?? 0n) + BigInt(b.available) + BigInt(b.reserved));
      const need = needed.get(key(account.id, asset)) ?? 0n;
      if (BigInt(b.reserved) !== need) problems.push(`account ${account.id} ${asset}: reserved ${b.reserved}, open orders need ${need}`);
      needed.delete(key(account.id, asset));
    }
  }
  for (const [k, need] of needed) if (need !== 0n) problems.push(`open orders need ${need} of ${k.replace('\u0000', ' ')} with no balance`);
  for (const asset of state.config.assets.keys()) {
    const supply = BigInt(state.deposited.get(asset) ?? 0) - BigInt(state.withdrawn.get(asset) ?? 0);
    const held = totals.get(asset) ?? 0n;
    if (held !== supply) problems.push(`${asset} not conserved: accounts hold ${held}, deposits - withdrawals = ${supply}`);
  }
  const closed = state.closedIds.slice(state.closedHead);
  if (closed.length > state.config.source.closedOrdersMax) problems.push('closed orders over their limit');
  for (const id of closed) {
    const o = state.orders.get(id);
    if (o === undefined || (o.status !== 'filled' && o.status !== 'cancelled')) problems.push(`closed list holds ${id}, which is not a closed order`);
  }
  let closedInMap = 0;
  for (const o of state.orders.values()) if (o.status === 'filled' || o.status === 'cancelled') closedInMap++;
  if (closedInMap !== closed.length) problems.push(`${closedInMap} closed orders kept, ${closed.length} listed`);
  return problems;
}
