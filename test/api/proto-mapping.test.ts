import { describe, expect, it } from 'vitest';
import {
  bookDepth, checkId, checkSymbol, depositToCommand, orderReplyToResponse, orderToProto, reduceOrderToCommand,
  statusToProto, submitOrderToCommand, timestampFromMs, tradeToProto, expectReply, cancelOrderToCommand,
} from '../../src/api/proto-mapping.js';
import { OrderStatus, OrderType, Side, TimeInForce } from '../../src/gen/raftex/v1/exchange.js';
import type { SubmitOrderRequest } from '../../src/gen/raftex/v1/exchange.js';
import { Role } from '../../src/gen/raftex/v1/cluster.js';
import type { TradeView } from '../../domain/types.js';

const order = (over: Partial<SubmitOrderRequest> = {}): SubmitOrderRequest => ({
  accountId: 'alice', clientOrderId: 'c1', symbol: 'AAPL', side: Side.SIDE_BUY, type: OrderType.ORDER_TYPE_LIMIT,
  quantity: '10', price: '100.5', timeInForce: TimeInForce.TIME_IN_FORCE_UNSPECIFIED, ...over,
});

const trade: TradeView = {
  tradeId: 'T7.1', symbol: 'AAPL', price: '100.5', quantity: '3', buyOrderId: 'O7', sellOrderId: 'O5',
  buyerAccountId: 'bob', sellerAccountId: 'alice', aggressorSide: 'buy', logIndex: 7, timestampMs: 1_700_000_000_123,
};

describe('submitOrderToCommand', () => {
  it('maps enums and keeps decimals as given (the domain canonicalises)', () => {
    expect(submitOrderToCommand(order())).toEqual({
      ok: true,
      value: {
        type: 'placeOrder', accountId: 'alice', clientOrderId: 'c1', symbol: 'AAPL', side: 'buy', orderType: 'limit',
        timeInForce: null, quantity: '10', price: '100.5',
      },
    });
  });

  it('maps every time in force, UNSPECIFIED to the default (null)', () => {
    const tif = (t: TimeInForce): unknown => {
      const m = submitOrderToCommand(order({ timeInForce: t }));
      return m.ok && m.value.type === 'placeOrder' ? m.value.timeInForce : m;
    };
    expect(tif(TimeInForce.TIME_IN_FORCE_UNSPECIFIED)).toBeNull();
    expect(tif(TimeInForce.TIME_IN_FORCE_GTC)).toBe('gtc');
    expect(tif(TimeInForce.TIME_IN_FORCE_IOC)).toBe('ioc');
    expect(tif(TimeInForce.TIME_IN_FORCE_FOK)).toBe('fok');
  });

  it('an empty price is no price (market orders)', () => {
    const m = submitOrderToCommand(order({ type: OrderType.ORDER_TYPE_MARKET, price: '', side: Side.SIDE_SELL }));
    expect(m.ok && m.value.type === 'placeOrder' && [m.value.price, m.value.orderType, m.value.side]).toEqual([null, 'market', 'sell']);
  });

  it.each([
    ['side UNSPECIFIED', { side: Side.SIDE_UNSPECIFIED }, /side/],
    ['side unknown number', { side: 9 as Side }, /side.*9/],
    ['type UNSPECIFIED', { type: OrderType.ORDER_TYPE_UNSPECIFIED }, /type/],
    ['type unknown number', { type: 5 as OrderType }, /type/],
    ['time_in_force unknown', { timeInForce: 42 as TimeInForce }, /time_in_force.*42/],
    ['missing account', { accountId: '' }, /account_id is required/],
    ['missing client order id', { clientOrderId: '' }, /client_order_id is required/],
    ['missing symbol', { symbol: '' }, /symbol is required/],
    ['missing quantity', { quantity: '' }, /quantity is required/],
    ['1 MB account id', { accountId: 'a'.repeat(1 << 20) }, /account_id is too long \(1048576/],
    ['1 MB price', { price: '1'.repeat(1 << 20) }, /price is too long/],
    ['long symbol', { symbol: 'A'.repeat(17) }, /symbol is too long/],
  ])('rejects %s', (_name, over, message) => {
    const m = submitOrderToCommand(order(over));
    expect(m.ok).toBe(false);
    if (!m.ok) {
      expect(m.error).toMatch(message);
      expect(m.error.length).toBeLessThan(200);
    }
  });
});

describe('other requests', () => {
  it('deposit maps fields and requires each', () => {
    expect(depositToCommand({ accountId: 'a', asset: 'USD', amount: '1.5', requestId: 'r' })).toEqual({
      ok: true, value: { type: 'deposit', accountId: 'a', asset: 'USD', amount: '1.5', requestId: 'r' },
    });
    expect(depositToCommand({ accountId: 'a', asset: 'USD', amount: '1.5', requestId: '' })).toEqual({ ok: false, error: 'request_id is required' });
  });
  it('cancel and reduce', () => {
    expect(cancelOrderToCommand({ accountId: 'a', orderId: 'O1' })).toEqual({ ok: true, value: { type: 'cancelOrder', accountId: 'a', orderId: 'O1' } });
    expect(reduceOrderToCommand({ accountId: 'a', orderId: 'O1', quantity: '' })).toEqual({ ok: false, error: 'quantity is required' });
  });
  it('read fields: ids, symbols, depth', () => {
    expect(checkId('account_id', '')).toBe('account_id is required');
    expect(checkId('account_id', 'a b')).toMatch(/A-Za-z0-9/);
    expect(checkId('account_id', 'x'.repeat(65))).toMatch(/too long/);
    expect(checkId('account_id', 'Al.ice_1:-')).toBeNull();
    expect(checkSymbol('symbol', 'aapl')).toMatch(/A-Z0-9/);
    expect(checkSymbol('symbol', 'BRK.B')).toBeNull();
    expect(bookDepth(0)).toEqual({ ok: true, value: 10 });
    expect(bookDepth(1000)).toEqual({ ok: true, value: 1000 });
    expect(bookDepth(1001).ok).toBe(false);
  });
});

describe('domain -> proto', () => {
  it('timestamps split into seconds and nanos', () => {
    expect(timestampFromMs(1_700_000_000_123)).toEqual({ seconds: 1_700_000_000, nanos: 123_000_000 });
    expect(timestampFromMs(0)).toEqual({ seconds: 0, nanos: 0 });
  });

  it('trade carries log index, aggressor and executed_at', () => {
    expect(tradeToProto(trade)).toEqual({
      tradeId: 'T7.1', symbol: 'AAPL', price: '100.5', quantity: '3', buyOrderId: 'O7', sellOrderId: 'O5',
      buyerAccountId: 'bob', sellerAccountId: 'alice', aggressorSide: Side.SIDE_BUY, logIndex: 7,
      executedAt: { seconds: 1_700_000_000, nanos: 123_000_000 },
    });
  });

  it('order reply maps statuses and trades', () => {
    const statuses = [['new', OrderStatus.ORDER_STATUS_NEW], ['partiallyFilled', OrderStatus.ORDER_STATUS_PARTIALLY_FILLED],
      ['filled', OrderStatus.ORDER_STATUS_FILLED], ['cancelled', OrderStatus.ORDER_STATUS_CANCELLED]] as const;
    for (const [domain, proto] of statuses) {
      const r = orderReplyToResponse({ kind: 'order', logIndex: 7, orderId: 'O7', status: domain, filledQuantity: '3', remainingQuantity: '7', trades: [trade], cancelCause: null });
      expect(r.status).toBe(proto);
      expect(r.trades).toHaveLength(1);
      expect(r.logIndex).toBe(7);
      expect(r.cancelReason).toBe('');
    }
  });

  it('an order cancelled by its own entry says why', () => {
    for (const cause of ['ioc', 'market', 'fok', 'selfTrade'] as const) {
      const r = orderReplyToResponse({ kind: 'order', logIndex: 7, orderId: 'O7', status: 'cancelled', filledQuantity: '0', remainingQuantity: '0', trades: [], cancelCause: cause });
      expect(r.cancelReason).toBe(cause);
    }
  });

  it('a market order shows an empty price', () => {
    const o = orderToProto({
      orderId: 'O1', clientOrderId: 'c', accountId: 'a', symbol: 'AAPL', side: 'sell', orderType: 'market', timeInForce: 'ioc',
      price: null, quantity: '5', filledQuantity: '0', remainingQuantity: '5', status: 'new',
    });
    expect([o.price, o.side, o.type]).toEqual(['', Side.SIDE_SELL, OrderType.ORDER_TYPE_MARKET]);
  });

  it('expectReply refuses a reply of another kind', () => {
    expect(expectReply({ kind: 'cancel', logIndex: 1, orderId: 'O1', status: 'cancelled', cancelledQuantity: '1' }, 'order').ok).toBe(false);
  });

  it('status: followers only from a leader, empty leader id when unknown', () => {
    const base = {
      nodeId: 'n1', term: 3, commitIndex: 10, lastApplied: 9, lastLogIndex: 11, stateHash: 'ab',
      members: [{ id: 'n1', address: '127.0.0.1:7001', voter: true }],
      followers: [{ id: 'n2', matchIndex: 10, nextIndex: 11, state: 'replicate' as const }],
    };
    const leader = statusToProto({ ...base, role: 'leader', leaderId: 'n1' });
    expect(leader.role).toBe(Role.ROLE_LEADER);
    expect(leader.followers).toEqual([{ id: 'n2', matchIndex: 10, nextIndex: 11 }]);
    const follower = statusToProto({ ...base, role: 'follower', leaderId: null });
    expect([follower.role, follower.leaderId, follower.followers]).toEqual([Role.ROLE_FOLLOWER, '', []]);
  });
});
