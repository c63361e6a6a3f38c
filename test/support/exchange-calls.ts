/**
 * Promise helpers over the generated ExchangeService client for end-to-end tests: one function
 * per RPC, a StreamTrades collector, and builders for the common requests.
 */
import * as grpc from '@grpc/grpc-js';
import {
  OrderType,
  Side,
  TimeInForce,
  type DepositRequest,
  type DepositResponse,
  type ExchangeServiceClient,
  type GetPortfolioResponse,
  type ListOrdersResponse,
  type SubmitOrderRequest,
  type SubmitOrderResponse,
  type Trade,
} from '../../src/gen/raftex/v1/exchange.js';
import { unary } from './cluster.js';

export const deposit = (c: ExchangeServiceClient, req: DepositRequest, timeoutMs = 5000): Promise<DepositResponse> =>
  unary(c, c.deposit, req, timeoutMs);

export const submitOrder = (c: ExchangeServiceClient, req: SubmitOrderRequest, timeoutMs = 5000): Promise<SubmitOrderResponse> =>
  unary(c, c.submitOrder, req, timeoutMs);

export const portfolio = (c: ExchangeServiceClient, accountId: string, timeoutMs = 5000): Promise<GetPortfolioResponse> =>
  unary(c, c.getPortfolio, { accountId }, timeoutMs);

export const listOrders = (c: ExchangeServiceClient, accountId: string, timeoutMs = 5000): Promise<ListOrdersResponse> =>
  unary(c, c.listOrders, { accountId }, timeoutMs);

/** A GTC limit order. */
export function limit(accountId: string, clientOrderId: string, side: 'buy' | 'sell', quantity: string, price: string, symbol = 'AAPL'): SubmitOrderRequest {
  return {
    accountId,
    clientOrderId,
    symbol,
    side: side === 'buy' ? Side.SIDE_BUY : Side.SIDE_SELL,
    type: OrderType.ORDER_TYPE_LIMIT,
    quantity,
    price,
    timeInForce: TimeInForce.TIME_IN_FORCE_GTC,
  };
}

/** `{asset: available}` of a portfolio response, for compact assertions. */
export function available(p: GetPortfolioResponse): Record<string, number> {
  return Object.fromEntries(p.balances.map((b) => [b.asset, Number(b.available)]));
}

/** The gRPC status code of a failed call (or undefined if it succeeded / was not a gRPC error). */
export async function codeOf(call: Promise<unknown>): Promise<grpc.status | undefined> {
  try {
    await call;
    return undefined;
  } catch (e) {
    return (e as grpc.ServiceError).code;
  }
}

/** A StreamTrades call that collects what it receives. */
export class TradeCollector {
  readonly trades: Trade[] = [];
  error: grpc.ServiceError | null = null;
  /** Resolves when the server sent its headers: the subscription is registered. */
  readonly registered: Promise<void>;
  private readonly call: grpc.ClientReadableStream<Trade>;
  private waiters: { count: number; resolve: () => void }[] = [];

  constructor(client: ExchangeServiceClient, symbol: string, fromLogIndex: number) {
    this.call = client.streamTrades({ symbol, fromLogIndex });
    this.registered = new Promise((resolve) => this.call.once('metadata', () => resolve()));
    this.call.on('data', (trade: Trade) => {
      this.trades.push(trade);
      this.waiters = this.waiters.filter((w) => {
        if (this.trades.length < w.count) return true;
        w.resolve();
        return false;
      });
    });
    this.call.on('error', (e: grpc.ServiceError) => {
      this.error = e;
    });
  }

  /** Resolves once at least `count` trades arrived; rejects after `timeoutMs`. */
  waitFor(count: number, timeoutMs = 10_000): Promise<Trade[]> {
    if (this.trades.length >= count) return Promise.resolve(this.trades);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`stream got ${this.trades.length} of ${count} trades (error: ${this.error?.message ?? 'none'})`)), timeoutMs);
      this.waiters.push({ count, resolve: () => {
        clearTimeout(timer);
        resolve(this.trades);
      } });
    });
  }

  cancel(): void {
    this.call.cancel();
  }
}
