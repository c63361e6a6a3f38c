/**
 * Cluster membership: who votes, who only receives the log (learners), and where each member can
 * be reached. Membership changes are single-server changes (Raft thesis §4.1): each config entry
 * adds a learner, promotes a learner to voter, or removes one member, so any two consecutive
 * configurations share a majority and no joint consensus is needed.
 *
 * A configuration takes effect on every node as soon as its entry is APPENDED to that node's log
 * (committed or not), and reverts if the entry is truncated away. The leader proposes a change
 * only when the previous config entry is committed and an entry of its own term is committed
 * (the fix for the single-server-change bug Ongaro described on raft-dev in 2015).
 *
 * Plain data plus a canonical codec, shared by the core, the driver, the WAL and the snapshot.
 */
import type { NodeId, SnapshotMeta } from './types.js';

/** One member and the address it listens on ('' when unknown: the initial members named by --peers). */
export interface Member {
  readonly id: NodeId;
  readonly address: string;
}

/** A configuration: disjoint voter and learner lists, each sorted by id. */
export interface Membership {
  readonly voters: readonly Member[];
  readonly learners: readonly Member[];
}

/** One single-server change. */
export type MembershipChange =
  /** A new node joins as a non-voting learner that receives the log. */
  | { readonly type: 'addLearner'; readonly id: NodeId; readonly address: string }
  /** A learner that has caught up becomes a voter. */
  | { readonly type: 'promote'; readonly id: NodeId }
  /** A voter or learner leaves. */
  | { readonly type: 'remove'; readonly id: NodeId };

/** Why a change cannot be applied to a configuration. */
export type MembershipChangeError =
  | 'already-member'
  | 'not-a-learner'
  | 'not-a-member'
  | 'last-voter'
  | 'invalid-id'
  | 'invalid-address';

/** Limits of the codec: a config entry is small, and hostile bytes must not allocate much. */
export const membersMax = 64;
export const memberAddressLengthMax = 255;

const nodeIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;
/** host:port with a printable host; '' for "use --peers". */
const addressPattern = /^[A-Za-z0-9._:[\]-]{1,255}$/;

export function isValidNodeId(id: string): boolean {
  return nodeIdPattern.test(id);
}

export function isValidMemberAddress(address: string): boolean {
  return address === '' || (address.length <= memberAddressLengthMax && addressPattern.test(address));
}

/** A membership of `voters` with no addresses (the initial cluster named on the command line). */
export function initialMembership(voters: readonly NodeId[]): Membership {
  return normalize({ voters: voters.map((id) => ({ id, address: '' })), learners: [] });
}

export function voterIds(membership: Membership): NodeId[] {
  return membership.voters.map((m) => m.id);
}

export function learnerIds(membership: Membership): NodeId[] {
  return membership.learners.map((m) => m.id);
}

/** Every member, voters first. */
export function memberIds(membership: Membership): NodeId[] {
  return [...voterIds(membership), ...learnerIds(membership)];
}

export function isVoter(membership: Membership, id: NodeId): boolean {
  return membership.voters.some((m) => m.id === id);
}

export function isLearner(membership: Membership, id: NodeId): boolean {
  return membership.learners.some((m) => m.id === id);
}

export function isMember(membership: Membership, id: NodeId): boolean {
  return isVoter(membership, id) || isLearner(membership, id);
}

/** The configuration after `change`, or why it cannot apply. Pure; `membership` is not modified. */
export function applyMembershipChange(membership: Membership, change: MembershipChange): Membership | MembershipChangeError {
  if (!isValidNodeId(change.id)) return 'invalid-id';
  switch (change.type) {
    case 'addLearner': {
      if (!isValidMemberAddress(change.address)) return 'invalid-address';
      if (isMember(membership, change.id)) return 'already-member';
      return normalize({ voters: membership.voters, learners: [...membership.learners, { id: change.id, address: change.address }] });
    }
    case 'promote': {
      const learner = membership.learners.find((m) => m.id === change.id);
      if (learner === undefined) return 'not-a-learner';
      return normalize({ voters: [...membership.voters, learner], learners: membership.learners.filter((m) => m.id !== change.id) });
    }
    case 'remove': {
      if (!isMember(membership, change.id)) return 'not-a-member';
      const voters = membership.voters.filter((m) => m.id !== change.id);
      if (voters.length === 0) return 'last-voter';
      return normalize({ voters, learners: membership.learners.filter((m) => m.id !== change.id) });
    }
  }
}

/** The configuration a snapshot records: its `membership`, else its id lists with address ''. */
export function membershipOfSnapshot(meta: SnapshotMeta): Membership {
  if (meta.membership !== undefined) return normalize(meta.membership);
  return normalize({
    voters: meta.voters.map((id) => ({ id, address: '' })),
    learners: meta.learners.map((id) => ({ id, address: '' })),
  });
}

/** The membership fields of a SnapshotMeta for `membership` (ids and the full configuration). */
export function snapshotMembershipFields(membership: Membership): Pick<SnapshotMeta, 'voters' | 'learners' | 'membership'> {
  return { voters: voterIds(membership), learners: learnerIds(membership), membership };
}

/** True when `bytes` decode to a valid configuration (the check a follower makes on a config entry). */
export function isValidMembershipBytes(bytes: Uint8Array): boolean {
  try {
    decodeMembership(bytes);
    return true;
  } catch (err) {
    if (err instanceof MembershipDecodeError) return false;
    throw err;
  }
}

/** Two configurations with the same members, roles and addresses. */
export function sameMembership(a: Membership, b: Membership): boolean {
  return encodeMembershipText(a) === encodeMembershipText(b);
}

function normalize(membership: Membership): Membership {
  const byId = (x: Member, y: Member): number => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0);
  return { voters: [...membership.voters].sort(byId), learners: [...membership.learners].sort(byId) };
}

function encodeMembershipText(membership: Membership): string {
  const m = normalize(membership);
  return JSON.stringify({ v: m.voters.map((x) => [x.id, x.address]), l: m.learners.map((x) => [x.id, x.address]) });
}

/** The canonical bytes of a configuration: the data of a `config` log entry. */
export function encodeMembership(membership: Membership): Uint8Array {
  return new TextEncoder().encode(encodeMembershipText(membership));
}

/** A config entry's bytes that do not decode to a valid configuration. */
export class MembershipDecodeError extends Error {
  override readonly name = 'MembershipDecodeError';
}

/** Decodes `encodeMembership` output; throws MembershipDecodeError on anything else. */
export function decodeMembership(bytes: Uint8Array): Membership {
  if (bytes.length > membersMax * (64 + memberAddressLengthMax + 16) + 32) throw new MembershipDecodeError('config entry too large');
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes));
  } catch {
    throw new MembershipDecodeError('config entry is not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null) throw new MembershipDecodeError('config entry is not an object');
  const record = parsed as { v?: unknown; l?: unknown };
  const voters = decodeMembers(record.v, 'voters');
  const learners = decodeMembers(record.l, 'learners');
  if (voters.length === 0) throw new MembershipDecodeError('config has no voter');
  if (voters.length + learners.length > membersMax) throw new MembershipDecodeError('config has too many members');
  const ids = new Set<string>();
  for (const m of [...voters, ...learners]) {
    if (ids.has(m.id)) throw new MembershipDecodeError(`config names ${m.id} twice`);
    ids.add(m.id);
  }
  return normalize({ voters, learners });
}

function decodeMembers(value: unknown, what: string): Member[] {
  if (!Array.isArray(value)) throw new MembershipDecodeError(`config ${what} is not a list`);
  return value.map((pair: unknown) => {
    if (!Array.isArray(pair) || pair.length !== 2) throw new MembershipDecodeError(`config ${what} entry is not [id, address]`);
    const [id, address] = pair as unknown[];
    if (typeof id !== 'string' || !isValidNodeId(id)) throw new MembershipDecodeError(`config ${what} has an invalid id`);
    if (typeof address !== 'string' || !isValidMemberAddress(address)) throw new MembershipDecodeError(`config ${what} has an invalid address`);
    return { id, address };
  });
}
