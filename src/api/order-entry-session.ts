/**
 * ExchangeService.OrderEntry: an order-entry session on one bidirectional stream, as FIX or OUCH
 * sessions are. Each request carries one write (deposit, withdraw, order, cancel, reduce) and the
 * client's `sequence`; each gets exactly one response with that sequence. A write goes through the
 * very handler of its unary call (validation, submission, forwarding, status mapping), so the two
 * paths cannot disagree; the session only saves a high-rate client the per-call cost of HTTP/2
 * streams and headers, on both sides.
 *
 * Flow control: at most `inFlightMax` writes are unanswered or answered but not yet taken by
 * HTTP/2. At that limit the session stops reading its stream, so the client's sends block on
 * HTTP/2 flow control instead of growing a buffer here.
 */
import type { handleBidiStreamingCall, ServerDuplexStream, StatusObject } from '@grpc/grpc-js';
import { malformedRequestStatus } from '../transport/malformed-request-guard.js';
import type { OrderEntryError, OrderEntryRequest, OrderEntryResponse } from '../gen/raftex/v1/exchange.js';
import { invalidArgument, logIndexTrailer, rejectReasonTrailer, toServiceError } from './status-mapping.js';
import type { RequestOf, ResponseOf } from './leader-forwarder.js';
import { forwardedMetadataKey, forwardHops } from './leader-forwarder.js';
import type { WriteHandler } from './write-handler.js';

/** Default limit of a session's writes in flight (unanswered, or answered and buffered). */
export const defaultOrderEntryInFlightMax = 1_024;

/** The write kinds a session carries; each is a field of both OrderEntryRequest and OrderEntryResponse. */
export type OrderEntryKind = 'deposit' | 'withdraw' | 'submitOrder' | 'cancelOrder' | 'reduceOrder';
const kinds: readonly OrderEntryKind[] = ['deposit', 'withdraw', 'submitOrder', 'cancelOrder', 'reduceOrder'];
/** Wire names for error messages. */
const wireNames: Readonly<Record<OrderEntryKind, string>> = {
  deposit: 'deposit', withdraw: 'withdraw', submitOrder: 'submit_order', cancelOrder: 'cancel_order', reduceOrder: 'reduce_order',
};

export type OrderEntryWrites = { readonly [K in OrderEntryKind]: WriteHandler<K> };

export interface OrderEntryOptions {
  /** Deadline of one write, ms from its arrival (capped by the stream's own deadline). */
  readonly writeDeadlineMs: number;
  /** See {@link defaultOrderEntryInFlightMax}. */
  readonly inFlightMax?: number;
  readonly now: () => number;
}

/** The grpc-js handler of ExchangeService.OrderEntry over the unary calls' write handlers. */
export function orderEntryHandler(writes: OrderEntryWrites, options: OrderEntryOptions): handleBidiStreamingCall<OrderEntryRequest, OrderEntryResponse> {
  const inFlightMax = options.inFlightMax ?? defaultOrderEntryInFlightMax;
  return (call) => new OrderEntrySession(call, writes, options, inFlightMax).start();
}

class OrderEntrySession {
  private inFlight = 0;
  private paused = false;
  private clientDone = false;
  private closed = false;
  private readonly hops: number;
  private readonly streamDeadlineMs: number;

  constructor(
    private readonly call: ServerDuplexStream<OrderEntryRequest, OrderEntryResponse>,
    private readonly writes: OrderEntryWrites,
    private readonly options: OrderEntryOptions,
    private readonly inFlightMax: number,
  ) {
    this.hops = forwardHops(call.metadata.get(forwardedMetadataKey));
    const d = call.getDeadline();
    const ms = d instanceof Date ? d.getTime() : d;
    this.streamDeadlineMs = Number.isFinite(ms) ? ms : Infinity;
  }

  start(): void {
    const { call } = this;
    call.on('data', (request: OrderEntryRequest) => this.onRequest(request));
    call.on('end', () => {
      this.clientDone = true;
      this.endIfDone();
    });
    // The client went away: answers still pending are dropped (their writes may still apply, as a
    // unary call's would after its client hung up; the idempotency keys make a resend safe).
    const close = (): void => {
      this.closed = true;
    };
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  }

  private onRequest(request: OrderEntryRequest): void {
    const malformed = malformedRequestStatus(request);
    if (malformed !== null) {
      // The stream's framing is intact but a message is not an OrderEntryRequest: the client is
      // broken, and there is no sequence to answer; end the session.
      this.fail(malformed);
      return;
    }
    const sequence = request.sequence;
    this.inFlight++;
    if (!this.paused && this.load() >= this.inFlightMax) {
      this.paused = true;
      this.call.pause();
    }
    const present = kinds.filter((k) => request[k] !== undefined);
    if (present.length !== 1) {
      const names = kinds.map((k) => wireNames[k]).join(', ');
      this.answer({ sequence, error: errorOf(invalidArgument(`exactly one of ${names} must be set; got ${present.length}`)) });
      return;
    }
    const deadlineMs = Math.min(this.streamDeadlineMs, this.options.now() + this.options.writeDeadlineMs);
    this.dispatch(present[0]!, request, sequence, deadlineMs);
  }

  /** Runs the write of kind `kind` through its unary handler; answers with its response or error. */
  private dispatch(kind: OrderEntryKind, request: OrderEntryRequest, sequence: number, deadlineMs: number): void {
    const run = <K extends OrderEntryKind>(k: K, message: RequestOf<K>): void => {
      const handler = this.writes[k] as WriteHandler<K>;
      handler(
        { request: message, hops: this.hops, deadlineMs },
        (response: ResponseOf<K>) => this.answer({ sequence, [k]: response }),
        (e: unknown) => this.answer({ sequence, error: errorOf(e) }),
      );
    };
    switch (kind) {
      case 'deposit': return run(kind, request.deposit!);
      case 'withdraw': return run(kind, request.withdraw!);
      case 'submitOrder': return run(kind, request.submitOrder!);
      case 'cancelOrder': return run(kind, request.cancelOrder!);
      case 'reduceOrder': return run(kind, request.reduceOrder!);
    }
  }

  private fail(status: Partial<StatusObject>): void {
    if (this.closed) return;
    this.closed = true;
    this.call.emit('error', status);
  }

  private answer(response: OrderEntryResponse): void {
    this.inFlight--;
    // Resume once grpc-js has handed the answer to HTTP/2: writableLength only falls then.
    if (!this.closed) this.call.write(response, () => this.maybeResume());
    this.maybeResume();
    this.endIfDone();
  }

  /** Writes counted against the limit: unanswered, plus answered but still in grpc-js's buffer. */
  private load(): number {
    return this.inFlight + this.call.writableLength;
  }

  private maybeResume(): void {
    // Resume at half the limit, not at limit - 1: one read per answer would thrash pause/resume.
    if (this.paused && !this.closed && this.load() <= this.inFlightMax >> 1) {
      this.paused = false;
      this.call.resume();
    }
  }

  private endIfDone(): void {
    if (this.clientDone && this.inFlight === 0 && !this.closed) {
      this.closed = true;
      this.call.end();
    }
  }
}

/** A write's failure as the status its unary call would have ended with. */
function errorOf(e: unknown): OrderEntryError {
  const s = toServiceError(e);
  const reason = s.metadata?.get(rejectReasonTrailer)[0];
  const logIndex = Number(s.metadata?.get(logIndexTrailer)[0] ?? 0);
  return {
    code: s.code ?? 2,
    message: s.details ?? s.message,
    rejectReason: reason === undefined ? '' : String(reason),
    logIndex: Number.isSafeInteger(logIndex) && logIndex > 0 ? logIndex : 0,
  };
}
