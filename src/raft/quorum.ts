/**
 * Pure majority math, kept apart from the node so it can be tested exhaustively. Everything is
 * computed over the voter list, so joint configurations (membership issue) can compose two calls.
 */
import type { LogIndex, NodeId } from './types.js';

/** The smallest number of voters that forms a majority of `voterCount`. */
export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The highest index replicated on a majority of `voters`, given each voter's match index
 * (a voter missing from `matchIndexes` counts as 0). This is the etcd `CommittedIndex`.
 */
export function quorumMatchIndex(voters: readonly NodeId[], matchIndexes: ReadonlyMap<NodeId, LogIndex>): LogIndex {
  if (voters.length === 0) return 0;
  const sorted = voters.map((id) => matchIndexes.get(id) ?? 0).sort((a, b) => b - a);
  // sorted[majority - 1] is held by `majority` voters: itself and all the larger ones before it.
  return sorted[majority(voters.length) - 1] ?? 0;
}

/** The outcome of an election so far. */
export type VoteResult = 'pending' | 'won' | 'lost';

/** Won once a majority granted; lost once a majority can no longer be reached. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  let granted = 0;
  let rejected = 0;
  for (const voter of voters) {
    const vote = votes.get(voter);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return 'won';
  if (voters.length - rejected < needed) return 'lost';
  return 'pending';
}

/** True when the voters in `active` (plus nothing else) form a majority. */
export function hasQuorum(voters: readonly NodeId[], active: ReadonlySet<NodeId>): boolean {
  let count = 0;
  for (const voter of voters) if (active.has(voter)) count++;
  return count >= majority(voters.length);
}
