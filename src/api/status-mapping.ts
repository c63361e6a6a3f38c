/**
 * Failures of the client API as gRPC statuses. Every way a request can fail ends here, so the code a
 * client sees for a given cause is decided in exactly one place (the public contract's error table).
 */
import { Metadata, status } from '@grpc/grpc-js';
import type { ServerErrorResponse } from '@grpc/grpc-js';
import { AssertionError } from '../raft/assert.js';
import {
  DeadlineError,
  NotLeaderError,
  OverloadedError,
  TradeHistoryTrimmedError,
  UnavailableError,
} from '../node/exchange-node-api.js';

/** Longest status message we send: a hostile 1 MB field must never come back to the client in full. */
export const statusMessageMax = 512;

/** Trailer carrying the domain's machine-readable reject reason next to FAILED_PRECONDITION. */
export const rejectReasonTrailer = 'raftex-reject-reason';

/** Trailer next to FAILED_PRECONDITION: the log index at which the rejection was committed. */
export const logIndexTrailer = 'raftex-log-index';

/** Trailer next to OUT_OF_RANGE from StreamTrades: the first log index this node can replay. */
export const resumeFromMetadataKey = 'raftex-resume-from-log-index';

/**
 * A request failure already decided as a gRPC status. Thrown inside the service handlers and turned
 * into the call's status by {@link toServiceError}.
 */
export class ApiStatusError extends Error {
  override readonly name = 'ApiStatusError';
  constructor(
    readonly code: status,
    message: string,
    readonly metadata: Metadata | null = null,
  ) {
    super(clip(message));
  }
}

/** A gRPC status as grpc-js client calls report it (what a forwarded call to the leader fails with). */
interface GrpcStatusLike {
  readonly code: number;
  readonly details: string;
  readonly metadata?: Metadata;
}

function isGrpcStatusLike(e: unknown): e is GrpcStatusLike {
  if (typeof e !== 'object' || e === null) return false;
  const o = e as Record<string, unknown>;
  return typeof o['code'] === 'number' && typeof o['details'] === 'string';
}

/** Malformed request: INVALID_ARGUMENT, nothing reaches the log. */
export function invalidArgument(message: string): ApiStatusError {
  return new ApiStatusError(status.INVALID_ARGUMENT, message);
}

/** The domain validates commands by their TypeScript field names; clients know the proto's. */
const wireFieldNames: Readonly<Record<string, string>> = {
  accountId: 'account_id', clientOrderId: 'client_order_id', requestId: 'request_id', orderId: 'order_id',
  timeInForce: 'time_in_force', orderType: 'type',
};
const domainFieldName = new RegExp(`\\b(${Object.keys(wireFieldNames).join('|')})\\b`, 'g');

/** A domain validation message with the request's field names as they are on the wire. */
export function withWireFieldNames(message: string): string {
  return message.replace(domainFieldName, (name) => wireFieldNames[name] ?? name);
}

/** A symbol the exchange does not list, in a read or a stream. */
export function notFound(message: string): ApiStatusError {
  return new ApiStatusError(status.NOT_FOUND, message);
}

/** No leader could be reached in time. */
export function unavailable(message: string): ApiStatusError {
  return new ApiStatusError(status.UNAVAILABLE, message);
}

/**
 * A business rejection decided by the state machine (it is in the log): FAILED_PRECONDITION with the
 * reason first in the message, and in a trailer for programs.
 */
export function rejected(reason: string, message: string, logIndex: number): ApiStatusError {
  const metadata = new Metadata();
  metadata.set(rejectReasonTrailer, reason);
  metadata.set(logIndexTrailer, String(logIndex));
  return new ApiStatusError(status.FAILED_PRECONDITION, `${reason}: ${message}`, metadata);
}

/**
 * Maps anything a handler threw onto the status the client receives. Unknown errors become
 * INTERNAL with their message (never a stack); a relayed leader status passes through unchanged.
 */
export function toServiceError(e: unknown): ServerErrorResponse {
  const { code, details, metadata } = classify(e);
  const err = new Error(details) as ServerErrorResponse;
  err.code = code;
  err.details = details;
  if (metadata) err.metadata = metadata;
  return err;
}

function classify(e: unknown): { code: status; details: string; metadata: Metadata | null } {
  if (e instanceof ApiStatusError) return { code: e.code, details: e.message, metadata: e.metadata };
  if (e instanceof NotLeaderError) {
    // Only reaches here when forwarding was impossible (no reachable leader).
    return { code: status.UNAVAILABLE, details: clip(`no leader reachable: ${e.message}`), metadata: null };
  }
  if (e instanceof UnavailableError) return { code: status.UNAVAILABLE, details: clip(e.message || 'unavailable'), metadata: null };
  if (e instanceof DeadlineError) {
    return { code: status.DEADLINE_EXCEEDED, details: clip(e.message || 'deadline exceeded'), metadata: null };
  }
  if (e instanceof OverloadedError) {
    return { code: status.RESOURCE_EXHAUSTED, details: clip(e.message || 'overloaded'), metadata: null };
  }
  if (e instanceof TradeHistoryTrimmedError) {
    // The index is also trailing metadata, so a client need not parse the message to resume.
    const metadata = new Metadata();
    metadata.set(resumeFromMetadataKey, String(e.resumeFromLogIndex));
    return { code: status.OUT_OF_RANGE, details: clip(e.message), metadata };
  }
  if (e instanceof AssertionError) return { code: status.INTERNAL, details: clip(`internal error: ${e.message}`), metadata: null };
  if (isGrpcStatusLike(e) && e.code !== status.OK) {
    return { code: e.code as status, details: clip(e.details), metadata: e.metadata ?? null };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { code: status.INTERNAL, details: clip(`internal error: ${message}`), metadata: null };
}

/** Bounds a message we send back (they may quote client input). */
export function clip(message: string): string {
  return message.length <= statusMessageMax ? message : `${message.slice(0, statusMessageMax - 3)}...`;
}
