/**
 * A tiny hand-driven cluster for the Raft scenario tests: RaftNodes over MemoryStorage, a message
 * queue the test delivers (all, or by predicate), blocked links for partitions, crash/restart
 * from what was persisted, and safety checks on every Ready (one leader per term, identical
 * applied entries per index). Synchronous driver: persist, send, apply, advance.
 */
import {
  MemoryStorage,
  RaftNode,
  SeededRng,
  defaultRaftConfig,
  type LogEntry,
  type Message,
  type NodeId,
  type RaftConfig,
  type ReadState,
  type Ready,
} from '../../src/raft/index.js';

export interface HarnessOptions {
  readonly ids?: readonly NodeId[];
  readonly seed?: number;
  readonly config?: Partial<Omit<RaftConfig, 'id' | 'voters'>>;
  /** Pre-filled storage per node (crafted logs). */
  readonly storages?: ReadonlyMap<NodeId, MemoryStorage>;
}

interface Slot {
  node: RaftNode;
  storage: MemoryStorage;
  up: boolean;
  restarts: number;
  /** Entries applied since the last (re)start, in order. */
  applied: LogEntry[];
  readStates: ReadState[];
}

const stabilizeRoundsMax = 100_000;

export class Harness {
  /** Every node in the harness: the initial voters, then nodes added with `addNode`. */
  readonly ids: NodeId[];
  /** The initial voters (RaftConfig.voters of every node but those added later). */
  readonly initialIds: readonly NodeId[];
  readonly seed: number;
  queue: Message[] = [];
  /** Every message delivered to a node, in delivery order. */
  readonly delivered: Message[] = [];
  /** Every Ready processed, per node (for contract checks). */
  readonly readies = new Map<NodeId, Ready[]>();
  private readonly slots = new Map<NodeId, Slot>();
  private readonly blocked = new Set<string>();
  /** Cluster-wide: the entry applied at each index by anyone (state machine safety). */
  private readonly appliedByIndex = new Map<number, LogEntry>();
  /** Cluster-wide: the leader seen in each term (election safety). */
  private readonly leaderByTerm = new Map<number, NodeId>();
  private readonly config: Partial<Omit<RaftConfig, 'id' | 'voters'>>;

  constructor(options: HarnessOptions = {}) {
    this.initialIds = options.ids ?? ['a', 'b', 'c'];
    this.ids = [...this.initialIds];
    this.seed = options.seed ?? 1;
    this.config = options.config ?? {};
    for (const id of this.ids) {
      const storage = options.storages?.get(id) ?? new MemoryStorage();
      this.slots.set(id, { node: this.build(id, storage, 0), storage, up: true, restarts: 0, applied: [], readStates: [] });
      this.readies.set(id, []);
    }
  }

  configFor(id: NodeId): RaftConfig {
    // A node added later joins with no configuration (`--join`): it takes one from the log.
    return { ...defaultRaftConfig(id, this.initialIds.includes(id) ? this.initialIds : []), ...this.config };
  }

  /** Starts a fresh node `id` that joins the running cluster (empty RaftConfig.voters, empty storage). */
  addNode(id: NodeId): RaftNode {
    if (this.slots.has(id)) throw new Error(`node ${id} exists`);
    this.ids.push(id);
    const storage = new MemoryStorage();
    const node = this.build(id, storage, 0);
    this.slots.set(id, { node, storage, up: true, restarts: 0, applied: [], readStates: [] });
    this.readies.set(id, []);
    return node;
  }

  private build(id: NodeId, storage: MemoryStorage, restarts: number): RaftNode {
    const salt = this.ids.indexOf(id) * 7919 + restarts * 104_729;
    return new RaftNode(this.configFor(id), storage, new SeededRng(this.seed + salt));
  }

  private slot(id: NodeId): Slot {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new Error(`no node ${id}`);
    return slot;
  }

  node(id: NodeId): RaftNode {
    return this.slot(id).node;
  }

  storage(id: NodeId): MemoryStorage {
    return this.slot(id).storage;
  }

  applied(id: NodeId): readonly LogEntry[] {
    return this.slot(id).applied;
  }

  readStates(id: NodeId): readonly ReadState[] {
    return this.slot(id).readStates;
  }

  isUp(id: NodeId): boolean {
    return this.slot(id).up;
  }

  upIds(): NodeId[] {
    return this.ids.filter((id) => this.slot(id).up);
  }

  /** The single leader among live nodes with the highest term, or null. */
  leader(): NodeId | null {
    let best: NodeId | null = null;
    let bestTerm = -1;
    for (const id of this.upIds()) {
      const status = this.node(id).status();
      if (status.role === 'leader' && status.term > bestTerm) {
        best = id;
        bestTerm = status.term;
      }
    }
    return best;
  }

  // ---- network --------------------------------------------------------------------------------

  private linkOpen(from: NodeId, to: NodeId): boolean {
    return !this.blocked.has(`${from}->${to}`);
  }

  /** Cuts every link between `id` and the rest, both ways. */
  isolate(id: NodeId): void {
    for (const other of this.ids) {
      if (other === id) continue;
      this.blocked.add(`${id}->${other}`);
      this.blocked.add(`${other}->${id}`);
    }
  }

  /** Cuts all links between the two groups, both ways. */
  partition(groupA: readonly NodeId[], groupB: readonly NodeId[]): void {
    for (const a of groupA) {
      for (const b of groupB) {
        this.blocked.add(`${a}->${b}`);
        this.blocked.add(`${b}->${a}`);
      }
    }
  }

  heal(): void {
    this.blocked.clear();
  }

  /** Step a message straight into its target (crafted, duplicated or held back by the test). */
  inject(message: Message): void {
    // A node named in a configuration but never started (or a typo'd id) is unreachable.
    const slot = this.slots.get(message.to);
    if (slot === undefined || !slot.up) return;
    this.delivered.push(message);
    slot.node.step(message);
  }

  /** Takes the queued messages matching `predicate` out of the queue (held back by the test). */
  take(predicate: (message: Message) => boolean): Message[] {
    const taken = this.queue.filter(predicate);
    this.queue = this.queue.filter((message) => !predicate(message));
    return taken;
  }

  /** Drops queued messages matching `predicate`. */
  drop(predicate: (message: Message) => boolean): number {
    return this.take(predicate).length;
  }

  /** Delivers the currently queued messages (matching `predicate`) once; returns how many. */
  deliver(predicate: (message: Message) => boolean = () => true): number {
    const batch = this.take(predicate);
    for (const message of batch) {
      if (this.linkOpen(message.from, message.to)) this.inject(message);
    }
    return batch.length;
  }

  // ---- driver ---------------------------------------------------------------------------------

  /** The synchronous driver loop for one node: persist, send, apply, advance. */
  processReady(id: NodeId): boolean {
    const slot = this.slot(id);
    if (!slot.up || !slot.node.hasReady()) return false;
    const ready = slot.node.ready();
    this.readies.get(id)!.push(ready);
    // An installed snapshot replaces the state machine: applying resumes after its index.
    if (ready.snapshot !== null) slot.applied = [];
    slot.storage.persist(ready);
    for (const message of ready.messages) {
      if (this.linkOpen(message.from, message.to)) this.queue.push(message);
    }
    for (const entry of ready.committed) this.recordApplied(id, slot, entry);
    slot.readStates.push(...ready.readStates);
    slot.node.advance(ready);
    this.checkElectionSafety(id);
    return true;
  }

  processAll(): boolean {
    let any = false;
    for (const id of this.ids) any = this.processReady(id) || any;
    return any;
  }

  /** Processes Readies and delivers messages until the cluster is quiet. */
  stabilize(predicate?: (message: Message) => boolean): void {
    for (let round = 0; round < stabilizeRoundsMax; round++) {
      const processed = this.processAll();
      const delivered = this.deliver(predicate);
      if (!processed && delivered === 0) return;
      if (!processed && predicate !== undefined && this.queue.every((m) => !predicate(m))) return;
    }
    throw new Error('cluster did not stabilize');
  }

  /** Ticks every live node (or `ids`) `count` times, stabilizing after each tick. */
  tick(count = 1, ids: readonly NodeId[] = this.ids): void {
    for (let i = 0; i < count; i++) {
      for (const id of ids) if (this.slot(id).up) this.node(id).tick();
      this.stabilize();
    }
  }

  /** Ticks until `condition` holds; returns the ticks taken, throws after `ticksMax`. */
  tickUntil(condition: () => boolean, ticksMax: number, ids: readonly NodeId[] = this.ids): number {
    for (let ticks = 0; ticks <= ticksMax; ticks++) {
      if (condition()) return ticks;
      this.tick(1, ids);
    }
    throw new Error(`condition not reached within ${ticksMax} ticks`);
  }

  /** Elects `id` by campaigning it and stabilizing. */
  elect(id: NodeId): void {
    this.node(id).campaign();
    this.stabilize();
    const status = this.node(id).status();
    if (status.role !== 'leader') throw new Error(`${id} did not win: ${status.role} in term ${status.term}`);
  }

  /** Proposes `count` commands on `id` (which must lead), stabilizing every `batch`. */
  propose(id: NodeId, count: number, tag = 'x', batch = 256): void {
    for (let i = 0; i < count; i++) {
      const result = this.node(id).propose(new TextEncoder().encode(`${tag}${i}`), 1_000 + i);
      if (!result.ok) throw new Error(`proposal refused: ${result.reason}`);
      if ((i + 1) % batch === 0) this.stabilize();
    }
    this.stabilize();
  }

  // ---- crashes --------------------------------------------------------------------------------

  /** The node stops; what it persisted stays, messages to and from it in flight are lost. */
  crash(id: NodeId): void {
    const slot = this.slot(id);
    slot.up = false;
    this.queue = this.queue.filter((message) => message.to !== id && message.from !== id);
  }

  /** Restarts from storage; the in-memory state machine is gone, so applied restarts empty. */
  restart(id: NodeId): void {
    const slot = this.slot(id);
    slot.restarts++;
    slot.node = this.build(id, slot.storage, slot.restarts);
    slot.up = true;
    slot.applied = [];
    slot.readStates = [];
  }

  // ---- checks ---------------------------------------------------------------------------------

  private recordApplied(id: NodeId, slot: Slot, entry: LogEntry): void {
    const previous = slot.applied.at(-1);
    const expected = previous === undefined ? slot.storage.firstIndex() : previous.index + 1;
    if (entry.index !== expected) throw new Error(`${id} applied ${entry.index}, expected ${expected}`);
    slot.applied.push(entry);
    const other = this.appliedByIndex.get(entry.index);
    if (other === undefined) this.appliedByIndex.set(entry.index, entry);
    else if (other.term !== entry.term || !sameBytes(other.data, entry.data)) {
      throw new Error(`state machine safety: ${id} applied ${entry.index}@${entry.term}, another node ${other.index}@${other.term}`);
    }
  }

  private checkElectionSafety(id: NodeId): void {
    const status = this.node(id).status();
    if (status.role !== 'leader') return;
    const other = this.leaderByTerm.get(status.term);
    if (other !== undefined && other !== id) throw new Error(`two leaders in term ${status.term}: ${other} and ${id}`);
    this.leaderByTerm.set(status.term, id);
  }

  /** Entry (index, term) pairs of a node's log, for comparing logs. */
  logOf(id: NodeId): string[] {
    const storage = this.storage(id);
    return storage.entries(storage.firstIndex(), storage.lastIndex() + 1).map((e) => `${e.index}@${e.term}`);
  }

  /** Has any node ever applied the entry at `index` with `term`? */
  everApplied(index: number, term: number): boolean {
    const entry = this.appliedByIndex.get(index);
    return entry !== undefined && entry.term === term;
  }

  /** Rejections (AppendEntries responses with success=false) delivered from `from` since `since`. */
  rejectionsFrom(from: NodeId, since = 0): number {
    return this.delivered
      .slice(since)
      .filter((m) => m.type === 'appendEntriesResponse' && m.from === from && !m.success).length;
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

/** Builds a crafted log in storage: `runs` is a list of [term, count] runs from index 1. */
export function craftedStorage(runs: readonly (readonly [number, number])[], hardTerm: number, commitIndex = 0): MemoryStorage {
  const storage = new MemoryStorage();
  const entries: LogEntry[] = [];
  for (const [term, count] of runs) {
    for (let i = 0; i < count; i++) {
      const index = entries.length + 1;
      entries.push({ index, term, type: 'command', timestampMs: index, data: new TextEncoder().encode(`t${term}i${index}`) });
    }
  }
  storage.append(entries);
  storage.setHardState({ term: hardTerm, votedFor: null, commitIndex });
  return storage;
}
