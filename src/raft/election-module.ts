/**
 * Election timing and vote counting. Time is ticks: the randomized timeout is drawn from the
 * injected Rng in [T, 2T), so a seed replays every election exactly.
 */
import { assert } from './assert.js';
import { voteResult, type VoteResult } from './quorum.js';
import type { Rng } from './rng.js';
import type { NodeId, RequestVote, Term } from './types.js';

export class ElectionModule {
  /**
   * Ticks since the timer was last reset: on a follower, since it last heard from the leader (or
   * granted a vote); on a candidate, since the campaign started.
   */
  private elapsedTicks = 0;
  /** The current randomized timeout in [T, 2T). */
  private timeoutTicks: number;

  constructor(
    /** T, the minimum election timeout. */
    readonly electionTicks: number,
    private readonly rng: Rng,
  ) {
    assert(electionTicks >= 1, 'electionTicks must be >= 1');
    this.timeoutTicks = this.drawTimeout();
  }

  private drawTimeout(): number {
    const jitter = this.rng.nextInt(this.electionTicks);
    assert(Number.isInteger(jitter) && jitter >= 0 && jitter < this.electionTicks, `rng out of range: ${jitter}`);
    return this.electionTicks + jitter;
  }

  /** Restarts the timer with a freshly drawn timeout. */
  reset(): void {
    this.elapsedTicks = 0;
    this.timeoutTicks = this.drawTimeout();
  }

  /** Heard from the leader: restart the count, keeping the drawn timeout (no Rng draw per message). */
  heardFromLeader(): void {
    this.elapsedTicks = 0;
  }

  /** Counts one tick; true when the randomized timeout has passed (the caller campaigns). */
  tick(): boolean {
    this.elapsedTicks++;
    return this.elapsedTicks >= this.timeoutTicks;
  }

  /**
   * The leader lease seen by a follower: it heard from a live leader less than the minimum
   * election timeout ago, so no election can be legitimate yet (check-quorum guarantees a leader
   * without a majority steps down within T).
   */
  withinLease(): boolean {
    return this.elapsedTicks < this.electionTicks;
  }

  /** For status and tests. */
  elapsed(): number {
    return this.elapsedTicks;
  }

  randomizedTimeout(): number {
    return this.timeoutTicks;
  }
}

/** The votes of one (pre-)election; a voter's first answer counts, duplicates are ignored. */
export class VoteTally {
  private readonly votes = new Map<NodeId, boolean>();

  constructor(private readonly voters: readonly NodeId[]) {}

  record(from: NodeId, granted: boolean): void {
    if (!this.voters.includes(from) || this.votes.has(from)) return;
    this.votes.set(from, granted);
  }

  result(): VoteResult {
    return voteResult(this.voters, this.votes);
  }

  grantedCount(): number {
    let count = 0;
    for (const granted of this.votes.values()) if (granted) count++;
    return count;
  }
}

/** The voter's side of one (pre-)vote request that is not in a higher term it ignores. */
export interface VoterState {
  readonly term: Term;
  readonly votedFor: NodeId | null;
  readonly leaderId: NodeId | null;
  readonly isLeader: boolean;
  /** The election restriction (§5.4.1): the candidate's log is at least as up to date. */
  readonly logUpToDate: boolean;
}

/**
 * One vote per term: grant if we already voted for this candidate (a retried request), or have
 * not voted and know no leader; a pre-vote for a later term is granted without any commitment.
 * In every case the candidate's log must be at least as up to date as ours.
 */
export function grantsVote(request: RequestVote, voter: VoterState): boolean {
  const canVote =
    voter.votedFor === request.from ||
    (voter.votedFor === null && voter.leaderId === null) ||
    (request.preVote && request.term > voter.term);
  return canVote && !voter.isLeader && voter.logUpToDate;
}
