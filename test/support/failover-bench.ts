/**
 * Failover figures: a 3-node cluster of real processes, a client writing orders one after
 * another; SIGKILL the leader, measure kill -> next acknowledged write, restart the killed node,
 * repeat. Prints each trial and min/median/max.
 *
 *   npx tsx test/support/failover-bench.ts [trials=5] [election-timeout-ms=300]
 */
import type * as grpc from '@grpc/grpc-js';
import { sleep, TestCluster } from './cluster.js';
import { deposit, limit, submitOrder } from './exchange-calls.js';

const trials = Number(process.argv[2] ?? 5);
const electionTimeoutMs = Number(process.argv[3] ?? 300);
const writesBeforeKill = 5;
/** A write that cannot be acknowledged for this many tries means the cluster is broken: stop. */
const writeAttemptsMax = 500;

const cluster = await TestCluster.start({ nodes: 3, electionTimeoutMs });
const results: number[] = [];
let seq = 0;

/** One write, retried on the next running node until acknowledged (same id: applied once). */
async function write(): Promise<number> {
  const cid = `bench-${seq++}`;
  for (let attempt = 0; attempt < writeAttemptsMax; attempt++) {
    const ids = cluster.running();
    const node = cluster.node(ids[attempt % ids.length]!);
    try {
      await submitOrder(node.exchange, limit('bench', cid, 'buy', '1', '1'), 2000);
      return Date.now();
    } catch (e) {
      const code = (e as grpc.ServiceError).code;
      if (![14, 4, 1].includes(code)) throw e;
      await sleep(10);
    }
  }
  throw new Error(`write ${cid} not acknowledged after ${writeAttemptsMax} attempts\n${cluster.dumpLogs()}`);
}

try {
  let leader = await cluster.waitForLeader(90_000);
  await deposit(cluster.node(leader).exchange, { accountId: 'bench', asset: 'USD', amount: '100000000', requestId: 'bench-fund' });
  for (let trial = 1; trial <= trials; trial++) {
    for (let i = 0; i < writesBeforeKill; i++) await write();
    await cluster.kill(leader, 'SIGKILL');
    const killedAt = Date.now();
    const ackedAt = await write();
    results.push(ackedAt - killedAt);
    const next = await cluster.waitForLeader(10_000);
    console.log(`trial ${trial}: killed ${leader}, ${next} leads; kill -> next acknowledged write ${ackedAt - killedAt} ms`);
    cluster.spawn(leader);
    const target = (await cluster.status(next)).commitIndex;
    await cluster.waitForApplied(target, cluster.nodes.map((n) => n.id), 90_000);
    leader = await cluster.waitForLeader(10_000);
  }
  const sorted = [...results].sort((a, b) => a - b);
  console.log(`failover over ${trials} trials (election timeout ${electionTimeoutMs} ms): min ${sorted[0]} ms, median ${sorted[Math.floor(sorted.length / 2)]} ms, max ${sorted.at(-1)} ms`);
} finally {
  await cluster.stop();
}
