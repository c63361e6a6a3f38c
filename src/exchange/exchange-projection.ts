/**
 * The RxJS adapter between the committed log and the exchange domain: it folds committed commands,
 * in order, into one `Exchange` and publishes what each produced.
 *
 * Applying is independent of subscribers: `connect()` subscribes to the committed stream once and
 * applies every command exactly once, whether or not anyone listens. `results$`, `events$` and
 * `trades$` are hot and synchronous: when a result is emitted the exchange already reflects it
 * (`exchange.lastAppliedIndex === result.index`), so a caller waiting for its entry can read the
 * state straight away. Commands at or below `lastAppliedIndex` are skipped, so the log may be
 * replayed over a restored snapshot from any earlier index.
 */
import { Observable, Subject, type Subscription } from 'rxjs';
import { Exchange } from '../../domain/index.js';
import type { Command, Event, Reply, TradeView } from '../../domain/index.js';

/** One committed log entry carrying an exchange command. */
export interface CommittedCommand {
  index: number;
  /** The leader's timestamp stamped on the entry. */
  timestampMs: number;
  command: Command;
}

/** What applying one committed command produced. */
export interface AppliedCommand {
  index: number;
  timestampMs: number;
  command: Command;
  reply: Reply;
  events: Event[];
}

/** One event with the index of the entry that produced it. */
export interface IndexedEvent {
  index: number;
  event: Event;
}

export class ExchangeProjection {
  private readonly results = new Subject<AppliedCommand>();
  private subscription: Subscription | null = null;
  /** Set once apply threw: nothing more is applied (the state may be half-updated). */
  private failed = false;

  /** Every applied command with its reply and events, in log order. */
  readonly results$: Observable<AppliedCommand> = this.results.asObservable();

  /** Every event, flattened, in log order. */
  readonly events$: Observable<IndexedEvent> = new Observable<IndexedEvent>((subscriber) =>
    this.results$.subscribe({
      next: (r) => {
        for (const event of r.events) subscriber.next({ index: r.index, event });
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    }),
  );

  /** Every trade, in log order (and within an entry, in execution order). */
  readonly trades$: Observable<TradeView> = new Observable<TradeView>((subscriber) =>
    this.results$.subscribe({
      next: (r) => {
        for (const event of r.events) if (event.type === 'tradeExecuted') subscriber.next(event.trade);
      },
      error: (e: unknown) => subscriber.error(e),
      complete: () => subscriber.complete(),
    }),
  );

  /**
   * @param committed$ committed commands in strictly increasing index order (gaps allowed: noop
   *   and config entries carry no command).
   * @param exchange the state to fold into; a fresh one by default, or one restored from a snapshot.
   */
  constructor(
    private readonly committed$: Observable<CommittedCommand>,
    readonly exchange: Exchange = new Exchange(),
  ) {}

  /** The queryable state: current as of `lastAppliedIndex`. */
  get lastAppliedIndex(): number {
    return this.exchange.lastAppliedIndex;
  }

  /**
   * Starts applying. Idempotent. An error from the committed stream or from `apply` (a broken
   * invariant: the node must stop) is forwarded to every output stream.
   */
  connect(): Subscription {
    if (this.subscription) return this.subscription;
    this.subscription = this.committed$.subscribe({
      next: (entry) => this.applyOne(entry),
      error: (e: unknown) => this.results.error(e),
      complete: () => this.results.complete(),
    });
    return this.subscription;
  }

  /** Stops applying and completes the output streams. */
  disconnect(): void {
    this.subscription?.unsubscribe();
    this.results.complete();
  }

  private applyOne(entry: CommittedCommand): void {
    if (this.failed || entry.index <= this.exchange.lastAppliedIndex) return;
    let applied: AppliedCommand;
    try {
      const { reply, events } = this.exchange.apply(entry.command, { logIndex: entry.index, timestampMs: entry.timestampMs });
      applied = { index: entry.index, timestampMs: entry.timestampMs, command: entry.command, reply, events };
    } catch (e) {
      this.failed = true;
      this.subscription?.unsubscribe();
      this.results.error(e);
      return;
    }
    this.results.next(applied);
  }
}
