/**
 * Membership on in-process nodes over real gRPC and disks (fast: no child processes): a joining
 * node added as a learner reports ROLE_LEARNER and the configuration's members in GetStatus; it
 * caught up through InstallSnapshot, whose meta carried the membership; AddMember resumes at the
 * promotion; the error codes of AddMember/RemoveMember; the peer set follows the configuration.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Command } from '../../domain/index.js';
import { ClusterServiceClient, Role, type AddMemberResponse, type GetStatusResponse, type RemoveMemberResponse } from '../../src/gen/raftex/v1/cluster.js';
import { startNode, type RunningNode } from '../../src/node/start-node.js';
import { DiskStorage } from '../../src/storage/index.js';
import { freePorts, sleep, unary } from '../support/cluster.js';

const timing = { electionTimeoutMs: 300, heartbeatMs: 50 };
const deposit = (i: number): Command => ({ type: 'deposit', accountId: 'alice', asset: 'USD', amount: '1', requestId: `d${i}` });

describe('membership on a node', () => {
  const running = new Map<string, RunningNode>();
  const clients: ClusterServiceClient[] = [];
  let root = '';

  afterAll(async () => {
    for (const c of clients) c.close();
    await Promise.all([...running.values()].map((n) => n.stop()));
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = probe();
      if (value !== null && value !== undefined && value !== false) return value;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(10);
    }
  }

  const client = (address: string): ClusterServiceClient => {
    const c = new ClusterServiceClient(address, grpc.credentials.createInsecure());
    clients.push(c);
    return c;
  };
  const getStatus = (c: ClusterServiceClient): Promise<GetStatusResponse> => unary(c, c.getStatus, { skipStateHash: false }, 2000);
  const addMember = (c: ClusterServiceClient, nodeId: string, address: string): Promise<AddMemberResponse> =>
    unary(c, c.addMember, { nodeId, address }, 15_000);
  const removeMember = (c: ClusterServiceClient, nodeId: string): Promise<RemoveMemberResponse> => unary(c, c.removeMember, { nodeId }, 15_000);
  const codeOf = (p: Promise<unknown>): Promise<number | undefined> => p.then(() => undefined, (e: unknown) => (e as grpc.ServiceError).code);

  it('learner status, InstallSnapshot with membership, AddMember resuming at the promotion, error codes', async () => {
    root = await mkdtemp(join(tmpdir(), 'raftex-member-status-'));
    const [p1, p2] = await freePorts(2);
    const a1 = `127.0.0.1:${p1!}`;
    const a2 = `127.0.0.1:${p2!}`;
    const logger = (id: string) => pino({ level: process.env['NODE_LOG'] ?? 'silent', base: { node: id } });
    // n1 alone: it elects itself at once. It snapshots every 5 entries and keeps no log behind.
    const n1 = await startNode({ id: 'n1', listen: a1, peers: new Map(), dataDir: join(root, 'n1'), timing,
      snapshotPolicy: { entriesPerSnapshot: 5, trailingEntries: 0 }, logger: logger('n1') });
    running.set('n1', n1);
    await until('n1 to lead', () => n1.node.status().role === 'leader');
    for (let i = 0; i < 12; i++) await n1.node.submit(deposit(i), Date.now() + 5000);
    await until('n1 to snapshot', () => n1.node.snapshotter!.stats.taken > 0);

    // n2 joins: no configuration until the leader's snapshot brings one.
    const n2 = await startNode({ id: 'n2', listen: a2, peers: new Map([['n1', a1]]), join: true, dataDir: join(root, 'n2'), timing,
      snapshotPolicy: { entriesPerSnapshot: 5, trailingEntries: 0 }, logger: logger('n2') });
    running.set('n2', n2);
    const c1 = client(a1);
    const c2 = client(a2);
    const joining = await getStatus(c2);
    expect([joining.role, joining.members]).toEqual([Role.ROLE_FOLLOWER, []]);

    // Add it as a learner only (the first half of AddMember), straight on the core.
    await until('the learner entry', () => {
      const r = n1.node.driver.proposeMembershipChange({ type: 'addLearner', id: 'n2', address: a2 }, Date.now());
      return r.type === 'accepted';
    });
    await until('n2 to catch up', () => n2.node.lastApplied === n1.node.lastApplied && n2.node.status().learner === true);
    expect(n2.node.snapshotter!.stats.installed).toBeGreaterThanOrEqual(1);
    const learner = await getStatus(c2);
    expect(learner.role).toBe(Role.ROLE_LEARNER);
    expect(learner.leaderId).toBe('n1');
    expect(learner.members.map((m) => [m.id, m.address, m.voter])).toEqual([['n1', a1, true], ['n2', a2, false]]);
    expect(learner.stateHash).toBe((await getStatus(c1)).stateHash);
    const leader = await getStatus(c1);
    expect(leader.members.map((m) => [m.id, m.address, m.voter])).toEqual([['n1', a1, true], ['n2', a2, false]]);
    expect(leader.followers.map((f) => f.id)).toEqual(['n2']);

    // AddMember through the learner itself (forwarded to n1): resumes at the promotion.
    const added = await addMember(c2, 'n2', a2);
    expect(added.members.map((m) => [m.id, m.voter])).toEqual([['n1', true], ['n2', true]]);
    await until('n2 to see itself a voter', () => n2.node.status().learner === false && n2.node.membership().voters.length === 2);
    expect((await getStatus(c2)).role).toBe(Role.ROLE_FOLLOWER);
    // A retry answers OK without a new entry.
    const again = await addMember(c1, 'n2', a2);
    expect(again.members).toEqual(added.members);
    // More entries: n2 now snapshots on its own, with itself in the recorded configuration.
    const takenBefore = n2.node.snapshotter!.stats.taken;
    for (let i = 20; i < 27; i++) await n1.node.submit(deposit(i), Date.now() + 5000);
    await until('n2 to snapshot', () => n2.node.snapshotter!.stats.taken > takenBefore);

    // Error codes.
    expect(await codeOf(addMember(c1, 'n2', '127.0.0.1:1'))).toBe(grpc.status.FAILED_PRECONDITION);
    expect(await codeOf(addMember(c2, 'bad id!', a2))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await codeOf(addMember(c2, 'n3', 'no-port'))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await codeOf(addMember(c2, 'n3', ''))).toBe(grpc.status.INVALID_ARGUMENT);
    expect(await codeOf(removeMember(c2, 'n9'))).toBe(grpc.status.NOT_FOUND);
    expect(await codeOf(removeMember(c2, ''))).toBe(grpc.status.INVALID_ARGUMENT);

    // Remove the follower: the leader closes its peer client; n1 is alone again and still commits.
    const removed = await removeMember(c2, 'n2');
    expect(removed.members.map((m) => m.id)).toEqual(['n1']);
    await n1.node.submit(deposit(100), Date.now() + 5000);
    expect((await getStatus(c1)).members.map((m) => m.id)).toEqual(['n1']);

    // The snapshot meta on disk carried the membership (with the learner's address).
    await n2.stop();
    running.delete('n2');
    const disk = await DiskStorage.open(join(root, 'n2'));
    try {
      const meta = disk.snapshot();
      expect(meta?.membership?.voters.map((m) => [m.id, m.address])).toEqual([['n1', ''], ['n2', a2]]);
    } finally {
      await disk.close();
    }
  }, 60_000);
});
