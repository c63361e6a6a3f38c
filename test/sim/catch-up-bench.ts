/**
 * `npx tsx test/sim/catch-up-bench.ts` — how fast a follower 500 entries behind catches up, on an
 * in-order (FIFO, like one gRPC stream) and on a reordering network, for a few flow-control
 * settings. Prints ticks and messages; a figure for FINDINGS.md, not a test.
 */
import type { NodeId } from '../../src/raft/types.js';
import { raftNodeFactory } from './raft-factory.js';
import { SimCluster } from './sim-cluster.js';
import { calmNetwork } from './sim-network.js';
import { drawScenario, type Scenario } from './sim-scenario.js';
import { Prng } from './prng.js';

/** Entries the follower misses. */
const backlogEntries = 500;
/** Give up after this many ticks. */
const catchUpTicksMax = 5000;

function scenarioFor(fifo: boolean, entriesPerAppendMax: number, inflightAppendsMax: number): Scenario {
  const base = drawScenario(new Prng(1), 3);
  return {
    ...base,
    tuning: {
      electionTicks: 10, heartbeatTicks: 1, preVote: true, checkQuorum: true,
      entriesPerAppendMax, bytesPerAppendMax: 1 << 20, inflightAppendsMax, uncommittedEntriesMax: 10_000,
    },
    network: { ...calmNetwork, delayMax: 2, fifo },
  };
}

function commitOf(cluster: SimCluster, id: NodeId): number {
  const line = cluster.describeNodes()[cluster.ids.indexOf(id)] ?? '';
  return Number(/commit=(\d+)/.exec(line)?.[1] ?? -1);
}

function measure(fifo: boolean, entriesPerAppendMax: number, inflightAppendsMax: number): string {
  const cluster = new SimCluster(1, 3, scenarioFor(fifo, entriesPerAppendMax, inflightAppendsMax), raftNodeFactory);
  for (let i = 0; i < 40; i++) cluster.step(false);
  const leader = cluster.leader();
  if (leader === null) return 'no leader elected';
  const lagging = cluster.ids.find((id) => id !== leader.id)!;
  cluster.crash(lagging);
  const enc = new TextEncoder();
  for (let i = 0; i < backlogEntries; i++) {
    cluster.proposeToLeader(enc.encode(`entry-${i}`));
    if (i % 5 === 0) cluster.step(false);
  }
  for (let i = 0; i < 50; i++) cluster.step(false);
  cluster.restartAt(lagging, 0);
  const sentBefore = cluster.network.stats.sent;
  const start = cluster.now;
  while (cluster.now - start < catchUpTicksMax && commitOf(cluster, lagging) !== commitOf(cluster, leader.id)) cluster.step(false);
  const violations = cluster.checker.violations.length;
  return `${fifo ? 'in-order  ' : 'reordering'} entries/append=${String(entriesPerAppendMax).padStart(2)} inflight=${String(inflightAppendsMax).padStart(2)}: ` +
    `caught up in ${cluster.now - start} ticks, ${cluster.network.stats.sent - sentBefore} messages${violations > 0 ? `, ${violations} VIOLATIONS` : ''}`;
}

for (const fifo of [true, false]) {
  for (const [entries, inflight] of [[1, 64], [1, 8], [64, 4]] as const) console.log(measure(fifo, entries, inflight));
}
