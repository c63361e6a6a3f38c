/**
 * The client-facing ExchangeService over an {@link ExchangeNodeApi}. Writes are validated at the
 * edge (nothing malformed reaches the log), submitted on the leader, and forwarded unchanged to the
 * leader from any other node; reads are linearizable through `api.read`; StreamTrades relays the
 * node's committed trades.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Metadata, status } from '@grpc/grpc-js';
import type { handleServerStreamingCall, handleUnaryCall, ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import { Exchange, validateCommand } from '../../domain/index.js';
import type { ExchangeConfig, Reply } from '../../domain/index.js';
import { NotLeaderError, DeadlineError } from '../node/exchange-node-api.js';
import type { ExchangeNodeApi } from '../node/exchange-node-api.js';
import type { ExchangeServiceServer, StreamTradesRequest, Trade } from '../gen/raftex/v1/exchange.js';
import {
  balanceReplyToResponse, balanceToProto, bookDepth, cancelOrderToCommand, cancelReplyToResponse, checkId,
  checkSymbol, depositToCommand, expectReply, levelToProto, orderReplyToResponse, orderToProto,
  reduceOrderToCommand, reduceReplyToResponse, submitOrderToCommand, tradeToProto, withdrawToCommand,
} from './proto-mapping.js';
import type { AcceptedReply, Mapped, RawCommand } from './proto-mapping.js';
import { ApiStatusError, invalidArgument, withWireFieldNames, notFound, rejected, toServiceError, unavailable } from './status-mapping.js';
import { forwardedMetadataKey, forwardHops, forwardHopsMax, LeaderForwarder } from './leader-forwarder.js';
import type { Forwarder, RequestOf, ResponseOf, UnaryMethod } from './leader-forwarder.js';
import { defaultOrderEntryInFlightMax, orderEntryHandler } from './order-entry-session.js';
import type { WriteHandler, WriteOrigin } from './write-handler.js';

/** Tuning of the service; every field has a default. */
export interface ExchangeServiceOptions {
  /** The instruments and limits the node runs with (validation, StreamTrades symbol check). */
  readonly config?: ExchangeConfig;
  /** Deadline for calls that carry none, ms. */
  readonly defaultDeadlineMs?: number;
  /**
   * How long a request waits for a leader to become known before UNAVAILABLE, ms. About two
   * election timeouts: long enough to ride out one election, short enough to fail fast.
   */
  readonly leaderWaitMs?: number;
  /** Pause between looks for a leader, ms. */
  readonly leaderRetryMs?: number;
  /** Sends requests to the leader. Pass one to close it on shutdown; otherwise one is made. */
  readonly forwarder?: Forwarder;
  /** Trades queued in one StreamTrades call's gRPC buffer before it ends with RESOURCE_EXHAUSTED. */
  readonly streamBufferMax?: number;
  /** Writes one OrderEntry session may have in flight before the server stops reading it. */
  readonly orderEntryInFlightMax?: number;
  /** Epoch ms; injectable for tests. */
  readonly now?: () => number;
}

/** Default deadline for a call without one. */
export const defaultDeadlineMs = 5_000;
/** Default leader wait: two election timeouts at the default 300-600 ms range. */
export const defaultLeaderWaitMs = 1_200;
/** Default pause between looks for a leader. */
export const defaultLeaderRetryMs = 25;
/** Default per-stream buffer of trades not yet handed to HTTP/2. */
export const defaultStreamBufferMax = 4_096;

/**
 * Builds the grpc-js implementation of `raftex.v1.ExchangeService` on top of the node runtime.
 */
export function exchangeServiceImpl(api: ExchangeNodeApi, options: ExchangeServiceOptions = {}): ExchangeServiceServer {
  const now = options.now ?? Date.now;
  const defaultDeadline = options.defaultDeadlineMs ?? defaultDeadlineMs;
  const leaderWaitMs = options.leaderWaitMs ?? defaultLeaderWaitMs;
  const leaderRetryMs = options.leaderRetryMs ?? defaultLeaderRetryMs;
  const streamBufferMax = options.streamBufferMax ?? defaultStreamBufferMax;
  const forwarder = options.forwarder ?? new LeaderForwarder();
  // The instrument list is static configuration: a fresh exchange built from it answers
  // "is this symbol listed" without a linearizable read (streams must work with no leader).
  const catalog = new Exchange(options.config);

  function deadlineOf(call: { getDeadline(): Date | number }): number {
    const d = call.getDeadline();
    const ms = d instanceof Date ? d.getTime() : d;
    return Number.isFinite(ms) ? ms : now() + defaultDeadline;
  }

  function originOf<M extends UnaryMethod>(call: ServerUnaryCall<RequestOf<M>, ResponseOf<M>>): WriteOrigin<M> {
    return { request: call.request, hops: forwardHops(call.metadata.get(forwardedMetadataKey)), deadlineMs: deadlineOf(call) };
  }

  /**
   * Runs `local` on this node; when it does not lead, forwards the original request to the leader,
   * or waits (up to `leaderWaitMs`, within the deadline) for one to be known.
   */
  async function withLeader<M extends UnaryMethod>(
    origin: WriteOrigin<M>,
    method: M,
    local: (deadlineMs: number) => Promise<ResponseOf<M>>,
    /** The caller already tried `local` once and got this. */
    firstRefusal: NotLeaderError | null = null,
  ): Promise<ResponseOf<M>> {
    const { deadlineMs, hops } = origin;
    const mayForward = hops < forwardHopsMax;
    const giveUpAt = Math.min(deadlineMs, now() + leaderWaitMs);
    let refusal = firstRefusal;
    for (;;) {
      try {
        if (refusal !== null) throw refusal;
        return await local(deadlineMs);
      } catch (e) {
        refusal = null;
        if (!(e instanceof NotLeaderError)) throw e;
        const address = mayForward ? (e.leaderAddress ?? api.leaderAddress()) : null;
        if (address !== null) return forwarder.forward(address, method, origin.request, deadlineMs, hops + 1);
        const t = now();
        if (t >= deadlineMs) throw new DeadlineError('deadline exceeded while waiting for a leader');
        if (t >= giveUpAt) {
          throw unavailable(!mayForward
            ? `forwarded ${hops} times, last to node ${api.nodeId}, which does not lead (${e.message})`
            : `no leader known within ${leaderWaitMs} ms`);
        }
        await sleep(Math.max(1, Math.min(leaderRetryMs, giveUpAt - t)));
      }
    }
  }

  // Debug tracing of write arrival and reply times (stderr), read once: env lookups are not free.
  const trace = Boolean(process.env.RAFTEX_TRACE);
  const traceLine = (what: string): void => {
    process.stderr.write(`TRACE ${(performance.timeOrigin + performance.now()).toFixed(3)} ${what}\n`);
  };

  /**
   * Validate at the edge, then submit on the leader; rejected replies become FAILED_PRECONDITION.
   * Every order pays this path, so the leader's case is plain callbacks (one promise: the
   * proposal's); only a NotLeaderError takes the general retry/forward loop of `withLeader`.
   * The result serves both a unary call and one write of an OrderEntry session.
   */
  function writer<M extends UnaryMethod>(
    method: M,
    toRaw: (req: RequestOf<M>) => Mapped<RawCommand>,
    toResponse: (reply: AcceptedReply) => Mapped<ResponseOf<M>>,
  ): WriteHandler<M> {
    /** The applied reply as the call's response, or the status it maps to. */
    const respond = (reply: Reply): ResponseOf<M> => {
      if (reply.kind === 'rejected') throw rejected(reply.reason, reply.message, reply.logIndex);
      const response = toResponse(reply);
      if (trace) traceLine('reply');
      if (!response.ok) throw new ApiStatusError(status.INTERNAL, response.error);
      return response.value;
    };
    return (origin, succeed, fail) => {
      let submitted: Promise<Reply>;
      let local: (deadlineMs: number) => Promise<ResponseOf<M>>;
      try {
        if (trace) traceLine('rpc-in');
        const raw = toRaw(origin.request);
        if (!raw.ok) throw invalidArgument(raw.error);
        const valid = validateCommand(raw.value, options.config);
        if (!valid.ok) throw invalidArgument(withWireFieldNames(valid.error));
        const command = valid.command;
        local = (deadlineMs) => api.submit(command, deadlineMs).then(respond);
        submitted = api.submit(command, origin.deadlineMs);
      } catch (e) {
        fail(e);
        return;
      }
      submitted.then(
        (reply) => {
          let response: ResponseOf<M>;
          try {
            response = respond(reply);
          } catch (e) {
            fail(e);
            return;
          }
          succeed(response);
        },
        (e: unknown) => {
          if (e instanceof NotLeaderError) withLeader(origin, method, local, e).then(succeed, fail);
          else fail(e);
        },
      );
    };
  }

  /** A write handler as a unary grpc-js method. */
  function unaryWrite<M extends UnaryMethod>(handler: WriteHandler<M>): handleUnaryCall<RequestOf<M>, ResponseOf<M>> {
    return (call, callback) => handler(originOf(call), (response) => callback(null, response), (e) => callback(toServiceError(e)));
  }

  const writes = {
    deposit: writer('deposit', depositToCommand, (r) => mapKind(r, 'balance', balanceReplyToResponse)),
    withdraw: writer('withdraw', withdrawToCommand, (r) => mapKind(r, 'balance', balanceReplyToResponse)),
    submitOrder: writer('submitOrder', submitOrderToCommand, (r) => mapKind(r, 'order', orderReplyToResponse)),
    cancelOrder: writer('cancelOrder', cancelOrderToCommand, (r) => mapKind(r, 'cancel', cancelReplyToResponse)),
    reduceOrder: writer('reduceOrder', reduceOrderToCommand, (r) => mapKind(r, 'reduce', reduceReplyToResponse)),
  };

  /** Linearizable read through the node; forwarded to the leader if the node cannot serve it. */
  function read<M extends UnaryMethod>(
    method: M,
    check: (req: RequestOf<M>) => string | null,
    serve: (req: RequestOf<M>, deadlineMs: number) => Promise<ResponseOf<M>>,
  ): handleUnaryCall<RequestOf<M>, ResponseOf<M>> {
    return unary(async (call) => {
      const error = check(call.request);
      if (error !== null) throw invalidArgument(error);
      return withLeader(originOf(call), method, (deadlineMs) => serve(call.request, deadlineMs));
    });
  }

  const streamTrades: handleServerStreamingCall<StreamTradesRequest, Trade> = (call) => {
    try {
      startStream(call);
    } catch (e) {
      call.emit('error', toServiceError(e));
    }
  };

  function startStream(call: ServerWritableStream<StreamTradesRequest, Trade>): void {
    const { symbol, fromLogIndex } = call.request;
    if (symbol !== '') {
      const error = checkSymbol('symbol', symbol);
      if (error !== null) throw invalidArgument(error);
      if (!catalog.hasSymbol(symbol)) throw notFound(`unknown symbol ${symbol}`);
    }
    let finished = false;
    let subscription: Subscription | null = null;
    const finish = (e: unknown | null): void => {
      if (finished) return;
      finished = true;
      subscription?.unsubscribe();
      if (call.cancelled) return;
      if (e === null) call.end();
      else call.emit('error', toServiceError(e));
    };
    call.on('cancelled', () => finish(null));
    call.on('close', () => finish(null));
    // History waits for a slow reader (grpc-js's write buffer past its high-water mark) instead
    // of being pushed into an ever-growing buffer; live trades queue in the node's bounded one.
    const flow = {
      paused: () => call.writableNeedDrain,
      onResume: (resume: () => void) => call.once('drain', resume),
    };
    subscription = api.trades(symbol, fromLogIndex, flow).subscribe({
      next: (t) => {
        if (finished) return;
        // The node bounds its own buffer; this bounds grpc-js's, which grows when the client reads slowly.
        if (call.writableLength >= streamBufferMax) {
          finish(new ApiStatusError(status.RESOURCE_EXHAUSTED, `stream consumer too slow: more than ${streamBufferMax} trades buffered`));
          return;
        }
        call.write(tradeToProto(t));
      },
      error: (e: unknown) => finish(e),
      complete: () => finish(null),
    });
    if (finished) subscription.unsubscribe();
    // The subscription is registered (synchronously on subscribe): headers now tell the client
    // that nothing committed from here on can be missed.
    if (!finished) call.sendMetadata(new Metadata());
  }

  return {
    deposit: unaryWrite(writes.deposit),
    withdraw: unaryWrite(writes.withdraw),
    submitOrder: unaryWrite(writes.submitOrder),
    cancelOrder: unaryWrite(writes.cancelOrder),
    reduceOrder: unaryWrite(writes.reduceOrder),

    getPortfolio: read('getPortfolio', (req) => checkId('account_id', req.accountId), async (req, deadlineMs) => {
      const { value, appliedIndex } = await api.read((ex) => ex.portfolio(req.accountId), deadlineMs);
      return { accountId: req.accountId, balances: value.map(balanceToProto), appliedIndex };
    }),
    getOrderBook: read('getOrderBook', (req) => {
      const e = checkSymbol('symbol', req.symbol);
      if (e) return e;
      const depth = bookDepth(req.depth);
      return depth.ok ? null : depth.error;
    }, async (req, deadlineMs) => {
      const depth = bookDepth(req.depth);
      if (!depth.ok) throw invalidArgument(depth.error);
      // Listed symbols are static config: answer NOT_FOUND without a round to the leader.
      if (!catalog.hasSymbol(req.symbol)) throw notFound(`unknown symbol ${req.symbol}`);
      const { value, appliedIndex } = await api.read((ex) => ex.orderBook(req.symbol, depth.value), deadlineMs);
      if (value === null) throw notFound(`unknown symbol ${req.symbol}`);
      return { symbol: req.symbol, bids: value.bids.map(levelToProto), asks: value.asks.map(levelToProto), appliedIndex };
    }),
    listOrders: read('listOrders', (req) => checkId('account_id', req.accountId), async (req, deadlineMs) => {
      const { value } = await api.read((ex) => ex.openOrders(req.accountId), deadlineMs);
      return { orders: value.map(orderToProto) };
    }),
    streamTrades,
    orderEntry: orderEntryHandler(writes, { writeDeadlineMs: defaultDeadline, inFlightMax: options.orderEntryInFlightMax ?? defaultOrderEntryInFlightMax, now }),
  };
}

function mapKind<K extends AcceptedReply['kind'], R>(
  reply: AcceptedReply,
  kind: K,
  map: (r: Extract<AcceptedReply, { kind: K }>) => R,
): Mapped<R> {
  const narrowed = expectReply(reply, kind);
  return narrowed.ok ? { ok: true, value: map(narrowed.value) } : narrowed;
}

/** Adapts an async handler to grpc-js's callback style; every failure becomes a status. */
function unary<Req, Res>(handler: (call: ServerUnaryCall<Req, Res>) => Promise<Res>): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    handler(call).then(
      (response) => callback(null, response),
      (e: unknown) => callback(toServiceError(e)),
    );
  };
}
