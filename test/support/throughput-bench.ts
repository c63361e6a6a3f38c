/**
 * Write throughput through a 3-node cluster of real processes: C concurrent clients submit
 * non-crossing limit orders to the leader for D seconds. Prints orders/s, p50/p99 latency and
 * the leader's entries per fsync (group commit), read from its "node stopped" log line.
 *
 *   npx tsx test/support/throughput-bench.ts [clients=32] [seconds=10] [heartbeat-ms=50]
 */
import { TestCluster } from './cluster.js';
import { deposit, limit, submitOrder } from './exchange-calls.js';

const clients = Number(process.argv[2] ?? 32);
const seconds = Number(process.argv[3] ?? 10);
const heartbeatMs = Number(process.argv[4] ?? 50);

const cluster = await TestCluster.start({ nodes: 3, heartbeatMs });
try {
  const leader = await cluster.waitForLeader(90_000);
  const node = cluster.node(leader);
  await deposit(node.exchange, { accountId: 'tp', asset: 'USD', amount: '1000000000', requestId: 'tp-fund' });
  const latencies: number[] = [];
  const until = Date.now() + seconds * 1000;
  let seq = 0;
  const started = Date.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < until) {
      const t0 = performance.now();
      await submitOrder(node.exchange, limit('tp', `tp-${seq++}`, 'buy', '1', String(1 + (seq % 100))), 10_000);
      latencies.push(performance.now() - t0);
    }
  }));
  const elapsed = (Date.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const pct = (p: number): string => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))]!.toFixed(1);
  console.log(`${latencies.length} orders in ${elapsed.toFixed(1)} s with ${clients} clients: ${(latencies.length / elapsed).toFixed(0)} orders/s, p50 ${pct(0.5)} ms, p99 ${pct(0.99)} ms`);
  await cluster.kill(leader, 'SIGTERM');
  const stopped = node.logs.find((l) => l.includes('"msg":"node stopped"'));
  if (stopped !== undefined) {
    const stats = JSON.parse(stopped) as { syncs: number; entriesPersisted: number; readies: number };
    console.log(`leader ${leader}: ${stats.entriesPersisted} entries in ${stats.syncs} fsync batches (${(stats.entriesPersisted / Math.max(1, stats.syncs)).toFixed(1)} entries/fsync), ${stats.readies} Readies`);
  }
} finally {
  await cluster.stop();
}
