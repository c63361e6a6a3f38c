/**
 * Structural checks on an incoming message before the core looks at it. A message that fails is
 * dropped as if lost: the transport may deliver garbage, and garbage must never move state.
 */
import { isValidMemberAddress, isValidMembershipBytes, isValidNodeId, membersMax, type Member, type Membership } from './membership.js';
import type { AppendEntries, LogEntry, Message, NodeId, SnapshotMeta } from './types.js';

function isIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

const entryTypes: ReadonlySet<string> = new Set(['command', 'noop', 'config']);

function isValidEntry(entry: LogEntry, index: number, maxTerm: number, minTerm: number): boolean {
  return (
    entry.index === index &&
    isIndex(entry.term) &&
    entry.term >= minTerm &&
    entry.term <= maxTerm &&
    entryTypes.has(entry.type) &&
    typeof entry.timestampMs === 'number' &&
    Number.isFinite(entry.timestampMs) &&
    entry.data instanceof Uint8Array &&
    // A config entry takes effect on append: bytes that do not decode must never reach the log.
    (entry.type !== 'config' || isValidMembershipBytes(entry.data))
  );
}

/** Entries must follow prevLogIndex contiguously, with terms between prevLogTerm and the leader's term, never decreasing. */
function hasValidEntries(message: AppendEntries): boolean {
  if (!Array.isArray(message.entries)) return false;
  let minTerm = message.prevLogTerm;
  let index = message.prevLogIndex + 1;
  for (const entry of message.entries) {
    if (!isValidEntry(entry, index, message.term, minTerm)) return false;
    minTerm = entry.term;
    index++;
  }
  return true;
}

function isIdList(value: unknown): boolean {
  return Array.isArray(value) && value.every((id) => typeof id === 'string' && id.length > 0);
}

function isMemberList(value: unknown): value is readonly Member[] {
  return Array.isArray(value) && value.length <= membersMax && value.every((m: unknown) => {
    const member = m as Partial<Member> | null;
    return typeof member === 'object' && member !== null && typeof member.id === 'string' && isValidNodeId(member.id) &&
      typeof member.address === 'string' && isValidMemberAddress(member.address);
  });
}

/** A recorded configuration: valid members, no id twice, the same ids as the meta's lists. */
function isValidMetaMembership(membership: Membership, meta: SnapshotMeta): boolean {
  if (typeof membership !== 'object' || membership === null) return false;
  if (!isMemberList(membership.voters) || !isMemberList(membership.learners)) return false;
  const ids = [...membership.voters, ...membership.learners].map((m) => m.id);
  const sameIds = (members: readonly Member[], list: readonly NodeId[]) =>
    members.length === list.length && members.every((m) => list.includes(m.id));
  return new Set(ids).size === ids.length && sameIds(membership.voters, meta.voters) && sameIds(membership.learners, meta.learners);
}

/** A snapshot's metadata: a real index with a term no newer than the sender's. */
function isValidSnapshotMeta(meta: SnapshotMeta, term: number): boolean {
  return typeof meta === 'object' && meta !== null && isIndex(meta.index) && meta.index > 0 && isIndex(meta.term) &&
    meta.term > 0 && meta.term <= term && isIdList(meta.voters) && isIdList(meta.learners) &&
    (meta.membership === undefined || isValidMetaMembership(meta.membership, meta));
}

/**
 * True when `message` is addressed to `self` from another node and every field is in range.
 * Whether the sender is a member is the node's call (it depends on the message and its config).
 */
export function isValidMessage(message: Message, self: NodeId): boolean {
  if (message.to !== self || message.from === self || !isValidNodeId(message.from)) return false;
  if (!isIndex(message.term) || message.term === 0) return false;
  switch (message.type) {
    case 'requestVote':
      return isIndex(message.lastLogIndex) && isIndex(message.lastLogTerm) && message.lastLogTerm <= message.term &&
        typeof message.preVote === 'boolean' && (message.leadershipTransfer === undefined || typeof message.leadershipTransfer === 'boolean');
    case 'requestVoteResponse':
      return typeof message.voteGranted === 'boolean' && typeof message.preVote === 'boolean';
    case 'appendEntries':
      return isIndex(message.prevLogIndex) && isIndex(message.prevLogTerm) && message.prevLogTerm <= message.term &&
        (message.prevLogIndex > 0 || message.prevLogTerm === 0) &&
        isIndex(message.leaderCommit) && isIndex(message.round) && hasValidEntries(message);
    case 'appendEntriesResponse':
      return typeof message.success === 'boolean' && isIndex(message.matchIndex) && isIndex(message.conflictTerm) &&
        isIndex(message.conflictIndex) && isIndex(message.prevLogIndex) && isIndex(message.entryCount) &&
        isIndex(message.round);
    case 'installSnapshot':
      return isValidSnapshotMeta(message.meta, message.term);
    case 'installSnapshotResponse':
      return typeof message.success === 'boolean' && isIndex(message.snapshotIndex) && isIndex(message.matchIndex);
    case 'timeoutNow':
      return true;
    default: {
      // Exhaustive at compile time; an unknown type from the wire is dropped, not a crash.
      const unknownType: never = message;
      void unknownType;
      return false;
    }
  }
}
