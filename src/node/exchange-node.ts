/**
 * One replica of the exchange: the Raft driver, the committed stream feeding the exchange
 * projection, client writes waiting for apply, linearizable reads and the trade history, behind
 * the {@link ExchangeNodeApi} the gRPC services use. Everything runs on the event loop; the only
 * timer input is `tick()` from the clock.
 */
import type { Observable, Subscription } from 'rxjs';
import type { Command, Exchange, Reply, TradeView } from '../../domain/index.js';
import { assert, assertNever } from '../raft/assert.js';
import type { InstallSnapshot, LogEntry, LogIndex, Message, NodeId, RaftStorageWriter, RoleKind, SnapshotMeta, Term } from '../raft/types.js';
import { CommittedStream } from './committed-stream.js';
import {
  NotLeaderError,
  OverloadedError,
  UnavailableError,
  type ExchangeNodeApi,
  type MemberChangeReply,
  type NodeStatus,
} from './exchange-node-api.js';
import { HealthGate } from './health.js';
import { Proposals, pendingProposalsMax } from './proposals.js';
import { RaftDriver, type CoreStatus, type RaftCore } from './raft-driver.js';
import { AppliedWaiters, ReadIndexer, pendingReadsMax } from './read-index.js';
import { TradeHistory, type StreamFlow, defaultTradeHistoryLimits, type TradeHistoryLimits } from './trade-history.js';
import { decodeNodeSnapshot, encodeNodeSnapshot, snapshotTradesMax } from './node-snapshot.js';
import { ShadowState } from './shadow-state.js';
import { Snapshotter, type AppliedPoint, type SnapshotData, type SnapshotPolicy, type SnapshotSink } from './snapshotter.js';
import { MemberDirectory } from './member-directory.js';
import { MembershipChanges, type MemberChangeResult } from './membership-changes.js';
import { isLearner, isMember, isVoter, learnerIds, sameMembership, voterIds, type Membership } from '../raft/membership.js';

/** How often a leadership transfer checks whether leadership has moved. */
export const transferPollMs = 5;

/** A transfer to a node that is not a voting member: the caller's mistake (INVALID_ARGUMENT). */
export class InvalidTargetError extends Error {
  override readonly name = 'InvalidTargetError';
}

/** The logging surface the node uses (pino-compatible). */
export interface NodeLogger {
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** pino's level check; lets hot paths skip building a debug line nobody will see. */
  isLevelEnabled?(level: string): boolean;
}

/**
 * The exchange side, built over the committed stream (src/exchange's ExchangeProjection fits it).
 * Its streams must be synchronous: by the time `publish(entry)` returns, the entry's reply and
 * trades have been emitted and `exchange` reflects it.
 */
export interface NodeProjection {
  /** The state machine, read by `read()` and `status()`. */
  readonly exchange: Exchange;
  /** The reply of every applied command entry; errors if applying broke an invariant. */
  readonly results$: Observable<{ readonly index: LogIndex; readonly reply: Reply }>;
  readonly trades$: Observable<TradeView>;
}

export interface NodeLimits extends TradeHistoryLimits {
  readonly pendingProposalsMax: number;
  readonly pendingReadsMax: number;
}

export const defaultNodeLimits: NodeLimits = { ...defaultTradeHistoryLimits, pendingProposalsMax, pendingReadsMax };

export interface ExchangeNodeOptions {
  readonly selfId: NodeId;
  readonly core: RaftCore;
  readonly storage: RaftStorageWriter;
  /** The term and vote already durable in storage. */
  readonly durable: { readonly term: Term; readonly votedFor: NodeId | null; readonly commitIndex: LogIndex };
  /**
   * The address book: this node at its own --listen and the --peers entries. The membership itself
   * comes from the Raft log; these addresses override the configuration's (see MemberDirectory).
   */
  readonly members: readonly { id: NodeId; address: string; voter: boolean }[];
  /**
   * The configuration changed (after a Ready): `peers` are the other members with a known
   * address, the set of peers to keep a client for. Called once at the first Ready too.
   */
  readonly onMembership?: (membership: Membership, peers: ReadonlyMap<NodeId, string>) => void;
  /**
   * Builds the exchange projection over the committed entries: in the constructor (from
   * `initialSnapshot`'s bytes, if any) and again whenever a leader's snapshot is installed.
   */
  readonly projection: (committed$: Observable<LogEntry>, snapshot?: Uint8Array) => NodeProjection;
  /** The snapshot storage recovered (its meta is the storage's): the state starts from it. */
  readonly initialSnapshot?: SnapshotData | null;
  /** Where to save snapshots and when (absent: never snapshot, and installing one is impossible). */
  readonly snapshots?: { readonly sink: SnapshotSink; readonly policy: SnapshotPolicy };
  /**
   * The compiled shadow-state worker (shadow-worker.js): snapshots are then serialised on a worker
   * thread instead of pausing this one (shadow-state.ts). Absent: captured inline.
   */
  readonly shadowWorker?: URL;
  readonly encode: (command: Command) => Uint8Array;
  /** Send a request message to a peer (fire and forget). */
  readonly send: (message: Message) => void;
  /** Ask `leaderId` for a read index (follower reads); reject or return 0 when it cannot serve. */
  readonly askLeader: (leaderId: NodeId, deadlineMs: number) => Promise<{ readIndex: LogIndex; leaderId: NodeId | null }>;
  /** How long a read waits for a leader to be known (about two election timeouts). */
  readonly leaderWaitMs: number;
  readonly logger: NodeLogger;
  readonly limits?: NodeLimits;
  readonly now?: () => number;
  /** Called once the node is ready to serve (health SERVING). */
  readonly onServing?: () => void;
  /** Called when persisting failed: the process must stop. */
  readonly onFatal: (error: unknown) => void;
}

export class ExchangeNode implements ExchangeNodeApi {
  readonly nodeId: NodeId;
  readonly driver: RaftDriver;
  /** Every committed entry, in order: the runtime's RxJS view of the log. */
  committed: CommittedStream;
  private readonly proposals: Proposals<Reply>;
  private readonly applied: AppliedWaiters;
  private readonly reads: ReadIndexer;
  private readonly tradeHistory: TradeHistory<TradeView>;
  private readonly health: HealthGate;
  private readonly now: () => number;
  private projection: NodeProjection;
  private subscriptions: Subscription[] = [];
  /** The last applied entry (or the snapshot the state came from): what a snapshot records. */
  private appliedPoint: AppliedPoint = { index: 0, term: 0, timestampMs: 0 };
  /** Snapshot bytes received from the leader, waiting for the core's Ready to install them. */
  private receivedSnapshot: SnapshotData | null = null;
  readonly snapshotter: Snapshotter | null;
  /** The shadow copy of the state that serialises snapshots off this thread (null: inline). */
  private readonly shadow: ShadowState | null;
  /** The reply the projection emitted for the entry being applied. */
  private lastResult: { readonly index: LogIndex; readonly reply: Reply } | null = null;
  private appliedIndex: LogIndex = 0;
  private last: { role: RoleKind; term: Term; leaderId: NodeId | null } = { role: 'follower', term: 0, leaderId: null };
  private stopped = false;
  private readonly directory: MemberDirectory;
  private readonly membershipChanges: MembershipChanges;
  /** The configuration last seen after a Ready (null before the first). */
  private lastMembership: Membership | null = null;

  constructor(private readonly options: ExchangeNodeOptions) {
    const limits = options.limits ?? defaultNodeLimits;
    this.nodeId = options.selfId;
    this.now = options.now ?? Date.now;
    const self = options.members.find((m) => m.id === options.selfId);
    this.directory = new MemberDirectory(options.selfId, self?.address ?? '',
      new Map(options.members.filter((m) => m.id !== options.selfId && m.address !== '').map((m) => [m.id, m.address])));
    this.membershipChanges = new MembershipChanges({
      selfId: options.selfId,
      membership: () => this.driver.membership(),
      propose: (change) => this.driver.proposeMembershipChange(change, this.now()),
      status: () => {
        const s = this.driver.status();
        return { ...s, followers: s.followers ?? [] };
      },
      transferLeadership: (target, deadlineMs) => this.transferLeadership(target, deadlineMs),
      notLeader: (leaderId) => this.notLeader(leaderId),
      knownAddress: (id) => this.directory.addressOfId(this.driver.membership(), id) ?? '',
      isStopped: () => this.stopped,
      now: this.now,
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
      logger: options.logger,
    });
    const initial = options.initialSnapshot ?? null;
    const startIndex = initial?.meta.index ?? 0;
    const restored = initial === null ? null : decodeNodeSnapshot(initial.data);
    if (initial !== null) this.appliedPoint = { index: startIndex, term: initial.meta.term, timestampMs: initial.meta.timestampMs ?? 0 };
    this.appliedIndex = startIndex;
    this.committed = new CommittedStream(startIndex);
    this.proposals = new Proposals<Reply>(limits.pendingProposalsMax);
    this.applied = new AppliedWaiters(startIndex, limits.pendingReadsMax);
    this.tradeHistory = new TradeHistory<TradeView>(limits, startIndex, restored?.trades ?? null);
    this.health = new HealthGate(options.durable.commitIndex, () => {
      options.logger.info({ applied: this.appliedIndex }, 'node is serving');
      options.onServing?.();
    });
    this.projection = this.buildProjection(restored?.exchange);
    const snapshots = options.snapshots;
    this.shadow = snapshots === undefined || options.shadowWorker === undefined ? null
      : new ShadowState(options.shadowWorker, { limits }, initial?.data ?? null, startIndex,
        (reason) => options.logger.warn({ reason }, 'snapshot shadow worker failed; capturing inline until the next snapshot restarts it'));
    this.snapshotter = snapshots === undefined ? null : new Snapshotter({
      sink: snapshots.sink,
      policy: snapshots.policy,
      capture: (index) => this.captureSnapshot(index),
      membership: (index) => this.driver.membershipAt(index),
      compact: (meta, compactTo) => this.driver.compact(meta, compactTo),
      fatal: (error) => this.fatal(error),
      logger: options.logger,
    }, startIndex);
    this.driver = new RaftDriver(options.core, options.storage, {
      send: options.send,
      apply: (entries) => this.applyCommitted(entries),
      readStates: (states) => this.reads.onReadStates(states),
      afterReady: () => this.observe(),
      fatal: (error) => this.fatal(error),
      installSnapshot: (meta) => this.installSnapshot(meta),
    }, options.durable);
    this.reads = new ReadIndexer({
      selfId: options.selfId,
      readIndex: (id) => this.driver.readIndex(id),
      leaderId: () => this.driver.status().leaderId,
      askLeader: options.askLeader,
      now: this.now,
    }, options.leaderWaitMs, limits.pendingReadsMax);
  }

  /** The clock's tick: Raft time, deadlines, role changes, health. */
  tick(): void {
    if (this.stopped) return;
    this.driver.tick();
    const now = this.now();
    this.proposals.expire(now);
    this.applied.expire(now);
    this.reads.expire(now);
    this.observe();
  }

  get lastApplied(): LogIndex {
    return this.appliedIndex;
  }

  // ---- peer side (GrpcServer's PeerHandler, PeerClients' onMessage) ----

  /** A request from a peer's RPC: resolves with our response (or null). */
  onPeerRequest(message: Message): Promise<Message | null> {
    switch (message.type) {
      case 'requestVote':
      case 'appendEntries':
        return this.driver.stepRequest(message);
      case 'installSnapshot':
        // Only as a whole stream (onPeerSnapshot): the metadata alone cannot be installed.
        return Promise.resolve(null);
      case 'requestVoteResponse':
      case 'appendEntriesResponse':
      case 'installSnapshotResponse':
      case 'timeoutNow':
        this.driver.step(message);
        return Promise.resolve(null);
      default:
        return assertNever(message);
    }
  }

  /**
   * A snapshot the leader streamed to us, received whole: keep the bytes until the core's Ready
   * installs it, and step the core. Resolves with the InstallSnapshotResponse.
   */
  onPeerSnapshot(message: InstallSnapshot, data: Uint8Array): Promise<Message | null> {
    if (this.snapshotter === null) return Promise.resolve(null);
    this.receivedSnapshot = { meta: message.meta, data };
    return this.driver.stepRequest(message);
  }

  async transferLeadership(targetId: NodeId | null, deadlineMs: number): Promise<{ leaderId: NodeId; term: number }> {
    const status = this.driver.status();
    if (status.role !== 'leader') throw this.notLeader(status.leaderId);
    // Default target: the voter with the most of the log (the quickest to catch up); learners cannot lead.
    const membership = this.driver.membership();
    const voters = (status.followers ?? []).filter((f) => isVoter(membership, f.id));
    const target = targetId ?? [...voters].sort((a, b) => b.matchIndex - a.matchIndex)[0]?.id ?? null;
    if (target === null || target === this.nodeId) return { leaderId: this.nodeId, term: status.term };
    const result = this.driver.transferLeadership(target);
    if (!result.ok) {
      if (result.reason === 'notLeader') throw this.notLeader(result.leaderId);
      throw new InvalidTargetError(`${target} is not a voting member`);
    }
    this.options.logger.info({ to: target, term: status.term }, 'leadership transfer started');
    while (this.now() < deadlineMs && !this.stopped) {
      const s = this.driver.status();
      if (s.leaderId !== null && s.leaderId !== this.nodeId) return { leaderId: s.leaderId, term: s.term };
      await new Promise((resolve) => setTimeout(resolve, transferPollMs));
    }
    throw new UnavailableError(`leadership transfer to ${target} did not complete in time`);
  }

  addMember(id: NodeId, address: string, deadlineMs: number): Promise<MemberChangeReply> {
    if (this.stopped) return Promise.reject(new UnavailableError('node is shutting down'));
    return this.membershipChanges.add(id, address, deadlineMs).then((r) => this.changeReply(r));
  }

  removeMember(id: NodeId, deadlineMs: number): Promise<MemberChangeReply> {
    if (this.stopped) return Promise.reject(new UnavailableError('node is shutting down'));
    return this.membershipChanges.remove(id, deadlineMs).then((r) => this.changeReply(r));
  }

  /** The configuration in effect (the latest config entry this node has appended). */
  membership(): Membership {
    return this.driver.membership();
  }

  /** A response carried back by one of our own RPCs. */
  onPeerResponse(message: Message): void {
    this.driver.step(message);
  }

  /** A follower's ReadIndex RPC: our confirmed read index, or 0 and the leader we know. */
  async onReadIndex(_from: NodeId, deadlineMs: number): Promise<{ readIndex: number; leaderId: string }> {
    const status = this.driver.status();
    if (status.role !== 'leader') return { readIndex: 0, leaderId: status.leaderId ?? '' };
    const readIndex = await this.reads.leaderReadPoint(deadlineMs);
    return { readIndex, leaderId: this.nodeId };
  }

  // ---- ExchangeNodeApi ----

  submit(command: Command, deadlineMs: number): Promise<Reply> {
    if (this.stopped) return Promise.reject(new UnavailableError('node is shutting down'));
    // No status() here (it copies the follower list): propose() itself refuses on a non-leader,
    // and a non-leader holds no pending proposals, so the capacity check cannot misfire.
    try {
      this.proposals.checkCapacity();
    } catch (error) {
      return Promise.reject(error as Error);
    }
    const result = this.driver.propose(this.options.encode(command), this.now());
    if (!result.ok) {
      switch (result.reason) {
        case 'notLeader':
          return Promise.reject(this.notLeader(result.leaderId));
        case 'overloaded':
          return Promise.reject(new OverloadedError('too many uncommitted entries'));
      }
    }
    // Per write: build the log object only when someone reads it.
    if (this.options.logger.isLevelEnabled?.('debug') !== false) {
      this.options.logger.debug({ index: result.index, term: result.term, type: command.type }, 'proposed');
    }
    return this.proposals.add(result.index, result.term, deadlineMs);
  }

  async read<T>(read: (exchange: Exchange) => T, deadlineMs: number): Promise<{ value: T; appliedIndex: LogIndex }> {
    if (this.stopped) throw new UnavailableError('node is shutting down');
    // Removed (or not yet added): no leader will ever count this node, so a read point from the
    // leader would never be applied here. Hand the read to the leader instead (the API forwards).
    if (!isMember(this.driver.membership(), this.nodeId)) throw this.notLeader(this.driver.status().leaderId);
    const index = await this.reads.readPoint(deadlineMs);
    await this.applied.waitFor(index, deadlineMs);
    return { value: read(this.projection.exchange), appliedIndex: this.appliedIndex };
  }

  trades(symbol: string, fromLogIndex: LogIndex, flow?: StreamFlow): Observable<TradeView> {
    return this.tradeHistory.stream(symbol, fromLogIndex, flow ?? null);
  }

  status(options?: { readonly withStateHash?: boolean }): NodeStatus {
    const s: CoreStatus = this.driver.status();
    const membership = this.driver.membership();
    return {
      nodeId: this.nodeId,
      role: s.role,
      term: s.term,
      leaderId: s.leaderId,
      // Our own apply can run ahead of what the core has recorded until advance(): report the max.
      commitIndex: Math.max(s.commitIndex, this.appliedIndex),
      lastApplied: this.appliedIndex,
      lastLogIndex: s.lastLogIndex,
      members: this.directory.members(membership),
      learner: isLearner(membership, this.nodeId),
      followers: s.role === 'leader' ? (s.followers ?? []) : [],
      stateHash: options?.withStateHash === false ? '' : this.projection.exchange.stateHash(),
      counters: {
        appendRejectionsSent: this.driver.stats.appendRejectionsSent,
        appendRejectionsReceived: this.driver.stats.appendRejectionsReceived,
        fsyncs: this.driver.stats.syncs,
        entriesPersisted: this.driver.stats.entriesPersisted,
      },
    };
  }

  leaderAddress(): string | null {
    const leaderId = this.driver.status().leaderId;
    const membership = this.driver.membership();
    if (leaderId !== null) {
      const address = this.directory.addressOfId(membership, leaderId);
      if (address !== null) return address;
    }
    // A node outside the configuration (joining: `raftex member add` sent to the new node itself)
    // hears from no leader until it is added, or hears from one whose address its configuration
    // does not hold yet; its --peers entries are members that know one and forward on (the hop
    // limit bounds it).
    if (!isMember(membership, this.nodeId)) return this.directory.overrides.values().next().value ?? null;
    return null;
  }

  /** Stops the driver; every waiting call fails UNAVAILABLE (a retry elsewhere is safe). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.driver.stop();
    // The shadow first: a capture in flight is rejected (that snapshot is skipped) rather than
    // waited for, so stopping stays within its budget.
    await this.shadow?.close();
    await this.snapshotter?.stop();
    const error = new UnavailableError('node is shutting down');
    this.proposals.failAll(error);
    this.applied.failAll(error);
    this.reads.failAll(error);
    this.committed.complete();
    for (const subscription of this.subscriptions) subscription.unsubscribe();
  }

  // ---- internals ----

  private applyCommitted(entries: readonly LogEntry[]): void {
    for (const entry of entries) {
      if (this.stopped) return;
      this.lastResult = null;
      // Synchronously folds the entry into the exchange, records its trades, sets lastResult.
      this.committed.publish(entry);
      const result = this.lastResult as { readonly index: LogIndex; readonly reply: Reply } | null;
      if (!(entry.type !== 'command' || this.stopped || result?.index === entry.index)) assert(false, `command entry ${entry.index} produced no reply`);
      this.appliedIndex = entry.index;
      this.appliedPoint = entry;
      this.proposals.applied(entry.index, entry.term, result?.reply);
    }
    this.applied.advance(this.appliedIndex);
    // (A stop returns above: every entry of the batch was applied.)
    this.shadow?.appliedEntries(entries);
    this.snapshotter?.onApplied(this.appliedPoint);
  }

  /**
   * The node snapshot at `index` (the applied point): from the shadow worker when it is healthy,
   * else captured here, now (the trade window then ends exactly at the snapshot's index), which
   * also restarts a failed shadow from those bytes.
   */
  private captureSnapshot(index: LogIndex): Uint8Array | Promise<Uint8Array> {
    if (this.shadow?.healthy === true) return this.shadow.capture(index);
    const bytes = encodeNodeSnapshot(this.projection.exchange.snapshot(), this.tradeHistory.window(snapshotTradesMax));
    if (this.shadow !== null && !this.stopped) this.shadow.restart(bytes, index);
    return bytes;
  }

  /** The projection over a fresh committed stream, from `snapshot` bytes or empty; subscribed. */
  private buildProjection(snapshot: Uint8Array | undefined): NodeProjection {
    const projection = this.options.projection(this.committed.entries$, snapshot);
    this.subscriptions.push(
      projection.results$.subscribe({
        next: (result) => (this.lastResult = result),
        // Applying threw: a broken invariant. This replica's state can no longer be trusted.
        error: (error: unknown) => this.fatal(error),
      }),
      projection.trades$.subscribe({ next: (trade) => this.tradeHistory.record(trade), error: () => undefined }),
    );
    return projection;
  }

  /**
   * Ready.snapshot: save the leader's snapshot durably, then replace the exchange with it. The
   * old projection is torn down; applying resumes at meta.index + 1. Trades inside the snapshot
   * were never replayed here: the trade history restarts from the trades the snapshot carries
   * and ends its open streams (they resume).
   */
  private async installSnapshot(meta: SnapshotMeta): Promise<void> {
    const received = this.receivedSnapshot;
    assert(this.snapshotter !== null && this.options.snapshots !== undefined, 'installing a snapshot without a snapshot store');
    assert(received !== null && received.meta.index === meta.index && received.meta.term === meta.term,
      `no bytes received for snapshot ${meta.index}/${meta.term}`);
    this.receivedSnapshot = null;
    // Read it before it replaces our own snapshot on disk: an unreadable one must not.
    const installed = decodeNodeSnapshot(received.data);
    await this.options.snapshots.sink.saveSnapshot(received);
    for (const subscription of this.subscriptions) subscription.unsubscribe();
    this.subscriptions = [];
    this.committed.complete();
    this.committed = new CommittedStream(meta.index);
    this.tradeHistory.restartAfter(meta.index, installed.trades);
    this.projection = this.buildProjection(installed.exchange);
    this.appliedIndex = meta.index;
    this.appliedPoint = { index: meta.index, term: meta.term, timestampMs: meta.timestampMs ?? 0 };
    this.snapshotter.installed(meta.index);
    this.shadow?.restart(received.data, meta.index);
    this.applied.advance(meta.index);
    this.options.logger.info({ index: meta.index, term: meta.term, bytes: received.data.byteLength }, 'snapshot installed');
  }

  private changeReply(result: MemberChangeResult): MemberChangeReply {
    return { members: this.directory.members(result.membership), logIndex: result.logIndex };
  }

  /**
   * The configuration after a Ready: when it changed, log it, tell the runtime the peers to keep
   * clients for, and say so loudly if this node was removed (it forwards reads and writes to the
   * leader it last knew; the core never lets it campaign, so it cannot disturb the cluster).
   */
  private observeMembership(): void {
    const membership = this.driver.membership();
    const prev = this.lastMembership;
    // Identity first: the core hands out the same object until the configuration changes.
    if (membership === prev || (prev !== null && sameMembership(membership, prev))) return;
    this.lastMembership = membership;
    const { peers, unreachable } = this.directory.peers(membership);
    // A member this change removed keeps its client until the next change: the leader goes on
    // replicating to it until it is told its removal committed (the core's pruneDeparted).
    if (prev !== null) {
      for (const [id, address] of this.directory.peers(prev).peers) if (!isMember(membership, id) && !peers.has(id)) peers.set(id, address);
    }
    const self = this.nodeId;
    this.options.logger.info({ voters: voterIds(membership), learners: learnerIds(membership) }, 'membership changed');
    if (unreachable.length > 0) {
      this.options.logger.warn({ members: unreachable }, 'no address for these members: restart this node with --peers entries for them');
    }
    if (prev !== null && isMember(prev, self) && !isMember(membership, self)) {
      this.options.logger.warn({ voters: voterIds(membership) }, 'this node was removed from the cluster; it forwards requests to the leader it last knew but takes no part in Raft: stop it');
    }
    this.options.onMembership?.(membership, peers);
  }

  /** Role/term/leader changes: log them, fail what the old role promised. Health. */
  private observe(): void {
    this.observeMembership();
    const s = this.driver.status();
    const prev = this.last;
    if (s.role !== prev.role || s.term !== prev.term || s.leaderId !== prev.leaderId) {
      this.last = { role: s.role, term: s.term, leaderId: s.leaderId };
      if (s.role !== prev.role || s.leaderId !== prev.leaderId) {
        this.options.logger.info({ role: s.role, term: s.term, leader: s.leaderId }, 'role changed');
      }
      const stillLeading = s.role === 'leader' && s.term === prev.term;
      if (prev.role === 'leader' && !stillLeading) {
        this.proposals.failAll(new UnavailableError(`leadership lost in term ${prev.term}; retry with the same id`));
      }
      this.reads.onLeaderChange(s.role === 'leader');
    }
    this.health.update({ leaderId: s.leaderId, commitIndex: s.commitIndex, lastApplied: this.appliedIndex });
  }

  private notLeader(leaderId: NodeId | null): NotLeaderError {
    const known = leaderId === this.nodeId ? null : leaderId;
    const address = known === null ? null : this.directory.addressOfId(this.driver.membership(), known);
    return new NotLeaderError(known, address);
  }

  private fatal(error: unknown): void {
    if (this.stopped) return;
    this.options.logger.error({ err: error }, 'unrecoverable error (persisting or applying); stopping');
    void this.stop();
    this.options.onFatal(error);
  }
}
