/**
 * The exchange domain's public API: commands, replies, events, edge validation, the command
 * codec and the deterministic `Exchange` state machine. Pure: imports decimal.js only.
 */
export type {
  ApplyContext, ApplyResult, BalanceView, CancelCause, Command, CommandType, Event, EventType, LevelView, OrderBookView,
  OrderStatus, OrderType, OrderView, PlaceOrderCommand, RawPlaceOrder, RejectReason, Reply, Side, TimeInForce, TradeView,
  DepositCommand, WithdrawCommand, CancelOrderCommand, ReduceOrderCommand,
} from './types.js';
export { AssertionError, assert, assertNever } from './assert.js';
export {
  assetNamePattern, compileConfig, defaultExchangeConfig, idPattern,
  type AssetSpec, type ExchangeConfig, type InstrumentSpec,
} from './config.js';
export { validateCommand, type ValidationResult } from './validate-command.js';
export { DecodeError, decodeCommand, encodeCommand, commandCodecVersion } from './command-codec.js';
export { Exchange } from './exchange.js';
export { checkInvariants } from './invariants.js';
export { sha256Hex } from './sha256.js';
export { plainDecimalPattern } from './money.js';
