/**
 * ClusterService over real grpc-js loopback: GetStatus, and AddMember/RemoveMember (validation,
 * forwarding to the leader, error codes) over fake nodes.
 */
import { credentials, Server, ServerCredentials, status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clusterServiceImpl } from '../../src/api/cluster-service.js';
import { LeaderForwarder } from '../../src/api/leader-forwarder.js';
import { NodeClient } from '../../src/cli/client.js';
import {
  ClusterServiceClient, ClusterServiceService, Role,
  type AddMemberResponse, type GetStatusResponse, type RemoveMemberResponse,
} from '../../src/gen/raftex/v1/cluster.js';
import { DeadlineError, NotLeaderError, UnavailableError, type MemberChangeReply, type NodeStatus } from '../../src/node/exchange-node-api.js';
import { MemberChangeRefusedError } from '../../src/node/membership-changes.js';
import { FakeCluster, FakeNodeApi } from './fake-node-api.js';
import { grpcError, startCluster } from './grpc-harness.js';
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

// ---- membership: AddMember / RemoveMember over fake nodes ----

/** A fake node that can change membership; scripted outcomes per call. */
class MemberFakeApi extends FakeNodeApi {
  learner = false;
  calls: string[] = [];
  /** What the next membership call fails with (then resets). */
  fail: Error | null = null;

  override status(options?: { readonly withStateHash?: boolean }): NodeStatus {
    return { ...super.status(options), learner: this.learner };
  }

  async addMember(id: string, address: string): Promise<MemberChangeReply> {
    return this.change(`add ${id} ${address}`, [{ id: 'n1', address: 'a1', voter: true }, { id, address, voter: true }]);
  }

  async removeMember(id: string): Promise<MemberChangeReply> {
    return this.change(`remove ${id}`, [{ id: 'n1', address: 'a1', voter: true }]);
  }

  private change(call: string, members: MemberChangeReply['members']): MemberChangeReply {
    this.calls.push(call);
    if (this.nodeId !== this.cluster.leaderId) throw new NotLeaderError(this.cluster.leaderId, this.leaderAddress());
    const fail = this.fail;
    this.fail = null;
    if (fail !== null) throw fail;
    return { members, logIndex: 42 };
  }
}

describe('AddMember / RemoveMember', () => {
  const cluster = new FakeCluster();
  const apis = ['m1', 'm2'].map((id) => new MemberFakeApi(cluster, id));
  const servers: { server: Server; forwarder: LeaderForwarder }[] = [];
  const clients: ClusterServiceClient[] = [];

  beforeAll(async () => {
    cluster.leaderId = 'm1';
    for (const api of apis) {
      const server = new Server();
      const forwarder = new LeaderForwarder();
      server.addService(ClusterServiceService, clusterServiceImpl(api, { forwarder, leaderWaitMs: 300 }));
      const port = await new Promise<number>((ok, fail) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? fail(e) : ok(p))));
      cluster.addresses.set(api.nodeId, `127.0.0.1:${port}`);
      servers.push({ server, forwarder });
      clients.push(new ClusterServiceClient(`127.0.0.1:${port}`, credentials.createInsecure()));
    }
  });
  afterAll(() => {
    for (const c of clients) c.close();
    for (const { server, forwarder } of servers) {
      forwarder.close();
      server.forceShutdown();
    }
  });

  const add = (i: number, nodeId: string, address: string): Promise<AddMemberResponse> =>
    new Promise((ok, fail) => clients[i]!.addMember({ nodeId, address }, (e, r) => (e ? fail(e) : ok(r))));
  const remove = (i: number, nodeId: string): Promise<RemoveMemberResponse> =>
    new Promise((ok, fail) => clients[i]!.removeMember({ nodeId }, (e, r) => (e ? fail(e) : ok(r))));

  it('a follower forwards to the leader and relays its answer', async () => {
    apis.forEach((a) => (a.calls = []));
    const reply = await add(1, 'n4', '127.0.0.1:7004');
    expect(reply).toEqual({ members: [{ id: 'n1', address: 'a1', voter: true }, { id: 'n4', address: '127.0.0.1:7004', voter: true }], logIndex: 42 });
    expect(apis[1]!.calls).toEqual(['add n4 127.0.0.1:7004']);
    expect(apis[0]!.calls).toEqual(['add n4 127.0.0.1:7004']);
    expect((await remove(1, 'n4')).logIndex).toBe(42);
  });

  it('malformed ids and addresses are INVALID_ARGUMENT and never reach the node', async () => {
    apis.forEach((a) => (a.calls = []));
    for (const [id, address] of [['', 'h:1'], ['has space', 'h:1'], ['n4', ''], ['n4', 'h'], ['n4', 'h:0'], ['n4', 'h:70000'], ['n4', 'bad host:1']] as const) {
      expect((await grpcError(add(0, id, address))).code, `${id} ${address}`).toBe(status.INVALID_ARGUMENT);
    }
    expect((await grpcError(remove(0, 'x'.repeat(65)))).code).toBe(status.INVALID_ARGUMENT);
    expect(apis[0]!.calls).toEqual([]);
  });

  it('refusals map to NOT_FOUND / FAILED_PRECONDITION / DEADLINE_EXCEEDED, relayed through a forward', async () => {
    const cases: [Error, status][] = [
      [new MemberChangeRefusedError('notFound', 'n9 is not a member'), status.NOT_FOUND],
      [new MemberChangeRefusedError('conflict', 'other address'), status.FAILED_PRECONDITION],
      [new MemberChangeRefusedError('busy', 'uncommitted'), status.FAILED_PRECONDITION],
      [new MemberChangeRefusedError('invalid', 'invalid-id'), status.INVALID_ARGUMENT],
      [new DeadlineError('learner slow'), status.DEADLINE_EXCEEDED],
      [new UnavailableError('leadership lost'), status.UNAVAILABLE],
    ];
    for (const [error, code] of cases) {
      apis[0]!.fail = error;
      const e = await grpcError(remove(1, 'n9'));
      expect([e.code, e.details]).toEqual([code, error.message]);
    }
  });

  it('no leader known: UNAVAILABLE after the leader wait; a learner reports ROLE_LEARNER', async () => {
    cluster.leaderId = null;
    try {
      expect((await grpcError(add(1, 'n4', 'h:4'))).code).toBe(status.UNAVAILABLE);
    } finally {
      cluster.leaderId = 'm1';
    }
    apis[1]!.learner = true;
    const s = await new Promise<GetStatusResponse>((ok, fail) => clients[1]!.getStatus({ skipStateHash: false }, (e, r) => (e ? fail(e) : ok(r))));
    expect(s.role).toBe(Role.ROLE_LEARNER);
    expect(s.stateHash).not.toBe('');
    const cheap = await new Promise<GetStatusResponse>((ok, fail) => clients[1]!.getStatus({ skipStateHash: true }, (e, r) => (e ? fail(e) : ok(r))));
    expect(cheap.stateHash).toBe('');
    apis[1]!.learner = false;
  });
});
