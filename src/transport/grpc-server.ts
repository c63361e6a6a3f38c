/**
 * The node's one gRPC port (the seed's gRPCServer): the Raft peer service bound to a
 * `PeerHandler`, whatever services the API layer adds (ExchangeService, ClusterService),
 * `grpc.health.v1.Health` and server reflection built from `proto/`.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, protoPath as healthProtoPath } from 'grpc-health-check';
import type { InstallSnapshot, Message } from '../raft/types.js';
import {
  AppendEntriesRequest as WireAppendEntriesRequest,
  AppendEntriesResponse as WireAppendEntriesResponse,
  type AppendEntriesStreamRequest as WireAppendEntriesStreamRequest,
  type AppendEntriesStreamResponse as WireAppendEntriesStreamResponse,
  InstallSnapshotResponse as WireInstallSnapshotResponse,
  TimeoutNowResponse as WireTimeoutNowResponse,
  RaftServiceService,
  RequestVoteResponse as WireRequestVoteResponse,
  type RaftServiceServer,
} from '../gen/raftex/v1/raft.js';
import {
  appendEntriesFromWire,
  appendEntriesResponseToWire,
  MessageDecodeError,
  requestVoteFromWire,
  requestVoteResponseToWire,
  installSnapshotResponseToWire,
  timeoutNowFromWire,
} from './message-codec.js';
import { receiveSnapshot, SnapshotStreamError } from './snapshot-transfer.js';
import { noopLogger, type TransportLogger } from './transport-logger.js';
import { guardMalformedRequests, malformedRequestStatus } from './malformed-request-guard.js';

/**
 * Largest message the server accepts. Peer AppendEntries batches can be large (the Raft core's
 * bytesPerAppendMax bounds them); client requests are tiny, so one generous limit serves both.
 */
export const serverReceiveBytesMax = 64 * 1024 * 1024;
/** AppendEntries of one replication stream being handled at once before the stream is not read. */
export const appendStreamPendingMax = 256;
/** The proto files served by reflection, relative to the proto root. */
export const reflectedProtoFiles: readonly string[] = [
  'raftex/v1/raft.proto',
  'raftex/v1/exchange.proto',
  'raftex/v1/cluster.proto',
];
/** Health's own service name, and the key that stands for the whole server in the health map. */
const healthServiceName = 'grpc.health.v1.Health';
const wholeServer = '';

/** What the node runtime answers peers with. */
export interface PeerHandler {
  /**
   * Steps the core with a request message from a peer and resolves with the response message to
   * return (a RequestVoteResponse for a RequestVote, an AppendEntriesResponse for an
   * AppendEntries), or null when there is none: the peer then gets the empty default response,
   * which its PeerClients drop. A rejection becomes UNAVAILABLE (or its numeric `code`).
   */
  onMessage(message: Message): Promise<Message | null>;
  /** A follower's ReadIndex: resolve once leadership is confirmed for the returned index. */
  onReadIndex(from: string): Promise<{ readIndex: number; leaderId: string }>;
  /**
   * A snapshot that arrived whole over InstallSnapshot: step the core with `message` once the
   * node holds `data`, resolve with the InstallSnapshotResponse (or null). Absent: UNIMPLEMENTED.
   */
  onSnapshot?(message: InstallSnapshot, data: Uint8Array): Promise<Message | null>;
}

export interface GrpcServerOptions {
  readonly logger?: TransportLogger;
  /** When set, peer requests addressed to another id are refused (a `--peers` mix-up). */
  readonly selfId?: string;
  /** Defaults to the nearest `proto/` directory above this file (works from src/ and dist/). */
  readonly protoDir?: string;
  readonly receiveBytesMax?: number;
}

/** One grpc-js Server on one port; see the file comment. */
export class GrpcServer {
  private readonly server: grpc.Server;
  private readonly health: HealthImplementation;
  private readonly logger: TransportLogger;
  /** Services whose health follows setServing (all but Health itself). */
  private readonly serviceNames: string[] = [];
  private serving = false;
  private boundPort: number | null = null;

  constructor(private readonly peerHandler: PeerHandler, private readonly options: GrpcServerOptions = {}) {
    this.logger = options.logger ?? noopLogger;
    this.server = new grpc.Server({
      'grpc.max_receive_message_length': options.receiveBytesMax ?? serverReceiveBytesMax,
      // Find clients whose host vanished (an idle StreamTrades subscriber) and free their streams.
      'grpc.keepalive_time_ms': 30_000,
      'grpc.keepalive_timeout_ms': 10_000,
      // Channelz keeps per-call counters and timestamps on every call: measurable CPU per order,
      // and nothing here reads it.
      'grpc.enable_channelz': 0,
    });
    this.health = new HealthImplementation({ [wholeServer]: 'NOT_SERVING' });
    this.health.addToServer(this.server);
    const protoDir = options.protoDir ?? findProtoDir(dirname(fileURLToPath(import.meta.url)));
    new ReflectionService(loadReflectedProtos(protoDir)).addToServer(this.server);
    this.addService(RaftServiceService, this.raftService());
  }

  /**
   * Adds a service (the API layer's ExchangeService, ClusterService). Its health status follows
   * setServing. Call before start() so no client sees UNIMPLEMENTED in between.
   */
  addService(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void {
    this.server.addService(...guardMalformedRequests(definition, implementation));
    const name = serviceNameOf(definition);
    if (name !== null && name !== healthServiceName) {
      this.serviceNames.push(name);
      this.health.setStatus(name, this.serving ? 'SERVING' : 'NOT_SERVING');
    }
  }

  /** Health of the whole server and every added service: SERVING or NOT_SERVING. */
  setServing(serving: boolean): void {
    if (serving === this.serving) return;
    this.serving = serving;
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    this.health.setStatus(wholeServer, status);
    for (const name of this.serviceNames) this.health.setStatus(name, status);
    this.logger.info({ serving }, 'health status changed');
  }

  /** Binds `host:port` (port 0 = ephemeral) and resolves with the bound port. */
  start(listen: string): Promise<number> {
    if (this.boundPort !== null) return Promise.reject(new Error(`server already listening on port ${this.boundPort}`));
    if (!/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/.test(listen)) {
      return Promise.reject(new Error(`listen address ${JSON.stringify(listen)} is not host:port`));
    }
    return new Promise((resolve, reject) => {
      this.server.bindAsync(listen, grpc.ServerCredentials.createInsecure(), (error, port) => {
        if (error) {
          reject(error);
          return;
        }
        this.boundPort = port;
        this.disableNagle();
        this.logger.info({ listen, port }, 'gRPC server listening');
        resolve(port);
      });
    });
  }

  /**
   * grpc-js turns Nagle's algorithm off on its client sockets but not on the ones its server
   * accepts, so a small reply (an AppendEntries ack) waits for the peer's delayed ACK: ~40 ms per
   * replication round trip. grpc-js exposes no option for it, so reach its listening http2
   * servers and set TCP_NODELAY on every accepted socket.
   */
  private disableNagle(): void {
    const listeners = (this.server as unknown as { http2Servers?: Map<NodeJS.EventEmitter, unknown> }).http2Servers;
    if (listeners === undefined) {
      this.logger.warn({}, 'grpc-js internals changed: cannot set TCP_NODELAY on accepted sockets');
      return;
    }
    for (const listener of listeners.keys()) {
      listener.on('connection', (socket: { setNoDelay?: (on: boolean) => void }) => socket.setNoDelay?.(true));
    }
  }

  /** The bound port, or null before start(). */
  port(): number | null {
    return this.boundPort;
  }

  /**
   * Stops accepting calls, lets running calls finish for up to `graceMs`, then cuts the rest
   * (streams such as StreamTrades and Health.Watch never finish on their own).
   */
  stop(graceMs = 1000): Promise<void> {
    this.setServing(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.logger.debug({ graceMs }, 'gRPC server grace period over, forcing shutdown');
        this.server.forceShutdown();
        resolve();
      }, graceMs);
      this.server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The RaftService implementation: decode, hand to the PeerHandler, encode its answer. */
  private raftService(): RaftServiceServer {
    return {
      requestVote: (call, callback) => {
        this.servePeer(call.request, requestVoteFromWire, callback, WireRequestVoteResponse.create(),
          (m) => (m.type === 'requestVoteResponse' ? requestVoteResponseToWire(m) : null));
      },
      appendEntries: (call, callback) => {
        this.servePeer(call.request, appendEntriesFromWire, callback, WireAppendEntriesResponse.create(),
          (m) => (m.type === 'appendEntriesResponse' ? appendEntriesResponseToWire(m) : null));
      },
      installSnapshot: (call, callback) => {
        const onSnapshot = this.peerHandler.onSnapshot?.bind(this.peerHandler);
        if (onSnapshot === undefined) {
          callback({ code: grpc.status.UNIMPLEMENTED, details: 'this node does not install snapshots' });
          return;
        }
        receiveSnapshot(call).then(
          ({ message, data }) => {
            const selfId = this.options.selfId;
            if (selfId !== undefined && message.to !== selfId) {
              callback({ code: grpc.status.FAILED_PRECONDITION, details: `this is node ${selfId}, not ${message.to}` });
              return;
            }
            this.logger.info({ from: message.from, index: message.meta.index, bytes: data.byteLength }, 'snapshot received');
            return onSnapshot(message, data).then((response) => {
              if (response === null) callback(null, WireInstallSnapshotResponse.create());
              else if (response.type !== 'installSnapshotResponse') callback({ code: grpc.status.INTERNAL, details: `no reply for a snapshot: ${response.type}` });
              else callback(null, installSnapshotResponseToWire(response));
            });
          },
        ).catch((error: unknown) => {
          this.logger.warn({ err: String(error) }, 'snapshot transfer refused');
          callback(error instanceof SnapshotStreamError ? { code: error.code, details: error.message } : handlerStatus(error));
        });
      },
      timeoutNow: (call, callback) => {
        this.servePeer(call.request, timeoutNowFromWire, callback, WireTimeoutNowResponse.create(), () => WireTimeoutNowResponse.create());
      },
      appendEntriesStream: (call) => this.serveAppendStream(call),
      readIndex: (call, callback) => {
        this.peerHandler.onReadIndex(call.request.from).then(
          (result) => callback(null, result),
          (error: unknown) => callback(handlerStatus(error)),
        );
      },
    };
  }

  /**
   * The replication stream: each AppendEntries goes through the same handler as the unary call and
   * its answer (if any) goes back on the stream. At most `appendStreamPendingMax` are being handled
   * at once; beyond that the stream is not read, so a leader outrunning this node's disk is held
   * back by HTTP/2 flow control. A message that does not decode, or is addressed to another node,
   * ends the stream: the sender is broken or misconfigured, and its next message opens a new one.
   */
  private serveAppendStream(call: grpc.ServerDuplexStream<WireAppendEntriesStreamRequest, WireAppendEntriesStreamResponse>): void {
    let pending = 0;
    let paused = false;
    let clientDone = false;
    let closed = false;
    const fail = (status: Partial<grpc.StatusObject>): void => {
      if (closed) return;
      closed = true;
      this.logger.warn({ code: status.code, details: status.details }, 'replication stream refused');
      call.emit('error', status);
    };
    const settle = (): void => {
      pending--;
      if (paused && !closed && pending <= appendStreamPendingMax >> 1) {
        paused = false;
        call.resume();
      }
      if (clientDone && pending === 0 && !closed) {
        closed = true;
        call.end();
      }
    };
    call.on('data', (request: WireAppendEntriesStreamRequest) => {
      if (closed) return;
      const malformed = malformedRequestStatus(request);
      if (malformed !== null) {
        fail(malformed);
        return;
      }
      let message: Message;
      try {
        message = appendEntriesFromWire(request.append ?? WireAppendEntriesRequest.create());
      } catch (e) {
        if (!(e instanceof MessageDecodeError)) throw e;
        fail({ code: grpc.status.INVALID_ARGUMENT, details: e.message });
        return;
      }
      const selfId = this.options.selfId;
      if (selfId !== undefined && message.to !== selfId) {
        fail({ code: grpc.status.FAILED_PRECONDITION, details: `this is node ${selfId}, not ${message.to}` });
        return;
      }
      pending++;
      if (!paused && pending >= appendStreamPendingMax) {
        paused = true;
        call.pause();
      }
      this.peerHandler.onMessage(message).then(
        (response) => {
          if (!closed && response !== null) {
            if (response.type === 'appendEntriesResponse') call.write({ response: appendEntriesResponseToWire(response) });
            else this.logger.warn({ request: message.type, response: response.type }, 'peer handler answered with the wrong message type');
          }
          settle();
        },
        (error: unknown) => {
          // No answer: the leader treats it as lost and resends, as after a failed unary call.
          this.logger.debug({ from: message.from, err: String(error) }, 'peer handler failed');
          settle();
        },
      );
    });
    call.on('end', () => {
      clientDone = true;
      if (pending === 0 && !closed) {
        closed = true;
        call.end();
      }
    });
    const close = (): void => {
      closed = true;
    };
    call.on('cancelled', close);
    call.on('error', close);
  }

  private servePeer<Request, Reply>(
    request: Request,
    decode: (request: Request) => Message,
    callback: grpc.sendUnaryData<Reply>,
    emptyReply: Reply,
    encodeReply: (response: Message) => Reply | null,
  ): void {
    let message: Message;
    try {
      message = decode(request);
    } catch (e) {
      if (!(e instanceof MessageDecodeError)) throw e;
      this.logger.debug({ err: e.message }, 'malformed peer message rejected');
      callback({ code: grpc.status.INVALID_ARGUMENT, details: e.message });
      return;
    }
    const selfId = this.options.selfId;
    if (selfId !== undefined && message.to !== selfId) {
      this.logger.warn({ to: message.to, from: message.from, selfId }, 'peer message for another node refused');
      callback({ code: grpc.status.FAILED_PRECONDITION, details: `this is node ${selfId}, not ${message.to}` });
      return;
    }
    this.peerHandler.onMessage(message).then(
      (response) => {
        if (response === null) {
          callback(null, emptyReply);
          return;
        }
        const reply = encodeReply(response);
        if (reply === null) {
          // The handler answered a request with the wrong message type: our bug, but crashing the
          // node from inside a peer RPC would turn one bad reply into an outage; report loudly.
          this.logger.warn({ request: message.type, response: response.type }, 'peer handler answered with the wrong message type');
          callback({ code: grpc.status.INTERNAL, details: `no ${response.type} reply for ${message.type}` });
          return;
        }
        callback(null, reply);
      },
      (error: unknown) => {
        this.logger.debug({ type: message.type, from: message.from, err: String(error) }, 'peer handler failed');
        callback(handlerStatus(error));
      },
    );
  }
}

/** The walk-up that finds `proto/` from src/transport (tsx) or dist/src/transport (tsc). */
export function findProtoDir(startDir: string): string {
  let dir = startDir;
  while (true) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, reflectedProtoFiles[0]!))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`no proto/ directory with ${reflectedProtoFiles[0]} above ${startDir}`);
    dir = parent;
  }
}

/**
 * The last parsed proto set (one slot: a process uses one proto dir). Parsing takes tens of
 * milliseconds, and in-process clusters in tests build several servers from the same files.
 */
let reflectedProtoCache: { readonly protoDir: string; readonly definition: protoLoader.PackageDefinition } | null = null;

/** Our protos plus the health proto, so reflection clients (grpcurl) can call Health too. */
function loadReflectedProtos(protoDir: string): protoLoader.PackageDefinition {
  if (reflectedProtoCache?.protoDir === protoDir) return reflectedProtoCache.definition;
  // healthProtoPath is <root>/health/v1/health.proto
  const healthRoot = dirname(dirname(dirname(healthProtoPath)));
  const definition = protoLoader.loadSync([...reflectedProtoFiles, 'health/v1/health.proto'], {
    includeDirs: [protoDir, healthRoot],
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    oneofs: true,
  });
  reflectedProtoCache = { protoDir, definition };
  return definition;
}

/** "raftex.v1.ExchangeService" from a method path "/raftex.v1.ExchangeService/Deposit". */
function serviceNameOf(definition: grpc.ServiceDefinition): string | null {
  const first = Object.values(definition)[0];
  const match = first === undefined ? null : /^\/([^/]+)\//.exec(first.path);
  return match?.[1] ?? null;
}

/** A handler rejection as a gRPC status: its own numeric `code` if it has one, else UNAVAILABLE. */
function handlerStatus(error: unknown): Partial<grpc.StatusObject> {
  const code = typeof error === 'object' && error !== null && 'code' in error ? (error as { code: unknown }).code : undefined;
  const details = error instanceof Error ? error.message : String(error);
  if (typeof code === 'number' && Number.isInteger(code) && code > 0 && code <= 16) return { code, details };
  return { code: grpc.status.UNAVAILABLE, details };
}
