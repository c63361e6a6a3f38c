/**
 * The ClusterService: this node's view of the cluster (role, term, indexes, members, and on the
 * leader its followers' progress), leadership transfer, and membership changes.
 *
 * GetStatus is local and cheap: it never needs a leader, so it answers during elections and
 * partitions, which is when operators ask. AddMember and RemoveMember run on the leader: any
 * other node forwards them unchanged (like ExchangeService writes), waiting up to `leaderWaitMs`
 * for a leader to be known.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { status } from '@grpc/grpc-js';
import type { handleUnaryCall, ServerUnaryCall } from '@grpc/grpc-js';
import { Role, type ClusterServiceServer, type Member as ProtoMember } from '../gen/raftex/v1/cluster.js';
import { InvalidTargetError } from '../node/exchange-node.js';
import { DeadlineError, NotLeaderError, type ExchangeNodeApi, type MemberChangeReply } from '../node/exchange-node-api.js';
import { MemberChangeRefusedError } from '../node/membership-changes.js';
import { assertNever } from '../raft/assert.js';
import { isValidMemberAddress, isValidNodeId } from '../raft/membership.js';
import { forwardedMetadataKey, forwardHops, forwardHopsMax, LeaderForwarder } from './leader-forwarder.js';
import type { ClusterForwarder, ClusterMethod, ClusterRequestOf, ClusterResponseOf } from './leader-forwarder.js';
import { statusToProto } from './proto-mapping.js';
import { ApiStatusError, invalidArgument, notFound, toServiceError, unavailable } from './status-mapping.js';

/** How long TransferLeadership waits for leadership to move when the call has no deadline. */
export const transferLeadershipWaitMs = 5_000;
/**
 * Deadline of AddMember/RemoveMember calls that carry none: an AddMember waits for the new node
 * to copy the log, which takes longer than any write.
 */
export const memberChangeDefaultDeadlineMs = 60_000;
/** Default wait for a leader to be known before a membership call fails UNAVAILABLE. */
export const memberLeaderWaitMs = 2_000;
/** Pause between looks for a leader. */
export const memberLeaderRetryMs = 25;

/** Tuning of the service; every field has a default. */
export interface ClusterServiceOptions {
  /** Sends membership calls to the leader. Pass one to close it on shutdown; otherwise one is made. */
  readonly forwarder?: ClusterForwarder;
  /** How long a membership call waits for a leader to become known, ms. */
  readonly leaderWaitMs?: number;
}

/** host:port with a port in 1-65535, and characters a member address may hold. */
export function isValidJoinAddress(address: string): boolean {
  if (address === '' || !isValidMemberAddress(address)) return false;
  const match = /^(.+):(\d{1,5})$/.exec(address);
  const port = Number(match?.[2] ?? 0);
  return match !== null && port >= 1 && port <= 65_535;
}

/** Builds the grpc-js implementation of `raftex.v1.ClusterService`. */
export function clusterServiceImpl(api: ExchangeNodeApi, options: ClusterServiceOptions = {}): ClusterServiceServer {
  const forwarder = options.forwarder ?? new LeaderForwarder();
  const leaderWaitMs = options.leaderWaitMs ?? memberLeaderWaitMs;

  function deadlineOf(call: { getDeadline(): Date | number }, fallbackMs: number): number {
    const d = call.getDeadline();
    const ms = d instanceof Date ? d.getTime() : d;
    return Number.isFinite(ms) ? ms : Date.now() + fallbackMs;
  }

  /** Runs `local` on this node, or forwards the request to the leader when this node does not lead. */
  async function onLeader<M extends ClusterMethod>(
    call: ServerUnaryCall<ClusterRequestOf<M>, ClusterResponseOf<M>>,
    method: M,
    local: (deadlineMs: number) => Promise<ClusterResponseOf<M>>,
  ): Promise<ClusterResponseOf<M>> {
    const deadlineMs = deadlineOf(call, memberChangeDefaultDeadlineMs);
    const hops = forwardHops(call.metadata.get(forwardedMetadataKey));
    const mayForward = hops < forwardHopsMax;
    const giveUpAt = Math.min(deadlineMs, Date.now() + leaderWaitMs);
    for (;;) {
      try {
        return await local(deadlineMs);
      } catch (e) {
        if (!(e instanceof NotLeaderError)) throw e;
        const address = mayForward ? (e.leaderAddress ?? api.leaderAddress()) : null;
        if (address !== null) return forwarder.forwardCluster(address, method, call.request, deadlineMs, hops + 1);
        const t = Date.now();
        if (t >= deadlineMs) throw new DeadlineError('deadline exceeded while waiting for a leader');
        if (t >= giveUpAt) {
          throw unavailable(!mayForward
            ? `forwarded ${hops} times, last to node ${api.nodeId}, which does not lead (${e.message})`
            : `no leader known within ${leaderWaitMs} ms`);
        }
        await sleep(Math.max(1, Math.min(memberLeaderRetryMs, giveUpAt - t)));
      }
    }
  }

  function unary<Req, Res>(body: (call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> {
    return (call, callback) => {
      body(call).then((res) => callback(null, res), (e: unknown) => callback(toServiceError(memberError(e))));
    };
  }

  return {
    getStatus: (call, callback) => {
      try {
        const s = api.status({ withStateHash: !call.request.skipStateHash });
        const proto = statusToProto(s);
        // The core calls a learner a follower; operators want to see that it does not vote.
        callback(null, s.learner === true ? { ...proto, role: Role.ROLE_LEARNER } : proto);
      } catch (e) {
        callback(toServiceError(e));
      }
    },
    transferLeadership: (call, callback) => {
      const transfer = api.transferLeadership?.bind(api);
      if (transfer === undefined) {
        callback(toServiceError(new ApiStatusError(status.UNIMPLEMENTED, 'this node cannot transfer leadership')));
        return;
      }
      const target = call.request.targetId === '' ? null : call.request.targetId;
      // Any node: a follower forwards to the leader, like AddMember/RemoveMember.
      onLeader(call, 'transferLeadership', async (deadlineMs) => {
        const moved = await transfer(target, Math.min(deadlineMs, Date.now() + transferLeadershipWaitMs));
        return { leaderId: moved.leaderId, term: moved.term };
      }).then(
        (moved) => callback(null, moved),
        (e: unknown) => callback(toServiceError(e instanceof InvalidTargetError ? new ApiStatusError(status.INVALID_ARGUMENT, e.message) : e)),
      );
    },
    addMember: unary(async (call) => {
      const { nodeId, address } = call.request;
      if (!isValidNodeId(nodeId)) throw invalidArgument(`node_id ${JSON.stringify(nodeId)} is not a valid node id (1-64 of [A-Za-z0-9._:-])`);
      if (!isValidJoinAddress(address)) throw invalidArgument(`address ${JSON.stringify(address)} is not host:port`);
      const add = api.addMember?.bind(api);
      if (add === undefined) throw new ApiStatusError(status.UNIMPLEMENTED, 'this node cannot change membership');
      return onLeader(call, 'addMember', async (deadlineMs) => toReply(await add(nodeId, address, deadlineMs)));
    }),
    removeMember: unary(async (call) => {
      const { nodeId } = call.request;
      if (!isValidNodeId(nodeId)) throw invalidArgument(`node_id ${JSON.stringify(nodeId)} is not a valid node id (1-64 of [A-Za-z0-9._:-])`);
      const remove = api.removeMember?.bind(api);
      if (remove === undefined) throw new ApiStatusError(status.UNIMPLEMENTED, 'this node cannot change membership');
      return onLeader(call, 'removeMember', async (deadlineMs) => toReply(await remove(nodeId, deadlineMs)));
    }),
  };
}

function toReply(reply: MemberChangeReply): { members: ProtoMember[]; logIndex: number } {
  return { members: reply.members.map((m) => ({ id: m.id, address: m.address, voter: m.voter })), logIndex: reply.logIndex };
}

/** A refused membership request as its status; anything else is mapped by toServiceError. */
function memberError(e: unknown): unknown {
  if (!(e instanceof MemberChangeRefusedError)) return e;
  switch (e.reason) {
    case 'notFound':
      return notFound(e.message);
    case 'conflict':
    case 'busy':
      return new ApiStatusError(status.FAILED_PRECONDITION, e.message);
    case 'invalid':
      return invalidArgument(e.message);
    default:
      return assertNever(e.reason);
  }
}
