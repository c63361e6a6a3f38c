/**
 * Differential property test: seeded random command streams over several accounts and two symbols
 * go through the engine and the naive reference matcher side by side. After every command:
 * - `checkInvariants(exchange)` is empty (conservation, no negatives, book never crossed,
 *   reserved == what open orders need);
 * - the engine's reply agrees with the reference (rejection reason, status, filled and remaining,
 *   and every trade: price, quantity, maker and taker order ids, accounts, aggressor side);
 * - every account's portfolio and both books' levels agree with the reference.
 *
 * Replay a failure with `SEED=<seed> npx vitest run test/domain/exchange.property.test.ts`.
 */
import { describe, expect, it } from 'vitest';
import { Exchange, checkInvariants, defaultExchangeConfig, validateCommand } from '../../domain/index.js';
import type { Command, ExchangeConfig, Reply, Side } from '../../domain/index.js';
import { SeededRng } from '../../src/raft/rng.js';
import { centsToDecimal } from '../../src/replay/lobster-price.js';
import { ReferenceMatcher, fromUnits, toUnits } from './reference-matcher.js';
import type { RefOutcome } from './reference-matcher.js';

const symbols = ['AAPL', 'MSFT'] as const;
const accounts = ['acct-a', 'acct-b', 'acct-c', 'acct-d'] as const;
/** Commands per seeded stream. */
const streamLength = Number(process.env['STEPS'] ?? 600);
/** Streams per run: SEED pins one stream, otherwise a few fixed seeds. */
const seeds = process.env['SEED'] !== undefined ? [Number(process.env['SEED'])] : [1, 2, 3, 4, 5, 6, 7, 8];

/** A mid price per symbol in cents; orders land within a few ticks so they cross often. */
const midCents: Record<(typeof symbols)[number], number> = { AAPL: 10_000, MSFT: 3_000 };

/**
 * Seeds above 6 trade MSFT with tick 0.1 and lot 0.1, so fractional lots and a coarser tick go
 * through the same comparison. A function of the seed alone, so SEED=n replays stream n exactly.
 */
function fractionalFor(seed: number): boolean {
  return seed > 6;
}
const fractionalConfig: ExchangeConfig = {
  ...defaultExchangeConfig,
  instruments: defaultExchangeConfig.instruments.map((i) => (i.symbol === 'MSFT' ? { ...i, tickSize: '0.1', lotSize: '0.1' } : i)),
};

/** Order and share quantities: whole shares, or tenths on a lot-0.1 instrument. */
function randomQuantity(rng: SeededRng, max: number, fractional: boolean): string {
  const n = 1 + rng.nextInt(max);
  return fractional ? centsToDecimal(n * 10) : String(n);
}

function pick<T>(rng: SeededRng, xs: readonly T[]): T {
  return xs[rng.nextInt(xs.length)]!;
}

/** Builds one random command; may refer to orders the stream placed earlier (by engine id). */
function randomCommand(
  rng: SeededRng, step: number, placed: readonly { orderId: string; accountId: string }[], history: readonly Command[], fractionalMsft: boolean,
): Command {
  const roll = rng.nextInt(100);
  const accountId = pick(rng, accounts);
  const symbol = pick(rng, symbols);
  const fractional = fractionalMsft && symbol === 'MSFT';
  if (roll < 3 && history.length > 0) return pick(rng, history); // an exact repeat: idempotency
  if (roll < 13) {
    const cash = rng.nextInt(2) === 0;
    const amount = cash ? centsToDecimal(1 + rng.nextInt(300_000)) : randomQuantity(rng, 40, fractional);
    return { type: 'deposit', accountId, asset: cash ? 'USD' : symbol, amount, requestId: `d${step}` };
  }
  if (roll < 17) {
    const cash = rng.nextInt(2) === 0;
    const amount = cash ? centsToDecimal(1 + rng.nextInt(200_000)) : randomQuantity(rng, 20, fractional);
    return { type: 'withdraw', accountId, asset: cash ? 'USD' : symbol, amount, requestId: `w${step}` };
  }
  if (roll < 30 && placed.length > 0) {
    const target = pick(rng, placed);
    // Mostly the owner; sometimes someone else (notOrderOwner) or an unknown id.
    const who = rng.nextInt(10) === 0 ? accountId : target.accountId;
    const orderId = rng.nextInt(20) === 0 ? `O-none-${step}` : target.orderId;
    return { type: 'cancelOrder', accountId: who, orderId };
  }
  if (roll < 38 && placed.length > 0) {
    const target = pick(rng, placed);
    // Whole shares are a multiple of either lot.
    return { type: 'reduceOrder', accountId: target.accountId, orderId: target.orderId, quantity: String(1 + rng.nextInt(12)) };
  }
  const side: Side = rng.nextInt(2) === 0 ? 'buy' : 'sell';
  const market = rng.nextInt(6) === 0;
  const quantity = randomQuantity(rng, 12, fractional);
  const tickCents = fractional ? 10 : 1;
  const cents = midCents[symbol] + (rng.nextInt(11) - 5) * tickCents;
  const tifRoll = rng.nextInt(10);
  if (market) {
    return { type: 'placeOrder', accountId, clientOrderId: `c${step}`, symbol, side, orderType: 'market', timeInForce: tifRoll < 7 ? 'ioc' : 'fok', quantity, price: null };
  }
  const timeInForce = tifRoll < 6 ? 'gtc' : tifRoll < 8 ? 'ioc' : 'fok';
  return { type: 'placeOrder', accountId, clientOrderId: `c${step}`, symbol, side, orderType: 'limit', timeInForce, quantity, price: centsToDecimal(cents) };
}

/** Describes why the engine's reply and the reference's outcome differ, or null. */
function replyDiff(reply: Reply, ref: RefOutcome): string | null {
  if (reply.kind !== ref.kind) return `kind ${reply.kind} vs reference ${ref.kind} (${JSON.stringify(reply)})`;
  switch (reply.kind) {
    case 'rejected':
      return ref.kind === 'rejected' && ref.reason !== reply.reason ? `reason ${reply.reason} vs ${ref.reason}` : null;
    case 'balance':
      if (ref.kind !== 'balance') return 'kind';
      if (toUnits(reply.balance.available) !== ref.available || toUnits(reply.balance.reserved) !== ref.reserved) {
        return `balance ${JSON.stringify(reply.balance)} vs ${fromUnits(ref.available)}/${fromUnits(ref.reserved)}`;
      }
      return null;
    case 'cancel':
      if (ref.kind !== 'cancel') return 'kind';
      return toUnits(reply.cancelledQuantity) !== ref.cancelled ? `cancelled ${reply.cancelledQuantity} vs ${fromUnits(ref.cancelled)}` : null;
    case 'reduce':
      if (ref.kind !== 'reduce') return 'kind';
      return toUnits(reply.remainingQuantity) !== ref.remaining ? `remaining ${reply.remainingQuantity} vs ${fromUnits(ref.remaining)}` : null;
    case 'order': {
      if (ref.kind !== 'order') return 'kind';
      if (reply.status !== ref.status) return `status ${reply.status} vs ${ref.status}`;
      if (toUnits(reply.filledQuantity) !== ref.filled) return `filled ${reply.filledQuantity} vs ${fromUnits(ref.filled)}`;
      if (toUnits(reply.remainingQuantity) !== ref.remaining) return `remaining ${reply.remainingQuantity} vs ${fromUnits(ref.remaining)}`;
      if (reply.trades.length !== ref.trades.length) return `${reply.trades.length} trades vs ${ref.trades.length}`;
      for (let i = 0; i < reply.trades.length; i++) {
        const t = reply.trades[i]!;
        const r = ref.trades[i]!;
        const maker = t.aggressorSide === 'buy' ? t.sellOrderId : t.buyOrderId;
        const taker = t.aggressorSide === 'buy' ? t.buyOrderId : t.sellOrderId;
        const same = toUnits(t.price) === r.price && toUnits(t.quantity) === r.quantity && maker === r.makerOrderId
          && taker === r.takerOrderId && t.buyerAccountId === r.buyerAccountId && t.sellerAccountId === r.sellerAccountId
          && t.aggressorSide === r.aggressorSide;
        if (!same) {
          return `trade ${i}: engine ${t.quantity}@${t.price} maker ${maker} taker ${taker} vs reference ${fromUnits(r.quantity)}@${fromUnits(r.price)} maker ${r.makerOrderId} taker ${r.takerOrderId}`;
        }
      }
      return null;
    }
  }
}

/** Describes the first difference between engine and reference state (portfolios, books), or null. */
function stateDiff(exchange: Exchange, ref: ReferenceMatcher): string | null {
  for (const a of accounts) {
    const engine = exchange.portfolio(a).filter((b) => toUnits(b.available) !== 0n || toUnits(b.reserved) !== 0n);
    const expected = ref.portfolio(a).filter((b) => b.available !== 0n || b.reserved !== 0n);
    const e = engine.map((b) => `${b.asset}:${fromUnits(toUnits(b.available))}/${fromUnits(toUnits(b.reserved))}`).join(' ');
    const r = expected.map((b) => `${b.asset}:${fromUnits(b.available)}/${fromUnits(b.reserved)}`).join(' ');
    if (e !== r) return `portfolio ${a}: engine ${e} vs reference ${r}`;
  }
  for (const s of symbols) {
    const book = exchange.orderBook(s, 1000);
    if (book === null) return `no book for ${s}`;
    for (const side of ['buy', 'sell'] as const) {
      const engine = (side === 'buy' ? book.bids : book.asks).map((l) => `${fromUnits(toUnits(l.quantity))}@${fromUnits(toUnits(l.price))}x${l.orderCount}`).join(' ');
      const expected = ref.levels(s, side).map((l) => `${fromUnits(l.quantity)}@${fromUnits(l.price)}x${l.orderCount}`).join(' ');
      if (engine !== expected) return `${s} ${side}s: engine ${engine} vs reference ${expected}`;
    }
  }
  return null;
}

/** Outcomes a meaningful stream must reach: every cancel cause and the main rejections. */
const requiredOutcomes = [
  'cancel:user', 'cancel:ioc', 'cancel:market', 'cancel:fok', 'cancel:selfTrade', 'cancel:reduced', 'reduced',
  'reject:insufficientFunds', 'reject:unknownOrder', 'reject:notOrderOwner', 'reject:orderNotOpen', 'repeat', 'stop:cash',
] as const;

function runStream(seed: number): Set<string> {
  const seen = new Set<string>();
  const rng = new SeededRng(seed);
  const fractional = fractionalFor(seed);
  const config = fractional ? fractionalConfig : defaultExchangeConfig;
  const exchange = new Exchange(config);
  const ref = new ReferenceMatcher(config.instruments.map((i) => ({ symbol: i.symbol, quoteAsset: i.quoteAsset, tick: i.tickSize, lot: i.lotSize })));
  const placed: { orderId: string; accountId: string }[] = [];
  const history: Command[] = [];
  let trades = 0;
  for (let step = 1; step <= streamLength; step++) {
    const raw = randomCommand(rng, step, placed, history, fractional);
    const valid = validateCommand(raw, config);
    if (!valid.ok) throw new Error(`seed ${seed} step ${step}: generator made an invalid command ${JSON.stringify(raw)}: ${valid.error}`);
    const command = valid.command;
    history.push(command);
    const { reply, events } = exchange.apply(command, { logIndex: step, timestampMs: 1_700_000_000_000 + step });
    for (const e of events) {
      if (e.type === 'orderCancelled') seen.add(`cancel:${e.cause}`);
      if (e.type === 'orderReduced') seen.add('reduced');
    }
    if (reply.kind === 'rejected') seen.add(`reject:${reply.reason}`);
    if (reply.logIndex !== step) seen.add('repeat');
    const newOrderId = reply.kind === 'order' ? reply.orderId : `O${step}`;
    const outcome = ref.apply(command, newOrderId);
    const where = `seed ${seed} step ${step} (replay: SEED=${seed}) command ${JSON.stringify(command)}`;
    const diff = replyDiff(reply, outcome);
    if (diff !== null) throw new Error(`${where}: reply differs from the reference: ${diff}`);
    if (reply.kind === 'order') {
      trades += reply.trades.length;
      if (command.type === 'placeOrder' && !placed.some((p) => p.orderId === reply.orderId)) {
        placed.push({ orderId: reply.orderId, accountId: command.accountId });
      }
    }
    const violations = checkInvariants(exchange);
    if (violations.length > 0) throw new Error(`${where}: invariants broken: ${violations.join('; ')}`);
    const sd = stateDiff(exchange, ref);
    if (sd !== null) throw new Error(`${where}: state differs from the reference: ${sd}`);
  }
  // The stream must have exercised matching, or the agreement above proves little.
  expect(trades, `seed ${seed}: too few trades to be meaningful`).toBeGreaterThan(streamLength / 20);
  // A market buy stopped by its cash (with liquidity left) is the rule that needs the most luck.
  if (ref.stops.cash > 0) seen.add('stop:cash');
  return seen;
}

describe('exchange vs reference matcher (seeded random streams)', () => {
  const reached = new Set<string>();
  for (const seed of seeds) {
    it(`seed ${seed}: invariants hold and every reply and trade agrees`, () => {
      try {
        for (const o of runStream(seed)) reached.add(o);
      } catch (e) {
        console.error(`exchange.property: failing seed ${seed} (replay with SEED=${seed})`);
        throw e;
      }
    });
  }
  // Agreement proves little unless the streams reached every rule; a single pinned SEED may not.
  it.skipIf(process.env['SEED'] !== undefined)('the streams reach every cancel cause and rejection', () => {
    expect(requiredOutcomes.filter((o) => !reached.has(o))).toEqual([]);
  });
});
