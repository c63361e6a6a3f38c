/**
 * A snapshot starts a new WAL segment (once the active one holds snapshotRollBytesMin), so the
 * WAL written before a snapshot is deleted whole at the next one and a restart replays about one
 * snapshot interval; the snapshot store hands the snapshot it checked on open to the first load.
 */
import { cp, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { snapshotRollBytesMin } from '../../src/storage/wal-writer.js';
import { entry, payload, tempDirs } from './storage-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const meta = (index: number, term: number): SnapshotMeta => ({ index, term, voters: ['a'], learners: [] });
/** Entries big enough that a few hundred pass snapshotRollBytesMin. */
const entryBytes = 4096;
const perInterval = Math.ceil(snapshotRollBytesMin / entryBytes) + 10;

async function appendRange(s: DiskStorage, from: number, to: number): Promise<void> {
  const batch = [];
  for (let i = from; i <= to; i++) batch.push(entry(i, 1, payload(i, 1, entryBytes)));
  s.append(batch);
  await s.sync();
}

async function walFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
}

describe('WAL roll at snapshot', () => {
  it('starts a segment at each snapshot and deletes the previous interval whole at the next', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir); // default 64 MiB segments: only snapshots roll
    s.setHardState({ term: 1, votedFor: 'a', commitIndex: 0 });
    let last = 0;
    const snapshotsAt: number[] = [];
    for (let round = 0; round < 3; round++) {
      await appendRange(s, last + 1, last + perInterval);
      last += perInterval;
      // The snapshot lags the log a little, as on a node whose log runs ahead of apply.
      const at = last - 5;
      await s.saveSnapshot({ meta: meta(at, 1), data: new Uint8Array([round]) });
      snapshotsAt.push(at);
      // Segments: the interval before this snapshot (it still holds entries above `at`) and the new one.
      const segments = s.segments();
      expect(segments.length, `round ${round}`).toBe(2);
      expect(segments[0]!.maxIndex).toBeGreaterThan(at);
    }
    // Everything below the previous snapshot is gone from disk.
    const files = await walFiles(dir);
    expect(files.length).toBe(2);
    await appendRange(s, last + 1, last + 3);
    await s.close();

    const r = await DiskStorage.open(dir);
    expect(r.snapshot()?.index).toBe(snapshotsAt.at(-1));
    expect(r.firstIndex()).toBe(snapshotsAt.at(-1)! + 1);
    expect(r.lastIndex()).toBe(last + 3);
    expect(r.hardState()).toEqual({ term: 1, votedFor: 'a', commitIndex: 0 });
    const walBytes = r.segments().reduce((n, seg) => n + seg.bytes, 0);
    // About one interval on disk, not the whole history.
    expect(walBytes).toBeLessThan(2.5 * perInterval * entryBytes);
    expect(r.entries(r.lastIndex(), r.lastIndex() + 1)[0]!.data).toEqual(payload(last + 3, 1, entryBytes));
    expect((await r.loadSnapshot())?.data).toEqual(new Uint8Array([2]));
    await r.close();
  });

  it('a crash while re-logging the tail into the new segment loses no entry', async () => {
    const base = await dirs.make();
    const s = await DiskStorage.open(base);
    await appendRange(s, 1, perInterval);
    await s.saveSnapshot({ meta: meta(perInterval - 5, 1), data: new Uint8Array([1]) });
    await s.close();
    const files = await walFiles(base);
    expect(files.length).toBe(2);
    const newest = join(base, files[1]!);
    const size = (await stat(newest)).size;
    // Cut the new segment inside each re-logged entry (and inside the marker area before them).
    for (const cut of [size - 1, size - entryBytes, size - 3 * entryBytes - 7, size - 5 * entryBytes - 20]) {
      const dir = await dirs.make();
      await cp(base, dir, { recursive: true });
      await truncate(join(dir, files[1]!), cut);
      const r = await DiskStorage.open(dir);
      expect(r.lastIndex(), `cut at ${cut}`).toBe(perInterval);
      for (const i of [perInterval - 4, perInterval]) expect(r.entries(i, i + 1)[0]!.data).toEqual(payload(i, 1, entryBytes));
      await r.close();
    }
  });

  it('does not roll a small segment (no file per snapshot of a quiet log)', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir);
    await appendRange(s, 1, 10);
    await s.saveSnapshot({ meta: meta(8, 1), data: new Uint8Array([1]) });
    await appendRange(s, 11, 20);
    await s.saveSnapshot({ meta: meta(18, 1), data: new Uint8Array([2]) });
    expect(s.segments().length).toBe(1);
    await s.close();
  });

  it('loads the snapshot it checked on open once, and reads the file again afterwards', async () => {
    const dir = await dirs.make();
    const s = await DiskStorage.open(dir);
    await appendRange(s, 1, 10);
    await s.saveSnapshot({ meta: meta(10, 1), data: new Uint8Array([7, 7]) });
    await s.close();
    const r = await DiskStorage.open(dir);
    const snapDir = join(dir, 'snap');
    const name = (await readdir(snapDir)).find((n) => n.endsWith('.snap'))!;
    // Damage the file after open: the first load is what open verified, a later one sees the damage.
    await writeFile(join(snapDir, name), Buffer.from('garbage'));
    expect((await r.loadSnapshot())?.data).toEqual(new Uint8Array([7, 7]));
    expect(await r.loadSnapshot()).toBeNull();
    await r.close();
  });
});
