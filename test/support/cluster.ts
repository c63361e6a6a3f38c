/**
 * Real-process cluster harness for end-to-end tests: spawns `raftex node` child processes on
 * loopback with free ports and temp data dirs (through tsx, so no build is needed), and gives
 * typed gRPC clients for each node. Reused by the chaos tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { ClusterServiceClient, Role, type GetStatusResponse } from '../../src/gen/raftex/v1/cluster.js';
import { ExchangeServiceClient } from '../../src/gen/raftex/v1/exchange.js';

/** The repository root (cwd for spawned nodes). */
export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

/** Lines of output kept per node for failure reports. */
export const nodeLogLinesMax = 2000;

/** Ports the OS reports free right now (bind :0, read, close). */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  const servers = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(0, '127.0.0.1', () => ok());
    });
    const address = server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    ports.push(address.port);
    servers.push(server);
  }
  await Promise.all(servers.map((s) => new Promise((ok) => s.close(ok))));
  return ports;
}

/** `count` consecutive ports that are free right now, e.g. for `raftex cluster --base-port`. */
export async function freeConsecutivePorts(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 40_000);
    const servers = [];
    let ok = true;
    for (let port = base; port < base + count && ok; port++) {
      const server = createServer();
      ok = await new Promise<boolean>((done) => {
        server.once('error', () => done(false));
        server.listen(port, '127.0.0.1', () => done(true));
      });
      if (ok) servers.push(server);
    }
    await Promise.all(servers.map((s) => new Promise((done) => s.close(done))));
    if (ok) return base;
  }
  throw new Error(`no ${count} consecutive free ports found`);
}

/** Runs the raftex CLI (through tsx) to completion; resolves with its exit code and output. */
export function runCli(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      fail(new Error(`raftex ${args.join(' ')} did not finish within ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

/** Calls a unary method of a grpc-js generated client as a promise with a deadline. */
export function unary<Req, Res>(
  client: grpc.Client,
  method: (req: Req, md: grpc.Metadata, opts: Partial<grpc.CallOptions>, cb: (e: grpc.ServiceError | null, r: Res) => void) => grpc.ClientUnaryCall,
  request: Req,
  timeoutMs = 5000,
): Promise<Res> {
  return new Promise((ok, fail) => {
    method.call(client, request, new grpc.Metadata(), { deadline: Date.now() + timeoutMs }, (error, response) => {
      if (error) fail(error);
      else ok(response);
    });
  });
}

export interface ClusterOptions {
  readonly nodes?: number;
  readonly electionTimeoutMs?: number;
  readonly heartbeatMs?: number;
  /** Extra `raftex node` flags for every node. */
  readonly extraArgs?: readonly string[];
  /** Log level passed via RAFTEX_LOG_LEVEL (default info). */
  readonly logLevel?: string;
  /** Node.js flags for the node processes (e.g. --cpu-prof); env RAFTEX_TEST_NODE_FLAGS, space-separated. */
  readonly nodeFlags?: readonly string[];
  /** Also append each node's output to `<logDir>/<id>.log` (debugging; env RAFTEX_TEST_LOG_DIR). */
  readonly logDir?: string;
}

export interface TestNode {
  readonly id: string;
  readonly port: number;
  readonly address: string;
  readonly dataDir: string;
  process: ChildProcess | null;
  readonly logs: string[];
  readonly exchange: ExchangeServiceClient;
  readonly cluster: ClusterServiceClient;
}

/** N `raftex node` processes; call `stop()` in afterAll/finally. */
export class TestCluster {
  readonly nodes: TestNode[];
  private readonly root: string;

  private constructor(nodes: TestNode[], root: string, private readonly options: ClusterOptions) {
    this.nodes = nodes;
    this.root = root;
  }

  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const count = options.nodes ?? 3;
    const ports = await freePorts(count);
    const root = mkdtempSync(join(tmpdir(), 'raftex-test-'));
    const nodes = ports.map((port, i): TestNode => {
      const id = `n${i + 1}`;
      const address = `127.0.0.1:${port}`;
      return {
        id,
        port,
        address,
        dataDir: join(root, id),
        process: null,
        logs: [],
        exchange: new ExchangeServiceClient(address, grpc.credentials.createInsecure()),
        cluster: new ClusterServiceClient(address, grpc.credentials.createInsecure()),
      };
    });
    const cluster = new TestCluster(nodes, root, options);
    for (const node of nodes) cluster.spawn(node.id);
    return cluster;
  }

  node(id: string): TestNode {
    const node = this.nodes.find((n) => n.id === id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Starts (or restarts) a node's process with the cluster's flags and its existing data dir. */
  spawn(id: string): void {
    const node = this.node(id);
    if (node.process !== null) throw new Error(`${id} is already running`);
    const peers = this.nodes.filter((n) => n.id !== id).map((n) => `${n.id}=${n.address}`).join(',');
    const nodeFlags = this.options.nodeFlags ?? (process.env['RAFTEX_TEST_NODE_FLAGS']?.split(' ').filter((f) => f !== '') ?? []);
    const args = [
      ...nodeFlags,
      '--import', 'tsx', 'src/cli/main.ts', 'node',
      '--id', id, '--listen', node.address, '--data-dir', node.dataDir,
      '--election-timeout-ms', String(this.options.electionTimeoutMs ?? 300),
      '--heartbeat-ms', String(this.options.heartbeatMs ?? 50),
      ...(peers === '' ? [] : ['--peers', peers]),
      ...(this.options.extraArgs ?? []),
    ];
    const child = spawn(process.execPath, args, {
      cwd: repoRoot,
      env: { ...process.env, RAFTEX_LOG_LEVEL: this.options.logLevel ?? 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logDir = this.options.logDir ?? process.env['RAFTEX_TEST_LOG_DIR'];
    const keep = (chunk: Buffer): void => {
      if (logDir !== undefined) appendFileSync(join(logDir, `${id}.log`), chunk);
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        node.logs.push(line);
        if (node.logs.length > nodeLogLinesMax) node.logs.shift();
      }
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('exit', (code, signal) => {
      node.logs.push(`[process exited: ${signal ?? `code ${code}`}]`);
      if (logDir !== undefined) appendFileSync(join(logDir, `${id}.log`), `[process exited: ${signal ?? `code ${code}`}]\n`);
      if (node.process === child) node.process = null;
    });
    node.process = child;
  }

  /** Sends `signal` and resolves with the exit code/signal once the process is gone. */
  async kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    const child = this.node(id).process;
    if (child === null) return { code: null, signal: null };
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((ok) => {
      if (child.exitCode !== null || child.signalCode !== null) ok({ code: child.exitCode, signal: child.signalCode });
      else child.once('exit', (code, sig) => ok({ code, signal: sig }));
    });
    child.kill(signal);
    const result = await exited;
    this.node(id).process = null;
    return result;
  }

  async status(id: string, timeoutMs = 1000): Promise<GetStatusResponse> {
    const node = this.node(id);
    return unary(node.cluster, node.cluster.getStatus, { skipStateHash: false }, timeoutMs);
  }

  /** Statuses of the running nodes that answer (others are left out). */
  async statuses(ids: readonly string[] = this.running()): Promise<GetStatusResponse[]> {
    const all = await Promise.all(ids.map((id) => this.status(id, 500).catch(() => null)));
    return all.filter((s): s is GetStatusResponse => s !== null);
  }

  running(): string[] {
    return this.nodes.filter((n) => n.process !== null).map((n) => n.id);
  }

  /**
   * Waits until every running node (or `among`) reports the same leader, which reports itself
   * leader; resolves with its id.
   */
  async waitForLeader(timeoutMs = 15_000, among: readonly string[] = this.running()): Promise<string> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const statuses = await this.statuses(among);
      const leaders = statuses.filter((s) => s.role === Role.ROLE_LEADER);
      if (statuses.length === among.length && leaders.length === 1) {
        const leader = leaders[0]!;
        if (statuses.every((s) => s.leaderId === leader.nodeId && s.term === leader.term)) return leader.nodeId;
      }
      await sleep(50);
    }
    throw new Error(`no agreed leader among ${among.join(',')} within ${timeoutMs} ms\n${this.dumpLogs()}`);
  }

  /** Waits until the given nodes all report last_applied >= index. */
  async waitForApplied(index: number, ids: readonly string[] = this.running(), timeoutMs = 15_000): Promise<GetStatusResponse[]> {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      const statuses = await this.statuses(ids);
      if (statuses.length === ids.length && statuses.every((s) => s.lastApplied >= index)) return statuses;
      await sleep(50);
    }
    throw new Error(`nodes ${ids.join(',')} did not apply ${index} within ${timeoutMs} ms\n${this.dumpLogs()}`);
  }

  /** The last lines of every node's output, for failure messages. */
  dumpLogs(lines = 40): string {
    return this.nodes.map((n) => `--- ${n.id} ---\n${n.logs.slice(-lines).join('\n')}`).join('\n');
  }

  /** Kills every node, closes clients and removes the data dirs. */
  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => this.kill(n.id, 'SIGKILL')));
    for (const n of this.nodes) {
      n.exchange.close();
      n.cluster.close();
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((ok) => setTimeout(ok, ms));
}
