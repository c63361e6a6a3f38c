// load.mjs driver for raftex (see ../shared/bench/etcd/README.md): each "put" is one SubmitOrder
// through the public ExchangeService, sent to the leader and resolved when it is applied. Puts
// alternate between a resting buy and a crossing sell of 1 AAPL at 100.00 from two funded
// accounts, so the book stays shallow and half the puts execute a trade: real matching work,
// with an entry the size of an order (~100 bytes) in the log.
//
// createSessionDriver (bench/drivers/raftex-session.mjs, used by systems/raftex-session.sh) sends the same orders over
// OrderEntry sessions instead: one bidirectional stream per connection, each put one message on it,
// resolved by the response with its sequence. The load loop, concurrency and orders are the same.
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

export function createDriver(options) {
  return createRaftexDriver(options, 'unary');
}

export function createSessionDriver(options) {
  return createRaftexDriver(options, 'session');
}

async function createRaftexDriver({ endpoints, target, conns = 1, timeoutMs = 10_000 }, api) {
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
  const order = (key, i) => {
    const buy = i % 2 === 0;
    return {
      accountId: buy ? buyer : seller,
      clientOrderId: key.toString('latin1').replace(/[^A-Za-z0-9._:-]/g, ':').slice(-64),
      symbol: 'AAPL',
      side: buy ? 'SIDE_BUY' : 'SIDE_SELL',
      type: 'ORDER_TYPE_LIMIT',
      quantity: '1',
      price: '100.00',
      timeInForce: 'TIME_IN_FORCE_GTC',
    };
  };
  if (api === 'session') {
    const sessions = clients.map(openSession);
    return {
      describe: { driver: 'raftex', api: 'OrderEntry session', endpoints, leader, sessions: sessions.length },
      put(key) {
        const i = n++;
        return sessions[i % sessions.length].send({ submitOrder: order(key, i) }, timeoutMs);
      },
      close() {
        for (const s of sessions) s.close();
        for (const c of clients) c.close();
      },
    };
  }
  return {
    describe: { driver: 'raftex', api: 'unary SubmitOrder', endpoints, leader },
    put(key) {
      const i = n++;
      return unary(clients[i % clients.length], 'submitOrder', order(key, i), timeoutMs);
    },
    close() { for (const c of clients) c.close(); },
  };
}

/** One OrderEntry stream: send() resolves with the response of its sequence, rejects on its error. */
function openSession(client) {
  const call = client.orderEntry();
  const pending = new Map();
  let sequence = 0;
  const failAll = (e) => {
    for (const p of pending.values()) { clearTimeout(p.timer); p.reject(e); }
    pending.clear();
  };
  call.on('data', (response) => {
    const p = pending.get(response.sequence);
    if (p === undefined) return;
    pending.delete(response.sequence);
    clearTimeout(p.timer);
    if (response.error) p.reject(Object.assign(new Error(response.error.message), { code: response.error.code }));
    else p.resolve(response);
  });
  call.on('error', failAll);
  call.on('end', () => failAll(new Error('order-entry session ended')));
  return {
    send(request, timeoutMs) {
      const seq = ++sequence;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => { pending.delete(seq); reject(new Error(`sequence ${seq}: no answer in ${timeoutMs} ms`)); }, timeoutMs);
        pending.set(seq, { resolve, reject, timer });
        call.write({ sequence: seq, ...request });
      });
    },
    close() { call.end(); },
  };
}
