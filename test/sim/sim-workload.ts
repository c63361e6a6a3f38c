/**
 * The clients: during the fault phase they propose commands (mostly to whoever leads, sometimes
 * to any node, to exercise `notLeader`) and ask for ReadIndex read points (including from a
 * deposed leader that has not noticed yet, the case linearizable reads must get right).
 */
import type { NodeId, RoleKind } from '../../src/raft/types.js';
import type { Prng } from './prng.js';
import type { FaultRates } from './sim-scenario.js';

/** Largest client payload in bytes (the liveness budget accounts for it against bytesPerAppendMax). */
export const payloadBytesMax = 48;

/** Most proposals one client burst sends in a step. */
export const proposalsPerStepMax = 3;

/** What the clients need from the cluster. */
export interface WorkloadTarget {
  liveIds(): NodeId[];
  roleOf(id: NodeId): RoleKind | 'down';
  leader(): { readonly id: NodeId } | null;
  proposeAt(id: NodeId, data: Uint8Array): boolean;
  readAt(id: NodeId): string | null;
}

/** Seeded client traffic. */
export class ClientWorkload {
  private proposalSeq = 0;
  private readonly encoder = new TextEncoder();

  constructor(private readonly cluster: WorkloadTarget, private readonly rng: Prng, private readonly rates: FaultRates) {}

  /** One step's worth of client traffic. */
  step(): void {
    if (this.rng.chance(this.rates.propose)) this.propose();
    if (this.rng.chance(this.rates.read)) this.read();
  }

  private propose(): void {
    const live = this.cluster.liveIds();
    if (live.length === 0) return;
    const leader = this.cluster.leader();
    const target = leader !== null && this.rng.chance(0.9) ? leader.id : this.rng.pick(live);
    const count = this.rng.intBetween(1, proposalsPerStepMax);
    for (let i = 0; i < count; i++) {
      const head = `p${++this.proposalSeq}`;
      const pad = 'x'.repeat(this.rng.nextInt(Math.max(1, payloadBytesMax - head.length)));
      this.cluster.proposeAt(target, this.encoder.encode(head + pad));
    }
  }

  private read(): void {
    const live = this.cluster.liveIds();
    if (live.length === 0) return;
    const leaders = live.filter((id) => this.cluster.roleOf(id) === 'leader');
    this.cluster.readAt(leaders.length > 0 && this.rng.chance(0.9) ? this.rng.pick(leaders) : this.rng.pick(live));
  }
}
