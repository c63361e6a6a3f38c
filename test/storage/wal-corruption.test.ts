/** Corruption before the tail: the store refuses to open, naming the file and offset. */
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { WalCorruptionError } from '../../src/storage/wal-errors.js';
import { encodeRecord, frameHeaderBytes } from '../../src/storage/wal-record.js';
import { segmentMagic } from '../../src/storage/wal-segment.js';
import { entries, entry, tempDirs } from './storage-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((n) => n.endsWith('.log')).sort().map((n) => join(dir, n));
}

/** A WAL of 20 single-entry records in one segment; returns the record start offsets. */
async function buildWal(segmentBytes?: number): Promise<{ dir: string; offsets: number[] }> {
  const dir = await dirs.make();
  const s = await DiskStorage.open(dir, segmentBytes === undefined ? {} : { segmentBytes });
  const offsets: number[] = [];
  let offset = segmentMagic.length;
  for (const e of entries(1, 20, 1)) {
    offsets.push(offset);
    offset += encodeRecord({ kind: 'entry', entry: e }).length;
    s.append([e]);
    await s.sync();
  }
  await s.close();
  return { dir, offsets };
}

async function flip(path: string, at: number): Promise<void> {
  const buf = await readFile(path);
  buf[at] = buf[at]! ^ 0x40;
  await writeFile(path, buf);
}

async function openError(dir: string): Promise<WalCorruptionError> {
  try {
    const s = await DiskStorage.open(dir);
    await s.close();
  } catch (err) {
    expect(err).toBeInstanceOf(WalCorruptionError);
    return err as WalCorruptionError;
  }
  throw new Error('open succeeded on a corrupt WAL');
}

describe('corruption', () => {
  it('a flipped payload byte in the middle refuses to open with file and offset', async () => {
    const { dir, offsets } = await buildWal();
    const [seg] = await segments(dir);
    await flip(seg!, offsets[10]! + frameHeaderBytes + 5);
    const err = await openError(dir);
    expect(err.file).toBe(seg);
    expect(err.offset).toBe(offsets[10]);
    expect(err.message).toContain(seg!);
    expect(err.message).toContain(`offset ${offsets[10]}`);
    expect(err.message).toMatch(/CRC/);
  });

  it('a flipped length byte in the middle is corruption, not a torn tail', async () => {
    const { dir, offsets } = await buildWal();
    const [seg] = await segments(dir);
    await flip(seg!, offsets[5]! + 1);
    const err = await openError(dir);
    expect(err.offset).toBe(offsets[5]);
    expect(err.reason).toMatch(/length/);
  });

  it('every single-byte flip before the last record is refused', async () => {
    const { dir, offsets } = await buildWal();
    const [seg] = await segments(dir);
    const pristine = await readFile(seg!);
    const lastStart = offsets.at(-1)!;
    for (let at = 0; at < lastStart; at += 3) {
      const buf = Buffer.from(pristine);
      buf[at] = buf[at]! ^ 0x01;
      await writeFile(seg!, buf);
      const err = await openError(dir);
      expect(err.file).toBe(seg);
      expect(err.offset).toBeLessThanOrEqual(at);
    }
  });

  it('a bad record in a sealed (non-last) segment is corruption even at its end', async () => {
    const { dir } = await buildWal(200);
    const segs = await segments(dir);
    expect(segs.length).toBeGreaterThan(2);
    const sealed = segs[0]!;
    const buf = await readFile(sealed);
    buf[buf.length - 2] = buf[buf.length - 2]! ^ 0xff;
    await writeFile(sealed, buf);
    const err = await openError(dir);
    expect(err.file).toBe(sealed);
  });

  it('a missing middle segment is corruption', async () => {
    const { dir } = await buildWal(200);
    const segs = await segments(dir);
    await rm(segs[1]!);
    const err = await openError(dir);
    expect(err.reason).toMatch(/missing/);
  });

  it('an unchanged WAL still opens (the checks are not trigger-happy)', async () => {
    const { dir } = await buildWal(200);
    const s = await DiskStorage.open(dir);
    expect(s.lastIndex()).toBe(20);
    s.append([entry(21, 1)]);
    await s.sync();
    await s.close();
  });
});
