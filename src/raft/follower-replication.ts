/**
 * The follower's side of AppendEntries: the match check at (prevLogIndex, prevLogTerm), storing
 * the entries (truncating a conflicting suffix), following the leader's commit, and the conflict
 * hint a rejection carries so the leader can skip a whole term per round trip.
 */
import type { LogManager } from './log-manager.js';
import type { AppendEntries, LogIndex, Term } from './types.js';

/** What the follower answers (the response echoes prevLogIndex, entry count and round). */
export interface AppendOutcome {
  readonly success: boolean;
  /** On success: the last index known to match the leader (prevLogIndex + entries). */
  readonly matchIndex: LogIndex;
  /** On rejection: our term at prevLogIndex, or 0 when our log is shorter. */
  readonly conflictTerm: Term;
  /** On rejection: the first index we hold of conflictTerm, or our last index + 1. */
  readonly conflictIndex: LogIndex;
}

/** Applies a current-term AppendEntries to the follower's log and says what to answer. */
export function acceptAppend(log: LogManager, message: AppendEntries): AppendOutcome {
  if (message.prevLogIndex < log.firstIndex() - 1) {
    // Below our snapshot: everything there is committed, hence matches the leader.
    return { success: true, matchIndex: log.commitIndex(), conflictTerm: 0, conflictIndex: 0 };
  }
  if (!log.matchTerm(message.prevLogIndex, message.prevLogTerm)) {
    const ownTerm = log.term(message.prevLogIndex);
    if (ownTerm === undefined) return { success: false, matchIndex: 0, conflictTerm: 0, conflictIndex: log.lastIndex() + 1 };
    return {
      success: false,
      matchIndex: 0,
      conflictTerm: ownTerm,
      conflictIndex: log.firstIndexOfTerm(ownTerm, message.prevLogIndex),
    };
  }
  log.appendFromLeader(message.entries);
  const lastNew = message.prevLogIndex + message.entries.length;
  // Only what this append proved to match may be committed: entries past lastNew may still conflict.
  log.commitTo(Math.min(message.leaderCommit, lastNew));
  return { success: true, matchIndex: lastNew, conflictTerm: 0, conflictIndex: 0 };
}
