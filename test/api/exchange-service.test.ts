/**
 * ExchangeService over real grpc-js loopback, against fake nodes backed by a real Exchange.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import { NodeClient } from '../../src/cli/client.js';
import { OrderStatus, OrderType, Side, TimeInForce } from '../../src/gen/raftex/v1/exchange.js';
import type { SubmitOrderRequest } from '../../src/gen/raftex/v1/exchange.js';
import { rejectReasonTrailer } from '../../src/api/status-mapping.js';
import { canon, grpcError, startCluster } from './grpc-harness.js';
import type { RunningNode } from './grpc-harness.js';
import type { FakeCluster } from './fake-node-api.js';

let cluster: FakeCluster;
let leader: RunningNode;
let follower: RunningNode;
let viaLeader: NodeClient;
let viaFollower: NodeClient;
let seq = 0;

beforeAll(async () => {
  const started = await startCluster(['n1', 'n2'], 'n1', { leaderWaitMs: 300 });
  cluster = started.cluster;
  [leader, follower] = started.nodes as [RunningNode, RunningNode];
  viaLeader = new NodeClient(leader.address, 5_000);
  viaFollower = new NodeClient(follower.address, 5_000);
});

afterAll(async () => {
  viaLeader?.close();
  viaFollower?.close();
  await Promise.all([leader?.stop(), follower?.stop()]);
});

beforeEach(() => {
  cluster.leaderId = 'n1';
  leader.api.believedLeader = undefined;
  follower.api.believedLeader = undefined;
  follower.api.refuseReads = false;
});

/** A fresh account id per test, so tests do not share balances. */
const account = (): string => `acct-${++seq}`;

const order = (over: Partial<SubmitOrderRequest>): SubmitOrderRequest => ({
  accountId: 'nobody', clientOrderId: `c-${++seq}`, symbol: 'AAPL', side: Side.SIDE_BUY,
  type: OrderType.ORDER_TYPE_LIMIT, quantity: '1', price: '100', timeInForce: TimeInForce.TIME_IN_FORCE_UNSPECIFIED, ...over,
});

async function fund(accountId: string, asset: string, amount: string): Promise<void> {
  await viaLeader.call('deposit', { accountId, asset, amount, requestId: `fund-${++seq}` });
}

describe('writes', () => {
  it('deposit returns the balance and the log index', async () => {
    const a = account();
    const before = cluster.log.length;
    const res = await viaLeader.call('deposit', { accountId: a, asset: 'USD', amount: '100.50', requestId: 'r1' });
    expect(canon(res.balance)).toEqual({ asset: 'USD', available: '100.5', reserved: '0' });
    expect(res.logIndex).toBe(before + 1);
  });

  it('withdraw returns the balance after it', async () => {
    const a = account();
    await fund(a, 'USD', '10');
    const res = await viaLeader.call('withdraw', { accountId: a, asset: 'USD', amount: '2.25', requestId: 'w1' });
    expect(canon(res.balance?.available)).toBe('7.75');
  });

  const invalid: [string, () => Promise<unknown>][] = [
    ['non-decimal amount', () => viaLeader.call('deposit', { accountId: 'x', asset: 'USD', amount: 'ten', requestId: 'r' })],
    ['negative amount', () => viaLeader.call('deposit', { accountId: 'x', asset: 'USD', amount: '-5', requestId: 'r' })],
    ['exponent', () => viaLeader.call('deposit', { accountId: 'x', asset: 'USD', amount: '1e3', requestId: 'r' })],
    ['spaces', () => viaLeader.call('deposit', { accountId: 'x', asset: 'USD', amount: ' 5', requestId: 'r' })],
    ['USD with 3 decimals', () => viaLeader.call('deposit', { accountId: 'x', asset: 'USD', amount: '1.001', requestId: 'r' })],
    ['zero amount', () => viaLeader.call('deposit', { accountId: 'x', asset: 'USD', amount: '0', requestId: 'r' })],
    ['missing request id', () => viaLeader.call('deposit', { accountId: 'x', asset: 'USD', amount: '5', requestId: '' })],
    ['bad id characters', () => viaLeader.call('deposit', { accountId: 'a b', asset: 'USD', amount: '5', requestId: 'r' })],
    ['1 MB account id', () => viaLeader.call('deposit', { accountId: 'a'.repeat(1 << 20), asset: 'USD', amount: '5', requestId: 'r' })],
    ['1 MB amount', () => viaLeader.call('deposit', { accountId: 'x', asset: 'USD', amount: '1'.repeat(1 << 20), requestId: 'r' })],
    ['unknown side enum', () => viaLeader.call('submitOrder', order({ side: 7 as Side }))],
    ['side unspecified', () => viaLeader.call('submitOrder', order({ side: Side.SIDE_UNSPECIFIED }))],
    ['type unspecified', () => viaLeader.call('submitOrder', order({ type: OrderType.ORDER_TYPE_UNSPECIFIED }))],
    ['unknown time in force', () => viaLeader.call('submitOrder', order({ timeInForce: 9 as TimeInForce }))],
    ['market with price', () => viaLeader.call('submitOrder', order({ type: OrderType.ORDER_TYPE_MARKET, price: '100' }))],
    ['market GTC', () => viaLeader.call('submitOrder', order({ type: OrderType.ORDER_TYPE_MARKET, price: '', timeInForce: TimeInForce.TIME_IN_FORCE_GTC }))],
    ['limit without price', () => viaLeader.call('submitOrder', order({ price: '' }))],
    ['price off tick', () => viaLeader.call('submitOrder', order({ price: '100.001' }))],
    ['quantity off lot', () => viaLeader.call('submitOrder', order({ quantity: '1.5' }))],
    ['zero quantity', () => viaLeader.call('submitOrder', order({ quantity: '0' }))],
    ['zero price', () => viaLeader.call('submitOrder', order({ price: '0' }))],
    ['lower-case symbol', () => viaLeader.call('submitOrder', order({ symbol: 'aapl' }))],
    ['reduce by zero', () => viaLeader.call('reduceOrder', { accountId: 'x', orderId: 'O1', quantity: '0' })],
    ['cancel without order id', () => viaLeader.call('cancelOrder', { accountId: 'x', orderId: '' })],
  ];
  it.each(invalid)('%s -> INVALID_ARGUMENT and the log does not grow', async (_name, call) => {
    const before = cluster.log.length;
    const e = await grpcError(call());
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(e.details.length).toBeGreaterThan(0);
    expect(e.details.length).toBeLessThan(600);
    expect(cluster.log.length).toBe(before);
  });

  it('insufficient funds -> FAILED_PRECONDITION with the reason', async () => {
    const a = account();
    await fund(a, 'USD', '50');
    const e = await grpcError(viaLeader.call('submitOrder', order({ accountId: a, quantity: '1', price: '100' })));
    expect(e.code).toBe(status.FAILED_PRECONDITION);
    expect(e.details).toMatch(/^insufficientFunds/);
    expect(e.metadata.get(rejectReasonTrailer)).toEqual(['insufficientFunds']);
  });

  it('unknown symbol in a write -> FAILED_PRECONDITION', async () => {
    const a = account();
    await fund(a, 'USD', '1000');
    const e = await grpcError(viaLeader.call('submitOrder', order({ accountId: a, symbol: 'XYZ' })));
    expect(e.code).toBe(status.FAILED_PRECONDITION);
    expect(e.details).toMatch(/unknownSymbol/);
  });

  it('cancelling an unknown order -> FAILED_PRECONDITION', async () => {
    const e = await grpcError(viaLeader.call('cancelOrder', { accountId: account(), orderId: 'O999999' }));
    expect(e.code).toBe(status.FAILED_PRECONDITION);
  });

  it('a retry with the same request id returns the original reply and appends no second effect', async () => {
    const a = account();
    const req = { accountId: a, asset: 'USD', amount: '10', requestId: 'same' };
    const first = await viaLeader.call('deposit', req);
    const second = await viaLeader.call('deposit', req);
    expect(second).toEqual(first);
    const p = await viaLeader.call('getPortfolio', { accountId: a });
    expect(canon(p.balances)).toEqual([{ asset: 'USD', available: '10', reserved: '0' }]);
    const mismatch = await grpcError(viaLeader.call('deposit', { ...req, amount: '11' }));
    expect(mismatch.code).toBe(status.FAILED_PRECONDITION);
  });

  it('a retried order (same client order id) returns the same order and log index', async () => {
    const a = account();
    await fund(a, 'USD', '1000');
    const req = order({ accountId: a, clientOrderId: 'retry-me', price: '10', quantity: '5' });
    const first = await viaLeader.call('submitOrder', req);
    const second = await viaLeader.call('submitOrder', req);
    expect(second).toEqual(first);
    expect((await viaLeader.call('listOrders', { accountId: a })).orders).toHaveLength(1);
  });

  it('crossing orders trade; cancel and reduce report the order state', async () => {
    const seller = account();
    const buyer = account();
    await fund(seller, 'MSFT', '10');
    await fund(buyer, 'USD', '10000');
    const ask = await viaLeader.call('submitOrder', order({ accountId: seller, symbol: 'MSFT', side: Side.SIDE_SELL, quantity: '10', price: '300' }));
    expect(ask.status).toBe(OrderStatus.ORDER_STATUS_NEW);
    const bid = await viaLeader.call('submitOrder', order({ accountId: buyer, symbol: 'MSFT', quantity: '4', price: '301' }));
    expect(bid.status).toBe(OrderStatus.ORDER_STATUS_FILLED);
    expect(bid.trades).toHaveLength(1);
    const t = bid.trades[0]!;
    expect(canon([t.price, t.quantity, t.logIndex, t.aggressorSide, t.sellOrderId])).toEqual(['300', '4', bid.logIndex, Side.SIDE_BUY, ask.orderId]);
    expect(t.executedAt?.seconds).toBeGreaterThan(1_600_000_000);

    const reduced = await viaLeader.call('reduceOrder', { accountId: seller, orderId: ask.orderId, quantity: '2' });
    expect(canon([reduced.status, reduced.remainingQuantity])).toEqual([OrderStatus.ORDER_STATUS_PARTIALLY_FILLED, '4']);
    const open = await viaLeader.call('listOrders', { accountId: seller });
    expect(canon(open.orders.map((o) => [o.orderId, o.quantity, o.filledQuantity]))).toEqual([[ask.orderId, '8', '4']]);
    const cancelled = await viaLeader.call('cancelOrder', { accountId: seller, orderId: ask.orderId });
    expect(canon([cancelled.status, cancelled.cancelledQuantity])).toEqual([OrderStatus.ORDER_STATUS_CANCELLED, '4']);
    const again = await grpcError(viaLeader.call('cancelOrder', { accountId: seller, orderId: ask.orderId }));
    expect(again.code).toBe(status.FAILED_PRECONDITION);

    const p = await viaLeader.call('getPortfolio', { accountId: buyer });
    expect(canon(p.balances)).toEqual([{ asset: 'MSFT', available: '4', reserved: '0' }, { asset: 'USD', available: '8800', reserved: '0' }]);
  });

  it('node errors map to their codes', async () => {
    const a = account();
    const cases = [['unavailable', status.UNAVAILABLE], ['deadline', status.DEADLINE_EXCEEDED], ['overloaded', status.RESOURCE_EXHAUSTED]] as const;
    for (const [inject, code] of cases) {
      leader.api.injectSubmit = inject;
      const e = await grpcError(viaLeader.call('deposit', { accountId: a, asset: 'USD', amount: '1', requestId: `inj-${inject}` }));
      expect(e.code).toBe(code);
    }
  });
});

describe('reads', () => {
  it('an unknown account has no balances', async () => {
    const p = await viaFollower.call('getPortfolio', { accountId: 'never-seen' });
    expect([p.accountId, p.balances]).toEqual(['never-seen', []]);
    expect(p.appliedIndex).toBe(cluster.log.length);
  });

  it('empty or malformed account id -> INVALID_ARGUMENT', async () => {
    expect((await grpcError(viaLeader.call('getPortfolio', { accountId: '' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(viaLeader.call('listOrders', { accountId: '' }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(viaLeader.call('getPortfolio', { accountId: 'x'.repeat(1 << 20) }))).code).toBe(status.INVALID_ARGUMENT);
  });

  it('order book: unknown symbol NOT_FOUND, depth 0 = 10 levels, depth > 1000 INVALID_ARGUMENT', async () => {
    expect((await grpcError(viaLeader.call('getOrderBook', { symbol: 'XYZ', depth: 0 }))).code).toBe(status.NOT_FOUND);
    expect((await grpcError(viaLeader.call('getOrderBook', { symbol: 'GOOG', depth: 1001 }))).code).toBe(status.INVALID_ARGUMENT);
    expect((await grpcError(viaLeader.call('getOrderBook', { symbol: '', depth: 0 }))).code).toBe(status.INVALID_ARGUMENT);
    const a = account();
    await fund(a, 'USD', '100000');
    for (let i = 1; i <= 12; i++) await viaLeader.call('submitOrder', order({ accountId: a, symbol: 'GOOG', price: String(100 + i), quantity: '2' }));
    const book = await viaFollower.call('getOrderBook', { symbol: 'GOOG', depth: 0 });
    expect(book.bids).toHaveLength(10);
    expect(canon(book.bids[0])).toEqual({ price: '112', quantity: '2', orderCount: 1 });
    expect(book.asks).toEqual([]);
    expect(canon((await viaLeader.call('getOrderBook', { symbol: 'GOOG', depth: 3 })).bids.map((l) => l.price))).toEqual(['112', '111', '110']);
  });
});

describe('forwarding', () => {
  it('a follower forwards writes to the leader and relays the reply', async () => {
    const a = account();
    const before = leader.api.submits;
    const res = await viaFollower.call('deposit', { accountId: a, asset: 'USD', amount: '5', requestId: 'fwd' });
    expect(canon(res.balance?.available)).toBe('5');
    expect(leader.api.submits).toBe(before + 1);
    // and the leader's status, with its trailer, unchanged
    const e = await grpcError(viaFollower.call('submitOrder', order({ accountId: a, price: '100', quantity: '1' })));
    expect(e.code).toBe(status.FAILED_PRECONDITION);
    expect(e.details).toMatch(/^insufficientFunds/);
    expect(e.metadata.get(rejectReasonTrailer)).toEqual(['insufficientFunds']);
  });

  it('a follower relays INVALID_ARGUMENT without forwarding', async () => {
    const before = leader.api.submits;
    const e = await grpcError(viaFollower.call('deposit', { accountId: 'x', asset: 'USD', amount: '-1', requestId: 'r' }));
    expect(e.code).toBe(status.INVALID_ARGUMENT);
    expect(leader.api.submits).toBe(before);
  });

  it('no leader -> UNAVAILABLE after the leader wait', async () => {
    cluster.leaderId = null;
    const started = Date.now();
    const e = await grpcError(viaFollower.call('deposit', { accountId: 'x', asset: 'USD', amount: '1', requestId: 'nl' }));
    const elapsed = Date.now() - started;
    expect(e.code).toBe(status.UNAVAILABLE);
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(3_000);
  });

  it('no leader and a shorter client deadline -> DEADLINE_EXCEEDED', async () => {
    cluster.leaderId = null;
    const shortClient = new NodeClient(follower.address, 100);
    try {
      const e = await grpcError(shortClient.call('deposit', { accountId: 'x', asset: 'USD', amount: '1', requestId: 'dl' }));
      expect(e.code).toBe(status.DEADLINE_EXCEEDED);
    } finally {
      shortClient.close();
    }
  });

  it('a leader elected during the wait serves the request', async () => {
    cluster.leaderId = null;
    setTimeout(() => { cluster.leaderId = 'n1'; }, 100);
    const res = await viaFollower.call('deposit', { accountId: account(), asset: 'USD', amount: '1', requestId: 'late' });
    expect(canon(res.balance?.available)).toBe('1');
  });

  it('two nodes that each think the other leads do not bounce a request forever', async () => {
    cluster.leaderId = null;
    leader.api.believedLeader = 'n2';
    follower.api.believedLeader = 'n1';
    const e = await grpcError(viaFollower.call('deposit', { accountId: 'x', asset: 'USD', amount: '1', requestId: 'loop' }));
    expect(e.code).toBe(status.UNAVAILABLE);
    expect(e.details).toMatch(/does not lead/);
  });

  it('reads the node cannot serve are forwarded to the leader', async () => {
    follower.api.refuseReads = true;
    const [fr, lr] = [follower.api.reads, leader.api.reads];
    const p = await viaFollower.call('getPortfolio', { accountId: 'never-seen' });
    expect(p.balances).toEqual([]);
    expect([follower.api.reads - fr, leader.api.reads - lr]).toEqual([1, 1]);
  });
});

describe('forwarding with stale views (3 nodes)', () => {
  let nodes3: RunningNode[] = [];
  let cluster3: FakeCluster;
  beforeAll(async () => {
    const started = await startCluster(['n1', 'n2', 'n3'], 'n3', { leaderWaitMs: 300 });
    nodes3 = started.nodes;
    cluster3 = started.cluster;
  });
  afterAll(async () => {
    await Promise.all(nodes3.map((n) => n.stop()));
  });

  it('a node that forwarded to the old leader still reaches the new one (second hop)', async () => {
    const [n1, n2, n3] = nodes3 as [RunningNode, RunningNode, RunningNode];
    n1.api.believedLeader = 'n2'; // stale: n2 led before
    const client = new NodeClient(n1.address, 5_000);
    try {
      const res = await client.call('deposit', { accountId: 'z', asset: 'USD', amount: '3', requestId: 'hop2' });
      expect(canon(res.balance?.available)).toBe('3');
      expect([n1.api.submits, n2.api.submits, n3.api.submits]).toEqual([1, 1, 1]);
      expect(cluster3.log).toHaveLength(1);
    } finally {
      client.close();
    }
  });
});
