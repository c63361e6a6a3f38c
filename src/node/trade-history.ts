/**
 * Trades by log index, for StreamTrades: recent history for resuming from a log index, then live.
 *
 * No gap and no duplicate at the seam: a subscription registers for live trades FIRST (they go to
 * its bounded buffer), then replays history up to the seam (the last trade recorded at subscribe
 * time), then drains the buffer, skipping anything at or before the seam. Every recorded trade
 * carries a sequence number, so "duplicate" is exact even with several trades per log index.
 *
 * Delivery to subscribers is asynchronous (batches on setImmediate): applying an entry never runs
 * subscriber code, and a subscriber that falls more than its buffer limit behind is errored with
 * OverloadedError instead of stalling the node or growing memory.
 */
import { Observable, type Subscriber } from 'rxjs';
import { assert } from '../raft/assert.js';
import type { LogIndex } from '../raft/types.js';
import { OverloadedError, TradeHistoryTrimmedError } from './exchange-node-api.js';

/** What the history needs to know about a trade. */
export interface TradeLike {
  readonly logIndex: LogIndex;
  readonly symbol: string;
}

/**
 * The consumer's backpressure, for replaying history: while `paused()`, the history cursor
 * waits (history is in memory and can wait) and `onResume` is asked to call back once. Live
 * trades still queue in the bounded buffer meanwhile, so a consumer that stays slow is errored.
 */
export interface StreamFlow {
  paused(): boolean;
  onResume(resume: () => void): void;
}

/** Trades a snapshot carried: every trade at log index >= `from` up to the snapshot, oldest first. */
export interface CarriedTrades<T> {
  readonly from: LogIndex;
  readonly trades: readonly T[];
}

export interface TradeHistoryLimits {
  /** Trades kept for resuming; older ones are dropped (a resume before them fails). */
  readonly tradeHistoryMax: number;
  /** Live trades queued per subscriber before it is errored with OverloadedError. */
  readonly streamBufferMax: number;
  /** Trades handed to one subscriber per macrotask, so one stream cannot starve the event loop. */
  readonly streamDrainBatchMax: number;
}

export const defaultTradeHistoryLimits: TradeHistoryLimits = {
  tradeHistoryMax: 200_000,
  streamBufferMax: 10_000,
  streamDrainBatchMax: 256,
};

interface Recorded<T> {
  readonly seq: number;
  readonly trade: T;
}

export class TradeHistory<T extends TradeLike> {
  private items: Recorded<T>[] = [];
  private head = 0;
  private seq = 0;
  /** The highest log index of a trade dropped by retention (0: nothing dropped). */
  private trimmedThrough: LogIndex = 0;
  private lastLogIndex: LogIndex = 0;
  private readonly live = new Set<Subscription<T>>();

  /**
   * `startAfter`: the log index this node's state starts from (its snapshot's). The trades at or
   * before it were folded into the snapshot, not replayed here, so this node cannot serve them:
   * a resume from there fails with TradeHistoryTrimmedError rather than silently skipping them.
   */
  constructor(
    private readonly limits: TradeHistoryLimits = defaultTradeHistoryLimits,
    startAfter: LogIndex = 0,
    /** The trades the snapshot at `startAfter` carried (node-snapshot.ts): resumable again. */
    carried: CarriedTrades<T> | null = null,
  ) {
    assert(limits.tradeHistoryMax >= 1 && limits.streamBufferMax >= 1 && limits.streamDrainBatchMax >= 1, 'trade history limits must be >= 1');
    this.startFrom(startAfter, carried);
  }

  /** History = the carried trades before `startAfter` (or none), and nothing after it yet. */
  private startFrom(startAfter: LogIndex, carried: CarriedTrades<T> | null): void {
    this.items = [];
    this.head = 0;
    this.trimmedThrough = startAfter;
    this.lastLogIndex = startAfter;
    if (carried === null || carried.from > startAfter + 1) return;
    this.trimmedThrough = carried.from - 1;
    for (const trade of carried.trades) {
      assert(trade.logIndex <= startAfter, `carried trade at ${trade.logIndex} after the snapshot at ${startAfter}`);
      this.items.push({ seq: ++this.seq, trade });
      if (this.items.length - this.head > this.limits.tradeHistoryMax) this.dropOldest();
    }
  }

  /**
   * The newest retained trades, at most `max`, for a snapshot: `from` is the log index from which
   * every trade is included. A cut never splits the trades of one log index.
   */
  window(max: number): { from: LogIndex; trades: T[] } {
    let start = Math.max(this.head, this.items.length - max);
    if (start === this.head) return { from: this.trimmedThrough + 1, trades: this.items.slice(start).map((r) => r.trade) };
    const cutIndex = this.items[start - 1]!.trade.logIndex;
    while (start < this.items.length && this.items[start]!.trade.logIndex === cutIndex) start++;
    return { from: cutIndex + 1, trades: this.items.slice(start).map((r) => r.trade) };
  }

  /** The first log index this node can replay trades from (a resume before it fails). */
  get firstResumableIndex(): LogIndex {
    return this.trimmedThrough + 1;
  }

  /**
   * The node jumped to a snapshot at `index` (InstallSnapshot): the trades between its last
   * applied entry and `index` were never replayed here. Every open stream would silently skip
   * them, so each is ended with TradeHistoryTrimmedError (its client resumes, here from the
   * snapshot's carried trades if they reach back far enough), and the history restarts from them.
   */
  restartAfter(index: LogIndex, carried: CarriedTrades<T> | null = null): void {
    assert(index >= this.lastLogIndex, `snapshot at ${index} behind recorded trades at ${this.lastLogIndex}`);
    this.startFrom(index, carried);
    const error = trimmedError(this.trimmedThrough + 1, 'this node installed a snapshot');
    for (const subscription of [...this.live]) subscription.fail(error);
    this.live.clear();
  }

  /** Live subscribers (status, tests). */
  get subscriberCount(): number {
    return this.live.size;
  }

  /** Records the trades of one applied entry, in the order the domain produced them. */
  record(trade: T): void {
    if (!(trade.logIndex >= this.lastLogIndex)) assert(false, `trade at ${trade.logIndex} after ${this.lastLogIndex}`);
    this.lastLogIndex = trade.logIndex;
    const recorded: Recorded<T> = { seq: ++this.seq, trade };
    this.items.push(recorded);
    if (this.items.length - this.head > this.limits.tradeHistoryMax) this.dropOldest();
    for (const subscription of this.live) subscription.offer(recorded);
  }

  /**
   * Trades of `symbol` ('' = all): with `fromLogIndex` 0 only those recorded from now on; with
   * N > 0 every retained trade at log index >= N first, then live. Registered synchronously.
   */
  stream(symbol: string, fromLogIndex: LogIndex, flow: StreamFlow | null = null): Observable<T> {
    return new Observable<T>((subscriber) => {
      if (fromLogIndex > 0 && this.trimmedThrough >= fromLogIndex) {
        subscriber.error(trimmedError(this.trimmedThrough + 1, 'older trades are no longer kept'));
        return undefined;
      }
      const seam = this.seq;
      const historyFrom = fromLogIndex > 0 ? this.firstSeqAtOrAfter(fromLogIndex) : seam + 1;
      const subscription = new Subscription<T>(this, subscriber, symbol, fromLogIndex, seam, historyFrom, this.limits, flow);
      this.live.add(subscription);
      subscription.schedule();
      return () => {
        subscription.close();
        this.live.delete(subscription);
      };
    });
  }

  /** The recorded trade with sequence number `seq`, or undefined if dropped or not yet recorded. */
  at(seq: number): Recorded<T> | undefined {
    const first = this.items[this.head];
    if (first === undefined || seq < first.seq) return undefined;
    return this.items[this.head + (seq - first.seq)];
  }

  /** Seq of the first retained trade at log index >= `logIndex` (seq + 1 past the end when none). */
  private firstSeqAtOrAfter(logIndex: LogIndex): number {
    let lo = this.head;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.items[mid]!.trade.logIndex < logIndex) lo = mid + 1;
      else hi = mid;
    }
    return lo < this.items.length ? this.items[lo]!.seq : this.seq + 1;
  }

  private dropOldest(): void {
    this.trimmedThrough = this.items[this.head]!.trade.logIndex;
    this.head++;
    // Compact lazily so dropping stays O(1) amortised.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }
}

/**
 * The one wording clients (and the chaos checker) can rely on: "resume from log index N" names
 * the first index this node can serve.
 */
function trimmedError(firstResumable: LogIndex, why: string): TradeHistoryTrimmedError {
  return new TradeHistoryTrimmedError(`${why}; this node can resume from log index ${firstResumable}`, firstResumable);
}

/** One StreamTrades subscriber: history cursor, then a bounded live buffer. */
class Subscription<T extends TradeLike> {
  private readonly buffer: Recorded<T>[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly history: TradeHistory<T>,
    private readonly subscriber: Subscriber<T>,
    private readonly symbol: string,
    private readonly fromLogIndex: LogIndex,
    /** The last seq that existed at subscribe time: history covers (.., seam], live (seam, ..). */
    private readonly seam: number,
    /** Next history seq to deliver. */
    private cursor: number,
    private readonly limits: TradeHistoryLimits,
    private readonly flow: StreamFlow | null,
  ) {}
  /** Waiting for the consumer's onResume (at most one callback registered). */
  private waiting = false;

  offer(recorded: Recorded<T>): void {
    if (this.closed || recorded.seq <= this.seam || !this.wants(recorded.trade)) return;
    if (this.buffer.length >= this.limits.streamBufferMax) {
      this.fail(new OverloadedError(`trade stream fell more than ${this.limits.streamBufferMax} trades behind`));
      return;
    }
    this.buffer.push(recorded);
    this.schedule();
  }

  schedule(): void {
    if (this.scheduled || this.closed) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  close(): void {
    this.closed = true;
    this.buffer.length = 0;
  }

  private wants(trade: T): boolean {
    return (this.symbol === '' || trade.symbol === this.symbol) && trade.logIndex >= this.fromLogIndex;
  }

  private drain(): void {
    if (this.waiting) return;
    if (this.flow !== null && this.flow.paused()) {
      this.waiting = true;
      this.flow.onResume(() => {
        this.waiting = false;
        this.schedule();
      });
      return;
    }
    let budget = this.limits.streamDrainBatchMax;
    // History first, up to the seam.
    while (!this.closed && budget > 0 && this.cursor <= this.seam) {
      const recorded = this.history.at(this.cursor);
      if (recorded === undefined) {
        this.fail(trimmedError(this.history.firstResumableIndex, 'trade history was trimmed while this stream replayed it'));
        return;
      }
      this.cursor++;
      if (!this.wants(recorded.trade)) continue;
      budget--;
      this.subscriber.next(recorded.trade);
    }
    // Then the live buffer (everything in it is past the seam by construction).
    while (!this.closed && budget > 0 && this.cursor > this.seam && this.buffer.length > 0) {
      budget--;
      this.subscriber.next(this.buffer.shift()!.trade);
    }
    if (!this.closed && (this.cursor <= this.seam || this.buffer.length > 0)) this.schedule();
  }

  fail(error: Error): void {
    this.close();
    this.subscriber.error(error);
  }
}
