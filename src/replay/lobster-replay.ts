/**
 * The LOBSTER adapter: maps real NASDAQ order flow (a LOBSTER message file) to exchange commands.
 *
 * - type 1 (add) -> a GTC limit order from the buyer or seller account;
 * - type 2 (partial cancel) -> ReduceOrder; type 3 (delete) -> CancelOrder;
 * - type 4 (visible execution) -> an IOC limit order from the taker account on the other side at
 *   that price and size, which price-time priority makes hit that level;
 * - type 5 (hidden execution), 6, 7 -> skipped (the displayed book does not change).
 *
 * The adapter is a generator of steps fed back with each command's reply (order ids come from the
 * log index, so only the reply names a new order). It drives nothing itself: the in-process driver
 * (`in-process-replay.ts`) applies commands to an `Exchange`, the node runtime can submit the same
 * commands to a live cluster.
 *
 * Keeping levels in step with LOBSTER. The engine is exact, but the data is not a closed world:
 * orders resting before 09:30 are only known as per-level totals (the seed), and NASDAQ now and
 * then executes a later order at a price before an earlier one (message 2411), so price-time
 * priority fills a different order than the one the message names. The adapter therefore tracks,
 * per order, what the engine holds open and what LOBSTER says it holds, and takes an event's size
 * off the *level*: first from the named order, then from orders holding more than LOBSTER thinks
 * (seed orders first), so each level's total stays equal to LOBSTER's.
 */
import type { Command, Reply, Side, TradeView } from '../../domain/index.js';
import { assert, assertNever } from '../raft/assert.js';
import type { LobsterBookRow, LobsterMessage } from './lobster-csv.js';
import { centsToDecimal, lobsterPriceToCents, wholeFromDecimal } from './lobster-price.js';

/** Distinct accounts, so self-trade prevention never interferes with the replay. */
export interface ReplayAccounts {
  readonly buyer: string;
  readonly seller: string;
  readonly taker: string;
}

export const defaultReplayAccounts: ReplayAccounts = { buyer: 'lobster-buyer', seller: 'lobster-seller', taker: 'lobster-taker' };

export interface LobsterReplayOptions {
  readonly symbol: string;
  readonly accounts?: ReplayAccounts;
  /** The book after message 1 (all its levels); message 1 is taken back out before seeding. */
  readonly seedBook?: LobsterBookRow;
  /** Cash (USD, whole dollars) deposited to buyer and taker, in deposits of at most `depositMax` each. */
  readonly cashDollars?: number;
  /** Shares deposited to seller and taker. */
  readonly shares?: number;
  /**
   * Prefix of every client order id and request id ([A-Za-z0-9._:-], default 'r'). Replaying
   * twice into the same exchange (a live cluster) needs a fresh one, or idempotency answers the
   * second run with the first run's replies.
   */
  readonly runId?: string;
}

/**
 * One step of the replay. `command`: apply it and pass its Reply to `next()`. `messageDone`: the
 * message at `messageIndex` (0-based; orderbook row of the same index) is fully applied.
 */
export type ReplayStep =
  | { readonly kind: 'command'; readonly command: Command }
  | { readonly kind: 'messageDone'; readonly messageIndex: number };

/** What the adapter had to work around; all counts. */
export interface ReplayCounters {
  /** Messages handled (all kinds). */
  messages: number;
  /** Trades reported in replies after seeding. */
  trades: number;
  /** Commands the engine rejected (should stay 0: accounts are funded, ids are ours). */
  rejected: number;
  /** Cancel/delete/execute events naming an order the replay never saw (resting before 09:30 or deeper than the file's levels). */
  unknownOrderEvents: number;
  /** Events whose size the named order no longer held, so (part of) it came off other orders at the level. */
  levelAdjustedEvents: number;
  /** Shares an event should have taken off a level that the engine's level did not have. */
  unresolvedShares: number;
  /** Type 4 shares the taker's IOC did not fill (the engine's level was thinner than LOBSTER's). */
  unfilledExecutionShares: number;
  /** New limit orders that traded on arrival (the engine's book held stale liquidity). */
  crossingAdds: number;
  /** Hidden executions and other kinds that do not touch the displayed book. */
  skipped: number;
}

/** What the adapter knows of one order it placed. */
interface Tracked {
  readonly engineOrderId: string;
  readonly accountId: string;
  /** null for a seed order (a level total from the book, not a LOBSTER order). */
  readonly lobsterId: number | null;
  readonly side: Side;
  readonly cents: number;
  /** The engine's current total after reduces. */
  engineTotal: number;
  engineFilled: number;
  /** What LOBSTER says the order still holds (0 for seed orders). */
  lobsterOpen: number;
}

function engineOpen(t: Tracked): number {
  return t.engineTotal - t.engineFilled;
}

/** Cash per deposit command; the engine bounds deposit amounts. */
const depositDollarsMax = 1_000_000_000;
/** Deposits per account and asset at most; keeps setup short and bounded. */
const depositsPerAssetMax = 100;

function opposite(side: Side): Side {
  return side === 'buy' ? 'sell' : 'buy';
}

/**
 * The seed levels: `seedBook` is the book *after* message 1, so message 1's effect is undone
 * (an add is subtracted from its level, a cancel/delete/execute added back).
 */
export function seedLevels(seedBook: LobsterBookRow, first: LobsterMessage | undefined): { side: Side; price: number; size: number }[] {
  const levels = new Map<string, { side: Side; price: number; size: number }>();
  for (const l of seedBook.bids) levels.set(`buy:${l.price}`, { side: 'buy', price: l.price, size: l.size });
  for (const l of seedBook.asks) levels.set(`sell:${l.price}`, { side: 'sell', price: l.price, size: l.size });
  if (first !== undefined) {
    const key = `${first.side}:${first.price}`;
    const level = levels.get(key) ?? { side: first.side, price: first.price, size: 0 };
    switch (first.kind) {
      case 'add':
        level.size -= first.size;
        break;
      case 'partialCancel':
      case 'delete':
      case 'execute':
        level.size += first.size;
        break;
      case 'hiddenExecute':
      case 'cross':
      case 'halt':
        break;
      default:
        assertNever(first.kind);
    }
    assert(level.size >= 0, `seed level ${key} goes negative when message 1 is taken out`);
    levels.set(key, level);
  }
  return [...levels.values()].filter((l) => l.size > 0);
}

/**
 * Generates the commands for a LOBSTER replay: funding, the seed book, then each message's
 * commands followed by a `messageDone` step. Feed each command's Reply back through `next(reply)`.
 * Returns the counters when the messages are exhausted.
 */
export function* lobsterCommands(
  messages: readonly LobsterMessage[],
  options: LobsterReplayOptions,
): Generator<ReplayStep, ReplayCounters, Reply | undefined> {
  const accounts = options.accounts ?? defaultReplayAccounts;
  const symbol = options.symbol;
  const counters: ReplayCounters = {
    messages: 0, trades: 0, rejected: 0, unknownOrderEvents: 0, levelAdjustedEvents: 0,
    unresolvedShares: 0, unfilledExecutionShares: 0, crossingAdds: 0, skipped: 0,
  };
  /** Open engine orders per level key `${side}:${cents}`, in arrival (time-priority) order. */
  const levels = new Map<string, Tracked[]>();
  const byEngineId = new Map<string, Tracked>();
  /** LOBSTER orders still open per LOBSTER (lobsterOpen > 0), even if the engine no longer holds them. */
  const byLobsterId = new Map<number, Tracked>();
  let seq = 0;
  let inMessages = false;
  const runId = options.runId ?? 'r';
  assert(/^[A-Za-z0-9._:-]{1,40}$/.test(runId), `runId must be 1-40 id characters, got ${JSON.stringify(runId)}`);

  const levelKey = (side: Side, cents: number): string => `${side}:${cents}`;

  function forgetIfDone(t: Tracked): void {
    if (engineOpen(t) === 0) {
      byEngineId.delete(t.engineOrderId);
      const key = levelKey(t.side, t.cents);
      const level = levels.get(key);
      if (level !== undefined) {
        const i = level.indexOf(t);
        if (i >= 0) level.splice(i, 1);
        if (level.length === 0) levels.delete(key);
      }
    }
    if (t.lobsterId !== null && t.lobsterOpen <= 0 && byLobsterId.get(t.lobsterId) === t) byLobsterId.delete(t.lobsterId);
  }

  function noteTrades(trades: readonly TradeView[]): void {
    for (const trade of trades) {
      if (inMessages) counters.trades++;
      const makerId = trade.aggressorSide === 'buy' ? trade.sellOrderId : trade.buyOrderId;
      const maker = byEngineId.get(makerId);
      assert(maker !== undefined, `trade ${trade.tradeId} hit order ${makerId} the replay did not place`);
      maker.engineFilled += wholeFromDecimal(trade.quantity);
      assert(engineOpen(maker) >= 0, `order ${makerId} overfilled`);
      forgetIfDone(maker);
    }
  }

  /** Notes a rejection; the replay goes on (the counters show it). */
  function isRejected(reply: Reply | undefined): boolean {
    assert(reply !== undefined, 'the replay driver must pass each command reply to next()');
    if (reply.kind === 'rejected') {
      counters.rejected++;
      return true;
    }
    return false;
  }

  function placeCommand(accountId: string, side: Side, cents: number, quantity: number, timeInForce: 'gtc' | 'ioc'): Command {
    seq++;
    return {
      type: 'placeOrder', accountId, clientOrderId: `${runId}.${seq}`, symbol, side, orderType: 'limit',
      timeInForce, quantity: String(quantity), price: centsToDecimal(cents),
    };
  }

  /** Places a resting limit order and tracks it; yields the command. */
  function* placeResting(side: Side, cents: number, size: number, lobsterId: number | null): Generator<ReplayStep, void, Reply | undefined> {
    const accountId = side === 'buy' ? accounts.buyer : accounts.seller;
    const reply = yield { kind: 'command', command: placeCommand(accountId, side, cents, size, 'gtc') };
    if (isRejected(reply)) return;
    assert(reply !== undefined && reply.kind === 'order', `placeOrder answered ${reply?.kind}`);
    noteTrades(reply.trades);
    if (reply.trades.length > 0) counters.crossingAdds++;
    const t: Tracked = {
      engineOrderId: reply.orderId, accountId, lobsterId, side, cents,
      engineTotal: size, engineFilled: wholeFromDecimal(reply.filledQuantity), lobsterOpen: lobsterId === null ? 0 : size,
    };
    if (lobsterId !== null) byLobsterId.set(lobsterId, t);
    if (engineOpen(t) > 0) {
      byEngineId.set(t.engineOrderId, t);
      const key = levelKey(side, cents);
      const level = levels.get(key);
      if (level === undefined) levels.set(key, [t]);
      else level.push(t);
    }
  }

  /** Lowers an engine order's open quantity to `open` (0 = cancel), keeping its time priority. */
  function* lowerTo(t: Tracked, open: number): Generator<ReplayStep, void, Reply | undefined> {
    assert(open >= 0 && open < engineOpen(t), `lowerTo(${open}) must lower order ${t.engineOrderId} (open ${engineOpen(t)})`);
    if (open === 0) {
      const reply = yield { kind: 'command', command: { type: 'cancelOrder', accountId: t.accountId, orderId: t.engineOrderId } };
      if (isRejected(reply)) return;
      assert(reply !== undefined && reply.kind === 'cancel', `cancelOrder answered ${reply?.kind}`);
      t.engineTotal = t.engineFilled;
    } else {
      // ReduceOrder takes its quantity off the open remainder in place (the order keeps its priority).
      const by = engineOpen(t) - open;
      const reply = yield { kind: 'command', command: { type: 'reduceOrder', accountId: t.accountId, orderId: t.engineOrderId, quantity: String(by) } };
      if (isRejected(reply)) return;
      assert(reply !== undefined && reply.kind === 'reduce', `reduceOrder answered ${reply?.kind}`);
      assert(wholeFromDecimal(reply.remainingQuantity) === open, `reduce of ${t.engineOrderId} left ${reply.remainingQuantity}, wanted ${open}`);
      t.engineTotal -= by;
    }
    forgetIfDone(t);
  }

  /**
   * Takes `size` shares off the level (side, cents): from `named` first, then from orders holding
   * more than LOBSTER says (seed orders and misattributed executions first), then from the youngest.
   */
  function* takeOffLevel(side: Side, cents: number, size: number, named: Tracked | undefined): Generator<ReplayStep, void, Reply | undefined> {
    let left = size;
    if (named !== undefined && engineOpen(named) > 0) {
      const take = Math.min(left, engineOpen(named));
      left -= take;
      yield* lowerTo(named, engineOpen(named) - take);
    }
    if (left === 0) return;
    counters.levelAdjustedEvents++;
    // Three passes over a copy (lowering may remove orders from the level): orphans that LOBSTER
    // holds nothing in (seed orders), oldest first; then each order's surplus over what LOBSTER
    // says; then, so the level total still wins, anything left, youngest first.
    const level = [...(levels.get(levelKey(side, cents)) ?? [])];
    const passes: { orders: Tracked[]; spare: (t: Tracked) => number }[] = [
      { orders: level.filter((t) => t.lobsterOpen <= 0), spare: engineOpen },
      { orders: level.filter((t) => t.lobsterOpen > 0), spare: (t) => engineOpen(t) - t.lobsterOpen },
      { orders: level.filter((t) => t.lobsterOpen > 0).reverse(), spare: engineOpen },
    ];
    for (const pass of passes) {
      for (const t of pass.orders) {
        if (left === 0) break;
        const take = Math.min(left, pass.spare(t));
        if (take <= 0) continue;
        left -= take;
        yield* lowerTo(t, engineOpen(t) - take);
      }
    }
    counters.unresolvedShares += left;
  }

  // Funding: large enough that no reservation is ever refused.
  const cashDollars = options.cashDollars ?? 20_000_000_000;
  const shares = options.shares ?? 100_000_000;
  const fund = function* (accountId: string, asset: string, total: number, perDeposit: number): Generator<ReplayStep, void, Reply | undefined> {
    let left = total;
    for (let i = 0; left > 0 && i < depositsPerAssetMax; i++) {
      const amount = Math.min(left, perDeposit);
      left -= amount;
      seq++;
      const reply = yield { kind: 'command', command: { type: 'deposit', accountId, asset, amount: String(amount), requestId: `${runId}.fund.${seq}` } };
      if (isRejected(reply)) throw new Error(`replay setup: deposit of ${amount} ${asset} to ${accountId} was rejected`);
    }
  };
  yield* fund(accounts.buyer, 'USD', cashDollars, depositDollarsMax);
  yield* fund(accounts.taker, 'USD', cashDollars, depositDollarsMax);
  yield* fund(accounts.seller, symbol, shares, shares);
  yield* fund(accounts.taker, symbol, shares, shares);

  if (options.seedBook !== undefined) {
    for (const level of seedLevels(options.seedBook, messages[0])) {
      yield* placeResting(level.side, lobsterPriceToCents(level.price), level.size, null);
    }
  }

  inMessages = true;
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i]!;
    counters.messages++;
    switch (m.kind) {
      case 'add':
        yield* placeResting(m.side, lobsterPriceToCents(m.price), m.size, m.orderId);
        break;
      case 'partialCancel':
      case 'delete': {
        const named = byLobsterId.get(m.orderId);
        if (named === undefined) counters.unknownOrderEvents++;
        else named.lobsterOpen = m.kind === 'delete' ? 0 : named.lobsterOpen - m.size;
        yield* takeOffLevel(m.side, lobsterPriceToCents(m.price), m.size, named);
        if (named !== undefined) forgetIfDone(named);
        break;
      }
      case 'execute': {
        const named = byLobsterId.get(m.orderId);
        if (named === undefined) counters.unknownOrderEvents++;
        else named.lobsterOpen -= m.size;
        const cents = lobsterPriceToCents(m.price);
        const reply = yield { kind: 'command', command: placeCommand(accounts.taker, opposite(m.side), cents, m.size, 'ioc') };
        if (!isRejected(reply)) {
          assert(reply !== undefined && reply.kind === 'order', `IOC answered ${reply?.kind}`);
          noteTrades(reply.trades);
          counters.unfilledExecutionShares += m.size - wholeFromDecimal(reply.filledQuantity);
        }
        if (named !== undefined) forgetIfDone(named);
        break;
      }
      case 'hiddenExecute':
      case 'cross':
      case 'halt':
        counters.skipped++;
        break;
      default:
        assertNever(m.kind);
    }
    yield { kind: 'messageDone', messageIndex: i };
  }
  return counters;
}
