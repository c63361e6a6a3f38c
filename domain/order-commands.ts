/**
 * CancelOrder and ReduceOrder on a resting order.
 *
 * Reduce takes `quantity` off the order's remaining quantity IN PLACE, so the order keeps its
 * place in its level's queue (time priority), and releases exactly what that part had reserved.
 * Reducing by the remaining quantity or more cancels the order (cause 'reduced'); the order's
 * total then shows what had filled. Cancel releases what the remainder had reserved. Neither
 * command carries an idempotency key: a repeated cancel is answered `orderNotOpen`.
 */
import { fail } from './assert.js';
import { type ExchangeState, notional } from './exchange-state.js';
import { rejectCommand } from './funds-commands.js';
import { releaseResting } from './matching.js';
import { countSteps } from './money.js';
import { Order } from './order-book.js';
import { CancelledResult, ReducedResult } from './apply-results.js';
import type { ApplyContext, ApplyResult, CancelOrderCommand, ReduceOrderCommand } from './types.js';

/** The caller's own open order named by `cmd`, or the rejection to answer instead. */
function findOwnOpenOrder(state: ExchangeState, cmd: CancelOrderCommand | ReduceOrderCommand, ctx: ApplyContext): Order | ApplyResult {
  const order = state.order(cmd.orderId);
  if (order === undefined) {
    return rejectCommand(cmd.type, cmd.accountId, 'unknownOrder', `unknown order ${cmd.orderId}`, ctx);
  }
  if (order.accountId !== cmd.accountId) {
    return rejectCommand(cmd.type, cmd.accountId, 'notOrderOwner', `order ${cmd.orderId} belongs to another account`, ctx);
  }
  if (order.status === 'filled' || order.status === 'cancelled') {
    return rejectCommand(cmd.type, cmd.accountId, 'orderNotOpen', `order ${cmd.orderId} is ${order.status}`, ctx);
  }
  return order;
}

/** Takes a resting order off the book, releases its remainder and closes it as cancelled. */
function cancelResting(state: ExchangeState, order: Order): number {
  const account = state.accounts.get(order.accountId);
  const level = order.level;
  if (account === undefined || level === null) fail(`open order ${order.id} has no account or is not resting`);
  const rest = order.remainingLots;
  level.side.remove(order);
  releaseResting(account, order);
  state.close(order, 'cancelled', account);
  return rest;
}

export function applyCancelOrder(state: ExchangeState, cmd: CancelOrderCommand, ctx: ApplyContext): ApplyResult {
  const order = findOwnOpenOrder(state, cmd, ctx);
  if (!(order instanceof Order)) return order;
  const m = order.market;
  const cancelled = cancelResting(state, order);
  // The command names the order by its id, so the reply can reuse that string.
  return new CancelledResult('cancel', ctx.logIndex, cmd.orderId, cmd.accountId, m, cancelled);
}

export function applyReduceOrder(state: ExchangeState, cmd: ReduceOrderCommand, ctx: ApplyContext): ApplyResult {
  const order = findOwnOpenOrder(state, cmd, ctx);
  if (!(order instanceof Order)) return order;
  const m = order.market;
  const lots = countSteps(cmd.quantity, m.lot);
  if (typeof lots !== 'number' || lots === 0) {
    return rejectCommand('reduceOrder', cmd.accountId, 'invalidCommand', `invalid quantity ${cmd.quantity} for ${m.symbol}`, ctx);
  }
  if (lots >= order.remainingLots) {
    const cancelled = cancelResting(state, order);
    // The reduced total is what had filled: the whole remainder was taken off.
    order.quantityLots = order.filledLots;
    return new CancelledResult('reduce', ctx.logIndex, cmd.orderId, cmd.accountId, m, cancelled);
  }
  const account = state.accounts.get(order.accountId)!;
  order.quantityLots -= lots;
  order.level!.totalLots -= lots;
  if (order.side === 'sell') account.balance(m.base.name).release(lots);
  else account.balance(m.quote.name).release(notional(m, order.priceTicks, lots));
  return new ReducedResult(ctx.logIndex, cmd.orderId, cmd.accountId, m, order.status, lots, order.quantityLots, order.remainingLots);
}
