/**
 * Deposit and Withdraw. Both are idempotent by (account, request id): a repeat with the same
 * fields returns the stored reply and changes nothing; a repeat with other fields is rejected
 * (duplicateKeyMismatch) and leaves the stored outcome in place.
 */
import { type ExchangeState, balanceView } from './exchange-state.js';
import { sameFundsRequest } from './ledger.js';
import { countSteps } from './money.js';
import type { ApplyContext, ApplyResult, DepositCommand, RejectReason, Reply, WithdrawCommand } from './types.js';

/** A rejected deposit/withdraw/cancel/reduce: the reply and its one event. */
export function rejectCommand(
  commandType: 'deposit' | 'withdraw' | 'cancelOrder' | 'reduceOrder',
  accountId: string,
  reason: RejectReason,
  message: string,
  ctx: ApplyContext,
): ApplyResult {
  return {
    reply: { kind: 'rejected', logIndex: ctx.logIndex, reason, message },
    events: [{ type: 'commandRejected', commandType, accountId, reason, message }],
  };
}

export function applyFunds(state: ExchangeState, cmd: DepositCommand | WithdrawCommand, ctx: ApplyContext): ApplyResult {
  const account = state.account(cmd.accountId);
  const seen = account.requestKeys.get(cmd.requestId);
  if (seen) {
    if (sameFundsRequest(seen.command, cmd)) return { reply: seen.reply, events: [] };
    return rejectCommand(cmd.type, cmd.accountId, 'duplicateKeyMismatch',
      `request id ${cmd.requestId} was already used with different fields`, ctx);
  }
  const result = applyFreshFunds(state, cmd, ctx);
  account.requestKeys.add(cmd.requestId, { command: cmd, reply: result.reply });
  return result;
}

function applyFreshFunds(state: ExchangeState, cmd: DepositCommand | WithdrawCommand, ctx: ApplyContext): ApplyResult {
  const asset = state.config.assets.get(cmd.asset);
  if (!asset) return rejectCommand(cmd.type, cmd.accountId, 'unknownAsset', `unknown asset ${cmd.asset}`, ctx);
  const units = countSteps(cmd.amount, asset.unit);
  if (typeof units !== 'number' || units === 0 || units > asset.amountUnitsMax) {
    return rejectCommand(cmd.type, cmd.accountId, 'invalidCommand', `invalid amount ${cmd.amount} for ${cmd.asset}`, ctx);
  }
  const account = state.account(cmd.accountId);
  let reply: Reply;
  if (cmd.type === 'deposit') {
    if (state.supply(asset.name) + units > state.config.source.assetSupplyUnitsMax) {
      return rejectCommand(cmd.type, cmd.accountId, 'limitExceeded', `total ${cmd.asset} on deposit would exceed its limit`, ctx);
    }
    const balance = account.balance(asset.name);
    balance.credit(units);
    state.deposited.set(asset.name, (state.deposited.get(asset.name) ?? 0) + units);
    reply = { kind: 'balance', logIndex: ctx.logIndex, balance: balanceView(asset, balance) };
    return {
      reply,
      events: [{ type: 'fundsDeposited', accountId: cmd.accountId, asset: asset.name, amount: cmd.amount, requestId: cmd.requestId }],
    };
  }
  if (account.available(asset.name) < units) {
    return rejectCommand(cmd.type, cmd.accountId, 'insufficientFunds',
      `available ${cmd.asset} does not cover a withdrawal of ${cmd.amount}`, ctx);
  }
  const balance = account.balance(asset.name);
  balance.spendAvailable(units);
  state.withdrawn.set(asset.name, (state.withdrawn.get(asset.name) ?? 0) + units);
  reply = { kind: 'balance', logIndex: ctx.logIndex, balance: balanceView(asset, balance) };
  return {
    reply,
    events: [{ type: 'fundsWithdrawn', accountId: cmd.accountId, asset: asset.name, amount: cmd.amount, requestId: cmd.requestId }],
  };
}
