// load.mjs driver for raftex (see ../shared/bench/etcd/README.md): each "put" is one SubmitOrder
// through the public ExchangeService, sent to the leader and resolved when it is applied. Puts
// alternate between a resting buy and a crossing sell of 1 AAPL at 100.00 from two funded
// accounts, so the book stays shallow and half the puts execute a trade: real matching work,
// with an entry the size of an order (~100 bytes) in the log.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const here = path.dirname(fileURLToPath(import.meta.url));
const protoDir = path.resolve(here, '../../proto');
const definition = protoLoader.loadSync(
  ['raftex/v1/exchange.proto', 'raftex/v1/cluster.proto'].map((p) => path.join(protoDir, p)),
  { includeDirs: [protoDir], longs: Number, enums: String, defaults: true },
);
const v1 = grpc.loadPackageDefinition(definition).raftex.v1;

function unary(client, method, request, timeoutMs) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + timeoutMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

async function findLeader(endpoints, timeoutMs) {
  const until = Date.now() + 30_000;
  while (Date.now() < until) {
    for (const endpoint of endpoints) {
      const cluster = new v1.ClusterService(endpoint, grpc.credentials.createInsecure());
      try {
        const status = await unary(cluster, 'getStatus', { skipStateHash: true }, Math.min(timeoutMs, 2000));
        if (status.role === 'ROLE_LEADER') return endpoint;
      } catch { /* try the next one */ } finally { cluster.close(); }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no leader among ${endpoints.join(',')}`);
}

export async function createDriver({ endpoints, target, conns = 1, timeoutMs = 10_000 }) {
  const leader = target === 'first' ? endpoints[0] : await findLeader(endpoints, timeoutMs);
  const clients = Array.from({ length: Math.max(1, conns) }, (_, i) =>
    new v1.ExchangeService(leader, grpc.credentials.createInsecure(), { 'grpc.channel_id': i }));
  const run = `${process.pid}-${Date.now()}`;
  const buyer = `bench-buyer-${run}`;
  const seller = `bench-seller-${run}`;
  // Fund generously: each buy reserves 100.00, each sell 1 share.
  for (let i = 0; i < 10; i++) {
    await unary(clients[0], 'deposit', { accountId: buyer, asset: 'USD', amount: '1000000000', requestId: `fund-usd-${i}` }, timeoutMs);
    await unary(clients[0], 'deposit', { accountId: seller, asset: 'AAPL', amount: '10000000', requestId: `fund-aapl-${i}` }, timeoutMs);
  }
  let n = 0;
  return {
    describe: { driver: 'raftex', endpoints, leader },
    put(key) {
      const i = n++;
      const client = clients[i % clients.length];
      const buy = i % 2 === 0;
      const id = key.toString('latin1').replace(/[^A-Za-z0-9._:-]/g, ':').slice(-64);
      return unary(client, 'submitOrder', {
        accountId: buy ? buyer : seller,
        clientOrderId: id,
        symbol: 'AAPL',
        side: buy ? 'SIDE_BUY' : 'SIDE_SELL',
        type: 'ORDER_TYPE_LIMIT',
        quantity: '1',
        price: '100.00',
        timeInForce: 'TIME_IN_FORCE_GTC',
      }, timeoutMs);
    },
    close() { for (const c of clients) c.close(); },
  };
}
