import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SnapshotMeta } from '../../src/raft/types.js';
import { SnapshotStore } from '../../src/storage/snapshot-store.js';
import { tempDirs, warnings } from './storage-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const meta = (index: number, term = 1): SnapshotMeta => ({ index, term, voters: ['a', 'b', 'c'], learners: [] });
const data = (index: number): Uint8Array => new Uint8Array(Buffer.from(`state at ${index}`));

describe('SnapshotStore', () => {
  it('saves, keeps the last N, loads the latest after reopen', async () => {
    const dir = await dirs.make();
    const store = await SnapshotStore.open(dir, { kept: 2, warn: () => undefined });
    expect(store.latest()).toBeNull();
    expect(await store.loadLatest()).toBeNull();
    for (const i of [10, 20, 30]) await store.save({ meta: meta(i), data: data(i) });
    expect(store.latest()).toEqual(meta(30));
    const files = (await readdir(dir)).sort();
    expect(files).toHaveLength(2);
    expect(files[0]).toMatch(/snap-0+20-0+1\.snap/);
    const reopened = await SnapshotStore.open(dir, { kept: 2, warn: () => undefined });
    const latest = await reopened.loadLatest();
    expect(latest?.meta).toEqual(meta(30));
    expect(Buffer.from(latest!.data).toString()).toBe('state at 30');
  });

  it('removes leftover temp files and skips a corrupt newest snapshot with a warning', async () => {
    const dir = await dirs.make();
    const store = await SnapshotStore.open(dir, { kept: 3, warn: () => undefined });
    await store.save({ meta: meta(10), data: data(10) });
    await store.save({ meta: meta(20), data: data(20) });
    await writeFile(join(dir, 'snap-0000000000000030-0000000000000001.snap.tmp'), 'half written');
    const newest = join(dir, 'snap-0000000000000020-0000000000000001.snap');
    const buf = await readFile(newest);
    buf[buf.length - 6] = buf[buf.length - 6]! ^ 1;
    await writeFile(newest, buf);
    const w = warnings();
    const reopened = await SnapshotStore.open(dir, { kept: 3, warn: w.warn });
    expect(reopened.latest()).toEqual(meta(10));
    expect(w.list.map((x) => x.kind).sort()).toEqual(['snapshotUnreadable', 'tempFileRemoved']);
    expect((await readdir(dir)).some((n) => n.endsWith('.tmp'))).toBe(false);
  });
});
