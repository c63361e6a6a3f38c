/**
 * ClusterService.GetStatus over real grpc-js loopback.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NodeClient } from '../../src/cli/client.js';
import { Role } from '../../src/gen/raftex/v1/cluster.js';
import { startCluster } from './grpc-harness.js';
import type { RunningNode } from './grpc-harness.js';

let nodes: RunningNode[] = [];

beforeAll(async () => {
  nodes = (await startCluster(['n1', 'n2', 'n3'], 'n2')).nodes;
});
afterAll(async () => {
  await Promise.all(nodes.map((n) => n.stop()));
});

describe('GetStatus', () => {
  it('the leader reports its role, members and follower progress', async () => {
    const leader = nodes[1]!;
    const client = new NodeClient(leader.address, 2_000);
    try {
      await client.call('deposit', { accountId: 'a', asset: 'USD', amount: '1', requestId: 'r' });
      const s = await client.status();
      expect([s.nodeId, s.role, s.leaderId, s.term]).toEqual(['n2', Role.ROLE_LEADER, 'n2', 2]);
      expect([s.commitIndex, s.lastApplied, s.lastLogIndex]).toEqual([1, 1, 1]);
      expect(s.members.map((m) => [m.id, m.address, m.voter])).toEqual(nodes.map((n) => [n.api.nodeId, n.address, true]));
      expect(s.followers.map((f) => [f.id, f.matchIndex, f.nextIndex])).toEqual([['n1', 1, 2], ['n3', 1, 2]]);
      expect(s.stateHash).toMatch(/^[0-9a-f]{16,}$/);
    } finally {
      client.close();
    }
  });

  it('a follower reports no followers and the same state hash', async () => {
    const a = new NodeClient(nodes[0]!.address, 2_000);
    const b = new NodeClient(nodes[1]!.address, 2_000);
    try {
      const [f, l] = await Promise.all([a.status(), b.status()]);
      expect([f.role, f.leaderId, f.followers]).toEqual([Role.ROLE_FOLLOWER, 'n2', []]);
      expect(f.stateHash).toBe(l.stateHash);
    } finally {
      a.close();
      b.close();
    }
  });
});
