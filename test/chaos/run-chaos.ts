/**
 * One chaos run: start the cluster behind proxies, fund clients, run the workload and the fault
 * schedule for `seconds`, heal, and check. Returns the verdict and the summary line.
 */
import { ChaosCluster } from './chaos-cluster.js';
import { ChaosHistory } from './chaos-history.js';
import { ChaosClient, ChaosClientPool, TradeFollower } from './chaos-client.js';
import { checkHistory, type Verdict } from './chaos-checker.js';
import { healAll, injectFaults } from './fault-injector.js';
import { Prng } from './prng.js';

/** The chaos nodes' --snapshot-entries. */
export const chaosSnapshotEntries = 1_000;

export interface ChaosOptions {
  readonly seconds: number;
  readonly nodes: number;
  readonly seed: number;
  readonly clients: number;
  readonly keep: boolean;
  readonly log: (line: string) => void;
}

export interface ChaosResult {
  readonly verdict: Verdict;
  readonly line: string;
  readonly ok: boolean;
  readonly dataDir: string;
}

export async function runChaos(o: ChaosOptions): Promise<ChaosResult> {
  const rng = new Prng(o.seed);
  // Snapshots far more often than the default, so that restarts from a snapshot, InstallSnapshot
  // and trade streams across compaction happen in every run (~100 writes/s: one every ~10 s).
  const cluster = await ChaosCluster.start({ nodes: o.nodes, electionTimeoutMs: 300, heartbeatMs: 50, snapshotEntries: chaosSnapshotEntries });
  const history = new ChaosHistory();
  const pool = new ChaosClientPool(cluster.nodes.map((n) => n.address));
  const followers: TradeFollower[] = [];
  let verdict: Verdict;
  try {
    o.log(`chaos: seed ${o.seed}, ${o.nodes} nodes, ${o.clients} clients, ${o.seconds} s, data in ${cluster.root}`);
    const waitUntil = Date.now() + 30_000;
    while (!(await cluster.leader()) && Date.now() < waitUntil) await new Promise((r) => setTimeout(r, 200));
    const clients = Array.from({ length: o.clients }, (_, i) => new ChaosClient(i, pool, new Prng(o.seed * 31 + i), history));
    await Promise.all(clients.map((c) => c.fund()));
    for (let i = 0; i < Math.min(3, o.clients); i++) {
      const f = new TradeFollower(pool, new Prng(o.seed * 17 + i));
      f.start();
      followers.push(f);
    }
    const until = Date.now() + o.seconds * 1000;
    await Promise.all([...clients.map((c) => c.run(until)), injectFaults(cluster, rng, history, until, o.log)]);
    o.log('chaos: healing');
    healAll(cluster);
    await new Promise((r) => setTimeout(r, 2000));
    verdict = await checkHistory(cluster, history, followers);
  } finally {
    for (const f of followers) f.stop();
    pool.close();
    await cluster.stop(o.keep);
  }
  const line = `chaos: ${history.ops} ops, ${history.acked()} acked, ${history.faults} faults, lost=${verdict.lost} dup=${verdict.dup} divergent=${verdict.divergent}`;
  return { verdict, line, ok: verdict.lost === 0 && verdict.dup === 0 && verdict.divergent === 0, dataDir: cluster.root };
}
