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
  /** The current timeout: the drawn one, or less after `leaderLost`/`expireWithin`. */
  private timeoutTicks: number;
  /** The randomized timeout in [T, 2T) drawn at the last reset. */
  private drawnTicks: number;

  constructor(
    /** T, the minimum election timeout. */
    readonly electionTicks: number,
    private readonly rng: Rng,
  ) {
    assert(electionTicks >= 1, 'electionTicks must be >= 1');
    this.drawnTicks = this.drawTimeout();
    this.timeoutTicks = this.drawnTicks;
  }

  private drawTimeout(): number {
    const jitter = this.rng.nextInt(this.electionTicks);
    assert(Number.isInteger(jitter) && jitter >= 0 && jitter < this.electionTicks, `rng out of range: ${jitter}`);
    return this.electionTicks + jitter;
  }

  /** Restarts the timer with a freshly drawn timeout. */
  reset(): void {
    this.elapsedTicks = 0;
    this.drawnTicks = this.drawTimeout();
    this.timeoutTicks = this.drawnTicks;
  }

  /** Lets the current timeout fire at most `ticks` ticks from now (a split vote, see RaftNode.breakSplitVote). */
  expireWithin(ticks: number): void {
    this.timeoutTicks = Math.min(this.timeoutTicks, this.elapsedTicks + ticks);
  }

  /**
   * The leader looks gone (its connection dropped): the lease ends now and the timeout fires
   * within 1..`withinTicks` ticks, drawn so two followers that saw the same crash rarely start
   * their campaigns in the same tick.
   */
  leaderLost(withinTicks: number): void {
    this.elapsedTicks = Math.max(this.elapsedTicks, this.electionTicks);
    this.timeoutTicks = Math.min(this.timeoutTicks, this.elapsedTicks + 1 + this.rng.nextInt(Math.max(1, withinTicks)));
  }

  /** Heard from the leader: restart the count, keeping the drawn timeout (no Rng draw per message). */
  heardFromLeader(): void {
    this.elapsedTicks = 0;
    // The leader is alive after all (see leaderLost): back to the drawn timeout.
    this.timeoutTicks = this.drawnTicks;
  }

  /**
   * On a candidate, after `tick()`: true every `intervalTicks` ticks of the campaign, when it asks
   * the voters that have not answered again (RaftNode.resendVoteRequests).
   */
  resendDue(intervalTicks: number): boolean {
    return this.elapsedTicks > 0 && this.elapsedTicks % intervalTicks === 0;
  }

  /** Counts one tick; true when the randomized timeout has passed (the caller campaigns). */
  tick(): boolean {
    this.elapsedTicks++;
    return this.elapsedTicks >= this.timeoutTicks;
  }

  /**
   * The leader lease seen by a follower: it heard from a live leader less than the minimum
   * election timeout ago, so no election is needed yet (a leader without a majority steps down
   * within the check-quorum window, config.ts; a vote ignored here is asked again, see
   * RaftNode.resendVoteRequests).
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

  /** True once `from` answered this (pre-)election, either way. */
  hasAnswered(from: NodeId): boolean {
    return this.votes.has(from);
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
