/**
 * `raftex replay <message.csv> [--orderbook F] [--seed-book F] [--symbol S] [--concurrency N]
 * [--limit N] [--keep]`: pushes real LOBSTER order flow through a live cluster.
 *
 * The LOBSTER adapter decides each command from the previous replies (order ids are log indexes),
 * so a pipelined client cannot run it against the cluster directly. Instead the replay runs
 * in-process first (which also gives the top-of-book match against the orderbook file), records
 * the exact command stream with the engine's replies, and then sends that stream to the cluster
 * with up to N requests in flight, in stream order. An order's cluster id comes from its
 * placement's reply, so a cancel or reduce waits for its placement and nothing after it is sent
 * earlier (the stream's order is the log's order as long as the node handles one connection's
 * requests in arrival order). Every cluster reply is compared with the in-process one, and at the
 * end the cluster's book with the in-process engine's book.
 *
 * Every id carries a fresh run id and the accounts are the run's own, so a second run never hits
 * the first run's idempotency entries; the run's open orders are cancelled at the end (unless
 * --keep) so the next run starts from an empty book.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { status as grpcStatus } from '@grpc/grpc-js';
import { InvalidArgumentError } from 'commander';
import type { Command as CommanderCommand } from 'commander';
import type { Command, LevelView, OrderBookView, Reply } from '../../domain/index.js';
import { OrderStatus, Side, TimeInForce, OrderType } from '../gen/raftex/v1/exchange.js';
import type { PriceLevel, SubmitOrderResponse } from '../gen/raftex/v1/exchange.js';
import { assertNever } from '../raft/assert.js';
import { parseLobsterBook, parseLobsterFirstRow, parseLobsterMessages } from '../replay/lobster-csv.js';
import type { LobsterBookRow } from '../replay/lobster-csv.js';
import { formatReplayLine, replayInProcess } from '../replay/in-process-replay.js';
import { topOfBookMatches } from '../replay/top-of-book.js';
import type { RecordedCommand } from '../replay/in-process-replay.js';
import type { ReplayAccounts } from '../replay/lobster-replay.js';
import { isServiceError } from './client.js';
import type { NodeClient } from './client.js';
import { parseNonNegativeInt, withClient } from './client-commands.js';

/** Most requests in flight (`--concurrency`). */
export const replayConcurrencyMax = 1024;
/** Default requests in flight. */
export const defaultReplayConcurrency = 16;
/** Attempts per request on UNAVAILABLE / DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED (same ids: safe). */
export const replayAttemptsMax = 8;
/** Book depth compared at the end: the contract's maximum, i.e. the whole book in practice. */
export const replayBookDepth = 1000;
/** Mismatching replies kept for the report; the count covers them all. */
export const replyMismatchSampleMax = 10;
/** Least time between progress-bar redraws, ms. */
const progressIntervalMs = 100;
/** Progress line interval when stderr is not a terminal (a file or a pipe). */
const progressLogIntervalMs = 5_000;
const progressBarWidth = 30;

/** What the cluster part of a run measured. */
export interface ClusterReplayResult {
  readonly messages: number;
  readonly requests: number;
  readonly elapsedMs: number;
  readonly ordersPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly retries: number;
  /**
   * Cancels/reduces that had to wait for their order's placement reply (the pipeline drains at
   * each one): LOBSTER cancels many orders right after placing them, so this bounds the rate.
   */
  readonly dependencyWaits: number;
  readonly replyMismatches: number;
  readonly replyMismatchSamples: readonly string[];
  readonly bookMatches: boolean;
  /** The cluster's final top of book against the orderbook file's row for the last message (null: no such row). */
  readonly lastRowTopMatches: boolean | null;
  readonly cancelledAtEnd: number;
}

/** LOBSTER file names start with the ticker (AAPL_2012-06-21_...). */
function symbolFromFileName(path: string): string {
  return basename(path).split('_')[0] ?? '';
}

function parseConcurrency(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n < 1 || n > replayConcurrencyMax) throw new InvalidArgumentError(`must be 1-${replayConcurrencyMax}`);
  return n;
}

/** Registers `raftex replay`. */
export function registerReplayCommand(program: CommanderCommand): void {
  program
    .command('replay')
    .description('push a LOBSTER message file through the cluster; compare with the in-process replay')
    .argument('<message-csv>', 'LOBSTER message file')
    .option('--orderbook <file>', 'LOBSTER orderbook file: the in-process top of book is compared row by row')
    .option('--seed-book <file>', 'LOBSTER orderbook file whose first row seeds the book')
    .option('--symbol <symbol>', 'instrument (default: the ticker in the file name)')
    .option('--concurrency <n>', `requests in flight (1-${replayConcurrencyMax})`, parseConcurrency, defaultReplayConcurrency)
    .option('--limit <n>', 'replay only the first N messages', parseNonNegativeInt)
    .option('--keep', 'leave the run\'s open orders in the book (default: cancel them at the end)', false)
    .action(async (file: string, o: { orderbook?: string; seedBook?: string; symbol?: string; concurrency: number; limit?: number; keep: boolean }, cmd: CommanderCommand) => {
      await withClient(cmd, async (client, g) => {
        const symbol = o.symbol ?? symbolFromFileName(file);
        let messages = parseLobsterMessages(readFileSync(file, 'utf8'));
        if (o.limit !== undefined) messages = messages.slice(0, o.limit);
        // Only the top level is compared, so only it is parsed.
        const orderbook = o.orderbook === undefined ? undefined : parseLobsterBook(readFileSync(o.orderbook, 'utf8'), 1);
        const seedBook = o.seedBook === undefined ? undefined : parseLobsterFirstRow(readFileSync(o.seedBook, 'utf8'));
        // Fresh per run: ids must never repeat an earlier run's (idempotency would answer with its replies).
        const runId = `rp${Date.now().toString(36)}${randomBytes(3).toString('hex')}`;
        const accounts: ReplayAccounts = { buyer: `${runId}.buyer`, seller: `${runId}.seller`, taker: `${runId}.taker` };
        const record: RecordedCommand[] = [];
        const summary = replayInProcess(messages, { symbol, orderbook, seedBook, runId, accounts, record });
        const before = await withRetries(() => client.call('getOrderBook', { symbol, depth: 1 }));
        if (before.bids.length > 0 || before.asks.length > 0) {
          console.error(`warning: the cluster's ${symbol} book is not empty before the run; the book comparison will likely fail`);
        }
        const cluster = await replayThroughCluster(client, record, {
          symbol, messages: messages.length, concurrency: o.concurrency, accounts, keep: o.keep,
          localBook: summary.exchange.orderBook(symbol, replayBookDepth),
          lastRow: messages.length === 0 ? undefined : orderbook?.[messages.length - 1],
        });
        if (g.json) {
          const { exchange: _exchange, ...replay } = summary;
          console.log(JSON.stringify({ runId, accounts, replay, replayLine: formatReplayLine(summary), cluster }));
        } else {
          console.log(formatReplayLine(summary));
          console.log(formatClusterLine(cluster));
          for (const m of cluster.replyMismatchSamples) console.error(`reply mismatch: ${m}`);
          console.error(`${cluster.requests} requests, ${cluster.dependencyWaits} cancels/reduces waited for their order's placement, `
            + `${cluster.retries} retries, ${cluster.cancelledAtEnd} open orders cancelled at the end`);
        }
        if (!cluster.bookMatches || cluster.replyMismatches > 0) process.exitCode = 1;
      });
    });
}

/** `cluster: <msgs> msgs, <orders/s> orders/s, p50=<ms> ms, p99=<ms> ms, book matches in-process: yes|no`. */
export function formatClusterLine(c: ClusterReplayResult): string {
  return `cluster: ${c.messages} msgs, ${Math.round(c.ordersPerSec)} orders/s, p50=${c.p50Ms.toFixed(2)} ms, `
    + `p99=${c.p99Ms.toFixed(2)} ms, book matches in-process: ${c.bookMatches ? 'yes' : 'no'}`;
}

interface ClusterReplayOptions {
  readonly symbol: string;
  readonly messages: number;
  readonly concurrency: number;
  readonly accounts: ReplayAccounts;
  readonly keep: boolean;
  readonly localBook: OrderBookView | null;
  /** The orderbook file's row after the last replayed message, if given. */
  readonly lastRow: LobsterBookRow | undefined;
}

/** A counting semaphore: at most `limit` holders; waiters are served in FIFO order. */
class Window {
  private held = 0;
  private readonly waiters: (() => void)[] = [];
  private drained: (() => void)[] = [];
  constructor(private readonly limit: number) {}

  async acquire(): Promise<void> {
    if (this.held < this.limit) {
      this.held++;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  release(): void {
    const next = this.waiters.shift();
    if (next !== undefined) {
      next(); // the slot passes straight to the next waiter
      return;
    }
    this.held--;
    if (this.held === 0) for (const d of this.drained.splice(0)) d();
  }

  /** Resolves once nothing is held. */
  idle(): Promise<void> {
    if (this.held === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }
}

/** A one-line progress bar on stderr, redrawn at most every `progressIntervalMs`. */
class Progress {
  private lastDraw = 0;
  /** A redrawn bar on a terminal; into a file or pipe, one line per interval (a log, not a mess of \r). */
  private readonly tty = process.stderr.isTTY === true;
  constructor(private readonly label: string, private readonly total: number, private readonly started: number) {}

  update(done: number, force = false): void {
    const now = performance.now();
    if (!force && now - this.lastDraw < (this.tty ? progressIntervalMs : progressLogIntervalMs)) return;
    this.lastDraw = now;
    const frac = this.total === 0 ? 1 : done / this.total;
    const filled = Math.round(frac * progressBarWidth);
    const rate = now > this.started ? Math.round((done * 1000) / (now - this.started)) : 0;
    const text = `${this.label} [${'#'.repeat(filled)}${'.'.repeat(progressBarWidth - filled)}] ${done}/${this.total} requests, ${rate}/s`;
    process.stderr.write(this.tty ? `\r${text} ` : `${text}\n`);
  }

  finish(done: number): void {
    this.update(done, true);
    if (this.tty) process.stderr.write('\n');
  }
}

/**
 * Runs `op` until it succeeds or fails with something other than UNAVAILABLE /
 * DEADLINE_EXCEEDED / RESOURCE_EXHAUSTED (a follower between leaders, an overloaded node), at
 * most replayAttemptsMax times with a growing pause. Safe for reads, and for writes because the
 * replay's ids make a repeat apply once.
 */
async function withRetries<T>(op: (attempt: number) => Promise<T>, onRetry: () => void = () => undefined): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (e) {
      if (!isServiceError(e) || !isRetryable(e.code) || attempt >= replayAttemptsMax) throw e;
      onRetry();
      await new Promise((r) => setTimeout(r, 50 * attempt));
    }
  }
}

/** The gRPC codes after which the same request (same ids) is simply sent again. */
function isRetryable(code: number): boolean {
  return code === grpcStatus.UNAVAILABLE || code === grpcStatus.DEADLINE_EXCEEDED || code === grpcStatus.RESOURCE_EXHAUSTED;
}

/** Decimal text without insignificant zeros ("585.30" and "585.3" compare equal). */
function canonDecimal(text: string): string {
  if (!text.includes('.')) return text.replace(/^0+(?=\d)/, '');
  return text.replace(/^0+(?=\d)/, '').replace(/0+$/, '').replace(/\.$/, '');
}

function statusName(s: OrderStatus): string {
  switch (s) {
    case OrderStatus.ORDER_STATUS_NEW: return 'new';
    case OrderStatus.ORDER_STATUS_PARTIALLY_FILLED: return 'partiallyFilled';
    case OrderStatus.ORDER_STATUS_FILLED: return 'filled';
    case OrderStatus.ORDER_STATUS_CANCELLED: return 'cancelled';
    default: return `status ${String(s)}`;
  }
}

/** What a reply says about the book, without ids or log indexes (they differ between the two runs). */
function localSignature(reply: Reply): string {
  switch (reply.kind) {
    case 'balance': return `balance ${reply.balance.asset} ${canonDecimal(reply.balance.available)}`;
    case 'order':
      return `order ${reply.status} filled ${canonDecimal(reply.filledQuantity)} left ${canonDecimal(reply.remainingQuantity)} trades `
        + reply.trades.map((t) => `${canonDecimal(t.quantity)}@${canonDecimal(t.price)}`).join(',');
    case 'cancel': return `cancel ${reply.status} ${canonDecimal(reply.cancelledQuantity)}`;
    case 'reduce': return `reduce ${reply.status} ${canonDecimal(reply.remainingQuantity)}`;
    case 'rejected': return 'rejected';
    default: return assertNever(reply);
  }
}

function orderSignature(r: SubmitOrderResponse): string {
  return `order ${statusName(r.status)} filled ${canonDecimal(r.filledQuantity)} left ${canonDecimal(r.remainingQuantity)} trades `
    + r.trades.map((t) => `${canonDecimal(t.quantity)}@${canonDecimal(t.price)}`).join(',');
}

function levelsEqual(local: readonly LevelView[], remote: readonly PriceLevel[]): boolean {
  if (local.length !== remote.length) return false;
  return local.every((l, i) => {
    const r = remote[i]!;
    return canonDecimal(l.price) === canonDecimal(r.price) && canonDecimal(l.quantity) === canonDecimal(r.quantity)
      && l.orderCount === r.orderCount;
  });
}

/** The q-quantile (0..1) of sorted values; 0 when empty. */
function quantile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** A sent request's outcome: the cluster's order id for placements, and its reply signature. */
interface Outcome {
  readonly orderId: string | null;
  readonly signature: string;
}

/**
 * Sends the recorded command stream to the cluster in order with a window of in-flight requests;
 * compares every reply and the final book with the in-process run.
 */
export async function replayThroughCluster(client: NodeClient, record: readonly RecordedCommand[], o: ClusterReplayOptions): Promise<ClusterReplayResult> {
  const window = new Window(o.concurrency);
  const latencies = new Float64Array(record.length);
  /** Local order id -> its placement's outcome (the cluster's id for the same order). */
  const placements = new Map<string, Promise<Outcome>>();
  /** Local order ids whose placement has been answered. */
  const answered = new Set<string>();
  let dependencyWaits = 0;
  const mismatchSamples: string[] = [];
  let mismatches = 0;
  let retries = 0;
  let done = 0;
  let measured = 0;
  let failure: unknown = null;
  const started = performance.now();
  const progress = new Progress('replay', record.length, started);

  /** One request with retries; FAILED_PRECONDITION is the business rejection the log decided. */
  function send(command: Command): Promise<Outcome> {
    return withRetries(async (attempt) => {
      try {
        return await sendOnce(command);
      } catch (e) {
        if (!isServiceError(e) || e.code !== grpcStatus.FAILED_PRECONDITION) throw e;
        // A cancel/reduce retried after a lost reply finds the order already changed: it applied.
        if (attempt > 1 && (command.type === 'cancelOrder' || command.type === 'reduceOrder')) return { orderId: null, signature: 'retried' };
        return { orderId: null, signature: 'rejected' };
      }
    }, () => retries++);
  }

  async function sendOnce(command: Command): Promise<Outcome> {
    switch (command.type) {
      case 'deposit': {
        const r = await client.call('deposit', { accountId: command.accountId, asset: command.asset, amount: command.amount, requestId: command.requestId });
        return { orderId: null, signature: `balance ${r.balance?.asset ?? ''} ${canonDecimal(r.balance?.available ?? '')}` };
      }
      case 'withdraw': {
        const r = await client.call('withdraw', { accountId: command.accountId, asset: command.asset, amount: command.amount, requestId: command.requestId });
        return { orderId: null, signature: `balance ${r.balance?.asset ?? ''} ${canonDecimal(r.balance?.available ?? '')}` };
      }
      case 'placeOrder': {
        const r = await client.call('submitOrder', {
          accountId: command.accountId, clientOrderId: command.clientOrderId, symbol: command.symbol,
          side: command.side === 'buy' ? Side.SIDE_BUY : Side.SIDE_SELL,
          type: command.orderType === 'limit' ? OrderType.ORDER_TYPE_LIMIT : OrderType.ORDER_TYPE_MARKET,
          quantity: command.quantity, price: command.price ?? '',
          timeInForce: command.timeInForce === 'gtc' ? TimeInForce.TIME_IN_FORCE_GTC
            : command.timeInForce === 'ioc' ? TimeInForce.TIME_IN_FORCE_IOC : TimeInForce.TIME_IN_FORCE_FOK,
        });
        return { orderId: r.orderId, signature: orderSignature(r) };
      }
      case 'cancelOrder': {
        const r = await client.call('cancelOrder', { accountId: command.accountId, orderId: command.orderId });
        return { orderId: null, signature: `cancel ${statusName(r.status)} ${canonDecimal(r.cancelledQuantity)}` };
      }
      case 'reduceOrder': {
        const r = await client.call('reduceOrder', { accountId: command.accountId, orderId: command.orderId, quantity: command.quantity });
        return { orderId: null, signature: `reduce ${statusName(r.status)} ${canonDecimal(r.remainingQuantity)}` };
      }
      default:
        return assertNever(command);
    }
  }

  function noteMismatch(text: string): void {
    mismatches++;
    if (mismatchSamples.length < replyMismatchSampleMax) mismatchSamples.push(text);
  }

  for (let i = 0; i < record.length && failure === null; i++) {
    const rec = record[i]!;
    let command: Command = rec.command;
    if (command.type === 'cancelOrder' || command.type === 'reduceOrder') {
      // The placement must have been answered (and so applied) before its cancel/reduce is sent.
      const placement = placements.get(command.orderId);
      if (placement !== undefined && !answered.has(command.orderId)) dependencyWaits++;
      const placed = placement === undefined ? null : await placement.catch(() => null);
      if (placed === null || placed.orderId === null) {
        noteMismatch(`command ${i + 1}: ${command.type} of ${command.orderId}, which the cluster did not place`);
        done++;
        continue;
      }
      command = { ...command, orderId: placed.orderId };
    }
    await window.acquire();
    if (failure !== null) {
      window.release();
      break;
    }
    const sentAt = performance.now();
    const outcome = send(command);
    const localOrderId = rec.reply.kind === 'order' ? rec.reply.orderId : null;
    if (localOrderId !== null) placements.set(localOrderId, outcome);
    void outcome.then((out) => {
      if (localOrderId !== null) answered.add(localOrderId);
      latencies[measured++] = performance.now() - sentAt;
      const want = localSignature(rec.reply);
      if (out.signature !== want && out.signature !== 'retried') noteMismatch(`command ${i + 1} (${rec.command.type}): cluster "${out.signature}", in-process "${want}"`);
    }, (e: unknown) => {
      failure ??= e;
    }).finally(() => {
      done++;
      window.release();
      progress.update(done);
    });
  }
  await window.idle();
  const elapsedMs = performance.now() - started;
  progress.finish(done);
  if (failure !== null) throw failure;

  const book = await withRetries(() => client.call('getOrderBook', { symbol: o.symbol, depth: replayBookDepth }));
  const bookMatches = o.localBook !== null && levelsEqual(o.localBook.bids, book.bids) && levelsEqual(o.localBook.asks, book.asks);
  const cancelledAtEnd = o.keep ? 0 : await cancelRunOrders(client, o, send);
  const lastRowTopMatches = o.lastRow === undefined ? null : topOfBookMatches({ bids: book.bids, asks: book.asks }, o.lastRow);
  const sorted = latencies.slice(0, measured).sort();
  return {
    messages: o.messages, requests: record.length, elapsedMs,
    ordersPerSec: elapsedMs > 0 ? (record.length * 1000) / elapsedMs : 0,
    p50Ms: quantile(sorted, 0.5), p99Ms: quantile(sorted, 0.99), retries, dependencyWaits,
    replyMismatches: mismatches, replyMismatchSamples: mismatchSamples, bookMatches, lastRowTopMatches, cancelledAtEnd,
  };
}

/** Cancels the run's open orders (so the next run starts from an empty book); returns how many. */
async function cancelRunOrders(client: NodeClient, o: ClusterReplayOptions, send: (c: Command) => Promise<Outcome>): Promise<number> {
  const window = new Window(o.concurrency);
  let cancelled = 0;
  let failure: unknown = null;
  for (const accountId of [o.accounts.buyer, o.accounts.seller, o.accounts.taker]) {
    const open = await withRetries(() => client.call('listOrders', { accountId }));
    for (const order of open.orders) {
      await window.acquire();
      void send({ type: 'cancelOrder', accountId, orderId: order.orderId }).then(
        () => cancelled++,
        (e: unknown) => { failure ??= e; },
      ).finally(() => window.release());
    }
  }
  await window.idle();
  if (failure !== null) throw failure;
  return cancelled;
}
