/**
 * The ClusterService: this node's view of the cluster (role, term, indexes, members, and on the
 * leader its followers' progress). Local and cheap: it never needs a leader, so it answers during
 * elections and partitions, which is when operators ask.
 */
import type { ClusterServiceServer } from '../gen/raftex/v1/cluster.js';
import type { ExchangeNodeApi } from '../node/exchange-node-api.js';
import { statusToProto } from './proto-mapping.js';
import { toServiceError } from './status-mapping.js';

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
  };
}
