/**
 * Real grpc-js servers on 127.0.0.1:0 serving the ExchangeService and ClusterService over fake
 * nodes, and small promise helpers for the tests.
 */
import { Decimal } from 'decimal.js';
import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { ExchangeServiceService } from '../../src/gen/raftex/v1/exchange.js';
import { ClusterServiceService } from '../../src/gen/raftex/v1/cluster.js';
import { exchangeServiceImpl } from '../../src/api/exchange-service.js';
import type { ExchangeServiceOptions } from '../../src/api/exchange-service.js';
import { clusterServiceImpl } from '../../src/api/cluster-service.js';
import { LeaderForwarder } from '../../src/api/leader-forwarder.js';
import { guardMalformedRequests } from '../../src/transport/malformed-request-guard.js';
import { FakeCluster, FakeNodeApi } from './fake-node-api.js';

export interface RunningNode {
  readonly api: FakeNodeApi;
  readonly address: string;
  stop(): Promise<void>;
}

/** Serves `api` on a free loopback port. */
export async function serve(api: FakeNodeApi, options: ExchangeServiceOptions = {}): Promise<RunningNode> {
  const server = new Server();
  const forwarder = new LeaderForwarder();
  // Guarded as GrpcServer guards it: undecodable requests get INVALID_ARGUMENT.
  server.addService(...guardMalformedRequests(ExchangeServiceService, exchangeServiceImpl(api, { forwarder, ...options })));
  server.addService(ClusterServiceService, clusterServiceImpl(api));
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  const address = `127.0.0.1:${port}`;
  api.cluster.addresses.set(api.nodeId, address);
  return {
    api, address,
    stop: () => new Promise<void>((resolve) => {
      forwarder.close();
      server.tryShutdown(() => resolve());
      // Streams left open by a test must not hold shutdown up.
      setTimeout(() => server.forceShutdown(), 500).unref();
    }),
  };
}

/** A cluster of fake nodes, each on its own server; `leader` leads. */
export async function startCluster(ids: readonly string[], leader: string | null, options: ExchangeServiceOptions = {}): Promise<{ cluster: FakeCluster; nodes: RunningNode[] }> {
  const cluster = new FakeCluster();
  cluster.leaderId = leader;
  const nodes = await Promise.all(ids.map((id) => serve(new FakeNodeApi(cluster, id), options)));
  return { cluster, nodes };
}

/** The rejection of `p` as a gRPC ServiceError (fails the test if `p` resolves). */
export async function grpcError(p: Promise<unknown>): Promise<ServiceError> {
  try {
    const value = await p;
    throw new Error(`expected a gRPC error, got ${JSON.stringify(value)}`);
  } catch (e) {
    if (typeof e === 'object' && e !== null && typeof (e as ServiceError).code === 'number') return e as ServiceError;
    throw e;
  }
}

/**
 * Decimals on output are compared by value (the contract): rewrites every plain decimal string in
 * `value` to its shortest form ("100.50" -> "100.5", "7.00" -> "7").
 */
export function canon<T>(value: T): T {
  return JSON.parse(JSON.stringify(value), (_k, v: unknown) =>
    typeof v === 'string' && /^[0-9]+\.[0-9]+$/.test(v) ? new Decimal(v).toFixed() : v) as T;
}
