/**
 * Committed log entries as an RxJS Observable: every entry exactly once, in index order, no gaps.
 * The driver publishes synchronously while applying a Ready, so a subscriber (the exchange
 * projection) has folded entry N before entry N+1 is published and before the waiting client call
 * resolves.
 */
import { Observable, Subject } from 'rxjs';
import { assert } from '../raft/assert.js';
import type { LogEntry, LogIndex } from '../raft/types.js';

export class CommittedStream {
  private readonly subject = new Subject<LogEntry>();
  private last: LogIndex;

  /** Every committed entry from `startAfter + 1` on. */
  readonly entries$: Observable<LogEntry> = this.subject.asObservable();

  /** `startAfter` is the index already reflected in the state (0 without snapshots). */
  constructor(startAfter: LogIndex = 0) {
    this.last = startAfter;
  }

  /** The index of the last published entry. */
  get lastIndex(): LogIndex {
    return this.last;
  }

  publish(entry: LogEntry): void {
    // A gap or a repeat would fork this replica's state from the others: crash instead.
    // `if` first: the message is only built when it fires (this runs for every entry).
    if (entry.index !== this.last + 1) assert(false, `committed entry ${entry.index} after ${this.last}`);
    this.last = entry.index;
    this.subject.next(entry);
  }

  complete(): void {
    this.subject.complete();
  }
}
