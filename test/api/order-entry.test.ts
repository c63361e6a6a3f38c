/**
 * ExchangeService.OrderEntry (order-entry sessions) over real grpc-js loopback, against fake nodes
 * backed by a real Exchange: each write is answered once with its sequence, exactly as its unary
 * call would have been answered; sessions forward from a follower; the in-flight limit holds.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { credentials, Metadata, status } from '@grpc/grpc-js';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import {
  ExchangeServiceClient, ExchangeServiceService, OrderEntryResponse, OrderStatus, OrderType, Side, TimeInForce,
} from '../../src/gen/raftex/v1/exchange.js';
import type { OrderEntryRequest, SubmitOrderRequest } from '../../src/gen/raftex/v1/exchange.js';
import { canon, serve, startCluster } from './grpc-harness.js';
import type { RunningNode } from './grpc-harness.js';
import type { FakeCluster } from './fake-node-api.js';
import { FakeNodeApi } from './fake-node-api.js';

let cluster: FakeCluster;
let leader: RunningNode;
let follower: RunningNode;
const clients: ExchangeServiceClient[] = [];
let seq = 0;

beforeAll(async () => {
  const started = await startCluster(['n1', 'n2'], 'n1', { leaderWaitMs: 300 });
  cluster = started.cluster;
  [leader, follower] = started.nodes as [RunningNode, RunningNode];
});

afterAll(async () => {
  for (const c of clients) c.close();
  await Promise.all([leader?.stop(), follower?.stop()]);
});

beforeEach(() => {
  cluster.leaderId = 'n1';
});

const account = (): string => `oe-${++seq}`;
const order = (over: Partial<SubmitOrderRequest>): SubmitOrderRequest => ({
  accountId: 'nobody', clientOrderId: `c-${++seq}`, symbol: 'AAPL', side: Side.SIDE_BUY,
  type: OrderType.ORDER_TYPE_LIMIT, quantity: '1', price: '100', timeInForce: TimeInForce.TIME_IN_FORCE_UNSPECIFIED, ...over,
});

/** A session on `address` that collects responses by sequence. */
class Session {
  readonly call: ClientDuplexStream<OrderEntryRequest, OrderEntryResponse>;
  readonly responses: OrderEntryResponse[] = [];
  private waiters: (() => void)[] = [];
  ended: Promise<{ code: number; details: string }>;

  constructor(address: string) {
    const client = new ExchangeServiceClient(address, credentials.createInsecure());
    clients.push(client);
    this.call = client.orderEntry();
    this.call.on('data', (r: OrderEntryResponse) => {
      this.responses.push(r);
      for (const w of this.waiters.splice(0)) w();
    });
    this.ended = new Promise((resolve) => {
      this.call.on('status', (s: { code: number; details: string }) => resolve(s));
      this.call.on('error', () => { /* the status event carries it */ });
    });
  }

  send(request: Omit<OrderEntryRequest, 'sequence'>, sequence = ++seq): number {
    this.call.write({ sequence, ...request });
    return sequence;
  }

  async answer(sequence: number): Promise<OrderEntryResponse> {
    for (;;) {
      const hit = this.responses.find((r) => r.sequence === sequence);
      if (hit) return hit;
      await new Promise<void>((resolve, reject) => {
        this.waiters.push(resolve);
        setTimeout(() => reject(new Error(`no answer for sequence ${sequence}`)), 5_000).unref();
      });
    }
  }
}

describe('OrderEntry sessions', () => {
  it('answers every kind of write with its sequence, as the unary calls would', async () => {
    const s = new Session(leader.address);
    const a = account();
    const before = cluster.log.length;
    const dep = await s.answer(s.send({ deposit: { accountId: a, asset: 'USD', amount: '1000.50', requestId: 'd1' } }));
    expect(canon(dep.deposit?.balance)).toEqual({ asset: 'USD', available: '1000.5', reserved: '0' });
    expect(dep.deposit?.logIndex).toBe(before + 1);
    const placed = await s.answer(s.send({ submitOrder: order({ accountId: a, quantity: '5', price: '100' }) }));
    expect(placed.submitOrder?.status).toBe(OrderStatus.ORDER_STATUS_NEW);
    const orderId = placed.submitOrder!.orderId;
    const reduced = await s.answer(s.send({ reduceOrder: { accountId: a, orderId, quantity: '2' } }));
    expect(canon(reduced.reduceOrder?.remainingQuantity)).toBe('3');
    const cancelled = await s.answer(s.send({ cancelOrder: { accountId: a, orderId } }));
    expect(cancelled.cancelOrder?.status).toBe(OrderStatus.ORDER_STATUS_CANCELLED);
    expect(canon(cancelled.cancelOrder?.cancelledQuantity)).toBe('3');
    const out = await s.answer(s.send({ withdraw: { accountId: a, asset: 'USD', amount: '0.50', requestId: 'w1' } }));
    expect(canon(out.withdraw?.balance?.available)).toBe('1000');
    expect(cluster.log.length).toBe(before + 5);
    s.call.end();
    expect((await s.ended).code).toBe(status.OK);
  });

  it('a malformed write gets INVALID_ARGUMENT and never reaches the log; the session goes on', async () => {
    const s = new Session(leader.address);
    const a = account();
    const before = cluster.log.length;
    const bad = await s.answer(s.send({ deposit: { accountId: a, asset: 'USD', amount: '1e3', requestId: 'd1' } }));
    expect(bad.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(bad.deposit).toBeUndefined();
    const none = await s.answer(s.send({}));
    expect(none.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(none.error?.message).toMatch(/exactly one of/);
    const two = await s.answer(s.send({ deposit: { accountId: a, asset: 'USD', amount: '1', requestId: 'x' }, withdraw: { accountId: a, asset: 'USD', amount: '1', requestId: 'y' } }));
    expect(two.error?.code).toBe(status.INVALID_ARGUMENT);
    expect(cluster.log.length).toBe(before);
    const ok = await s.answer(s.send({ deposit: { accountId: a, asset: 'USD', amount: '5', requestId: 'd2' } }));
    expect(ok.deposit?.logIndex).toBe(before + 1);
    s.call.end();
  });

  it('a business rejection is committed: FAILED_PRECONDITION with its reason and log index', async () => {
    const s = new Session(leader.address);
    const before = cluster.log.length;
    const r = await s.answer(s.send({ submitOrder: order({ accountId: account(), quantity: '10', price: '100' }) }));
    expect(r.error?.code).toBe(status.FAILED_PRECONDITION);
    expect(r.error?.rejectReason).toBe('insufficientFunds');
    expect(r.error?.logIndex).toBe(before + 1);
    s.call.end();
  });

  it('a repeated client_order_id returns the original outcome with no second entry', async () => {
    const s = new Session(leader.address);
    const a = account();
    await s.answer(s.send({ deposit: { accountId: a, asset: 'USD', amount: '1000', requestId: 'd' } }));
    const o = order({ accountId: a });
    const first = await s.answer(s.send({ submitOrder: o }));
    const again = await s.answer(s.send({ submitOrder: o }));
    expect(again.submitOrder?.orderId).toBe(first.submitOrder?.orderId);
    expect(cluster.exchange.openOrders(a)).toHaveLength(1);
    s.call.end();
  });

  it('on a follower, every write is forwarded to the leader', async () => {
    const s = new Session(follower.address);
    const a = account();
    const before = cluster.log.length;
    const leaderSubmits = leader.api.submits;
    const dep = await s.answer(s.send({ deposit: { accountId: a, asset: 'AAPL', amount: '3', requestId: 'd' } }));
    expect(dep.deposit?.logIndex).toBe(before + 1);
    expect(leader.api.submits).toBe(leaderSubmits + 1);
    s.call.end();
  });

  it('answers the writes still in flight after the client half-closes, then ends the stream', async () => {
    const s = new Session(leader.address);
    const a = account();
    const sent = [1, 2, 3].map((i) => s.send({ deposit: { accountId: a, asset: 'USD', amount: '1', requestId: `h${i}` } }));
    s.call.end();
    expect((await s.ended).code).toBe(status.OK);
    expect(s.responses.map((r) => r.sequence).sort()).toEqual(sent.sort());
  });

  it('stops reading at its in-flight limit and resumes as answers drain', async () => {
    const c = new FakeClusterNode();
    const node = await c.start();
    try {
      let release!: () => void;
      node.api.hold = new Promise<void>((resolve) => { release = resolve; });
      const s = new Session(node.address);
      const a = account();
      const sent = Array.from({ length: 20 }, (_, i) => s.send({ deposit: { accountId: a, asset: 'USD', amount: '1', requestId: `f${i}` } }));
      await new Promise((r) => setTimeout(r, 300));
      // Four are in flight; the rest wait in HTTP/2 and grpc-js buffers, not in the node.
      expect(node.api.submits).toBe(4);
      release();
      node.api.hold = null;
      await Promise.all(sent.map((q) => s.answer(q)));
      expect(node.api.submits).toBe(20);
      s.call.end();
    } finally {
      await node.stop();
    }
  });

  it('ends a session whose message does not decode with INVALID_ARGUMENT', async () => {
    const client = new ExchangeServiceClient(leader.address, credentials.createInsecure());
    clients.push(client);
    const def = ExchangeServiceService.orderEntry;
    const call = client.makeBidiStreamRequest<Buffer, OrderEntryResponse>(def.path, (b: Buffer) => b, def.responseDeserialize, new Metadata());
    const ended = new Promise<{ code: number }>((resolve) => call.on('status', resolve));
    call.on('error', () => { /* status carries it */ });
    call.on('data', () => { /* none expected */ });
    call.write(Buffer.from([0x0a, 0xff, 0xff, 0xff])); // field 1 as length-delimited, truncated
    expect((await ended).code).toBe(status.INVALID_ARGUMENT);
  });
});

/** A one-node fake cluster with a 4-write in-flight limit. */
class FakeClusterNode {
  async start(): Promise<RunningNode> {
    const { cluster: own } = await startCluster([], null);
    own.leaderId = 'solo';
    return serve(new FakeNodeApi(own, 'solo'), { orderEntryInFlightMax: 4 });
  }
}
