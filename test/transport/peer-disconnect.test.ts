/** PeerClients tells the node when a connected peer's connection drops (a crashed leader is noticed at once). */
import { describe, expect, it } from 'vitest';
import type { RequestVote } from '../../src/raft/types.js';
import { GrpcServer } from '../../src/transport/grpc-server.js';
import { PeerClients } from '../../src/transport/peer-clients.js';
import { ScriptedPeer, waitFor } from './transport-fixtures.js';

const vote: RequestVote = { type: 'requestVote', from: 'n1', to: 'n2', term: 5, lastLogIndex: 9, lastLogTerm: 4, preVote: true };

describe('PeerClients onDisconnected', () => {
  it('reports a peer whose connection was up and dropped, once per drop', async () => {
    const server = new GrpcServer(new ScriptedPeer(), { selfId: 'n2' });
    const port = await server.start('127.0.0.1:0');
    const lost: string[] = [];
    const inbox: unknown[] = [];
    const clients = new PeerClients(new Map([['n2', `127.0.0.1:${port}`]]), (m) => inbox.push(m), { selfId: 'n1', onDisconnected: (id) => lost.push(id) });
    try {
      clients.send(vote);
      await waitFor(() => inbox.length === 1, 'the vote reply (connected)');
      expect(lost).toEqual([]);
      await server.stop(0);
      await waitFor(() => lost.length > 0, 'the disconnect report');
      // Reconnect attempts to the dead port fail without ever being READY: no more reports.
      await new Promise((r) => setTimeout(r, 300));
      expect(lost).toEqual(['n2']);
    } finally {
      clients.close();
      await server.stop(0);
    }
  });
});
