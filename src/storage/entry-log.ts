/**
 * The in-memory copy of the log that makes every read synchronous: a contiguous run of entries
 * starting at `first`, preceded by a snapshot base (`first - 1`, `baseTerm`). Replay on open
 * rebuilds it from the WAL records; the store then mutates it in step with what it stages.
 */
import { assert } from '../raft/assert.js';
import type { LogEntry, LogIndex, Term } from '../raft/types.js';

/** A contiguous in-memory run of entries after a snapshot base (see the file comment). */
export class EntryLog {
  /** Index of entries[0] (or of the next entry when empty). */
  private firstIdx: LogIndex = 1;
  /** Term of entry `first - 1`: the snapshot term, 0 before any snapshot. */
  private baseTermValue: Term = 0;
  private items: LogEntry[] = [];

  first(): LogIndex {
    return this.firstIdx;
  }

  last(): LogIndex {
    return this.firstIdx + this.items.length - 1;
  }

  baseTerm(): Term {
    return this.baseTermValue;
  }

  size(): number {
    return this.items.length;
  }

  term(index: LogIndex): Term | undefined {
    if (index === this.firstIdx - 1) return this.baseTermValue;
    return this.items[index - this.firstIdx]?.term;
  }

  get(index: LogIndex): LogEntry | undefined {
    return this.items[index - this.firstIdx];
  }

  /** Entries in [lo, hi). */
  slice(lo: LogIndex, hi: LogIndex): LogEntry[] {
    if (!(lo >= this.firstIdx && hi <= this.last() + 1 && lo <= hi)) assert(false, `entries(${lo}, ${hi}) outside [${this.firstIdx}, ${this.last() + 1}]`);
    return this.items.slice(lo - this.firstIdx, hi - this.firstIdx);
  }

  /** Restarts an empty log at `next` (replay of a WAL whose older segments were deleted). */
  reset(next: LogIndex, baseTerm: Term): void {
    this.firstIdx = next;
    this.baseTermValue = baseTerm;
    this.items = [];
  }

  /** Drops entries >= next; `next` must be within [first, last + 1]. Returns how many went. */
  truncateFrom(next: LogIndex): number {
    if (!(next >= this.firstIdx && next <= this.last() + 1)) assert(false, `truncate at ${next} outside [${this.firstIdx}, ${this.last() + 1}]`);
    const dropped = this.last() + 1 - next;
    this.items.length = next - this.firstIdx;
    return dropped;
  }

  /** Appends one entry that must directly follow the last. */
  push(entry: LogEntry): void {
    // Hot path (replay, append): the message is built only on failure.
    if (entry.index !== this.last() + 1) assert(false, `entry ${entry.index} does not follow ${this.last()}`);
    this.items.push(entry);
  }

  /**
   * Makes the log start after snapshot (index, term): keeps the suffix when the entry at
   * `index` has `term` (a local compaction), otherwise drops every entry (an installed snapshot
   * the log conflicts with or does not reach): `reset`, with `dropped` entries above the index lost.
   */
  applySnapshot(index: LogIndex, term: Term): { readonly reset: boolean; readonly dropped: number } {
    if (index < this.firstIdx - 1) return { reset: false, dropped: 0 }; // older than the log's start
    if (index === this.firstIdx - 1) {
      // The log already starts right after it (a replay that began past deleted segments knows no
      // base term yet): nothing to compare, adopt the term.
      this.baseTermValue = term;
      return { reset: false, dropped: 0 };
    }
    if (this.term(index) === term) {
      this.items.splice(0, index + 1 - this.firstIdx);
      this.firstIdx = index + 1;
      this.baseTermValue = term;
      return { reset: false, dropped: 0 };
    }
    const dropped = Math.max(0, this.last() - index);
    this.reset(index + 1, term);
    return { reset: true, dropped };
  }
}
