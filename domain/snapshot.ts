/**
 * Canonical snapshot bytes of the exchange state, and restore.
 *
 * The format is UTF-8 JSON built from arrays in a fixed shape: maps are written in their
 * insertion order (which is a function of the command history, so equal histories give equal
 * bytes) and books level by level in queue order. Restoring rebuilds every map in the same order,
 * so snapshot(restore(s)) is byte-identical to s, and continuing from either gives identical
 * events. The config is recorded and must match on restore.
 */
import { assert, assertNever, fail } from './assert.js';
import type { CompiledConfig } from './config.js';
import { ExchangeState } from './exchange-state.js';
import { Order, type BookSide } from './order-book.js';
import type { OrderIndex } from './order-index.js';
import type { DedupEntry } from './ledger.js';
import type { DepositCommand, OrderStatus, OrderType, PlaceOrderCommand, Reply, Side, TimeInForce, TradeView, WithdrawCommand } from './types.js';

export const snapshotFormat = 'raftex-exchange-snapshot/1';

/**
 * [seq, accountId, clientOrderId, symbol, side, orderType, timeInForce, priceTicks, quantityLots,
 *  filledLots, status, placedStatus, placedFilledLots, placedRemainingLots, placedTrades, command]
 */
type OrderRecord = [
  number, string, string, string, Side, OrderType, TimeInForce, number, number,
  number, OrderStatus, OrderStatus, number, number, TradeView[] | null, PlaceOrderCommand,
];
type LevelRecord = [number, number[]];
/** An order idempotency record: an order still in `orders` (by seq), an evicted one, or a rejection. */
type OrderKeyRecord =
  | ['ref', string, number]
  | ['order', string, OrderRecord]
  | ['rejected', string, PlaceOrderCommand, Reply];

interface SnapshotDoc {
  format: string;
  config: string;
  lastAppliedIndex: number;
  deposited: [string, number][];
  withdrawn: [string, number][];
  /** Open and recently closed orders in placement order. */
  orders: OrderRecord[];
  /** Seqs of closed orders still remembered, oldest first. */
  closedIds: number[];
  books: { symbol: string; bids: LevelRecord[]; asks: LevelRecord[] }[];
  accounts: {
    id: string;
    balances: [string, number, number][];
    openOrders: number[];
    orderKeys: OrderKeyRecord[];
    requestKeys: [string, DepositCommand | WithdrawCommand, Reply][];
  }[];
}

function orderRecord(o: Order): OrderRecord {
  return [
    o.seq, o.accountId, o.clientOrderId, o.market.symbol, o.side, o.orderType, o.timeInForce, o.priceTicks, o.quantityLots,
    o.filledLots, o.status, o.placedStatus, o.placedFilledLots, o.placedRemainingLots, o.placedTrades, o.command,
  ];
}

function sideRecord(side: BookSide): LevelRecord[] {
  const out: LevelRecord[] = [];
  for (const price of side.prices) {
    const seqs: number[] = [];
    for (let o = side.levels.get(price)!.head; o !== null; o = o.next) seqs.push(o.seq);
    out.push([price, seqs]);
  }
  return out;
}

function orderKeyRecord(state: ExchangeState, key: string, entry: Order | DedupEntry<PlaceOrderCommand>): OrderKeyRecord {
  if (!(entry instanceof Order)) return ['rejected', key, entry.command, entry.reply];
  return state.orders.get(entry.seq) === entry ? ['ref', key, entry.seq] : ['order', key, orderRecord(entry)];
}

const byName = (a: [string, number], b: [string, number]): number => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0);

/** The canonical bytes of `state`. */
export function writeSnapshot(state: ExchangeState): Uint8Array {
  const doc: SnapshotDoc = {
    format: snapshotFormat,
    config: state.config.digestText,
    lastAppliedIndex: state.lastAppliedIndex,
    deposited: [...state.deposited.entries()].sort(byName),
    withdrawn: [...state.withdrawn.entries()].sort(byName),
    orders: [...state.orders.values()].map(orderRecord),
    closedIds: state.closedIds.slice(state.closedHead),
    books: [...state.books.values()].map((b) => ({ symbol: b.market.symbol, bids: sideRecord(b.bids), asks: sideRecord(b.asks) })),
    accounts: [...state.accounts.values()].map((a) => ({
      id: a.id,
      balances: [...a.balances.entries()].map(([asset, b]): [string, number, number] => [asset, b.available, b.reserved]),
      openOrders: [...a.openOrders.keys()],
      orderKeys: [...a.orderKeys.entries()].map(([key, e]) => orderKeyRecord(state, key, e)),
      requestKeys: [...a.requestKeys.entries()].map(([key, e]): [string, DepositCommand | WithdrawCommand, Reply] => [key, e.command, e.reply]),
    })),
  };
  return new TextEncoder().encode(JSON.stringify(doc));
}

function restoreOrder(config: CompiledConfig, r: OrderRecord): Order {
  const [seq, accountId, clientOrderId, symbol, side, orderType, tif, priceTicks, quantityLots,
    filledLots, status, placedStatus, placedFilledLots, placedRemainingLots, placedTrades, command] = r;
  const market = config.markets.get(symbol);
  if (market === undefined) fail(`snapshot: order ${seq} on unknown symbol ${symbol}`);
  if (command.accountId !== accountId || command.clientOrderId !== clientOrderId || command.side !== side
    || command.orderType !== orderType || command.timeInForce !== tif || command.symbol !== symbol) {
    fail(`snapshot: order ${seq} disagrees with its command`);
  }
  const o = new Order(seq, accountId, market, side, priceTicks, quantityLots, command);
  o.filledLots = filledLots;
  o.status = status;
  o.placedStatus = placedStatus;
  o.placedFilledLots = placedFilledLots;
  o.placedRemainingLots = placedRemainingLots;
  o.placedTrades = placedTrades;
  return o;
}

function restoreSide(side: BookSide, levels: LevelRecord[], orders: OrderIndex): void {
  for (const [price, seqs] of levels) {
    for (const seq of seqs) {
      const o = orders.get(seq);
      if (!(o !== undefined && o.isOpen && o.priceTicks === price && o.side === side.side)) fail(`snapshot: bad book entry O${seq}`);
      side.add(o);
    }
  }
  assert(side.prices.length === levels.length, 'snapshot: levels out of order');
}

/** Rebuilds the state `writeSnapshot` wrote; throws on bytes that are not such a snapshot. */
export function readSnapshot(bytes: Uint8Array, config: CompiledConfig): ExchangeState {
  const doc = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as SnapshotDoc;
  if (doc.format !== snapshotFormat) fail(`snapshot: unknown format ${String(doc.format)}`);
  assert(doc.config === config.digestText, 'snapshot: written under a different exchange config');
  const state = new ExchangeState(config);
  state.lastAppliedIndex = doc.lastAppliedIndex;
  for (const [asset, units] of doc.deposited) state.deposited.set(asset, units);
  for (const [asset, units] of doc.withdrawn) state.withdrawn.set(asset, units);
  for (const r of doc.orders) state.register(restoreOrder(config, r));
  state.closedIds = [...doc.closedIds];
  for (const b of doc.books) {
    const book = state.books.get(b.symbol);
    if (book === undefined) fail(`snapshot: book of unknown symbol ${b.symbol}`);
    restoreSide(book.bids, b.bids, state.orders);
    restoreSide(book.asks, b.asks, state.orders);
  }
  for (const a of doc.accounts) {
    const account = state.account(a.id);
    for (const [asset, available, reserved] of a.balances) {
      const bal = account.balance(asset);
      bal.available = available;
      bal.reserved = reserved;
    }
    for (const seq of a.openOrders) {
      const o = state.orders.get(seq);
      if (!(o !== undefined && o.accountId === a.id && o.level !== null)) fail(`snapshot: bad open order O${seq} of ${a.id}`);
      account.openOrders.set(seq, o);
    }
    for (const r of a.orderKeys) {
      switch (r[0]) {
        case 'ref': {
          const o = state.orders.get(r[2]);
          if (o === undefined) fail(`snapshot: idempotency record of missing order O${r[2]}`);
          account.orderKeys.add(r[1], o);
          break;
        }
        case 'order':
          account.orderKeys.add(r[1], restoreOrder(config, r[2]));
          break;
        case 'rejected':
          account.orderKeys.add(r[1], { command: r[2], reply: r[3] });
          break;
        default:
          assertNever(r[0]);
      }
    }
    for (const [key, command, reply] of a.requestKeys) account.requestKeys.add(key, { command, reply });
  }
  for (const o of state.openOrders()) if (o.level === null) fail(`snapshot: open order ${o.id} not in its book`);
  return state;
}
