/**
 * Membership changes end to end with real `raftex node` processes on loopback: a 3-node cluster
 * grows to 5 (n4 and n5 start with --join and are added by AddMember, sent to a follower and to
 * the newest member so both are forwarded to the leader) and shrinks back to 3 (RemoveMember of
 * the current leader and of one other node) while a client keeps submitting orders with unique
 * client_order_ids. At the end every acknowledged order is on every remaining node exactly once
 * and their state hashes agree; then SIGTERM on the leader of the 3 hands leadership over to
 * one of the other two (the new configuration's voters) before it exits 0.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it } from 'vitest';
import { ClusterServiceClient, Role, type AddMemberResponse, type GetStatusResponse, type RemoveMemberResponse } from '../../src/gen/raftex/v1/cluster.js';
import { ExchangeServiceClient } from '../../src/gen/raftex/v1/exchange.js';
import { freePorts, nodeLogLinesMax, repoRoot, sleep, unary } from '../support/cluster.js';
import { deposit, limit, listOrders, submitOrder } from '../support/exchange-calls.js';

const electionTimeoutMs = 500;
const heartbeatMs = 50;
/** gRPC codes a client retries with the same client_order_id: CANCELLED, DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED, UNAVAILABLE. */
const retryableCodes = new Set([1, 4, 8, 14]);

interface Proc {
  readonly id: string;
  readonly address: string;
  readonly dataDir: string;
  child: ChildProcess | null;
  readonly logs: string[];
  readonly exchange: ExchangeServiceClient;
  readonly cluster: ClusterServiceClient;
}

describe('membership: grow 3 -> 5 and shrink back to 3 under writes', () => {
  const root = mkdtempSync(join(tmpdir(), 'raftex-member-'));
  const procs = new Map<string, Proc>();

  afterAll(async () => {
    await Promise.all([...procs.values()].map((p) => stopProc(p, 'SIGKILL')));
    for (const p of procs.values()) {
      p.exchange.close();
      p.cluster.close();
    }
    rmSync(root, { recursive: true, force: true });
  });

  function start(id: string, address: string, peers: readonly Proc[], joining: boolean): Proc {
    const proc: Proc = {
      id, address, dataDir: join(root, id), child: null, logs: [],
      exchange: new ExchangeServiceClient(address, grpc.credentials.createInsecure()),
      cluster: new ClusterServiceClient(address, grpc.credentials.createInsecure()),
    };
    const args = ['--import', 'tsx', 'src/cli/main.ts', 'node', '--id', id, '--listen', address, '--data-dir', proc.dataDir,
      '--election-timeout-ms', String(electionTimeoutMs), '--heartbeat-ms', String(heartbeatMs)];
    if (peers.length > 0) args.push('--peers', peers.map((p) => `${p.id}=${p.address}`).join(','));
    if (joining) args.push('--join');
    const child = spawn(process.execPath, args, { cwd: repoRoot, env: { ...process.env, RAFTEX_LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (chunk: Buffer): void => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        proc.logs.push(line);
        if (proc.logs.length > nodeLogLinesMax) proc.logs.shift();
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code, signal) => proc.logs.push(`[process exited: ${signal ?? `code ${code}`}]`));
    proc.child = child;
    procs.set(id, proc);
    return proc;
  }

  function logs(lines = 30): string {
    return [...procs.values()].map((p) => `--- ${p.id} ---\n${p.logs.slice(-lines).join('\n')}`).join('\n');
  }

  const status = (p: Proc, timeoutMs = 1000): Promise<GetStatusResponse | null> =>
    unary(p.cluster, p.cluster.getStatus, { skipStateHash: false }, timeoutMs).catch(() => null);

  async function waitFor<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 30_000): Promise<T> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const value = await probe();
      if (value !== null) return value;
      await sleep(50);
    }
    throw new Error(`timed out waiting for ${what}\n${logs()}`);
  }

  /** The leader every one of `members` agrees on. */
  const agreedLeader = (members: readonly Proc[]): Promise<string> => waitFor(`a leader among ${members.map((m) => m.id).join(',')}`, async () => {
    const statuses = await Promise.all(members.map((m) => status(m)));
    const leader = statuses.find((s) => s?.role === Role.ROLE_LEADER);
    if (leader === undefined || leader === null) return null;
    return statuses.every((s) => s !== null && s.leaderId === leader.nodeId && s.term === leader.term) ? leader.nodeId : null;
  });

  /** A membership call, retried (it is idempotent enough) while no leader is reachable. */
  async function change<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const code = (e as grpc.ServiceError).code;
        if (attempt >= 20 || !retryableCodes.has(code)) throw new Error(`${what} failed: ${String(e)}\n${logs()}`, { cause: e });
        await sleep(200);
      }
    }
  }

  it('keeps every acknowledged order on every remaining node and their state hashes agree', async () => {
    const ports = await freePorts(5);
    const addr = (i: number): string => `127.0.0.1:${ports[i - 1]!}`;
    const ids = ['n1', 'n2', 'n3'];
    const initial = ids.map((id, i) => ({ id, address: addr(i + 1) }) as Proc);
    for (const p of initial) start(p.id, p.address, initial.filter((q) => q.id !== p.id), false);
    const node = (id: string): Proc => procs.get(id)!;
    let members = ids.map(node);
    let leaderId = await agreedLeader(members);
    await deposit(node(leaderId).exchange, { accountId: 'trader', asset: 'USD', amount: '100000000', requestId: 'fund' }, 10_000);

    // The writer: unique client_order_ids, retried (same id) on whichever member answers.
    const acked = new Map<string, string>();
    let writing = true;
    let failures = 0;
    let writerError: unknown = null;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        const cid = `m-${i}`;
        for (let attempt = 0; ; attempt++) {
          const targets = members;
          const target = targets[(i + attempt) % targets.length]!;
          try {
            const reply = await submitOrder(target.exchange, limit('trader', cid, 'buy', '1', String(100 + (i % 50))), 3000);
            acked.set(cid, reply.orderId);
            break;
          } catch (e) {
            const code = (e as grpc.ServiceError).code;
            if (!retryableCodes.has(code) || attempt > 200) throw new Error(`order ${cid}: ${String(e)}`, { cause: e });
            failures++;
            await sleep(20);
          }
        }
      }
    })().catch((e: unknown) => {
      writerError = e;
    });
    const ackedAtLeast = (n: number): Promise<true> => waitFor(`${n} acknowledged orders`, async () => {
      if (writerError !== null) throw writerError as Error;
      return acked.size >= n ? true : null;
    });
    await ackedAtLeast(10);

    // Grow: n4 joins through a follower, n5 through n4 (both forwarded to the leader).
    const n4 = start('n4', addr(4), members, true);
    await waitFor('n4 to listen', () => status(n4));
    const follower = members.find((m) => m.id !== leaderId)!;
    const added4 = await change('AddMember n4', () => unary<{ nodeId: string; address: string }, AddMemberResponse>(
      follower.cluster, follower.cluster.addMember, { nodeId: 'n4', address: n4.address }, 45_000));
    expect(added4.members.find((m) => m.id === 'n4')).toMatchObject({ address: n4.address, voter: true });
    members = [...members, n4];
    await ackedAtLeast(acked.size + 5);

    const n5 = start('n5', addr(5), members, true);
    await waitFor('n5 to listen', () => status(n5));
    const added5 = await change('AddMember n5', () => unary<{ nodeId: string; address: string }, AddMemberResponse>(
      n4.cluster, n4.cluster.addMember, { nodeId: 'n5', address: n5.address }, 45_000));
    expect(added5.members.filter((m) => m.voter).map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(added5.logIndex).toBeGreaterThan(added4.logIndex);
    members = [...members, n5];
    // Every node reports the 5 voters.
    await waitFor('5 voters everywhere', async () => {
      const statuses = await Promise.all(members.map((m) => status(m)));
      return statuses.every((s) => s !== null && s.members.filter((m) => m.voter).length === 5) ? true : null;
    });
    await ackedAtLeast(acked.size + 5);

    // Shrink: remove the current leader (sent to a follower, so it is forwarded to the leader,
    // which hands leadership over and forwards it on to its successor), then a follower.
    leaderId = await agreedLeader(members);
    const via = members.find((m) => m.id === 'n5')!;
    const removedLeader = await change(`RemoveMember ${leaderId}`, () => unary<{ nodeId: string }, RemoveMemberResponse>(
      via.cluster, via.cluster.removeMember, { nodeId: leaderId }, 30_000));
    expect(removedLeader.members.map((m) => m.id)).not.toContain(leaderId);
    members = members.filter((m) => m.id !== leaderId);
    await ackedAtLeast(acked.size + 5);
    const successor = await agreedLeader(members);
    const other = members.find((m) => m.id !== successor && m !== via)!;
    const removedOther = await change(`RemoveMember ${other.id}`, () => unary<{ nodeId: string }, RemoveMemberResponse>(
      via.cluster, via.cluster.removeMember, { nodeId: other.id }, 30_000));
    expect(removedOther.members.filter((m) => m.voter).map((m) => m.id).sort()).toEqual(members.filter((m) => m !== other).map((m) => m.id).sort());
    members = members.filter((m) => m !== other);
    await ackedAtLeast(acked.size + 5);
    writing = false;
    await writer;
    expect(writerError).toBeNull();

    // The removed nodes are still running and hear from no leader any more: they must not disturb
    // the remaining three (no new election: same leader, same term, several election timeouts on).
    const finalLeader = await agreedLeader(members);
    const termBefore = (await status(node(finalLeader)))!.term;
    await sleep(6 * electionTimeoutMs);
    expect(await agreedLeader(members)).toBe(finalLeader);
    expect((await status(node(finalLeader)))!.term).toBe(termBefore);
    // Both removed nodes learned that their removal committed (the leader replicated it to them
    // with its commit index before dropping them), so neither campaigns nor counts itself in.
    for (const gone of [node(leaderId), other]) {
      const s = (await status(gone))!;
      expect(s.members.map((m) => m.id), `${gone.id} members`).not.toContain(gone.id);
      expect([Role.ROLE_FOLLOWER, Role.ROLE_LEARNER], `${gone.id} role`).toContain(s.role);
      expect(s.term, `${gone.id} term`).toBeLessThanOrEqual(termBefore);
    }
    // A removed node no leader counts any more hands reads to the leader it knew: the answer is
    // the cluster's, at once, rather than a wait for entries that will never reach it.
    const { orders: leaderOrders } = await listOrders(node(finalLeader).exchange, 'trader', 10_000);
    for (const gone of [node(leaderId), other]) {
      const { orders } = await listOrders(gone.exchange, 'trader', 5_000);
      expect(orders.map((o) => o.orderId).sort(), `${gone.id} forwards reads`).toEqual(leaderOrders.map((o) => o.orderId).sort());
    }
    for (const gone of [node(leaderId), other]) await stopProc(gone, 'SIGTERM');

    // The remaining three apply the same entries and hash the same.
    expect(members.map((m) => m.id)).toContain(finalLeader);
    const target = (await status(node(finalLeader)))!.commitIndex;
    const statuses = await waitFor('the remaining nodes to apply the same entries', async () => {
      const all = await Promise.all(members.map((m) => status(m)));
      return all.every((s) => s !== null && s.lastApplied >= target) && new Set(all.map((s) => s!.lastApplied)).size === 1
        ? all as GetStatusResponse[] : null;
    });
    expect(new Set(statuses.map((s) => s.stateHash)).size, 'state hashes').toBe(1);
    for (const s of statuses) expect(s.members.filter((m) => m.voter).map((m) => m.id).sort()).toEqual(members.map((m) => m.id).sort());

    for (const m of members) {
      const { orders } = await listOrders(m.exchange, 'trader', 10_000);
      const byCid = new Map<string, number>();
      for (const o of orders) byCid.set(o.clientOrderId, (byCid.get(o.clientOrderId) ?? 0) + 1);
      for (const [cid, orderId] of acked) {
        expect(byCid.get(cid), `${cid} on ${m.id}`).toBe(1);
        expect(orders.find((o) => o.clientOrderId === cid)?.orderId).toBe(orderId);
      }
    }

    // SIGTERM on the leader of the shrunk cluster (a real signal): it hands leadership to the
    // other voters of the new configuration and exits 0 within the 5 s budget.
    const leaderProc = node(finalLeader);
    const exited = new Promise<number | null>((ok) => leaderProc.child!.once('exit', (code) => ok(code)));
    const termAt = Date.now();
    leaderProc.child!.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(Date.now() - termAt).toBeLessThan(5_000);
    leaderProc.child = null;
    expect(leaderProc.logs.some((l) => l.includes('leadership handed over before stopping')), logs()).toBe(true);
    const survivors = members.filter((m) => m !== leaderProc);
    const next = await agreedLeader(survivors);
    expect(survivors.map((m) => m.id)).toContain(next);
    await submitOrder(node(next).exchange, limit('trader', 'after-sigterm', 'buy', '1', '100'), 5000);
    console.log(`membership e2e: ${acked.size} orders acknowledged, ${failures} retried submits`);
    if (process.env['MEMBER_E2E_LOG'] !== undefined) console.log(logs(200));
  }, 120_000);
});

async function stopProc(p: Proc, signal: NodeJS.Signals): Promise<void> {
  const child = p.child;
  if (child === null) return;
  p.child = null;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((ok) => child.once('exit', () => ok()));
  child.kill(signal);
  await exited;
}
