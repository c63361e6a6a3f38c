/**
 * The CLI's client verbs: one commander subcommand per ExchangeService call, each talking to
 * `--server`. People get tables; `--json` prints the proto3 JSON of the response (one object per
 * line, so `trades --json` is NDJSON). Any failed call prints its gRPC code and message and exits 1.
 */
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import {
  CancelOrderResponse, DepositResponse, GetOrderBookResponse, GetPortfolioResponse, ListOrdersResponse,
  OrderType, orderStatusToJSON, orderTypeToJSON, ReduceOrderResponse, Side, sideToJSON, SubmitOrderResponse,
  TimeInForce, Trade, WithdrawResponse,
} from '../gen/raftex/v1/exchange.js';
import { OrderStatus } from '../gen/raftex/v1/exchange.js';
import { Decimal } from 'decimal.js';
import { codeName, defaultServer, defaultTimeoutMs, describeError, isServiceError, NodeClient } from './client.js';
import { renderPairs, renderTable } from './table.js';
import type { Cell } from './table.js';

/** Options every client verb inherits from the program. */
export interface ClientGlobals {
  readonly server: string;
  readonly json: boolean;
  readonly timeoutMs: number;
}

/** Adds the global client options (`--server`, `--json`, `--timeout`) to the program. */
export function addClientOptions(program: Command): void {
  program
    .option('-s, --server <host:port>', 'node to talk to; a comma-separated list uses the first that answers', defaultServer)
    .option('--json', 'print responses as JSON (one object per line)', false)
    .option('--timeout <ms>', 'deadline per call in ms', parseNonNegativeInt, defaultTimeoutMs);
}

/** Reads the global options as a verb sees them. */
export function clientGlobals(cmd: Command): ClientGlobals {
  const o = cmd.optsWithGlobals<{ server?: string; json?: boolean; timeout?: number }>();
  return { server: o.server ?? defaultServer, json: o.json ?? false, timeoutMs: o.timeout ?? defaultTimeoutMs };
}

/** commander argument parser for a non-negative integer (log index, depth, ms). */
export function parseNonNegativeInt(value: string): number {
  if (!/^[0-9]+$/.test(value)) throw new InvalidArgumentError('expected a non-negative integer');
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError('too large');
  return n;
}

/** Runs a verb against the node; reports a failure (code + message) and sets exit status 1. */
export async function withClient(cmd: Command, body: (client: NodeClient, g: ClientGlobals) => Promise<void>): Promise<void> {
  const g = clientGlobals(cmd);
  let client: NodeClient | null = null;
  try {
    client = await connect(g);
    await body(client, g);
  } catch (e) {
    if (g.json && isServiceError(e)) {
      console.error(JSON.stringify({ error: { code: e.code, codeName: codeName(e.code), message: e.details } }));
    } else {
      console.error(`error: ${describeError(e)}`);
    }
    process.exitCode = 1;
  } finally {
    client?.close();
  }
}

/** How long `--server a,b,c` waits for each node's GetStatus before trying the next. */
const serverProbeTimeoutMs = 1_000;

/**
 * The node to use. One address: that node, whatever state it is in (errors come from the verb).
 * A list: the first whose GetStatus answers, so a script naming every member survives one down.
 */
async function connect(g: ClientGlobals): Promise<NodeClient> {
  const servers = g.server.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (servers.length <= 1) return new NodeClient(servers[0] ?? defaultServer, g.timeoutMs);
  let lastError: unknown = null;
  for (const address of servers) {
    const candidate = new NodeClient(address, g.timeoutMs);
    try {
      await candidate.status(Math.min(serverProbeTimeoutMs, g.timeoutMs));
      return candidate;
    } catch (e) {
      lastError = e;
      candidate.close();
    }
  }
  throw lastError;
}

/** Prints `json` for scripts or `human` for people. */
function output(g: ClientGlobals, json: unknown, human: () => string): void {
  console.log(g.json ? JSON.stringify(json) : human());
}

/** `ORDER_STATUS_PARTIALLY_FILLED` -> `PARTIALLY_FILLED`. */
export function shortEnum(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}
const statusName = (s: OrderStatus): string => shortEnum(orderStatusToJSON(s), 'ORDER_STATUS_');
const sideName = (s: Side): string => shortEnum(sideToJSON(s), 'SIDE_');

/** Column widths of `trades` output (log, trade, symbol, qty, price, aggressor, buyer, seller, time). */
const streamColumnWidths = [8, 12, 6, 10, 10, 9, 12, 12, 24];
const tradeHeaders = ['log', 'trade', 'symbol', 'qty', 'price', 'aggressor', 'buyer', 'seller', 'executed at'];
function tradeRow(t: Trade): Cell[] {
  const at = t.executedAt ? new Date(t.executedAt.seconds * 1000 + Math.floor(t.executedAt.nanos / 1e6)).toISOString() : '';
  return [t.logIndex, t.tradeId, t.symbol, t.quantity, t.price, sideName(t.aggressorSide), t.buyerAccountId, t.sellerAccountId, at];
}

/** Registers every client verb on `program`. */
export function registerClientCommands(program: Command): void {
  for (const verb of ['deposit', 'withdraw'] as const) {
    program
      .command(`${verb} <account> <asset> <amount>`)
      .description(verb === 'deposit' ? 'add cash (USD) or shares to an account' : 'take cash or shares out of an account')
      .option('--request-id <id>', 'idempotency key (default: a fresh UUID)')
      .action((account: string, asset: string, amount: string, opts: { requestId?: string }, cmd: Command) =>
        withClient(cmd, async (client, g) => {
          const request = { accountId: account, asset, amount, requestId: opts.requestId ?? randomUUID() };
          const res = verb === 'deposit' ? await client.call('deposit', request) : await client.call('withdraw', request);
          const json = verb === 'deposit' ? DepositResponse.toJSON(res) : WithdrawResponse.toJSON(res);
          output(g, { requestId: request.requestId, ...(json as object) }, () => renderPairs([
            ['asset', res.balance?.asset ?? asset], ['available', res.balance?.available ?? ''],
            ['reserved', res.balance?.reserved ?? ''], ['log index', res.logIndex], ['request id', request.requestId],
          ]));
        }));
  }

  for (const side of ['buy', 'sell'] as const) {
    program
      .command(`${side} <account> <symbol> <qty> [price]`)
      .description(`place a ${side} order (limit with a price, or --market)`)
      .option('--market', 'market order (no price; IOC unless --fok)', false)
      .option('--gtc', 'good till cancelled (the default for limit orders)', false)
      .option('--ioc', 'immediate or cancel', false)
      .option('--fok', 'fill or kill', false)
      .option('--client-order-id <id>', 'idempotency key (default: a fresh UUID)')
      .action((account: string, symbol: string, qty: string, price: string | undefined,
        opts: { market: boolean; gtc: boolean; ioc: boolean; fok: boolean; clientOrderId?: string }, cmd: Command) =>
        withClient(cmd, async (client, g) => {
          const tifs = [opts.gtc, opts.ioc, opts.fok].filter(Boolean).length;
          if (tifs > 1) throw new Error('choose at most one of --gtc, --ioc, --fok');
          const timeInForce = opts.gtc ? TimeInForce.TIME_IN_FORCE_GTC : opts.ioc ? TimeInForce.TIME_IN_FORCE_IOC
            : opts.fok ? TimeInForce.TIME_IN_FORCE_FOK : TimeInForce.TIME_IN_FORCE_UNSPECIFIED;
          const request = {
            accountId: account, clientOrderId: opts.clientOrderId ?? randomUUID(), symbol,
            side: side === 'buy' ? Side.SIDE_BUY : Side.SIDE_SELL,
            type: opts.market ? OrderType.ORDER_TYPE_MARKET : OrderType.ORDER_TYPE_LIMIT,
            quantity: qty, price: price ?? '', timeInForce,
          };
          const res = await client.call('submitOrder', request);
          output(g, { clientOrderId: request.clientOrderId, ...(SubmitOrderResponse.toJSON(res) as object) }, () => {
            const head = renderPairs([
              ['order id', res.orderId], ['status', statusName(res.status)], ['filled', res.filledQuantity],
              ['remaining', res.remainingQuantity],
              // IOC/FOK/market remainders, self-trade stops: how much of the order never traded.
              ...(res.status === OrderStatus.ORDER_STATUS_CANCELLED ? [['cancelled', new Decimal(qty).minus(res.filledQuantity || '0').toFixed()] as [string, Cell]] : []),
              ...(res.cancelReason !== '' ? [['cancel reason', cancelReasonText(res.cancelReason)] as [string, Cell]] : []),
              ['log index', res.logIndex], ['client order id', request.clientOrderId],
            ]);
            return res.trades.length === 0 ? head : `${head}\n\n${renderTable(tradeHeaders, res.trades.map(tradeRow))}`;
          });
        }));
  }

  program
    .command('cancel <account> <orderId>')
    .description('cancel an open order')
    .action((account: string, orderId: string, _opts: unknown, cmd: Command) =>
      withClient(cmd, async (client, g) => {
        const res = await client.call('cancelOrder', { accountId: account, orderId });
        output(g, CancelOrderResponse.toJSON(res), () => renderPairs([
          ['order id', res.orderId], ['status', statusName(res.status)], ['cancelled', res.cancelledQuantity], ['log index', res.logIndex],
        ]));
      }));

  program
    .command('reduce <account> <orderId> <qty>')
    .description('take qty off an open order (keeps its time priority)')
    .action((account: string, orderId: string, qty: string, _opts: unknown, cmd: Command) =>
      withClient(cmd, async (client, g) => {
        const res = await client.call('reduceOrder', { accountId: account, orderId, quantity: qty });
        output(g, ReduceOrderResponse.toJSON(res), () => renderPairs([
          ['order id', res.orderId], ['status', statusName(res.status)], ['remaining', res.remainingQuantity], ['log index', res.logIndex],
        ]));
      }));

  program
    .command('portfolio <account>')
    .description("an account's balances (linearizable)")
    .action((account: string, _opts: unknown, cmd: Command) =>
      withClient(cmd, async (client, g) => {
        const res = await client.call('getPortfolio', { accountId: account });
        output(g, GetPortfolioResponse.toJSON(res), () =>
          `${renderTable(['asset', 'available', 'reserved'], res.balances.map((b) => [b.asset, b.available, b.reserved]))}\n(applied index ${res.appliedIndex})`);
      }));

  program
    .command('book <symbol>')
    .description('aggregated price levels of a symbol (linearizable)')
    .option('--depth <n>', 'levels per side (0 = 10, at most 1000)', parseNonNegativeInt, 10)
    .action((symbol: string, opts: { depth: number }, cmd: Command) =>
      withClient(cmd, async (client, g) => {
        const res = await client.call('getOrderBook', { symbol, depth: opts.depth });
        output(g, GetOrderBookResponse.toJSON(res), () => {
          const rows: Cell[][] = [];
          for (let i = 0; i < Math.max(res.bids.length, res.asks.length); i++) {
            const b = res.bids[i];
            const a = res.asks[i];
            rows.push([b?.orderCount ?? '', b?.quantity ?? '', b?.price ?? '', a?.price ?? '', a?.quantity ?? '', a?.orderCount ?? '']);
          }
          return `${res.symbol}\n${renderTable(['bid orders', 'bid qty', 'bid', 'ask', 'ask qty', 'ask orders'], rows)}\n(applied index ${res.appliedIndex})`;
        });
      }));

  program
    .command('orders <account>')
    .description("an account's open orders (linearizable)")
    .action((account: string, _opts: unknown, cmd: Command) =>
      withClient(cmd, async (client, g) => {
        const res = await client.call('listOrders', { accountId: account });
        output(g, ListOrdersResponse.toJSON(res), () => renderTable(
          ['order', 'client order', 'symbol', 'side', 'type', 'price', 'qty', 'filled', 'status'],
          res.orders.map((o) => [o.orderId, o.clientOrderId, o.symbol, sideName(o.side),
            shortEnum(orderTypeToJSON(o.type), 'ORDER_TYPE_'), o.price, o.quantity, o.filledQuantity, statusName(o.status)]),
        ));
      }));

  program
    .command('trades')
    .description('follow committed trades (Ctrl-C to stop)')
    .option('--symbol <symbol>', 'only this symbol (empty: all)', '')
    .option('--from <index>', 'replay trades from this log index first (0 = live only)', parseNonNegativeInt, 0)
    .action((opts: { symbol: string; from: number }, cmd: Command) =>
      withClient(cmd, (client, g) => followTrades(client, g, opts.symbol, opts.from)));

}

/** Prints trades as they arrive until the server ends the stream or the user interrupts. */
function followTrades(client: NodeClient, g: ClientGlobals, symbol: string, fromLogIndex: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    // No deadline: the stream is meant to run until interrupted.
    const stream = client.exchange.streamTrades({ symbol, fromLogIndex });
    let stopped = false;
    const onSigint = (): void => {
      stopped = true;
      stream.cancel();
    };
    process.once('SIGINT', onSigint);
    const done = (e: unknown | null): void => {
      process.removeListener('SIGINT', onSigint);
      if (e === null || stopped) resolve();
      else reject(e);
    };
    // Rows arrive one at a time, so columns get fixed widths instead of being fitted to the data.
    const line = (cells: readonly Cell[]): string =>
      cells.map((c, i) => String(c).padEnd(streamColumnWidths[i] ?? 0)).join('  ').trimEnd();
    if (!g.json) {
      // Headers arrive once the server registered the subscription: from here nothing is missed.
      stream.on('metadata', () => {
        console.log(line(tradeHeaders));
      });
    }
    let lastIndex = 0;
    stream.on('data', (t: Trade) => {
      lastIndex = t.logIndex;
      console.log(g.json ? JSON.stringify(Trade.toJSON(t)) : line(tradeRow(t)));
    });
    stream.on('error', (e: unknown) => {
      // Say where to pick up: the same index again is safe (a repeat, never a gap).
      // Worth retrying elsewhere only when the stream broke, not when the request was refused.
      const refused = isServiceError(e) && (e.code === status.NOT_FOUND || e.code === status.INVALID_ARGUMENT);
      if (!stopped && !refused) console.error(`trades: stream ended${lastIndex > 0 ? ` after log index ${lastIndex}; resume with --from ${lastIndex}` : ''} (on this or another node, --server)`);
      done(e);
    });
    stream.on('end', () => done(null));
  });
}

/** SubmitOrderResponse.cancel_reason in words (an unknown reason from a newer node as it is). */
function cancelReasonText(reason: string): string {
  switch (reason) {
    case 'ioc':
      return 'ioc (immediate-or-cancel remainder)';
    case 'market':
      return 'market (a market order never rests; a market buy stops where cash runs out)';
    case 'fok':
      return 'fok (could not fill completely: nothing traded)';
    case 'selfTrade':
      return 'selfTrade (self-trade prevention: next in line was your own resting order)';
    default:
      return reason;
  }
}
