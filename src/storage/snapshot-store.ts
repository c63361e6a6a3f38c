/**
 * Durable snapshots for log compaction: each is one file, written to a temp name, fsynced,
 * renamed into place and the directory fsynced, so a crash leaves either the old set or the new
 * one. The last `kept` snapshots stay on disk; the newest readable one is the one loaded.
 *
 * File: "RAFTSNP1" | u32 metaLength | meta JSON | data | u32 crc32(everything before it).
 */
import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { assert } from '../raft/assert.js';
import type { SnapshotMeta } from '../raft/types.js';
import { fsyncDir, writeFully } from './fs-durable.js';
import type { StorageWarn } from './storage-warning.js';

const snapshotMagic = Buffer.from('RAFTSNP1', 'ascii');
const snapshotPattern = /^snap-(\d{16})-(\d{16})\.snap$/;
const tempSuffix = '.tmp';
/** Snapshots kept on disk by default (the newest plus one fallback). */
export const snapshotsKeptDefault = 2;
/** Largest snapshot metadata accepted when loading (it is a few ids). */
export const snapshotMetaBytesMax = 1024 * 1024;

/** A loaded snapshot. */
export interface Snapshot {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

interface SnapshotFile {
  readonly index: number;
  readonly term: number;
  readonly path: string;
}

function fileName(meta: SnapshotMeta): string {
  return `snap-${String(meta.index).padStart(16, '0')}-${String(meta.term).padStart(16, '0')}.snap`;
}

/** Encodes a snapshot file's bytes. */
export function encodeSnapshot(snapshot: Snapshot): Buffer {
  const meta = Buffer.from(JSON.stringify(snapshot.meta), 'utf8');
  const head = Buffer.allocUnsafe(snapshotMagic.length + 4);
  snapshotMagic.copy(head, 0);
  head.writeUInt32LE(meta.length, snapshotMagic.length);
  const body = Buffer.concat([head, meta, snapshot.data]);
  const tail = Buffer.allocUnsafe(4);
  tail.writeUInt32LE(crc32(body), 0);
  return Buffer.concat([body, tail]);
}

/** Decodes and verifies a snapshot file's bytes; returns a reason string when they are bad. */
export function decodeSnapshot(buf: Buffer): Snapshot | string {
  const headBytes = snapshotMagic.length + 4;
  if (buf.length < headBytes + 4) return `file too short (${buf.length} bytes)`;
  if (!buf.subarray(0, snapshotMagic.length).equals(snapshotMagic)) return 'bad magic';
  const body = buf.subarray(0, buf.length - 4);
  if (crc32(body) !== buf.readUInt32LE(buf.length - 4)) return 'CRC mismatch';
  const metaLength = buf.readUInt32LE(snapshotMagic.length);
  if (metaLength > snapshotMetaBytesMax || headBytes + metaLength > body.length) return `bad meta length ${metaLength}`;
  let meta: SnapshotMeta;
  try {
    meta = JSON.parse(body.subarray(headBytes, headBytes + metaLength).toString('utf8')) as SnapshotMeta;
  } catch (err) {
    return `bad meta: ${String(err)}`;
  }
  return { meta, data: new Uint8Array(body.subarray(headBytes + metaLength)) };
}

/** The snapshot files of one node, newest loaded first (see the file comment). */
export class SnapshotStore {
  private files: SnapshotFile[] = [];
  private latestMeta: SnapshotMeta | null = null;
  /**
   * The snapshot `open` read to find the newest readable one, handed to the first `loadLatest`
   * (the node restoring from it right after open) instead of reading and checking the file again.
   */
  private fromOpen: Snapshot | null = null;

  private constructor(
    private readonly dir: string,
    private readonly kept: number,
    private readonly warn: StorageWarn,
  ) {
    assert(kept >= 1, 'must keep at least one snapshot');
  }

  /** Opens (creating) the store in `dir`: removes leftover temp files, finds the newest readable snapshot. */
  static async open(dir: string, options: { kept?: number; warn: StorageWarn }): Promise<SnapshotStore> {
    const store = new SnapshotStore(dir, options.kept ?? snapshotsKeptDefault, options.warn);
    await mkdir(dir, { recursive: true });
    let removed = false;
    for (const name of await readdir(dir)) {
      if (name.endsWith(tempSuffix)) {
        await unlink(join(dir, name));
        options.warn({ kind: 'tempFileRemoved', file: join(dir, name) });
        removed = true;
      }
      const m = snapshotPattern.exec(name);
      if (m?.[1] !== undefined && m[2] !== undefined) store.files.push({ index: Number(m[1]), term: Number(m[2]), path: join(dir, name) });
    }
    if (removed) await fsyncDir(dir);
    store.files.sort((a, b) => a.index - b.index);
    const latest = await store.loadLatest();
    store.latestMeta = latest?.meta ?? null;
    store.fromOpen = latest;
    return store;
  }

  /** Metadata of the newest readable snapshot, or null. */
  latest(): SnapshotMeta | null {
    return this.latestMeta;
  }

  /** Loads the newest snapshot that passes its checksum (warning about any that do not). */
  async loadLatest(): Promise<Snapshot | null> {
    const cached = this.fromOpen;
    this.fromOpen = null;
    if (cached !== null && cached.meta === this.latestMeta) return cached;
    for (let i = this.files.length - 1; i >= 0; i--) {
      const f = this.files[i]!;
      const decoded = decodeSnapshot(await readFile(f.path));
      if (typeof decoded !== 'string') return decoded;
      this.warn({ kind: 'snapshotUnreadable', file: f.path, reason: decoded });
    }
    return null;
  }

  /** Writes a snapshot durably (temp, fsync, rename, fsync dir), then prunes to the last `kept`. */
  async save(snapshot: Snapshot): Promise<void> {
    this.fromOpen = null;
    const name = fileName(snapshot.meta);
    const path = join(this.dir, name);
    const temp = path + tempSuffix;
    const fh = await open(temp, 'w');
    try {
      await writeFully(fh, encodeSnapshot(snapshot), 0);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(temp, path);
    await fsyncDir(this.dir);
    this.files = this.files.filter((f) => f.path !== path);
    this.files.push({ index: snapshot.meta.index, term: snapshot.meta.term, path });
    this.files.sort((a, b) => a.index - b.index);
    this.latestMeta = this.files.at(-1)!.path === path ? snapshot.meta : this.latestMeta;
    const doomed = this.files.slice(0, Math.max(0, this.files.length - this.kept));
    if (doomed.length > 0) {
      this.files = this.files.slice(doomed.length);
      for (const f of doomed) await unlink(f.path);
      await fsyncDir(this.dir);
    }
  }

  /** Paths of the snapshot files on disk, oldest first (tests). */
  paths(): string[] {
    return this.files.map((f) => f.path);
  }
}
