/** Snapshots and compaction through DiskStorage: local compaction, installed snapshots, recovery. */
import { readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { WalCorruptionError } from '../../src/storage/wal-errors.js';
import { entries, tempDirs, warnings } from './storage-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const meta = (index: number, term: number): SnapshotMeta => ({ index, term, voters: ['a', 'b', 'c'], learners: ['d'] });
const data = new Uint8Array([1, 2, 3]);

function termsOf(s: DiskStorage): string {
  return s.entries(s.firstIndex(), s.lastIndex() + 1).map((e) => e.term).join('');
}

async function walFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
}

describe('DiskStorage snapshots', () => {
  it('local compaction keeps the suffix, deletes segments wholly below, survives reopen', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir, { segmentBytes: 512 });
    s.setHardState({ term: 1, votedFor: 'a', commitIndex: 0 }); // only in the first segment
    for (let i = 1; i <= 200; i += 10) {
      s.append(entries(i, i + 9, 1));
      await s.sync();
    }
    const before = s.segments().length;
    await s.saveSnapshot({ meta: meta(150, 1), data });
    expect(s.firstIndex()).toBe(151);
    expect(s.lastIndex()).toBe(200);
    expect(s.term(150)).toBe(1);
    expect(s.term(149)).toBeUndefined();
    expect(s.snapshot()).toEqual(meta(150, 1));
    const after = s.segments();
    expect(after.length).toBeLessThan(before);
    expect(after.length).toBeGreaterThan(0);
    // Exactly the segments wholly at or below 150 went: the oldest survivor reaches past it.
    expect(after[0]!.maxIndex).toBeGreaterThan(150);
    expect((await walFiles(dir)).length).toBe(after.length);
    s.append(entries(201, 210, 1));
    await s.sync();
    await s.close();

    const r = await DiskStorage.open(dir, { segmentBytes: 512 });
    expect(r.firstIndex()).toBe(151);
    expect(r.lastIndex()).toBe(210);
    expect(r.term(150)).toBe(1);
    expect(r.snapshot()).toEqual(meta(150, 1));
    expect(r.hardState()).toEqual({ term: 1, votedFor: 'a', commitIndex: 0 });
    expect((await r.loadSnapshot())?.data).toEqual(data);
    await r.close();
  });

  it('an installed snapshot the log conflicts with drops the whole log', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir);
    s.append(entries(1, 50, 1));
    await s.sync();
    await s.saveSnapshot({ meta: meta(40, 3), data });
    expect([s.firstIndex(), s.lastIndex(), s.term(40)]).toEqual([41, 40, 3]);
    s.append(entries(41, 45, 3));
    await s.sync();
    await s.close();
    const r = await DiskStorage.open(dir);
    expect([r.firstIndex(), r.lastIndex()]).toEqual([41, 45]);
    expect(termsOf(r)).toBe('33333');
    await r.close();
  });

  it('a snapshot past the end of the log restarts it after the snapshot', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir, { segmentBytes: 256 });
    s.append(entries(1, 10, 1));
    await s.sync();
    await s.saveSnapshot({ meta: meta(100, 5), data });
    expect([s.firstIndex(), s.lastIndex(), s.term(100)]).toEqual([101, 100, 5]);
    s.append(entries(101, 105, 5));
    await s.sync();
    await s.close();
    const r = await DiskStorage.open(dir);
    expect([r.firstIndex(), r.lastIndex()]).toEqual([101, 105]);
    expect(termsOf(r)).toBe('55555');
    await r.close();
  });

  it('crash between saving a snapshot and logging it: open reconciles and later appends replay', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir);
    s.append(entries(1, 30, 1));
    await s.sync();
    await s.close();
    // The snapshot reached disk, the WAL marker did not (the log still has term 1 at 20).
    const store = await SnapshotStore.open(join(dir, 'snap'), { warn: () => undefined });
    await store.save({ meta: meta(20, 2), data });
    const w = warnings();
    const r = await DiskStorage.open(dir, { warn: w.warn });
    expect(w.list).toEqual([{ kind: 'logDiscardedBySnapshot', snapshotIndex: 20, entriesDropped: 10 }]);
    expect([r.firstIndex(), r.lastIndex()]).toEqual([21, 20]);
    r.append(entries(21, 25, 2));
    await r.sync();
    await r.close();
    const r2 = await DiskStorage.open(dir);
    expect([r2.firstIndex(), r2.lastIndex()]).toEqual([21, 25]);
    expect(termsOf(r2)).toBe('22222');
    await r2.close();
  });

  it('refuses to open when segments were compacted away but no snapshot covers them', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir, { segmentBytes: 256 });
    for (let i = 1; i <= 60; i += 5) {
      s.append(entries(i, i + 4, 1));
      await s.sync();
    }
    await s.saveSnapshot({ meta: meta(50, 1), data });
    await s.close();
    await rm(join(dir, 'snap'), { recursive: true });
    await expect(DiskStorage.open(dir)).rejects.toBeInstanceOf(WalCorruptionError);
  });
});

describe('DiskStorage hard state across compaction', () => {
  it('keeps the vote when the only segment holding it is deleted, even if a rollover prefix was torn', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir, { segmentBytes: 256 });
    s.setHardState({ term: 7, votedFor: 'b', commitIndex: 3 });
    s.append(entries(1, 20, 7));
    await s.sync();
    await s.close();
    // Simulate a crash during rollover that left the next segment with only its magic (the
    // hard-state prefix torn off), then appends that never change the hard state.
    const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
    const next = names.at(-1)!.replace(/\d{16}/, (d) => String(Number(d) + 1).padStart(16, '0'));
    await writeFile(join(dir, next), Buffer.from('RAFTWAL1'));
    const r = await DiskStorage.open(dir, { segmentBytes: 1 << 20 });
    r.append(entries(21, 40, 7));
    await r.sync();
    await r.saveSnapshot({ meta: meta(30, 7), data });
    expect(r.segments().length).toBe(1);
    await r.close();
    const r2 = await DiskStorage.open(dir);
    expect(r2.hardState()).toEqual({ term: 7, votedFor: 'b', commitIndex: 3 });
    expect([r2.firstIndex(), r2.lastIndex()]).toEqual([31, 40]);
    await r2.close();
  });
});
