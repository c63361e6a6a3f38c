// Waits (up to 60 s) until one of the given endpoints reports itself leader; prints it.
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const protoDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../proto');
const def = protoLoader.loadSync(path.join(protoDir, 'raftex/v1/cluster.proto'), { includeDirs: [protoDir], enums: String, longs: Number });
const ClusterService = grpc.loadPackageDefinition(def).raftex.v1.ClusterService;
const endpoints = (process.argv[2] ?? '127.0.0.1:7001,127.0.0.1:7002,127.0.0.1:7003').split(',');
const until = Date.now() + 60_000;
while (Date.now() < until) {
  for (const endpoint of endpoints) {
    const client = new ClusterService(endpoint, grpc.credentials.createInsecure());
    const status = await new Promise((resolve) => client.getStatus({ skipStateHash: true }, { deadline: Date.now() + 1000 }, (err, res) => resolve(err ? null : res)));
    client.close();
    if (status?.role === 'ROLE_LEADER') { console.log(`leader ${status.nodeId} at ${endpoint}`); process.exit(0); }
  }
  await new Promise((r) => setTimeout(r, 200));
}
console.error(`no leader among ${endpoints.join(',')} within 60 s`);
process.exit(1);
