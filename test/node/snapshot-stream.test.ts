/**
 * The InstallSnapshot transport over real gRPC: a snapshot of several chunks arrives whole and
 * byte-identical, the follower's answer reaches the leader's core, and a transfer that fails
 * (here: a peer that cannot install snapshots) is reported to the core as a failed answer, so
 * the leader retries instead of waiting forever.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { InstallSnapshot, Message } from '../../src/raft/types.js';
import { GrpcServer } from '../../src/transport/grpc-server.js';
import { PeerClients } from '../../src/transport/peer-clients.js';
import { snapshotChunkBytesMax } from '../../src/transport/snapshot-transfer.js';

const meta = { index: 500, term: 3, voters: ['n1', 'n2'], learners: [], timestampMs: 42 };
const request: InstallSnapshot = { type: 'installSnapshot', from: 'n1', to: 'n2', term: 3, meta };

function bytes(count: number, seed: number): Uint8Array {
  const out = new Uint8Array(count);
  let x = seed;
  for (let i = 0; i < count; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

describe('snapshot streaming', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0)) await cleanup();
  });

  async function pair(onSnapshot: ((m: InstallSnapshot, data: Uint8Array) => Promise<Message | null>) | null, data: Uint8Array) {
    const server = new GrpcServer({
      onMessage: () => Promise.resolve(null),
      onReadIndex: () => Promise.resolve({ readIndex: 0, leaderId: '' }),
      ...(onSnapshot === null ? {} : { onSnapshot }),
    }, { selfId: 'n2' });
    const port = await server.start('127.0.0.1:0');
    const received: Message[] = [];
    let resolveReceived: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (resolveReceived = resolve));
    const clients = new PeerClients(new Map([['n2', `127.0.0.1:${port}`]]), (m) => {
      received.push(m);
      resolveReceived();
    }, { selfId: 'n1', loadSnapshot: () => Promise.resolve({ meta, data }) });
    cleanups.push(() => clients.close(), () => server.stop(100));
    return { clients, received, answered };
  }

  it('delivers a multi-chunk snapshot whole and returns the follower answer', async () => {
    const data = bytes(3 * snapshotChunkBytesMax + 12_345, 7);
    let got: { message: InstallSnapshot; data: Uint8Array } | null = null;
    const { clients, received, answered } = await pair((message, payload) => {
      got = { message, data: payload };
      return Promise.resolve({ type: 'installSnapshotResponse', from: 'n2', to: 'n1', term: 3, success: true, snapshotIndex: 500, matchIndex: 500 });
    }, data);
    clients.send(request);
    await answered;
    expect(got).not.toBeNull();
    const delivered = got as unknown as { message: InstallSnapshot; data: Uint8Array };
    expect(delivered.message).toEqual(request);
    expect(delivered.data.byteLength).toBe(data.byteLength);
    expect(Buffer.from(delivered.data).equals(Buffer.from(data))).toBe(true);
    expect(received).toEqual([{ type: 'installSnapshotResponse', from: 'n2', to: 'n1', term: 3, success: true, snapshotIndex: 500, matchIndex: 500 }]);
  });

  it('reports a failed transfer to the core as a failed answer', async () => {
    const { clients, received, answered } = await pair(null, bytes(1000, 3));
    clients.send(request);
    await answered;
    expect(received).toEqual([{ type: 'installSnapshotResponse', from: 'n2', to: 'n1', term: 3, success: false, snapshotIndex: 500, matchIndex: 0 }]);
  });
});
