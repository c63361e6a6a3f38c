/**
 * The simulator's one source of randomness. Every fault, delay, proposal and election timeout in
 * a run descends from the run's seed through this class, so a seed replays the run exactly.
 */
import { SeededRng, type Rng } from '../../src/raft/rng.js';
import { assert } from '../../src/raft/assert.js';

/** A seeded PRNG with the helpers the simulator needs; wraps the core's mulberry32. */
export class Prng implements Rng {
  private readonly rng: SeededRng;

  constructor(seed: number) {
    assert(Number.isSafeInteger(seed), `seed must be a safe integer, got ${seed}`);
    // Mix the seed so that neighbouring seeds (1, 2, 3...) start far apart in the stream.
    this.rng = new SeededRng(mix32(seed));
  }

  /** A float in [0, 1). */
  next(): number {
    return this.rng.next();
  }

  /** A uniformly distributed integer in [0, maxExclusive). */
  nextInt(maxExclusive: number): number {
    assert(maxExclusive > 0, `nextInt bound must be positive, got ${maxExclusive}`);
    return this.rng.nextInt(maxExclusive);
  }

  /** An integer in [lo, hi] (both inclusive). */
  intBetween(lo: number, hi: number): number {
    assert(hi >= lo, `intBetween: empty range [${lo}, ${hi}]`);
    return lo + this.nextInt(hi - lo + 1);
  }

  /** True with probability p. */
  chance(p: number): boolean {
    return p > 0 && this.next() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    assert(items.length > 0, 'pick from an empty array');
    return items[this.nextInt(items.length)]!;
  }

  /** A shuffled copy (Fisher-Yates). */
  shuffled<T>(items: readonly T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = this.nextInt(i + 1);
      const tmp = out[i]!;
      out[i] = out[j]!;
      out[j] = tmp;
    }
    return out;
  }

  /**
   * An independent child stream. Giving each node its own stream keeps a node's election timeouts
   * from shifting whenever the fault schedule draws one more number.
   */
  fork(): Prng {
    return new Prng(this.nextInt(0x7fffffff));
  }
}

/** splitmix32-style finaliser: spreads consecutive seeds over the 32-bit state space. */
function mix32(seed: number): number {
  let x = (seed ^ Math.floor(seed / 0x100000000)) >>> 0;
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b) >>> 0;
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35) >>> 0;
  return (x ^ (x >>> 16)) >>> 0;
}
