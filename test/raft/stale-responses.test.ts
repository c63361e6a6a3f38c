/**
 * Randomized (seeded) network chaos between a leader and its followers: messages are reordered,
 * duplicated, dropped and delayed while proposals flow. After every step the leader's progress
 * must keep matchIndex monotonic and nextIndex > matchIndex; once the chaos stops the logs
 * converge. Replay a failure with SEED=<seed> npx vitest run test/raft/stale-responses.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Harness, craftedStorage } from './harness.js';
import { SeededRng, type AppendEntriesResponse, type MemoryStorage, type NodeId } from '../../src/raft/index.js';

const seedBase = Number(process.env.SEED ?? 1);
const seedCount = process.env.SEED === undefined ? 40 : 1;
const stepsPerSeed = 400;

function runSeed(seed: number): void {
  const rng = new SeededRng(seed);
  const storages = new Map<NodeId, MemoryStorage>([
    ['a', craftedStorage([[1, 20], [3, 40]], 3, 20)],
    ['b', craftedStorage([[1, 20], [2, 15]], 3, 20)],
    ['c', craftedStorage([[1, 10]], 3, 10)],
  ]);
  const h = new Harness({ seed, storages, config: { entriesPerAppendMax: 1 + rng.nextInt(8), inflightAppendsMax: 1 + rng.nextInt(4) } });
  h.elect('a');
  const leader = h.node('a');
  const term = leader.status().term;
  const lastMatch = new Map<NodeId, number>();
  const held: ReturnType<Harness['take']> = [];
  for (let step = 0; step < stepsPerSeed; step++) {
    h.processAll();
    const action = rng.nextInt(10);
    if (action < 3 && h.queue.length > 0) {
      // Deliver a random queued message (reordering).
      const index = rng.nextInt(h.queue.length);
      const [message] = h.queue.splice(index, 1);
      h.inject(message!);
    } else if (action === 3 && h.queue.length > 0) {
      // Duplicate: deliver a copy now, keep the original queued.
      h.inject(h.queue[rng.nextInt(h.queue.length)]!);
    } else if (action === 4 && h.queue.length > 0) {
      h.queue.splice(rng.nextInt(h.queue.length), 1);
    } else if (action === 5 && h.queue.length > 0) {
      // Hold a message back and replay it much later (stale).
      held.push(...h.queue.splice(rng.nextInt(h.queue.length), 1));
    } else if (action === 6 && held.length > 0) {
      h.inject(held.splice(rng.nextInt(held.length), 1)[0]!);
    } else if (action === 7) {
      leader.tick();
    } else {
      leader.propose(new Uint8Array([step & 0xff]), step);
    }
    const status = leader.status();
    if (status.role !== 'leader' || status.term !== term) break; // check-quorum may end the leadership
    for (const follower of status.followers) {
      // Plain checks: expect() per step is slow enough to matter over thousands of steps.
      if (follower.nextIndex <= follower.matchIndex) throw new Error(`step ${step}: nextIndex <= matchIndex for ${follower.id}`);
      const previous = lastMatch.get(follower.id) ?? 0;
      if (follower.matchIndex < previous) throw new Error(`step ${step}: matchIndex of ${follower.id} went back`);
      lastMatch.set(follower.id, follower.matchIndex);
    }
  }
  // Chaos over: a plain network converges every log.
  h.tick(40);
  const reference = h.logOf(h.leader()!);
  for (const id of h.ids) expect(h.logOf(id), `seed ${seed}: ${id} did not converge`).toEqual(reference);
}

describe('stale, duplicated and reordered responses', () => {
  it(`never move nextIndex to <= matchIndex nor matchIndex backwards (${seedCount} seeds from ${seedBase})`, () => {
    for (let seed = seedBase; seed < seedBase + seedCount; seed++) {
      try {
        runSeed(seed);
      } catch (error) {
        console.error(`failing seed ${seed}; replay: SEED=${seed} npx vitest run test/raft/stale-responses.test.ts`);
        throw error;
      }
    }
  });

  it('ignores a replayed stale rejection once the follower has matched', () => {
    const storages = new Map<NodeId, MemoryStorage>([
      ['a', craftedStorage([[1, 10], [2, 10]], 2, 10)],
      ['b', craftedStorage([[1, 10], [2, 10]], 2, 10)],
      ['c', craftedStorage([[1, 10]], 2, 10)],
    ]);
    const h = new Harness({ storages });
    h.node('a').campaign();
    h.stabilize((m) => m.type !== 'appendEntriesResponse' || m.from !== 'c' || m.success);
    const rejection = h.take((m) => m.type === 'appendEntriesResponse' && m.from === 'c' && !m.success)[0] as
      | AppendEntriesResponse
      | undefined;
    expect(rejection).toBeDefined();
    h.inject(rejection!);
    h.stabilize();
    const before = h.node('a').status().followers.find((f) => f.id === 'c')!;
    expect(before).toMatchObject({ matchIndex: 21, nextIndex: 22, state: 'replicate' });
    h.inject(rejection!); // replayed
    h.inject({ ...rejection!, prevLogIndex: 5, conflictIndex: 1 }); // a forged old one
    // A rejection of an append at or beyond nextIndex was sent before the last fall-back to
    // probing (this replicate run never sent that far): stale too, it must not restart probing.
    h.inject({ ...rejection!, prevLogIndex: 40, conflictTerm: 0, conflictIndex: 22 });
    const after = h.node('a').status().followers.find((f) => f.id === 'c')!;
    expect(after).toEqual(before);
  });
});
