/**
 * One replica of the exchange: the Raft driver, the committed stream feeding the exchange
 * projection, client writes waiting for apply, linearizable reads and the trade history, behind
 * the {@link ExchangeNodeApi} the gRPC services use. Everything runs on the event loop; the only
 * timer input is `tick()` from the clock.
 */
import type { Observable, Subscription } from 'rxjs';
import type { Command, Exchange, Reply, TradeView } from '../../domain/index.js';
import { assert, assertNever } from '../raft/assert.js';
import type { LogEntry, LogIndex, Message, NodeId, RaftStorageWriter, RoleKind, Term } from '../raft/types.js';
import { CommittedStream } from './committed-stream.js';
import {
  NotLeaderError,
  OverloadedError,
  UnavailableError,
  type ExchangeNodeApi,
  type NodeStatus,
} from './exchange-node-api.js';
import { HealthGate } from './health.js';
import { Proposals, pendingProposalsMax } from './proposals.js';
import { RaftDriver, type CoreStatus, type RaftCore } from './raft-driver.js';
import { AppliedWaiters, ReadIndexer, pendingReadsMax } from './read-index.js';
import { TradeHistory, defaultTradeHistoryLimits, type TradeHistoryLimits } from './trade-history.js';

/** The logging surface the node uses (pino-compatible). */
export interface NodeLogger {
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
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
  /** Every member including this node (its own --listen for itself). */
  readonly members: readonly { id: NodeId; address: string; voter: boolean }[];
  /** Builds the exchange projection over the committed entries (called once, in the constructor). */
  readonly projection: (committed$: Observable<LogEntry>) => NodeProjection;
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
  readonly committed: CommittedStream;
  private readonly proposals: Proposals<Reply>;
  private readonly applied: AppliedWaiters;
  private readonly reads: ReadIndexer;
  private readonly tradeHistory: TradeHistory<TradeView>;
  private readonly health: HealthGate;
  private readonly now: () => number;
  private readonly projection: NodeProjection;
  private readonly subscriptions: Subscription[] = [];
  /** The reply the projection emitted for the entry being applied. */
  private lastResult: { readonly index: LogIndex; readonly reply: Reply } | null = null;
  private appliedIndex: LogIndex = 0;
  private last: { role: RoleKind; term: Term; leaderId: NodeId | null } = { role: 'follower', term: 0, leaderId: null };
  private stopped = false;

  constructor(private readonly options: ExchangeNodeOptions) {
    const limits = options.limits ?? defaultNodeLimits;
    this.nodeId = options.selfId;
    this.now = options.now ?? Date.now;
    this.committed = new CommittedStream(0);
    this.proposals = new Proposals<Reply>(limits.pendingProposalsMax);
    this.applied = new AppliedWaiters(0, limits.pendingReadsMax);
    this.tradeHistory = new TradeHistory<TradeView>(limits);
    this.health = new HealthGate(options.durable.commitIndex, () => {
      options.logger.info({ applied: this.appliedIndex }, 'node is serving');
      options.onServing?.();
    });
    this.projection = options.projection(this.committed.entries$);
    this.subscriptions.push(
      this.projection.results$.subscribe({
        next: (result) => (this.lastResult = result),
        // Applying threw: a broken invariant. This replica's state can no longer be trusted.
        error: (error: unknown) => this.fatal(error),
      }),
      this.projection.trades$.subscribe({ next: (trade) => this.tradeHistory.record(trade), error: () => undefined }),
    );
    this.driver = new RaftDriver(options.core, options.storage, {
      send: options.send,
      apply: (entries) => this.applyCommitted(entries),
      readStates: (states) => this.reads.onReadStates(states),
      afterReady: () => this.observe(),
      fatal: (error) => this.fatal(error),
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
      case 'requestVoteResponse':
      case 'appendEntriesResponse':
        this.driver.step(message);
        return Promise.resolve(null);
      default:
        return assertNever(message);
    }
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
    const status = this.driver.status();
    if (status.role !== 'leader') return Promise.reject(this.notLeader(status.leaderId));
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
    this.options.logger.debug({ index: result.index, term: result.term, type: command.type }, 'proposed');
    return this.proposals.add(result.index, result.term, deadlineMs);
  }

  async read<T>(read: (exchange: Exchange) => T, deadlineMs: number): Promise<{ value: T; appliedIndex: LogIndex }> {
    if (this.stopped) throw new UnavailableError('node is shutting down');
    const index = await this.reads.readPoint(deadlineMs);
    await this.applied.waitFor(index, deadlineMs);
    return { value: read(this.projection.exchange), appliedIndex: this.appliedIndex };
  }

  trades(symbol: string, fromLogIndex: LogIndex): Observable<TradeView> {
    return this.tradeHistory.stream(symbol, fromLogIndex);
  }

  status(): NodeStatus {
    const s: CoreStatus = this.driver.status();
    return {
      nodeId: this.nodeId,
      role: s.role,
      term: s.term,
      leaderId: s.leaderId,
      // Our own apply can run ahead of what the core has recorded until advance(): report the max.
      commitIndex: Math.max(s.commitIndex, this.appliedIndex),
      lastApplied: this.appliedIndex,
      lastLogIndex: s.lastLogIndex,
      members: this.options.members,
      followers: s.role === 'leader' ? (s.followers ?? []) : [],
      stateHash: this.projection.exchange.stateHash(),
    };
  }

  leaderAddress(): string | null {
    const leaderId = this.driver.status().leaderId;
    if (leaderId === null) return null;
    return this.options.members.find((m) => m.id === leaderId)?.address ?? null;
  }

  /** Stops the driver; every waiting call fails UNAVAILABLE (a retry elsewhere is safe). */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.driver.stop();
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
      assert(entry.type !== 'command' || this.stopped || result?.index === entry.index, `command entry ${entry.index} produced no reply`);
      this.appliedIndex = entry.index;
      this.proposals.applied(entry.index, entry.term, result?.reply);
    }
    this.applied.advance(this.appliedIndex);
  }

  /** Role/term/leader changes: log them, fail what the old role promised. Health. */
  private observe(): void {
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
    const address = known === null ? null : (this.options.members.find((m) => m.id === known)?.address ?? null);
    return new NotLeaderError(known, address);
  }

  private fatal(error: unknown): void {
    if (this.stopped) return;
    this.options.logger.error({ err: error }, 'unrecoverable error (persisting or applying); stopping');
    void this.stop();
    this.options.onFatal(error);
  }
}
