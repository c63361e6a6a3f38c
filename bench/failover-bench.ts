/**
 * npm run bench:failover [-- --trials 20 --nodes 3]
 * Under a steady order load, SIGKILL the leader; measure the time from the kill to the next
 * acknowledged write (from any client, through any surviving node). Restart the victim, let it
 * catch up, repeat. Prints p50/p99/max over the trials.
 */
import { parseArgs } from 'node:util';
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ExchangeServiceClient, OrderType, Side, TimeInForce } from '../src/gen/raftex/v1/exchange.js';
import { defaultTiming } from '../src/node/clock.js';
import { ChaosCluster } from '../test/chaos/chaos-cluster.js';

const { values } = parseArgs({ options: {
  trials: { type: 'string', default: '20' },
  nodes: { type: 'string', default: '3' },
  // The node's defaults unless given: the figure printed is what `raftex node` does out of the box.
  'election-timeout-ms': { type: 'string', default: String(defaultTiming.electionTimeoutMs) },
  'heartbeat-ms': { type: 'string', default: String(defaultTiming.heartbeatMs) },
} });
const trials = Number(values.trials);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const percentile = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil(p * xs.length) - 1)]!;

const cluster = await ChaosCluster.start({ nodes: Number(values.nodes), electionTimeoutMs: Number(values['election-timeout-ms']), heartbeatMs: Number(values['heartbeat-ms']) });
const clients = cluster.nodes.map((n) => new ExchangeServiceClient(n.address, credentials.createInsecure()));
/** When the first write sent after the kill was acknowledged (see loadLoop). */
let firstAckAfterKill = Infinity;
let killedAt = Infinity;
let seq = 0;
let running = true;

function submit(client: ExchangeServiceClient, accountId: string): Promise<boolean> {
  return new Promise((resolve) => {
    client.submitOrder({ accountId, clientOrderId: `f-${seq++}`, symbol: 'AAPL', side: Side.SIDE_BUY, type: OrderType.ORDER_TYPE_LIMIT,
      quantity: '1', price: '1.00', timeInForce: TimeInForce.TIME_IN_FORCE_IOC }, new Metadata(), { deadline: Date.now() + 1000 },
    // IOC against an empty book: a committed write that never rests, so no per-account open-order
    // limit is ever reached. A business rejection is a committed outcome too.
    (err: ServiceError | null) => resolve(!err || err.code === status.FAILED_PRECONDITION));
  });
}

async function loadLoop(i: number): Promise<void> {
  const accountId = `failover-${i}`;
  while (running) {
    const client = clients[(i + seq) % clients.length]!;
    const node = cluster.nodes[clients.indexOf(client)]!;
    if (!cluster.isUp(node)) { await sleep(5); continue; }
    const sentAt = performance.now();
    // A reply already on the wire when the leader died proves nothing about failover: only a
    // write sent after the kill and acknowledged counts.
    if (await submit(client, accountId)) {
      if (sentAt > killedAt) firstAckAfterKill = Math.min(firstAckAfterKill, performance.now());
    } else await sleep(10);
  }
}

/** Every node up, one leader, all at the same applied index: the next trial starts from a healthy cluster. */
async function awaitCaughtUp(): Promise<void> {
  for (;;) {
    const statuses = await Promise.all(cluster.nodes.map((n) => cluster.status(n, 1000)));
    if (statuses.every((s) => s !== null) && statuses.filter((s) => s!.role === 3).length === 1) {
      const applied = statuses.map((s) => s!.lastApplied);
      // Under load the indexes move all the time: "caught up" = within a few batches of each other.
      if (statuses.every((s) => s!.leaderId !== '') && Math.max(...applied) - Math.min(...applied) < 200) return;
    }
    await sleep(100);
  }
}

try {
  while (!(await cluster.leader())) await sleep(100);
  for (let i = 0; i < 8; i++) {
    await new Promise<void>((resolve) => clients[0]!.deposit({ accountId: `failover-${i}`, asset: 'USD', amount: '100000000.00', requestId: `fund-${i}` },
      new Metadata(), { deadline: Date.now() + 5000 }, () => resolve()));
  }
  const loops = Array.from({ length: 8 }, (_, i) => loadLoop(i));
  const times: number[] = [];
  for (let t = 0; t < trials; t++) {
    await sleep(1000);
    const leader = await cluster.leader();
    if (!leader) { t--; continue; }
    firstAckAfterKill = Infinity;
    killedAt = performance.now();
    const killedAtEpochMs = Date.now();
    cluster.kill(leader);
    while (firstAckAfterKill === Infinity) await sleep(1);
    const ms = firstAckAfterKill - killedAt;
    killedAt = Infinity;
    times.push(ms);
    // The epoch time lines the trial up with the nodes' pino logs (role changes carry `time`).
    console.error(`trial ${t + 1}: killed ${leader.id} at ${killedAtEpochMs}, next ack after ${ms.toFixed(1)} ms`);
    cluster.spawnNode(leader);
    await awaitCaughtUp();
  }
  running = false;
  await Promise.all(loops);
  console.log(`failover: ${times.length} trials, kill -> next acknowledged write: p50=${percentile(times, 0.5).toFixed(0)} ms p99=${percentile(times, 0.99).toFixed(0)} ms max=${Math.max(...times).toFixed(0)} ms (election timeout ${values['election-timeout-ms']} ms, heartbeat ${values['heartbeat-ms']} ms)`);
} finally {
  running = false;
  for (const c of clients) c.close();
  await cluster.stop();
}
process.exit(0);
