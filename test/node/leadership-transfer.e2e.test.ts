/**
 * Leadership transfer end to end (in-process nodes, real gRPC): ClusterService.TransferLeadership
 * moves leadership to the chosen member, and stopping the leader (what SIGTERM does) hands
 * leadership over before it exits, so the remaining nodes have a leader the moment it is gone and
 * a stream of writes only sees the requests in flight at that moment fail (their retries succeed).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import type { Command } from '../../domain/index.js';
import { ClusterServiceClient, type TransferLeadershipResponse } from '../../src/gen/raftex/v1/cluster.js';
import { startNode, type RunningNode } from '../../src/node/start-node.js';
import { freePorts, sleep } from '../support/cluster.js';

// Generous: three nodes share this process's event loop on a loaded test machine, and a stall
// must not pass for a dead leader. A transfer does not wait for the timeout anyway.
const timing = { electionTimeoutMs: 1000, heartbeatMs: 50 };
const deposit = (accountId: string, amount: string, requestId: string): Command => ({ type: 'deposit', accountId, asset: 'USD', amount, requestId });

describe('leadership transfer', () => {
  const running = new Map<string, RunningNode>();
  let root = '';

  afterAll(async () => {
    await Promise.all([...running.values()].map((n) => n.stop()));
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  function leaderId(): string | null {
    for (const [id, node] of running) if (node.node.status().role === 'leader') return id;
    return null;
  }

  async function waitLeader(timeoutMs = 20_000): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const id = leaderId();
      if (id !== null) return id;
      await sleep(10);
    }
    throw new Error('no leader');
  }

  it('moves on TransferLeadership and before a stopping leader exits', async () => {
    root = await mkdtemp(join(tmpdir(), 'raftex-transfer-'));
    const ids = ['n1', 'n2', 'n3'];
    const ports = await freePorts(3);
    const addresses = new Map(ids.map((id, i) => [id, `127.0.0.1:${ports[i]!}`]));
    for (const id of ids) {
      running.set(id, await startNode({
        id, listen: addresses.get(id)!, peers: new Map([...addresses].filter(([other]) => other !== id)),
        dataDir: join(root, id), timing, logger: pino({ level: process.env['NODE_LOG'] ?? 'silent', base: { node: id } }),
      }));
    }
    const first = await waitLeader();
    await running.get(first)!.node.submit(deposit('alice', '1', 'warm'), Date.now() + 5000);

    // 1. ClusterService.TransferLeadership on the leader, to a chosen member.
    const target = ids.find((id) => id !== first)!;
    const client = new ClusterServiceClient(addresses.get(first)!, grpc.credentials.createInsecure());
    const moved = await new Promise<TransferLeadershipResponse>((resolve, reject) =>
      client.transferLeadership({ targetId: target }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))));
    client.close();
    expect(moved.leaderId).toBe(target);
    expect(leaderId()).toBe(target);

    // 1b. The same sent to a follower: it forwards to the leader, which hands over to the named member.
    const follower = ids.find((id) => id !== target)!;
    const back = ids.find((id) => id !== target && id !== follower)!;
    const viaFollower = new ClusterServiceClient(addresses.get(follower)!, grpc.credentials.createInsecure());
    const forwarded = await new Promise<TransferLeadershipResponse>((resolve, reject) =>
      viaFollower.transferLeadership({ targetId: back }, new grpc.Metadata(), { deadline: Date.now() + 5000 }, (e, r) => (e ? reject(e) : resolve(r))));
    viaFollower.close();
    expect(forwarded.leaderId).toBe(back);
    expect(await waitLeader()).toBe(back);

    // 2. A stream of writes while the leader stops: it hands over first.
    let acked = 0;
    let failures = 0;
    const writes = 200;
    const writer = (async () => {
      for (let i = 0; i < writes; i++) {
        for (let attempt = 0; ; attempt++) {
          const id = leaderId() ?? [...running.keys()][0]!;
          try {
            await running.get(id)!.node.submit(deposit('alice', '1', `w${i}`), Date.now() + 2000);
            acked++;
            break;
          } catch (error) {
            failures++;
            if (process.env['NODE_LOG'] !== undefined) console.log(`${Date.now()} w${i} on ${id}: ${String(error)}`);
            if (attempt > 400) throw new Error(`write w${i} never acknowledged: ${String(error)} (leader ${String(leaderId())})`, { cause: error });
            await sleep(10);
          }
        }
      }
    })();
    await sleep(100);
    const stoppingLeader = leaderId()!;
    const stopStarted = Date.now();
    await running.get(stoppingLeader)!.stop();
    running.delete(stoppingLeader);
    const stopMs = Date.now() - stopStarted;
    // Leadership already moved while the old leader was stopping: no election timeout to wait out.
    const successor = leaderId();
    expect(successor).not.toBeNull();
    expect(successor).not.toBe(stoppingLeader);
    await writer;
    expect(stopMs).toBeLessThan(4_500);
    // Only requests in flight at the hand-over may fail; their retries succeed.
    expect(failures).toBeLessThan(200);
    const remaining = [...running.values()][0]!;
    const balance = await remaining.node.read((exchange) => exchange.portfolio('alice'), Date.now() + 5000);
    const usd = balance.value.find((b) => b.asset === 'USD');
    expect(acked).toBe(writes);
    // Every write applied exactly once (a retried deposit is deduplicated by its request id).
    expect(Number(usd?.available ?? 0) + Number(usd?.reserved ?? 0)).toBe(1 + writes);
  }, 90_000);
});
