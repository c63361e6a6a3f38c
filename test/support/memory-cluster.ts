/**
 * In-process cluster of ExchangeNodes over the real RaftNode, MemoryStorage and an in-memory
 * transport with cuttable links: fast runtime tests without processes or sockets. Each node ticks
 * from its own interval (real time), messages are delivered on setImmediate.
 */
import { ExchangeNode, type NodeLimits } from '../../src/node/exchange-node.js';
import { projectExchange } from '../../src/node/start-node.js';
import { encodeCommand } from '../../domain/index.js';
import { MemoryStorage, RaftNode, SeededRng, defaultRaftConfig } from '../../src/raft/index.js';
import type { Message, NodeId } from '../../src/raft/types.js';

const silent = { info: () => undefined, debug: () => undefined, warn: () => undefined, error: () => undefined };

export interface MemoryClusterOptions {
  readonly nodes?: number;
  readonly seed?: number;
  /** Real milliseconds per tick. */
  readonly tickMs?: number;
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  readonly limits?: NodeLimits;
}

export class MemoryCluster {
  readonly nodes = new Map<NodeId, ExchangeNode>();
  /** Links cut in both directions: `a|b` with a < b. */
  private readonly cut = new Set<string>();
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  readonly fatals: unknown[] = [];

  constructor(private readonly options: MemoryClusterOptions = {}) {
    const count = options.nodes ?? 3;
    const ids = Array.from({ length: count }, (_, i) => `n${i + 1}`);
    const seed = options.seed ?? 1;
    const tickMs = options.tickMs ?? 5;
    const electionTicks = options.electionTicks ?? 20;
    ids.forEach((id, i) => {
      const storage = new MemoryStorage();
      const config = { ...defaultRaftConfig(id, ids), electionTicks, heartbeatTicks: options.heartbeatTicks ?? 3 };
      const node = new ExchangeNode({
        selfId: id,
        core: new RaftNode(config, storage, new SeededRng(seed * 1000 + i)),
        storage,
        durable: storage.hardState(),
        members: ids.map((m) => ({ id: m, address: `mem:${m}`, voter: true })),
        projection: projectExchange,
        encode: encodeCommand,
        send: (message) => this.deliver(message),
        askLeader: async (leaderId, deadlineMs) => {
          const leader = this.nodes.get(leaderId);
          if (leader === undefined || this.isCut(id, leaderId)) return { readIndex: 0, leaderId: null };
          const answer = await leader.onReadIndex(id, deadlineMs);
          return { readIndex: answer.readIndex, leaderId: answer.leaderId || null };
        },
        leaderWaitMs: 2 * electionTicks * tickMs * 2,
        logger: silent,
        limits: options.limits,
        onFatal: (error) => this.fatals.push(error),
      });
      this.nodes.set(id, node);
      this.timers.push(setInterval(() => node.tick(), tickMs));
    });
  }

  node(id: NodeId): ExchangeNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Cuts (or heals) the link between a and b. */
  setLink(a: NodeId, b: NodeId, up: boolean): void {
    const key = a < b ? `${a}|${b}` : `${b}|${a}`;
    if (up) this.cut.delete(key);
    else this.cut.add(key);
  }

  /** Cuts every link of `id`. */
  isolate(id: NodeId, isolated = true): void {
    for (const other of this.nodes.keys()) if (other !== id) this.setLink(id, other, !isolated);
  }

  isCut(a: NodeId, b: NodeId): boolean {
    return this.cut.has(a < b ? `${a}|${b}` : `${b}|${a}`);
  }

  /** The leader, once every node connected to it (and not excluded) agrees on it. */
  async waitForLeader(timeoutMs = 5000, exclude: readonly NodeId[] = []): Promise<NodeId> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const candidates = [...this.nodes].filter(([id]) => !exclude.includes(id));
      const leader = candidates.find(([, node]) => node.status().role === 'leader');
      if (leader !== undefined) {
        const [leaderId, leaderNode] = leader;
        const term = leaderNode.status().term;
        const agreed = candidates.every(([id, node]) => this.isCut(id, leaderId) || (node.status().leaderId === leaderId && node.status().term === term));
        if (agreed) return leaderId;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error(`no agreed leader within ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    await Promise.all([...this.nodes.values()].map((n) => n.stop()));
  }

  private deliver(message: Message): void {
    const from = message.from;
    const to = message.to;
    if (this.isCut(from, to)) return;
    setImmediate(() => {
      const target = this.nodes.get(to);
      if (target === undefined || this.isCut(from, to)) return;
      void target.onPeerRequest(message).then((response) => {
        if (response === null || this.isCut(from, to)) return;
        this.nodes.get(from)?.onPeerResponse(response);
      });
    });
  }
}
