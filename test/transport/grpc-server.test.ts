import { afterEach, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { service as healthService } from 'grpc-health-check';
import { ClusterServiceClient, ClusterServiceService, GetStatusResponse, Role, type ClusterServiceServer } from '../../src/gen/raftex/v1/cluster.js';
import { RaftServiceClient } from '../../src/gen/raftex/v1/raft.js';
import { findProtoDir, GrpcServer } from '../../src/transport/grpc-server.js';
import { ScriptedPeer } from './transport-fixtures.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function started(server: GrpcServer): Promise<string> {
  const port = await server.start('127.0.0.1:0');
  cleanups.push(() => server.stop(100));
  return `127.0.0.1:${port}`;
}

function healthCheck(address: string, serviceName: string): Promise<{ status: string }> {
  const Client = grpc.makeGenericClientConstructor(healthService as grpc.ServiceDefinition, 'grpc.health.v1.Health');
  const client = new Client(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check(req: { service: string }, cb: (e: grpc.ServiceError | null, r: { status: string }) => void): void;
  };
  cleanups.push(() => client.close());
  return new Promise((res, rej) => client.check({ service: serviceName }, (e, r) => (e ? rej(e) : res(r))));
}

/** Speaks the reflection protocol (grpc.reflection.v1) directly, as grpcurl would. */
function reflect(address: string, request: Record<string, unknown>): Promise<Record<string, unknown>> {
  const require = createRequire(import.meta.url);
  const reflectionRoot = join(dirname(require.resolve('@grpc/reflection')), '..', 'proto');
  const def = protoLoader.loadSync('grpc/reflection/v1/reflection.proto', { includeDirs: [reflectionRoot], keepCase: true, oneofs: true, longs: String, enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: new (a: string, c: grpc.ChannelCredentials) => grpc.Client & { ServerReflectionInfo(): grpc.ClientDuplexStream<unknown, Record<string, unknown>> } } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(address, grpc.credentials.createInsecure());
  cleanups.push(() => client.close());
  return new Promise((res, rej) => {
    const call = client.ServerReflectionInfo();
    call.on('data', (r: Record<string, unknown>) => {
      res(r);
      call.end();
    });
    call.on('error', rej);
    call.write(request);
  });
}

describe('GrpcServer', () => {
  it('answers health NOT_SERVING until setServing(true), for the server and each service', async () => {
    const server = new GrpcServer(new ScriptedPeer());
    const address = await started(server);
    await expect(healthCheck(address, '')).resolves.toEqual({ status: 'NOT_SERVING' });
    await expect(healthCheck(address, 'raftex.v1.RaftService')).resolves.toEqual({ status: 'NOT_SERVING' });
    server.setServing(true);
    await expect(healthCheck(address, '')).resolves.toEqual({ status: 'SERVING' });
    await expect(healthCheck(address, 'raftex.v1.RaftService')).resolves.toEqual({ status: 'SERVING' });
    server.setServing(false);
    await expect(healthCheck(address, '')).resolves.toEqual({ status: 'NOT_SERVING' });
    await expect(healthCheck(address, 'no.such.Service')).rejects.toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  it('lists the raftex services and health through reflection, and serves their descriptors', async () => {
    const address = await started(new GrpcServer(new ScriptedPeer()));
    const listed = await reflect(address, { list_services: '*' });
    const names = (listed.list_services_response as { service: { name: string }[] }).service.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining([
      'raftex.v1.ExchangeService', 'raftex.v1.ClusterService', 'raftex.v1.RaftService', 'grpc.health.v1.Health',
    ]));
    const file = await reflect(address, { file_containing_symbol: 'raftex.v1.ExchangeService' });
    const descriptors = (file.file_descriptor_response as { file_descriptor_proto: Buffer[] }).file_descriptor_proto;
    expect(descriptors.length).toBeGreaterThan(0);
    // The serialized FileDescriptorProto names the service and its import of Timestamp.
    const text = Buffer.concat(descriptors).toString('latin1');
    expect(text).toContain('ExchangeService');
    expect(text).toContain('StreamTrades');
  });

  it('serves added services on the same port and tracks their health', async () => {
    const server = new GrpcServer(new ScriptedPeer());
    const impl: Pick<ClusterServiceServer, 'getStatus'> = {
      getStatus: (_call, cb) => cb(null, GetStatusResponse.fromPartial({
        nodeId: 'n1', role: Role.ROLE_LEADER, term: 3, leaderId: 'n1', commitIndex: 5, lastApplied: 5, lastLogIndex: 5,
        members: [], followers: [], stateHash: 'ab',
      })),
    };
    server.addService(ClusterServiceService, impl as grpc.UntypedServiceImplementation);
    const address = await started(server);
    const client = new ClusterServiceClient(address, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const status = await new Promise((res, rej) => client.getStatus({ skipStateHash: false }, (e, r) => (e ? rej(e) : res(r))));
    expect(status).toMatchObject({ nodeId: 'n1', role: Role.ROLE_LEADER, term: 3 });
    await expect(healthCheck(address, 'raftex.v1.ClusterService')).resolves.toEqual({ status: 'NOT_SERVING' });
    server.setServing(true);
    await expect(healthCheck(address, 'raftex.v1.ClusterService')).resolves.toEqual({ status: 'SERVING' });
  });

  it('rejects a malformed peer message with INVALID_ARGUMENT without calling the handler', async () => {
    const peer = new ScriptedPeer();
    const address = await started(new GrpcServer(peer));
    const client = new RaftServiceClient(address, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const error = await new Promise<grpc.ServiceError | null>((res) =>
      client.appendEntries({
        from: 'n1', to: 'n2', term: 1, prevLogIndex: 4, prevLogTerm: 1, leaderCommit: 0, round: 0,
        entries: [{ index: 9, term: 1, type: 1, timestampMs: 0, data: Buffer.alloc(0) }],
      }, (e) => res(e)));
    expect(error?.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(peer.received).toEqual([]);
  });

  it('answers INTERNAL when the handler replies with the wrong message type', async () => {
    const peer = new ScriptedPeer();
    peer.answer = (m) => Promise.resolve(m);
    const address = await started(new GrpcServer(peer));
    const client = new RaftServiceClient(address, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());
    const error = await new Promise<grpc.ServiceError | null>((res) =>
      client.requestVote({ from: 'n1', to: 'n2', term: 1, lastLogIndex: 0, lastLogTerm: 0, preVote: false, leadershipTransfer: false }, (e) => res(e)));
    expect(error?.code).toBe(grpc.status.INTERNAL);
  });

  it('stop() ends within the grace period even with a stream open', async () => {
    const server = new GrpcServer(new ScriptedPeer());
    const port = await server.start('127.0.0.1:0');
    const Client = grpc.makeGenericClientConstructor(healthService as grpc.ServiceDefinition, 'grpc.health.v1.Health');
    const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      watch(req: { service: string }): grpc.ClientReadableStream<{ status: string }>;
    };
    cleanups.push(() => client.close());
    const watch = watchUntilFirst(client.watch({ service: '' }));
    await expect(watch.first).resolves.toEqual({ status: 'NOT_SERVING' });
    await server.stop(200);
    await watch.ended;
    await expect(server.start('127.0.0.1:0')).rejects.toThrow(/already listening/);
  });

  it('refuses a listen address that is not host:port', async () => {
    const server = new GrpcServer(new ScriptedPeer());
    cleanups.push(() => server.stop(10));
    await expect(server.start('7001')).rejects.toThrow(/host:port/);
  });

  it('finds proto/ from src/transport and from dist/src/transport', () => {
    expect(findProtoDir(join(repoRoot, 'src', 'transport'))).toBe(join(repoRoot, 'proto'));
    expect(findProtoDir(join(repoRoot, 'dist', 'src', 'transport'))).toBe(join(repoRoot, 'proto'));
    expect(() => findProtoDir('/')).toThrow(/no proto/);
  });
});

function watchUntilFirst(stream: grpc.ClientReadableStream<{ status: string }>): { first: Promise<unknown>; ended: Promise<void> } {
  const first = new Promise((res) => stream.once('data', res));
  const ended = new Promise<void>((res) => {
    stream.on('error', () => res());
    stream.on('end', () => res());
    stream.on('data', () => undefined);
  });
  return { first, ended };
}
