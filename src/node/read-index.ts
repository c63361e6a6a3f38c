/**
 * Linearizable reads (Raft §6.4, ReadIndex). A read started at time t must see every write
 * acknowledged before t:
 *  - on the leader: `raft.readIndex(id)` records the commit index and confirms leadership with a
 *    heartbeat round; the confirmed point comes back as a Ready `readState`; serve once
 *    applied >= that index;
 *  - on a follower: ask the leader for its read index over the peer RPC, then wait until this
 *    node has applied that far.
 * Deadlines are checked on clock ticks.
 */
import { assert, assertNever } from '../raft/assert.js';
import type { LogIndex, NodeId, ReadState } from '../raft/types.js';
import type { ReadIndexResult } from './raft-driver.js';
import { DeadlineError, OverloadedError, UnavailableError } from './exchange-node-api.js';

/** Reads waiting for a confirmation or for apply to catch up; beyond it reads fail OverloadedError. */
export const pendingReadsMax = 10_000;

interface Waiter {
  readonly index: LogIndex;
  readonly deadlineMs: number;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Promises that resolve once the applied index reaches theirs. */
export class AppliedWaiters {
  private waiters: Waiter[] = [];
  private applied: LogIndex;

  constructor(applied: LogIndex, private readonly max: number = pendingReadsMax) {
    this.applied = applied;
  }

  get size(): number {
    return this.waiters.length;
  }

  waitFor(index: LogIndex, deadlineMs: number): Promise<void> {
    if (index <= this.applied) return Promise.resolve();
    if (this.waiters.length >= this.max) return Promise.reject(new OverloadedError(`${this.max} reads waiting for apply`));
    return new Promise((resolve, reject) => this.waiters.push({ index, deadlineMs, resolve, reject }));
  }

  /** Apply reached `applied`. */
  advance(applied: LogIndex): void {
    assert(applied >= this.applied, `applied went back from ${this.applied} to ${applied}`);
    this.applied = applied;
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.index <= applied) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  expire(nowMs: number): void {
    if (this.waiters.length === 0) return;
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.deadlineMs <= nowMs) w.reject(new DeadlineError(`deadline passed before index ${w.index} applied`));
      else still.push(w);
    }
    this.waiters = still;
  }

  failAll(error: Error): void {
    const all = this.waiters;
    this.waiters = [];
    for (const w of all) w.reject(error);
  }
}

/** What the read path needs from the rest of the node. */
export interface ReadIndexDeps {
  readonly selfId: NodeId;
  /** `RaftDriver.readIndex`. */
  readIndex(requestId: string): ReadIndexResult;
  /** The leader this node currently knows, or null. */
  leaderId(): NodeId | null;
  /** Follower path: the leader's confirmed read index (the peer ReadIndex RPC). */
  askLeader(leaderId: NodeId, deadlineMs: number): Promise<{ readIndex: LogIndex; leaderId: NodeId | null }>;
  /** Epoch ms (injected so tests control it). */
  now(): number;
}

interface PendingRead {
  readonly deadlineMs: number;
  readonly resolve: (index: LogIndex) => void;
  readonly reject: (error: Error) => void;
}

/**
 * Resolves read points. `readPoint` is what a client read waits for; `leaderReadPoint` also
 * answers followers' ReadIndex RPCs.
 */
export class ReadIndexer {
  private seq = 0;
  private readonly pending = new Map<string, PendingRead>();
  /** Reads waiting for any leader to become known. */
  private leaderless: { deadlineMs: number; resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(
    private readonly deps: ReadIndexDeps,
    /** How long a read waits for a leader before UNAVAILABLE (about two election timeouts). */
    private readonly leaderWaitMs: number,
    private readonly max: number = pendingReadsMax,
  ) {}

  /** The index a linearizable read on this node must wait for. */
  async readPoint(deadlineMs: number): Promise<LogIndex> {
    const giveUpMs = Math.min(deadlineMs, this.deps.now() + this.leaderWaitMs);
    for (;;) {
      const leader = this.deps.leaderId();
      if (leader === null) {
        await this.waitForLeader(giveUpMs, deadlineMs);
        continue;
      }
      if (leader === this.deps.selfId) {
        const local = await this.tryLeaderReadPoint(deadlineMs);
        if (local !== null) return local;
        continue; // Lost leadership between the check and the call: look again.
      }
      const answer = await this.deps.askLeader(leader, deadlineMs);
      if (answer.readIndex > 0) return answer.readIndex;
      // The peer no longer leads; wait for the cluster to settle rather than spin.
      await this.waitForLeaderChange(leader, giveUpMs, deadlineMs);
    }
  }

  /** Leader only: a confirmed read index; UnavailableError when this node does not lead. */
  async leaderReadPoint(deadlineMs: number): Promise<LogIndex> {
    const index = await this.tryLeaderReadPoint(deadlineMs);
    if (index === null) throw new UnavailableError('not the leader');
    return index;
  }

  /** The driver delivered confirmed read points. */
  onReadStates(states: readonly ReadState[]): void {
    for (const state of states) {
      const read = this.pending.get(state.requestId);
      if (read === undefined) continue;
      this.pending.delete(state.requestId);
      read.resolve(state.index);
    }
  }

  /** Role or leader changed: unconfirmed reads cannot be confirmed by this term any more. */
  onLeaderChange(isLeader: boolean): void {
    if (!isLeader) this.failPending(new UnavailableError('leadership lost before the read was confirmed'));
    if (this.deps.leaderId() !== null) {
      const waiting = this.leaderless;
      this.leaderless = [];
      for (const w of waiting) w.resolve();
    }
  }

  expire(nowMs: number): void {
    for (const [id, read] of this.pending) {
      if (read.deadlineMs > nowMs) continue;
      this.pending.delete(id);
      read.reject(new DeadlineError('deadline passed before the read index was confirmed'));
    }
    const still: typeof this.leaderless = [];
    for (const w of this.leaderless) {
      if (w.deadlineMs <= nowMs) w.reject(new UnavailableError('no leader known'));
      else still.push(w);
    }
    this.leaderless = still;
  }

  failAll(error: Error): void {
    this.failPending(error);
    const waiting = this.leaderless;
    this.leaderless = [];
    for (const w of waiting) w.reject(error);
  }

  private failPending(error: Error): void {
    const all = [...this.pending.values()];
    this.pending.clear();
    for (const read of all) read.reject(error);
  }

  /** null when the core says this node does not lead. */
  private tryLeaderReadPoint(deadlineMs: number): Promise<LogIndex | null> {
    if (this.pending.size >= this.max) return Promise.reject(new OverloadedError(`${this.max} reads pending`));
    const requestId = `${this.deps.selfId}/${++this.seq}`;
    return new Promise<LogIndex | null>((resolve, reject) => {
      // Register before calling: a confirmation can only arrive in a later Ready, but be safe.
      this.pending.set(requestId, { deadlineMs, resolve, reject });
      const result = this.deps.readIndex(requestId);
      if (result.ok) return;
      this.pending.delete(requestId);
      switch (result.reason) {
        case 'notLeader':
          resolve(null);
          return;
        case 'overloaded':
          reject(new OverloadedError('too many reads waiting for leadership confirmation'));
          return;
        default:
          assertNever(result);
      }
    });
  }

  private waitForLeader(giveUpMs: number, deadlineMs: number): Promise<void> {
    if (this.deps.now() >= giveUpMs) {
      return Promise.reject(giveUpMs >= deadlineMs ? new DeadlineError('deadline passed with no leader known') : new UnavailableError('no leader known'));
    }
    return new Promise((resolve, reject) => {
      this.leaderless.push({
        deadlineMs: giveUpMs,
        resolve,
        reject: (e) => reject(giveUpMs >= deadlineMs ? new DeadlineError('deadline passed with no leader known') : e),
      });
    });
  }

  private async waitForLeaderChange(previous: NodeId, giveUpMs: number, deadlineMs: number): Promise<void> {
    while (this.deps.leaderId() === previous) {
      if (this.deps.now() >= giveUpMs) {
        throw giveUpMs >= deadlineMs ? new DeadlineError('deadline passed') : new UnavailableError(`leader ${previous} does not serve reads`);
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}
