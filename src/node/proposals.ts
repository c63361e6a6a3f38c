/**
 * Client writes waiting for their log entry to apply. A proposal is identified by the (index, term)
 * the leader appended it at: when index applies with that term the caller gets the domain's reply;
 * when it applies with another term a later leader overwrote it, and the caller gets UNAVAILABLE
 * (retrying with the same client id is safe: the domain deduplicates).
 *
 * Deadlines are checked on clock ticks rather than with a timer per request.
 */
import { assert } from '../raft/assert.js';
import type { LogIndex, Term } from '../raft/types.js';
import { DeadlineError, OverloadedError, UnavailableError } from './exchange-node-api.js';

/** Default cap on writes proposed but not yet applied; beyond it submit fails with OverloadedError. */
export const pendingProposalsMax = 10_000;

interface Pending<R> {
  readonly term: Term;
  readonly deadlineMs: number;
  readonly resolve: (reply: R) => void;
  readonly reject: (error: Error) => void;
}

export class Proposals<R> {
  private readonly pending = new Map<LogIndex, Pending<R>>();

  constructor(private readonly max: number = pendingProposalsMax) {
    assert(max >= 1, 'pendingProposalsMax must be >= 1');
  }

  get size(): number {
    return this.pending.size;
  }

  /** Throws OverloadedError when full: call before proposing so a full queue appends nothing. */
  checkCapacity(): void {
    if (this.pending.size >= this.max) throw new OverloadedError(`${this.max} proposals pending`);
  }

  /** Registers the entry just proposed at (index, term). */
  add(index: LogIndex, term: Term, deadlineMs: number): Promise<R> {
    if (this.pending.has(index)) assert(false, `two proposals at index ${index}`);
    return new Promise<R>((resolve, reject) => {
      this.pending.set(index, { term, deadlineMs, resolve, reject });
    });
  }

  /**
   * The entry at `index` applied with `term`; `reply` is what the domain answered (undefined for
   * entries that carry no command, e.g. a new leader's noop).
   */
  applied(index: LogIndex, term: Term, reply: R | undefined): void {
    const waiting = this.pending.get(index);
    if (waiting === undefined) return;
    this.pending.delete(index);
    if (waiting.term === term && reply !== undefined) waiting.resolve(reply);
    else waiting.reject(new UnavailableError(`entry ${index} was replaced by a later leader; retry with the same id`));
  }

  /** Leadership lost (or the node stops): nobody will apply these on our behalf. */
  failAll(error: Error): void {
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(error);
  }

  /** Rejects every proposal whose deadline is at or before `nowMs`. */
  expire(nowMs: number): void {
    for (const [index, p] of this.pending) {
      if (p.deadlineMs > nowMs) continue;
      this.pending.delete(index);
      p.reject(new DeadlineError(`deadline passed before entry ${index} applied; it may still apply`));
    }
  }
}
