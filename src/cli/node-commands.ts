/**
 * `raftex node` (one replica in this process) and `raftex cluster` (N replicas as child
 * processes of this one, like the seed's asyncio script; `npm start` runs it with defaults).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { Option, type Command } from 'commander';
import { ClusterServiceClient, Role, type GetStatusResponse } from '../gen/raftex/v1/cluster.js';
import { defaultTiming } from '../node/clock.js';
import { createNodeLogger, parsePeers, startNode, type RunningNode } from '../node/start-node.js';
import { defaultSnapshotPolicy, snapshotPolicyEvery } from '../node/snapshotter.js';

/** SIGTERM must end the process within 5 s (contract); shutdown steps share this budget. */
export const shutdownBudgetMs = 4_500;
/** How often `raftex cluster` polls its nodes for the leader. */
export const clusterPollMs = 500;
/** Most nodes `raftex cluster` will start (ports and ids are derived, keep it sane). */
export const clusterNodesMax = 9;

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got ${value}`);
    return n;
  };
}

/** Adds `node` and `cluster` to the program. */
export function registerNodeCommands(program: Command): void {
  program
    .command('node')
    .description('run one raftex node (Raft replica + exchange + gRPC services)')
    .option('--id <id>', 'this node id', 'n1')
    .option('--listen <host:port>', 'address to serve gRPC on', '127.0.0.1:7001')
    .option('--peers <list>', 'the OTHER members as id=host:port,... (empty = single-node cluster; with --join: addresses of existing members)', '')
    .option('--join', 'start with no configuration and wait to be added (raftex member add <id> <address>)', false)
    .option('--data-dir <dir>', 'where the WAL lives (default data/<id>)')
    .option('--election-timeout-ms <ms>', 'election timeout (randomized between it and 2x)', positiveInt('election-timeout-ms'), defaultTiming.electionTimeoutMs)
    .option('--heartbeat-ms <ms>', 'leader heartbeat interval', positiveInt('heartbeat-ms'), defaultTiming.heartbeatMs)
    .option('--snapshot-entries <n>', 'snapshot and compact the log every n applied entries (keeps n/10 behind it)', positiveInt('snapshot-entries'), defaultSnapshotPolicy.entriesPerSnapshot)
    .option('--snapshot-worker', 'serialise snapshots on a worker thread holding a shadow copy of the state (no pause; costs a second apply per entry)', false)
    .addOption(new Option('--log-level <level>', 'pino log level').choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default(process.env['RAFTEX_LOG_LEVEL'] ?? 'info'))
    .action(async (opts: { id: string; listen: string; peers: string; join: boolean; dataDir?: string; electionTimeoutMs: number; heartbeatMs: number; snapshotEntries: number; snapshotWorker: boolean; logLevel: string }) => {
      const logger = createNodeLogger(opts.id, opts.logLevel);
      let running: RunningNode;
      try {
        running = await startNode({
          id: opts.id,
          listen: opts.listen,
          peers: parsePeers(opts.peers),
          join: opts.join,
          dataDir: opts.dataDir ?? join('data', opts.id),
          timing: { electionTimeoutMs: opts.electionTimeoutMs, heartbeatMs: opts.heartbeatMs },
          snapshotPolicy: snapshotPolicyEvery(opts.snapshotEntries),
          snapshotWorker: opts.snapshotWorker,
          logger,
        });
      } catch (error) {
        logger.fatal({ err: error }, 'node failed to start');
        process.exit(1);
      }
      let stopping = false;
      const shutdown = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        // The hard stop guarantees the 5 s bound even if a close hangs.
        setTimeout(() => process.exit(0), shutdownBudgetMs).unref();
        running.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            logger.error({ err: error }, 'error during shutdown');
            process.exit(0);
          },
        );
      };
      process.on('SIGTERM', () => shutdown('SIGTERM'));
      process.on('SIGINT', () => shutdown('SIGINT'));
      running.fatal.then((error) => {
        logger.fatal({ err: error }, 'node stopped on a fatal error');
        process.exit(1);
      });
    });

  program
    .command('cluster')
    .description('start N nodes as child processes on consecutive ports (npm start = 3 nodes on 127.0.0.1:7001-7003)')
    .option('--nodes <n>', 'number of nodes', positiveInt('nodes'), 3)
    .option('--host <host>', 'loopback host for every node', '127.0.0.1')
    .option('--base-port <port>', 'port of n1; n2 gets +1, ...', positiveInt('base-port'), 7001)
    .option('--data-dir <dir>', 'data root; node i uses <dir>/n<i>', 'data')
    .option('--election-timeout-ms <ms>', 'passed to every node', positiveInt('election-timeout-ms'), defaultTiming.electionTimeoutMs)
    .option('--heartbeat-ms <ms>', 'passed to every node', positiveInt('heartbeat-ms'), defaultTiming.heartbeatMs)
    .option('--snapshot-entries <n>', 'passed to every node', positiveInt('snapshot-entries'), defaultSnapshotPolicy.entriesPerSnapshot)
    .option('--log-level <level>', 'passed to every node', 'info')
    .action(async (opts: { nodes: number; host: string; basePort: number; dataDir: string; electionTimeoutMs: number; heartbeatMs: number; snapshotEntries: number; logLevel: string }) => {
      await runCluster(opts);
    });
}

interface ClusterMember {
  readonly id: string;
  readonly address: string;
  child: ChildProcess | null;
  client: ClusterServiceClient;
}

async function runCluster(opts: { nodes: number; host: string; basePort: number; dataDir: string; electionTimeoutMs: number; heartbeatMs: number; snapshotEntries: number; logLevel: string }): Promise<void> {
  if (opts.nodes > clusterNodesMax) throw new Error(`--nodes must be <= ${clusterNodesMax}`);
  const members: ClusterMember[] = [];
  for (let i = 0; i < opts.nodes; i++) {
    const id = `n${i + 1}`;
    const address = `${opts.host}:${opts.basePort + i}`;
    members.push({ id, address, child: null, client: new ClusterServiceClient(address, grpc.credentials.createInsecure()) });
  }
  // Same script, same loader flags (tsx when run from source), one process per node.
  const entry = process.argv[1]!;
  for (const member of members) {
    const peers = members.filter((m) => m !== member).map((m) => `${m.id}=${m.address}`).join(',');
    const args = [...process.execArgv, entry, 'node', '--id', member.id, '--listen', member.address,
      '--data-dir', join(opts.dataDir, member.id), '--election-timeout-ms', String(opts.electionTimeoutMs),
      '--heartbeat-ms', String(opts.heartbeatMs), '--snapshot-entries', String(opts.snapshotEntries), '--log-level', opts.logLevel];
    if (peers !== '') args.push('--peers', peers);
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    prefixLines(child.stdout, process.stdout, `[${member.id}] `);
    prefixLines(child.stderr, process.stderr, `[${member.id}] `);
    child.on('exit', (code, signal) => {
      member.child = null;
      process.stdout.write(`[cluster] ${member.id} exited (${signal ?? `code ${code}`})\n`);
    });
    member.child = child;
  }
  process.stdout.write(`[cluster] started ${members.map((m) => `${m.id}@${m.address}`).join(' ')}\n`);

  let lastLeader = '';
  const poll = setInterval(() => {
    void Promise.all(members.map((m) => getStatus(m.client))).then((statuses) => {
      const leader = statuses.find((s) => s !== null && s.role === Role.ROLE_LEADER);
      const text = leader ? `${leader.nodeId} leads (term ${leader.term})` : 'waiting for a leader';
      if (text !== lastLeader) {
        lastLeader = text;
        const address = leader ? members.find((m) => m.id === leader.nodeId)?.address : undefined;
        process.stdout.write(`[cluster] ${text}${address ? ` at ${address}` : ''}\n`);
      }
    });
  }, clusterPollMs);

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (): void => {
      if (stopping) return;
      stopping = true;
      clearInterval(poll);
      process.stdout.write('[cluster] stopping nodes\n');
      for (const m of members) m.child?.kill('SIGTERM');
      const force = setTimeout(() => {
        for (const m of members) m.child?.kill('SIGKILL');
      }, shutdownBudgetMs);
      const check = setInterval(() => {
        if (members.every((m) => m.child === null)) {
          clearInterval(check);
          clearTimeout(force);
          for (const m of members) m.client.close();
          resolve();
        }
      }, 50);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  process.exit(0);
}

function getStatus(client: ClusterServiceClient): Promise<GetStatusResponse | null> {
  return new Promise((resolve) => {
    client.getStatus({ skipStateHash: true }, new grpc.Metadata(), { deadline: Date.now() + clusterPollMs }, (error, response) => {
      resolve(error ? null : response);
    });
  });
}

/** Copies a child's output line by line with a prefix, so the nodes' logs stay readable together. */
function prefixLines(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, prefix: string): void {
  let partial = '';
  from.setEncoding('utf8');
  from.on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) to.write(`${prefix}${line}\n`);
  });
  from.on('end', () => {
    if (partial !== '') to.write(`${prefix}${partial}\n`);
  });
}
