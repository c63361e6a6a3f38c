/**
 * Forwards a client's unary request, unchanged, to the leader's ExchangeService and relays the
 * leader's answer (response or status) unchanged. One cached client per leader address, so a
 * follower under load reuses one HTTP/2 connection instead of dialing per request.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { ExchangeServiceClient, ExchangeServiceService } from '../gen/raftex/v1/exchange.js';

/**
 * Metadata key counting how many times a request was forwarded. A node forwards a request at most
 * {@link forwardHopsMax} times in total: one hop is the normal case, a second one lets a node with a
 * stale view (it forwarded to the old leader, which knows the new one) still succeed, and the limit
 * stops two nodes that each think the other leads from bouncing a request until its deadline.
 */
export const forwardedMetadataKey = 'raftex-forwarded';

/** Most forwarding hops of one request. */
export const forwardHopsMax = 2;

/** The hop count a request arrived with (0 = straight from a client; garbage counts as the max). */
export function forwardHops(values: readonly unknown[]): number {
  if (values.length === 0) return 0;
  const n = Number(String(values[0]));
  return Number.isSafeInteger(n) && n >= 0 ? n : forwardHopsMax;
}

/** Most leader addresses we keep a client for (membership is small; old leaders' clients are closed). */
export const forwardClientsMax = 16;

type Service = typeof ExchangeServiceService;
/** The unary methods of ExchangeService (everything but StreamTrades). */
export type UnaryMethod = { [K in keyof Service]: Service[K]['responseStream'] extends false ? K : never }[keyof Service];
/** The request message of a method. */
export type RequestOf<M extends UnaryMethod> = ReturnType<Service[M]['requestDeserialize']>;
/** The response message of a method. */
export type ResponseOf<M extends UnaryMethod> = ReturnType<Service[M]['responseDeserialize']>;

/** Something that can send a request to the leader; tests substitute it. */
export interface Forwarder {
  forward<M extends UnaryMethod>(address: string, method: M, request: RequestOf<M>, deadlineMs: number, hops: number): Promise<ResponseOf<M>>;
  close(): void;
}

/** The grpc-js implementation of {@link Forwarder}. */
export class LeaderForwarder implements Forwarder {
  private readonly clients = new Map<string, ExchangeServiceClient>();

  /**
   * Sends `request` to `address` with the remaining deadline. Resolves with the leader's response;
   * rejects with the leader's ServiceError (code, details, trailers), which the service relays as is.
   * `hops` is this forward's number (1 for the first).
   */
  forward<M extends UnaryMethod>(address: string, method: M, request: RequestOf<M>, deadlineMs: number, hops: number): Promise<ResponseOf<M>> {
    const client = this.client(address);
    const def = ExchangeServiceService[method];
    const metadata = new Metadata();
    metadata.set(forwardedMetadataKey, String(hops));
    return new Promise<ResponseOf<M>>((resolve, reject) => {
      client.makeUnaryRequest<RequestOf<M>, ResponseOf<M>>(
        def.path,
        def.requestSerialize as (value: RequestOf<M>) => Buffer,
        def.responseDeserialize as (value: Buffer) => ResponseOf<M>,
        request,
        metadata,
        { deadline: new Date(deadlineMs) },
        (err: ServiceError | null, response?: ResponseOf<M>) => {
          if (err) reject(err);
          else if (response === undefined) reject(new Error(`empty response from leader at ${address}`));
          else resolve(response);
        },
      );
    });
  }

  /** Closes every cached channel (node shutdown). */
  close(): void {
    for (const c of this.clients.values()) c.close();
    this.clients.clear();
  }

  private client(address: string): ExchangeServiceClient {
    const cached = this.clients.get(address);
    if (cached) return cached;
    if (this.clients.size >= forwardClientsMax) {
      // Evict the oldest: leaders change rarely, the oldest address is the least likely to lead again.
      const [oldest, client] = this.clients.entries().next().value as [string, ExchangeServiceClient];
      client.close();
      this.clients.delete(oldest);
    }
    const client = new ExchangeServiceClient(address, credentials.createInsecure());
    this.clients.set(address, client);
    return client;
  }
}
