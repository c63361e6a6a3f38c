/**
 * Snapshot transfer over the client-streaming InstallSnapshot RPC. The core only says "install
 * snapshot (index, term)"; the sender streams the stored snapshot's bytes in chunks of at most
 * `snapshotChunkBytesMax`, honouring the stream's back-pressure, and the receiver buffers them
 * (bounded by `snapshotBytesMax`), checks that every chunk carries the same header and follows
 * the previous one, and hands the whole snapshot to the node once the stream ends. A broken
 * stream delivers nothing: the leader hears a failure and starts a fresh transfer later.
 */
import type * as grpc from '@grpc/grpc-js';
import { malformedRequestStatus } from './malformed-request-guard.js';
import type { InstallSnapshot, InstallSnapshotResponse, SnapshotMeta } from '../raft/types.js';
import type {
  InstallSnapshotRequest as WireInstallSnapshotRequest,
  InstallSnapshotResponse as WireInstallSnapshotResponse,
  RaftServiceClient,
} from '../gen/raftex/v1/raft.js';
import {
  installSnapshotFromWire,
  installSnapshotResponseFromWire,
  installSnapshotToWire,
  MessageDecodeError,
} from './message-codec.js';

/** Largest chunk of snapshot data in one stream message (well under the channel's message limit). */
export const snapshotChunkBytesMax = 1024 * 1024;
/** Largest snapshot a follower accepts (it is buffered whole before it is installed). */
export const snapshotBytesMax = 2 * 1024 * 1024 * 1024 - 1;
/** Deadline of a whole transfer: past it the stream is cut and the leader tries again. */
export const snapshotTransferDeadlineMs = 5 * 60 * 1000;

/** A snapshot as the store holds it (structural: the transport does not import the storage layer). */
export interface SnapshotBytes {
  readonly meta: SnapshotMeta;
  readonly data: Uint8Array;
}

/** A snapshot that arrived whole: the core's message and the bytes it stands for. */
export interface ReceivedSnapshot {
  readonly message: InstallSnapshot;
  readonly data: Uint8Array;
}

/**
 * Streams `snapshot` to the peer behind `client` as the answer to the core's `message` (whose
 * meta is replaced by the stored snapshot's: the store may already hold a newer one, which the
 * leader accepts as well). Resolves with the follower's answer; rejects when the stream fails.
 */
export function streamSnapshot(
  client: RaftServiceClient,
  message: InstallSnapshot,
  snapshot: SnapshotBytes,
  metadata: grpc.Metadata,
  deadlineMs: number = snapshotTransferDeadlineMs,
): Promise<InstallSnapshotResponse> {
  const header: InstallSnapshot = { ...message, meta: snapshot.meta };
  const data = snapshot.data;
  return new Promise((resolve, reject) => {
    const call = client.installSnapshot(metadata, { deadline: Date.now() + deadlineMs }, (error, reply) => {
      if (error) {
        reject(error);
        return;
      }
      try {
        resolve(installSnapshotResponseFromWire(reply));
      } catch (e) {
        reject(e as Error);
      }
    });
    let offset = 0;
    const pump = (): void => {
      // At least one chunk, so an empty snapshot still carries its header.
      do {
        const end = Math.min(data.byteLength, offset + snapshotChunkBytesMax);
        const ok = call.write(installSnapshotToWire(header, offset, data.subarray(offset, end), data.byteLength));
        offset = end;
        if (offset >= data.byteLength) {
          call.end();
          return;
        }
        if (!ok) {
          call.once('drain', pump);
          return;
        }
      } while (offset < data.byteLength);
    };
    call.on('error', () => undefined); // The callback reports it.
    pump();
  });
}

/** Why a received stream was refused (mapped to INVALID_ARGUMENT / RESOURCE_EXHAUSTED). */
export class SnapshotStreamError extends Error {
  override readonly name = 'SnapshotStreamError';
  constructor(readonly code: grpc.status, message: string) {
    super(message);
  }
}

function sameHeader(a: InstallSnapshot, b: InstallSnapshot): boolean {
  return a.from === b.from && a.to === b.to && a.term === b.term && a.meta.index === b.meta.index && a.meta.term === b.meta.term;
}

/**
 * Reads a whole InstallSnapshot stream. Rejects with SnapshotStreamError when a chunk does not
 * decode, disagrees with the first one's header, is out of order or the total is too large.
 */
export function receiveSnapshot(
  call: grpc.ServerReadableStream<WireInstallSnapshotRequest, WireInstallSnapshotResponse>,
  bytesMax: number = snapshotBytesMax,
): Promise<ReceivedSnapshot> {
  const invalidArgument = 3;
  const resourceExhausted = 8;
  return new Promise((resolve, reject) => {
    let header: InstallSnapshot | null = null;
    let buffer: Buffer | null = null;
    let received = 0;
    let failed = false;
    const fail = (code: number, why: string): void => {
      if (failed) return;
      failed = true;
      buffer = null;
      reject(new SnapshotStreamError(code, why));
    };
    call.on('data', (chunk: WireInstallSnapshotRequest) => {
      if (failed) return;
      const malformed = malformedRequestStatus(chunk);
      if (malformed !== null) {
        fail(invalidArgument, malformed.details ?? 'malformed chunk');
        return;
      }
      let message: InstallSnapshot;
      try {
        message = installSnapshotFromWire(chunk);
      } catch (e) {
        if (!(e instanceof MessageDecodeError)) throw e;
        fail(invalidArgument, e.message);
        return;
      }
      if (header === null) {
        if (chunk.totalBytes > bytesMax) {
          fail(resourceExhausted, `snapshot of ${chunk.totalBytes} bytes exceeds ${bytesMax}`);
          return;
        }
        header = message;
        buffer = Buffer.allocUnsafe(chunk.totalBytes);
      } else if (!sameHeader(header, message)) {
        fail(invalidArgument, 'snapshot chunks disagree on their header');
        return;
      }
      if (chunk.offset !== received || buffer === null || received + chunk.data.byteLength > buffer.byteLength) {
        fail(invalidArgument, `snapshot chunk at ${chunk.offset} (${chunk.data.byteLength} bytes) does not follow ${received}`);
        return;
      }
      buffer.set(chunk.data, received);
      received += chunk.data.byteLength;
    });
    call.on('error', (error: Error) => fail(1, `snapshot stream broke: ${error.message}`));
    call.on('end', () => {
      if (failed) return;
      if (header === null || buffer === null) {
        fail(invalidArgument, 'empty snapshot stream');
        return;
      }
      if (received !== buffer.byteLength) {
        fail(invalidArgument, `snapshot stream ended after ${received} of ${buffer.byteLength} bytes`);
        return;
      }
      resolve({ message: header, data: new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) });
    });
  });
}
