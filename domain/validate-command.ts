/**
 * Edge validation: what the API checks before a command may reach the log (failures are
 * INVALID_ARGUMENT and append nothing). It checks syntax and the config's static rules — ids,
 * asset/symbol names, plain positive decimals within the named maxima, tick/lot/unit multiples
 * for KNOWN instruments and assets, market orders without price and not GTC, limit orders with a
 * price — and returns the canonical command (decimals as decimal.js `toFixed()`, fields in a fixed
 * order). An unknown symbol or asset is NOT a validation error: it is a business rejection decided
 * at apply, so it is in the log too. Reduce quantities are checked against the lot of the
 * order's instrument at apply (the edge does not know the order).
 */
import { assetNamePattern, compiledConfigOf, defaultExchangeConfig, idPattern, type CompiledConfig, type ExchangeConfig } from './config.js';
import { countSteps, decimalTextLengthMax, plainDecimalPattern, type Step } from './money.js';
import type { Command, RawPlaceOrder, Side, OrderType, TimeInForce } from './types.js';

export type ValidationResult = { ok: true; command: Command } | { ok: false; error: string };


class Invalid extends Error {}

function fail(message: string): never {
  throw new Invalid(message);
}

function id(value: unknown, field: string): string {
  if (typeof value !== 'string' || !idPattern.test(value)) fail(`${field} must be 1-64 characters from [A-Za-z0-9._:-]`);
  return value;
}

function assetName(value: unknown, field: string): string {
  if (typeof value !== 'string' || !assetNamePattern.test(value)) fail(`${field} must be 1-16 characters from [A-Z0-9.]`);
  return value;
}

/**
 * The canonical text of a plain decimal (what decimal.js `toFixed()` gives): no leading zeros in
 * the integer part, no trailing zeros in the fraction, no dot without a fraction. '007.50' -> '7.5',
 * '0.000' -> '0'. String work only: this runs for every write, and decimal.js cost ~10 us per order
 * on the leader (test/domain/validation.test.ts checks it against decimal.js).
 */
export function canonicalPlainDecimal(s: string): string {
  const dot = s.indexOf('.');
  const intEnd = dot < 0 ? s.length : dot;
  let i = 0;
  while (i < intEnd - 1 && s.charCodeAt(i) === 48) i++;
  if (dot < 0) return i === 0 ? s : s.slice(i);
  let end = s.length;
  while (end > dot + 1 && s.charCodeAt(end - 1) === 48) end--;
  if (end === dot + 1) return s.slice(i, dot);
  return i === 0 && end === s.length ? s : s.slice(i, end);
}

/** Compares two canonical plain decimals (see canonicalPlainDecimal): negative, zero or positive. */
export function comparePlainDecimals(a: string, b: string): number {
  const da = a.indexOf('.');
  const db = b.indexOf('.');
  const ia = da < 0 ? a.length : da;
  const ib = db < 0 ? b.length : db;
  // Canonical integer parts have no leading zeros: the longer one is the larger number.
  if (ia !== ib) return ia - ib;
  const intA = a.slice(0, ia);
  const intB = b.slice(0, ib);
  if (intA !== intB) return intA < intB ? -1 : 1;
  // Canonical fractions have no trailing zeros: they compare as strings ('' < '05' < '5' < '51').
  const fa = da < 0 ? '' : a.slice(da + 1);
  const fb = db < 0 ? '' : b.slice(db + 1);
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

/**
 * A positive plain decimal no larger than `max`, a multiple of `step` when known; returns its
 * canonical text.
 */
function positiveDecimal(value: unknown, field: string, max: string, step: Step | null): string {
  if (typeof value !== 'string' || value.length > decimalTextLengthMax || !plainDecimalPattern.test(value)) {
    fail(`${field} must be a plain decimal like 12.34 (no sign, exponent or spaces)`);
  }
  const canonical = canonicalPlainDecimal(value);
  if (canonical === '0') fail(`${field} must be greater than zero`);
  if (comparePlainDecimals(canonical, canonicalPlainDecimal(max)) > 0) fail(`${field} exceeds the maximum ${max}`);
  if (step !== null) {
    const steps = countSteps(value, step);
    if (steps === 'notMultiple') fail(`${field} must be a multiple of ${step.text}`);
    if (typeof steps !== 'number') fail(`${field} is out of range`);
  }
  return canonical;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], field: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) fail(`${field} must be one of ${allowed.join(', ')}`);
  return value as T;
}

const sides: readonly Side[] = ['buy', 'sell'];
const orderTypes: readonly OrderType[] = ['limit', 'market'];
const timesInForce: readonly TimeInForce[] = ['gtc', 'ioc', 'fok'];

function validatePlace(raw: { type: 'placeOrder' } & RawPlaceOrder, c: CompiledConfig): Command {
  const accountId = id(raw.accountId, 'accountId');
  const clientOrderId = id(raw.clientOrderId, 'clientOrderId');
  const symbol = assetName(raw.symbol, 'symbol');
  const side = oneOf(raw.side, sides, 'side');
  const orderType = oneOf(raw.orderType, orderTypes, 'orderType');
  const tifRaw: unknown = raw.timeInForce;
  const timeInForce = tifRaw === null || tifRaw === undefined ? (orderType === 'market' ? 'ioc' : 'gtc') : oneOf(tifRaw, timesInForce, 'timeInForce');
  const market = c.markets.get(symbol);
  const quantity = positiveDecimal(raw.quantity, 'quantity', c.source.quantityMax, market?.lot ?? null);
  // proto3 cannot tell an empty string from an absent field: '' means "no price".
  const rawPrice: unknown = raw.price === '' ? null : raw.price;
  let price: string | null = null;
  if (orderType === 'market') {
    if (rawPrice !== null && rawPrice !== undefined) fail('a market order must not carry a price');
    if (timeInForce === 'gtc') fail('a market order is IOC or FOK, never GTC');
  } else {
    if (rawPrice === null || rawPrice === undefined) fail('a limit order needs a price');
    price = positiveDecimal(rawPrice, 'price', c.source.priceMax, market?.tick ?? null);
  }
  return { type: 'placeOrder', accountId, clientOrderId, symbol, side, orderType, timeInForce, quantity, price };
}

function validateOrThrow(raw: Command | ({ type: 'placeOrder' } & RawPlaceOrder), c: CompiledConfig): Command {
  if (typeof raw !== 'object' || raw === null) fail('command must be an object');
  const type: unknown = raw.type;
  switch (type) {
    case 'deposit':
    case 'withdraw': {
      const r = raw as Extract<Command, { type: 'deposit' | 'withdraw' }>;
      const accountId = id(r.accountId, 'accountId');
      const asset = assetName(r.asset, 'asset');
      const unit = c.assets.get(asset)?.unit ?? null;
      const amount = positiveDecimal(r.amount, 'amount', c.source.amountMax, unit);
      const requestId = id(r.requestId, 'requestId');
      return { type, accountId, asset, amount, requestId };
    }
    case 'placeOrder':
      return validatePlace(raw as { type: 'placeOrder' } & RawPlaceOrder, c);
    case 'cancelOrder': {
      const r = raw as Extract<Command, { type: 'cancelOrder' }>;
      return { type, accountId: id(r.accountId, 'accountId'), orderId: id(r.orderId, 'orderId') };
    }
    case 'reduceOrder': {
      const r = raw as Extract<Command, { type: 'reduceOrder' }>;
      const accountId = id(r.accountId, 'accountId');
      const orderId = id(r.orderId, 'orderId');
      const quantity = positiveDecimal(r.quantity, 'quantity', c.source.quantityMax, null);
      // The order's symbol is not known at the edge, but a quantity that no instrument's lot
      // divides can never be valid: that is malformed (INVALID_ARGUMENT), not a business outcome.
      const fitsSomeLot = [...c.markets.values()].some((m) => countSteps(quantity, m.lot) !== 'notMultiple');
      if (!fitsSomeLot) fail('quantity must be a multiple of the instrument lot');
      return { type, accountId, orderId, quantity };
    }
    default:
      return fail(`unknown command type ${String(type)}`);
  }
}

/**
 * Validates and canonicalises a client command. Never throws on bad input; the error text is
 * meant for the client (INVALID_ARGUMENT).
 */
export function validateCommand(
  raw: Command | ({ type: 'placeOrder' } & RawPlaceOrder),
  config: ExchangeConfig = defaultExchangeConfig,
): ValidationResult {
  try {
    return { ok: true, command: validateOrThrow(raw, compiledConfigOf(config)) };
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, error: e.message };
    throw e;
  }
}
