import { afterEach, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import type { Message, RequestVote } from '../../src/raft/types.js';
import { GrpcServer } from '../../src/transport/grpc-server.js';
import { PeerClients, PeerRpcError, peerInflightRpcsMax, type PeerClientsOptions } from '../../src/transport/peer-clients.js';
import { RaftServiceService, type AppendEntriesRequest as WireAppendEntriesRequest } from '../../src/gen/raftex/v1/raft.js';
import { appendEntriesFromWire, appendEntriesResponseToWire } from '../../src/transport/message-codec.js';
import { appendReply, cooperativeAnswer, freePort, heartbeat, never, ScriptedPeer, voteReply, waitFor } from './transport-fixtures.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function startPeer(peer: ScriptedPeer, selfId?: string, port = 0): Promise<{ server: GrpcServer; address: string }> {
  const server = new GrpcServer(peer, selfId === undefined ? {} : { selfId });
  const bound = await server.start(`127.0.0.1:${port}`);
  cleanups.push(() => server.stop(100));
  return { server, address: `127.0.0.1:${bound}` };
}

function clients(peers: Record<string, string>, options: PeerClientsOptions = {}): { clients: PeerClients; inbox: Message[] } {
  const inbox: Message[] = [];
  const c = new PeerClients(new Map(Object.entries(peers)), (m) => inbox.push(m), { selfId: 'n1', ...options });
  cleanups.push(() => c.close());
  return { clients: c, inbox };
}

const vote: RequestVote = { type: 'requestVote', from: 'n1', to: 'n2', term: 5, lastLogIndex: 9, lastLogTerm: 4, preVote: true };

describe('PeerClients over a loopback GrpcServer', () => {
  it('sends AppendEntries on one replication stream, in order, and routes each answer', async () => {
    const peer = new ScriptedPeer();
    const { address } = await startPeer(peer, 'n2');
    const { clients: c, inbox } = clients({ n2: address });
    for (let i = 0; i < 50; i++) c.send(heartbeat('n1', 'n2', i));
    await waitFor(() => inbox.length === 50, 'fifty answers');
    expect(peer.received.map((m) => (m.type === 'appendEntries' ? m.round : -1))).toEqual([...Array(50).keys()]);
    expect(inbox.every((m) => m.type === 'appendEntriesResponse' && m.from === 'n2' && m.to === 'n1')).toBe(true);
    expect(c.stats().get('n2')).toMatchObject({ sent: 50, delivered: 50, failed: 0, streamsOpened: 1 });
  });

  it('a stream answer with nothing to say sends nothing back; the stream stays open', async () => {
    const peer = new ScriptedPeer();
    let silent = true;
    peer.answer = (m) => Promise.resolve(silent ? null : cooperativeAnswer(m));
    const { address } = await startPeer(peer);
    const { clients: c, inbox } = clients({ n2: address });
    c.send(heartbeat('n1', 'n2', 1));
    await waitFor(() => peer.received.length === 1, 'the first append');
    silent = false;
    c.send(heartbeat('n1', 'n2', 2));
    await waitFor(() => inbox.length === 1, 'the second answer');
    expect(inbox[0]).toMatchObject({ type: 'appendEntriesResponse', round: 2 });
    expect(c.stats().get('n2')).toMatchObject({ sent: 2, delivered: 1, failed: 0, streamsOpened: 1 });
  });

  it('a dead peer fails the stream; later appends open a new one, and the queue is bounded', async () => {
    const port = await freePort();
    const { clients: c, inbox } = clients({ n2: `127.0.0.1:${port}` }, { peerInflightRpcsMax: 8 });
    for (let i = 0; i < 20; i++) c.send(heartbeat('n1', 'n2', i));
    expect(c.inflightCount('n2')).toBeLessThanOrEqual(8);
    expect(c.stats().get('n2')!.sent + c.stats().get('n2')!.droppedInflight).toBe(20);
    await waitFor(() => c.stats().get('n2')!.failed === 1, 'the stream to fail');
    expect(c.inflightCount('n2')).toBe(0);
    const peer = new ScriptedPeer();
    await startPeer(peer, 'n2', port);
    await waitFor(() => {
      c.send(heartbeat('n1', 'n2', 99));
      return inbox.length > 0;
    }, 'an answer once the peer is up');
    expect(c.stats().get('n2')!.streamsOpened).toBeGreaterThanOrEqual(2);
  });

  it('resets a stream that stays silent past the append deadline with messages outstanding', async () => {
    const peer = new ScriptedPeer();
    let stuck = true;
    peer.answer = (m) => (stuck ? never() : Promise.resolve(cooperativeAnswer(m)));
    const { address } = await startPeer(peer);
    const { clients: c, inbox } = clients({ n2: address }, { appendDeadlineMs: 100 });
    c.send(heartbeat('n1', 'n2', 1));
    await waitFor(() => peer.received.length === 1, 'the first append');
    c.send(heartbeat('n1', 'n2', 2));
    expect(c.stats().get('n2')).toMatchObject({ streamsOpened: 1, failed: 0 });
    await new Promise((r) => setTimeout(r, 150));
    stuck = false;
    c.send(heartbeat('n1', 'n2', 3));
    expect(c.stats().get('n2')).toMatchObject({ streamsOpened: 2, failed: 1 });
    await waitFor(() => inbox.length === 1, 'the answer on the new stream');
    expect(inbox[0]).toMatchObject({ round: 3 });
  });

  it('falls back to unary AppendEntries when the peer does not implement the stream', async () => {
    const peer = new ScriptedPeer();
    // An older node: RaftService without AppendEntriesStream (grpc-js answers it UNIMPLEMENTED).
    const server = new grpc.Server();
    server.addService(RaftServiceService, {
      appendEntries: (call: grpc.ServerUnaryCall<WireAppendEntriesRequest, unknown>, callback: grpc.sendUnaryData<unknown>) => {
        const m = appendEntriesFromWire(call.request);
        void peer.onMessage(m).then((r) => callback(null, appendEntriesResponseToWire(r as never)));
      },
    } as never);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
    cleanups.push(() => void server.forceShutdown());
    const { clients: c, inbox } = clients({ n2: `127.0.0.1:${port}` });
    await waitFor(() => {
      c.send(heartbeat('n1', 'n2', 7));
      return inbox.length > 0;
    }, 'an answer by the unary call');
    expect(inbox[0]).toMatchObject({ type: 'appendEntriesResponse', from: 'n2', round: 7 });
    expect(c.stats().get('n2')!.streamsOpened).toBe(1);
  });

  it('delivers RequestVote and AppendEntries and hands the replies to onMessage', async () => {
    const peer = new ScriptedPeer();
    const { address } = await startPeer(peer, 'n2');
    const { clients: c, inbox } = clients({ n2: address });

    const append: Message = {
      type: 'appendEntries', from: 'n1', to: 'n2', term: 5, prevLogIndex: 9, prevLogTerm: 4, leaderCommit: 9, round: 3,
      entries: [
        { index: 10, term: 5, type: 'noop', timestampMs: 1_714_000_000_000, data: new Uint8Array() },
        { index: 11, term: 5, type: 'command', timestampMs: 1_714_000_000_001, data: new Uint8Array([1, 2, 3, 250]) },
      ],
    };
    c.send(vote);
    c.send(append);
    await waitFor(() => inbox.length === 2, 'two replies');

    expect(peer.received.map((m) => m.type).sort()).toEqual(['appendEntries', 'requestVote']);
    const got = peer.received.find((m) => m.type === 'appendEntries');
    expect(got?.type === 'appendEntries' && got.entries.map((e) => [e.index, e.type, e.timestampMs, [...e.data]])).toEqual([
      [10, 'noop', 1_714_000_000_000, []],
      [11, 'command', 1_714_000_000_001, [1, 2, 3, 250]],
    ]);
    expect(inbox).toContainEqual(voteReply(vote, true));
    expect(inbox).toContainEqual({
      type: 'appendEntriesResponse', from: 'n2', to: 'n1', term: 5, success: true, matchIndex: 11,
      conflictTerm: 0, conflictIndex: 0, prevLogIndex: 9, entryCount: 2, round: 3,
    });
    expect(c.stats().get('n2')).toMatchObject({ sent: 2, delivered: 2, failed: 0, droppedInflight: 0 });
  });

  it('drops the empty default reply when the handler has nothing to say', async () => {
    const peer = new ScriptedPeer();
    peer.answer = () => Promise.resolve(null);
    const { address } = await startPeer(peer);
    const { clients: c, inbox } = clients({ n2: address }, { appendStream: false });
    c.send(heartbeat('n1', 'n2'));
    await waitFor(() => c.stats().get('n2')!.noReply === 1, 'the empty reply');
    expect(inbox).toEqual([]);
    expect(peer.received).toHaveLength(1);
  });

  it('answers ReadIndex with the leader index and passes our id as from', async () => {
    const peer = new ScriptedPeer();
    const { address } = await startPeer(peer);
    const { clients: c } = clients({ n2: address });
    await expect(c.readIndex('n2')).resolves.toEqual({ readIndex: 17, leaderId: 'n2' });
    expect(peer.readIndexFrom).toEqual(['n1']);
  });

  it('rejects ReadIndex with the handler code, and for unknown peers', async () => {
    const peer = new ScriptedPeer();
    peer.readIndexAnswer = () => Promise.reject(Object.assign(new Error('not leader'), { code: grpc.status.FAILED_PRECONDITION }));
    const { address } = await startPeer(peer);
    const { clients: c } = clients({ n2: address });
    const error = await c.readIndex('n2').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PeerRpcError);
    expect((error as PeerRpcError).code).toBe(grpc.status.FAILED_PRECONDITION);
    expect((error as PeerRpcError).message).toMatch(/not leader/);
    await expect(c.readIndex('n9')).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
  });

  it('never blocks on a dead peer and drops beyond the inflight limit', async () => {
    const port = await freePort();
    const { clients: c, inbox } = clients({ n2: `127.0.0.1:${port}` }, { appendStream: false });
    const extra = 44;
    for (let i = 0; i < peerInflightRpcsMax + extra; i++) c.send(heartbeat('n1', 'n2', i));
    // Everything above was synchronous: the window filled, the rest was dropped on the spot.
    expect(c.inflightCount('n2')).toBe(peerInflightRpcsMax);
    expect(c.stats().get('n2')).toMatchObject({ sent: peerInflightRpcsMax, droppedInflight: extra });
    // Connection refused fails the calls fast (waitForReady false), which frees the window.
    await waitFor(() => c.inflightCount('n2') === 0, 'the failed calls to drain');
    expect(c.stats().get('n2')).toMatchObject({ failed: peerInflightRpcsMax, delivered: 0 });
    expect(inbox).toEqual([]);
    c.send(heartbeat('n1', 'n2'));
    expect(c.stats().get('n2')!.sent).toBe(peerInflightRpcsMax + 1);
  });

  it('bounds a slow peer by the deadline, then frees the window', async () => {
    const peer = new ScriptedPeer();
    peer.answer = () => never();
    peer.readIndexAnswer = () => never();
    const { address } = await startPeer(peer);
    const { clients: c, inbox } = clients({ n2: address }, { appendDeadlineMs: 150, voteDeadlineMs: 150, peerInflightRpcsMax: 3, appendStream: false });
    for (let i = 0; i < 5; i++) c.send(heartbeat('n1', 'n2', i));
    expect(c.stats().get('n2')).toMatchObject({ sent: 3, droppedInflight: 2 });
    await expect(c.readIndex('n2', 150)).rejects.toMatchObject({ code: grpc.status.RESOURCE_EXHAUSTED });
    await waitFor(() => c.inflightCount('n2') === 0, 'the deadlines');
    expect(c.stats().get('n2')!.failed).toBe(3);
    await expect(c.readIndex('n2', 150)).rejects.toMatchObject({ code: grpc.status.DEADLINE_EXCEEDED });
    expect(inbox).toEqual([]);
  });

  it('reconnects to a peer that comes up after failing', async () => {
    const port = await freePort();
    const { clients: c, inbox } = clients({ n2: `127.0.0.1:${port}` }, { initialReconnectBackoffMs: 50, maxReconnectBackoffMs: 200 });
    c.send(vote);
    await waitFor(() => c.stats().get('n2')!.failed === 1, 'the first call to fail');
    await startPeer(new ScriptedPeer(), 'n2', port);
    // Raft's resend, compressed: keep sending until one gets through.
    await waitFor(() => {
      if (c.inflightCount('n2') === 0) c.send(vote);
      return inbox.length > 0;
    }, 'a reply after the peer came up');
    expect(inbox[0]).toEqual(voteReply(vote, true));
  });

  it('drops replies from a node other than the one addressed', async () => {
    const peer = new ScriptedPeer();
    peer.answer = (m) => Promise.resolve(m.type === 'appendEntries' ? appendReply(m, 'n3') : null);
    const { address } = await startPeer(peer);
    const { clients: c, inbox } = clients({ n2: address });
    c.send(heartbeat('n1', 'n2'));
    await waitFor(() => c.stats().get('n2')!.badReplies === 1, 'the bad reply');
    expect(inbox).toEqual([]);
  });

  it('a server with selfId refuses messages addressed to another node', async () => {
    const peer = new ScriptedPeer();
    const { address } = await startPeer(peer, 'n2');
    // Misconfigured: this node thinks n3 lives at n2's address.
    const { clients: c, inbox } = clients({ n3: address });
    c.send({ ...vote, to: 'n3' });
    await waitFor(() => c.stats().get('n3')!.failed === 1, 'the refusal');
    expect(peer.received).toEqual([]);
    expect(inbox).toEqual([]);
  });

  it('a server with selfId ends a replication stream that carries appends for another node', async () => {
    const peer = new ScriptedPeer();
    const { address } = await startPeer(peer, 'n2');
    const { clients: c, inbox } = clients({ n3: address });
    c.send(heartbeat('n1', 'n3'));
    await waitFor(() => c.stats().get('n3')!.failed === 1, 'the refusal');
    expect(peer.received).toEqual([]);
    expect(inbox).toEqual([]);
  });

  it('counts failures when the handler rejects, and drops unroutable messages', async () => {
    const peer = new ScriptedPeer();
    peer.answer = () => Promise.reject(new Error('node stopping'));
    const { address } = await startPeer(peer);
    const { clients: c, inbox } = clients({ n2: address });
    c.send(vote);
    c.send({ ...vote, to: 'n7' });
    c.send(voteReply({ ...vote, from: 'n2', to: 'n1' }, true));
    expect(c.unroutableCount()).toBe(2);
    await waitFor(() => c.stats().get('n2')!.failed === 1, 'the failed call');
    expect(inbox).toEqual([]);
  });

  it('close cancels pending calls and ignores later sends', async () => {
    const peer = new ScriptedPeer();
    peer.answer = () => never();
    const { address } = await startPeer(peer);
    const { clients: c, inbox } = clients({ n2: address });
    c.send(vote);
    const pendingRead = c.readIndex('n2');
    expect(c.inflightCount('n2')).toBe(2);
    c.close();
    expect(c.inflightCount('n2')).toBe(0);
    await expect(pendingRead).rejects.toMatchObject({ code: grpc.status.CANCELLED });
    c.send(vote);
    expect(c.stats().get('n2')!.sent).toBe(2);
    expect(inbox).toEqual([]);
  });
});
