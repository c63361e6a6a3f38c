/**
 * Proto messages <-> domain values. Requests become the domain's raw commands (enums to unions,
 * proto3 "unset" empty strings to null), which `validateCommand` then checks; domain replies and
 * views become proto responses. Pure functions: no I/O, no clock.
 *
 * Field lengths are capped here, before any regex or decimal parsing runs, so a hostile 1 MB string
 * costs one length comparison.
 */
import type {
  BalanceView,
  Command,
  OrderStatus as DomainOrderStatus,
  OrderType as DomainOrderType,
  OrderView,
  RawPlaceOrder,
  Reply,
  Side as DomainSide,
  TimeInForce as DomainTimeInForce,
  TradeView,
} from '../../domain/index.js';
import { assertNever } from '../raft/assert.js';
import type { NodeStatus } from '../node/exchange-node-api.js';
import type { RoleKind } from '../raft/types.js';
import {
  OrderStatus,
  OrderType,
  Side,
  TimeInForce,
} from '../gen/raftex/v1/exchange.js';
import type {
  Balance,
  CancelOrderRequest,
  CancelOrderResponse,
  DepositRequest,
  DepositResponse,
  Order,
  PriceLevel,
  ReduceOrderRequest,
  ReduceOrderResponse,
  SubmitOrderRequest,
  SubmitOrderResponse,
  Trade,
  WithdrawRequest,
  WithdrawResponse,
} from '../gen/raftex/v1/exchange.js';
import { Role } from '../gen/raftex/v1/cluster.js';
import type { GetStatusResponse } from '../gen/raftex/v1/cluster.js';
import type { Timestamp } from '../gen/google/protobuf/timestamp.js';

/** Longest id (account, order, client order, request): the contract's 64. */
export const idLengthMax = 64;
/** Longest symbol or asset: the contract's 16. */
export const symbolLengthMax = 16;
/**
 * Longest decimal string we hand to the parser. Generous (trailing zeros are legal and not extra
 * precision) but bounded so parsing cost is too.
 */
export const decimalLengthMax = 128;

/** `GetOrderBook.depth` 0 means this many levels. */
export const defaultBookDepth = 10;
/** Deepest book a client may ask for; above is INVALID_ARGUMENT. */
export const bookDepthMax = 1000;

const idPattern = /^[A-Za-z0-9._:-]{1,64}$/;
const symbolPattern = /^[A-Z0-9.]{1,16}$/;

/** What validateCommand accepts: a command, or a placeOrder whose time in force may be defaulted. */
export type RawCommand = Command | ({ type: 'placeOrder' } & RawPlaceOrder);

/** A mapping outcome: the value, or the INVALID_ARGUMENT message. */
export type Mapped<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Mapped<T> => ({ ok: true, value });
const fail = <T>(error: string): Mapped<T> => ({ ok: false, error });

type FieldKind = 'id' | 'symbol' | 'decimal';

function lengthMax(kind: FieldKind): number {
  switch (kind) {
    case 'id': return idLengthMax;
    case 'symbol': return symbolLengthMax;
    case 'decimal': return decimalLengthMax;
    default: return assertNever(kind);
  }
}

/**
 * The first problem with the request's string fields as far as presence and length go, or null.
 * `fields` lists [proto field name, value, kind]; empty means missing (proto3 cannot tell them apart).
 */
export function checkFields(fields: readonly (readonly [string, string, FieldKind])[]): string | null {
  for (const [name, value, kind] of fields) {
    if (value.length === 0) return `${name} is required`;
    const max = lengthMax(kind);
    if (value.length > max) return `${name} is too long (${value.length} characters; at most ${max})`;
  }
  return null;
}

/** An id field of a read request: required, 1-64 characters from [A-Za-z0-9._:-]. */
export function checkId(name: string, value: string): string | null {
  const e = checkFields([[name, value, 'id']]);
  if (e) return e;
  return idPattern.test(value) ? null : `${name} must be 1-64 characters from [A-Za-z0-9._:-]`;
}

/** A symbol field of a read request: required, 1-16 characters from [A-Z0-9.]. */
export function checkSymbol(name: string, value: string): string | null {
  const e = checkFields([[name, value, 'symbol']]);
  if (e) return e;
  return symbolPattern.test(value) ? null : `${name} must be 1-16 characters from [A-Z0-9.]`;
}

/** `GetOrderBook.depth`: 0 -> the default, above the maximum -> error. */
export function bookDepth(depth: number): Mapped<number> {
  if (!Number.isSafeInteger(depth) || depth < 0) return fail(`depth must be a non-negative integer`);
  if (depth > bookDepthMax) return fail(`depth ${depth} is above the maximum of ${bookDepthMax}`);
  return ok(depth === 0 ? defaultBookDepth : depth);
}

// ---- enums: proto -> domain ---------------------------------------------------------------------

/** SIDE_UNSPECIFIED and values this build does not know are INVALID_ARGUMENT. */
export function sideFromProto(side: Side): Mapped<DomainSide> {
  switch (side) {
    case Side.SIDE_BUY: return ok('buy');
    case Side.SIDE_SELL: return ok('sell');
    default: return fail(`side must be SIDE_BUY or SIDE_SELL (got ${describeEnum(side)})`);
  }
}

/** ORDER_TYPE_UNSPECIFIED and unknown values are INVALID_ARGUMENT. */
export function orderTypeFromProto(type: OrderType): Mapped<DomainOrderType> {
  switch (type) {
    case OrderType.ORDER_TYPE_LIMIT: return ok('limit');
    case OrderType.ORDER_TYPE_MARKET: return ok('market');
    default: return fail(`type must be ORDER_TYPE_LIMIT or ORDER_TYPE_MARKET (got ${describeEnum(type)})`);
  }
}

/** TIME_IN_FORCE_UNSPECIFIED -> null (the domain's default: GTC for limit, IOC for market). */
export function timeInForceFromProto(tif: TimeInForce): Mapped<DomainTimeInForce | null> {
  switch (tif) {
    case TimeInForce.TIME_IN_FORCE_UNSPECIFIED: return ok(null);
    case TimeInForce.TIME_IN_FORCE_GTC: return ok('gtc');
    case TimeInForce.TIME_IN_FORCE_IOC: return ok('ioc');
    case TimeInForce.TIME_IN_FORCE_FOK: return ok('fok');
    default: return fail(`time_in_force ${describeEnum(tif)} is not a known value`);
  }
}

function describeEnum(value: number): string {
  return value === 0 ? 'UNSPECIFIED' : String(value);
}

// ---- requests -> raw commands -------------------------------------------------------------------

/** DepositRequest -> raw deposit command (not yet validated). */
export function depositToCommand(req: DepositRequest): Mapped<RawCommand> {
  const e = checkFields([
    ['account_id', req.accountId, 'id'], ['asset', req.asset, 'symbol'],
    ['amount', req.amount, 'decimal'], ['request_id', req.requestId, 'id'],
  ]);
  if (e) return fail(e);
  return ok({ type: 'deposit', accountId: req.accountId, asset: req.asset, amount: req.amount, requestId: req.requestId });
}

/** WithdrawRequest -> raw withdraw command. */
export function withdrawToCommand(req: WithdrawRequest): Mapped<RawCommand> {
  const e = checkFields([
    ['account_id', req.accountId, 'id'], ['asset', req.asset, 'symbol'],
    ['amount', req.amount, 'decimal'], ['request_id', req.requestId, 'id'],
  ]);
  if (e) return fail(e);
  return ok({ type: 'withdraw', accountId: req.accountId, asset: req.asset, amount: req.amount, requestId: req.requestId });
}

/** SubmitOrderRequest -> raw placeOrder; an empty price means "no price" (market orders). */
export function submitOrderToCommand(req: SubmitOrderRequest): Mapped<RawCommand> {
  const e = checkFields([
    ['account_id', req.accountId, 'id'], ['client_order_id', req.clientOrderId, 'id'],
    ['symbol', req.symbol, 'symbol'], ['quantity', req.quantity, 'decimal'],
  ]);
  if (e) return fail(e);
  if (req.price.length > decimalLengthMax) return fail(`price is too long (${req.price.length} characters; at most ${decimalLengthMax})`);
  const side = sideFromProto(req.side);
  if (!side.ok) return side;
  const orderType = orderTypeFromProto(req.type);
  if (!orderType.ok) return orderType;
  const timeInForce = timeInForceFromProto(req.timeInForce);
  if (!timeInForce.ok) return timeInForce;
  return ok({
    type: 'placeOrder', accountId: req.accountId, clientOrderId: req.clientOrderId, symbol: req.symbol,
    side: side.value, orderType: orderType.value, timeInForce: timeInForce.value,
    quantity: req.quantity, price: req.price === '' ? null : req.price,
  });
}

/** CancelOrderRequest -> raw cancelOrder. */
export function cancelOrderToCommand(req: CancelOrderRequest): Mapped<RawCommand> {
  const e = checkFields([['account_id', req.accountId, 'id'], ['order_id', req.orderId, 'id']]);
  if (e) return fail(e);
  return ok({ type: 'cancelOrder', accountId: req.accountId, orderId: req.orderId });
}

/** ReduceOrderRequest -> raw reduceOrder (`quantity` is how much to take off). */
export function reduceOrderToCommand(req: ReduceOrderRequest): Mapped<RawCommand> {
  const e = checkFields([
    ['account_id', req.accountId, 'id'], ['order_id', req.orderId, 'id'], ['quantity', req.quantity, 'decimal'],
  ]);
  if (e) return fail(e);
  return ok({ type: 'reduceOrder', accountId: req.accountId, orderId: req.orderId, quantity: req.quantity });
}

// ---- domain -> proto ----------------------------------------------------------------------------

/** Domain side -> proto enum. */
export function sideToProto(side: DomainSide): Side {
  switch (side) {
    case 'buy': return Side.SIDE_BUY;
    case 'sell': return Side.SIDE_SELL;
    default: return assertNever(side);
  }
}

/** Domain order type -> proto enum. */
export function orderTypeToProto(type: DomainOrderType): OrderType {
  switch (type) {
    case 'limit': return OrderType.ORDER_TYPE_LIMIT;
    case 'market': return OrderType.ORDER_TYPE_MARKET;
    default: return assertNever(type);
  }
}

/** Domain order status -> proto enum. */
export function orderStatusToProto(s: DomainOrderStatus): OrderStatus {
  switch (s) {
    case 'new': return OrderStatus.ORDER_STATUS_NEW;
    case 'partiallyFilled': return OrderStatus.ORDER_STATUS_PARTIALLY_FILLED;
    case 'filled': return OrderStatus.ORDER_STATUS_FILLED;
    case 'cancelled': return OrderStatus.ORDER_STATUS_CANCELLED;
    default: return assertNever(s);
  }
}

/** Epoch milliseconds -> google.protobuf.Timestamp (nanos always in [0, 1e9)). */
export function timestampFromMs(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: (ms - seconds * 1000) * 1_000_000 };
}

/** Balance view -> proto Balance. */
export function balanceToProto(b: BalanceView): Balance {
  return { asset: b.asset, available: b.available, reserved: b.reserved };
}

/** Aggregated book level -> proto PriceLevel. */
export function levelToProto(l: { price: string; quantity: string; orderCount: number }): PriceLevel {
  return { price: l.price, quantity: l.quantity, orderCount: l.orderCount };
}

/** Trade view -> proto Trade; `executed_at` is the leader's timestamp on the entry. */
export function tradeToProto(t: TradeView): Trade {
  return {
    tradeId: t.tradeId, symbol: t.symbol, price: t.price, quantity: t.quantity,
    buyOrderId: t.buyOrderId, sellOrderId: t.sellOrderId,
    buyerAccountId: t.buyerAccountId, sellerAccountId: t.sellerAccountId,
    aggressorSide: sideToProto(t.aggressorSide), logIndex: t.logIndex, executedAt: timestampFromMs(t.timestampMs),
  };
}

/** Open order view -> proto Order; a market order's null price is the empty string. */
export function orderToProto(o: OrderView): Order {
  return {
    orderId: o.orderId, clientOrderId: o.clientOrderId, symbol: o.symbol, side: sideToProto(o.side),
    type: orderTypeToProto(o.orderType), price: o.price ?? '', quantity: o.quantity,
    filledQuantity: o.filledQuantity, status: orderStatusToProto(o.status),
  };
}

/** A reply that is not a rejection. */
export type AcceptedReply = Exclude<Reply, { kind: 'rejected' }>;
type ReplyOf<K extends AcceptedReply['kind']> = Extract<AcceptedReply, { kind: K }>;

/**
 * Narrows an accepted reply to the kind the method expects; anything else is a bug in the node or
 * the domain (the method and its command decide the kind), reported as INTERNAL by the caller.
 */
export function expectReply<K extends AcceptedReply['kind']>(reply: AcceptedReply, kind: K): Mapped<ReplyOf<K>> {
  if (reply.kind === kind) return ok(reply as ReplyOf<K>);
  return fail(`expected a '${kind}' reply, got '${reply.kind}'`);
}

/** Deposit/withdraw reply -> response. */
export function balanceReplyToResponse(r: ReplyOf<'balance'>): DepositResponse & WithdrawResponse {
  return { balance: balanceToProto(r.balance), logIndex: r.logIndex };
}

/** placeOrder reply -> SubmitOrderResponse. */
export function orderReplyToResponse(r: ReplyOf<'order'>): SubmitOrderResponse {
  return {
    orderId: r.orderId, status: orderStatusToProto(r.status), filledQuantity: r.filledQuantity,
    remainingQuantity: r.remainingQuantity, trades: r.trades.map(tradeToProto), logIndex: r.logIndex,
    cancelReason: r.cancelCause ?? '',
  };
}

/** cancelOrder reply -> CancelOrderResponse. */
export function cancelReplyToResponse(r: ReplyOf<'cancel'>): CancelOrderResponse {
  return { orderId: r.orderId, status: orderStatusToProto(r.status), cancelledQuantity: r.cancelledQuantity, logIndex: r.logIndex };
}

/** reduceOrder reply -> ReduceOrderResponse. */
export function reduceReplyToResponse(r: ReplyOf<'reduce'>): ReduceOrderResponse {
  return { orderId: r.orderId, status: orderStatusToProto(r.status), remainingQuantity: r.remainingQuantity, logIndex: r.logIndex };
}

/** Raft role -> proto Role. */
export function roleToProto(role: RoleKind): Role {
  switch (role) {
    case 'follower': return Role.ROLE_FOLLOWER;
    case 'candidate': return Role.ROLE_CANDIDATE;
    case 'leader': return Role.ROLE_LEADER;
    default: return assertNever(role);
  }
}

/** The node's status -> GetStatusResponse (followers only on the leader; empty leader_id when unknown). */
export function statusToProto(s: NodeStatus): GetStatusResponse {
  return {
    nodeId: s.nodeId, role: roleToProto(s.role), term: s.term, leaderId: s.leaderId ?? '',
    commitIndex: s.commitIndex, lastApplied: s.lastApplied, lastLogIndex: s.lastLogIndex,
    members: s.members.map((m) => ({ id: m.id, address: m.address, voter: m.voter })),
    followers: s.role === 'leader'
      ? s.followers.map((f) => ({ id: f.id, matchIndex: f.matchIndex, nextIndex: f.nextIndex }))
      : [],
    stateHash: s.stateHash,
    appendRejectionsSent: s.counters?.appendRejectionsSent ?? 0,
    appendRejectionsReceived: s.counters?.appendRejectionsReceived ?? 0,
    fsyncs: s.counters?.fsyncs ?? 0,
    entriesPersisted: s.counters?.entriesPersisted ?? 0,
  };
}
