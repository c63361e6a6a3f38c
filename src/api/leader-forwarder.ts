/**
 * Forwards a client's unary request, unchanged, to the leader's ExchangeService and relays the
 * leader's answer (response or status) unchanged. One cached client per leader address, so a
 * follower under load reuses one HTTP/2 connection instead of dialing per request.
 */
import { credentials, Metadata } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { ExchangeServiceClient, ExchangeServiceService } from '../gen/raftex/v1/exchange.js';
import { ClusterServiceClient, ClusterServiceService } from '../gen/raftex/v1/cluster.js';

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

type Cluster = typeof ClusterServiceService;
/** The ClusterService methods that must run on the leader (membership changes). */
export type ClusterMethod = 'addMember' | 'removeMember' | 'transferLeadership';
/** The request message of a ClusterService method. */
export type ClusterRequestOf<M extends ClusterMethod> = ReturnType<Cluster[M]['requestDeserialize']>;
/** The response message of a ClusterService method. */
export type ClusterResponseOf<M extends ClusterMethod> = ReturnType<Cluster[M]['responseDeserialize']>;

/** Sends a ClusterService request to the leader (AddMember, RemoveMember); tests substitute it. */
export interface ClusterForwarder {
  forwardCluster<M extends ClusterMethod>(address: string, method: M, request: ClusterRequestOf<M>, deadlineMs: number, hops: number): Promise<ClusterResponseOf<M>>;
  close(): void;
}

/** Something that can send a request to the leader; tests substitute it. */
export interface Forwarder {
  forward<M extends UnaryMethod>(address: string, method: M, request: RequestOf<M>, deadlineMs: number, hops: number): Promise<ResponseOf<M>>;
  close(): void;
}

/** The grpc-js implementation of {@link Forwarder}. */
export class LeaderForwarder implements Forwarder, ClusterForwarder {
  private readonly clients = new Map<string, ExchangeServiceClient>();
  private readonly clusterClients = new Map<string, ClusterServiceClient>();

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

  /** Like `forward`, for the ClusterService methods that run on the leader. */
  forwardCluster<M extends ClusterMethod>(address: string, method: M, request: ClusterRequestOf<M>, deadlineMs: number, hops: number): Promise<ClusterResponseOf<M>> {
    const client = cached(this.clusterClients, address, () => new ClusterServiceClient(address, credentials.createInsecure()));
    const def = ClusterServiceService[method];
    const metadata = new Metadata();
    metadata.set(forwardedMetadataKey, String(hops));
    return new Promise<ClusterResponseOf<M>>((resolve, reject) => {
      client.makeUnaryRequest<ClusterRequestOf<M>, ClusterResponseOf<M>>(
        def.path,
        def.requestSerialize as (value: ClusterRequestOf<M>) => Buffer,
        def.responseDeserialize as (value: Buffer) => ClusterResponseOf<M>,
        request,
        metadata,
        { deadline: new Date(deadlineMs) },
        (err: ServiceError | null, response?: ClusterResponseOf<M>) => {
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
    for (const c of this.clusterClients.values()) c.close();
    this.clusterClients.clear();
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

/** The cached client for `address`, made on first use; the oldest is closed beyond {@link forwardClientsMax}. */
function cached<C extends { close(): void }>(clients: Map<string, C>, address: string, make: () => C): C {
  const hit = clients.get(address);
  if (hit) return hit;
  if (clients.size >= forwardClientsMax) {
    const [oldest, client] = clients.entries().next().value as [string, C];
    client.close();
    clients.delete(oldest);
  }
  const client = make();
  clients.set(address, client);
  return client;
}
