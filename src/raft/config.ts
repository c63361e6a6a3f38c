/**
 * Static configuration of one Raft node, with its named limits. Validated once at construction
 * so the core can rely on the relations (heartbeat < election timeout, limits >= 1) everywhere.
 */
import type { NodeId } from './types.js';

/** The configuration a `RaftNode` is built with. Every queue or batch it keeps is bounded here. */
export interface RaftConfig {
  /** This node's id; must be one of `voters` unless `voters` is empty. */
  readonly id: NodeId;
  /**
   * The initial voting members, including `id`: the configuration used only while neither the
   * snapshot nor the log holds a config entry (membership.ts). Empty for a node joining a running
   * cluster: it has no configuration, never campaigns, and takes one from the log it receives.
   */
  readonly voters: readonly NodeId[];
  /** T: a follower's randomized election timeout is drawn from [T, 2T) ticks. */
  readonly electionTicks: number;
  /** The leader sends heartbeats every `heartbeatTicks`; must be < `electionTicks`. */
  readonly heartbeatTicks: number;
  /** Pre-vote (Raft thesis §9.6): a node that cannot win never bumps its term. */
  readonly preVote: boolean;
  /** Check-quorum: a leader without a live majority steps down; followers in a lease ignore votes. */
  readonly checkQuorum: boolean;
  /** Most entries in one AppendEntries. */
  readonly entriesPerAppendMax: number;
  /** Most payload bytes in one AppendEntries (always at least one entry is sent). */
  readonly bytesPerAppendMax: number;
  /** Most AppendEntries with entries in flight per follower while replicating (1 while probing). */
  readonly inflightAppendsMax: number;
  /** `propose()` answers `overloaded` once this many entries are appended but not committed. */
  readonly uncommittedEntriesMax: number;
  /** Most ReadIndex requests queued on the leader (waiting for the no-op or for a heartbeat round). */
  readonly pendingReadsMax: number;
}

/** A config with the project's defaults (ticks of ~100 ms in the node runtime). */
export function defaultRaftConfig(id: NodeId, voters: readonly NodeId[]): RaftConfig {
  return {
    id,
    voters: [...voters],
    electionTicks: 10,
    heartbeatTicks: 1,
    preVote: true,
    checkQuorum: true,
    entriesPerAppendMax: 512,
    bytesPerAppendMax: 1024 * 1024,
    inflightAppendsMax: 64,
    uncommittedEntriesMax: 10_000,
    pendingReadsMax: 10_000,
  };
}

/**
 * Check-quorum window, in minimum election timeouts: a leader steps down once a majority has not
 * answered for this many times `electionTicks`, i.e. within 2T = the top of the randomized
 * election timeout range [T, 2T) (etcd's worst case too: it checks once per timeout). One T was
 * too tight: under a saturating load on 2 cores (bench:cluster at 256 clients) the leader's event
 * loop stalls for 100-300 ms (big batches, snapshots, GC), its tick timer then fires before the
 * follower replies waiting in its sockets are read, and a healthy leader stepped down every few
 * tens of seconds (measured at T = 300 ms). Liveness only: reads are confirmed by a heartbeat
 * round, not by a lease, and a deposed leader cannot commit.
 */
export const checkQuorumElectionTimeouts = 2;

/** The check-quorum window in ticks (see checkQuorumElectionTimeouts). */
export function checkQuorumTicks(config: RaftConfig): number {
  return checkQuorumElectionTimeouts * config.electionTicks;
}

/** A configuration that breaks one of the required relations; thrown at construction. */
export class RaftConfigError extends Error {
  override readonly name = 'RaftConfigError';
  constructor(readonly field: keyof RaftConfig, reason: string) {
    super(`invalid raft config: ${field} ${reason}`);
  }
}

const nodeIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

function requirePositiveInteger(config: RaftConfig, field: keyof RaftConfig): void {
  const value = config[field];
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
    throw new RaftConfigError(field, `must be a positive integer, got ${String(value)}`);
  }
}

/** Throws `RaftConfigError` when a field or a relation between fields is invalid. */
export function validateRaftConfig(config: RaftConfig): void {
  if (!nodeIdPattern.test(config.id)) throw new RaftConfigError('id', `is not a valid node id: ${config.id}`);
  const seen = new Set<NodeId>();
  for (const voter of config.voters) {
    if (!nodeIdPattern.test(voter)) throw new RaftConfigError('voters', `contains an invalid id: ${voter}`);
    if (seen.has(voter)) throw new RaftConfigError('voters', `contains ${voter} twice`);
    seen.add(voter);
  }
  if (seen.size > 0 && !seen.has(config.id)) throw new RaftConfigError('voters', `must include this node (${config.id})`);
  for (const field of [
    'electionTicks',
    'heartbeatTicks',
    'entriesPerAppendMax',
    'bytesPerAppendMax',
    'inflightAppendsMax',
    'uncommittedEntriesMax',
    'pendingReadsMax',
  ] as const) {
    requirePositiveInteger(config, field);
  }
  if (config.heartbeatTicks >= config.electionTicks) {
    throw new RaftConfigError('heartbeatTicks', `must be < electionTicks (${config.electionTicks})`);
  }
}
