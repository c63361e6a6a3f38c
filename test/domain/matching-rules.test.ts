/**
 * One case per rule of the exchange contract (issue 4 and the public contract of issue 5).
 * Every command goes through validation + codec, and invariants are checked after each one.
 */
import { describe, expect, it } from 'vitest';
import { defaultExchangeConfig, Exchange, validateCommand, type ExchangeConfig } from '../../domain/index.js';
import { eventTypes, Harness, orderIdOf, replyOf } from './harness.js';

/** Two funded traders: a (cash) and b (cash + AAPL shares). */
function funded(): Harness {
  const h = new Harness();
  h.deposit('a', 'USD', '100000');
  h.deposit('b', 'USD', '100000');
  h.deposit('b', 'AAPL', '1000');
  h.deposit('c', 'AAPL', '1000');
  return h;
}

describe('matching: price-time priority', () => {
  it('trades at the resting price, best price first, then time order', () => {
    const h = funded();
    const s1 = orderIdOf(h.limit('b', 'sell', 'AAPL', '5', '101'));
    const s2 = orderIdOf(h.limit('c', 'sell', 'AAPL', '5', '100'));
    const s3 = orderIdOf(h.limit('b', 'sell', 'AAPL', '5', '100'));
    const r = replyOf(h.limit('a', 'buy', 'AAPL', '12', '102'), 'order');
    expect(r.trades.map((t) => [t.sellOrderId, t.price, t.quantity])).toEqual([
      [s2, '100.00', '5'], [s3, '100.00', '5'], [s1, '101.00', '2'],
    ]);
    expect(r.status).toBe('filled');
    expect(r.trades.map((t) => t.tradeId)).toEqual([`T${h.index}.1`, `T${h.index}.2`, `T${h.index}.3`]);
    expect(r.trades.every((t) => t.aggressorSide === 'buy' && t.buyerAccountId === 'a' && t.logIndex === h.index)).toBe(true);
    expect(h.book('AAPL').asks).toEqual(['101.00 x 3 (1)']);
  });

  it('a partial fill rests the remainder as partiallyFilled at its limit', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '3', '100');
    const r = replyOf(h.limit('a', 'buy', 'AAPL', '10', '100'), 'order');
    expect([r.status, r.filledQuantity, r.remainingQuantity]).toEqual(['partiallyFilled', '3', '7']);
    expect(h.book('AAPL')).toEqual({ bids: ['100.00 x 7 (1)'], asks: [] });
    expect(h.ex.order(r.orderId)?.status).toBe('partiallyFilled');
  });

  it('does not trade when prices do not cross', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '3', '100.01');
    const r = replyOf(h.limit('a', 'buy', 'AAPL', '3', '100'), 'order');
    expect([r.status, r.trades.length]).toEqual(['new', 0]);
    expect(h.book('AAPL')).toEqual({ bids: ['100.00 x 3 (1)'], asks: ['100.01 x 3 (1)'] });
  });

  it("'13.37' and '13.370' are one price level, in time order", () => {
    const h = funded();
    const o1 = orderIdOf(h.limit('b', 'sell', 'AAPL', '1', '13.370'));
    const o2 = orderIdOf(h.limit('c', 'sell', 'AAPL', '2', '13.37'));
    expect(h.book('AAPL').asks).toEqual(['13.37 x 3 (2)']);
    const r = replyOf(h.limit('a', 'buy', 'AAPL', '3', '13.37'), 'order');
    expect(r.trades.map((t) => t.sellOrderId)).toEqual([o1, o2]);
  });

  it('a sell taker trades at the resting bid price', () => {
    const h = funded();
    h.limit('a', 'buy', 'AAPL', '4', '105');
    const r = replyOf(h.limit('b', 'sell', 'AAPL', '4', '100'), 'order');
    expect(r.trades.map((t) => [t.price, t.aggressorSide])).toEqual([['105.00', 'sell']]);
    expect(h.bal('b', 'USD')).toEqual(['100420.00', '0.00']);
    expect(h.bal('a', 'AAPL')).toEqual(['4', '0']);
  });
});

describe('portfolio: reservations and releases', () => {
  it('a limit buy reserves price x quantity; a sell reserves the shares', () => {
    const h = funded();
    h.limit('a', 'buy', 'AAPL', '10', '50.25');
    expect(h.bal('a', 'USD')).toEqual(['99497.50', '502.50']);
    h.limit('b', 'sell', 'AAPL', '7', '60');
    expect(h.bal('b', 'AAPL')).toEqual(['993', '7']);
  });

  it('a buy limit at 101 filled at 100 releases 1.00 per share', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '5', '100');
    h.limit('a', 'buy', 'AAPL', '5', '101');
    expect(h.bal('a', 'USD')).toEqual(['99500.00', '0.00']);
    expect(h.bal('a', 'AAPL')).toEqual(['5', '0']);
    expect(h.bal('b', 'USD')).toEqual(['100500.00', '0.00']);
  });

  it('partial fill then cancel releases exactly the rest', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '4', '99.5');
    const id = orderIdOf(h.limit('a', 'buy', 'AAPL', '10', '100'));
    // 4 filled at 99.50 (398.00 paid, 2.00 released), 6 x 100 still reserved.
    expect(h.bal('a', 'USD')).toEqual(['99002.00', '600.00']);
    const c = replyOf(h.cancel('a', id), 'cancel');
    expect([c.status, c.cancelledQuantity]).toEqual(['cancelled', '6']);
    expect(h.bal('a', 'USD')).toEqual(['99602.00', '0.00']);
    expect(h.ex.order(id)).toMatchObject({ status: 'cancelled', filledQuantity: '4', quantity: '10', remainingQuantity: '0' });
    expect(h.ex.openOrders('a')).toEqual([]);
  });

  it('a limit order the account cannot cover is rejected (insufficientFunds) and changes nothing', () => {
    const h = funded();
    const before = h.ex.stateHash();
    const r = h.limit('a', 'buy', 'AAPL', '1001', '100');
    expect(replyOf(r, 'rejected').reason).toBe('insufficientFunds');
    expect(eventTypes(r)).toEqual(['orderRejected']);
    const s = h.limit('a', 'sell', 'AAPL', '1', '100');
    expect(replyOf(s, 'rejected').reason).toBe('insufficientFunds');
    expect(h.bal('a', 'USD')).toEqual(['100000.00', '0.00']);
    expect(h.ex.stateHash()).not.toBe(before); // the dedup table remembers the rejections
    expect(h.book('AAPL')).toEqual({ bids: [], asks: [] });
  });

  it('withdraw only from available; never negative', () => {
    const h = funded();
    h.limit('a', 'buy', 'AAPL', '100', '900');
    expect(replyOf(h.withdraw('a', 'USD', '10000.01'), 'rejected').reason).toBe('insufficientFunds');
    expect(replyOf(h.withdraw('a', 'USD', '10000'), 'balance').balance).toEqual({ asset: 'USD', available: '0.00', reserved: '90000.00' });
    expect(replyOf(h.withdraw('nobody', 'USD', '1'), 'rejected').reason).toBe('insufficientFunds');
  });

  it('deposit returns the balance after; unknown asset is a business rejection', () => {
    const h = new Harness();
    expect(replyOf(h.deposit('a', 'USD', '1.5'), 'balance').balance).toEqual({ asset: 'USD', available: '1.50', reserved: '0.00' });
    expect(replyOf(h.deposit('a', 'USD', '2.25'), 'balance').balance.available).toBe('3.75');
    expect(replyOf(h.deposit('a', 'EUR', '1'), 'rejected').reason).toBe('unknownAsset');
    expect(h.ex.portfolio('a')).toEqual([{ asset: 'USD', available: '3.75', reserved: '0.00' }]);
    expect(h.ex.portfolio('unknown')).toEqual([]);
  });
});

describe('market, IOC and FOK', () => {
  it('market buy of 8 against 5 on the book fills 5 and cancels 3 with an event', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '5', '100');
    const r = h.market('a', 'buy', 'AAPL', '8');
    const o = replyOf(r, 'order');
    expect([o.status, o.filledQuantity, o.remainingQuantity, o.cancelCause]).toEqual(['cancelled', '5', '0', 'market']);
    expect(eventTypes(r)).toEqual(['orderAccepted', 'tradeExecuted', 'orderFilled', 'orderCancelled:market']);
    expect(r.events[3]).toMatchObject({ cancelledQuantity: '3' });
    expect(h.bal('a', 'USD')).toEqual(['99500.00', '0.00']);
    expect(h.book('AAPL')).toEqual({ bids: [], asks: [] });
  });

  it('a market buy consumes only what available cash covers, then stops', () => {
    const h = funded();
    h.deposit('p', 'USD', '250');
    h.limit('b', 'sell', 'AAPL', '1', '100');
    h.limit('b', 'sell', 'AAPL', '5', '120');
    const r = h.market('p', 'buy', 'AAPL', '6');
    const o = replyOf(r, 'order');
    // 1 @ 100, then 150 left buys 1 @ 120; 30.00 stays.
    expect(o.trades.map((t) => [t.price, t.quantity])).toEqual([['100.00', '1'], ['120.00', '1']]);
    expect(eventTypes(r).at(-1)).toBe('orderCancelled:market');
    expect(h.bal('p', 'USD')).toEqual(['30.00', '0.00']);
    expect(h.book('AAPL').asks).toEqual(['120.00 x 4 (1)']);
  });

  it('a market buy that cannot afford one lot is rejected; against an empty book it is cancelled', () => {
    const h = funded();
    h.deposit('p', 'USD', '99.99');
    const empty = replyOf(h.market('p', 'buy', 'AAPL', '1'), 'order');
    expect([empty.status, empty.filledQuantity]).toEqual(['cancelled', '0']);
    h.limit('b', 'sell', 'AAPL', '1', '100');
    expect(replyOf(h.market('p', 'buy', 'AAPL', '1'), 'rejected').reason).toBe('insufficientFunds');
  });

  it('a market sell needs the shares and sweeps the bids', () => {
    const h = funded();
    h.limit('a', 'buy', 'AAPL', '2', '100');
    h.limit('a', 'buy', 'AAPL', '2', '99');
    expect(replyOf(h.market('a', 'sell', 'AAPL', '1'), 'rejected').reason).toBe('insufficientFunds');
    const r = replyOf(h.market('b', 'sell', 'AAPL', '3'), 'order');
    expect(r.trades.map((t) => t.price)).toEqual(['100.00', '99.00']);
    expect(h.book('AAPL').bids).toEqual(['99.00 x 1 (1)']);
    expect(h.bal('b', 'AAPL')).toEqual(['997', '0']);
  });

  it('IOC rests nothing', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '2', '100');
    const r = h.limit('a', 'buy', 'AAPL', '5', '100', 'ioc');
    expect(replyOf(r, 'order')).toMatchObject({ status: 'cancelled', filledQuantity: '2', remainingQuantity: '0' });
    expect(eventTypes(r).at(-1)).toBe('orderCancelled:ioc');
    expect(h.book('AAPL')).toEqual({ bids: [], asks: [] });
    expect(h.bal('a', 'USD')).toEqual(['99800.00', '0.00']);
  });

  it('a FOK that cannot fill leaves book and balances unchanged', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '2', '100');
    h.limit('c', 'sell', 'AAPL', '2', '101');
    const book = h.book('AAPL');
    const r = h.limit('a', 'buy', 'AAPL', '5', '101', 'fok');
    expect(replyOf(r, 'order')).toMatchObject({ status: 'cancelled', filledQuantity: '0', trades: [] });
    expect(eventTypes(r)).toEqual(['orderAccepted', 'orderCancelled:fok']);
    expect(h.book('AAPL')).toEqual(book);
    expect(h.bal('a', 'USD')).toEqual(['100000.00', '0.00']);
    expect(h.bal('b', 'AAPL')).toEqual(['998', '2']);
  });

  it('a FOK that can fill fills completely across levels', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '2', '100');
    h.limit('c', 'sell', 'AAPL', '2', '101');
    const r = replyOf(h.limit('a', 'buy', 'AAPL', '4', '101', 'fok'), 'order');
    expect([r.status, r.filledQuantity]).toEqual(['filled', '4']);
    expect(h.bal('a', 'USD')).toEqual(['99598.00', '0.00']);
  });

  it('a market FOK buy that cash cannot cover changes nothing', () => {
    const h = funded();
    h.deposit('p', 'USD', '150');
    h.limit('b', 'sell', 'AAPL', '2', '100');
    const r = replyOf(h.market('p', 'buy', 'AAPL', '2', 'fok'), 'order');
    expect([r.status, r.filledQuantity, r.cancelCause]).toEqual(['cancelled', '0', 'fok']);
    expect(h.bal('p', 'USD')).toEqual(['150.00', '0.00']);
    expect(h.book('AAPL').asks).toEqual(['100.00 x 2 (1)']);
  });
});

describe('self-trade prevention: the incoming remainder is cancelled, the resting order untouched', () => {
  it('stops at the own resting order after trading with others first', () => {
    const h = funded();
    h.deposit('b', 'USD', '0.01');
    h.limit('c', 'sell', 'AAPL', '2', '100');
    const own = orderIdOf(h.limit('b', 'sell', 'AAPL', '3', '100'));
    h.limit('c', 'sell', 'AAPL', '3', '100');
    const r = h.limit('b', 'buy', 'AAPL', '10', '100');
    const o = replyOf(r, 'order');
    expect([o.status, o.filledQuantity, o.cancelCause]).toEqual(['cancelled', '2', 'selfTrade']);
    expect(eventTypes(r)).toEqual(['orderAccepted', 'tradeExecuted', 'orderFilled', 'orderCancelled:selfTrade']);
    expect(h.ex.order(own)).toMatchObject({ status: 'new', remainingQuantity: '3' });
    expect(h.book('AAPL').asks).toEqual(['100.00 x 6 (2)']);
    expect(h.bal('b', 'USD')).toEqual(['99800.01', '0.00']);
  });

  it('a FOK blocked by its own resting order is not fillable', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '3', '100');
    h.limit('c', 'sell', 'AAPL', '3', '100');
    const r = replyOf(h.limit('b', 'buy', 'AAPL', '3', '100', 'fok'), 'order');
    expect([r.status, r.filledQuantity]).toEqual(['cancelled', '0']);
    expect(h.book('AAPL').asks).toEqual(['100.00 x 6 (2)']);
  });
});

describe('reduce and cancel', () => {
  it('reduce keeps priority', () => {
    const h = funded();
    const first = orderIdOf(h.limit('b', 'sell', 'AAPL', '10', '100'));
    const second = orderIdOf(h.limit('c', 'sell', 'AAPL', '10', '100'));
    const red = replyOf(h.reduce('b', first, '7'), 'reduce');
    expect([red.status, red.remainingQuantity]).toEqual(['new', '3']);
    expect(h.bal('b', 'AAPL')).toEqual(['997', '3']);
    expect(h.ex.order(first)).toMatchObject({ quantity: '3', remainingQuantity: '3' });
    const r = replyOf(h.limit('a', 'buy', 'AAPL', '4', '100'), 'order');
    expect(r.trades.map((t) => [t.sellOrderId, t.quantity])).toEqual([[first, '3'], [second, '1']]);
  });

  it('reducing a buy releases exactly that part of the reservation', () => {
    const h = funded();
    const id = orderIdOf(h.limit('a', 'buy', 'AAPL', '10', '12.34'));
    h.reduce('a', id, '4');
    expect(h.bal('a', 'USD')).toEqual(['99925.96', '74.04']);
  });

  it('reducing by the remaining quantity or more cancels the order', () => {
    const h = funded();
    h.limit('a', 'buy', 'AAPL', '2', '100');
    const id = orderIdOf(h.limit('b', 'sell', 'AAPL', '5', '100'));
    const r = h.reduce('b', id, '9');
    expect(replyOf(r, 'reduce')).toMatchObject({ status: 'cancelled', remainingQuantity: '0' });
    expect(eventTypes(r)).toEqual(['orderCancelled:reduced']);
    expect(h.ex.order(id)).toMatchObject({ status: 'cancelled', quantity: '2', filledQuantity: '2' });
    expect(h.bal('b', 'AAPL')).toEqual(['998', '0']);
  });

  it('cancel/reduce of an unknown, foreign or closed order is rejected', () => {
    const h = funded();
    const id = orderIdOf(h.limit('b', 'sell', 'AAPL', '5', '100'));
    expect(replyOf(h.cancel('b', 'O999'), 'rejected').reason).toBe('unknownOrder');
    expect(replyOf(h.cancel('a', id), 'rejected').reason).toBe('notOrderOwner');
    expect(replyOf(h.reduce('a', id, '1'), 'rejected').reason).toBe('notOrderOwner');
    h.cancel('b', id);
    expect(replyOf(h.cancel('b', id), 'rejected').reason).toBe('orderNotOpen');
    expect(replyOf(h.reduce('b', id, '1'), 'rejected').reason).toBe('orderNotOpen');
  });

  it('a reduce quantity that is not a lot multiple is rejected at apply', () => {
    const h = funded();
    const id = orderIdOf(h.limit('b', 'sell', 'AAPL', '5', '100'));
    // The edge refuses it (no default lot divides 1.5); applied anyway, the engine still rejects it.
    expect(validateCommand({ type: 'reduceOrder', accountId: 'b', orderId: id, quantity: '1.5' }).ok).toBe(false);
    const reply = h.ex.apply({ type: 'reduceOrder', accountId: 'b', orderId: id, quantity: '1.5' }, { logIndex: 1_000_000, timestampMs: 0 }).reply;
    expect(reply.kind === 'rejected' && reply.reason).toBe('invalidCommand');
  });

  it('open orders list in placement order with their views', () => {
    const h = funded();
    const a1 = orderIdOf(h.limit('a', 'buy', 'AAPL', '1', '10'));
    const a2 = orderIdOf(h.limit('a', 'buy', 'MSFT', '2', '20'));
    expect(h.ex.openOrders('a').map((o) => [o.orderId, o.symbol, o.price, o.quantity, o.status])).toEqual([
      [a1, 'AAPL', '10.00', '1', 'new'], [a2, 'MSFT', '20.00', '2', 'new'],
    ]);
  });
});

describe('idempotency', () => {
  it('a duplicate client_order_id returns the original reply and has no second effect', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '5', '100');
    const first = h.limit('a', 'buy', 'AAPL', '3', '100', null, 'k1');
    const hash = h.ex.stateHash();
    const again = h.limit('a', 'buy', 'AAPL', '3', '100.00', 'gtc', 'k1');
    expect(again.reply).toEqual(first.reply);
    expect(again.events).toEqual([]);
    expect(h.book('AAPL').asks).toEqual(['100.00 x 2 (1)']);
    expect(h.bal('a', 'AAPL')).toEqual(['3', '0']);
    // Only lastAppliedIndex moved.
    expect(h.ex.stateHash()).not.toBe(hash);
  });

  it('the same key with different fields is rejected (duplicateKeyMismatch) and the original stays', () => {
    const h = funded();
    const first = h.limit('a', 'buy', 'AAPL', '3', '100', null, 'k1');
    expect(replyOf(h.limit('a', 'buy', 'AAPL', '4', '100', null, 'k1'), 'rejected').reason).toBe('duplicateKeyMismatch');
    expect(h.limit('a', 'buy', 'AAPL', '3', '100', null, 'k1').reply).toEqual(first.reply);
    // Another account may use the same client order id.
    expect(replyOf(h.limit('b', 'sell', 'AAPL', '1', '200', null, 'k1'), 'order').status).toBe('new');
  });

  it('a rejected order is remembered too: the retry gets the same rejection', () => {
    const h = new Harness();
    const r1 = h.limit('a', 'buy', 'AAPL', '1', '100', null, 'k');
    h.deposit('a', 'USD', '1000');
    expect(h.limit('a', 'buy', 'AAPL', '1', '100', null, 'k').reply).toEqual(r1.reply);
  });

  it('deposit and withdraw request ids: same fields -> original reply; different -> mismatch', () => {
    const h = new Harness();
    const d = h.deposit('a', 'USD', '10', 'q1');
    h.deposit('a', 'USD', '5', 'q2');
    const again = h.deposit('a', 'USD', '10', 'q1');
    expect(again.reply).toEqual(d.reply);
    expect(again.events).toEqual([]);
    expect(h.bal('a', 'USD')).toEqual(['15.00', '0.00']);
    expect(replyOf(h.withdraw('a', 'USD', '10', 'q1'), 'rejected').reason).toBe('duplicateKeyMismatch');
    expect(replyOf(h.deposit('a', 'USD', '11', 'q1'), 'rejected').reason).toBe('duplicateKeyMismatch');
    // Order ids and request ids are separate namespaces.
    expect(replyOf(h.limit('a', 'buy', 'AAPL', '1', '1', null, 'q1'), 'order').status).toBe('new');
  });

  it('retention: the oldest key is evicted after dedupKeysPerAccountMax newer ones', () => {
    const config: ExchangeConfig = { ...defaultExchangeConfig, dedupKeysPerAccountMax: 3 };
    const h = new Harness(config);
    for (const k of ['k1', 'k2', 'k3', 'k4']) h.deposit('a', 'USD', '1', k);
    expect(h.bal('a', 'USD')).toEqual(['4.00', '0.00']);
    h.deposit('a', 'USD', '1', 'k2'); // still remembered: no effect
    expect(h.bal('a', 'USD')).toEqual(['4.00', '0.00']);
    h.deposit('a', 'USD', '1', 'k1'); // evicted: applies again
    expect(h.bal('a', 'USD')).toEqual(['5.00', '0.00']);
  });
});

describe('other business rejections and limits', () => {
  it('unknown symbol is a business rejection', () => {
    const h = funded();
    const r = h.limit('a', 'buy', 'TSLA', '1', '1');
    expect(replyOf(r, 'rejected').reason).toBe('unknownSymbol');
    expect(h.ex.orderBook('TSLA', 10)).toBeNull();
    expect(h.ex.hasSymbol('TSLA')).toBe(false);
    expect(h.ex.hasSymbol('AAPL')).toBe(true);
  });

  it('open orders per account are limited', () => {
    const h = new Harness({ ...defaultExchangeConfig, openOrdersPerAccountMax: 2 });
    h.deposit('a', 'USD', '100');
    h.limit('a', 'buy', 'AAPL', '1', '1');
    h.limit('a', 'buy', 'AAPL', '1', '1');
    expect(replyOf(h.limit('a', 'buy', 'AAPL', '1', '1'), 'rejected').reason).toBe('limitExceeded');
    // An IOC never rests, so it is not limited.
    expect(replyOf(h.limit('a', 'buy', 'AAPL', '1', '1', 'ioc'), 'order').status).toBe('cancelled');
  });

  it('total supply of an asset is limited', () => {
    const h = new Harness({ ...defaultExchangeConfig, assetSupplyUnitsMax: 1000 });
    h.deposit('a', 'USD', '10');
    expect(replyOf(h.deposit('b', 'USD', '0.01'), 'rejected').reason).toBe('limitExceeded');
    h.withdraw('a', 'USD', '1');
    expect(replyOf(h.deposit('b', 'USD', '1'), 'balance').balance.available).toBe('1.00');
  });

  it('closed orders are remembered up to closedOrdersMax', () => {
    const h = new Harness({ ...defaultExchangeConfig, closedOrdersMax: 2 });
    h.deposit('a', 'USD', '100');
    const ids = [1, 2, 3].map(() => orderIdOf(h.limit('a', 'buy', 'AAPL', '1', '1', 'ioc')));
    expect(h.ex.order(ids[0]!)).toBeNull();
    expect(h.ex.order(ids[2]!)?.status).toBe('cancelled');
  });

  it('order book depth and aggregation', () => {
    const h = funded();
    for (const p of ['100', '101', '102', '100']) h.limit('b', 'sell', 'AAPL', '1', p);
    h.limit('a', 'buy', 'AAPL', '2', '99');
    expect(h.ex.orderBook('AAPL', 2)).toEqual({
      bids: [{ price: '99.00', quantity: '2', orderCount: 1 }],
      asks: [{ price: '100.00', quantity: '2', orderCount: 2 }, { price: '101.00', quantity: '1', orderCount: 1 }],
    });
  });
});

describe('instruments with a fractional lot', () => {
  const config: ExchangeConfig = {
    ...defaultExchangeConfig,
    instruments: [...defaultExchangeConfig.instruments, { symbol: 'FRAC', quoteAsset: 'USD', tickSize: '0.1', lotSize: '0.1' }],
  };

  it('sells of 0.3 filled by 0.1 then 0.2 leave no dust', () => {
    const h = new Harness(config);
    h.deposit('s', 'FRAC', '0.3');
    h.deposit('b', 'USD', '100');
    const sell = orderIdOf(h.limit('s', 'sell', 'FRAC', '0.3', '10.1'));
    h.limit('b', 'buy', 'FRAC', '0.1', '10.1');
    h.limit('b', 'buy', 'FRAC', '0.2', '10.1');
    expect(h.ex.order(sell)).toMatchObject({ status: 'filled', filledQuantity: '0.3', remainingQuantity: '0.0' });
    expect(h.bal('s', 'FRAC')).toEqual(['0.0', '0.0']);
    expect(h.bal('s', 'USD')).toEqual(['3.03', '0.00']);
    expect(h.bal('b', 'FRAC')).toEqual(['0.3', '0.0']);
    expect(h.bal('b', 'USD')).toEqual(['96.97', '0.00']);
    expect(h.book('FRAC')).toEqual({ bids: [], asks: [] });
  });

  it('refuses a config where price x quantity would not be whole cents', () => {
    expect(() => new Harness({
      ...defaultExchangeConfig,
      instruments: [{ symbol: 'BAD', quoteAsset: 'USD', tickSize: '0.01', lotSize: '0.1' }],
    })).toThrow(/whole number/);
  });
});

describe('the PlaceOrder reply says why its own entry cancelled a remainder', () => {
  it('ioc, selfTrade or null; the same after a retry and after snapshot/restore', () => {
    const h = funded();
    h.limit('b', 'sell', 'AAPL', '2', '100');
    const rested = replyOf(h.limit('a', 'buy', 'AAPL', '1', '99', null, 'rest-1'), 'order');
    expect([rested.status, rested.cancelCause]).toEqual(['new', null]);
    const filled = replyOf(h.limit('a', 'buy', 'AAPL', '1', '100', null, 'fill-1'), 'order');
    expect([filled.status, filled.cancelCause]).toEqual(['filled', null]);
    const ioc = replyOf(h.limit('a', 'buy', 'AAPL', '3', '100', 'ioc', 'ioc-1'), 'order');
    expect([ioc.status, ioc.filledQuantity, ioc.cancelCause]).toEqual(['cancelled', '1', 'ioc']);
    // a's own bid at 99 is next in line for this sell at 99: nothing trades, the sell is cancelled.
    h.deposit('a', 'AAPL', '5');
    const stp = replyOf(h.limit('a', 'sell', 'AAPL', '1', '99', null, 'stp-1'), 'order');
    expect([stp.status, stp.filledQuantity, stp.cancelCause]).toEqual(['cancelled', '0', 'selfTrade']);

    // A retry with the same client order id answers the original reply, cause included.
    expect(replyOf(h.limit('a', 'sell', 'AAPL', '1', '99', null, 'stp-1'), 'order')).toEqual(stp);
    // And so does a replica restored from a snapshot.
    const restored = Exchange.restore(h.ex.snapshot());
    expect(restored.stateHash()).toBe(h.ex.stateHash());
    const retry = restored.apply(
      { type: 'placeOrder', accountId: 'a', clientOrderId: 'ioc-1', symbol: 'AAPL', side: 'buy', orderType: 'limit', timeInForce: 'ioc', quantity: '3', price: '100' },
      { logIndex: h.index + 1, timestampMs: 0 },
    );
    expect(retry.reply).toEqual(ioc);
  });
});
