/**
 * npm run bench:latency [-- --orders 2000 --concurrency 1,16,64 --election-timeout-ms 300 --heartbeat-ms 50]
 *
 * A quick closed-loop probe of the write path, for iterating without the etcd comparison: three
 * real `raftex node` processes talking directly (no fault proxies), fsync on, one grpc-js client
 * sending SubmitOrder to the leader (alternating a resting buy and a crossing sell, like
 * bench/drivers/raftex.mjs). Prints orders/s and latency percentiles per concurrency.
 * RAFTEX_FROM_SOURCE=1 runs the current sources via tsx instead of dist/.
 */
import { parseArgs } from 'node:util';
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { ExchangeServiceClient, OrderType, Side, TimeInForce } from '../src/gen/raftex/v1/exchange.js';
import { ChaosCluster } from '../test/chaos/chaos-cluster.js';

const { values } = parseArgs({ options: {
  orders: { type: 'string', default: '2000' },
  concurrency: { type: 'string', default: '1,16,64' },
  'warmup-orders': { type: 'string', default: '1000' },
  'election-timeout-ms': { type: 'string', default: '300' },
  'heartbeat-ms': { type: 'string', default: '50' },
} });
const orders = Number(values.orders);
const warmup = Number(values['warmup-orders']);
const concurrencies = values.concurrency.split(',').map(Number);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;

const cluster = await ChaosCluster.start({ nodes: 3, electionTimeoutMs: Number(values['election-timeout-ms']), heartbeatMs: Number(values['heartbeat-ms']), direct: true });
let seq = 0;
const run = `${process.pid}`;

function call(client: ExchangeServiceClient, method: 'deposit' | 'submitOrder', request: object): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err: ServiceError | null) => (err ? reject(err) : resolve());
    if (method === 'deposit') client.deposit(request as never, new Metadata(), { deadline: Date.now() + 10_000 }, done);
    else client.submitOrder(request as never, new Metadata(), { deadline: Date.now() + 10_000 }, done);
  });
}

function order(client: ExchangeServiceClient): Promise<void> {
  const i = seq++;
  const buy = i % 2 === 0;
  return call(client, 'submitOrder', {
    accountId: buy ? `lat-buyer-${run}` : `lat-seller-${run}`, clientOrderId: `o-${i}`, symbol: 'AAPL',
    side: buy ? Side.SIDE_BUY : Side.SIDE_SELL, type: OrderType.ORDER_TYPE_LIMIT, quantity: '1', price: '100.00',
    timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
  });
}

/** `total` orders with `concurrency` outstanding; returns each order's latency in ms and the wall time. */
async function closedLoop(client: ExchangeServiceClient, concurrency: number, total: number): Promise<{ latencies: number[]; seconds: number }> {
  const latencies: number[] = [];
  let started = 0;
  const t0 = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (started < total) {
      started++;
      const t = performance.now();
      await order(client);
      latencies.push(performance.now() - t);
    }
  }));
  return { latencies, seconds: (performance.now() - t0) / 1000 };
}

try {
  let leader = await cluster.leader();
  while (leader === null) {
    await sleep(100);
    leader = await cluster.leader();
  }
  const client = new ExchangeServiceClient(leader.address, credentials.createInsecure());
  for (let i = 0; i < 10; i++) {
    await call(client, 'deposit', { accountId: `lat-buyer-${run}`, asset: 'USD', amount: '1000000000', requestId: `fu-${i}` });
    await call(client, 'deposit', { accountId: `lat-seller-${run}`, asset: 'AAPL', amount: '10000000', requestId: `fa-${i}` });
  }
  await closedLoop(client, 16, warmup);
  console.log(`latency bench: 3 nodes direct, fsync on, leader ${leader.id}, ${orders} orders per concurrency (election ${values['election-timeout-ms']} ms, heartbeat ${values['heartbeat-ms']} ms)`);
  console.log('| C | orders/s | p50 ms | p90 ms | p99 ms | max ms |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const c of concurrencies) {
    const { latencies, seconds } = await closedLoop(client, c, orders);
    const s = latencies.sort((a, b) => a - b);
    console.log(`| ${c} | ${Math.round(orders / seconds)} | ${percentile(s, 0.5).toFixed(2)} | ${percentile(s, 0.9).toFixed(2)} | ${percentile(s, 0.99).toFixed(2)} | ${s.at(-1)!.toFixed(2)} |`);
  }
  client.close();
} finally {
  await cluster.stop();
}
process.exit(0);
