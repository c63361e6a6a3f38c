/**
 * The WAL's record format: framing (length, length check, CRC32) and the three payload kinds.
 *
 * Frame, little-endian:
 *   u32 payloadLength | u32 payloadLength ^ lengthMask | u32 crc32(payload) | payload
 * The length has its own check so that a flipped bit in a length field in the middle of a segment
 * is reported as corruption instead of looking like a record running past the end of the file
 * (which is what a torn tail looks like, and would be cut silently). A masked copy catches any
 * flip in either word and rejects zero-filled space, at a fraction of a second CRC's cost.
 *
 * Payloads start with a kind byte:
 *   1 entry:     u8 kind | u8 entryType | u64 index | u64 term | u64 timestampMs | data...
 *   2 hardState: u8 kind | u64 term | u64 commitIndex | u8 hasVote | votedFor utf8...
 *   3 truncate:  u8 kind | u64 nextIndex   -- "the next entry is nextIndex": drops entries
 *                >= nextIndex (a conflicting suffix replaced by a new leader's entries).
 *   4 snapshot:  u8 kind | u64 index | u64 term  -- the log now starts after this snapshot: keep
 *                the suffix if the entry at index has this term, else drop everything.
 */
import { crc32 } from 'node:zlib';
import { assert, assertNever } from '../raft/assert.js';
import type { EntryType, HardState, LogEntry, LogIndex, Term } from '../raft/types.js';

/** Frame header bytes: length, length check, payload CRC. */
export const frameHeaderBytes = 12;
/** XORed into the length copy, so an all-zero header (unwritten space) never checks out. */
const lengthMask = 0x5a17_c3e9;
/** Largest payload accepted; a bigger length field is corruption (or a torn header). */
export const walRecordBytesMax = 64 * 1024 * 1024;

/** One decoded WAL record. */
export type WalRecord =
  | { readonly kind: 'entry'; readonly entry: LogEntry }
  | { readonly kind: 'hardState'; readonly hardState: HardState }
  | { readonly kind: 'truncate'; readonly nextIndex: LogIndex }
  | { readonly kind: 'snapshot'; readonly index: LogIndex; readonly term: Term };

const kindEntry = 1;
const kindHardState = 2;
const kindTruncate = 3;
const kindSnapshot = 4;

const entryTypes: readonly EntryType[] = ['command', 'noop', 'config'];

function entryTypeCode(type: EntryType): number {
  switch (type) {
    case 'command':
      return 0;
    case 'noop':
      return 1;
    case 'config':
      return 2;
    default:
      return assertNever(type);
  }
}

const two32 = 0x1_0000_0000;

function writeU64(buf: Buffer, value: number, offset: number): void {
  // Hot path: the message is built only on failure.
  if (!(Number.isSafeInteger(value) && value >= 0)) assert(false, `WAL u64 field out of range: ${value}`);
  buf.writeUInt32LE(value % two32, offset);
  buf.writeUInt32LE(Math.floor(value / two32), offset + 4);
}

function readU64(buf: Buffer, offset: number): number {
  return buf.readUInt32LE(offset) + buf.readUInt32LE(offset + 4) * two32;
}

/** Allocates a frame for a payload of `payloadBytes`; write the payload at frameHeaderBytes. */
function allocFrame(payloadBytes: number): Buffer {
  if (!(payloadBytes > 0 && payloadBytes <= walRecordBytesMax)) assert(false, `WAL payload size ${payloadBytes}`);
  return Buffer.allocUnsafe(frameHeaderBytes + payloadBytes);
}

/** Fills in the header of a frame whose payload is written (one allocation per record). */
function sealFrame(out: Buffer): Buffer {
  out.writeUInt32LE(out.length - frameHeaderBytes, 0);
  out.writeUInt32LE(((out.length - frameHeaderBytes) ^ lengthMask) >>> 0, 4);
  out.writeUInt32LE(crc32(out.subarray(frameHeaderBytes)), 8);
  return out;
}

const h = frameHeaderBytes;

/** Encodes a record as a complete frame. */
export function encodeRecord(record: WalRecord): Buffer {
  switch (record.kind) {
    case 'entry': {
      const e = record.entry;
      const p = allocFrame(2 + 24 + e.data.length);
      p.writeUInt8(kindEntry, h);
      p.writeUInt8(entryTypeCode(e.type), h + 1);
      writeU64(p, e.index, h + 2);
      writeU64(p, e.term, h + 10);
      writeU64(p, e.timestampMs, h + 18);
      p.set(e.data, h + 26);
      return sealFrame(p);
    }
    case 'hardState': {
      const hs = record.hardState;
      const vote = hs.votedFor === null ? Buffer.alloc(0) : Buffer.from(hs.votedFor, 'utf8');
      const p = allocFrame(1 + 16 + 1 + vote.length);
      p.writeUInt8(kindHardState, h);
      writeU64(p, hs.term, h + 1);
      writeU64(p, hs.commitIndex, h + 9);
      p.writeUInt8(hs.votedFor === null ? 0 : 1, h + 17);
      vote.copy(p, h + 18);
      return sealFrame(p);
    }
    case 'truncate': {
      const p = allocFrame(9);
      p.writeUInt8(kindTruncate, h);
      writeU64(p, record.nextIndex, h + 1);
      return sealFrame(p);
    }
    case 'snapshot': {
      const p = allocFrame(17);
      p.writeUInt8(kindSnapshot, h);
      writeU64(p, record.index, h + 1);
      writeU64(p, record.term, h + 9);
      return sealFrame(p);
    }
    default:
      return assertNever(record);
  }
}

/** Decodes a payload whose CRC already matched; returns a reason string if it is malformed. */
export function decodePayload(p: Buffer): WalRecord | string {
  switch (p.readUInt8(0)) {
    case kindEntry: {
      if (p.length < 26) return `entry payload too short (${p.length})`;
      const type = entryTypes[p.readUInt8(1)];
      if (type === undefined) return `unknown entry type ${p.readUInt8(1)}`;
      // Copy the data out: a view would pin the whole segment buffer in memory.
      const entry: LogEntry = {
        index: readU64(p, 2),
        term: readU64(p, 10),
        timestampMs: readU64(p, 18),
        type,
        data: new Uint8Array(p.subarray(26)),
      };
      return { kind: 'entry', entry };
    }
    case kindHardState: {
      if (p.length < 18) return `hardState payload too short (${p.length})`;
      const hasVote = p.readUInt8(17) === 1;
      const hardState: HardState = {
        term: readU64(p, 1),
        commitIndex: readU64(p, 9),
        votedFor: hasVote ? p.subarray(18).toString('utf8') : null,
      };
      return { kind: 'hardState', hardState };
    }
    case kindTruncate:
      if (p.length !== 9) return `truncate payload size ${p.length}`;
      return { kind: 'truncate', nextIndex: readU64(p, 1) };
    case kindSnapshot:
      if (p.length !== 17) return `snapshot payload size ${p.length}`;
      return { kind: 'snapshot', index: readU64(p, 1), term: readU64(p, 9) };
    default:
      return `unknown record kind ${p.readUInt8(0)}`;
  }
}

/** What scanning one frame at an offset found. */
export type FrameScan =
  | { readonly kind: 'record'; readonly record: WalRecord; readonly end: number }
  /** Fewer bytes than a header or than the header's length: a write cut short. */
  | { readonly kind: 'partial'; readonly reason: string }
  /** The bytes are all there but a check failed. */
  | { readonly kind: 'bad'; readonly reason: string; readonly end: number | null };

/** Reads the frame at `offset` in `buf` (which ends at the end of the file). */
export function scanFrame(buf: Buffer, offset: number): FrameScan {
  const left = buf.length - offset;
  if (left < frameHeaderBytes) return { kind: 'partial', reason: `${left} header bytes of ${frameHeaderBytes}` };
  const length = buf.readUInt32LE(offset);
  if (buf.readUInt32LE(offset + 4) !== (length ^ lengthMask) >>> 0) {
    return { kind: 'bad', reason: 'length check mismatch', end: null };
  }
  if (length === 0 || length > walRecordBytesMax) {
    return { kind: 'bad', reason: `record length ${length} out of range`, end: null };
  }
  const end = offset + frameHeaderBytes + length;
  if (end > buf.length) return { kind: 'partial', reason: `record of ${length} bytes runs past end of file` };
  const payload = buf.subarray(offset + frameHeaderBytes, end);
  if (buf.readUInt32LE(offset + 8) !== crc32(payload)) return { kind: 'bad', reason: 'payload CRC mismatch', end };
  const decoded = decodePayload(payload);
  if (typeof decoded === 'string') return { kind: 'bad', reason: decoded, end };
  return { kind: 'record', record: decoded, end };
}
