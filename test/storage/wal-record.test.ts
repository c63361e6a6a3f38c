import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EntryType } from '../../src/raft/types.js';
import { encodeRecord, scanFrame, type WalRecord } from '../../src/storage/wal-record.js';
import { testSeed } from './storage-fixtures.js';

const u64 = fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER });
const record: fc.Arbitrary<WalRecord> = fc.oneof(
  fc.record({
    index: u64,
    term: u64,
    type: fc.constantFrom<EntryType>('command', 'noop', 'config'),
    timestampMs: u64,
    data: fc.uint8Array({ maxLength: 300 }),
  }).map((entry) => ({ kind: 'entry' as const, entry })),
  fc.record({ term: u64, votedFor: fc.option(fc.string({ minLength: 1, maxLength: 64 })), commitIndex: u64 }).map((hardState) => ({ kind: 'hardState' as const, hardState })),
  u64.map((nextIndex) => ({ kind: 'truncate' as const, nextIndex })),
  fc.record({ index: u64, term: u64 }).map((s) => ({ kind: 'snapshot' as const, ...s })),
);

function normalize(r: WalRecord): unknown {
  return r.kind === 'entry' ? { ...r, entry: { ...r.entry, data: Array.from(r.entry.data) } } : r;
}

describe('WAL record codec', () => {
  const seed = testSeed(7);

  it('round-trips every record kind through a frame', () => {
    fc.assert(
      fc.property(record, (r) => {
        const buf = encodeRecord(r);
        const scan = scanFrame(buf, 0);
        expect(scan.kind).toBe('record');
        if (scan.kind !== 'record') return;
        expect(scan.end).toBe(buf.length);
        expect(normalize(scan.record)).toEqual(normalize(r));
      }),
      { seed, numRuns: 500 },
    );
  });

  it('any single bit flip is detected (never decodes to a different record)', () => {
    fc.assert(
      fc.property(record, fc.nat(), fc.integer({ min: 0, max: 7 }), (r, at, bit) => {
        const buf = encodeRecord(r);
        const pos = at % buf.length;
        buf[pos] = buf[pos]! ^ (1 << bit);
        const scan = scanFrame(buf, 0);
        expect(scan.kind).not.toBe('record');
      }),
      { seed, numRuns: 1000 },
    );
  });

  it('a cut frame is partial, never a record', () => {
    const buf = encodeRecord({ kind: 'truncate', nextIndex: 5 });
    for (let len = 0; len < buf.length; len++) {
      const scan = scanFrame(buf.subarray(0, len), 0);
      expect(scan.kind, `len ${len}`).toBe('partial');
    }
  });

  it('rejects an unsafe integer field (a bug, not data)', () => {
    expect(() => encodeRecord({ kind: 'truncate', nextIndex: 2 ** 53 })).toThrow(/out of range/);
  });
});
