/**
 * Test harness for the exchange: numbers log entries, sends every command through edge
 * validation and the codec exactly as the node would, and checks all invariants after each one.
 */
import {
  checkInvariants, decodeCommand, defaultExchangeConfig, encodeCommand, Exchange, validateCommand,
  type ApplyResult, type Command, type Event, type ExchangeConfig, type RawPlaceOrder, type Reply, type Side, type TimeInForce,
} from '../../domain/index.js';

export const t0 = 1_700_000_000_000;

export class Harness {
  readonly ex: Exchange;
  index = 0;
  private seq = 0;

  constructor(readonly config: ExchangeConfig = defaultExchangeConfig) {
    this.ex = new Exchange(config);
  }

  /** Validates, encodes, decodes and applies; throws if invalid or if an invariant breaks. */
  run(raw: Command | ({ type: 'placeOrder' } & RawPlaceOrder)): ApplyResult {
    const v = validateCommand(raw, this.config);
    if (!v.ok) throw new Error(`invalid command: ${v.error}`);
    return this.applyValid(v.command);
  }

  applyValid(command: Command): ApplyResult {
    const decoded = decodeCommand(encodeCommand(command));
    this.index++;
    const result = this.ex.apply(decoded, { logIndex: this.index, timestampMs: t0 + this.index });
    const problems = checkInvariants(this.ex);
    if (problems.length > 0) throw new Error(`invariants broken after entry ${this.index}:\n${problems.join('\n')}`);
    return result;
  }

  nextId(prefix: string): string {
    return `${prefix}${++this.seq}`;
  }

  deposit(accountId: string, asset: string, amount: string, requestId = this.nextId('r')): ApplyResult {
    return this.run({ type: 'deposit', accountId, asset, amount, requestId });
  }

  withdraw(accountId: string, asset: string, amount: string, requestId = this.nextId('r')): ApplyResult {
    return this.run({ type: 'withdraw', accountId, asset, amount, requestId });
  }

  limit(accountId: string, side: Side, symbol: string, quantity: string, price: string,
    timeInForce: TimeInForce | null = null, clientOrderId = this.nextId('c')): ApplyResult {
    return this.run({ type: 'placeOrder', accountId, clientOrderId, symbol, side, orderType: 'limit', timeInForce, quantity, price });
  }

  market(accountId: string, side: Side, symbol: string, quantity: string,
    timeInForce: TimeInForce | null = null, clientOrderId = this.nextId('c')): ApplyResult {
    return this.run({ type: 'placeOrder', accountId, clientOrderId, symbol, side, orderType: 'market', timeInForce, quantity, price: null });
  }

  cancel(accountId: string, orderId: string): ApplyResult {
    return this.run({ type: 'cancelOrder', accountId, orderId });
  }

  reduce(accountId: string, orderId: string, quantity: string): ApplyResult {
    return this.run({ type: 'reduceOrder', accountId, orderId, quantity });
  }

  /** [available, reserved] of one asset, '-' when the account never held it. */
  bal(accountId: string, asset: string): [string, string] | '-' {
    const b = this.ex.portfolio(accountId).find((x) => x.asset === asset);
    return b ? [b.available, b.reserved] : '-';
  }

  /** The book as 'price x qty (count)' strings, best first. */
  book(symbol: string, depth = 10): { bids: string[]; asks: string[] } {
    const b = this.ex.orderBook(symbol, depth);
    if (!b) throw new Error(`no book ${symbol}`);
    const f = (l: { price: string; quantity: string; orderCount: number }): string => `${l.price} x ${l.quantity} (${l.orderCount})`;
    return { bids: b.bids.map(f), asks: b.asks.map(f) };
  }
}

/** The order id of an accepted order reply. */
export function orderIdOf(r: ApplyResult): string {
  if (r.reply.kind !== 'order') throw new Error(`expected an order reply, got ${JSON.stringify(r.reply)}`);
  return r.reply.orderId;
}

export function replyOf<K extends Reply['kind']>(r: ApplyResult, kind: K): Extract<Reply, { kind: K }> {
  if (r.reply.kind !== kind) throw new Error(`expected a ${kind} reply, got ${JSON.stringify(r.reply)}`);
  return r.reply as Extract<Reply, { kind: K }>;
}

export function eventTypes(r: ApplyResult): string[] {
  return r.events.map((e: Event) => (e.type === 'orderCancelled' ? `orderCancelled:${e.cause}` : e.type));
}
