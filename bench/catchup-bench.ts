/**
 * npm run bench:catchup [-- --entries 100000 --concurrency 256]
 *
 * A 3-node loopback cluster of real processes (fsync on). SIGKILL one follower, commit `--entries`
 * deposits through the leader with many clients in flight, restart the follower and measure the
 * time until its last_applied reaches the leader's commit index (the missing-entry repair). Prints
 *   catchup: <n> entries behind, repaired in <s> s, <entries/s> entries/s, <n> rejected AppendEntries
 * where the time runs from the restart (process start-up included; the breakdown follows on a
 * second line) and the rejections are the AppendEntries the restarted follower refused.
 */
import { parseArgs } from 'node:util';
import type { ServiceError } from '@grpc/grpc-js';
import { credentials, status as grpcStatus } from '@grpc/grpc-js';
import { ClusterServiceClient } from '../src/gen/raftex/v1/cluster.js';
import type { GetStatusResponse } from '../src/gen/raftex/v1/cluster.js';
import { deposit } from '../test/support/exchange-calls.js';
import { sleep, TestCluster, unary } from '../test/support/cluster.js';

const { values } = parseArgs({ options: {
  entries: { type: 'string', default: '100000' },
  concurrency: { type: 'string', default: '256' },
  'election-timeout-ms': { type: 'string', default: '300' },
} });
const entries = Number(values.entries);
const concurrency = Number(values.concurrency);
if (!Number.isSafeInteger(entries) || entries < 1) throw new Error('--entries must be a positive integer');
if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > 4096) throw new Error('--concurrency must be 1-4096');

/** Accounts the deposits spread over (one balance row each; the content does not matter). */
const accountsMax = 64;
/** Attempts per deposit before the bench gives up (same request id: applied once). */
const depositAttemptsMax = 50;
/**
 * Status polling interval while waiting for the follower, ms. The poll skips the state hash
 * (hashing the whole state would slow the very repair being measured), so it can be tight.
 */
const pollMs = 20;
/** Deadline of status calls: a leader busy with a 256-deep backlog may take a while to answer. */
const statusTimeoutMs = 10_000;
/** The repair must finish within this, or the bench reports failure. */
const repairTimeoutMs = 600_000;

const cluster = await TestCluster.start({ nodes: 3, electionTimeoutMs: Number(values['election-timeout-ms']), logLevel: 'warn' });

/** Transport trouble and leader changes: the same request id makes a retry safe (applied once). */
function isRetryable(e: unknown): boolean {
  const code = (e as Partial<ServiceError>).code;
  return code === grpcStatus.UNAVAILABLE || code === grpcStatus.DEADLINE_EXCEEDED || code === grpcStatus.RESOURCE_EXHAUSTED
    || code === grpcStatus.INTERNAL || code === grpcStatus.CANCELLED;
}

let retries = 0;

/** Commits `count` deposits through the (current) leader with `concurrency` clients in flight. */
async function load(count: number, leaderId: { id: string }): Promise<void> {
  let next = 0;
  let done = 0;
  const started = performance.now();
  async function worker(w: number): Promise<void> {
    for (let i = next++; i < count; i = next++) {
      const req = { accountId: `catchup-${(w + i) % accountsMax}`, asset: 'USD', amount: '1', requestId: `cu-${i}` };
      for (let attempt = 1; ; attempt++) {
        try {
          await deposit(cluster.node(leaderId.id).exchange, req, 10_000);
          break;
        } catch (e) {
          if (!isRetryable(e) || attempt >= depositAttemptsMax) throw e;
          if (retries++ === 0) console.error(`\nretrying after: ${(e as Error).message}`);
          await sleep(20);
          leaderId.id = await cluster.waitForLeader(30_000);
        }
      }
      if (++done % 10_000 === 0) {
        process.stderr.write(`\rcommitted ${done}/${count} (${Math.round((done * 1000) / (performance.now() - started))}/s) `);
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  process.stderr.write(`\rcommitted ${done}/${count} in ${((performance.now() - started) / 1000).toFixed(1)} s (${retries} retries)\n`);
}

/**
 * A fresh status client for the restarted node: the harness's own channel to it sat in
 * reconnect backoff while it was down (seconds), which would count as repair time.
 */
function quickClient(address: string): ClusterServiceClient {
  return new ClusterServiceClient(address, credentials.createInsecure(), {
    'grpc.initial_reconnect_backoff_ms': 20, 'grpc.min_reconnect_backoff_ms': 20, 'grpc.max_reconnect_backoff_ms': 100,
  });
}

try {
  const leader = { id: await cluster.waitForLeader(90_000) };
  const victim = cluster.nodes.find((n) => n.id !== leader.id)!.id;
  await cluster.kill(victim, 'SIGKILL');
  console.error(`leader ${leader.id}; SIGKILLed follower ${victim}; committing ${entries} deposits at concurrency ${concurrency}`);
  const behindFrom = (await cluster.status(leader.id, statusTimeoutMs)).commitIndex;
  await load(entries, leader);
  const before = await cluster.status(leader.id, statusTimeoutMs);
  const target = before.commitIndex;

  const poller = quickClient(cluster.node(victim).address);
  const statusOrNull = (): Promise<GetStatusResponse | null> => unary(poller, poller.getStatus, { skipStateHash: true }, statusTimeoutMs).catch(() => null);
  const restartedAt = performance.now();
  cluster.spawn(victim);
  let upAt: number | null = null;
  let appliedWhenUp = 0;
  let last: GetStatusResponse | null = null;
  while (performance.now() - restartedAt < repairTimeoutMs) {
    last = await statusOrNull();
    if (last !== null && upAt === null) {
      upAt = performance.now();
      appliedWhenUp = last.lastApplied;
    }
    if (last !== null && last.lastApplied >= target) break;
    await sleep(pollMs);
  }
  const doneAt = performance.now();
  poller.close();
  if (last === null || last.lastApplied < target || upAt === null) {
    throw new Error(`follower ${victim} did not apply ${target} within ${repairTimeoutMs} ms (at ${last?.lastApplied ?? 'no answer'})\n${cluster.dumpLogs()}`);
  }
  const after = await cluster.status(leader.id, statusTimeoutMs);
  const behind = target - behindFrom;
  const totalS = (doneAt - restartedAt) / 1000;
  const repairS = (doneAt - upAt) / 1000;
  console.log(`catchup: ${behind} entries behind, repaired in ${totalS.toFixed(2)} s, ${Math.round(behind / totalS)} entries/s, `
    + `${last.appendRejectionsSent} rejected AppendEntries`);
  console.log(`  breakdown: process up and answering after ${((upAt - restartedAt) / 1000).toFixed(2)} s (applied index then: ${appliedWhenUp}), `
    + `then ${repairS.toFixed(2)} s for the remaining ${target - appliedWhenUp} entries (${Math.round((target - appliedWhenUp) / Math.max(repairS, 1e-3))} entries/s); `
    + `leader saw ${after.appendRejectionsReceived - before.appendRejectionsReceived} rejections; follower fsyncs ${last.fsyncs} for ${last.entriesPersisted} entries`
    // Fewer entries persisted than were missing: the leader had compacted its log and sent a snapshot.
    + (last.entriesPersisted < behind ? ` (the other ${behind - last.entriesPersisted} came in a snapshot)` : ''));
} catch (e) {
  console.error(`${String(e)}\n${cluster.dumpLogs(20)}`);
  process.exitCode = 1;
} finally {
  await cluster.stop();
}
