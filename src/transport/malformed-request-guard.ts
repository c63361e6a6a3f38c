/**
 * Bytes that do not decode as the method's request message must get INVALID_ARGUMENT, not the
 * INTERNAL grpc-js answers when a deserializer throws. The guard wraps each unary and
 * server-streaming method of a service: its deserializer returns a marker instead of throwing, and
 * its handler answers the marker with INVALID_ARGUMENT before the implementation sees it.
 * Request-streaming methods get the same deserializer; their handlers see each message and must
 * check it with {@link malformedRequestStatus} (a stream cannot be answered before it is read).
 */
import * as grpc from '@grpc/grpc-js';

const malformedMarker = Symbol('malformedRequest');

interface MalformedRequest {
  readonly [malformedMarker]: string;
}

function isMalformed(request: unknown): request is MalformedRequest {
  return typeof request === 'object' && request !== null && malformedMarker in request;
}

/** Longest decoder message echoed back: the bytes came from an untrusted client. */
const decodeErrorEchoMax = 200;

function invalid(request: MalformedRequest): Partial<grpc.StatusObject> {
  return { code: grpc.status.INVALID_ARGUMENT, details: `malformed request: ${request[malformedMarker].slice(0, decodeErrorEchoMax)}` };
}

/** INVALID_ARGUMENT for a message of a request stream that did not decode, else null. */
export function malformedRequestStatus(request: unknown): Partial<grpc.StatusObject> | null {
  return isMalformed(request) ? invalid(request) : null;
}

type AnyHandler = (...args: unknown[]) => void;

export function guardMalformedRequests(
  definition: grpc.ServiceDefinition,
  implementation: grpc.UntypedServiceImplementation,
): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const guardedDefinition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const guardedImplementation: Record<string, AnyHandler> = {};
  for (const [name, method] of Object.entries(definition)) {
    const handler = implementation[name] as AnyHandler | undefined;
    if (handler === undefined) {
      guardedDefinition[name] = method;
      continue;
    }
    const decode = method.requestDeserialize;
    guardedDefinition[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch (e) {
          return { [malformedMarker]: e instanceof Error ? e.message : String(e) } satisfies MalformedRequest;
        }
      },
    };
    if (method.requestStream) {
      guardedImplementation[name] = handler;
      continue;
    }
    guardedImplementation[name] = method.responseStream
      ? (call: unknown) => {
          const c = call as grpc.ServerWritableStream<unknown, unknown>;
          if (isMalformed(c.request)) {
            c.emit('error', invalid(c.request));
            return;
          }
          handler(call);
        }
      : (call: unknown, callback: unknown) => {
          const c = call as grpc.ServerUnaryCall<unknown, unknown>;
          if (isMalformed(c.request)) {
            (callback as grpc.sendUnaryData<unknown>)(invalid(c.request));
            return;
          }
          handler(call, callback);
        };
  }
  return [guardedDefinition as grpc.ServiceDefinition, guardedImplementation as grpc.UntypedServiceImplementation];
}
