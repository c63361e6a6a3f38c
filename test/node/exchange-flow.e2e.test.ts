/**
 * Three real node processes on loopback: deposits and two crossing orders through any node; both
 * portfolios right on every node; StreamTrades on a follower sees the trade, and resuming from its
 * log index replays the same trade; malformed input and insufficient funds map to the contract's
 * codes without growing the log; a retried order is applied once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { OrderStatus } from '../../src/gen/raftex/v1/exchange.js';
import { TestCluster } from '../support/cluster.js';
import { available, codeOf, deposit, limit, listOrders, portfolio, submitOrder, TradeCollector } from '../support/exchange-calls.js';

describe('3-node cluster: order flow end to end', () => {
  let cluster: TestCluster;
  let leader: string;
  let followers: string[];

  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 3 });
    leader = await cluster.waitForLeader(60_000);
    followers = cluster.nodes.map((n) => n.id).filter((id) => id !== leader);
  }, 90_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('deposits and a crossing pair settle identically on every node, and streams see the trade', async () => {
    const follower = cluster.node(followers[0]!);
    const other = cluster.node(followers[1]!);
    const live = new TradeCollector(follower.exchange, 'AAPL', 0);
    await live.registered;

    // Writes go to followers: they must be forwarded to the leader.
    const d1 = await deposit(follower.exchange, { accountId: 'alice', asset: 'USD', amount: '10000', requestId: 'd1' });
    expect(Number(d1.balance?.available)).toBe(10000);
    await deposit(other.exchange, { accountId: 'bob', asset: 'AAPL', amount: '100', requestId: 'd2' });

    const buy = await submitOrder(follower.exchange, limit('alice', 'o1', 'buy', '10', '150.00'));
    expect(buy.status).toBe(OrderStatus.ORDER_STATUS_NEW);
    const sell = await submitOrder(other.exchange, limit('bob', 'o2', 'sell', '10', '150'));
    expect(sell.status).toBe(OrderStatus.ORDER_STATUS_FILLED);
    expect(sell.trades).toHaveLength(1);
    expect(sell.trades[0]!.logIndex).toBe(sell.logIndex);

    // Linearizable reads on every node reflect both acknowledged writes.
    for (const node of cluster.nodes) {
      const a = available(await portfolio(node.exchange, 'alice'));
      const b = available(await portfolio(node.exchange, 'bob'));
      expect(a, `alice on ${node.id}`).toEqual({ AAPL: 10, USD: 8500 });
      expect(b, `bob on ${node.id}`).toEqual({ AAPL: 90, USD: 1500 });
    }

    const [trade] = await live.waitFor(1);
    expect(trade).toMatchObject({ symbol: 'AAPL', buyerAccountId: 'alice', sellerAccountId: 'bob', logIndex: sell.logIndex });
    expect(Number(trade!.price)).toBe(150);
    expect(Number(trade!.quantity)).toBe(10);
    live.cancel();

    // Resume from the trade's log index on the other follower and on the leader: the same trade.
    for (const id of [other.id, leader]) {
      const resumed = new TradeCollector(cluster.node(id).exchange, '', trade!.logIndex);
      const [again] = await resumed.waitFor(1);
      expect(again, `resumed on ${id}`).toEqual(trade);
      resumed.cancel();
    }

    const statuses = await cluster.waitForApplied(sell.logIndex);
    expect(new Set(statuses.map((s) => s.stateHash)).size, 'state hashes').toBe(1);
  });

  it('a retried order with the same client_order_id returns the original reply and applies once', async () => {
    const node = cluster.node(followers[0]!);
    await deposit(node.exchange, { accountId: 'carol', asset: 'USD', amount: '1000', requestId: 'c1' });
    const first = await submitOrder(node.exchange, limit('carol', 'c-o1', 'buy', '1', '10'));
    const retry = await submitOrder(cluster.node(leader).exchange, limit('carol', 'c-o1', 'buy', '1', '10'));
    expect(retry).toEqual(first);
    const orders = await listOrders(node.exchange, 'carol');
    expect(orders.orders.filter((o) => o.clientOrderId === 'c-o1')).toHaveLength(1);
    expect(available(await portfolio(node.exchange, 'carol'))['USD']).toBe(990);
  });

  it('malformed requests are INVALID_ARGUMENT and never reach the log; insufficient funds is FAILED_PRECONDITION', async () => {
    const node = cluster.node(followers[1]!);
    const before = await cluster.status(leader);
    expect(await codeOf(deposit(node.exchange, { accountId: 'dave', asset: 'USD', amount: '-5', requestId: 'x1' }))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await codeOf(deposit(node.exchange, { accountId: 'dave', asset: 'USD', amount: '1.001', requestId: 'x2' }))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await codeOf(submitOrder(node.exchange, limit('dave', 'x3', 'buy', '1', 'abc')))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await codeOf(submitOrder(node.exchange, limit('', 'x4', 'buy', '1', '1')))).toBe(grpc.status.INVALID_ARGUMENT);
    const after = await cluster.status(leader);
    expect(after.lastLogIndex).toBe(before.lastLogIndex);

    await deposit(node.exchange, { accountId: 'dave', asset: 'USD', amount: '100', requestId: 'dv1' });
    expect(await codeOf(submitOrder(node.exchange, limit('dave', 'dv-o1', 'buy', '1000', '150')))).toBe(grpc.status.FAILED_PRECONDITION);
  });
});
