/**
 * The ClusterService: this node's view of the cluster (role, term, indexes, members, and on the
 * leader its followers' progress). Local and cheap: it never needs a leader, so it answers during
 * elections and partitions, which is when operators ask.
 */
import { status } from '@grpc/grpc-js';
import type { ClusterServiceServer } from '../gen/raftex/v1/cluster.js';
import { InvalidTargetError } from '../node/exchange-node.js';
import type { ExchangeNodeApi } from '../node/exchange-node-api.js';
import { statusToProto } from './proto-mapping.js';
import { ApiStatusError, toServiceError } from './status-mapping.js';

/** How long TransferLeadership waits for leadership to move when the call has no deadline. */
export const transferLeadershipWaitMs = 5_000;

/** Builds the grpc-js implementation of `raftex.v1.ClusterService`. */
export function clusterServiceImpl(api: ExchangeNodeApi): ClusterServiceServer {
  return {
    getStatus: (_call, callback) => {
      try {
        callback(null, statusToProto(api.status()));
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
      const deadline = call.getDeadline();
      const deadlineMs = deadline instanceof Date ? deadline.getTime() : Number.isFinite(deadline) ? deadline : Date.now() + transferLeadershipWaitMs;
      const target = call.request.targetId === '' ? null : call.request.targetId;
      transfer(target, Math.min(deadlineMs, Date.now() + transferLeadershipWaitMs)).then(
        (moved) => callback(null, { leaderId: moved.leaderId, term: moved.term }),
        (e: unknown) => callback(toServiceError(e instanceof InvalidTargetError ? new ApiStatusError(status.INVALID_ARGUMENT, e.message) : e)),
      );
    },
  };
}
