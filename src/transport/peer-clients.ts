/**
 * Outbound peer traffic: one grpc-js RaftService client per peer in `--peers`. Sending is fire and
 * forget. AppendEntries, the bulk of the traffic, travel as messages of one long-lived replication
 * stream per peer (AppendEntriesStream): a call per append costs the leader more CPU than the
 * append itself at thousands of commits a second. Other requests are one unary RPC each, with a
 * deadline. Every reply is decoded and handed to `onMessage` as the matching response message.
 * Nothing here waits on a peer: a dead or slow peer costs at most `peerInflightRpcsMax` pending
 * calls or unsent stream messages, and anything beyond that is dropped because Raft resends on its
 * next heartbeat. A stream that has gone `appendDeadlineMs` without answering while it has
 * messages outstanding is cancelled and reopened, as a unary call would have timed out.
 */
import * as grpc from '@grpc/grpc-js';
import { assertNever } from '../raft/assert.js';
import type { Message, NodeId } from '../raft/types.js';
import {
  RaftServiceClient,
  type AppendEntriesResponse as WireAppendEntriesResponse,
  type AppendEntriesStreamRequest as WireAppendEntriesStreamRequest,
  type AppendEntriesStreamResponse as WireAppendEntriesStreamResponse,
  type RequestVoteResponse as WireRequestVoteResponse,
} from '../gen/raftex/v1/raft.js';
import {
  appendEntriesResponseFromWire,
  appendEntriesToWire,
  MessageDecodeError,
  requestVoteResponseFromWire,
  requestVoteToWire,
  timeoutNowToWire,
} from './message-codec.js';
import { noopLogger, type TransportLogger } from './transport-logger.js';
import { snapshotTransferDeadlineMs, streamSnapshot, type SnapshotBytes } from './snapshot-transfer.js';

/** Pending RPCs per peer before new messages to it are dropped (etcd's MaxInflightMsgs default). */
export const peerInflightRpcsMax = 256;
/** Largest peer message either way; the Raft core's bytesPerAppendMax keeps appends well below it. */
export const peerMessageBytesMax = 64 * 1024 * 1024;

/** Tunables of the peer channels; every field has a default in `defaultPeerClientsConfig`. */
export interface PeerClientsConfig {
  /**
   * Deadline of one AppendEntries RPC; past it the call fails and Raft resends. A replication
   * stream silent this long with messages outstanding is cancelled and reopened.
   */
  readonly appendDeadlineMs: number;
  /** Send AppendEntries on the replication stream (false: one unary call each, as before it). */
  readonly appendStream: boolean;
  /** Deadline of one RequestVote RPC; an election that outlives it starts over anyway. */
  readonly voteDeadlineMs: number;
  /** Deadline of one ReadIndex RPC when the caller gives none. */
  readonly readIndexDeadlineMs: number;
  /** Pending RPCs per peer; beyond it `send` drops. */
  readonly peerInflightRpcsMax: number;
  /** Max send and receive message size on the peer channels. */
  readonly messageBytesMax: number;
  /** HTTP/2 ping interval: finds a silently dead connection (peer host gone) and reconnects. */
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  /** Reconnect backoff bounds: a restarted peer is reached again within about a second. */
  readonly initialReconnectBackoffMs: number;
  readonly maxReconnectBackoffMs: number;
}

export const defaultPeerClientsConfig: PeerClientsConfig = {
  appendDeadlineMs: 1000,
  appendStream: true,
  voteDeadlineMs: 1000,
  readIndexDeadlineMs: 2000,
  peerInflightRpcsMax,
  messageBytesMax: peerMessageBytesMax,
  keepaliveTimeMs: 10_000,
  keepaliveTimeoutMs: 5_000,
  initialReconnectBackoffMs: 100,
  maxReconnectBackoffMs: 1000,
};

export interface PeerClientsOptions extends Partial<PeerClientsConfig> {
  /** This node's id: the `from` of ReadIndex requests. */
  readonly selfId?: NodeId;
  /** The newest stored snapshot, streamed for the core's InstallSnapshot (none: such sends fail). */
  readonly loadSnapshot?: () => Promise<SnapshotBytes | null>;
  /** Deadline of one whole snapshot transfer. */
  readonly snapshotDeadlineMs?: number;
  readonly logger?: TransportLogger;
  /**
   * The connection to a peer was up and dropped (its process died, or the link broke). The
   * channels are kept connected for this: a follower learns at once that its leader is gone.
   */
  readonly onDisconnected?: (peer: NodeId) => void;
}

/**
 * Idle timeout of the peer channels. grpc-js drops an idle channel's connection after 30 min by
 * default, which a follower (it sends its leader nothing) would take for the leader going away.
 */
export const peerChannelIdleTimeoutMs = 24 * 60 * 60 * 1000;

/** What happened to the messages sent to one peer (for status and tests). */
export interface PeerCounters {
  /** RPCs started. */
  sent: number;
  /** Messages dropped because `peerInflightRpcsMax` RPCs were already pending. */
  droppedInflight: number;
  /** RPCs that failed (unreachable, deadline, server error). */
  failed: number;
  /** Response messages handed to onMessage. */
  delivered: number;
  /** Empty replies: the peer had nothing to answer. */
  noReply: number;
  /** Replies that could not be decoded or did not come from the peer addressed. */
  badReplies: number;
  /** Replication streams opened (the first, and one after each that failed or was reset). */
  streamsOpened: number;
}

/** A ReadIndex RPC failed: `code` is the gRPC status (UNAVAILABLE, DEADLINE_EXCEEDED, ...). */
export class PeerRpcError extends Error {
  override readonly name = 'PeerRpcError';
  constructor(readonly peer: NodeId, readonly code: grpc.status, message: string) {
    super(message);
  }
}

interface Peer {
  readonly id: NodeId;
  readonly address: string;
  readonly client: RaftServiceClient;
  /** Calls started and not yet completed; cancelled on close. */
  readonly inflight: Set<grpc.ClientUnaryCall>;
  /** A snapshot is streaming to this peer: at most one at a time (later requests are dropped). */
  snapshotSending: boolean;
  /** The open replication stream, opened on the first AppendEntries after none is open. */
  stream: AppendStream | null;
  /** The peer answered the stream UNIMPLEMENTED (an older version): unary AppendEntries only. */
  streamUnsupported: boolean;
  readonly counters: PeerCounters;
}

/** One replication stream to a peer. */
interface AppendStream {
  readonly call: grpc.ClientDuplexStream<WireAppendEntriesStreamRequest, WireAppendEntriesStreamResponse>;
  /** Messages written and answers received, for the silence watchdog. */
  written: number;
  answered: number;
  /** When the stream last made progress (opened, or answered) while messages were outstanding. */
  progressAtMs: number;
}

/** One RaftService client per peer; see the file comment. */
export class PeerClients {
  private readonly config: PeerClientsConfig;
  private readonly logger: TransportLogger;
  private readonly selfId: NodeId;
  private readonly peers = new Map<NodeId, Peer>();
  private closed = false;
  /** Messages for ids not in `--peers`, or response messages (which travel as RPC replies). */
  private unroutable = 0;
  private readonly loadSnapshot: (() => Promise<SnapshotBytes | null>) | null;
  private readonly snapshotDeadlineMs: number;
  private readonly channelOptions: grpc.ChannelOptions;
  private readonly onDisconnected: ((peer: NodeId) => void) | null;

  /**
   * @param peers the other members: id -> host:port this node sends to.
   * @param onMessage receives every response message a peer's reply carried. It runs on the event
   *   loop from a gRPC callback; an exception there is a bug and is not caught.
   */
  constructor(
    peers: ReadonlyMap<NodeId, string>,
    private readonly onMessage: (message: Message) => void,
    options: PeerClientsOptions = {},
  ) {
    const { selfId, logger, loadSnapshot, snapshotDeadlineMs, onDisconnected, ...config } = options;
    this.onDisconnected = onDisconnected ?? null;
    this.loadSnapshot = loadSnapshot ?? null;
    this.snapshotDeadlineMs = snapshotDeadlineMs ?? snapshotTransferDeadlineMs;
    this.config = { ...defaultPeerClientsConfig, ...definedOnly(config) };
    this.logger = logger ?? noopLogger;
    this.selfId = selfId ?? '';
    this.channelOptions = {
      'grpc.keepalive_time_ms': this.config.keepaliveTimeMs,
      'grpc.keepalive_timeout_ms': this.config.keepaliveTimeoutMs,
      'grpc.keepalive_permit_without_calls': 1,
      'grpc.initial_reconnect_backoff_ms': this.config.initialReconnectBackoffMs,
      'grpc.max_reconnect_backoff_ms': this.config.maxReconnectBackoffMs,
      'grpc.max_send_message_length': this.config.messageBytesMax,
      'grpc.max_receive_message_length': this.config.messageBytesMax,
      // Raft resends on its own schedule; gRPC retries would only buffer stale copies.
      'grpc.enable_retries': 0,
      // Each peer gets its own connection even if two ids share an address (tests, proxies).
      'grpc.use_local_subchannel_pool': 1,
      // Per-call channelz bookkeeping costs CPU on every AppendEntries; nothing reads it.
      'grpc.enable_channelz': 0,
      'grpc.client_idle_timeout_ms': peerChannelIdleTimeoutMs,
    };
    for (const [id, address] of peers) this.addPeer(id, address);
  }

  /**
   * Membership changed: after this the clients are exactly `peers` (id -> host:port). A new id
   * gets a client, a removed one's client is closed (its pending calls cancelled), and an id
   * whose address changed is reconnected. Ids that stay at the same address keep their channel.
   */
  setPeers(peers: ReadonlyMap<NodeId, string>): void {
    if (this.closed) return;
    for (const [id, peer] of [...this.peers]) {
      if (peers.get(id) === peer.address) continue;
      this.closePeer(peer);
      this.peers.delete(id);
      this.logger.info({ peer: id, address: peer.address }, 'peer client closed');
    }
    for (const [id, address] of peers) {
      if (this.peers.has(id)) continue;
      this.addPeer(id, address);
      this.logger.info({ peer: id, address }, 'peer client added');
    }
  }

  /** The peers this node currently sends to: id -> address. */
  addresses(): Map<NodeId, string> {
    return new Map([...this.peers].map(([id, p]) => [id, p.address]));
  }

  private addPeer(id: NodeId, address: string): void {
    const client = new RaftServiceClient(address, grpc.credentials.createInsecure(), this.channelOptions);
    // Start connecting now so the first election does not pay the connection setup.
    client.getChannel().getConnectivityState(true);
    const peer: Peer = {
      id,
      address,
      client,
      inflight: new Set(),
      snapshotSending: false,
      stream: null,
      streamUnsupported: false,
      counters: { sent: 0, droppedInflight: 0, failed: 0, delivered: 0, noReply: 0, badReplies: 0, streamsOpened: 0 },
    };
    this.peers.set(id, peer);
    if (this.onDisconnected !== null) this.watchConnection(peer, grpc.connectivityState.IDLE);
  }

  /**
   * Follows the channel's state for onDisconnected: READY -> anything else is a dropped
   * connection. The channel is asked to reconnect each time (within its backoff), so a restarted
   * peer is connected again before anything needs to be sent to it.
   */
  private watchConnection(peer: Peer, previous: grpc.connectivityState): void {
    const channel = peer.client.getChannel();
    const state = channel.getConnectivityState(true);
    if (state === grpc.connectivityState.SHUTDOWN || this.closed || this.peers.get(peer.id) !== peer) return;
    if (previous === grpc.connectivityState.READY && state !== grpc.connectivityState.READY) this.onDisconnected?.(peer.id);
    channel.watchConnectivityState(state, Date.now() + peerChannelIdleTimeoutMs, () => this.watchConnection(peer, state));
  }

  private closePeer(peer: Peer): void {
    const stream = peer.stream;
    peer.stream = null;
    stream?.call.cancel();
    for (const call of [...peer.inflight]) call.cancel();
    peer.inflight.clear();
    peer.client.close();
  }

  /**
   * Sends a request message to `message.to` without waiting. Never throws for a peer's sake:
   * unknown peers, a full inflight window and RPC failures are counted and logged at debug.
   */
  send(message: Message): void {
    if (this.closed) return;
    const peer = this.peers.get(message.to);
    if (peer === undefined) {
      this.unroutable++;
      this.logger.debug({ to: message.to, type: message.type }, 'peer message to unknown peer dropped');
      return;
    }
    switch (message.type) {
      case 'requestVote': {
        const request = requestVoteToWire(message);
        this.call(peer, message, (metadata, options, callback: grpc.requestCallback<WireRequestVoteResponse>) =>
          peer.client.requestVote(request, metadata, options, callback),
        this.config.voteDeadlineMs, requestVoteResponseFromWire);
        return;
      }
      case 'appendEntries': {
        const request = appendEntriesToWire(message);
        if (this.config.appendStream && !peer.streamUnsupported) {
          this.streamAppend(peer, message, request);
          return;
        }
        this.call(peer, message, (metadata, options, callback: grpc.requestCallback<WireAppendEntriesResponse>) =>
          peer.client.appendEntries(request, metadata, options, callback),
        this.config.appendDeadlineMs, appendEntriesResponseFromWire);
        return;
      }
      case 'installSnapshot':
        this.sendSnapshot(peer, message);
        return;
      case 'timeoutNow':
        this.sendTimeoutNow(peer, message);
        return;
      case 'requestVoteResponse':
      case 'appendEntriesResponse':
      case 'installSnapshotResponse':
        // Responses go back as the reply of the RPC that carried the request (GrpcServer); one
        // that reaches here had no pending call left (it timed out), so it has nowhere to go.
        this.unroutable++;
        this.logger.debug({ to: message.to, type: message.type }, 'response message outside an RPC dropped');
        return;
      default:
        assertNever(message);
    }
  }

  /**
   * Asks `peer` (the leader, as far as the caller knows) for a read index. Rejects with
   * PeerRpcError on an unknown peer, a full inflight window, or any RPC failure.
   */
  readIndex(peer: NodeId, deadlineMs: number = this.config.readIndexDeadlineMs): Promise<{ readIndex: number; leaderId: string }> {
    return new Promise((resolve, reject) => {
      const p = this.peers.get(peer);
      if (this.closed || p === undefined) {
        reject(new PeerRpcError(peer, grpc.status.UNAVAILABLE, this.closed ? 'peer clients closed' : `unknown peer ${peer}`));
        return;
      }
      if (p.inflight.size >= this.config.peerInflightRpcsMax) {
        p.counters.droppedInflight++;
        reject(new PeerRpcError(peer, grpc.status.RESOURCE_EXHAUSTED, `too many RPCs in flight to ${peer}`));
        return;
      }
      p.counters.sent++;
      const call = p.client.readIndex({ from: this.selfId }, callMetadata(), { deadline: Date.now() + deadlineMs }, (error, reply) => {
        p.inflight.delete(call);
        if (error) {
          p.counters.failed++;
          this.logger.debug({ peer, code: error.code, details: error.details }, 'ReadIndex RPC failed');
          reject(new PeerRpcError(peer, error.code, `ReadIndex to ${peer} failed: ${error.details || grpc.status[error.code]}`));
          return;
        }
        resolve({ readIndex: reply.readIndex, leaderId: reply.leaderId });
      });
      p.inflight.add(call);
    });
  }

  /** Counters per peer, copied. */
  stats(): Map<NodeId, PeerCounters> {
    return new Map([...this.peers].map(([id, p]) => [id, { ...p.counters }]));
  }

  /** Messages that had no peer to go to (unknown id, or a response outside an RPC). */
  unroutableCount(): number {
    return this.unroutable;
  }

  /** RPCs currently pending to `peer`, plus stream messages not yet sent (0 for an unknown peer). */
  inflightCount(peer: NodeId): number {
    const p = this.peers.get(peer);
    return p === undefined ? 0 : p.inflight.size + (p.stream?.call.writableLength ?? 0);
  }

  /** Cancels every pending call and closes the channels; later sends are ignored. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const peer of this.peers.values()) this.closePeer(peer);
  }

  /**
   * Streams the stored snapshot to `peer`; its answer (or, if the transfer fails, a failure
   * answer made up on its behalf) goes to onMessage so the core can retry or resume.
   */
  private sendSnapshot(peer: Peer, message: Extract<Message, { type: 'installSnapshot' }>): void {
    if (peer.snapshotSending) return;
    const load = this.loadSnapshot;
    const failed = (why: string): void => {
      peer.counters.failed++;
      this.logger.warn({ peer: peer.id, index: message.meta.index, err: why }, 'snapshot transfer failed');
      if (this.closed) return;
      this.onMessage({
        type: 'installSnapshotResponse', from: peer.id, to: message.from, term: message.term,
        success: false, snapshotIndex: message.meta.index, matchIndex: 0,
      });
    };
    if (load === null) {
      failed('no snapshot source configured');
      return;
    }
    peer.snapshotSending = true;
    peer.counters.sent++;
    void (async () => {
      try {
        const snapshot = await load();
        if (snapshot === null || snapshot.meta.index < message.meta.index) throw new Error(`snapshot ${message.meta.index} is not in the store`);
        const started = Date.now();
        const response = await streamSnapshot(peer.client, message, snapshot, callMetadata(), this.snapshotDeadlineMs);
        this.logger.info({ peer: peer.id, index: snapshot.meta.index, bytes: snapshot.data.byteLength, ms: Date.now() - started }, 'snapshot sent');
        if (this.closed) return;
        if (response.from !== peer.id || response.to !== message.from) {
          peer.counters.badReplies++;
          failed(`reply from ${response.from} to ${response.to}`);
          return;
        }
        peer.counters.delivered++;
        this.onMessage(response);
      } catch (error) {
        failed(error instanceof Error ? error.message : String(error));
      } finally {
        peer.snapshotSending = false;
      }
    })();
  }

  /** Leadership transfer: the reply carries nothing; the peer's election is what follows. */
  private sendTimeoutNow(peer: Peer, message: Extract<Message, { type: 'timeoutNow' }>): void {
    peer.counters.sent++;
    const call = peer.client.timeoutNow(timeoutNowToWire(message), callMetadata(), { deadline: Date.now() + this.config.voteDeadlineMs }, (error) => {
      peer.inflight.delete(call);
      if (error) {
        peer.counters.failed++;
        this.logger.warn({ peer: peer.id, code: error.code, details: error.details }, 'TimeoutNow RPC failed');
      }
    });
    peer.inflight.add(call);
  }

  /** Writes one AppendEntries on `peer`'s replication stream, opening (or replacing) it first. */
  private streamAppend(peer: Peer, message: Extract<Message, { type: 'appendEntries' }>, request: ReturnType<typeof appendEntriesToWire>): void {
    const now = Date.now();
    let stream = peer.stream;
    if (stream !== null && stream.written > stream.answered && now - stream.progressAtMs > this.config.appendDeadlineMs) {
      // Silent with messages outstanding: the peer is stuck or the connection half dead. A unary
      // call would have hit its deadline by now; start over on a fresh stream.
      peer.counters.failed++;
      this.logger.debug({ peer: peer.id, outstanding: stream.written - stream.answered }, 'replication stream silent, reset');
      peer.stream = null;
      stream.call.cancel();
      stream = null;
    }
    stream ??= this.openStream(peer, message.from);
    if (stream.call.writableLength >= this.config.peerInflightRpcsMax) {
      peer.counters.droppedInflight++;
      this.logger.debug({ peer: peer.id, queued: stream.call.writableLength }, 'replication stream full, message dropped');
      return;
    }
    peer.counters.sent++;
    if (stream.written === stream.answered) stream.progressAtMs = now;
    stream.written++;
    stream.call.write({ append: request });
  }

  private openStream(peer: Peer, selfId: NodeId): AppendStream {
    const call = peer.client.appendEntriesStream(callMetadata());
    const stream: AppendStream = { call, written: 0, answered: 0, progressAtMs: Date.now() };
    peer.stream = stream;
    peer.counters.streamsOpened++;
    const drop = (): void => {
      if (peer.stream === stream) peer.stream = null;
    };
    call.on('data', (reply: WireAppendEntriesStreamResponse) => {
      stream.answered++;
      stream.progressAtMs = Date.now();
      if (this.closed) return;
      this.deliver(peer, 'appendEntries', selfId, reply.response, appendEntriesResponseFromWire);
    });
    call.on('error', (error: grpc.ServiceError) => {
      drop();
      if (error.code === grpc.status.CANCELLED && this.closed) return;
      if (error.code === grpc.status.UNIMPLEMENTED) {
        peer.streamUnsupported = true;
        this.logger.info({ peer: peer.id }, 'peer has no replication stream; AppendEntries go as unary calls');
        return;
      }
      peer.counters.failed++;
      this.logger.debug({ peer: peer.id, code: error.code, details: error.details }, 'replication stream failed');
    });
    call.on('end', drop);
    call.on('close', drop);
    return stream;
  }

  /** Routes one decoded peer reply to onMessage if it is well formed and from the peer addressed. */
  private deliver<Reply extends { from: string }>(
    peer: Peer,
    requestType: Message['type'],
    selfId: NodeId,
    reply: Reply | undefined,
    decode: (reply: Reply) => Message,
  ): void {
    if (reply === undefined || reply.from === '') {
      peer.counters.noReply++;
      return;
    }
    let response: Message;
    try {
      response = decode(reply);
    } catch (e) {
      if (!(e instanceof MessageDecodeError)) throw e;
      peer.counters.badReplies++;
      this.logger.warn({ peer: peer.id, type: requestType, err: e.message }, 'undecodable peer reply dropped');
      return;
    }
    // A reply from someone else means `--peers` maps this id to another node's address: the core
    // must not count that node's vote or progress as this peer's.
    if (response.from !== peer.id || response.to !== selfId) {
      peer.counters.badReplies++;
      this.logger.warn({ peer: peer.id, address: peer.address, from: response.from, to: response.to }, 'peer reply from an unexpected node dropped');
      return;
    }
    peer.counters.delivered++;
    this.onMessage(response);
  }

  /** Starts one request RPC within the inflight window and routes its reply to onMessage. */
  private call<Reply extends { from: string }>(
    peer: Peer,
    request: Message,
    start: (metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<Reply>) => grpc.ClientUnaryCall,
    deadlineMs: number,
    decode: (reply: Reply) => Message,
  ): void {
    if (peer.inflight.size >= this.config.peerInflightRpcsMax) {
      peer.counters.droppedInflight++;
      this.logger.debug({ peer: peer.id, type: request.type, inflight: peer.inflight.size }, 'peer inflight window full, message dropped');
      return;
    }
    peer.counters.sent++;
    const call = start(callMetadata(), { deadline: Date.now() + deadlineMs }, (error, reply) => {
      peer.inflight.delete(call);
      if (this.closed) return;
      if (error) {
        peer.counters.failed++;
        this.logger.debug({ peer: peer.id, type: request.type, code: error.code, details: error.details }, 'peer RPC failed');
        return;
      }
      this.deliver(peer, request.type, request.from, reply, decode);
    });
    peer.inflight.add(call);
  }
}

/** waitForReady false: a call to a peer in backoff fails at once instead of queueing. */
function callMetadata(): grpc.Metadata {
  return new grpc.Metadata({ waitForReady: false });
}

function definedOnly<T extends object>(partial: T): Partial<T> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined)) as Partial<T>;
}
