import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as wire from '../../src/gen/raftex/v1/raft.js';
import type { LogEntry, Message } from '../../src/raft/types.js';
import { AssertionError } from '../../src/raft/assert.js';
import {
  appendEntriesFromWire,
  appendEntriesToWire,
  entryTypeFromWire,
  MessageDecodeError,
  messageFromWire,
  messageToWire,
  requestVoteFromWire,
  type WireMessage,
} from '../../src/transport/message-codec.js';

/** Randomized: SEED=<n> replays a failure; the seed is printed in the failure message. */
const seed = Number(process.env.SEED ?? 20240501);
const numRuns = 300;

const nodeId = fc.stringMatching(/^[A-Za-z0-9._:-]{1,64}$/);
const uint = fc.nat({ max: Number.MAX_SAFE_INTEGER });
// Small values exercise the proto3 "0 is absent" path; big ones the 64-bit varints.
const uintMix = fc.oneof(fc.constant(0), fc.nat({ max: 1000 }), uint);
const timestampMs = fc.oneof(fc.constant(0), fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }), fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER }));
const entryType = fc.constantFrom('command' as const, 'noop' as const, 'config' as const);

const requestVote = fc.record({
  type: fc.constant('requestVote' as const),
  from: nodeId, to: nodeId, term: uintMix, lastLogIndex: uintMix, lastLogTerm: uintMix, preVote: fc.boolean(),
});
const requestVoteResponse = fc.record({
  type: fc.constant('requestVoteResponse' as const),
  from: nodeId, to: nodeId, term: uintMix, voteGranted: fc.boolean(), preVote: fc.boolean(),
});
const appendEntries = fc
  .record({
    from: nodeId, to: nodeId,
    term: fc.nat({ max: 1_000_000 }),
    prevLogIndex: fc.nat({ max: 1_000_000_000 }),
    prevLogTerm: uintMix,
    leaderCommit: uintMix,
    round: uintMix,
    entries: fc.array(fc.record({ type: entryType, timestampMs, data: fc.uint8Array({ maxLength: 64 }), termBelow: fc.nat() }), { maxLength: 8 }),
  })
  .map(({ entries, ...m }): Message => ({
    type: 'appendEntries',
    ...m,
    entries: entries.map((e, i): LogEntry => ({
      index: m.prevLogIndex + 1 + i,
      term: m.term === 0 ? 0 : e.termBelow % (m.term + 1),
      type: e.type,
      timestampMs: e.timestampMs,
      data: e.data,
    })),
  }));
const appendEntriesResponse = fc.record({
  type: fc.constant('appendEntriesResponse' as const),
  from: nodeId, to: nodeId, term: uintMix, success: fc.boolean(), matchIndex: uintMix, conflictTerm: uintMix,
  conflictIndex: uintMix, prevLogIndex: uintMix, entryCount: uintMix, round: uintMix,
});
const message: fc.Arbitrary<Message> = fc.oneof(requestVote, requestVoteResponse, appendEntries, appendEntriesResponse);

/** Through the real protobuf bytes, as the RPC would carry it. */
function viaBytes(w: WireMessage): WireMessage {
  switch (w.type) {
    case 'requestVote':
      return { type: w.type, value: wire.RequestVoteRequest.decode(wire.RequestVoteRequest.encode(w.value).finish()) };
    case 'requestVoteResponse':
      return { type: w.type, value: wire.RequestVoteResponse.decode(wire.RequestVoteResponse.encode(w.value).finish()) };
    case 'appendEntries':
      return { type: w.type, value: wire.AppendEntriesRequest.decode(wire.AppendEntriesRequest.encode(w.value).finish()) };
    case 'appendEntriesResponse':
      return { type: w.type, value: wire.AppendEntriesResponse.decode(wire.AppendEntriesResponse.encode(w.value).finish()) };
    case 'installSnapshot':
      return { type: w.type, value: wire.InstallSnapshotRequest.decode(wire.InstallSnapshotRequest.encode(w.value).finish()) };
    case 'installSnapshotResponse':
      return { type: w.type, value: wire.InstallSnapshotResponse.decode(wire.InstallSnapshotResponse.encode(w.value).finish()) };
    case 'timeoutNow':
      return { type: w.type, value: wire.TimeoutNowRequest.decode(wire.TimeoutNowRequest.encode(w.value).finish()) };
    default: {
      const never: never = w;
      throw new Error(`unknown wire message ${JSON.stringify(never)}`);
    }
  }
}

/** Entry data as plain arrays so Buffer vs Uint8Array never decides equality. */
function normalized(m: Message): unknown {
  return m.type === 'appendEntries' ? { ...m, entries: m.entries.map((e) => ({ ...e, data: [...e.data] })) } : m;
}

describe('message codec', () => {
  it('round-trips every message type through the generated types', () => {
    fc.assert(
      fc.property(message, (m) => {
        expect(normalized(messageFromWire(messageToWire(m)))).toEqual(normalized(m));
      }),
      { seed, numRuns },
    );
  });

  it('round-trips every message type through protobuf bytes', () => {
    fc.assert(
      fc.property(message, (m) => {
        const back = messageFromWire(viaBytes(messageToWire(m)));
        expect(normalized(back)).toEqual(normalized(m));
        if (back.type === 'appendEntries') {
          for (const e of back.entries) expect(Buffer.isBuffer(e.data)).toBe(false);
        }
      }),
      { seed, numRuns },
    );
  });

  it('carries entry type, leader timestamp, data, round and conflict hints exactly', () => {
    const ae: Message = {
      type: 'appendEntries', from: 'n1', to: 'n2', term: 7, prevLogIndex: 41, prevLogTerm: 6, leaderCommit: 40, round: 99,
      entries: [
        { index: 42, term: 6, type: 'command', timestampMs: 1_714_000_000_123, data: new Uint8Array([1, 2, 3]) },
        { index: 43, term: 7, type: 'noop', timestampMs: 1_714_000_000_124, data: new Uint8Array() },
        { index: 44, term: 7, type: 'config', timestampMs: 1_714_000_000_125, data: new Uint8Array([255]) },
      ],
    };
    const w = viaBytes(messageToWire(ae));
    expect(w.type).toBe('appendEntries');
    const req = w.value as wire.AppendEntriesRequest;
    expect(req.entries.map((e) => e.type)).toEqual([wire.EntryType.ENTRY_TYPE_COMMAND, wire.EntryType.ENTRY_TYPE_NOOP, wire.EntryType.ENTRY_TYPE_CONFIG]);
    expect(req.round).toBe(99);
    expect(normalized(messageFromWire(w))).toEqual(normalized(ae));

    const rej: Message = {
      type: 'appendEntriesResponse', from: 'n2', to: 'n1', term: 7, success: false, matchIndex: 0,
      conflictTerm: 5, conflictIndex: 30, prevLogIndex: 41, entryCount: 3, round: 99,
    };
    expect(messageFromWire(viaBytes(messageToWire(rej)))).toEqual(rej);
  });

  it('encodes entry data without copying it', () => {
    const data = new Uint8Array([9, 8, 7]);
    const req = appendEntriesToWire({
      type: 'appendEntries', from: 'a', to: 'b', term: 1, prevLogIndex: 0, prevLogTerm: 0, leaderCommit: 0, round: 0,
      entries: [{ index: 1, term: 1, type: 'command', timestampMs: 1, data }],
    });
    expect(req.entries[0]!.data.buffer).toBe(data.buffer);
  });

  it('rejects malformed peer messages with MessageDecodeError', () => {
    const good = wire.AppendEntriesRequest.fromPartial({
      from: 'n1', to: 'n2', term: 3, prevLogIndex: 10, prevLogTerm: 3,
      entries: [{ index: 11, term: 3, type: wire.EntryType.ENTRY_TYPE_COMMAND, timestampMs: 5, data: Buffer.from([1]) }],
    });
    expect(appendEntriesFromWire(good).entries).toHaveLength(1);
    const bad = (patch: Partial<wire.AppendEntriesRequest>) => () => appendEntriesFromWire({ ...good, ...patch });
    expect(bad({ from: '' })).toThrow(MessageDecodeError);
    expect(bad({ to: 'has space' })).toThrow(MessageDecodeError);
    expect(bad({ entries: [{ ...good.entries[0]!, index: 12 }] })).toThrow(/expected 11/);
    expect(bad({ entries: [{ ...good.entries[0]!, term: 4 }] })).toThrow(/above the message term/);
    expect(bad({ entries: [{ ...good.entries[0]!, type: wire.EntryType.ENTRY_TYPE_UNSPECIFIED }] })).toThrow(MessageDecodeError);
    expect(() => entryTypeFromWire(17 as wire.EntryType)).toThrow(MessageDecodeError);
    expect(() => requestVoteFromWire({ from: 'a', to: 'b', term: -1, lastLogIndex: 0, lastLogTerm: 0, preVote: false, leadershipTransfer: false })).toThrow(MessageDecodeError);
  });

  it('an unknown entry type number from a newer peer survives the bytes and is then rejected', () => {
    const bytes = wire.LogEntry.encode({ index: 1, term: 1, type: 9 as wire.EntryType, timestampMs: 0, data: Buffer.alloc(0) }).finish();
    const decoded = wire.LogEntry.decode(bytes);
    expect(() => entryTypeFromWire(decoded.type)).toThrow(MessageDecodeError);
  });

  it('asserts on our own bad messages instead of sending them', () => {
    expect(() => messageToWire({ type: 'requestVote', from: 'n1', to: 'n2', term: 1.5, lastLogIndex: 0, lastLogTerm: 0, preVote: false }))
      .toThrow(AssertionError);
    expect(() => messageToWire({ type: 'requestVoteResponse', from: '', to: 'n2', term: 1, voteGranted: true, preVote: false }))
      .toThrow(AssertionError);
  });
});
