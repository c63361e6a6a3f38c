/**
 * A seed's scenario: the fault rates and core tuning for one run, all drawn from the seed
 * ("swarm testing", as TigerBeetle's VOPR does): some seeds run a calm network with many crashes,
 * others a lossy one with partitions, small batches or pre-vote off, so together the seeds cover
 * combinations no single fixed fault mix would reach.
 */
import type { NetworkFaults } from './sim-network.js';
import type { Prng } from './prng.js';

/** The core knobs the simulator varies per seed (the rest come from defaultRaftConfig). */
export interface CoreTuning {
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly entriesPerAppendMax: number;
  readonly bytesPerAppendMax: number;
  readonly inflightAppendsMax: number;
  readonly uncommittedEntriesMax: number;
}

/** Per-step fault probabilities during the fault phase. */
export interface FaultRates {
  /** Chance per step that a live node crashes (while a majority stays up, mostly). */
  readonly crash: number;
  /** Chance per step that a crashed node restarts. */
  readonly restart: number;
  /** Chance a crashed node reboots within a few ticks (fast enough to rejoin a running election). */
  readonly reboot: number;
  /** Crash chance multiplier while some node is a candidate: crashes mid-election find vote bugs. */
  readonly electionCrashBoost: number;
  /** Chance a node crashes (and reboots at once) right after sending a granted vote: probes vote persistence. */
  readonly crashAfterVote: number;
  /** Chance a crash strikes in the middle of handling a Ready rather than between steps. */
  readonly crashMidReady: number;
  /** Chance per step that a new partition is laid over the network. */
  readonly partition: number;
  /** Chance per step that every partition heals. */
  readonly heal: number;
  /** Chance per step that a client proposes. */
  readonly propose: number;
  /** Chance per step that a random node is told to campaign now (operator / transfer hint): term churn. */
  readonly campaign: number;
  /** Each node's clock is off by up to this much: a new leader may stamp entries earlier than the last. */
  readonly clockSkewMsMax: number;
  /** Chance per step that a client asks for a linearizable read point (ReadIndex). */
  readonly read: number;
  /** Most crashed nodes at a time; may exceed a minority so some seeds lose quorum for a while. */
  readonly crashedMax: number;
}

/** When the simulated nodes snapshot their state machine and compact their logs. */
export interface SnapshotPolicy {
  /** Snapshot once this many entries were applied since the last snapshot (0 = never). */
  readonly every: number;
  /** Entries kept in memory below the snapshot for slow followers (the trailing window). */
  readonly trailing: number;
  /** Chance per step that the leader is asked to transfer leadership to another node. */
  readonly transfer: number;
}

/** Membership changes during the fault phase (see SimCluster.changeMembership). */
export interface MembershipPolicy {
  /** Chance per step that the leader is asked for a change (add a fresh learner, promote, remove). */
  readonly change: number;
}

/** Everything random about one run that is fixed at its start. */
export interface Scenario {
  readonly tuning: CoreTuning;
  readonly network: NetworkFaults;
  readonly faults: FaultRates;
  readonly snapshots: SnapshotPolicy;
  readonly membership: MembershipPolicy;
}

/** Draw a scenario for a cluster of `nodeCount` nodes. */
export function drawScenario(rng: Prng, nodeCount: number): Scenario {
  const electionTicks = rng.pick([10, 10, 12, 20]);
  const tuning: CoreTuning = {
    electionTicks,
    heartbeatTicks: rng.pick([1, 1, 2, 3]),
    preVote: rng.chance(0.75),
    checkQuorum: rng.chance(0.75),
    entriesPerAppendMax: rng.pick([1, 2, 4, 64]),
    bytesPerAppendMax: rng.pick([24, 256, 1024 * 1024]),
    inflightAppendsMax: rng.pick([1, 2, 4, 64]),
    uncommittedEntriesMax: rng.pick([8, 64, 10_000]),
  };
  const delayMax = rng.intBetween(1, Math.max(1, Math.floor(electionTicks / 3)));
  const network: NetworkFaults = {
    delayMin: 1,
    delayMax,
    dropRate: rng.pick([0, 0.01, 0.05, 0.2]),
    duplicateRate: rng.pick([0, 0.01, 0.05]),
    stragglerRate: rng.pick([0, 0.002, 0.02]),
    stragglerDelayMax: electionTicks * rng.intBetween(1, 6),
    fifo: rng.chance(0.5),
  };
  const minority = Math.floor((nodeCount - 1) / 2);
  const faults: FaultRates = {
    crash: rng.pick([0, 0.002, 0.005, 0.01]),
    restart: rng.pick([0.01, 0.03, 0.1]),
    reboot: rng.pick([0, 0.3, 0.8]),
    electionCrashBoost: rng.pick([1, 10, 30]),
    crashAfterVote: rng.pick([0, 0.1, 0.5]),
    crashMidReady: rng.pick([0, 0.5, 0.9]),
    partition: rng.pick([0, 0.002, 0.005, 0.01]),
    heal: rng.pick([0.005, 0.02, 0.05]),
    propose: rng.pick([0.05, 0.2, 0.5]),
    read: rng.pick([0, 0.1, 0.3]),
    campaign: rng.pick([0, 0, 0.002, 0.01]),
    clockSkewMsMax: rng.pick([0, 1000, 60_000]),
    crashedMax: rng.chance(0.2) ? nodeCount : minority,
  };
  // Drawn last so the draws above (and the scenarios of older seeds) stay as they were.
  const snapshots: SnapshotPolicy = { every: rng.pick([0, 3, 10, 40]), trailing: rng.pick([0, 0, 2, 10]), transfer: rng.pick([0, 0.002, 0.01]) };
  const membership: MembershipPolicy = { change: rng.pick([0, 0.003, 0.01, 0.03]) };
  return { tuning, network, faults, snapshots, membership };
}

/** One line describing a scenario, printed with a failing seed. */
export function describeScenario(s: Scenario): string {
  const t = s.tuning;
  const n = s.network;
  const f = s.faults;
  return `election=${t.electionTicks} heartbeat=${t.heartbeatTicks} preVote=${t.preVote} checkQuorum=${t.checkQuorum} ` +
    `entries/append=${t.entriesPerAppendMax} bytes/append=${t.bytesPerAppendMax} inflight=${t.inflightAppendsMax} ` +
    `uncommitted=${t.uncommittedEntriesMax} | delay=${n.delayMin}..${n.delayMax} drop=${n.dropRate} dup=${n.duplicateRate} ` +
    `straggler=${n.stragglerRate}@${n.stragglerDelayMax} fifo=${n.fifo} | crash=${f.crash} restart=${f.restart} midReady=${f.crashMidReady} ` +
    `partition=${f.partition} heal=${f.heal} propose=${f.propose} read=${f.read} campaign=${f.campaign} skew=${f.clockSkewMsMax}ms crashedMax=${f.crashedMax} | ` +
    `snapshot every=${s.snapshots.every} trailing=${s.snapshots.trailing} transfer=${s.snapshots.transfer} | membership change=${s.membership.change}`;
}
