/**
 * An in-process stand-in for the node runtime: a real `Exchange` that applies commands directly
 * (each submit is one "log entry"), shared by every fake node of a {@link FakeCluster} as if
 * replication were instant. Whether a node leads is a switch, so tests can exercise forwarding.
 */
import { concat, defer, filter, from, Subject, throwError } from 'rxjs';
import type { Observable } from 'rxjs';
import { Exchange } from '../../domain/index.js';
import type { Command, Reply, TradeView } from '../../domain/index.js';
import {
  DeadlineError, NotLeaderError, OverloadedError, UnavailableError,
} from '../../src/node/exchange-node-api.js';
import type { ExchangeNodeApi, NodeStatus } from '../../src/node/exchange-node-api.js';

/** The replicated state every fake node sees. */
export class FakeCluster {
  readonly exchange = new Exchange();
  /** Every command appended, in order (the "log"). */
  readonly log: Command[] = [];
  readonly tradeHistory: TradeView[] = [];
  readonly live = new Subject<TradeView>();
  leaderId: string | null = null;
  readonly addresses = new Map<string, string>();
  /** Leader timestamp stamped on the next entry. */
  clockMs = 1_700_000_000_000;

  append(command: Command): Reply {
    this.log.push(command);
    const logIndex = this.log.length;
    const { reply, events } = this.exchange.apply(command, { logIndex, timestampMs: this.clockMs });
    this.clockMs += 1;
    for (const e of events) {
      if (e.type === 'tradeExecuted') {
        this.tradeHistory.push(e.trade);
        this.live.next(e.trade);
      }
    }
    return reply;
  }
}

/** What the next call to a fake node should fail with, for error-path tests. */
export type Injected = 'unavailable' | 'deadline' | 'overloaded' | null;

export class FakeNodeApi implements ExchangeNodeApi {
  /** Next submit fails like this (then resets). */
  injectSubmit: Injected = null;
  /** Next trades() stream errors like this after its history. */
  injectStream: Injected = null;
  /** Who this node thinks leads; undefined = the truth (cluster.leaderId). Stale views test forwarding loops. */
  believedLeader: string | null | undefined = undefined;
  /** Reads fail with NotLeaderError (a node that cannot serve ReadIndex itself). */
  refuseReads = false;
  /** While set, submits wait for it before they apply (flow-control tests). */
  hold: Promise<void> | null = null;
  submits = 0;
  reads = 0;

  constructor(readonly cluster: FakeCluster, readonly nodeId: string) {}

  private leads(): boolean {
    return this.cluster.leaderId === this.nodeId;
  }

  async submit(command: Command, deadlineMs: number): Promise<Reply> {
    this.submits++;
    if (!this.leads()) throw new NotLeaderError(this.leaderView(), this.leaderAddress());
    const injected = this.injectSubmit;
    this.injectSubmit = null;
    if (injected !== null) throw injectedError(injected);
    if (this.hold !== null) await this.hold;
    if (Date.now() > deadlineMs) throw new DeadlineError('deadline passed before apply');
    return this.cluster.append(command);
  }

  async read<T>(read: (exchange: Exchange) => T, _deadlineMs: number): Promise<{ value: T; appliedIndex: number }> {
    this.reads++;
    if (this.refuseReads || this.cluster.leaderId === null) throw new NotLeaderError(this.leaderView(), this.leaderAddress());
    return { value: read(this.cluster.exchange), appliedIndex: this.cluster.log.length };
  }

  trades(symbol: string, fromLogIndex: number): Observable<TradeView> {
    return defer(() => {
      const wanted = (t: TradeView): boolean => symbol === '' || t.symbol === symbol;
      const history = fromLogIndex > 0 ? this.cluster.tradeHistory.filter((t) => t.logIndex >= fromLogIndex && wanted(t)) : [];
      const injected = this.injectStream;
      this.injectStream = null;
      if (injected !== null) return concat(from(history), throwError(() => injectedError(injected)));
      // Synchronous: history is emitted and live is subscribed in one turn, so nothing falls between.
      return concat(from(history), this.cluster.live.pipe(filter(wanted)));
    });
  }

  status(options?: { readonly withStateHash?: boolean }): NodeStatus {
    const leads = this.leads();
    const members = [...this.cluster.addresses].map(([id, address]) => ({ id, address, voter: true }));
    return {
      nodeId: this.nodeId, role: leads ? 'leader' : 'follower', term: 2, leaderId: this.leaderView(),
      commitIndex: this.cluster.log.length, lastApplied: this.cluster.log.length, lastLogIndex: this.cluster.log.length,
      members,
      followers: leads
        ? members.filter((m) => m.id !== this.nodeId).map((m) => ({ id: m.id, matchIndex: this.cluster.log.length, nextIndex: this.cluster.log.length + 1, state: 'replicate' as const }))
        : [],
      stateHash: options?.withStateHash === false ? '' : this.cluster.exchange.stateHash(),
    };
  }

  private leaderView(): string | null {
    return this.believedLeader === undefined ? this.cluster.leaderId : this.believedLeader;
  }

  leaderAddress(): string | null {
    const id = this.leaderView();
    return id === null ? null : (this.cluster.addresses.get(id) ?? null);
  }
}

function injectedError(kind: Exclude<Injected, null>): Error {
  switch (kind) {
    case 'unavailable': return new UnavailableError('leadership lost before the entry applied');
    case 'deadline': return new DeadlineError('deadline passed');
    case 'overloaded': return new OverloadedError('stream buffer full');
  }
}
