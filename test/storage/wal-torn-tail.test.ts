/**
 * Torn tails: a crash mid-write leaves the last segment cut short. Cutting it at every byte
 * offset inside its last record (or last batch) must reopen to exactly the records before it.
 */
import { copyFile, mkdir, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { encodeRecord } from '../../src/storage/wal-record.js';
import { entries, entry, tempDirs, warnings } from './storage-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

async function lastSegment(dir: string): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  return join(dir, names.at(-1)!);
}

/** Copies the WAL files of `src` into a fresh dir. */
async function cloneWal(src: string): Promise<string> {
  const dst = await dirs.make();
  for (const n of await readdir(src)) if (n.endsWith('.log')) await copyFile(join(src, n), join(dst, n));
  await mkdir(join(dst, 'snap'), { recursive: true });
  return dst;
}

function terms(s: DiskStorage): string {
  return s.entries(s.firstIndex(), s.lastIndex() + 1).map((e) => `${e.index}:${e.term}`).join(',');
}

describe('torn tail', () => {
  it('cut at every byte offset of the last record reopens to exactly the records before it', async () => {
    const base = await dirs.make();
    const s = await DiskStorage.open(base, { segmentBytes: 400 });
    const written = entries(1, 40, 1);
    for (const e of written) {
      s.append([e]);
      await s.sync();
    }
    await s.close();
    const seg = await lastSegment(base);
    const size = (await stat(seg)).size;
    const lastRecordBytes = encodeRecord({ kind: 'entry', entry: written.at(-1)! }).length;
    const recordStart = size - lastRecordBytes;

    for (let cut = recordStart; cut < size; cut++) {
      const dir = await cloneWal(base);
      await truncate(await lastSegment(dir), cut);
      const w = warnings();
      const r = await DiskStorage.open(dir, { warn: w.warn });
      expect(r.lastIndex(), `cut at ${cut}`).toBe(39);
      expect(r.entries(39, 40)[0]!.data).toEqual(written[38]!.data);
      if (cut > recordStart) {
        expect(w.list).toHaveLength(1);
        expect(w.list[0]).toMatchObject({ kind: 'tornTail', offset: recordStart, bytesCut: cut - recordStart });
      } else {
        expect(w.list).toHaveLength(0); // a clean cut on a record boundary is just a shorter log
      }
      // The cut is repaired on disk: appending and reopening works and warns no more.
      r.append([entry(40, 2)]);
      await r.sync();
      await r.close();
      const again = warnings();
      const r2 = await DiskStorage.open(dir, { warn: again.warn });
      expect(again.list).toHaveLength(0);
      expect(r2.lastIndex()).toBe(40);
      expect(r2.term(40)).toBe(2);
      await r2.close();
    }
  });

  it('a torn truncation batch leaves the old log or the truncated one, never a hole', async () => {
    const base = await dirs.make();
    const s = await DiskStorage.open(base);
    s.append(entries(1, 10, 1));
    await s.sync();
    await s.close();
    const before = (await stat(await lastSegment(base))).size;
    const s2 = await DiskStorage.open(base);
    s2.append(entries(6, 8, 2)); // one batch: truncate(6) + entries 6..8 of term 2
    await s2.sync();
    await s2.close();
    const after = (await stat(await lastSegment(base))).size;
    const truncRecordBytes = encodeRecord({ kind: 'truncate', nextIndex: 6 }).length;

    const old = entries(1, 10, 1).map((e) => `${e.index}:${e.term}`).join(',');
    const seen = new Set<string>();
    for (let cut = before; cut <= after; cut++) {
      const dir = await cloneWal(base);
      await truncate(await lastSegment(dir), cut);
      const r = await DiskStorage.open(dir);
      const got = terms(r);
      seen.add(got);
      if (cut < before + truncRecordBytes) {
        expect(got, `cut at ${cut}`).toBe(old);
      } else {
        // The truncation happened: 1..5 of term 1, then a prefix of the new entries, contiguous.
        const expected: LogEntry[] = [...entries(1, 5, 1), ...entries(6, r.lastIndex(), 2)];
        expect(got, `cut at ${cut}`).toBe(expected.map((e) => `${e.index}:${e.term}`).join(','));
        expect(r.lastIndex()).toBeGreaterThanOrEqual(5);
      }
      await r.close();
    }
    // Every state on the way was visited: old, truncated to 5, then 6, 7 and 8 new entries.
    expect(seen.size).toBe(5);
  });

  it('a torn segment header of a fresh last segment is dropped', async () => {
    const base = await dirs.make();
    const s = await DiskStorage.open(base, { segmentBytes: 64 });
    s.append(entries(1, 3, 1));
    await s.sync();
    await s.close();
    // Simulate a crash right after creating the next segment and writing 3 magic bytes.
    const names = (await readdir(base)).filter((n) => n.endsWith('.log')).sort();
    const next = names.at(-1)!.replace(/\d{16}/, (d) => String(Number(d) + 1).padStart(16, '0'));
    await writeFile(join(base, next), Buffer.from('RAF'));
    const w = warnings();
    const r = await DiskStorage.open(base, { segmentBytes: 64, warn: w.warn });
    expect(r.lastIndex()).toBe(3);
    expect(w.list[0]).toMatchObject({ kind: 'tornTail', offset: 0 });
    r.append(entries(4, 6, 1));
    await r.sync();
    await r.close();
    const r2 = await DiskStorage.open(base);
    expect(r2.lastIndex()).toBe(6);
    expect(await readFile(join(base, next)).then((b) => b.subarray(0, 8).toString())).toBe('RAFTWAL1');
    await r2.close();
  });

  it('a bad last record, or one followed only by zero fill, is a torn tail; with data after it is not', async () => {
    const base = await dirs.make();
    const s = await DiskStorage.open(base);
    s.append(entries(1, 5, 1));
    await s.sync();
    await s.close();
    const seg = await lastSegment(base);
    const pristine = await readFile(seg);
    const lastStart = pristine.length - encodeRecord({ kind: 'entry', entry: entry(5, 1) }).length;

    // Garbage in the last record's payload (size extended, data not written: power loss).
    const garbled = Buffer.from(pristine);
    garbled[garbled.length - 3] = garbled[garbled.length - 3]! ^ 0xff;
    let dir = await cloneWal(base);
    await writeFile(await lastSegment(dir), garbled);
    let w = warnings();
    let r = await DiskStorage.open(dir, { warn: w.warn });
    expect(r.lastIndex()).toBe(4);
    expect(w.list[0]).toMatchObject({ kind: 'tornTail', offset: lastStart });
    await r.close();

    // Zero fill after the good records (preallocated or never-written blocks).
    dir = await cloneWal(base);
    await writeFile(await lastSegment(dir), Buffer.concat([pristine, Buffer.alloc(100)]));
    w = warnings();
    r = await DiskStorage.open(dir, { warn: w.warn });
    expect(r.lastIndex()).toBe(5);
    expect(w.list[0]).toMatchObject({ kind: 'tornTail', offset: pristine.length, bytesCut: 100 });
    await r.close();

    // The same bad record with a good record after it is corruption, not a tail.
    dir = await cloneWal(base);
    await writeFile(await lastSegment(dir), Buffer.concat([garbled, encodeRecord({ kind: 'entry', entry: entry(6, 1) })]));
    await expect(DiskStorage.open(dir)).rejects.toThrow(/corruption .* at offset/);
  });
});
