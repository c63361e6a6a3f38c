/**
 * The fault schedule: on every step of the fault phase it may crash a node (between steps, at a
 * chosen point inside its next Ready, or with a fast reboot), restart one, lay a partition
 * (symmetric, leader-isolating, or one-way), heal, or make a node campaign. Rates come from the
 * seed's Scenario; every choice from the cluster's seeded PRNG.
 */
import type { NodeId, RoleKind } from '../../src/raft/types.js';
import { assertNever } from '../../src/raft/assert.js';
import type { Prng } from './prng.js';
import type { SimNetwork } from './sim-network.js';
import type { SimTrace } from './sim-trace.js';
import type { FaultRates } from './sim-scenario.js';

/** Where a crash strikes while a node handles a Ready. */
export type CrashPoint =
  /** The Ready was handed out but nothing written: it is lost, its messages never sent. */
  | 'beforePersist'
  /** Written but not synced: the writes are lost, the messages never sent. */
  | 'unsynced'
  /** Synced, some messages sent, the rest lost. */
  | 'midSend'
  /** Synced and sent, not applied/advanced: the in-memory state machine is lost anyway. */
  | 'beforeAdvance';

export const crashPoints: readonly CrashPoint[] = ['beforePersist', 'unsynced', 'midSend', 'beforeAdvance'];

/** What the schedule needs from the cluster. */
export interface FaultTarget {
  readonly ids: readonly NodeId[];
  readonly now: number;
  readonly network: SimNetwork;
  readonly trace: SimTrace;
  liveIds(): NodeId[];
  roleOf(id: NodeId): RoleKind | 'down';
  leader(): { readonly id: NodeId } | null;
  /** Crash now, between steps. */
  crash(id: NodeId): void;
  /** Crash at `point` while handling the node's next Ready. */
  crashDuring(id: NodeId, point: CrashPoint): void;
  /** Restart a crashed node at tick `at` (or at once when at <= now). */
  restartAt(id: NodeId, at: number): void;
  /** Restart every crashed node whose reboot is due. */
  rebootDue(): void;
  campaign(id: NodeId): void;
}

/** Counters for the run summary. */
export interface FaultStats {
  partitions: number;
  campaigns: number;
}

/** Drives a cluster's faults from the seed. */
export class FaultSchedule {
  readonly stats: FaultStats = { partitions: 0, campaigns: 0 };

  constructor(private readonly cluster: FaultTarget, private readonly rng: Prng, private readonly rates: FaultRates) {}

  /** One step's worth of faults. */
  inject(): void {
    const c = this.cluster;
    const f = this.rates;
    c.rebootDue();
    const live = c.liveIds();
    const down = c.ids.filter((id) => !live.includes(id));
    if (down.length > 0 && this.rng.chance(f.restart)) c.restartAt(this.rng.pick(down), c.now);
    const electing = live.some((id) => c.roleOf(id) === 'candidate');
    const crashChance = electing ? Math.min(1, f.crash * f.electionCrashBoost) : f.crash;
    if (live.length > 0 && down.length < f.crashedMax && this.rng.chance(crashChance)) this.crashOne(live);
    if (this.rng.chance(f.heal) && c.network.cutCount > 0) {
      c.network.heal();
      c.trace.note(c.now, null, 'partition healed');
    }
    if (this.rng.chance(f.partition)) this.partition();
    if (live.length > 0 && this.rng.chance(f.campaign)) {
      const id = this.rng.pick(live);
      this.stats.campaigns++;
      c.trace.note(c.now, id, 'told to campaign');
      c.campaign(id);
    }
  }

  private crashOne(live: readonly NodeId[]): void {
    const c = this.cluster;
    // Leaders are the interesting victims: bias towards them.
    const leader = c.leader();
    const victim = leader !== null && this.rng.chance(0.5) ? leader.id : this.rng.pick(live);
    if (this.rng.chance(this.rates.reboot)) c.restartAt(victim, c.now + this.rng.intBetween(1, 4));
    if (this.rng.chance(this.rates.crashMidReady)) {
      c.crashDuring(victim, this.rng.pick(crashPoints));
    } else {
      c.crash(victim);
    }
  }

  private partition(): void {
    const c = this.cluster;
    this.stats.partitions++;
    const ids = c.ids;
    const leader = c.leader()?.id ?? this.rng.pick(ids);
    const kind = this.rng.pick(partitionKinds);
    switch (kind) {
      case 'split': {
        const shuffled = this.rng.shuffled(ids);
        const cutAt = this.rng.intBetween(1, ids.length - 1);
        const groups = [shuffled.slice(0, cutAt), shuffled.slice(cutAt)];
        c.network.partition(groups);
        c.trace.note(c.now, null, `partition ${groups.map((g) => `{${g.join(',')}}`).join(' | ')}`);
        return;
      }
      case 'isolateLeader':
        c.network.partition([[leader], ids.filter((id) => id !== leader)]);
        c.trace.note(c.now, leader, 'isolated');
        return;
      case 'leaderOutboundCut':
        // The leader still hears everyone but cannot be heard: followers time out.
        for (const id of ids) if (id !== leader) c.network.cut(leader, id);
        c.trace.note(c.now, leader, 'one-way: outbound cut');
        return;
      case 'leaderInboundCut':
        // The leader is heard but hears nothing back: check-quorum territory.
        for (const id of ids) if (id !== leader) c.network.cut(id, leader);
        c.trace.note(c.now, leader, 'one-way: inbound cut');
        return;
      case 'oneLink': {
        const from = this.rng.pick(ids);
        const to = this.rng.pick(ids.filter((id) => id !== from));
        c.network.cut(from, to);
        c.trace.note(c.now, null, `one-way: link ${from}->${to} cut`);
        return;
      }
      default:
        assertNever(kind);
    }
  }
}

type PartitionKind = 'split' | 'isolateLeader' | 'leaderOutboundCut' | 'leaderInboundCut' | 'oneLink';
const partitionKinds: readonly PartitionKind[] = ['split', 'isolateLeader', 'leaderOutboundCut', 'leaderInboundCut', 'oneLink'];
