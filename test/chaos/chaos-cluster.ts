/**
 * Real `raftex node` processes whose every peer link runs through a TcpProxy the harness controls.
 * Node i's `--peers` entry for node j points at proxy (i -> j), which forwards to j's listen port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { credentials, Metadata } from '@grpc/grpc-js';
import { ClusterServiceClient, Role, type GetStatusResponse } from '../../src/gen/raftex/v1/cluster.js';
import { TcpProxy, type LinkMode } from './tcp-proxy.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** How a node process is started: the built CLI when present (fast start), else the sources via tsx. */
export function nodeCommand(): { command: string; args: string[] } {
  const built = path.join(repoRoot, 'dist/src/cli/main.js');
  if (fs.existsSync(built) && !process.env.RAFTEX_FROM_SOURCE) return { command: process.execPath, args: [built] };
  return { command: process.execPath, args: ['--import', 'tsx', path.join(repoRoot, 'src/cli/main.ts')] };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(port));
    });
  });
}

export interface ChaosNode {
  readonly id: string;
  readonly port: number;
  readonly address: string;
  readonly dataDir: string;
  process: ChildProcess | null;
  readonly status: ClusterServiceClient;
}

export interface ClusterOptions {
  readonly nodes: number;
  readonly electionTimeoutMs: number;
  readonly heartbeatMs: number;
  readonly logDir?: string;
  /** Peers talk to each other directly, without proxies (tests that inject no link faults). */
  readonly direct?: boolean;
  /** The nodes' --snapshot-entries (default: the node's own default). */
  readonly snapshotEntries?: number;
}

export class ChaosCluster {
  readonly nodes: ChaosNode[] = [];
  /** proxies.get(`${from}->${to}`) */
  readonly proxies = new Map<string, TcpProxy>();
  readonly root: string;

  private constructor(private readonly options: ClusterOptions) {
    this.root = fs.mkdtempSync(path.join(os.tmpdir(), 'raftex-chaos-'));
  }

  static async start(options: ClusterOptions): Promise<ChaosCluster> {
    const cluster = new ChaosCluster(options);
    const ids = Array.from({ length: options.nodes }, (_, i) => `n${i + 1}`);
    for (const id of ids) {
      const port = await freePort();
      const address = `127.0.0.1:${port}`;
      cluster.nodes.push({ id, port, address, dataDir: path.join(cluster.root, id), process: null,
        status: new ClusterServiceClient(address, credentials.createInsecure()) });
    }
    for (const from of cluster.nodes) {
      for (const to of cluster.nodes) {
        if (from === to || options.direct) continue;
        const proxy = new TcpProxy(`${from.id}->${to.id}`, '127.0.0.1', to.port);
        await proxy.start();
        cluster.proxies.set(`${from.id}->${to.id}`, proxy);
      }
    }
    for (const node of cluster.nodes) cluster.spawnNode(node);
    return cluster;
  }

  spawnNode(node: ChaosNode): void {
    const peers = this.nodes
      .filter((n) => n !== node)
      .map((n) => (this.options.direct ? `${n.id}=${n.address}` : `${n.id}=127.0.0.1:${this.proxies.get(`${node.id}->${n.id}`)!.port}`))
      .join(',');
    const { command, args } = nodeCommand();
    // RAFTEX_TEST_LOG_DIR keeps node logs after the run (they die with the temp dir otherwise).
    const logDir = this.options.logDir ?? process.env.RAFTEX_TEST_LOG_DIR ?? this.root;
    fs.mkdirSync(logDir, { recursive: true });
    const logFile = path.join(logDir, `${path.basename(this.root)}-${node.id}.log`);
    const out = fs.openSync(logFile, 'a');
    node.process = spawn(command, [...args, 'node', '--id', node.id, '--listen', node.address, '--peers', peers,
      '--data-dir', node.dataDir, '--election-timeout-ms', String(this.options.electionTimeoutMs),
      '--heartbeat-ms', String(this.options.heartbeatMs),
      ...(this.options.snapshotEntries === undefined ? [] : ['--snapshot-entries', String(this.options.snapshotEntries)]),
      // Every other node serialises its snapshots on the shadow worker, the rest inline: the two
      // must give the same state (hashes are compared) and their snapshots serve each other.
      ...(this.nodes.indexOf(node) % 2 === 0 ? ['--snapshot-worker'] : [])], { stdio: ['ignore', out, out], cwd: repoRoot });
    fs.closeSync(out);
    const child = node.process;
    child.on('exit', () => {
      if (node.process === child) node.process = null;
    });
  }

  kill(node: ChaosNode): void {
    node.process?.kill('SIGKILL');
    node.process = null;
  }

  isUp(node: ChaosNode): boolean {
    return node.process !== null;
  }

  /** Sets the mode of every link from `from` to `to`. */
  setLink(from: ChaosNode, to: ChaosNode, mode: LinkMode): void {
    this.proxies.get(`${from.id}->${to.id}`)!.setMode(mode);
  }

  /** Cuts every link between the two groups, in both directions. */
  partition(a: readonly ChaosNode[], b: readonly ChaosNode[]): void {
    for (const x of a) for (const y of b) {
      this.setLink(x, y, { kind: 'cut' });
      this.setLink(y, x, { kind: 'cut' });
    }
  }

  healLinks(): void {
    for (const p of this.proxies.values()) p.setMode({ kind: 'pass' });
  }

  async status(node: ChaosNode, timeoutMs = 1000): Promise<GetStatusResponse | null> {
    return new Promise((resolve) => {
      node.status.getStatus({ skipStateHash: false }, new Metadata(), { deadline: Date.now() + timeoutMs }, (err, res) => resolve(err ? null : res));
    });
  }

  async leader(): Promise<ChaosNode | null> {
    const statuses = await Promise.all(this.nodes.map((n) => (this.isUp(n) ? this.status(n, 500) : null)));
    let best: { node: ChaosNode; term: number } | null = null;
    statuses.forEach((s, i) => {
      if (s && s.role === Role.ROLE_LEADER && (!best || s.term > best.term)) best = { node: this.nodes[i]!, term: s.term };
    });
    return (best as { node: ChaosNode } | null)?.node ?? null;
  }

  async stop(keep = false): Promise<void> {
    for (const n of this.nodes) {
      n.process?.kill('SIGKILL');
      n.status.close();
    }
    for (const p of this.proxies.values()) await p.stop();
    if (!keep) fs.rmSync(this.root, { recursive: true, force: true });
  }
}
