import { readdir } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { StorageFailedError } from '../../src/storage/wal-errors.js';
import { entries, entry, prng, tempDirs, testSeed } from './storage-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

/** Asserts the store holds exactly `expected` (contiguous) with matching bytes. */
function expectLog(s: DiskStorage, expected: readonly LogEntry[]): void {
  const first = expected[0]?.index ?? s.firstIndex();
  expect(s.firstIndex()).toBe(first);
  expect(s.lastIndex()).toBe(first + expected.length - 1);
  const got = s.entries(first, first + expected.length);
  expect(got.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i]!;
    const g = got[i]!;
    expect({ ...g, data: Buffer.from(g.data).toString('hex') }).toEqual({ ...e, data: Buffer.from(e.data).toString('hex') });
    expect(s.term(e.index)).toBe(e.term);
  }
}

describe('DiskStorage', () => {
  it('starts empty', async () => {
    const s = await DiskStorage.open(await dirs.make());
    expect(s.firstIndex()).toBe(1);
    expect(s.lastIndex()).toBe(0);
    expect(s.term(0)).toBe(0);
    expect(s.term(1)).toBeUndefined();
    expect(s.hardState()).toEqual({ term: 0, votedFor: null, commitIndex: 0 });
    expect(s.snapshot()).toBeNull();
    await s.sync();
    expect(s.fsyncCount).toBe(0);
    await s.close();
  });

  it('round-trips entries and hard state across many segments and reopens', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir, { segmentBytes: 512 });
    const expected = entries(1, 300, 1);
    for (let i = 0; i < expected.length; i += 7) {
      s.append(expected.slice(i, i + 7));
      s.setHardState({ term: 1, votedFor: 'n1', commitIndex: Math.min(i, 300) });
      await s.sync();
    }
    expect(s.durableIndex).toBe(300);
    expect(s.appendCount).toBe(300);
    expectLog(s, expected);
    expect(s.segments().length).toBeGreaterThan(20);
    await s.close();

    const names = (await readdir(dir)).filter((n) => n.endsWith('.log'));
    expect(names.length).toBeGreaterThan(20);
    const r = await DiskStorage.open(dir, { segmentBytes: 512 });
    expectLog(r, expected);
    expect(r.hardState()).toEqual({ term: 1, votedFor: 'n1', commitIndex: 294 });
    expect(r.durableIndex).toBe(300);
    await r.close();
  });

  it('replaces a conflicting suffix durably (truncation) and keeps it across reopen', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir, { segmentBytes: 256 });
    s.append(entries(1, 50, 1));
    await s.sync();
    s.append(entries(30, 40, 2)); // replaces 30..50 with 30..40 of term 2
    expect(s.durableIndex).toBe(29);
    await s.sync();
    expect(s.durableIndex).toBe(40);
    s.append(entries(41, 45, 3));
    s.append(entries(35, 36, 4)); // truncates inside the same unsynced batch
    await s.sync();
    const expected = [...entries(1, 29, 1), ...entries(30, 34, 2), ...entries(35, 36, 4)];
    expectLog(s, expected);
    await s.close();
    const r = await DiskStorage.open(dir, { segmentBytes: 256 });
    expectLog(r, expected);
    // Appending after a truncation recovered from disk continues cleanly.
    r.append(entries(37, 60, 4));
    await r.sync();
    await r.close();
    const r2 = await DiskStorage.open(dir);
    expectLog(r2, [...expected, ...entries(37, 60, 4)]);
    await r2.close();
  });

  it('survives a random mix of appends, truncations and reopens (seeded)', async () => {
    const seed = testSeed(0x5eed);
    const rand = prng(seed);
    const dir = await dirs.make();
    let s = await DiskStorage.open(dir, { segmentBytes: 300 + Math.floor(rand() * 700) });
    let model: LogEntry[] = [];
    let term = 1;
    try {
      for (let step = 0; step < 200; step++) {
        const r = rand();
        if (r < 0.15 && model.length > 0) {
          term++;
          const from = 1 + Math.floor(rand() * model.length);
          const batch = entries(from, from + Math.floor(rand() * 5), term);
          s.append(batch);
          model = [...model.slice(0, from - 1), ...batch];
        } else if (r < 0.2) {
          await s.sync();
          await s.close();
          s = await DiskStorage.open(dir, { segmentBytes: 300 });
        } else {
          const from = model.length + 1;
          const batch = entries(from, from + Math.floor(rand() * 8), term);
          s.append(batch);
          model.push(...batch);
        }
        if (rand() < 0.5) await s.sync();
        s.setHardState({ term, votedFor: null, commitIndex: 0 });
      }
      await s.sync();
      expectLog(s, model);
      await s.close();
      s = await DiskStorage.open(dir);
      expectLog(s, model);
      expect(s.hardState().term).toBe(term);
      await s.close();
    } catch (err) {
      console.error(`random WAL test failed with SEED=${seed}`);
      throw err;
    }
  });

  it('sync resolves only after the staged data is durable, and reports durableIndex', async () => {
    const s = await DiskStorage.open(await dirs.make());
    s.append([entry(1, 1)]);
    expect(s.durableIndex).toBe(0);
    const p = s.sync();
    s.append([entry(2, 1)]);
    await p;
    expect(s.durableIndex).toBeGreaterThanOrEqual(1);
    await s.sync();
    expect(s.durableIndex).toBe(2);
    await s.close();
  });

  it('rejects appends that would leave a hole', async () => {
    const s = await DiskStorage.open(await dirs.make());
    s.append(entries(1, 3, 1));
    expect(() => s.append([entry(5, 1)])).toThrow(/outside/);
    await s.close();
  });

  it('group commit: 10,000 concurrent appends take far fewer fsyncs', async () => {
    const s = await DiskStorage.open(await dirs.make());
    const n = 10_000;
    const rand = prng(testSeed(42));
    const tasks: Promise<void>[] = [];
    const early: number[] = [];
    // Arrivals in small random bursts with a short sleep between them, so many flushes happen
    // and appends keep arriving while one is in flight. (One sleep at a time: thousands of
    // pending timers would starve the poll phase and hide the I/O.)
    let idx = 0;
    while (idx < n) {
      const burst = Math.min(n - idx, 1 + Math.floor(rand() * 100));
      for (let k = 0; k < burst; k++) {
        const i = ++idx;
        s.append([entry(i, 1)]);
        // Resolved means durable: the durable prefix covers this entry.
        tasks.push(s.sync().then(() => void (s.durableIndex < i && early.push(i))));
      }
      await new Promise<void>((r) => setTimeout(r, 1));
    }
    await Promise.all(tasks);
    expect(early).toEqual([]);
    expect(s.appendCount).toBe(n);
    expect(s.durableIndex).toBe(n);
    console.log(`group commit: ${n} appends, ${s.fsyncCount} fsyncs`);
    expect(s.fsyncCount).toBeGreaterThan(5); // the bursts really were spread over many flushes
    expect(s.fsyncCount).toBeGreaterThan(0);
    expect(s.fsyncCount * 20).toBeLessThan(n); // at least 20 appends per fsync on average
    await s.close();
    const r = await DiskStorage.open(s.dir);
    expect(r.lastIndex()).toBe(n);
    await r.close();
  });
});

describe('DiskStorage failures', () => {
  it('a failed fdatasync rejects every waiter and poisons the store (no retry after fsyncgate)', async () => {
    let failNext = false;
    const s = await DiskStorage.open(await dirs.make(), {
      faults: {
        datasync: async (fh) => {
          if (failNext) throw new Error('EIO (injected)');
          await fh.datasync();
        },
      },
    });
    s.append([entry(1, 1)]);
    await s.sync();
    failNext = true;
    s.append([entry(2, 1)]);
    const a = s.sync();
    const b = s.sync();
    expect(b).toBe(a); // nothing staged between them: one shared waiter
    s.append([entry(3, 1)]);
    const c = s.sync();
    await expect(a).rejects.toThrow(StorageFailedError);
    await expect(c).rejects.toThrow(StorageFailedError);
    expect(s.durableIndex).toBe(1);
    expect(() => s.append([entry(4, 1)])).toThrow(StorageFailedError);
    await expect(s.sync()).rejects.toThrow(StorageFailedError);
    await s.close();
  });

  it('close rejects syncs that can no longer happen', async () => {
    const s = await DiskStorage.open(await dirs.make());
    s.append([entry(1, 1)]);
    const closing = s.close();
    await closing;
    await expect(s.sync()).rejects.toThrow(StorageFailedError);
  });
});
