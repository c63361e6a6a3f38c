/**
 * `npm run bench:restart`: restart time with 1,000,000 committed orders.
 *
 * 1. Load: a single-node cluster (startNode, the node's own WAL, snapshotter and compaction code
 *    paths) in this process is fed ORDERS orders at full speed (pairs that cross, so the book
 *    stays small and the state is what a busy day leaves: trades, balances, bounded recent-order
 *    and idempotency windows), then stopped cleanly.
 * 2. Restart: `raftex node` is spawned on that data dir and timed from spawn until its gRPC
 *    health check reports SERVING (snapshot restore + WAL tail replay + the single-node election).
 *
 * Env: ORDERS (default 1000000), TAIL (entries after the last snapshot, default 9999), BENCH_DIR (reuse a data dir: skips the load when it already
 * holds a node), RAFTEX_CMD (the command to run instead of `node --import tsx src/cli/main.ts`,
 * e.g. `node bin/raftex.js` once built).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { pino } from 'pino';
import { decodeCommand, Exchange, encodeCommand, type Command } from '../domain/index.js';
import { CommittedStream } from '../src/node/committed-stream.js';
import { defaultSnapshotPolicy } from '../src/node/snapshotter.js';
import { projectExchange, startNode } from '../src/node/start-node.js';
import { RaftNode, SeededRng, defaultRaftConfig, type SnapshotMeta } from '../src/raft/index.js';
import { DiskStorage } from '../src/storage/index.js';
import { decodeNodeSnapshot } from '../src/node/node-snapshot.js';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const orders = Number(process.env['ORDERS'] ?? 1_000_000);
/** Orders submitted concurrently while loading (under the core's uncommittedEntriesMax). */
const loadWindowMax = 4_000;
const accounts = 100;
/** Health polling interval while waiting for SERVING. */
const pollMs = 10;
const servingTimeoutMs = 120_000;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  await new Promise((ok) => server.close(ok));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function orderCommand(i: number): Command {
  // Orders come in pairs: a buy and a sell at the same price from two accounts, so they trade.
  const pair = Math.floor(i / 2);
  const buy = i % 2 === 0;
  const account = `a${(pair + (buy ? 0 : 1)) % accounts}`;
  return {
    type: 'placeOrder', accountId: account, clientOrderId: `o${i}`, symbol: 'AAPL', side: buy ? 'buy' : 'sell',
    orderType: 'limit', quantity: '1', price: String(100 + (pair % 5)), timeInForce: 'gtc',
  } as unknown as Command;
}

/** Commands proposed per Ready while loading offline (a big group commit). */
const offlineBatchMax = 5_000;
/**
 * Entries the restart replays after the last snapshot: the loader takes no snapshot in the last
 * TAIL entries. Default: one short of a snapshot interval, the worst case a restart meets.
 */
const tailEntries = Number(process.env['TAIL'] ?? defaultSnapshotPolicy.entriesPerSnapshot - 1);

/**
 * The fast loader: the node's own pieces without the RPC layer. A single-voter RaftNode over
 * DiskStorage, driven as the driver does (persist, sync, apply, advance), the exchange folded by
 * the same projection, snapshots saved and the log compacted by the default policy.
 */
async function loadOffline(dataDir: string): Promise<void> {
  const began = performance.now();
  const storage = await DiskStorage.open(dataDir);
  const core = new RaftNode(defaultRaftConfig('n1', ['n1']), storage, new SeededRng(1));
  const committed = new CommittedStream(0);
  const projection = projectExchange(committed.entries$);
  let snapshotIndex = 0;
  let snapshots = 0;
  let lastApplied = { index: 0, term: 0, timestampMs: 0 };
  // The election's no-op, two deposits per account, then the orders.
  const finalIndex = 1 + 2 * accounts + orders;
  const drain = async (): Promise<void> => {
    while (core.hasReady()) {
      const ready = core.ready();
      storage.append(ready.entries);
      if (ready.hardState !== null) storage.setHardState(ready.hardState);
      await storage.sync();
      for (const entry of ready.committed) {
        committed.publish(entry);
        lastApplied = entry;
      }
      core.advance(ready);
      if (lastApplied.index - snapshotIndex >= defaultSnapshotPolicy.entriesPerSnapshot && lastApplied.index <= finalIndex - tailEntries) {
        const meta: SnapshotMeta = { index: lastApplied.index, term: lastApplied.term, voters: ['n1'], learners: [], timestampMs: lastApplied.timestampMs };
        await storage.saveSnapshot({ meta, data: projection.exchange.snapshot() });
        core.compact(meta, meta.index - defaultSnapshotPolicy.trailingEntries);
        snapshotIndex = meta.index;
        snapshots++;
      }
    }
  };
  core.campaign();
  await drain();
  const propose = async (commands: readonly Command[]): Promise<void> => {
    for (const command of commands) {
      const result = core.propose(encodeCommand(command), Date.now());
      if (!result.ok) throw new Error(`proposal refused: ${result.reason}`);
    }
    await drain();
  };
  const fund: Command[] = [];
  for (let a = 0; a < accounts; a++) {
    fund.push({ type: 'deposit', accountId: `a${a}`, asset: 'USD', amount: '1000000000', requestId: `usd${a}` });
    fund.push({ type: 'deposit', accountId: `a${a}`, asset: 'AAPL', amount: '1000000000', requestId: `aapl${a}` });
  }
  await propose(fund);
  for (let i = 0; i < orders; i += offlineBatchMax) {
    const batch: Command[] = [];
    for (let j = i; j < Math.min(orders, i + offlineBatchMax); j++) batch.push(orderCommand(j));
    await propose(batch);
    if ((i + offlineBatchMax) % 100_000 === 0) console.log(`  load: ${i + offlineBatchMax} orders committed`);
  }
  await storage.close();
  const secs = (performance.now() - began) / 1000;
  console.log(`load (offline): ${orders} orders committed in ${secs.toFixed(1)} s (${(orders / secs).toFixed(0)}/s), ` +
    `${snapshots} snapshots, last at ${snapshotIndex}, state ${projection.exchange.stateHash().slice(0, 12)}`);
}

/** The slow loader (LOAD=node): a running single-node cluster fed through ExchangeNode.submit. */
async function load(dataDir: string): Promise<void> {
  const running = await startNode({ id: 'n1', listen: `127.0.0.1:${await freePort()}`, peers: new Map(), dataDir, logger: pino({ level: 'warn' }) });
  const node = running.node;
  const began = performance.now();
  while (node.status().role !== 'leader') await new Promise((r) => setTimeout(r, 10));
  const deadline = (): number => Date.now() + 60_000;
  for (let a = 0; a < accounts; a++) {
    await node.submit({ type: 'deposit', accountId: `a${a}`, asset: 'USD', amount: '1000000000', requestId: `usd${a}` }, deadline());
    await node.submit({ type: 'deposit', accountId: `a${a}`, asset: 'AAPL', amount: '1000000000', requestId: `aapl${a}` }, deadline());
  }
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < orders) {
      const i = next++;
      await node.submit(orderCommand(i), deadline());
      done++;
      if (done % 100_000 === 0) console.log(`  load: ${done} orders committed (${(done / ((performance.now() - began) / 1000)).toFixed(0)}/s)`);
    }
  };
  await Promise.all(Array.from({ length: loadWindowMax }, worker));
  const secs = (performance.now() - began) / 1000;
  console.log(`load: ${orders} orders committed in ${secs.toFixed(1)} s (${(orders / secs).toFixed(0)}/s), ` +
    `${node.snapshotter?.stats.taken ?? 0} snapshots, last at ${node.snapshotter?.stats.lastIndex ?? 0} (${node.snapshotter?.stats.lastBytes ?? 0} bytes)`);
  await running.stop();
}

/** A grpc.health.v1 client for `address` (one channel, reused across polls). */
function healthClient(address: string): grpc.Client {
  const healthRoot = dirname(dirname(dirname(healthProtoPath)));
  const def = protoLoader.loadSync('health/v1/health.proto', { includeDirs: [healthRoot], enums: String });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
  return new pkg.grpc.health.v1.Health(address, grpc.credentials.createInsecure(), { 'grpc.initial_reconnect_backoff_ms': pollMs, 'grpc.max_reconnect_backoff_ms': pollMs });
}

function healthServing(client: grpc.Client): Promise<boolean> {
  return new Promise((ok) => {
    const check = (client as unknown as Record<string, (req: object, opts: object, cb: (e: grpc.ServiceError | null, r?: { status: string }) => void) => void>)['check']!;
    check.call(client, { service: '' }, { deadline: Date.now() + 500 }, (error, reply) => ok(error === null && reply?.status === 'SERVING'));
  });
}

/**
 * The `raftex` command to time: RAFTEX_CMD, else the package's bin (`node bin/raftex.js`, the
 * tsc build that `npm install` makes: what `npx raftex node` runs), else tsx on the sources.
 */
async function raftexCommand(): Promise<{ command: string[]; how: string }> {
  const explicit = process.env['RAFTEX_CMD'];
  if (explicit !== undefined) return { command: explicit.split(' '), how: explicit };
  if (existsSync(join(repoRoot, 'dist/src/cli/main.js'))) {
    return { command: [process.execPath, join(repoRoot, 'bin/raftex.js')], how: 'node bin/raftex.js, the built package bin' };
  }
  return { command: [process.execPath, '--import', 'tsx', join(repoRoot, 'src/cli/main.ts')], how: 'tsx src/cli/main.ts (no build found)' };
}

async function restart(dataDir: string): Promise<number> {
  const listen = `127.0.0.1:${await freePort()}`;
  const { command, how } = await raftexCommand();
  console.log(`restart: timing \`raftex node\` (${how}) from spawn to health SERVING`);
  const client = healthClient(listen);
  const started = performance.now();
  const child = spawn(command[0]!, [...command.slice(1), 'node', '--id', 'n1', '--listen', listen, '--data-dir', dataDir, '--log-level', 'warn'], {
    cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    while (performance.now() - started < servingTimeoutMs) {
      if (child.exitCode !== null) throw new Error(`raftex node exited with ${child.exitCode}`);
      if (await healthServing(client)) return (performance.now() - started) / 1000;
      await new Promise((r) => setTimeout(r, pollMs));
    }
    throw new Error('raftex node never reported SERVING');
  } finally {
    client.close();
    child.kill('SIGTERM');
    await new Promise((ok) => child.once('exit', ok));
  }
}

/**
 * Where a restart's time goes, measured in this process as `raftex node` does it: WAL open and
 * replay (DiskStorage.open, which also reads and checks the newest snapshot file), snapshot
 * load, exchange restore, and the first apply (the WAL tail after the snapshot folded into the
 * restored exchange, as the node's first Ready does).
 */
async function breakdown(dataDir: string): Promise<void> {
  const t0 = performance.now();
  const storage = await DiskStorage.open(dataDir);
  const t1 = performance.now();
  const snapshot = await storage.loadSnapshot();
  const t2 = performance.now();
  const exchange = snapshot === null ? new Exchange() : Exchange.restore(decodeNodeSnapshot(snapshot.data).exchange);
  const t3 = performance.now();
  const from = Math.max(exchange.lastAppliedIndex + 1, storage.firstIndex());
  const entries = storage.entries(from, storage.lastIndex() + 1);
  for (const e of entries) {
    if (e.type === 'command') exchange.apply(decodeCommand(e.data), { logIndex: e.index, timestampMs: e.timestampMs });
    else exchange.advanceTo(e.index);
  }
  const t4 = performance.now();
  const walBytes = storage.segments().reduce((n, seg) => n + seg.bytes, 0);
  await storage.close();
  const ms = (a: number, b: number): string => `${(b - a).toFixed(0)} ms`;
  console.log(`restart breakdown (in process): WAL open+replay ${ms(t0, t1)} (${storage.segments().length} segments, ${walBytes} bytes), ` +
    `snapshot load ${ms(t1, t2)} (${snapshot?.data.byteLength ?? 0} bytes), exchange restore ${ms(t2, t3)}, ` +
    `first apply ${ms(t3, t4)} (${entries.length} entries); total ${ms(t0, t4)}; load average ${(await import('node:os')).loadavg()[0]!.toFixed(1)}`);
}

async function main(): Promise<void> {
  const reuse = process.env['BENCH_DIR'];
  const dataDir = reuse ?? await mkdtemp(join(tmpdir(), 'raftex-restart-'));
  try {
    if (reuse === undefined || !existsSync(join(dataDir, 'snap'))) await (process.env['LOAD'] === 'node' ? load(dataDir) : loadOffline(dataDir));
    // What the restart will find: the snapshot it restores and the WAL tail it replays.
    const storage = await DiskStorage.open(dataDir);
    const snapshotIndex = storage.snapshot()?.index ?? 0;
    const committed = storage.hardState().commitIndex;
    const tail = storage.lastIndex() - snapshotIndex;
    await storage.close();
    const seconds = await restart(dataDir);
    console.log(`restart: ${orders} committed orders, restored in ${seconds.toFixed(2)} s (snapshot at ${snapshotIndex}, replayed ${tail} entries; commit index ${committed})`);
    await breakdown(dataDir);
  } finally {
    if (reuse === undefined) await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
