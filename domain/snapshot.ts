/**
 * Canonical snapshot bytes of the exchange state, and restore.
 *
 * Format 2 (binary; format-1 JSON snapshots are not readable any more): the magic
 * "RXSNAP" 0x00 0x03, then sections of varints, raw strings and interned strings (see
 * snapshot-codec.ts), then a CRC-32 of all that. Sections, in order:
 *   config digest | lastAppliedIndex | deposited | withdrawn (sorted by asset)
 *   orders (open and remembered closed, placement order) | closed ids (oldest first)
 *   books (config order; levels best-last as held, each level's queue in time order)
 *   accounts (creation order: balances, open order seqs)
 *   dedup ring (dedup-ring.ts): every slot oldest first, naming its account and what it holds
 *     (a held order by seq; a key is its command's id, so it is not written again).
 *
 * Maps are written in insertion order, a function of the command history, so equal histories
 * give equal bytes; restore rebuilds every map in the same order, so snapshot(restore(s)) is s,
 * and continuing from either gives identical replies and events. The CRC is checked before
 * anything is decoded; past it the decoder trusts the structure the writer guarantees (field
 * cross-checks of format 1 are gone) and keeps only cheap checks that catch a writer bug.
 * The config is recorded and must match on restore.
 */
import { assert, assertNever, fail } from './assert.js';
import type { CompiledConfig } from './config.js';
import type { RingMember } from './dedup-ring.js';
import { ExchangeState } from './exchange-state.js';
import type { Account, DedupEntry } from './ledger.js';
import { Order, Placement, type BookSide } from './order-book.js';
import type { OrderIndex } from './order-index.js';
import { ByteReader, ByteWriter } from './snapshot-codec.js';
import type {
  DepositCommand, OrderStatus, OrderType, PlaceOrderCommand, PlacementCancelCause, RejectReason, Reply, Side, TimeInForce, TradeView,
  WithdrawCommand,
} from './types.js';

/** The leading bytes of a format-3 snapshot (3: placement cancel causes). */
const magic = Uint8Array.from([0x52, 0x58, 0x53, 0x4e, 0x41, 0x50, 0x00, 0x03]); // "RXSNAP" 0 3

/** What one dedup ring slot holds (the slot tag byte). */
const slotEvictedOrderKey = 0;
const slotEvictedRequestKey = 1;
/** A client order id whose order is still in `orders` (written as its seq). */
const slotOrderRef = 2;
/** A client order id whose accepted order was forgotten by `orders` (written in full). */
const slotOrderFull = 3;
/** A client order id whose PlaceOrder was rejected (command and reply). */
const slotOrderRejected = 4;
const slotRequest = 5;

const sides: readonly Side[] = ['buy', 'sell'];
const orderTypes: readonly OrderType[] = ['limit', 'market'];
const tifs: readonly TimeInForce[] = ['gtc', 'ioc', 'fok'];
const statuses: readonly OrderStatus[] = ['new', 'partiallyFilled', 'filled', 'cancelled'];
const placementCauses: readonly PlacementCancelCause[] = ['ioc', 'market', 'fok', 'selfTrade'];

/** A placement cancel cause as 0 (none) or its code + 1. */
function causeCode(cause: PlacementCancelCause | null): number {
  return cause === null ? 0 : code(placementCauses, cause) + 1;
}

function causeOf(n: number): PlacementCancelCause | null {
  return n === 0 ? null : pick(placementCauses, n - 1);
}

function code<T>(table: readonly T[], value: T): number {
  const i = table.indexOf(value);
  if (i < 0) fail(`snapshot: unexpected value ${String(value)}`);
  return i;
}

function pick<T>(table: readonly T[], i: number): T {
  const v = table[i];
  if (v === undefined) fail(`snapshot: bad enum code ${i}`);
  return v;
}

// ---- ids that embed a number: written as the number when canonical, else as text ----

/** `O<n>` as n + 1; anything else as 0 and the text. */
function writeOrderId(w: ByteWriter, id: string): void {
  const n = Number(id.slice(1));
  if (id.charCodeAt(0) === 79 && Number.isSafeInteger(n) && n >= 0 && `O${n}` === id) w.uint(n + 1);
  else {
    w.uint(0);
    w.str(id);
  }
}

function readOrderId(r: ByteReader): string {
  const n = r.uint();
  return n === 0 ? r.str() : `O${n - 1}`;
}

/** `T<logIndex>.<k>` as k + 1; anything else as 0 and the text. */
function writeTradeId(w: ByteWriter, id: string, logIndex: number): void {
  const dot = id.lastIndexOf('.');
  const k = Number(id.slice(dot + 1));
  if (dot > 0 && Number.isSafeInteger(k) && k >= 0 && `T${logIndex}.${k}` === id) w.uint(k + 1);
  else {
    w.uint(0);
    w.str(id);
  }
}

function readTradeId(r: ByteReader, logIndex: number): string {
  const k = r.uint();
  return k === 0 ? r.str() : `T${logIndex}.${k - 1}`;
}

// ---- records ----

function writeTrade(w: ByteWriter, t: TradeView): void {
  w.uint(t.logIndex);
  w.uint(t.timestampMs);
  writeTradeId(w, t.tradeId, t.logIndex);
  w.interned(t.symbol);
  w.interned(t.price);
  w.interned(t.quantity);
  writeOrderId(w, t.buyOrderId);
  writeOrderId(w, t.sellOrderId);
  w.interned(t.buyerAccountId);
  w.interned(t.sellerAccountId);
  w.byte(code(sides, t.aggressorSide));
}

function readTrade(r: ByteReader): TradeView {
  const logIndex = r.uint();
  const timestampMs = r.uint();
  // Built in the key order matching.ts uses, so JSON of a restored reply is byte-identical.
  return {
    tradeId: readTradeId(r, logIndex),
    symbol: r.interned(),
    price: r.interned(),
    quantity: r.interned(),
    buyOrderId: readOrderId(r),
    sellOrderId: readOrderId(r),
    buyerAccountId: r.interned(),
    sellerAccountId: r.interned(),
    aggressorSide: pick(sides, r.byte()),
    logIndex,
    timestampMs,
  };
}

function writeTrades(w: ByteWriter, trades: readonly TradeView[]): void {
  w.uint(trades.length);
  for (const t of trades) writeTrade(w, t);
}

function readTrades(r: ByteReader): TradeView[] {
  const n = r.uint();
  const out: TradeView[] = [];
  for (let i = 0; i < n; i++) out.push(readTrade(r));
  return out;
}

/** Side, order type, time in force and whether the price is null, in one byte. */
function writePlaceCommand(w: ByteWriter, c: PlaceOrderCommand): void {
  w.interned(c.accountId);
  w.str(c.clientOrderId);
  w.interned(c.symbol);
  w.byte(code(sides, c.side) | (code(orderTypes, c.orderType) << 1) | (code(tifs, c.timeInForce) << 2) | (c.price === null ? 16 : 0));
  w.interned(c.quantity);
  if (c.price !== null) w.interned(c.price);
}

function readPlaceCommand(r: ByteReader): PlaceOrderCommand {
  const accountId = r.interned();
  const clientOrderId = r.str();
  const symbol = r.interned();
  const bits = r.byte();
  const quantity = r.interned();
  const price = bits & 16 ? null : r.interned();
  return {
    type: 'placeOrder', accountId, clientOrderId, symbol, side: pick(sides, bits & 1),
    orderType: pick(orderTypes, (bits >> 1) & 1), timeInForce: pick(tifs, (bits >> 2) & 3), quantity, price,
  };
}

function writeFundsCommand(w: ByteWriter, c: DepositCommand | WithdrawCommand): void {
  w.byte(c.type === 'deposit' ? 0 : 1);
  w.interned(c.accountId);
  w.interned(c.asset);
  w.interned(c.amount);
  w.str(c.requestId);
}

function readFundsCommand(r: ByteReader): DepositCommand | WithdrawCommand {
  const type = r.byte() === 0 ? 'deposit' : 'withdraw';
  return { type, accountId: r.interned(), asset: r.interned(), amount: r.interned(), requestId: r.str() };
}

const replyKinds: readonly Reply['kind'][] = ['balance', 'order', 'cancel', 'reduce', 'rejected'];

function writeReply(w: ByteWriter, reply: Reply): void {
  w.byte(code(replyKinds, reply.kind));
  w.uint(reply.logIndex);
  switch (reply.kind) {
    case 'balance':
      w.interned(reply.balance.asset);
      w.interned(reply.balance.available);
      w.interned(reply.balance.reserved);
      return;
    case 'order':
      writeOrderId(w, reply.orderId);
      w.interned(reply.status);
      w.interned(reply.filledQuantity);
      w.interned(reply.remainingQuantity);
      writeTrades(w, reply.trades);
      w.byte(causeCode(reply.cancelCause));
      return;
    case 'cancel':
      writeOrderId(w, reply.orderId);
      w.interned(reply.status);
      w.interned(reply.cancelledQuantity);
      return;
    case 'reduce':
      writeOrderId(w, reply.orderId);
      w.interned(reply.status);
      w.interned(reply.remainingQuantity);
      return;
    case 'rejected':
      w.interned(reply.reason);
      w.str(reply.message);
      return;
    default:
      assertNever(reply);
  }
}

/** Key orders as the handlers build them (JSON of a restored reply is byte-identical). */
function readReply(r: ByteReader): Reply {
  const kind = pick(replyKinds, r.byte());
  const logIndex = r.uint();
  switch (kind) {
    case 'balance':
      return { kind, logIndex, balance: { asset: r.interned(), available: r.interned(), reserved: r.interned() } };
    case 'order':
      return {
        kind, logIndex, orderId: readOrderId(r), status: r.interned() as OrderStatus, filledQuantity: r.interned(),
        remainingQuantity: r.interned(), trades: readTrades(r), cancelCause: causeOf(r.byte()),
      };
    case 'cancel':
      return { kind, logIndex, orderId: readOrderId(r), status: r.interned() as OrderStatus, cancelledQuantity: r.interned() };
    case 'reduce':
      return { kind, logIndex, orderId: readOrderId(r), status: r.interned() as OrderStatus, remainingQuantity: r.interned() };
    case 'rejected':
      return { kind, logIndex, reason: r.interned() as RejectReason, message: r.str() };
    default:
      return assertNever(kind);
  }
}

/** An order: its seq, its command (which carries account, side, type...), then the mutable fields. */
function writeOrder(w: ByteWriter, o: Order): void {
  const c = o.command;
  // The order's own copies of command fields must agree: restore takes them from the command.
  if (c.accountId !== o.accountId || c.side !== o.side || c.symbol !== o.market.symbol) fail(`snapshot: order ${o.id} disagrees with its command`);
  w.uint(o.seq);
  writePlaceCommand(w, c);
  w.uint(o.priceTicks);
  w.uint(o.quantityLots);
  w.uint(o.filledLots);
  // Bits: status (2), placed status (2), has trades (1), placement cancel cause + 1 (3; 0 = none).
  w.byte(code(statuses, o.status) | (code(statuses, o.placedStatus) << 2) | (o.placedTrades === null ? 0 : 16) | (causeCode(o.placedCancelCause) << 5));
  w.uint(o.placedFilledLots);
  w.uint(o.placedRemainingLots);
  if (o.placedTrades !== null) writeTrades(w, o.placedTrades);
}

function readOrder(r: ByteReader, config: CompiledConfig): Order {
  const seq = r.uint();
  const command = readPlaceCommand(r);
  const market = config.markets.get(command.symbol);
  if (market === undefined) fail(`snapshot: order ${seq} on unknown symbol ${command.symbol}`);
  const priceTicks = r.uint();
  const quantityLots = r.uint();
  const o = new Order(seq, command.accountId, market, command.side, priceTicks, quantityLots, command);
  o.filledLots = r.uint();
  const bits = r.byte();
  o.status = pick(statuses, bits & 3);
  const placedStatus = pick(statuses, (bits >> 2) & 3);
  const placedFilledLots = r.uint();
  const placedRemainingLots = r.uint();
  o.placed = Placement.of(o.placedLots, placedStatus, placedFilledLots, placedRemainingLots, bits & 16 ? readTrades(r) : null, causeOf(bits >> 5));
  return o;
}

function writeSide(w: ByteWriter, side: BookSide): void {
  w.uint(side.prices.length);
  for (const price of side.prices) {
    const level = side.levels.get(price)!;
    w.uint(price);
    w.uint(level.count);
    for (let o = level.head; o !== null; o = o.next) w.uint(o.seq);
  }
}

function readSide(r: ByteReader, side: BookSide, orders: OrderIndex): void {
  const levels = r.uint();
  for (let l = 0; l < levels; l++) {
    const price = r.uint();
    const count = r.uint();
    for (let i = 0; i < count; i++) {
      const seq = r.uint();
      const o = orders.get(seq);
      if (!(o !== undefined && o.isOpen && o.priceTicks === price && o.side === side.side)) fail(`snapshot: bad book entry O${seq}`);
      side.add(o);
    }
  }
  assert(side.prices.length === levels, 'snapshot: levels out of order');
}

function writeTotals(w: ByteWriter, totals: ReadonlyMap<string, number>): void {
  const sorted = [...totals.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  w.uint(sorted.length);
  for (const [asset, units] of sorted) {
    w.interned(asset);
    w.uint(units);
  }
}

function readTotals(r: ByteReader, into: Map<string, number>): void {
  const n = r.uint();
  for (let i = 0; i < n; i++) into.set(r.interned(), r.uint());
}

// ---- the whole state ----

/** The canonical bytes of `state`. */
export function writeSnapshot(state: ExchangeState): Uint8Array {
  const w = new ByteWriter();
  w.bytes(magic);
  w.str(state.config.digestText);
  w.uint(state.lastAppliedIndex);
  writeTotals(w, state.deposited);
  writeTotals(w, state.withdrawn);
  w.uint(state.orders.size);
  for (const o of state.orders.values()) writeOrder(w, o);
  w.uint(state.closedIds.length - state.closedHead);
  for (let i = state.closedHead; i < state.closedIds.length; i++) w.uint(state.closedIds[i]!);
  w.uint(state.books.size);
  for (const b of state.books.values()) {
    w.interned(b.market.symbol);
    writeSide(w, b.bids);
    writeSide(w, b.asks);
  }
  // Accounts, numbered in creation order for the ring slots below.
  const owners = new Map<RingMember, { index: number; account: Account; orders: boolean }>();
  w.uint(state.accounts.size);
  let index = 0;
  let held = 0;
  for (const a of state.accounts.values()) {
    owners.set(a.orderKeys, { index, account: a, orders: true });
    owners.set(a.requestKeys, { index, account: a, orders: false });
    index++;
    held += a.orderKeys.size + a.requestKeys.size;
    w.interned(a.id);
    w.uint(a.balances.size);
    for (const [asset, b] of a.balances) {
      w.interned(asset);
      w.uint(b.available);
      w.uint(b.reserved);
    }
    w.uint(a.openOrders.size);
    for (const o of a.openOrders.values()) w.uint(o.seq);
  }
  const ring = state.dedupRing;
  w.uint(ring.size);
  let live = 0;
  for (const [member, n] of ring.slots()) {
    const owner = owners.get(member);
    if (owner === undefined) fail('snapshot: a dedup ring slot of no account');
    w.uint(owner.index);
    if (owner.orders) {
      const e = owner.account.orderKeys.entryAt(n);
      if (e === undefined) {
        w.byte(slotEvictedOrderKey);
        continue;
      }
      live++;
      writeOrderKeySlot(w, state, e[0], e[1]);
    } else {
      const e = owner.account.requestKeys.entryAt(n);
      if (e === undefined) {
        w.byte(slotEvictedRequestKey);
        continue;
      }
      live++;
      // The key is the command's request id (funds-commands.ts adds it so): not written twice.
      if (e[0] !== e[1].command.requestId) fail(`snapshot: request key ${e[0]} is not its command's request id`);
      w.byte(slotRequest);
      writeFundsCommand(w, e[1].command);
      writeReply(w, e[1].reply);
    }
  }
  assert(live === held, `snapshot: ${held} dedup keys held but ${live} in the ring`);
  return w.finish();
}

/** The key is the command's client order id (matching.ts adds it so): not written twice. */
function writeOrderKeySlot(w: ByteWriter, state: ExchangeState, key: string, entry: Order | DedupEntry<PlaceOrderCommand>): void {
  if (key !== entry.command.clientOrderId) fail(`snapshot: order key ${key} is not its command's client order id`);
  if (!(entry instanceof Order)) {
    w.byte(slotOrderRejected);
    writePlaceCommand(w, entry.command);
    writeReply(w, entry.reply);
  } else if (state.orders.get(entry.seq) === entry) {
    w.byte(slotOrderRef);
    w.uint(entry.seq);
  } else {
    w.byte(slotOrderFull);
    writeOrder(w, entry);
  }
}

/** Rebuilds the state `writeSnapshot` wrote; throws on bytes that are not such a snapshot. */
export function readSnapshot(bytes: Uint8Array, config: CompiledConfig): ExchangeState {
  if (!(bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b))) fail('snapshot: unknown format (not a format-3 snapshot)');
  const r = new ByteReader(bytes);
  r.bytes(magic.length);
  assert(r.str() === config.digestText, 'snapshot: written under a different exchange config');
  const state = new ExchangeState(config);
  state.lastAppliedIndex = r.uint();
  readTotals(r, state.deposited);
  readTotals(r, state.withdrawn);
  const orderCount = r.uint();
  for (let i = 0; i < orderCount; i++) state.register(readOrder(r, config));
  const closedCount = r.uint();
  const closedIds: number[] = [];
  for (let i = 0; i < closedCount; i++) closedIds.push(r.uint());
  state.closedIds = closedIds;
  const bookCount = r.uint();
  for (let i = 0; i < bookCount; i++) {
    const symbol = r.interned();
    const book = state.books.get(symbol);
    if (book === undefined) fail(`snapshot: book of unknown symbol ${symbol}`);
    readSide(r, book.bids, state.orders);
    readSide(r, book.asks, state.orders);
  }
  const accountCount = r.uint();
  const accounts: Account[] = [];
  for (let i = 0; i < accountCount; i++) {
    const account = state.account(r.interned());
    accounts.push(account);
    const balances = r.uint();
    for (let b = 0; b < balances; b++) {
      const bal = account.balance(r.interned());
      bal.available = r.uint();
      bal.reserved = r.uint();
    }
    const open = r.uint();
    for (let k = 0; k < open; k++) {
      const seq = r.uint();
      const o = state.orders.get(seq);
      if (!(o !== undefined && o.accountId === account.id && o.level !== null && !account.openOrders.has(o))) fail(`snapshot: bad open order O${seq} of ${account.id}`);
      account.openOrders.add(o);
    }
  }
  const slots = r.uint();
  for (let i = 0; i < slots; i++) {
    const account = accounts[r.uint()];
    if (account === undefined) fail('snapshot: dedup slot of an unknown account');
    const tag = r.byte();
    switch (tag) {
      case slotEvictedOrderKey:
        account.orderKeys.addEvicted();
        break;
      case slotEvictedRequestKey:
        account.requestKeys.addEvicted();
        break;
      case slotOrderRef: {
        const seq = r.uint();
        const o = state.orders.get(seq);
        if (o === undefined) fail(`snapshot: idempotency record of missing order O${seq}`);
        account.orderKeys.add(o.command.clientOrderId, o);
        break;
      }
      case slotOrderFull: {
        const o = readOrder(r, config);
        account.orderKeys.add(o.command.clientOrderId, o);
        break;
      }
      case slotOrderRejected: {
        const command = readPlaceCommand(r);
        account.orderKeys.add(command.clientOrderId, { command, reply: readReply(r) });
        break;
      }
      case slotRequest: {
        const command = readFundsCommand(r);
        account.requestKeys.add(command.requestId, { command, reply: readReply(r) });
        break;
      }
      default:
        fail(`snapshot: bad dedup slot tag ${tag}`);
    }
  }
  if (!r.done) fail('snapshot: trailing bytes');
  for (const o of state.openOrders()) if (o.level === null) fail(`snapshot: open order ${o.id} not in its book`);
  return state;
}
