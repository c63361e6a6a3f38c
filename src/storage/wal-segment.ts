/**
 * Segment files: naming, listing and scanning one segment's bytes into records.
 *
 * A segment is `wal-<seq>.log`: the 8-byte magic, then frames (see wal-record.ts). Only the last
 * segment can have a torn tail: the writer rolls over to a new segment only after the previous
 * one's last batch was fdatasynced, so damage anywhere else is corruption.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { assertNever } from '../raft/assert.js';
import { allZeroFrom } from './fs-durable.js';
import { WalCorruptionError } from './wal-errors.js';
import { scanFrame, type WalRecord } from './wal-record.js';

/** Every segment starts with this; a full-length mismatch is corruption (a foreign file). */
export const segmentMagic = Buffer.from('RAFTWAL1', 'ascii');

const segmentPattern = /^wal-(\d{16})\.log$/;

/** The file name of segment `seq`. */
export function segmentName(seq: number): string {
  return `wal-${String(seq).padStart(16, '0')}.log`;
}

/** A segment on disk, oldest first by `seq`. */
export interface SegmentFile {
  readonly seq: number;
  readonly path: string;
}

/** Lists the WAL segments in `dir`, ordered by sequence; sequences must be contiguous. */
export async function listSegments(dir: string): Promise<SegmentFile[]> {
  const names = await readdir(dir);
  const segments: SegmentFile[] = [];
  for (const name of names) {
    const m = segmentPattern.exec(name);
    if (m?.[1] !== undefined) segments.push({ seq: Number(m[1]), path: join(dir, name) });
  }
  segments.sort((a, b) => a.seq - b.seq);
  for (let i = 1; i < segments.length; i++) {
    const prev = segments[i - 1]!;
    const cur = segments[i]!;
    // Segments are only ever deleted as a prefix, so a gap means a file went missing.
    if (cur.seq !== prev.seq + 1) throw new WalCorruptionError(cur.path, 0, `segment ${prev.seq + 1} is missing`);
  }
  return segments;
}

/** A record and where it sits in its file (for error messages and tests). */
export interface ScannedRecord {
  readonly record: WalRecord;
  readonly offset: number;
  readonly end: number;
}

/** The outcome of scanning one segment. */
export interface SegmentScan {
  readonly records: ScannedRecord[];
  /** Bytes of valid data: the magic and every complete record. */
  readonly validBytes: number;
  /** Set when the tail from `validBytes` on must be cut (only ever for the last segment). */
  readonly torn: { readonly reason: string } | null;
}

/**
 * Scans a segment's bytes. `isLast` decides what a bad tail means: for the last segment a
 * partial record, or a bad record with nothing but zeros (or nothing) after it, is a torn write;
 * anywhere else, and for a bad record followed by more data, it is corruption.
 */
export function scanSegment(buf: Buffer, path: string, isLast: boolean): SegmentScan {
  if (buf.length < segmentMagic.length) {
    if (isLast && segmentMagic.subarray(0, buf.length).equals(buf)) {
      return { records: [], validBytes: 0, torn: { reason: `segment header cut at ${buf.length} bytes` } };
    }
    throw new WalCorruptionError(path, 0, `segment shorter than its header (${buf.length} bytes)`);
  }
  if (!buf.subarray(0, segmentMagic.length).equals(segmentMagic)) {
    throw new WalCorruptionError(path, 0, 'bad segment magic');
  }
  const records: ScannedRecord[] = [];
  let offset = segmentMagic.length;
  while (offset < buf.length) {
    const scan = scanFrame(buf, offset);
    switch (scan.kind) {
      case 'record':
        records.push({ record: scan.record, offset, end: scan.end });
        offset = scan.end;
        continue;
      case 'partial':
        if (isLast) return { records, validBytes: offset, torn: { reason: scan.reason } };
        throw new WalCorruptionError(path, offset, `${scan.reason} in a sealed segment`);
      case 'bad': {
        const tail = scan.end === null ? allZeroFrom(buf, offset) : allZeroFrom(buf, scan.end);
        if (isLast && tail) return { records, validBytes: offset, torn: { reason: scan.reason } };
        throw new WalCorruptionError(path, offset, scan.reason);
      }
      default:
        return assertNever(scan);
    }
  }
  return { records, validBytes: offset, torn: null };
}
