/**
 * Linearizable reads without a log write (Raft thesis §6.4). The leader records its commit index
 * for a read, proves it is still the leader by a heartbeat round a majority echoes, and only then
 * hands the read back as a ReadState; the driver serves it once applied >= index.
 */
import { assert } from './assert.js';
import type { LogIndex, ReadState } from './types.js';

interface RegisteredRead {
  readonly requestId: string;
  /** commitIndex when the read was registered. */
  readonly index: LogIndex;
  /** The heartbeat round whose majority echo confirms this read. */
  readonly round: number;
}

/** The leader's queue of reads: those waiting for the term's first commit, then those waiting for a round. */
export class ReadIndexQueue {
  /** Reads that arrived before an entry of this term committed: the commit index is not yet known to be current. */
  private readonly waitingForTermCommit: string[] = [];
  /** Reads registered at a round, in round order. */
  private readonly registered: RegisteredRead[] = [];

  constructor(readonly pendingReadsMax: number) {}

  size(): number {
    return this.waitingForTermCommit.length + this.registered.length;
  }

  isFull(): boolean {
    return this.size() >= this.pendingReadsMax;
  }

  /** Queues a read until the leader has committed an entry of its term. */
  deferUntilTermCommit(requestId: string): void {
    assert(!this.isFull(), 'read queue overflow');
    this.waitingForTermCommit.push(requestId);
  }

  /** The reads parked until the term's first commit; the caller registers them now. */
  takeDeferred(): string[] {
    return this.waitingForTermCommit.splice(0);
  }

  register(requestId: string, index: LogIndex, round: number): void {
    assert(this.size() < this.pendingReadsMax, 'read queue overflow');
    const newest = this.registered.at(-1);
    assert(newest === undefined || round >= newest.round, 'reads must be registered in round order');
    this.registered.push({ requestId, index, round });
  }

  /** True when some registered read waits for a round not yet sent (the leader must broadcast now). */
  needsRound(roundSent: number): boolean {
    const newest = this.registered.at(-1);
    return newest !== undefined && newest.round > roundSent;
  }

  /** Removes and returns every read whose round is confirmed (quorumRound = a majority echoed >= it). */
  confirm(quorumRound: number): ReadState[] {
    let count = 0;
    while (count < this.registered.length && this.registered[count]!.round <= quorumRound) count++;
    return this.registered.splice(0, count).map(({ requestId, index }) => ({ requestId, index }));
  }
}
