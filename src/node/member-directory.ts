/**
 * Where each member of the configuration is reached. The configuration (the Raft log's latest
 * config entry) names the members and, for members added by AddMember, their addresses; the
 * initial members named by `--peers` carry '' there. The node's own `--peers` entries override
 * the configuration's addresses (a node may reach a peer through a proxy or another interface),
 * and a node is reached at its own `--listen` by itself.
 */
import type { Member, Membership } from '../raft/membership.js';
import type { NodeId } from '../raft/types.js';

/** One member as GetStatus reports it. */
export interface MemberView {
  readonly id: NodeId;
  /** Where this node sends to it ('' when neither --peers nor the configuration gives one). */
  readonly address: string;
  readonly voter: boolean;
}

export class MemberDirectory {
  /**
   * @param selfId this node's id.
   * @param selfAddress this node's --listen.
   * @param overrides --peers: id -> address, preferred over the configuration's address.
   */
  constructor(
    readonly selfId: NodeId,
    readonly selfAddress: string,
    readonly overrides: ReadonlyMap<NodeId, string>,
  ) {}

  /** The address this node uses for `member` ('' when unknown). */
  addressOf(member: Member): string {
    if (member.id === this.selfId) return this.selfAddress;
    return this.overrides.get(member.id) ?? member.address;
  }

  /** The address this node uses for member `id` of `membership`, or of a --peers entry; null if none. */
  addressOfId(membership: Membership, id: NodeId): string | null {
    const member = [...membership.voters, ...membership.learners].find((m) => m.id === id);
    const address = member === undefined ? (this.overrides.get(id) ?? '') : this.addressOf(member);
    return address === '' ? null : address;
  }

  /** Every member, voters first, each with the address this node uses for it. */
  members(membership: Membership): MemberView[] {
    return [
      ...membership.voters.map((m) => ({ id: m.id, address: this.addressOf(m), voter: true })),
      ...membership.learners.map((m) => ({ id: m.id, address: this.addressOf(m), voter: false })),
    ];
  }

  /**
   * The peers to keep a client for: every other member with a known address. `unreachable` lists
   * the members with none (an initial member the configuration has no address for and --peers
   * does not name): this node cannot send to them until it is restarted with a --peers entry.
   * While this node is not a member itself (joining, or removed) it also keeps its --peers
   * entries, so it can still ask the leader for read indexes.
   */
  peers(membership: Membership): { peers: Map<NodeId, string>; unreachable: NodeId[] } {
    const peers = new Map<NodeId, string>();
    const unreachable: NodeId[] = [];
    for (const m of [...membership.voters, ...membership.learners]) {
      if (m.id === this.selfId) continue;
      const address = this.addressOf(m);
      if (address === '') unreachable.push(m.id);
      else peers.set(m.id, address);
    }
    const self = [...membership.voters, ...membership.learners].some((m) => m.id === this.selfId);
    if (!self) for (const [id, address] of this.overrides) if (!peers.has(id)) peers.set(id, address);
    return { peers, unreachable };
  }
}
