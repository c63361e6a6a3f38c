/**
 * The gRPC client side shared by the CLI verbs: channels to a node, promise-returning unary calls
 * with a deadline, and the one way a failed call is reported (gRPC code name + message, exit 1).
 */
import { credentials, Metadata, status } from '@grpc/grpc-js';
import type { Client, ServiceError } from '@grpc/grpc-js';
import { ExchangeServiceClient, ExchangeServiceService } from '../gen/raftex/v1/exchange.js';
import { ClusterServiceClient, ClusterServiceService } from '../gen/raftex/v1/cluster.js';

/** Default node to talk to (the first node of `npm start`). */
export const defaultServer = '127.0.0.1:7001';
/** Default per-call deadline, ms: above the server's ~2 election timeouts of leader wait. */
export const defaultTimeoutMs = 10_000;

type AnyService = typeof ExchangeServiceService | typeof ClusterServiceService;
type UnaryKeys<S extends AnyService> = { [K in keyof S]: S[K] extends { responseStream: false } ? K : never }[keyof S];
type Req<S extends AnyService, K extends keyof S> = S[K] extends { requestDeserialize: (b: Buffer) => infer R } ? R : never;
type Res<S extends AnyService, K extends keyof S> = S[K] extends { responseDeserialize: (b: Buffer) => infer R } ? R : never;
interface MethodDef<Q, R> {
  readonly path: string;
  readonly requestSerialize: (value: Q) => Buffer;
  readonly responseDeserialize: (value: Buffer) => R;
}

/** Connections to one node, closed together. */
export class NodeClient {
  readonly exchange: ExchangeServiceClient;
  readonly cluster: ClusterServiceClient;

  constructor(readonly address: string, readonly timeoutMs: number = defaultTimeoutMs) {
    this.exchange = new ExchangeServiceClient(address, credentials.createInsecure());
    // Share the exchange client's channel: one TCP connection per node.
    this.cluster = new ClusterServiceClient(address, credentials.createInsecure(), {
      channelOverride: this.exchange.getChannel(),
    });
  }

  /** A unary ExchangeService call with the client's deadline. */
  call<K extends UnaryKeys<typeof ExchangeServiceService>>(
    method: K,
    request: Req<typeof ExchangeServiceService, K>,
  ): Promise<Res<typeof ExchangeServiceService, K>> {
    const def = ExchangeServiceService[method] as unknown as MethodDef<Req<typeof ExchangeServiceService, K>, Res<typeof ExchangeServiceService, K>>;
    return unaryCall(this.exchange, def, request, this.timeoutMs);
  }

  /** ClusterService.GetStatus with the client's deadline. */
  status(timeoutMs: number = this.timeoutMs): Promise<Res<typeof ClusterServiceService, 'getStatus'>> {
    return unaryCall(this.cluster, ClusterServiceService.getStatus, { skipStateHash: false }, timeoutMs);
  }

  close(): void {
    this.cluster.close();
    this.exchange.close();
  }
}

function unaryCall<Q, R>(client: Client, def: MethodDef<Q, R>, request: Q, timeoutMs: number): Promise<R> {
  return new Promise<R>((resolve, reject) => {
    client.makeUnaryRequest<Q, R>(
      def.path, def.requestSerialize, def.responseDeserialize, request, new Metadata(),
      { deadline: new Date(Date.now() + timeoutMs) },
      (err: ServiceError | null, response?: R) => {
        if (err) reject(err);
        else if (response === undefined) reject(new Error('empty response'));
        else resolve(response);
      },
    );
  });
}

/** True for errors that came back from a gRPC call (they carry a status code). */
export function isServiceError(e: unknown): e is ServiceError {
  return typeof e === 'object' && e !== null && typeof (e as { code?: unknown }).code === 'number'
    && typeof (e as { details?: unknown }).details === 'string';
}

/** The status code's name (`INVALID_ARGUMENT`), or the number if unknown. */
export function codeName(code: number): string {
  return (status as unknown as Record<number, string>)[code] ?? String(code);
}

/** One line describing a failed call: `INVALID_ARGUMENT: amount must be ...`. */
export function describeError(e: unknown): string {
  if (isServiceError(e)) {
    // grpc-js ends a refused connection's details with an empty "Resolution note: ".
    const details = e.details.replace(/\s*Resolution note:\s*$/, '');
    const hint = e.code === status.UNAVAILABLE && /ECONNREFUSED|No connection established/.test(details) ? ' (is the node running? `npm start` runs a local cluster)' : '';
    return `${codeName(e.code)}: ${details}${hint}`;
  }
  return e instanceof Error ? e.message : String(e);
}
