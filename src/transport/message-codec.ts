/**
 * The Raft message union (`src/raft/types.ts`) <-> the generated peer-service types
 * (`src/gen/raftex/v1/raft.ts`). This file is the only place the two vocabularies meet, so the
 * core never sees protobuf defaults and the wire never sees core-only shapes.
 *
 * Encoding is of our own messages: a bad value there is a bug, so it asserts. Decoding is of
 * whatever a peer sent: a bad value there is the peer's fault (or a version skew), so it throws
 * `MessageDecodeError`, which the server maps to INVALID_ARGUMENT and the client counts as an
 * error. Neither path lets a malformed message reach the core, which asserts on its invariants.
 */
import { assert, assertNever } from '../raft/assert.js';
import type {
  AppendEntries,
  AppendEntriesResponse,
  EntryType,
  InstallSnapshot,
  InstallSnapshotResponse,
  LogEntry,
  Message,
  NodeId,
  RequestVote,
  RequestVoteResponse,
  SnapshotMeta,
  TimeoutNow,
} from '../raft/types.js';
import {
  decodeMembership,
  encodeMembership,
  learnerIds,
  MembershipDecodeError,
  voterIds,
  type Membership,
} from '../raft/membership.js';
import * as wire from '../gen/raftex/v1/raft.js';

/** A message from a peer that cannot be a valid Raft message. Not a bug of ours: reject the RPC. */
export class MessageDecodeError extends Error {
  override readonly name = 'MessageDecodeError';
}

/** One Raft message as the generated request/response type of the RPC that carries it. */
export type WireMessage =
  | { readonly type: 'requestVote'; readonly value: wire.RequestVoteRequest }
  | { readonly type: 'requestVoteResponse'; readonly value: wire.RequestVoteResponse }
  | { readonly type: 'appendEntries'; readonly value: wire.AppendEntriesRequest }
  | { readonly type: 'appendEntriesResponse'; readonly value: wire.AppendEntriesResponse }
  /** The header of a snapshot transfer (a chunk without data). */
  | { readonly type: 'installSnapshot'; readonly value: wire.InstallSnapshotRequest }
  | { readonly type: 'installSnapshotResponse'; readonly value: wire.InstallSnapshotResponse }
  | { readonly type: 'timeoutNow'; readonly value: wire.TimeoutNowRequest };

/** Node ids as the contract fixes them; checked on decode so a peer cannot smuggle odd ids in. */
const nodeIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

/** Message union -> generated type, tagged with the message type. Exhaustive over the union. */
export function messageToWire(message: Message): WireMessage {
  switch (message.type) {
    case 'requestVote':
      return { type: message.type, value: requestVoteToWire(message) };
    case 'requestVoteResponse':
      return { type: message.type, value: requestVoteResponseToWire(message) };
    case 'appendEntries':
      return { type: message.type, value: appendEntriesToWire(message) };
    case 'appendEntriesResponse':
      return { type: message.type, value: appendEntriesResponseToWire(message) };
    case 'installSnapshot':
      return { type: message.type, value: installSnapshotToWire(message, 0, new Uint8Array(0), 0) };
    case 'installSnapshotResponse':
      return { type: message.type, value: installSnapshotResponseToWire(message) };
    case 'timeoutNow':
      return { type: message.type, value: timeoutNowToWire(message) };
    default:
      return assertNever(message);
  }
}

/** Generated type -> message union. Throws MessageDecodeError on anything the core must not see. */
export function messageFromWire(wireMessage: WireMessage): Message {
  switch (wireMessage.type) {
    case 'requestVote':
      return requestVoteFromWire(wireMessage.value);
    case 'requestVoteResponse':
      return requestVoteResponseFromWire(wireMessage.value);
    case 'appendEntries':
      return appendEntriesFromWire(wireMessage.value);
    case 'appendEntriesResponse':
      return appendEntriesResponseFromWire(wireMessage.value);
    case 'installSnapshot':
      return installSnapshotFromWire(wireMessage.value);
    case 'installSnapshotResponse':
      return installSnapshotResponseFromWire(wireMessage.value);
    case 'timeoutNow':
      return timeoutNowFromWire(wireMessage.value);
    default:
      return assertNever(wireMessage);
  }
}

export function requestVoteToWire(m: RequestVote): wire.RequestVoteRequest {
  return {
    from: encodeId(m.from),
    to: encodeId(m.to),
    term: encodeUint(m.term, 'term'),
    lastLogIndex: encodeUint(m.lastLogIndex, 'lastLogIndex'),
    lastLogTerm: encodeUint(m.lastLogTerm, 'lastLogTerm'),
    preVote: m.preVote,
    leadershipTransfer: m.leadershipTransfer === true,
  };
}

export function requestVoteFromWire(w: wire.RequestVoteRequest): RequestVote {
  return {
    type: 'requestVote',
    from: decodeId(w.from, 'from'),
    to: decodeId(w.to, 'to'),
    term: decodeUint(w.term, 'term'),
    lastLogIndex: decodeUint(w.lastLogIndex, 'lastLogIndex'),
    lastLogTerm: decodeUint(w.lastLogTerm, 'lastLogTerm'),
    preVote: w.preVote,
    // Only when set: an absent flag is the common case and keeps the message as before.
    ...(w.leadershipTransfer ? { leadershipTransfer: true } : {}),
  };
}

export function requestVoteResponseToWire(m: RequestVoteResponse): wire.RequestVoteResponse {
  return {
    from: encodeId(m.from),
    to: encodeId(m.to),
    term: encodeUint(m.term, 'term'),
    voteGranted: m.voteGranted,
    preVote: m.preVote,
  };
}

export function requestVoteResponseFromWire(w: wire.RequestVoteResponse): RequestVoteResponse {
  return {
    type: 'requestVoteResponse',
    from: decodeId(w.from, 'from'),
    to: decodeId(w.to, 'to'),
    term: decodeUint(w.term, 'term'),
    voteGranted: w.voteGranted,
    preVote: w.preVote,
  };
}

export function appendEntriesToWire(m: AppendEntries): wire.AppendEntriesRequest {
  return {
    from: encodeId(m.from),
    to: encodeId(m.to),
    term: encodeUint(m.term, 'term'),
    prevLogIndex: encodeUint(m.prevLogIndex, 'prevLogIndex'),
    prevLogTerm: encodeUint(m.prevLogTerm, 'prevLogTerm'),
    entries: m.entries.map(entryToWire),
    leaderCommit: encodeUint(m.leaderCommit, 'leaderCommit'),
    round: encodeUint(m.round, 'round'),
  };
}

export function appendEntriesFromWire(w: wire.AppendEntriesRequest): AppendEntries {
  const prevLogIndex = decodeUint(w.prevLogIndex, 'prevLogIndex');
  const term = decodeUint(w.term, 'term');
  const entries = w.entries.map(entryFromWire);
  // The core indexes entries positionally from prevLogIndex + 1 and asserts on it; a peer that
  // breaks this is rejected here instead of crashing us.
  entries.forEach((entry, i) => {
    if (entry.index !== prevLogIndex + 1 + i) {
      throw new MessageDecodeError(`entry ${i} has index ${entry.index}, expected ${prevLogIndex + 1 + i}`);
    }
    if (entry.term > term) {
      throw new MessageDecodeError(`entry ${entry.index} has term ${entry.term} above the message term ${term}`);
    }
  });
  return {
    type: 'appendEntries',
    from: decodeId(w.from, 'from'),
    to: decodeId(w.to, 'to'),
    term,
    prevLogIndex,
    prevLogTerm: decodeUint(w.prevLogTerm, 'prevLogTerm'),
    entries,
    leaderCommit: decodeUint(w.leaderCommit, 'leaderCommit'),
    round: decodeUint(w.round, 'round'),
  };
}

export function appendEntriesResponseToWire(m: AppendEntriesResponse): wire.AppendEntriesResponse {
  return {
    from: encodeId(m.from),
    to: encodeId(m.to),
    term: encodeUint(m.term, 'term'),
    success: m.success,
    matchIndex: encodeUint(m.matchIndex, 'matchIndex'),
    conflictTerm: encodeUint(m.conflictTerm, 'conflictTerm'),
    conflictIndex: encodeUint(m.conflictIndex, 'conflictIndex'),
    prevLogIndex: encodeUint(m.prevLogIndex, 'prevLogIndex'),
    entryCount: encodeUint(m.entryCount, 'entryCount'),
    round: encodeUint(m.round, 'round'),
  };
}

export function appendEntriesResponseFromWire(w: wire.AppendEntriesResponse): AppendEntriesResponse {
  return {
    type: 'appendEntriesResponse',
    from: decodeId(w.from, 'from'),
    to: decodeId(w.to, 'to'),
    term: decodeUint(w.term, 'term'),
    success: w.success,
    matchIndex: decodeUint(w.matchIndex, 'matchIndex'),
    conflictTerm: decodeUint(w.conflictTerm, 'conflictTerm'),
    conflictIndex: decodeUint(w.conflictIndex, 'conflictIndex'),
    prevLogIndex: decodeUint(w.prevLogIndex, 'prevLogIndex'),
    entryCount: decodeUint(w.entryCount, 'entryCount'),
    round: decodeUint(w.round, 'round'),
  };
}

/**
 * One chunk of a snapshot transfer: the header (from, to, term, meta) and `data` at `offset` of
 * a snapshot of `totalBytes`.
 */
export function installSnapshotToWire(m: InstallSnapshot, offset: number, data: Uint8Array, totalBytes: number): wire.InstallSnapshotRequest {
  return {
    from: encodeId(m.from),
    to: encodeId(m.to),
    term: encodeUint(m.term, 'term'),
    meta: snapshotMetaToWire(m.meta),
    offset: encodeUint(offset, 'offset'),
    data: Buffer.from(data.buffer, data.byteOffset, data.byteLength),
    totalBytes: encodeUint(totalBytes, 'totalBytes'),
  };
}

/** The message a chunk's header stands for (its data travels separately). */
export function installSnapshotFromWire(w: wire.InstallSnapshotRequest): InstallSnapshot {
  if (w.meta === undefined) throw new MessageDecodeError('installSnapshot: meta missing');
  return {
    type: 'installSnapshot',
    from: decodeId(w.from, 'from'),
    to: decodeId(w.to, 'to'),
    term: decodeUint(w.term, 'term'),
    meta: snapshotMetaFromWire(w.meta),
  };
}

export function snapshotMetaToWire(meta: SnapshotMeta): wire.SnapshotMeta {
  const membership = meta.membership;
  return {
    index: encodeUint(meta.index, 'meta.index'),
    term: encodeUint(meta.term, 'meta.term'),
    voters: meta.voters.map(encodeId),
    learners: meta.learners.map(encodeId),
    timestampMs: encodeUint(meta.timestampMs ?? 0, 'meta.timestampMs'),
    membership: membership === undefined ? Buffer.alloc(0) : Buffer.from(encodeMembership(membership)),
  };
}

/**
 * The meta of a snapshot a peer sent. Its membership (with addresses) is what the follower will
 * run with after installing it, so bytes that do not decode reject the whole transfer; empty
 * bytes (a peer that predates membership) leave it absent and the core falls back to the ids.
 */
export function snapshotMetaFromWire(w: wire.SnapshotMeta): SnapshotMeta {
  const voters = w.voters.map((id) => decodeId(id, 'meta.voters'));
  const learners = w.learners.map((id) => decodeId(id, 'meta.learners'));
  let membership: Membership | undefined;
  if (w.membership.byteLength > 0) {
    try {
      membership = decodeMembership(w.membership);
    } catch (e) {
      if (!(e instanceof MembershipDecodeError)) throw e;
      throw new MessageDecodeError(`meta.membership: ${e.message}`);
    }
    if (!sameIds(voterIds(membership), voters) || !sameIds(learnerIds(membership), learners)) {
      throw new MessageDecodeError('meta.membership does not name the same voters and learners as meta');
    }
  }
  return {
    index: decodeUint(w.index, 'meta.index'),
    term: decodeUint(w.term, 'meta.term'),
    voters,
    learners,
    timestampMs: decodeUint(w.timestampMs, 'meta.timestampMs'),
    ...(membership === undefined ? {} : { membership }),
  };
}

function sameIds(a: readonly NodeId[], b: readonly NodeId[]): boolean {
  const x = [...a].sort();
  const y = [...b].sort();
  return x.length === y.length && x.every((id, i) => id === y[i]);
}

export function installSnapshotResponseToWire(m: InstallSnapshotResponse): wire.InstallSnapshotResponse {
  return {
    from: encodeId(m.from),
    to: encodeId(m.to),
    term: encodeUint(m.term, 'term'),
    success: m.success,
    snapshotIndex: encodeUint(m.snapshotIndex, 'snapshotIndex'),
    matchIndex: encodeUint(m.matchIndex, 'matchIndex'),
  };
}

export function installSnapshotResponseFromWire(w: wire.InstallSnapshotResponse): InstallSnapshotResponse {
  return {
    type: 'installSnapshotResponse',
    from: decodeId(w.from, 'from'),
    to: decodeId(w.to, 'to'),
    term: decodeUint(w.term, 'term'),
    success: w.success,
    snapshotIndex: decodeUint(w.snapshotIndex, 'snapshotIndex'),
    matchIndex: decodeUint(w.matchIndex, 'matchIndex'),
  };
}

export function timeoutNowToWire(m: TimeoutNow): wire.TimeoutNowRequest {
  return { from: encodeId(m.from), to: encodeId(m.to), term: encodeUint(m.term, 'term') };
}

export function timeoutNowFromWire(w: wire.TimeoutNowRequest): TimeoutNow {
  return { type: 'timeoutNow', from: decodeId(w.from, 'from'), to: decodeId(w.to, 'to'), term: decodeUint(w.term, 'term') };
}

export function entryToWire(e: LogEntry): wire.LogEntry {
  // `if` first: these run per field of every message, and the message is only built on failure.
  if (!Number.isSafeInteger(e.timestampMs)) assert(false, `entry ${e.index}: timestampMs ${e.timestampMs} is not a safe integer`);
  return {
    index: encodeUint(e.index, 'entry.index'),
    term: encodeUint(e.term, 'entry.term'),
    type: entryTypeToWire(e.type),
    timestampMs: e.timestampMs,
    // A view, not a copy: the encoder reads the bytes once while serializing.
    data: Buffer.from(e.data.buffer, e.data.byteOffset, e.data.byteLength),
  };
}

export function entryFromWire(w: wire.LogEntry): LogEntry {
  return {
    index: decodeUint(w.index, 'entry.index'),
    term: decodeUint(w.term, 'entry.term'),
    type: entryTypeFromWire(w.type),
    timestampMs: decodeInt(w.timestampMs, 'entry.timestampMs'),
    // The generated decoder already copied the bytes out of the receive buffer; re-view them as a
    // plain Uint8Array so the core and storage never depend on Buffer.
    data: new Uint8Array(w.data.buffer, w.data.byteOffset, w.data.byteLength),
  };
}

export function entryTypeToWire(type: EntryType): wire.EntryType {
  switch (type) {
    case 'command':
      return wire.EntryType.ENTRY_TYPE_COMMAND;
    case 'noop':
      return wire.EntryType.ENTRY_TYPE_NOOP;
    case 'config':
      return wire.EntryType.ENTRY_TYPE_CONFIG;
    default:
      return assertNever(type);
  }
}

export function entryTypeFromWire(type: wire.EntryType): EntryType {
  switch (type) {
    case wire.EntryType.ENTRY_TYPE_COMMAND:
      return 'command';
    case wire.EntryType.ENTRY_TYPE_NOOP:
      return 'noop';
    case wire.EntryType.ENTRY_TYPE_CONFIG:
      return 'config';
    case wire.EntryType.ENTRY_TYPE_UNSPECIFIED:
    case wire.EntryType.UNRECOGNIZED:
      throw new MessageDecodeError(`log entry type ${type} is not a known entry type`);
    default:
      // Unknown numeric values from a newer peer arrive as plain numbers outside the enum.
      throw new MessageDecodeError(`log entry type ${String(type)} is not a known entry type`);
  }
}

function encodeId(id: NodeId): string {
  if (!nodeIdPattern.test(id)) assert(false, `node id ${JSON.stringify(id)} is not a valid node id`);
  return id;
}

function decodeId(id: string, field: string): NodeId {
  if (!nodeIdPattern.test(id)) throw new MessageDecodeError(`${field}: ${JSON.stringify(id)} is not a valid node id`);
  return id;
}

function encodeUint(value: number, field: string): number {
  if (!(Number.isSafeInteger(value) && value >= 0)) assert(false, `${field}: ${value} is not a non-negative safe integer`);
  return value;
}

function decodeUint(value: number, field: string): number {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new MessageDecodeError(`${field}: ${value} is not a non-negative safe integer`);
  }
  return value;
}

function decodeInt(value: number, field: string): number {
  if (!Number.isSafeInteger(value)) throw new MessageDecodeError(`${field}: ${value} is not a safe integer`);
  return value;
}
