/**
 * A cluster of 3 or 5 RaftNodes on a simulated network and simulated disks, driven by virtual
 * ticks. One `step()` is one tick:
 *   1. (fault phase) the FaultSchedule may crash / restart a node, partition, heal, campaign;
 *   2. deliver the messages due now;
 *   3. tick every live node;
 *   4. (fault phase) the ClientWorkload may propose to whoever leads, or ask for a read point;
 *   5. handle every Ready in the contract order persist -> send -> apply -> advance, until none
 *      is left (a crash may strike in the middle, losing what was not yet synced or sent);
 *   6. run the checkers on every live node.
 * Nothing here reads a clock or Math.random: the seed decides everything.
 */
import type { LogEntry, Message, NodeId, Ready, RoleKind, SnapshotMeta, Term } from '../../src/raft/types.js';
import { memberIds, snapshotMembershipFields, voterIds, type Membership, type MembershipChange } from '../../src/raft/membership.js';
import type { Rng } from '../../src/raft/rng.js';
import { assert } from '../../src/raft/assert.js';
import { SafetyChecker } from './checkers.js';
import { Prng } from './prng.js';
import { FaultSchedule, type CrashPoint, type FaultTarget } from './sim-faults.js';
import { SimNetwork, type NetworkFaults } from './sim-network.js';
import { SimStorage, type SimSnapshotData } from './sim-storage.js';
import { foldEntry, initialSimState } from './sim-state.js';
import { freezeReady } from './ready-freeze.js';
import { SimTrace } from './sim-trace.js';
import { ClientWorkload, type WorkloadTarget } from './sim-workload.js';
import type { CoreTuning, Scenario } from './sim-scenario.js';
import type { SimRaftNode } from './sim-types.js';

/** Builds a fresh node over (possibly non-empty) storage: at start and after every restart. */
export type NodeFactory = (id: NodeId, voters: readonly NodeId[], tuning: CoreTuning, storage: SimStorage, rng: Rng) => SimRaftNode;

/** Rounds of Ready handling per step before the cluster is declared stuck (a core bug). */
export const readyRoundsMax = 32;

/** Virtual milliseconds per tick, for proposal timestamps. */
export const tickMs = 100;

/** Nodes membership changes may add beyond the initial ones (fresh ids, never reused). */
export const addedNodesMax = 4;
/** Most nodes in one simulation, initial and added. */
export const nodesMax = 9;

interface Slot {
  readonly id: NodeId;
  /** Added by a membership change: started with no configuration (`--join`), also on restart. */
  readonly joiner: boolean;
  readonly storage: SimStorage;
  /** This node's clock offset: proposals are stamped with now * tickMs + skewMs. */
  readonly skewMs: number;
  node: SimRaftNode | null;
  lifetime: number;
  role: RoleKind | 'down';
  term: Term;
  /** Crash at this point of the next Ready. */
  crashAt: CrashPoint | null;
  /** A crashed node scheduled to reboot at this tick (0 = not scheduled). */
  restartAt: number;
  /** The liveness marker has been applied (or installed with a snapshot) in this lifetime. */
  markerApplied: boolean;
  /** The state machine: the fold of every entry applied, or the snapshot it was restored from. */
  state: SimSnapshotData;
}

/** Counters for the run summary. */
export interface ClusterStats {
  crashes: number;
  restarts: number;
  proposals: number;
  proposalsAccepted: number;
  reads: number;
  readsConfirmed: number;
  readies: number;
  leaderChanges: number;
  /** Readies whose entries replaced a stored suffix (a follower's conflicting tail). */
  truncations: number;
  /** Crashes inside a Ready, by crash point. */
  crashesMidReady: number;
  /** Nodes restarted with a non-empty log. */
  recoveries: number;
  /** Snapshots taken locally (each followed by a compaction). */
  snapshotsTaken: number;
  /** Snapshots installed from a leader (Ready.snapshot). */
  snapshotsInstalled: number;
  /** Membership changes asked of a leader, and those it accepted (appended). */
  membershipProposals: number;
  membershipChanges: number;
  /** Accepted changes that removed the leader itself. */
  leaderRemovals: number;
}

/** A simulated Raft cluster. */
export class SimCluster implements FaultTarget, WorkloadTarget {
  /** Every node ever started: the initial ones, then those added by membership changes. */
  readonly ids: NodeId[];
  /** The initial voters (RaftConfig.voters of every node not added later). */
  readonly initialIds: readonly NodeId[];
  readonly checker = new SafetyChecker();
  readonly trace: SimTrace;
  readonly network: SimNetwork;
  readonly faults: FaultSchedule;
  readonly clients: ClientWorkload;
  readonly stats: ClusterStats = { crashes: 0, restarts: 0, proposals: 0, proposalsAccepted: 0, reads: 0, readsConfirmed: 0, readies: 0, leaderChanges: 0, truncations: 0, crashesMidReady: 0, recoveries: 0, snapshotsTaken: 0, snapshotsInstalled: 0, membershipProposals: 0, membershipChanges: 0, leaderRemovals: 0 };
  /** The current virtual tick. */
  now = 0;
  /** Bytes that mark the liveness proposal. */
  readonly marker: Uint8Array;
  /** Read ids confirmed so far that the driver asked to watch (the liveness read). */
  private readonly watchedReads = new Map<string, boolean>();
  private readonly slots = new Map<NodeId, Slot>();
  private readonly rng: Prng;
  private readSeq = 0;
  private faultsOn = false;
  /**
   * Every snapshot saved anywhere, by "index/term": the bytes the transport would stream for an
   * InstallSnapshot (a snapshot's state is determined by its index, the checker verifies that).
   */
  private readonly snapshotStates = new Map<string, SimSnapshotData>();
  /** Where the liveness marker was applied, once some node applied it. */
  private markerIndex: number | null = null;

  constructor(seed: number, nodeCount: number, readonly scenario: Scenario, private readonly factory: NodeFactory, traceCapacity?: number) {
    assert(nodeCount >= 1 && nodeCount <= 9, `nodeCount must be in [1, 9], got ${nodeCount}`);
    this.trace = new SimTrace(traceCapacity);
    this.rng = new Prng(seed);
    this.network = new SimNetwork(this.rng.fork(), scenario.network);
    this.faults = new FaultSchedule(this, this.rng, scenario.faults);
    this.clients = new ClientWorkload(this, this.rng, scenario.faults);
    this.initialIds = Array.from({ length: nodeCount }, (_, i) => `n${i + 1}`);
    this.ids = [];
    this.marker = new TextEncoder().encode(`liveness-marker-${seed}`);
    for (const id of this.initialIds) this.addNode(id, false);
  }

  /** Creates and starts node `id` (a joiner starts with no configuration). */
  private addNode(id: NodeId, joiner: boolean): void {
    assert(!this.slots.has(id), `node ${id} exists`);
    const skewMax = this.scenario.faults.clockSkewMsMax;
    const skewMs = skewMax === 0 ? 0 : this.rng.intBetween(-skewMax, skewMax);
    const slot: Slot = { id, joiner, storage: new SimStorage(), skewMs, node: null, lifetime: 0, role: 'down', term: 0, crashAt: null, restartAt: 0, markerApplied: false, state: initialSimState };
    this.ids.push(id);
    this.slots.set(id, slot);
    this.start(slot);
  }

  // ---- the driver's view ----------------------------------------------------------------------

  /** One virtual tick. `faults` enables the fault schedule and random client traffic. */
  step(faults: boolean): void {
    this.now++;
    this.checker.now = this.now;
    this.faultsOn = faults;
    if (faults) this.faults.inject();
    for (const m of this.network.takeDue(this.now)) this.deliver(m);
    for (const s of this.slots.values()) this.guard(s, () => s.node?.tick());
    if (faults) this.clients.step();
    if (faults && this.scenario.snapshots.transfer > 0 && this.rng.chance(this.scenario.snapshots.transfer)) this.transferLeadership();
    if (faults && this.scenario.membership.change > 0 && this.rng.chance(this.scenario.membership.change)) this.changeMembership();
    this.drainReadies();
    this.observeAll();
  }

  /** Ids of the nodes that are up. */
  liveIds(): NodeId[] {
    return this.ids.filter((id) => this.slots.get(id)!.node !== null);
  }

  /** The role seen at the end of the last step ('down' while crashed). */
  roleOf(id: NodeId): RoleKind | 'down' {
    return this.slot(id).role;
  }

  /** The live node reporting leadership in the highest term, if any. */
  leader(): { id: NodeId; term: Term } | null {
    let best: { id: NodeId; term: Term } | null = null;
    for (const s of this.slots.values()) {
      if (s.node !== null && s.role === 'leader' && (best === null || s.term > best.term)) best = { id: s.id, term: s.term };
    }
    return best;
  }

  /** Propose `data` to the current leader; returns whether a leader accepted it. */
  proposeToLeader(data: Uint8Array): boolean {
    const leader = this.leader();
    return leader !== null && this.proposeTo(this.slot(leader.id), data);
  }

  /** Ask the current leader for a read point and watch for its confirmation; returns the request id or null. */
  readFromLeader(): string | null {
    const leader = this.leader();
    if (leader === null) return null;
    const requestId = this.requestRead(this.slot(leader.id));
    if (requestId !== null) this.watchedReads.set(requestId, false);
    return requestId;
  }

  /** Whether a read returned by `readFromLeader` has been confirmed. */
  readConfirmed(requestId: string): boolean {
    return this.watchedReads.get(requestId) === true;
  }

  /** The configuration in effect on the current leader, or null without a leader. */
  leaderMembership(): Membership | null {
    const leader = this.leader();
    return leader === null ? null : this.slot(leader.id).node?.membership() ?? null;
  }

  /**
   * Whether a leader that is a voter of its own configuration exists and every member of that
   * configuration (voters and learners) is up and has applied the liveness marker. Removed nodes
   * and joiners whose addition was lost are not members: they need not have it.
   */
  markerAppliedEverywhere(): boolean {
    const leader = this.leader();
    const membership = this.leaderMembership();
    if (leader === null || membership === null || !voterIds(membership).includes(leader.id)) return false;
    return memberIds(membership).every((id) => {
      const s = this.slots.get(id);
      return s !== undefined && s.node !== null && s.markerApplied;
    });
  }

  /** Entries some node may still have to receive: highest stored index minus lowest commitIndex. */
  backlog(): number {
    let high = 0;
    let low = Number.MAX_SAFE_INTEGER;
    for (const s of this.slots.values()) {
      high = Math.max(high, s.storage.lastIndex());
      low = Math.min(low, s.node?.status().commitIndex ?? s.storage.hardState().commitIndex);
    }
    return Math.max(0, high - low);
  }

  /** End every fault: heal the network, calm it, restart every crashed node. */
  healAll(calm: NetworkFaults): void {
    this.network.heal();
    this.network.faults = calm;
    for (const s of this.slots.values()) {
      s.crashAt = null;
      if (s.node === null) this.start(s);
    }
    this.trace.note(this.now, null, 'heal all: network calm, all nodes up');
  }

  /** A one-line status per node, for reports. */
  describeNodes(): string[] {
    return [...this.slots.values()].map((s) => {
      if (s.node === null) return `${s.id}: down (log ${s.storage.lastIndex()}, term ${s.storage.hardState().term})`;
      const st = s.node.status();
      const learners = st.membership.learners.map((m) => m.id);
      return `${s.id}: ${st.role} term=${st.term} leader=${String(st.leaderId)} commit=${st.commitIndex} applied=${st.lastApplied} last=${st.lastLogIndex} ` +
        `voters=${st.voters.join(',') || '-'}${learners.length > 0 ? ` learners=${learners.join(',')}` : ''}${s.joiner ? ' (joiner)' : ''}`;
    });
  }

  // ---- faults (FaultTarget) -------------------------------------------------------------------

  crash(id: NodeId): void {
    const s = this.slot(id);
    if (s.node !== null) this.kill(s, 'between steps');
  }

  crashDuring(id: NodeId, point: CrashPoint): void {
    const s = this.slot(id);
    if (s.node === null) return;
    s.crashAt = point;
    this.trace.note(this.now, id, `will crash at ${point} of its next Ready`);
  }

  restartAt(id: NodeId, at: number): void {
    const s = this.slot(id);
    if (at <= this.now) {
      if (s.node === null) this.start(s);
    } else {
      s.restartAt = at;
    }
  }

  rebootDue(): void {
    for (const s of this.slots.values()) {
      if (s.node === null && s.restartAt !== 0 && s.restartAt <= this.now) this.start(s);
    }
  }

  campaign(id: NodeId): void {
    const s = this.slot(id);
    this.guard(s, () => s.node?.campaign());
  }

  // ---- clients (WorkloadTarget) ------------------------------------------------------------------

  proposeAt(id: NodeId, data: Uint8Array): boolean {
    return this.proposeTo(this.slot(id), data);
  }

  readAt(id: NodeId): string | null {
    return this.requestRead(this.slot(id));
  }

  private requestRead(s: Slot): string | null {
    const node = s.node;
    if (node === null) return null;
    const requestId = `r${++this.readSeq}`;
    let accepted = false;
    this.guard(s, () => {
      this.checker.readRequested(s.id, requestId);
      this.stats.reads++;
      accepted = node.readIndex(requestId).ok;
      if (accepted) this.trace.note(this.now, s.id, `readIndex ${requestId}`);
    });
    return accepted ? requestId : null;
  }

  private proposeTo(s: Slot, data: Uint8Array): boolean {
    const node = s.node;
    if (node === null) return false;
    this.stats.proposals++;
    let accepted = false;
    this.guard(s, () => {
      const r = node.propose(data, Math.max(0, this.now * tickMs + s.skewMs));
      if (r.ok) {
        accepted = true;
        this.stats.proposalsAccepted++;
        this.trace.note(this.now, s.id, `propose ${data.length}B -> ${r.index}/${r.term}`);
      }
    });
    return accepted;
  }

  // ---- the Ready loop ---------------------------------------------------------------------------

  private deliver(m: Message): void {
    const s = this.slots.get(m.to);
    assert(s !== undefined, `message to unknown node ${m.to}`);
    if (s.node === null) return;
    this.trace.deliver(this.now, m);
    this.guard(s, () => s.node?.step(m));
  }

  private drainReadies(): void {
    for (let round = 0; ; round++) {
      let any = false;
      for (const s of this.slots.values()) {
        const node = s.node;
        if (node === null) continue;
        this.guard(s, () => {
          if (node.hasReady()) {
            any = true;
            this.handleReady(s, node, node.ready());
          }
        });
      }
      if (!any) return;
      if (round >= readyRoundsMax) {
        this.checker.report('readyUnsettled', null, `still hasReady() after ${readyRoundsMax} rounds without new input`);
        return;
      }
    }
  }

  /** The Ready contract: persist (durably) -> send -> apply -> advance, with crashes in between. */
  private handleReady(s: Slot, node: SimRaftNode, rd: Ready): void {
    this.stats.readies++;
    freezeReady(rd);
    const crashAt = s.crashAt;
    if (crashAt !== null) this.stats.crashesMidReady++;
    if (crashAt === 'beforePersist') return this.kill(s, crashAt);
    if (rd.snapshot !== null) this.installSnapshot(s, rd.snapshot);
    const before = s.storage.hardState();
    const lastBefore = s.storage.lastIndex();
    const first = rd.entries[0]?.index ?? lastBefore + 1;
    const replaced = first <= lastBefore ? s.storage.entries(first, lastBefore + 1) : [];
    if (replaced.length > 0) this.stats.truncations++;
    if (rd.hardState !== null) s.storage.setHardState(rd.hardState);
    s.storage.append(rd.entries);
    if (crashAt === 'unsynced') return this.kill(s, crashAt);
    s.storage.syncNow();
    this.checker.persisted(s.id, before, rd.hardState, rd.entries, replaced, s.storage);
    const sendCount = crashAt === 'midSend' ? this.rng.nextInt(rd.messages.length + 1) : rd.messages.length;
    for (let i = 0; i < sendCount; i++) {
      const m = rd.messages[i]!;
      if (m.type === 'appendEntries') this.checker.sentAsLeader(s.id, m.term);
      this.network.send(m, this.now);
    }
    if (crashAt === 'midSend') return this.kill(s, `${crashAt} after ${sendCount}/${rd.messages.length} messages`);
    this.apply(s, rd.committed);
    for (const rs of rd.readStates) {
      this.stats.readsConfirmed++;
      this.trace.note(this.now, s.id, `read ${rs.requestId} confirmed at ${rs.index}`);
      this.checker.readConfirmed(s.id, rs, s.storage);
      if (this.watchedReads.has(rs.requestId)) this.watchedReads.set(rs.requestId, true);
    }
    if (crashAt === 'beforeAdvance') return this.kill(s, crashAt);
    assert(crashAt === null, `unhandled crash point ${String(crashAt)}`);
    if (this.faultsOn && rd.messages.some(isGrantedVote) && this.rng.chance(this.scenario.faults.crashAfterVote)) {
      // Probe vote persistence: a node that forgot its vote would grant a second one after this.
      s.restartAt = this.now + 1;
      return this.kill(s, 'right after granting a vote');
    }
    node.advance(rd);
    this.maybeSnapshot(s, node);
  }

  private apply(s: Slot, committed: readonly LogEntry[]): void {
    if (committed.length === 0) return;
    this.checker.applied(s.id, committed, s.storage);
    for (const e of committed) {
      s.state = foldEntry(s.state, e);
      if (!s.markerApplied && sameBytes(e.data, this.marker)) {
        s.markerApplied = true;
        this.markerIndex ??= e.index;
      }
    }
  }

  /** Ready.snapshot: save it with the bytes "the transport received", restore the state machine from it. */
  private installSnapshot(s: Slot, meta: SnapshotMeta): void {
    const data = this.snapshotStates.get(`${meta.index}/${meta.term}`);
    assert(data !== undefined, `${s.id} installs snapshot ${meta.index}/${meta.term} that no node saved`);
    s.storage.saveSnapshot(meta, data);
    s.state = data;
    this.stats.snapshotsInstalled++;
    this.trace.note(this.now, s.id, `installed snapshot ${meta.index}/${meta.term}`);
    this.checker.snapshotInstalled(s.id, meta, data);
    this.noteMarkerIn(s);
  }

  /** The node's own snapshot policy: every `every` applied entries, then compact keeping `trailing`. */
  private maybeSnapshot(s: Slot, node: SimRaftNode): void {
    const policy = this.scenario.snapshots;
    if (policy.every === 0) return;
    const applied = node.status().lastApplied;
    if (applied - s.storage.snapshotIndex() < policy.every) return;
    const term = s.storage.term(applied);
    assert(term !== undefined, `${s.id} has no term for applied index ${applied}`);
    const timestampMs = s.storage.entry(applied)?.timestampMs ?? 0;
    const meta: SnapshotMeta = { index: applied, term, timestampMs, ...snapshotMembershipFields(node.membershipAt(applied)) };
    s.storage.saveSnapshot(meta, s.state);
    this.snapshotStates.set(`${meta.index}/${meta.term}`, s.state);
    this.stats.snapshotsTaken++;
    this.checker.snapshotTaken(s.id, meta, s.state);
    node.compact(meta, Math.max(0, applied - policy.trailing));
  }

  /** The leader hands over to a random other node (leadership transfer in the fault mix). */
  private transferLeadership(): void {
    const leader = this.leader();
    if (leader === null || this.ids.length < 2) return;
    // Mostly a voter of its configuration; sometimes anyone (a non-voter must be refused).
    const voters = voterIds(this.leaderMembership() ?? { voters: [], learners: [] });
    const pool = this.rng.chance(0.8) ? voters : this.ids;
    const others = pool.filter((id) => id !== leader.id);
    if (others.length === 0) return;
    const to = others[this.rng.nextInt(others.length)]!;
    const s = this.slot(leader.id);
    this.guard(s, () => {
      if (s.node?.transferLeadership(to).ok === true) this.trace.note(this.now, s.id, `transfer leadership to ${to}`);
    });
  }

  /**
   * An operator's membership change on the leader: add a fresh node as a learner (started at once
   * as a joiner with no configuration), promote a learner, remove a learner or a voter (sometimes
   * the leader itself). The policy keeps the voter count around the initial one, and ids are
   * never reused. The core decides whether the change may go in now.
   */
  private changeMembership(): void {
    const leader = this.leader();
    if (leader === null) return;
    const s = this.slot(leader.id);
    const node = s.node;
    if (node === null) return;
    let added: NodeId | null = null;
    this.guard(s, () => {
      const change = this.pickChange(leader.id, node.membership());
      if (change === null) return;
      this.stats.membershipProposals++;
      const r = node.proposeMembershipChange(change, Math.max(0, this.now * tickMs + s.skewMs));
      const what = change.type === 'addLearner' ? `addLearner ${change.id}` : `${change.type} ${change.id}`;
      if (r.type !== 'accepted') {
        this.trace.note(this.now, s.id, `membership ${what} refused: ${r.type === 'rejected' ? r.reason : r.type}`);
        return;
      }
      this.stats.membershipChanges++;
      if (change.type === 'remove' && change.id === leader.id) this.stats.leaderRemovals++;
      this.trace.note(this.now, s.id, `membership ${what} -> ${r.index}: voters ${voterIds(r.membership).join(',')} learners ${r.membership.learners.map((m) => m.id).join(',') || '-'}`);
      if (change.type === 'addLearner') added = change.id;
    });
    if (added !== null) this.addNode(added, true);
  }

  private pickChange(leaderId: NodeId, membership: Membership): MembershipChange | null {
    const voters = voterIds(membership);
    const learners = membership.learners.map((m) => m.id);
    if (learners.length > 0) {
      const id = this.rng.pick(learners);
      return this.rng.chance(0.85) ? { type: 'promote', id } : { type: 'remove', id };
    }
    const canAdd = this.ids.length < Math.min(nodesMax, this.initialIds.length + addedNodesMax);
    if (canAdd && (voters.length < this.initialIds.length || this.rng.chance(0.3))) {
      const id = `n${this.ids.length + 1}`;
      return { type: 'addLearner', id, address: `sim-${id}:7000` };
    }
    if (voters.length > 1 && (voters.length >= this.initialIds.length || this.rng.chance(0.2))) {
      return { type: 'remove', id: this.rng.chance(0.3) ? leaderId : this.rng.pick(voters) };
    }
    return null;
  }

  /** A snapshot past the marker holds it: the node has it applied. */
  private noteMarkerIn(s: Slot): void {
    if (this.markerIndex !== null && s.storage.snapshotIndex() >= this.markerIndex) s.markerApplied = true;
  }

  private observeAll(): void {
    for (const s of this.slots.values()) {
      const node = s.node;
      if (node === null) continue;
      this.guard(s, () => {
        const st = node.status();
        this.checker.observe(s.id, st, s.storage);
        if (st.role !== s.role || st.term !== s.term) {
          if (st.role === 'leader') this.stats.leaderChanges++;
          this.trace.note(this.now, s.id, `${st.role} term=${st.term} commit=${st.commitIndex} last=${st.lastLogIndex}`);
          s.role = st.role;
          s.term = st.term;
        }
      });
    }
  }

  // ---- node lifecycle ---------------------------------------------------------------------------

  private start(s: Slot): void {
    assert(s.node === null, `${s.id} is already running`);
    s.lifetime++;
    s.crashAt = null;
    s.restartAt = 0;
    s.markerApplied = false;
    s.state = s.storage.snapshotData() ?? initialSimState;
    this.noteMarkerIn(s);
    s.role = 'follower';
    s.term = s.storage.hardState().term;
    if (s.lifetime > 1) this.stats.restarts++;
    if (s.storage.lastIndex() > 0) this.stats.recoveries++;
    this.trace.note(this.now, s.id, `start #${s.lifetime} (log ${s.storage.lastIndex()}, term ${s.storage.hardState().term}, commit ${s.storage.hardState().commitIndex})`);
    this.guard(s, () => {
      const node = this.factory(s.id, s.joiner ? [] : this.initialIds, this.scenario.tuning, s.storage, this.rng.fork());
      s.node = node;
      this.checker.nodeStarted(s.id, s.lifetime, node.status(), s.storage);
    });
  }

  private kill(s: Slot, why: string): void {
    this.stats.crashes++;
    s.node = null;
    s.crashAt = null;
    s.role = 'down';
    s.storage.crash();
    this.checker.nodeCrashed(s.id);
    this.trace.note(this.now, s.id, `CRASH (${why})`);
  }

  private slot(id: NodeId): Slot {
    const s = this.slots.get(id);
    assert(s !== undefined, `no node ${id}`);
    return s;
  }

  /** Run a call into the core; an exception is a bug in the core, reported as a violation. */
  private guard(s: Slot, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      const where = e.stack?.split('\n').slice(1, 4).map((l) => l.trim()).join(' < ') ?? '';
      this.checker.report('coreThrew', s.id, `${e.name}: ${e.message} at ${where}`);
      // A node that threw is dead: the runtime would crash the process.
      if (s.node !== null) this.kill(s, 'threw');
    }
  }
}

function isGrantedVote(m: Message): boolean {
  return m.type === 'requestVoteResponse' && m.voteGranted && !m.preVote;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
