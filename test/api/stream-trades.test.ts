/**
 * StreamTrades over real grpc-js loopback against fake nodes backed by a real Exchange: headers
 * once subscribed, history then live, filters, errors, cancel, and a slow consumer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { status } from '@grpc/grpc-js';
import type { ClientReadableStream } from '@grpc/grpc-js';
import { NodeClient } from '../../src/cli/client.js';
import { OrderType, Side, TimeInForce } from '../../src/gen/raftex/v1/exchange.js';
import type { SubmitOrderRequest, Trade } from '../../src/gen/raftex/v1/exchange.js';
import { canon, startCluster } from './grpc-harness.js';
import type { RunningNode } from './grpc-harness.js';
import type { FakeCluster } from './fake-node-api.js';

let cluster: FakeCluster;
let leader: RunningNode;
let follower: RunningNode;
let viaLeader: NodeClient;
let viaFollower: NodeClient;
let seq = 0;

beforeAll(async () => {
  const started = await startCluster(['n1', 'n2'], 'n1');
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

const account = (): string => `acct-${++seq}`;

const order = (over: Partial<SubmitOrderRequest>): SubmitOrderRequest => ({
  accountId: 'nobody', clientOrderId: `c-${++seq}`, symbol: 'AAPL', side: Side.SIDE_BUY,
  type: OrderType.ORDER_TYPE_LIMIT, quantity: '1', price: '100', timeInForce: TimeInForce.TIME_IN_FORCE_UNSPECIFIED, ...over,
});

async function fund(accountId: string, asset: string, amount: string): Promise<void> {
  await viaLeader.call('deposit', { accountId, asset, amount, requestId: `fund-${++seq}` });
}

describe('StreamTrades', () => {
  function collect(stream: ClientReadableStream<Trade>, n: number): Promise<Trade[]> {
    return new Promise((resolve, reject) => {
      const got: Trade[] = [];
      stream.on('data', (t: Trade) => {
        got.push(t);
        if (got.length === n) resolve(got);
      });
      stream.on('error', reject);
    });
  }
  const headers = (stream: ClientReadableStream<Trade>): Promise<void> =>
    new Promise((resolve, reject) => { stream.once('metadata', () => resolve()); stream.once('error', reject); });

  async function cross(symbol: string, price: string): Promise<number> {
    const s = account();
    const b = account();
    await fund(s, symbol, '1');
    await fund(b, 'USD', '10000');
    await viaLeader.call('submitOrder', order({ accountId: s, symbol, side: Side.SIDE_SELL, quantity: '1', price }));
    const res = await viaLeader.call('submitOrder', order({ accountId: b, symbol, quantity: '1', price }));
    expect(res.trades).toHaveLength(1);
    return res.logIndex;
  }

  it('sends headers once subscribed, then every trade committed afterwards (on a follower)', async () => {
    const stream = viaFollower.exchange.streamTrades({ symbol: 'AMZN', fromLogIndex: 0 });
    await headers(stream);
    const got = collect(stream, 2);
    await cross('AAPL', '50'); // other symbol: filtered out
    const i1 = await cross('AMZN', '120');
    const i2 = await cross('AMZN', '121');
    const trades = await got;
    stream.cancel();
    expect(canon(trades.map((t) => [t.symbol, t.price, t.logIndex]))).toEqual([['AMZN', '120', i1], ['AMZN', '121', i2]]);
    expect(trades[0]!.executedAt).toBeDefined();
  });

  it('resumes from a log index: history first, then live', async () => {
    const i1 = await cross('AMZN', '130');
    const stream = viaLeader.exchange.streamTrades({ symbol: '', fromLogIndex: i1 });
    await headers(stream);
    const got = collect(stream, 2);
    const i2 = await cross('AAPL', '131');
    const trades = await got;
    stream.cancel();
    expect(trades.map((t) => t.logIndex)).toEqual([i1, i2]);
  });

  it('unknown symbol -> NOT_FOUND; malformed -> INVALID_ARGUMENT', async () => {
    const notFoundStream = viaLeader.exchange.streamTrades({ symbol: 'XYZ', fromLogIndex: 0 });
    const e1 = await new Promise<{ code: number }>((resolve) => notFoundStream.on('error', resolve));
    expect(e1.code).toBe(status.NOT_FOUND);
    const bad = viaLeader.exchange.streamTrades({ symbol: 'x'.repeat(1 << 20), fromLogIndex: 0 });
    const e2 = await new Promise<{ code: number }>((resolve) => bad.on('error', resolve));
    expect(e2.code).toBe(status.INVALID_ARGUMENT);
  });

  it('an overloaded subscription ends with RESOURCE_EXHAUSTED', async () => {
    follower.api.injectStream = 'overloaded';
    const stream = viaFollower.exchange.streamTrades({ symbol: '', fromLogIndex: 0 });
    const e = await new Promise<{ code: number }>((resolve) => stream.on('error', resolve));
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
  });

  it('a cancelled stream unsubscribes', async () => {
    const stream = viaLeader.exchange.streamTrades({ symbol: '', fromLogIndex: 0 });
    await headers(stream);
    expect(cluster.live.observed).toBe(true);
    const observersBefore = (cluster.live as unknown as { observers: unknown[] }).observers.length;
    stream.on('error', () => undefined);
    stream.cancel();
    for (let i = 0; i < 50 && (cluster.live as unknown as { observers: unknown[] }).observers.length >= observersBefore; i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect((cluster.live as unknown as { observers: unknown[] }).observers.length).toBe(observersBefore - 1);
  });
});

describe('StreamTrades slow consumer', () => {
  it('a client that stops reading gets RESOURCE_EXHAUSTED and its subscription is dropped', async () => {
    const { cluster: c, nodes: [node] } = await startCluster(['n1'], 'n1', { streamBufferMax: 50 });
    const client = new NodeClient(node!.address, 5_000);
    try {
      const stream = client.exchange.streamTrades({ symbol: '', fromLogIndex: 0 });
      await new Promise<void>((resolve, reject) => { stream.once('metadata', () => resolve()); stream.once('error', reject); });
      stream.pause();
      const observers = (): number => (c.live as unknown as { observers: unknown[] }).observers.length;
      expect(observers()).toBe(1);
      // Far more than HTTP/2 flow control plus the 50-trade buffer can hold.
      const tradesMax = 20_000;
      for (let i = 1; i <= tradesMax && observers() > 0; i++) {
        c.live.next({
          tradeId: `T${i}.1`, symbol: 'AAPL', price: '100.00', quantity: '1', buyOrderId: 'O1', sellOrderId: 'O2',
          buyerAccountId: 'a', sellerAccountId: 'b', aggressorSide: 'buy', logIndex: i, timestampMs: 1_700_000_000_000 + i,
        });
        // Let HTTP/2 move data so flow control (not just the JS buffer) is what fills up.
        if (i % 100 === 0) await new Promise((r) => setImmediate(r));
      }
      expect(observers()).toBe(0);
      const received: number[] = [];
      const ended = new Promise<{ code: number }>((resolve) => {
        stream.on('data', (t: Trade) => received.push(t.logIndex));
        stream.on('error', resolve);
      });
      stream.resume();
      const e = await ended;
      expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
      // What was delivered is a gap-free prefix: the stream ends, it never skips.
      expect(received.length).toBeGreaterThan(0);
      expect(received).toEqual(received.map((_, i) => i + 1));
    } finally {
      client.close();
      await node!.stop();
    }
  });
});
