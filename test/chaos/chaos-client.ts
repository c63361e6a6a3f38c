/**
 * Concurrent chaos clients: each owns a few accounts, submits deposits, withdrawals, orders,
 * reduces and cancels with unique ids to random nodes, retries transient failures with the SAME
 * id (safe by the contract), and records everything in the ChaosHistory.
 */
import { credentials, Metadata, status as Code, type ServiceError } from '@grpc/grpc-js';
import {
  ExchangeServiceClient, OrderStatus, OrderType, Side, TimeInForce,
  type DepositRequest, type SubmitOrderRequest, type WithdrawRequest,
} from '../../src/gen/raftex/v1/exchange.js';
import type { ChaosHistory, KeyedWrite, SeenTrade } from './chaos-history.js';
import type { Prng } from './prng.js';

/** Per-call deadline: long enough to ride out an election, short enough to keep the load moving. */
const callDeadlineMs = 3000;
/** Attempts per write before it is recorded as uncertain (resolved at the end). */
const writeAttemptsMax = 4;

export const chaosSymbols = ['AAPL', 'MSFT'] as const;

type Reply = { logIndex: number; ok: boolean; orderId: string; summary: string };

function isBusinessRejection(err: ServiceError): boolean {
  return err.code === Code.FAILED_PRECONDITION;
}

export class ChaosClientPool {
  private readonly clients: ExchangeServiceClient[];

  constructor(addresses: readonly string[]) {
    this.clients = addresses.map((a) => new ExchangeServiceClient(a, credentials.createInsecure(), {
      'grpc.initial_reconnect_backoff_ms': 100, 'grpc.max_reconnect_backoff_ms': 500,
    }));
  }

  pick(rng: Prng): ExchangeServiceClient {
    return this.clients[rng.int(this.clients.length)]!;
  }

  get(i: number): ExchangeServiceClient {
    return this.clients[i]!;
  }

  get size(): number {
    return this.clients.length;
  }

  close(): void {
    for (const c of this.clients) c.close();
  }
}

function call<Req, Res>(client: ExchangeServiceClient, method: string, request: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: Req, m: Metadata, o: object, cb: (e: ServiceError | null, r: Res) => void) => void>)[method]!;
    fn.call(client, request, new Metadata(), { deadline: Date.now() + callDeadlineMs }, (err, res) => (err ? reject(err) : resolve(res)));
  });
}

/** Sends a keyed write; OK and FAILED_PRECONDITION are both committed outcomes. */
async function sendKeyed(pool: ChaosClientPool, rng: Prng, method: string, request: object,
  toReply: (res: never) => Reply): Promise<Reply> {
  try {
    return toReply(await call(pool.pick(rng), method, request) as never);
  } catch (e) {
    const err = e as ServiceError;
    if (isBusinessRejection(err)) {
      // The api puts the rejection's log index in trailing metadata (raftex-log-index).
      const fromMetadata = err.metadata?.get('raftex-log-index')[0];
      const m = /log_index=(\d+)/.exec(err.details ?? '');
      const logIndex = fromMetadata !== undefined ? Number(fromMetadata) : m ? Number(m[1]) : -1;
      return { logIndex, ok: false, orderId: '', summary: `rejected: ${err.details}` };
    }
    throw err;
  }
}

export class ChaosClient {
  private readonly accounts: string[];
  private readonly openOrders: { orderId: string; accountId: string }[] = [];
  private seq = 0;

  constructor(readonly index: number, private readonly pool: ChaosClientPool, private readonly rng: Prng,
    private readonly history: ChaosHistory) {
    this.accounts = [0, 1, 2].map((k) => `c${index}-a${k}`);
  }

  private nextId(prefix: string): string {
    return `${prefix}-c${this.index}-${this.seq++}`;
  }

  private async keyed(write: Omit<KeyedWrite, 'outcome'>): Promise<KeyedWrite> {
    const entry: KeyedWrite = { ...write, outcome: { kind: 'uncertain', lastError: 'not sent' } };
    this.history.writes.push(entry);
    this.history.ops++;
    for (let attempt = 0; attempt < writeAttemptsMax; attempt++) {
      try {
        const reply = await write.resend();
        entry.outcome = { kind: 'acked', ...reply };
        return entry;
      } catch (e) {
        entry.outcome = { kind: 'uncertain', lastError: String((e as Error).message) };
        await new Promise((r) => setTimeout(r, 100 + this.rng.int(200)));
      }
    }
    return entry;
  }

  deposit(accountId: string, asset: string, amount: string): Promise<KeyedWrite> {
    const request: DepositRequest = { accountId, asset, amount, requestId: this.nextId('dep') };
    return this.keyed({ kind: 'deposit', key: `${accountId}/${request.requestId}`, asset, amountCents: toCents(amount, asset),
      resend: () => sendKeyed(this.pool, this.rng, 'deposit', request,
        (r: { logIndex: number }) => ({ logIndex: r.logIndex, ok: true, orderId: '', summary: 'ok' })) });
  }

  withdraw(accountId: string, asset: string, amount: string): Promise<KeyedWrite> {
    const request: WithdrawRequest = { accountId, asset, amount, requestId: this.nextId('wd') };
    return this.keyed({ kind: 'withdraw', key: `${accountId}/${request.requestId}`, asset, amountCents: toCents(amount, asset),
      resend: () => sendKeyed(this.pool, this.rng, 'withdraw', request,
        (r: { logIndex: number }) => ({ logIndex: r.logIndex, ok: true, orderId: '', summary: 'ok' })) });
  }

  async order(): Promise<void> {
    const accountId = this.accounts[this.rng.int(this.accounts.length)]!;
    const buy = this.rng.int(2) === 0;
    const request: SubmitOrderRequest = {
      accountId, clientOrderId: this.nextId('ord'), symbol: chaosSymbols[this.rng.int(chaosSymbols.length)]!,
      side: buy ? Side.SIDE_BUY : Side.SIDE_SELL, type: OrderType.ORDER_TYPE_LIMIT,
      quantity: String(1 + this.rng.int(5)), price: `${99 + this.rng.int(3)}.${String(this.rng.int(100)).padStart(2, '0')}`,
      timeInForce: this.rng.int(5) === 0 ? TimeInForce.TIME_IN_FORCE_IOC : TimeInForce.TIME_IN_FORCE_GTC,
    };
    const w = await this.keyed({ kind: 'order', key: `${accountId}/${request.clientOrderId}`, asset: '', amountCents: 0n,
      resend: () => sendKeyed(this.pool, this.rng, 'submitOrder', request,
        (r: { logIndex: number; orderId: string; status: OrderStatus }) => ({ logIndex: r.logIndex, ok: true, orderId: r.orderId,
          summary: `order ${r.orderId}` })) });
    if (w.outcome.kind === 'acked' && w.outcome.ok) this.openOrders.push({ orderId: w.outcome.orderId, accountId });
  }

  /** Cancel or reduce one of our orders. Neither carries an idempotency key, so no blind retries. */
  async amend(): Promise<void> {
    if (this.openOrders.length === 0) return this.order();
    const i = this.rng.int(this.openOrders.length);
    const target = this.openOrders[i]!;
    this.history.ops++;
    const cancel = this.rng.int(2) === 0;
    try {
      if (cancel) {
        await call(this.pool.pick(this.rng), 'cancelOrder', { accountId: target.accountId, orderId: target.orderId });
        this.history.acknowledgedCancels.push(target);
      } else {
        await call(this.pool.pick(this.rng), 'reduceOrder', { accountId: target.accountId, orderId: target.orderId, quantity: '1' });
      }
    } catch {
      // FAILED_PRECONDITION (already filled/cancelled) or transient: either way, forget the order.
    }
    this.openOrders.splice(i, 1);
  }

  async fund(): Promise<void> {
    for (const a of this.accounts) {
      await this.deposit(a, 'USD', '1000000.00');
      for (const s of chaosSymbols) await this.deposit(a, s, '100000');
    }
  }

  async run(until: number): Promise<void> {
    while (Date.now() < until) {
      const r = this.rng.int(100);
      const account = this.accounts[this.rng.int(this.accounts.length)]!;
      if (r < 10) await this.deposit(account, 'USD', `${1 + this.rng.int(100)}.${String(this.rng.int(100)).padStart(2, '0')}`);
      else if (r < 15) await this.withdraw(account, 'USD', `${1 + this.rng.int(5)}.00`);
      else if (r < 70) await this.order();
      else await this.amend();
    }
  }
}

export function toCents(amount: string, asset: string): bigint {
  const [whole, frac = ''] = amount.split('.');
  if (asset !== 'USD') return BigInt(whole!);
  return BigInt(whole!) * 100n + BigInt((frac + '00').slice(0, 2));
}

/**
 * Follows StreamTrades from log index 1 on some node; when the stream breaks (node killed,
 * partition), resumes on another node from the last seen index, skipping trades already seen.
 */
export class TradeFollower {
  readonly seen: SeenTrade[] = [];
  private readonly seenIds = new Set<string>();
  private stopped = false;
  private current: { cancel(): void } | null = null;
  duplicates = 0;

  constructor(private readonly pool: ChaosClientPool, private readonly rng: Prng) {}

  start(): void {
    this.subscribe(1);
  }

  private subscribe(from: number): void {
    if (this.stopped) return;
    const stream = this.pool.pick(this.rng).streamTrades({ symbol: '', fromLogIndex: from });
    this.current = stream;
    let resumed = false;
    const resume = () => {
      if (resumed || this.stopped) return;
      resumed = true;
      const last = this.seen.at(-1)?.logIndex ?? 1;
      setTimeout(() => this.subscribe(last), 200);
    };
    stream.on('data', (t: { tradeId: string; logIndex: number }) => {
      if (this.seenIds.has(t.tradeId)) {
        // Re-delivery at the resume seam is expected (we resume at the last index); within one
        // stream a repeat is a duplicate.
        if (t.logIndex !== (this.seen.at(-1)?.logIndex ?? -1)) this.duplicates++;
        return;
      }
      this.seenIds.add(t.tradeId);
      this.seen.push({ tradeId: t.tradeId, logIndex: t.logIndex });
    });
    stream.on('error', resume);
    stream.on('end', resume);
  }

  stop(): void {
    this.stopped = true;
    this.current?.cancel();
  }
}
