/** The public surface of the Raft core. Nothing else under src/raft is imported from outside. */
export { assert, assertNever, AssertionError } from './assert.js';
export { defaultRaftConfig, validateRaftConfig, RaftConfigError, type RaftConfig } from './config.js';
export { MemoryStorage } from './memory-storage.js';
export { majority, quorumMatchIndex, voteResult, type VoteResult } from './quorum.js';
export { RaftNode } from './raft-node.js';
export type { TransferResult } from './leadership-transfer.js';
export type { MembershipProposeResult, ProposeResult, RaftStatus, ReadIndexResult, Role } from './roles.js';
export { SeededRng, type Rng } from './rng.js';
export type * from './types.js';
export * from './membership.js';
