/** The chaos harness's seeded PRNG: the core's SeededRng plus the helpers the harness draws with. */
import { SeededRng } from '../../src/raft/rng.js';

export class Prng extends SeededRng {
  int(maxExclusive: number): number {
    return this.nextInt(maxExclusive);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.nextInt(xs.length)]!;
  }
}
