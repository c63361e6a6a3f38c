/**
 * Hostile input against a live 3-node cluster: >= 10,000 malformed requests get only
 * INVALID_ARGUMENT / RESOURCE_EXHAUSTED, the log does not grow, no process dies; then
 * business-hostile requests get FAILED_PRECONDITION / NOT_FOUND; then the service still works.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, credentials, Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import {
  CancelOrderRequest, DepositRequest, ExchangeServiceClient, ReduceOrderRequest, SubmitOrderRequest, WithdrawRequest,
} from '../../src/gen/raftex/v1/exchange.js';

const requestTypes: Record<string, { fromPartial(o: never): unknown }> = {
  Deposit: DepositRequest, Withdraw: WithdrawRequest, SubmitOrder: SubmitOrderRequest,
  CancelOrder: CancelOrderRequest, ReduceOrder: ReduceOrderRequest,
};
import { ChaosCluster } from '../chaos/chaos-cluster.js';
import { Prng } from '../chaos/prng.js';
import { malformedRequest, type HostileRequest } from './hostile-requests.js';

const malformedCount = Number(process.env.HOSTILE_COUNT ?? 10_000);
const seed = Number(process.env.SEED ?? 4242);
/** Requests in flight at once: enough to be hostile, few enough for a 2-core CI box. */
const concurrency = 16;

/** Retries of a request answered UNAVAILABLE (see the flood loop). */
const unavailableRetriesMax = 5;

let cluster: ChaosCluster;
let client: ExchangeServiceClient;
let raw: Client;

function lowerFirst(s: string): string {
  return s[0]!.toLowerCase() + s.slice(1);
}

function send(req: HostileRequest): Promise<number> {
  return new Promise((resolve) => {
    const done = (err: ServiceError | null) => resolve(err ? err.code : Code.OK);
    // Generous: on a loaded 2-core CI box a flood queues; the test is about codes, not speed.
    const options = { deadline: Date.now() + 60_000 };
    if (req.kind === 'raw') {
      raw.makeUnaryRequest(`/raftex.v1.ExchangeService/${req.method}`, (b: Buffer) => b, (b: Buffer) => b, req.bytes,
        new Metadata(), options, done);
    } else {
      const fn = (client as unknown as Record<string, (r: unknown, m: Metadata, o: object, cb: (e: ServiceError | null) => void) => void>)[lowerFirst(req.method)]!;
      // Build the message through the generated type so wrong values still encode (unknown enums travel as ints).
      fn.call(client, requestTypes[req.method]!.fromPartial(req.request as never), new Metadata(), options, done);
    }
  });
}

/** The highest log index and term any node reports. */
async function logHead(): Promise<{ lastLogIndex: number; term: number }> {
  const s = await Promise.all(cluster.nodes.map((n) => cluster.status(n, 3000)));
  return { lastLogIndex: Math.max(...s.map((x) => x?.lastLogIndex ?? -1)), term: Math.max(...s.map((x) => x?.term ?? -1)) };
}

describe('hostile input', () => {
  beforeAll(async () => {
    // Direct peer links and a roomy election timeout: this test floods the nodes' event loops
    // on a 2-core box, and an election would add a leader no-op to the log it measures.
    cluster = await ChaosCluster.start({ nodes: 3, electionTimeoutMs: 1000, heartbeatMs: 100, direct: true });
    const until = Date.now() + 30_000;
    while (!(await cluster.leader()) && Date.now() < until) await new Promise((r) => setTimeout(r, 200));
    client = new ExchangeServiceClient(cluster.nodes[0]!.address, credentials.createInsecure());
    raw = new Client(cluster.nodes[1]!.address, credentials.createInsecure());
  }, 60_000);

  afterAll(async () => {
    client?.close();
    raw?.close();
    await cluster?.stop();
  });

  it(`answers ${malformedCount} malformed requests with INVALID_ARGUMENT/RESOURCE_EXHAUSTED and no log growth`, async () => {
    const rng = new Prng(seed);
    // Settle: let the leader's no-op replicate so the index comparison is exact.
    await new Promise((r) => setTimeout(r, 500));
    const before = await logHead();
    const codes = new Map<number, number>();
    const bad: string[] = [];
    let next = 0;
    let retried = 0;
    const worker = async () => {
      while (next < malformedCount) {
        next++;
        const req = malformedRequest(rng);
        let code = await send(req);
        // UNAVAILABLE says nothing about the input (a connection or leadership hiccup while the
        // flood starves a 2-core box): a client retries it, and so does this test, a few times.
        for (let attempt = 1; code === Code.UNAVAILABLE && attempt <= unavailableRetriesMax; attempt++) {
          retried++;
          await new Promise((r) => setTimeout(r, 200 * attempt));
          code = await send(req);
        }
        codes.set(code, (codes.get(code) ?? 0) + 1);
        if (code !== Code.INVALID_ARGUMENT && code !== Code.RESOURCE_EXHAUSTED && bad.length < 30) {
          bad.push(`${Code[code]} for ${req.kind === 'raw' ? `raw ${req.method} ${req.bytes.toString('hex')}` : `${req.method} ${JSON.stringify(req.request).slice(0, 200)}`}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    await new Promise((r) => setTimeout(r, 500));
    const after = await logHead();
    const summary = `${[...codes].map(([c, n]) => `${Code[c]}=${n}`).join(' ')}, ${retried} UNAVAILABLE retried`;
    expect(bad, `seed ${seed}: ${summary}`).toEqual([]);
    // Only a new leader's no-op may be appended (one per term at most, should the flood have
    // starved a heartbeat into an election); no malformed request ever is.
    expect(after.lastLogIndex - before.lastLogIndex, `seed ${seed}: the log grew from malformed requests (before ${JSON.stringify(before)}, after ${JSON.stringify(after)})`)
      .toBeLessThanOrEqual(after.term - before.term);
    expect(cluster.nodes.every((n) => cluster.isUp(n))).toBe(true);
  }, 300_000);

  it('answers business-hostile requests with FAILED_PRECONDITION / NOT_FOUND, then serves correctly', async () => {
    const call = (method: string, request: object) => new Promise<{ code: number; res: unknown }>((resolve) => {
      const fn = (client as unknown as Record<string, (r: object, m: Metadata, o: object, cb: (e: ServiceError | null, r: unknown) => void) => void>)[method]!;
      fn.call(client, request, new Metadata(), { deadline: Date.now() + 10_000 }, (e, r) => resolve({ code: e ? e.code : Code.OK, res: r }));
    });
    expect((await call('cancelOrder', { accountId: 'nobody', orderId: 'O999999' })).code).toBe(Code.FAILED_PRECONDITION);
    expect((await call('reduceOrder', { accountId: 'nobody', orderId: 'O999999', quantity: '1' })).code).toBe(Code.FAILED_PRECONDITION);
    expect((await call('withdraw', { accountId: 'nobody', asset: 'USD', amount: '1.00', requestId: 'w1' })).code).toBe(Code.FAILED_PRECONDITION);
    expect((await call('getOrderBook', { symbol: 'NOPE', depth: 0 })).code).toBe(Code.NOT_FOUND);
    // Another account's order.
    expect((await call('deposit', { accountId: 'alice', asset: 'USD', amount: '1000.00', requestId: 'd1' })).code).toBe(Code.OK);
    const placed = await call('submitOrder', { accountId: 'alice', clientOrderId: 'c1', symbol: 'AAPL', side: 1, type: 1, quantity: '1', price: '10.00', timeInForce: 0 });
    expect(placed.code).toBe(Code.OK);
    const orderId = (placed.res as { orderId: string }).orderId;
    expect((await call('cancelOrder', { accountId: 'mallory', orderId })).code).toBe(Code.FAILED_PRECONDITION);
    // Still correct afterwards.
    const p = await call('getPortfolio', { accountId: 'alice' });
    expect(p.code).toBe(Code.OK);
    const usd = (p.res as { balances: { asset: string; available: string; reserved: string }[] }).balances.find((b) => b.asset === 'USD');
    expect(Number(usd?.available)).toBe(990);
    expect(Number(usd?.reserved)).toBe(10);
    expect(cluster.nodes.every((n) => cluster.isUp(n))).toBe(true);
  }, 60_000);
});
