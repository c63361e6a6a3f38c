/**
 * The simulated network: every message gets a delay drawn from the seed, may be dropped or
 * duplicated, and is delivered on a virtual tick. Reordering falls out of independent delays
 * (plus rare long "stragglers"). Partitions cut directed links, so one-way partitions are just
 * a single cut link.
 */
import type { Message, NodeId } from '../../src/raft/types.js';
import { assert } from '../../src/raft/assert.js';
import type { Prng } from './prng.js';

/** Fault rates for the network; all probabilities in [0, 1]. */
export interface NetworkFaults {
  /** Smallest delivery delay in ticks (>= 1: nothing is delivered in the tick it was sent). */
  readonly delayMin: number;
  /** Largest ordinary delivery delay in ticks. */
  readonly delayMax: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  /** Chance a message becomes a straggler, delayed up to `stragglerDelayMax`: a stale, reordered message. */
  readonly stragglerRate: number;
  readonly stragglerDelayMax: number;
  /**
   * Keep each link in order (as one gRPC stream does): a message never overtakes an earlier one on
   * the same link, except stragglers (a reconnect resending). Off, independent delays reorder.
   */
  readonly fifo: boolean;
}

/** A calm network: short delays and no loss, used once faults stop (the liveness phase). */
export const calmNetwork: NetworkFaults = {
  delayMin: 1,
  delayMax: 2,
  dropRate: 0,
  duplicateRate: 0,
  stragglerRate: 0,
  stragglerDelayMax: 1,
  fifo: true,
};

/** Upper bound on messages in flight; beyond it new sends are dropped (a real NIC queue overflows too). */
export const inflightMessagesMax = 20_000;

/** Counters for the run summary. */
export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  cut: number;
  overflowed: number;
}

/** A message in flight, with the tick it arrives on. */
export interface InFlight {
  readonly deliverAt: number;
  readonly message: Message;
}

/** A simulated, lossy, reordering network with directed partitions. */
export class SimNetwork {
  private readonly buckets = new Map<number, Message[]>();
  private inflight = 0;
  private readonly cutLinks = new Set<string>();
  /** Per link, the latest tick a message is due on (for FIFO links). */
  private readonly lastDueOnLink = new Map<string, number>();
  faults: NetworkFaults;
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0, cut: 0, overflowed: 0 };

  constructor(private readonly rng: Prng, faults: NetworkFaults) {
    this.faults = faults;
  }

  /** Messages currently in flight. */
  get inflightCount(): number {
    return this.inflight;
  }

  /** Queue `message`, sent at tick `now`, applying drop / duplicate / delay from the seed. */
  send(message: Message, now: number): void {
    this.stats.sent++;
    assert(message.from !== message.to, `node ${message.from} sent a message to itself`);
    if (this.rng.chance(this.faults.dropRate)) {
      this.stats.dropped++;
      return;
    }
    this.enqueue(message, now);
    if (this.rng.chance(this.faults.duplicateRate)) {
      this.stats.duplicated++;
      this.enqueue(message, now);
    }
  }

  /**
   * Remove and return the messages due at tick `now`. Cut links are checked at delivery, so a
   * partition also swallows what was already on the wire.
   */
  takeDue(now: number): Message[] {
    const due = this.buckets.get(now);
    if (due === undefined) return [];
    this.buckets.delete(now);
    this.inflight -= due.length;
    const out: Message[] = [];
    for (const m of due) {
      if (this.cutLinks.has(linkKey(m.from, m.to))) {
        this.stats.cut++;
        continue;
      }
      out.push(m);
    }
    this.stats.delivered += out.length;
    return out;
  }

  /** Cut the directed link from -> to (a one-way partition). */
  cut(from: NodeId, to: NodeId): void {
    this.cutLinks.add(linkKey(from, to));
  }

  /** Split the nodes into groups that cannot talk to each other (both directions). */
  partition(groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut(x, y);
      }
    }
  }

  /** Restore every link. */
  heal(): void {
    this.cutLinks.clear();
  }

  /** Whether the directed link from -> to is cut. */
  isCut(from: NodeId, to: NodeId): boolean {
    return this.cutLinks.has(linkKey(from, to));
  }

  /** Number of cut directed links (for the trace). */
  get cutCount(): number {
    return this.cutLinks.size;
  }

  /** Everything in flight, in delivery order; for tests and debugging. */
  snapshot(): InFlight[] {
    const ticks = [...this.buckets.keys()].sort((a, b) => a - b);
    return ticks.flatMap((t) => (this.buckets.get(t) ?? []).map((message) => ({ deliverAt: t, message })));
  }

  private enqueue(message: Message, now: number): void {
    if (this.inflight >= inflightMessagesMax) {
      this.stats.overflowed++;
      return;
    }
    const f = this.faults;
    const straggler = this.rng.chance(f.stragglerRate);
    const delay = straggler
      ? this.rng.intBetween(f.delayMin, Math.max(f.delayMin, f.stragglerDelayMax))
      : this.rng.intBetween(f.delayMin, Math.max(f.delayMin, f.delayMax));
    assert(delay >= 1, `network delay must be >= 1 tick, got ${delay}`);
    let at = now + delay;
    if (f.fifo && !straggler) {
      const link = linkKey(message.from, message.to);
      at = Math.max(at, this.lastDueOnLink.get(link) ?? 0);
      this.lastDueOnLink.set(link, at);
    }
    let bucket = this.buckets.get(at);
    if (bucket === undefined) {
      bucket = [];
      this.buckets.set(at, bucket);
    }
    bucket.push(message);
    this.inflight++;
  }
}

function linkKey(from: NodeId, to: NodeId): string {
  return `${from}\u0000${to}`;
}
