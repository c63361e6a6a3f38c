/**
 * Assembles and starts one node: durable storage, the Raft core, the exchange rebuilt from the
 * committed log, peer clients, the gRPC server (peer + client + cluster services, health,
 * reflection) and the clock. `raftex node` calls `startNode`; tests may call it in-process.
 */
import { randomInt } from 'node:crypto';
import { existsSync } from 'node:fs';
import { pino, type Logger } from 'pino';
import { Observable } from 'rxjs';
import { Exchange, decodeCommand, encodeCommand, type Command } from '../../domain/index.js';
import { clusterServiceImpl } from '../api/cluster-service.js';
import { exchangeServiceImpl } from '../api/exchange-service.js';
import { LeaderForwarder } from '../api/leader-forwarder.js';
import { ClusterServiceService } from '../gen/raftex/v1/cluster.js';
import { ExchangeServiceService } from '../gen/raftex/v1/exchange.js';
import { RaftNode, SeededRng, defaultRaftConfig } from '../raft/index.js';
import { assert } from '../raft/assert.js';
import type { LogEntry, NodeId } from '../raft/types.js';
import { DiskStorage } from '../storage/index.js';
import { ExchangeProjection, type CommittedCommand } from '../exchange/exchange-projection.js';
import { GrpcServer } from '../transport/grpc-server.js';
import { PeerClients } from '../transport/peer-clients.js';
import { Clock, defaultTiming, ticksFor, type TimingOptions } from './clock.js';
import { ExchangeNode, type NodeLimits, type NodeProjection } from './exchange-node.js';
import { defaultSnapshotPolicy, type SnapshotPolicy } from './snapshotter.js';

/**
 * How long a stopping leader waits for its leadership transfer (part of the 5 s SIGTERM budget):
 * a rolling restart then has no election gap. Past it the node stops anyway.
 */
export const transferOnStopMsMax = 2_000;

/** How long SIGTERM waits for in-flight calls before cutting them (part of the 5 s budget). */
export const serverStopGraceMs = 1_000;

const nodeIdPattern = /^[A-Za-z0-9._:-]{1,64}$/;

export interface StartNodeOptions {
  readonly id: NodeId;
  /** host:port to bind (port 0 = ephemeral, tests). */
  readonly listen: string;
  /**
   * The OTHER members: id -> address this node sends to. Without `join` they are the initial
   * voters; with `join` they only give addresses (the configuration comes from the leader).
   * Either way an entry overrides the address the configuration holds for that member.
   */
  readonly peers: ReadonlyMap<NodeId, string>;
  /**
   * Start with no configuration (empty voters) and wait to be added by AddMember: the leader's
   * log or snapshot brings the configuration. On a restart the stored log already has it.
   */
  readonly join?: boolean;
  readonly dataDir: string;
  readonly timing?: TimingOptions;
  readonly logger?: Logger;
  readonly limits?: NodeLimits;
  /** When to snapshot and compact (default: every 100,000 entries, keeping 10,000). */
  readonly snapshotPolicy?: SnapshotPolicy;
  /**
   * Serialise snapshots on a worker thread that keeps a shadow copy of the state (shadow-state.ts)
   * instead of pausing this one. It costs a second apply of every entry: worth it with a core to
   * spare; on the 2-core box running all three nodes it cost 7-9% of the C64 throughput.
   */
  readonly snapshotWorker?: boolean;
  /** The worker script for `snapshotWorker` (default: the compiled one beside this module; tests point at dist/). */
  readonly snapshotWorkerUrl?: URL;
}

export interface RunningNode {
  readonly node: ExchangeNode;
  /** The bound port. */
  readonly port: number;
  /** Resolves (never rejects) if the node hit an unrecoverable error (persisting failed). */
  readonly fatal: Promise<unknown>;
  /** Clean shutdown: stop accepting, close the server, peers and storage. */
  stop(): Promise<void>;
}

/** The node's pino logger: JSON lines on stdout, `node` field on every line. */
export function createNodeLogger(id: NodeId, level: string): Logger {
  return pino({ level, base: { node: id } });
}

/** Parses `--peers n2=127.0.0.1:7002,n3=127.0.0.1:7003` (empty = no peers). */
export function parsePeers(text: string): Map<NodeId, string> {
  const peers = new Map<NodeId, string>();
  for (const part of text.split(',').map((p) => p.trim()).filter((p) => p !== '')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`--peers entry ${JSON.stringify(part)} is not id=host:port`);
    const id = part.slice(0, eq);
    const address = part.slice(eq + 1);
    if (!nodeIdPattern.test(id)) throw new Error(`--peers: invalid node id ${JSON.stringify(id)}`);
    if (!/^.+:\d{1,5}$/.test(address)) throw new Error(`--peers: address of ${id} is not host:port: ${JSON.stringify(address)}`);
    if (peers.has(id)) throw new Error(`--peers lists ${id} twice`);
    peers.set(id, address);
  }
  return peers;
}

/** Starts a node and resolves once it listens; see the file comment. */
export async function startNode(options: StartNodeOptions): Promise<RunningNode> {
  const { id, peers } = options;
  if (!nodeIdPattern.test(id)) throw new Error(`invalid node id ${JSON.stringify(id)}`);
  if (peers.has(id)) throw new Error(`--peers must list the OTHER members, not ${id} itself`);
  const logger = options.logger ?? createNodeLogger(id, 'info');
  const timing = ticksFor(options.timing ?? defaultTiming);
  const electionTimeoutMs = timing.electionTicks * timing.tickMs;

  const storage = await DiskStorage.open(options.dataDir, {
    warn: (warning) => logger.warn({ warning }, 'storage recovery warning'),
  });
  const hardState = storage.hardState();
  // Restart: the state machine starts from the newest snapshot; only the WAL tail is replayed.
  const initialSnapshot = storage.snapshot() === null ? null : await storage.loadSnapshot();
  assert(storage.snapshot() === null || initialSnapshot?.meta.index === storage.snapshot()?.index, 'the snapshot the log starts after cannot be read');
  const join = options.join === true;
  const voters = join ? [] : [id, ...peers.keys()].sort();
  const config = { ...defaultRaftConfig(id, voters), electionTicks: timing.electionTicks, heartbeatTicks: timing.heartbeatTicks };
  const core = new RaftNode(config, storage, new SeededRng(randomInt(2 ** 32)));

  let server: GrpcServer | null = null;
  let resolveFatal: (error: unknown) => void = () => undefined;
  const fatal = new Promise<unknown>((resolve) => (resolveFatal = resolve));
  // Built before the node so the node can send; the node is assigned right after.
  let node: ExchangeNode | null = null;
  const peerClients = new PeerClients(peers, (message) => node?.onPeerResponse(message), {
    selfId: id,
    loadSnapshot: () => storage.loadSnapshot(),
    logger: logger.child({ component: 'peers' }),
    onDisconnected: (peer) => node?.driver.peerDisconnected(peer),
  });
  const shadowWorker = options.snapshotWorker === true ? options.snapshotWorkerUrl ?? compiledShadowWorker() : undefined;
  if (options.snapshotWorker === true && shadowWorker === undefined) {
    logger.warn({}, '--snapshot-worker needs the compiled build (dist/); capturing snapshots inline');
  }
  node = new ExchangeNode({
    selfId: id,
    core,
    storage,
    durable: hardState,
    members: [{ id, address: options.listen, voter: true }, ...[...peers].map(([pid, address]) => ({ id: pid, address, voter: true }))],
    // The peers follow the configuration: a client for each new member, closed for a removed one.
    onMembership: (_membership, current) => peerClients.setPeers(current),
    projection: projectExchange,
    initialSnapshot,
    snapshots: { sink: storage, policy: options.snapshotPolicy ?? defaultSnapshotPolicy },
    shadowWorker,
    encode: encodeCommand,
    send: (message) => peerClients.send(message),
    askLeader: async (leaderId, deadlineMs) => {
      try {
        const answer = await peerClients.readIndex(leaderId, Math.max(1, deadlineMs - Date.now()));
        return { readIndex: answer.readIndex, leaderId: answer.leaderId === '' ? null : answer.leaderId };
      } catch (error) {
        logger.debug({ leaderId, err: String(error) }, 'ReadIndex from leader failed');
        return { readIndex: 0, leaderId: null };
      }
    },
    leaderWaitMs: 2 * electionTimeoutMs,
    logger,
    limits: options.limits,
    onServing: () => server?.setServing(true),
    onFatal: (error) => resolveFatal(error),
  });
  const exchangeNode = node;

  // The core hands every committed entry after the snapshot out again in its first Ready, so the
  // driver's first batch rebuilds the exchange from the snapshot plus the WAL tail.
  logger.info({
    term: hardState.term, commitIndex: hardState.commitIndex, lastLogIndex: storage.lastIndex(),
    snapshotIndex: initialSnapshot?.meta.index ?? 0,
  }, 'storage recovered');

  server = new GrpcServer({
    onMessage: (message) => exchangeNode.onPeerRequest(message),
    onSnapshot: (message, data) => exchangeNode.onPeerSnapshot(message, data),
    onReadIndex: (from) => exchangeNode.onReadIndex(from, Date.now() + 2 * electionTimeoutMs),
  }, { selfId: id, logger: logger.child({ component: 'grpc' }) });
  const forwarder = new LeaderForwarder();
  server.addService(ExchangeServiceService, exchangeServiceImpl(exchangeNode, { forwarder, leaderWaitMs: 2 * electionTimeoutMs }));
  server.addService(ClusterServiceService, clusterServiceImpl(exchangeNode, { forwarder, leaderWaitMs: 2 * electionTimeoutMs }));
  const port = await server.start(options.listen);

  const clock = new Clock(timing.tickMs, () => exchangeNode.tick());
  clock.start();
  // A single-node cluster has no one to wait for: elect itself now rather than after a timeout
  // (a restart is SERVING as soon as the WAL tail is applied).
  const startMembership = exchangeNode.membership();
  if (startMembership.voters.length === 1 && startMembership.voters[0]?.id === id) exchangeNode.driver.campaign();
  logger.info({ listen: options.listen, port, peers: Object.fromEntries(peers), join, ...timing }, 'node started');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (exchangeNode.membership().voters.length > 1 && exchangeNode.status().role === 'leader') {
        // Hand over first, while still serving: only requests in flight right now may fail.
        const wait = Math.min(transferOnStopMsMax, 3 * electionTimeoutMs);
        try {
          const moved = await exchangeNode.transferLeadership(null, Date.now() + wait);
          logger.info({ leader: moved.leaderId, term: moved.term }, 'leadership handed over before stopping');
        } catch (error) {
          logger.warn({ err: String(error) }, 'leadership transfer before stopping failed; stopping anyway');
        }
      }
      clock.stop();
      // Held AppendEntries wait for ticks, and there will be none: answer them now.
      exchangeNode.driver.flushHeld();
      await server.stop(serverStopGraceMs);
      await exchangeNode.stop();
      forwarder.close();
      peerClients.close();
      // Persist the lazily written commit index too: a restart then replays further at once.
      await storage.sync().catch(() => undefined);
      await storage.close();
      // Group-commit figures: entries per fsync is the batching the driver achieved.
      logger.info({
        ...exchangeNode.driver.stats,
        lastApplied: exchangeNode.lastApplied,
        peers: Object.fromEntries(peerClients.stats()),
      }, 'node stopped');
    })();
    return stopping;
  };
  return { node: exchangeNode, port, fatal, stop };
}

/**
 * The exchange over the committed log: command entries are decoded and folded by the
 * ExchangeProjection; noop/config entries only move the exchange's applied index (which the
 * state hash covers, so replicas at the same last_applied hash equal).
 */
export function projectExchange(entries$: Observable<LogEntry>, snapshot?: Uint8Array): NodeProjection {
  const exchange = snapshot === undefined ? new Exchange() : Exchange.restore(snapshot);
  // One hop per entry rather than a tap/filter/map chain: this runs for every entry on every node.
  const commands$ = new Observable<CommittedCommand>((subscriber) => entries$.subscribe({
    next: (entry) => {
      if (entry.type !== 'command') {
        exchange.advanceTo(entry.index);
        return;
      }
      let command: Command;
      try {
        command = decodeCommand(entry.data);
      } catch (error) {
        // As an operator would: the projection errors and the node stops (corrupt entry).
        subscriber.error(error);
        return;
      }
      subscriber.next({ index: entry.index, timestampMs: entry.timestampMs, command });
    },
    error: (error: unknown) => subscriber.error(error),
    complete: () => subscriber.complete(),
  }));
  const projection = new ExchangeProjection(commands$, exchange);
  projection.connect();
  return projection;
}

/**
 * The compiled shadow-state worker beside this module, or undefined when running from TypeScript
 * sources (tests in-process: a worker thread cannot load .ts without a loader), which then
 * capture snapshots inline.
 */
function compiledShadowWorker(): URL | undefined {
  if (!import.meta.url.endsWith('.js')) return undefined;
  const url = new URL('./shadow-worker.js', import.meta.url);
  return existsSync(url) ? url : undefined;
}
