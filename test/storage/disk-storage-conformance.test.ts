/**
 * DiskStorage answers every RaftStorage read exactly like the core's MemoryStorage under the
 * same writes (seeded random appends, conflicting-suffix replacements, hard states), both live
 * and after a reopen, so the simulator and the node can use either.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryStorage } from '../../src/raft/memory-storage.js';
import type { RaftStorage } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { entries, prng, tempDirs, testSeed } from './storage-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

function view(s: RaftStorage): unknown {
  const first = s.firstIndex();
  const last = s.lastIndex();
  const terms: Array<number | undefined> = [];
  for (let i = first - 2; i <= last + 2; i++) terms.push(s.term(i));
  const es = s.entries(first, last + 1).map((e) => ({ ...e, data: Buffer.from(e.data).toString('hex') }));
  return { hs: s.hardState(), snap: s.snapshot(), first, last, terms, es };
}

describe('DiskStorage conforms to MemoryStorage', () => {
  it('identical reads under the same random writes, live and after reopen', async () => {
    const seed = testSeed(99);
    const rand = prng(seed);
    const dir = await dirs.make();
    const mem = new MemoryStorage();
    let disk = await DiskStorage.open(dir, { segmentBytes: 1024 });
    let term = 1;
    try {
      for (let step = 0; step < 150; step++) {
        const last = mem.lastIndex();
        const from = rand() < 0.2 && last > 0 ? 1 + Math.floor(rand() * last) : last + 1;
        if (from <= last) term++;
        const batch = entries(from, from + Math.floor(rand() * 6), term);
        const hs = { term, votedFor: rand() < 0.5 ? null : `n${Math.floor(rand() * 3)}`, commitIndex: Math.floor(rand() * (from - 1)) };
        for (const s of [mem, disk]) {
          s.setHardState(hs);
          s.append(batch);
        }
        await disk.sync();
        expect(view(disk), `step ${step}`).toEqual(view(mem));
        if (rand() < 0.1) {
          await disk.close();
          disk = await DiskStorage.open(dir, { segmentBytes: 1024 });
          expect(view(disk), `reopen at step ${step}`).toEqual(view(mem));
        }
      }
    } catch (err) {
      console.error(`conformance test failed with SEED=${seed}`);
      throw err;
    } finally {
      await disk.close();
    }
  });
});
