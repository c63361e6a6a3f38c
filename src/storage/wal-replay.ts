/**
 * Recovery: read every segment in order and rebuild the in-memory log and hard state.
 *
 * A torn tail of the last segment (a crash mid-write, never acknowledged) is cut off on disk and
 * reported; damage anywhere else, or records that do not fit together (a gap between entries),
 * refuse the open with a WalCorruptionError naming the file and offset.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { assertNever } from '../raft/assert.js';
import type { HardState, LogEntry } from '../raft/types.js';
import { EntryLog } from './entry-log.js';
import { fsyncDir } from './fs-durable.js';
import type { StorageWarn } from './storage-warning.js';
import { WalCorruptionError } from './wal-errors.js';
import { encodeRecord, type WalRecord } from './wal-record.js';
import { listSegments, scanSegment } from './wal-segment.js';
import type { SegmentState } from './wal-writer.js';

/** The hard state of a node that never persisted one. */
export const emptyHardState: HardState = { term: 0, votedFor: null, commitIndex: 0 };

/** What replay recovered. */
export interface WalReplay {
  readonly log: EntryLog;
  readonly hardState: HardState;
  /** True once any record placed the log (false for an empty WAL). */
  readonly started: boolean;
  readonly segments: SegmentState[];
  /** Encoded form of `hardState`, to start new segments with (null if none was ever written). */
  readonly hardStateRecord: Buffer | null;
  /** Path of the oldest segment (for error messages), or null. */
  readonly firstSegment: string | null;
}

/** Replays the WAL in `dir`, cutting a torn tail (and reporting it through `warn`). */
export async function replayWal(dir: string, warn: StorageWarn): Promise<WalReplay> {
  const files = await listSegments(dir);
  const log = new EntryLog();
  let hardState: HardState | null = null;
  let started = false;
  const segments: SegmentState[] = [];

  for (let s = 0; s < files.length; s++) {
    const file = files[s]!;
    const isLast = s === files.length - 1;
    const buf = await readFile(file.path);
    const scan = scanSegment(buf, file.path, isLast);
    if (scan.torn !== null) {
      await cutTail(dir, file.path, scan.validBytes);
      warn({ kind: 'tornTail', file: file.path, offset: scan.validBytes, bytesCut: buf.length - scan.validBytes, reason: scan.torn.reason });
      if (scan.validBytes === 0) continue; // the header itself was torn: the file is gone
    }
    let maxIndex = 0;
    for (const { record, offset } of scan.records) {
      const mentioned = apply(record, log, started, file.path, offset);
      started = started || mentioned !== null;
      if (mentioned !== null) maxIndex = Math.max(maxIndex, mentioned);
      if (record.kind === 'hardState') hardState = record.hardState;
    }
    segments.push({ seq: file.seq, path: file.path, bytes: scan.validBytes, maxIndex });
  }
  return {
    log,
    hardState: hardState ?? emptyHardState,
    started,
    segments,
    hardStateRecord: hardState === null ? null : encodeRecord({ kind: 'hardState', hardState }),
    firstSegment: segments[0]?.path ?? null,
  };
}

/**
 * Applies one record to the replayed log. Returns the highest index it mentions (null for a hard
 * state). The first positioned record of a WAL whose older segments were deleted sets the start.
 */
function apply(record: WalRecord, log: EntryLog, started: boolean, path: string, offset: number): number | null {
  switch (record.kind) {
    case 'entry': {
      const e = record.entry;
      if (!started) log.reset(e.index, 0);
      if (started && e.index <= log.last() && isCopy(log, e)) return e.index;
      if (e.index !== log.last() + 1) throw new WalCorruptionError(path, offset, `entry ${e.index} does not follow ${log.last()} (a hole in the log)`);
      log.push(e);
      return e.index;
    }
    case 'truncate': {
      const next = record.nextIndex;
      if (!started || next < log.first()) log.reset(next, 0);
      else if (next > log.last() + 1) throw new WalCorruptionError(path, offset, `truncation at ${next} past the end ${log.last()}`);
      else log.truncateFrom(next);
      return next - 1;
    }
    case 'snapshot':
      if (!started) log.reset(record.index + 1, record.term);
      else log.applySnapshot(record.index, record.term);
      return record.index;
    case 'hardState':
      return null;
    default:
      return assertNever(record);
  }
}

/**
 * An entry the log already holds (same term and bytes), or one below its start: the copies a
 * roll at a snapshot re-logs into the new segment (DiskStorage.relogAbove). Anything else at an
 * index the log holds (another term without a truncation record) is corruption.
 */
function isCopy(log: EntryLog, e: LogEntry): boolean {
  if (e.index < log.first()) return true;
  const held = log.get(e.index);
  if (held === undefined || held.term !== e.term || held.type !== e.type || held.data.length !== e.data.length) return false;
  for (let i = 0; i < e.data.length; i++) if (held.data[i] !== e.data[i]) return false;
  return true;
}

async function cutTail(dir: string, path: string, validBytes: number): Promise<void> {
  if (validBytes === 0) {
    await unlink(path);
    await fsyncDir(dir);
    return;
  }
  const fh = await open(path, 'r+');
  try {
    await fh.truncate(validBytes);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
