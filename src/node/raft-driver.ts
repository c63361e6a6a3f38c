/**
 * The runtime loop around the pure Raft core (etcd's `node.go` in one serialised async loop):
 *
 *   tick / step / propose / readIndex (synchronous, any time)
 *     -> ready() -> setHardState + append -> [send AppendEntries] -> await sync()
 *     -> send the other messages -> apply committed -> advance(ready) -> next ready
 *
 * Only one Ready is in flight. While its fsync is pending the core keeps accepting steps and
 * proposals, so everything that arrives during one fsync lands in the next Ready and shares the
 * next fsync: that is the group commit.
 *
 * Inbound requests (RequestVote, AppendEntries) are gRPC unary calls whose reply is the core's
 * response. Each such call leaves a reply slot in a FIFO per (peer, response type); a response in
 * a Ready addressed to that peer takes the oldest slot. Slots the Ready that followed their step
 * did not answer resolve null (the core chose not to reply).
 */
import { assert, assertNever } from '../raft/assert.js';
import type { ProposeResult, RaftStatus, ReadIndexResult, TransferResult } from '../raft/index.js';
import type {
  AppendEntries,
  InstallSnapshot,
  LogEntry,
  LogIndex,
  Message,
  NodeId,
  RaftStorageWriter,
  ReadState,
  Ready,
  RequestVote,
  SnapshotMeta,
  Term,
} from '../raft/types.js';

import type { MembershipProposeResult } from '../raft/index.js';
import { initialMembership, type Membership, type MembershipChange } from '../raft/membership.js';

export type { MembershipProposeResult, ProposeResult, ReadIndexResult, TransferResult } from '../raft/index.js';

/** What the driver needs from `RaftNode` (structural, so tests can use a fake core). */
export interface RaftCore {
  tick(): void;
  step(message: Message): void;
  propose(data: Uint8Array, timestampMs: number): ProposeResult;
  readIndex(requestId: string): ReadIndexResult;
  campaign(): void;
  hasReady(): boolean;
  ready(): Ready;
  advance(ready: Ready): void;
  status(): CoreStatus;
  /** A snapshot was saved durably: compact the in-memory log (absent on test fakes). */
  compact?(snapshot: SnapshotMeta, compactTo: LogIndex): void;
  /** Leadership transfer (absent on test fakes). */
  transferLeadership?(to: NodeId): TransferResult;
  /** The connection to `peer` dropped (see RaftNode.leaderUnreachable; absent on test fakes). */
  leaderUnreachable?(peer: NodeId): void;
  /** The configuration in effect: the latest config entry appended (absent on test fakes). */
  membership?(): Membership;
  /** The configuration in effect at `index` (snapshot metadata; absent on test fakes). */
  membershipAt?(index: LogIndex): Membership;
  /** Appends a single-server membership change (leader only; absent on test fakes). */
  proposeMembershipChange?(change: MembershipChange, timestampMs: number): MembershipProposeResult;
}

/** The subset of `RaftNode.status()` the runtime reads (followers optional for test fakes). */
export type CoreStatus = Pick<RaftStatus, 'id' | 'role' | 'term' | 'leaderId' | 'commitIndex' | 'lastApplied' | 'lastLogIndex' | 'voters'>
  & { readonly followers?: RaftStatus['followers'] };

/** Where the driver's output goes. */
export interface DriverHooks {
  /** Fire-and-forget send of a request to a peer (responses come back through `step`). */
  send(message: Message): void;
  /** Committed entries, in index order, already durable. */
  apply(entries: readonly LogEntry[]): void;
  /** Confirmed ReadIndex points, delivered after this Ready's entries were applied. */
  readStates(states: readonly ReadState[]): void;
  /** Called after each processed Ready (role/term changes, health, waiters). */
  afterReady(): void;
  /** Persisting failed: the node must stop (continuing could ack something not durable). */
  fatal(error: unknown): void;
  /**
   * Ready.snapshot: save the leader's snapshot durably (with the bytes the transport received)
   * and restore the state machine from it; awaited before the Ready's entries are persisted.
   */
  installSnapshot?(meta: SnapshotMeta): Promise<void>;
}

/**
 * Inbound RPCs waiting for their reply. Beyond this the driver drops requests unanswered (the
 * sender retries on its next heartbeat), so a flood cannot grow memory without bound.
 */
export const inboundRequestsMax = 4096;

/**
 * Pipelined AppendEntries travel as separate gRPC calls, so a later (smaller) one can overtake an
 * earlier one and arrive past the end of this follower's log. Stepped at once it would be
 * rejected and reset the leader's pipeline (a probe round, the entries sent twice). Instead it is
 * held until the earlier append fills the gap, at most `appendHoldTicksMax` ticks (about two
 * heartbeats), at most `appendsHeldMax` at a time. Holding is only a delay, which Raft tolerates.
 */
export const appendsHeldMax = 64;
export const appendHoldTicksMax = 10;

type RequestMessage = RequestVote | AppendEntries | InstallSnapshot;

/** An AppendEntries waiting for its gap to fill, with the RPC it answers and when it arrived. */
interface HeldAppend {
  readonly request: AppendEntries;
  readonly resolve: (m: Message | null) => void;
  readonly tick: number;
}
type ResponseType = 'requestVoteResponse' | 'appendEntriesResponse' | 'installSnapshotResponse';

interface ReplySlot {
  readonly seq: number;
  readonly resolve: (reply: Message | null) => void;
}

function responseTypeOf(request: RequestMessage): ResponseType {
  switch (request.type) {
    case 'requestVote':
      return 'requestVoteResponse';
    case 'appendEntries':
      return 'appendEntriesResponse';
    case 'installSnapshot':
      return 'installSnapshotResponse';
    default:
      return assertNever(request);
  }
}

function isResponse(message: Message): message is Extract<Message, { type: ResponseType }> {
  switch (message.type) {
    case 'requestVoteResponse':
    case 'appendEntriesResponse':
    case 'installSnapshotResponse':
      return true;
    case 'requestVote':
    case 'appendEntries':
    case 'installSnapshot':
    case 'timeoutNow':
      return false;
    default:
      return assertNever(message);
  }
}

/** Figures for status and benches. */
export interface DriverStats {
  readies: number;
  syncs: number;
  entriesPersisted: number;
  /** AppendEntries this node rejected (responses with success=false it sent, as a follower). */
  appendRejectionsSent: number;
  /** Rejections of its AppendEntries this node received (as a leader): each costs a probe round. */
  appendRejectionsReceived: number;
  /** AppendEntries that overtook an earlier one and were held until it arrived (or timed out). */
  appendsHeld: number;
}

export class RaftDriver {
  private running = false;
  private scheduled = false;
  private stopped = false;
  private stepSeq = 0;
  private slotCount = 0;
  private readonly slots = new Map<string, ReplySlot[]>();
  /** Term and vote last made durable: a hard state that only moves commitIndex need not wait for fsync. */
  private durableTerm: Term;
  private durableVote: NodeId | null;
  private idleWaiters: (() => void)[] = [];
  /** AppendEntries that arrived ahead of a gap in the log (see appendsHeldMax). */
  private held: HeldAppend[] = [];
  private ticks = 0;
  readonly stats: DriverStats = { readies: 0, syncs: 0, entriesPersisted: 0, appendRejectionsSent: 0, appendRejectionsReceived: 0, appendsHeld: 0 };

  constructor(
    private readonly core: RaftCore,
    private readonly storage: RaftStorageWriter,
    private readonly hooks: DriverHooks,
    initial: { term: Term; votedFor: NodeId | null },
  ) {
    this.durableTerm = initial.term;
    this.durableVote = initial.votedFor;
  }

  tick(): void {
    if (this.stopped) return;
    this.ticks++;
    this.core.tick();
    if (this.held.length > 0) this.releaseHeld();
    this.kick();
  }

  /** A response (or anything that needs no reply) from a peer. */
  step(message: Message): void {
    if (this.stopped) return;
    if (message.type === 'appendEntriesResponse' && !message.success) this.stats.appendRejectionsReceived++;
    this.core.step(message);
    this.kick();
  }

  /** An inbound RPC: resolves with the core's response, or null when it has none. */
  stepRequest(request: RequestMessage): Promise<Message | null> {
    if (this.stopped || this.slotCount >= inboundRequestsMax) return Promise.resolve(null);
    return new Promise((resolve) => {
      if (request.type === 'appendEntries' && this.held.length < appendsHeldMax && this.aheadOfLog(request, this.core.status())) {
        this.held.push({ request, resolve, tick: this.ticks });
        this.stats.appendsHeld++;
        return;
      }
      this.stepNow(request, resolve);
      if (this.held.length > 0) this.releaseHeld();
      this.kick();
    });
  }

  private stepNow(request: RequestMessage, resolve: (m: Message | null) => void): void {
    this.core.step(request);
    const key = slotKey(request.from, responseTypeOf(request));
    let queue = this.slots.get(key);
    if (queue === undefined) {
      queue = [];
      this.slots.set(key, queue);
    }
    queue.push({ seq: ++this.stepSeq, resolve });
    this.slotCount++;
  }

  /** An append from our current leader that starts past the end of our log: an overtaker. */
  private aheadOfLog(request: AppendEntries, s: CoreStatus): boolean {
    return s.role === 'follower' && s.leaderId === request.from && s.term === request.term && request.prevLogIndex > s.lastLogIndex;
  }

  /**
   * A held append is stepped once its gap has filled, or it no longer fits (term, leader, role),
   * or it waited appendHoldTicksMax ticks. The cost: when the filling append was really lost
   * (overload: the leader's in-flight window full, a deadline), the rejection that makes the
   * leader resend it comes up to that many ticks later. A shorter wait, or releasing on the
   * leader's next heartbeat round, gave back most of the rejections in bench:catchup, where a
   * follower restoring a snapshot stalls for longer than a round while the appends queue.
   */
  private shouldRelease(h: HeldAppend, s: CoreStatus): boolean {
    return this.ticks - h.tick >= appendHoldTicksMax || !this.aheadOfLog(h.request, s);
  }

  /** Shutdown: step every held append now, so no inbound RPC waits for a tick that never comes. */
  flushHeld(): void {
    for (const h of this.held.splice(0)) this.stepNow(h.request, h.resolve);
    this.kick();
  }

  /**
   * Steps every held append shouldRelease allows, in log order. Each step can grow the log and
   * so release the next one: the core's status is read once per step, not once per held append.
   */
  private releaseHeld(): void {
    this.held.sort((a, b) => a.request.prevLogIndex - b.request.prevLogIndex);
    while (this.held.length > 0) {
      const s = this.core.status();
      const i = this.held.findIndex((h) => this.shouldRelease(h, s));
      if (i < 0) return;
      const [h] = this.held.splice(i, 1);
      this.stepNow(h!.request, h!.resolve);
    }
  }

  propose(data: Uint8Array, timestampMs: number): ProposeResult {
    assert(!this.stopped, 'propose after stop');
    const result = this.core.propose(data, timestampMs);
    if (result.ok) this.kick();
    return result;
  }

  readIndex(requestId: string): ReadIndexResult {
    assert(!this.stopped, 'readIndex after stop');
    const result = this.core.readIndex(requestId);
    if (result.ok) this.kick();
    return result;
  }

  campaign(): void {
    this.core.campaign();
    this.kick();
  }

  /** The transport lost its connection to `peer` (a crashed leader is replaced sooner). */
  peerDisconnected(peer: NodeId): void {
    if (this.stopped) return;
    this.core.leaderUnreachable?.(peer);
    this.kick();
  }

  /**
   * The snapshotter saved `snapshot` durably: let the core compact its log below `compactTo`.
   * Skipped if the core has not applied that far (it cannot have been advanced yet).
   */
  compact(snapshot: SnapshotMeta, compactTo: LogIndex): void {
    if (this.stopped || this.core.compact === undefined) return;
    if (snapshot.index > this.core.status().lastApplied) return;
    this.core.compact(snapshot, compactTo);
  }

  /** The configuration in effect; a core without membership (test fakes) has its voters. */
  membership(): Membership {
    return this.core.membership?.() ?? initialMembership(this.core.status().voters);
  }

  /** The configuration in effect at `index` (a snapshot's metadata). */
  membershipAt(index: LogIndex): Membership {
    return this.core.membershipAt?.(index) ?? this.membership();
  }

  /** A membership change (see RaftNode.proposeMembershipChange). */
  proposeMembershipChange(change: MembershipChange, timestampMs: number): MembershipProposeResult {
    assert(!this.stopped, 'proposeMembershipChange after stop');
    assert(this.core.proposeMembershipChange !== undefined, 'this Raft core cannot change membership');
    const result = this.core.proposeMembershipChange(change, timestampMs);
    if (result.type === 'accepted') this.kick();
    return result;
  }

  /** Leadership transfer to `to` (see RaftNode.transferLeadership). */
  transferLeadership(to: NodeId): TransferResult {
    if (this.core.transferLeadership === undefined) return { ok: false, reason: 'unknownMember' };
    const result = this.core.transferLeadership(to);
    this.kick();
    return result;
  }

  status(): CoreStatus {
    return this.core.status();
  }

  /** Stops the loop after the Ready in flight; pending inbound RPCs resolve null. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const h of this.held.splice(0)) h.resolve(null);
    await this.idle();
    this.resolveSlots(Number.MAX_SAFE_INTEGER);
  }

  /** Resolves once no Ready is being processed (tests, shutdown). */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private kick(): void {
    if (this.running || this.scheduled || this.stopped) return;
    this.scheduled = true;
    // setImmediate rather than a microtask: requests that arrive in the same I/O phase join the batch.
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (!this.stopped && this.core.hasReady()) {
        const covered = this.stepSeq;
        const ready = this.core.ready();
        // Decided before persist() starts: it moves durableTerm/durableVote once synced.
        const sendEarly = this.maySendAppendsBeforeSync(ready);
        // Start this Ready's writes and fsync first (persist runs synchronously up to its fsync).
        const persisted = this.persist(ready);
        // Handled here too: if applying throws first, its failure is the one reported.
        persisted.catch(() => undefined);
        // The leader replicates in parallel with its own fsync (Raft thesis §10.2.1, as etcd
        // does): followers receive, store and ack while our disk works, so a write costs
        // max(leader fsync, round trip + follower fsync) instead of their sum. Safe because
        // nothing this Ready's entries commit is exposed before they are durable here: a commit
        // covering them can only be computed from acks to these very messages, i.e. after this
        // point, so it reaches clients and followers in a later Ready, which runs after this
        // fsync. Responses, votes and anything after a term/vote change still wait for the fsync.
        let late = ready.messages;
        if (sendEarly) {
          const rest: Message[] = [];
          for (const message of ready.messages) {
            if (message.type === 'appendEntries') this.hooks.send(message);
            else rest.push(message);
          }
          late = rest;
        }
        // Committed entries that earlier Readies persisted are durable on a majority already:
        // apply them (answering their clients) while this Ready's fsync runs rather than after it,
        // which would add one fsync to every write's latency under load.
        const early = durableCommittedCount(ready);
        if (early > 0) this.hooks.apply(early === ready.committed.length ? ready.committed : ready.committed.slice(0, early));
        await persisted;
        this.send(late);
        this.resolveSlots(covered);
        if (ready.committed.length > early) this.hooks.apply(early === 0 ? ready.committed : ready.committed.slice(early));
        if (ready.readStates.length > 0) this.hooks.readStates(ready.readStates);
        this.core.advance(ready);
        this.stats.readies++;
        this.hooks.afterReady();
      }
      // Nothing left to emit: every request stepped so far got whatever reply it will get.
      this.resolveSlots(this.stepSeq);
    } catch (error) {
      this.stopped = true;
      this.hooks.fatal(error);
    } finally {
      this.running = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /**
   * True when this Ready's AppendEntries may leave before its fsync: no snapshot to install first
   * and no term or vote change to make durable (a leader's messages must never outrun the term
   * they carry on its own disk).
   */
  private maySendAppendsBeforeSync(ready: Ready): boolean {
    if ((ready.snapshot ?? null) !== null) return false;
    const hardState = ready.hardState;
    return hardState === null || (hardState.term === this.durableTerm && hardState.votedFor === this.durableVote);
  }

  private async persist(ready: Ready): Promise<void> {
    if (ready.snapshot !== null) {
      // Before the entries, which continue after it (its save syncs everything staged before it).
      assert(this.hooks.installSnapshot !== undefined, 'a Ready carries a snapshot but the driver cannot install one');
      await this.hooks.installSnapshot(ready.snapshot);
    }
    const hardState = ready.hardState;
    let mustSync = ready.entries.length > 0;
    // Entries before the hard state: the WAL keeps records in call order and a torn tail keeps a
    // prefix, so a saved commitIndex can never cover a suffix whose replacement was lost.
    if (ready.entries.length > 0) this.storage.append(ready.entries);
    if (hardState !== null) {
      this.storage.setHardState(hardState);
      // Term and vote must be durable before any message leaves; commitIndex may be lost safely.
      if (hardState.term !== this.durableTerm || hardState.votedFor !== this.durableVote) mustSync = true;
    }
    if (!mustSync) return;
    await this.storage.sync();
    this.stats.syncs++;
    this.stats.entriesPersisted += ready.entries.length;
    if (hardState !== null) {
      this.durableTerm = hardState.term;
      this.durableVote = hardState.votedFor;
    }
  }

  private send(messages: readonly Message[]): void {
    for (const message of messages) {
      if (message.type === 'appendEntriesResponse' && !message.success) this.stats.appendRejectionsSent++;
      if (!isResponse(message)) {
        this.hooks.send(message);
        continue;
      }
      const queue = this.slots.get(slotKey(message.to, message.type));
      const slot = queue?.shift();
      // No waiting call (it was dropped or answered already): the peer retries, nothing to do.
      if (slot === undefined) continue;
      this.slotCount--;
      slot.resolve(message);
    }
  }

  /** Every slot stepped at or before `seq` that is still open gets no reply. */
  private resolveSlots(seq: number): void {
    for (const [key, queue] of this.slots) {
      while (queue.length > 0 && queue[0]!.seq <= seq) {
        queue.shift()!.resolve(null);
        this.slotCount--;
      }
      if (queue.length === 0) this.slots.delete(key);
    }
  }
}

/**
 * How many of `ready.committed` (a prefix) were persisted by earlier Readies: those below the
 * first entry this Ready persists. Entries of this Ready itself wait for its fsync (in a
 * single-voter cluster they commit on append, before anything is durable). A Ready that installs
 * a snapshot applies nothing early: its committed entries continue from the snapshot.
 */
function durableCommittedCount(ready: Ready): number {
  // `?? null`: a Ready built before snapshots existed (test fakes) has no such field at all.
  if ((ready.snapshot ?? null) !== null || ready.committed.length === 0) return 0;
  const firstNew = ready.entries[0]?.index ?? Number.POSITIVE_INFINITY;
  let n = 0;
  while (n < ready.committed.length && ready.committed[n]!.index < firstNew) n++;
  return n;
}

function slotKey(peer: NodeId, type: ResponseType): string {
  return `${peer}\u0000${type}`;
}
