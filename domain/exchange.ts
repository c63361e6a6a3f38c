/**
 * The deterministic exchange state machine: `apply` folds committed commands, in log order, into
 * the state; queries read it. Same commands in the same order -> byte-identical replies, events,
 * snapshots and hashes on every replica. Never reads a clock or random source: the log entry's
 * index and leader timestamp come in through `ApplyContext`.
 */
import { assertNever, fail } from './assert.js';
import { compiledConfigOf as compile, defaultExchangeConfig, type ExchangeConfig } from './config.js';
import { balanceView, ExchangeState, lotsText, orderView, priceText } from './exchange-state.js';
import { applyFunds } from './funds-commands.js';
import { applyPlaceOrder } from './matching.js';
import { applyCancelOrder, applyReduceOrder } from './order-commands.js';
import { sha256Hex } from './sha256.js';
import { readSnapshot, writeSnapshot } from './snapshot.js';
import type { ApplyContext, ApplyResult, BalanceView, Command, LevelView, OrderBookView, OrderView } from './types.js';
import type { BookSide, OrderBook } from './order-book.js';

function levelViews(side: BookSide, depth: number, book: OrderBook): LevelView[] {
  const out: LevelView[] = [];
  for (const level of side.levelsBestFirst(depth)) {
    out.push({ price: priceText(book.market, level.priceTicks), quantity: lotsText(book.market, level.totalLots), orderCount: level.count });
  }
  return out;
}

export class Exchange {
  /** @internal The state, for invariant checks and snapshots; mutate only through `apply`. */
  readonly state: ExchangeState;
  private hashCache: { version: number; hash: string } | null = null;
  private version = 0;

  /** `state` is internal (restore passes the rebuilt state). */
  constructor(config: ExchangeConfig = defaultExchangeConfig, state?: ExchangeState) {
    this.state = state ?? new ExchangeState(compile(config));
  }

  /** The index of the last log entry applied (or skipped with `advanceTo`); 0 initially. */
  get lastAppliedIndex(): number {
    return this.state.lastAppliedIndex;
  }

  get config(): ExchangeConfig {
    return this.state.config.source;
  }

  /**
   * Applies one committed command. Mutates the state in place; never throws on business input
   * (rejections are replies). Log indexes must strictly increase: ids derive from them.
   */
  apply(command: Command, ctx: ApplyContext): ApplyResult {
    if (!(Number.isSafeInteger(ctx.logIndex) && ctx.logIndex > this.state.lastAppliedIndex)) fail(`apply: log index ${ctx.logIndex} after ${this.state.lastAppliedIndex}`);
    this.state.lastAppliedIndex = ctx.logIndex;
    this.version++;
    switch (command.type) {
      case 'deposit':
      case 'withdraw':
        return applyFunds(this.state, command, ctx);
      case 'placeOrder':
        return applyPlaceOrder(this.state, command, ctx);
      case 'cancelOrder':
        return applyCancelOrder(this.state, command, ctx);
      case 'reduceOrder':
        return applyReduceOrder(this.state, command, ctx);
      default:
        return assertNever(command);
    }
  }

  /** Records that entries up to `logIndex` that carry no command (noop, config) were applied. */
  advanceTo(logIndex: number): void {
    if (!(Number.isSafeInteger(logIndex) && logIndex >= this.state.lastAppliedIndex)) fail(`advanceTo ${logIndex} before ${this.state.lastAppliedIndex}`);
    if (logIndex === this.state.lastAppliedIndex) return;
    this.state.lastAppliedIndex = logIndex;
    this.version++;
  }

  /** The account's balances sorted by asset; [] for an unknown account. */
  portfolio(accountId: string): BalanceView[] {
    const account = this.state.accounts.get(accountId);
    if (!account) return [];
    const assets = [...account.balances.keys()].sort();
    return assets.map((a) => balanceView(this.state.asset(a), account.balances.get(a)));
  }

  /** Aggregated levels, best first, at most `depth` (clamped to bookDepthMax) per side; null for an unknown symbol. */
  orderBook(symbol: string, depth: number): OrderBookView | null {
    const book = this.state.books.get(symbol);
    if (!book) return null;
    const d = Math.max(0, Math.min(Math.floor(depth), this.state.config.source.bookDepthMax));
    return { bids: levelViews(book.bids, d, book), asks: levelViews(book.asks, d, book) };
  }

  /** The account's open orders in placement order. */
  openOrders(accountId: string): OrderView[] {
    const account = this.state.accounts.get(accountId);
    return account ? [...account.openOrders.values()].map(orderView) : [];
  }

  /** An open or recently closed order (see closedOrdersMax), or null. */
  order(orderId: string): OrderView | null {
    const o = this.state.order(orderId);
    return o ? orderView(o) : null;
  }

  hasSymbol(symbol: string): boolean {
    return this.state.books.has(symbol);
  }

  /** Symbols in config order. */
  symbols(): string[] {
    return [...this.state.books.keys()];
  }

  /** Canonical bytes of the whole state (see snapshot.ts). */
  snapshot(): Uint8Array {
    return writeSnapshot(this.state);
  }

  /** The exchange `snapshot()` was taken of; `config` must be the one it ran with. */
  static restore(bytes: Uint8Array, config: ExchangeConfig = defaultExchangeConfig): Exchange {
    return new Exchange(config, readSnapshot(bytes, compile(config)));
  }

  /** SHA-256 hex of the canonical snapshot; equal on replicas that applied the same entries. */
  stateHash(): string {
    if (this.hashCache?.version !== this.version) {
      this.hashCache = { version: this.version, hash: sha256Hex(this.snapshot()) };
    }
    return this.hashCache.hash;
  }
}
