/**
 * One seed, start to finish: a fault phase of `steps` ticks with the checkers after every tick,
 * then heal everything and demand liveness: within `livenessBudget()` ticks a leader exists, a
 * fresh proposal is applied on every node and a ReadIndex read on the leader is confirmed.
 */
import type { NodeId } from '../../src/raft/types.js';
import { Prng } from './prng.js';
import { calmNetwork } from './sim-network.js';
import { SimCluster, type ClusterStats, type NodeFactory } from './sim-cluster.js';
import { payloadBytesMax } from './sim-workload.js';
import type { FaultStats } from './sim-faults.js';
import { describeScenario, drawScenario, type Scenario } from './sim-scenario.js';
import type { Violation } from './checkers.js';

/** What to run. */
export interface RunOptions {
  readonly seed: number;
  readonly nodeCount: number;
  /** Ticks in the fault phase. */
  readonly steps: number;
  readonly factory: NodeFactory;
  /** Trace events kept for the failure report (default traceEventsMax). */
  readonly traceMax?: number;
  /** Keep only trace events involving this node in the report. */
  readonly focus?: NodeId;
  /** Override the seed's scenario (tests use it to force a fault mix). */
  readonly scenario?: (drawn: Scenario) => Scenario;
}

/** Default ticks in the fault phase. */
export const stepsDefault = 1000;

/**
 * Liveness budget, in election timeouts: after the heal a leader must be elected and a proposal
 * committed everywhere within this many. Generous, because restarted nodes may have to sit out a
 * full timeout, pre-vote-less candidates may split votes a few times, and a stale leader may need
 * a check-quorum period to notice it lost the cluster.
 */
export const livenessElectionTimeoutsMax = 30;

/**
 * Ticks allowed after the heal: election time plus the time to ship the backlog (entries some
 * node still lacks) through the seed's flow-control limits, one window per round trip. With one
 * entry per append and one append in flight, a 300-entry backlog legitimately takes ~900 ticks.
 */
export function livenessBudget(scenario: Scenario, backlog: number): number {
  const t = scenario.tuning;
  const perAppend = Math.max(1, Math.min(t.entriesPerAppendMax, Math.floor(t.bytesPerAppendMax / payloadBytesMax)));
  const roundTrip = 2 * calmNetwork.delayMax + t.heartbeatTicks;
  const windows = Math.ceil(backlog / (perAppend * t.inflightAppendsMax));
  return livenessElectionTimeoutsMax * t.electionTicks + windows * roundTrip;
}

/** The outcome of one seed. */
export interface SeedResult {
  readonly seed: number;
  readonly nodeCount: number;
  readonly steps: number;
  readonly violations: readonly Violation[];
  /** Ticks the liveness phase needed (or its budget, when it failed). */
  readonly livenessTicks: number;
  readonly scenario: string;
  readonly stats: ClusterStats & FaultStats & { readonly messages: number; readonly committed: number; readonly ticks: number };
  /** Digest of the whole event trace: equal for two runs of one seed. */
  readonly digest: string;
  /** The most recent trace events (filled only on failure). */
  readonly trace: readonly string[];
  /** Final per-node status lines (filled only on failure). */
  readonly nodes: readonly string[];
}

/** Run one seed. Stops at the first violation. */
export function runSeed(opts: RunOptions): SeedResult {
  const scenarioRng = new Prng(opts.seed + 0x9e3779b9);
  const drawn = drawScenario(scenarioRng, opts.nodeCount);
  const scenario = opts.scenario ? opts.scenario(drawn) : drawn;
  const cluster = new SimCluster(opts.seed, opts.nodeCount, scenario, opts.factory, opts.traceMax);
  const checker = cluster.checker;

  for (let i = 0; i < opts.steps && !checker.failed; i++) cluster.step(true);

  let livenessTicks = 0;
  if (!checker.failed) {
    cluster.healAll(calmNetwork);
    const budget = livenessBudget(scenario, cluster.backlog());
    livenessTicks = awaitLiveness(cluster, budget);
    if (!checker.failed && livenessTicks >= budget) {
      checker.report('liveness', cluster.leader()?.id ?? null,
        `within ${budget} ticks after the heal: leader ${cluster.leader()?.id ?? 'none'} (voters ${cluster.leaderMembership()?.voters.map((m) => m.id).join(',') ?? '-'}), ` +
        `marker applied on every member: ${cluster.markerAppliedEverywhere()}`);
    }
  }

  const failed = checker.failed;
  return {
    seed: opts.seed,
    nodeCount: opts.nodeCount,
    steps: opts.steps,
    violations: checker.violations,
    livenessTicks,
    scenario: describeScenario(scenario),
    stats: { ...cluster.stats, ...cluster.faults.stats, messages: cluster.network.stats.sent, committed: checker.highestCommitted, ticks: cluster.now },
    digest: cluster.trace.digest,
    trace: failed ? cluster.trace.lines(undefined, opts.focus ?? null) : [],
    nodes: failed ? cluster.describeNodes() : [],
  };
}

/**
 * Step a healed cluster until a fresh proposal is applied on every node and a ReadIndex read on
 * the leader is confirmed. Returns the ticks it took (>= budget means it never happened).
 */
function awaitLiveness(cluster: SimCluster, budget: number): number {
  let proposedTo: { leader: NodeId; term: number } | null = null;
  let read: string | null = null;
  let ticks = 0;
  for (; ticks < budget && !cluster.checker.failed; ticks++) {
    const written = cluster.markerAppliedEverywhere();
    if (written && read !== null && cluster.readConfirmed(read)) return ticks;
    const leader = cluster.leader();
    if (leader !== null && !written && (proposedTo === null || proposedTo.leader !== leader.id || proposedTo.term !== leader.term)) {
      // (Re)propose when no sitting leader holds an accepted copy: the one accepted may have been
      // lost with a leader change. Duplicates are harmless; any copy applied everywhere counts.
      if (cluster.proposeToLeader(cluster.marker)) proposedTo = { leader: leader.id, term: leader.term };
    }
    // Once written, ask for a read; ask again every election timeout (a leader change drops it).
    if (leader !== null && written && (read === null || ticks % cluster.scenario.tuning.electionTicks === 0)) {
      read = cluster.readFromLeader() ?? read;
    }
    cluster.step(false);
  }
  return ticks;
}

/** The command that replays a seed. */
export function replayCommand(r: Pick<SeedResult, 'seed' | 'nodeCount' | 'steps'>): string {
  return `npm run sim -- --seeds 1 --start ${r.seed} --nodes ${r.nodeCount} --steps ${r.steps} --verbose`;
}

/** A failing seed as text: violations, scenario, node states, replay command, recent trace. */
export function formatFailure(r: SeedResult, traceLines: number): string {
  const out = [
    `FAIL seed ${r.seed} (${r.nodeCount} nodes, ${r.steps} steps)`,
    ...r.violations.map((v) => `  violation ${v.kind} at t=${v.tick}${v.nodeId === null ? '' : ` on ${v.nodeId}`}: ${v.detail}`),
    `  scenario: ${r.scenario}`,
    ...r.nodes.map((n) => `  ${n}`),
    `  replay: ${replayCommand(r)}`,
  ];
  if (traceLines > 0 && r.trace.length > 0) {
    out.push(`  last ${Math.min(traceLines, r.trace.length)} events:`);
    for (const line of r.trace.slice(-traceLines)) out.push(`    ${line}`);
  }
  return out.join('\n');
}
