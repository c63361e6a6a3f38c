/**
 * The bridge to the real core: builds a `RaftNode` for the simulator from the seed's tuning.
 * The assignment below is also a compile-time proof that `RaftNode` fits `SimRaftNode`.
 */
import { RaftNode, defaultRaftConfig } from '../../src/raft/index.js';
import type { NodeFactory } from './sim-cluster.js';
import type { SimRaftNode } from './sim-types.js';

/** A NodeFactory over the real `RaftNode` with the seed's tuning laid over the defaults. */
export const raftNodeFactory: NodeFactory = (id, voters, tuning, storage, rng) => {
  const node: SimRaftNode = new RaftNode({ ...defaultRaftConfig(id, voters), ...tuning }, storage, rng);
  return node;
};
