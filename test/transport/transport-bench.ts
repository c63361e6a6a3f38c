/**
 * Loopback figures for the peer transport (prints, asserts nothing):
 *   npx tsx test/transport/transport-bench.ts [--seconds 2] [--entries 64] [--entry-bytes 100] [--window 8]
 * 1. heartbeat round trip: one empty AppendEntries at a time, p50/p99 latency;
 * 2. pipelined appends: `window` AppendEntries of `entries` x `entry-bytes` in flight at once,
 *    entries/s and MB/s through codec + gRPC + codec and back.
 * Both ends live in this process, so the figures include both sides' CPU on one event loop.
 */
import type { AppendEntries, LogEntry, Message } from '../../src/raft/types.js';
import { GrpcServer } from '../../src/transport/grpc-server.js';
import { PeerClients } from '../../src/transport/peer-clients.js';
import { cooperativeAnswer } from './transport-fixtures.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} must be a positive number`);
  return v;
}

const seconds = arg('seconds', 2);
const entriesPerAppend = arg('entries', 64);
const entryBytes = arg('entry-bytes', 100);
const window = arg('window', 8);

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function cpuMicros(usage: NodeJS.CpuUsage): number {
  return usage.user + usage.system;
}

async function main(): Promise<void> {
  const server = new GrpcServer({ onMessage: (m) => Promise.resolve(cooperativeAnswer(m)), onReadIndex: () => Promise.resolve({ readIndex: 0, leaderId: 'n2' }) }, { selfId: 'n2' });
  const port = await server.start('127.0.0.1:0');
  let onReply: (m: Message) => void = () => undefined;
  const clients = new PeerClients(new Map([['n2', `127.0.0.1:${port}`]]), (m) => onReply(m), { selfId: 'n1' });

  // 1. Sequential heartbeats.
  const latenciesMs: number[] = [];
  const hbCpu = process.cpuUsage();
  const hbEnd = performance.now() + seconds * 1000;
  let round = 0;
  while (performance.now() < hbEnd) {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      onReply = () => resolve();
      clients.send({ type: 'appendEntries', from: 'n1', to: 'n2', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round: ++round });
    });
    latenciesMs.push(performance.now() - start);
  }
  const hbCpuUs = cpuMicros(process.cpuUsage(hbCpu));
  latenciesMs.sort((a, b) => a - b);
  console.log(
    `heartbeat round trip: ${latenciesMs.length} calls, p50 ${percentile(latenciesMs, 50).toFixed(3)} ms, ` +
      `p99 ${percentile(latenciesMs, 99).toFixed(3)} ms, CPU ${Math.round(hbCpuUs / latenciesMs.length)} us/call (both ends)`,
  );

  // 2. Pipelined appends with a fixed window.
  const data = new Uint8Array(entryBytes).fill(7);
  let nextIndex = 1;
  const append = (): AppendEntries => {
    const prev = nextIndex - 1;
    const entries: LogEntry[] = [];
    for (let i = 0; i < entriesPerAppend; i++) entries.push({ index: nextIndex++, term: 1, type: 'command', timestampMs: Date.now(), data });
    return { type: 'appendEntries', from: 'n1', to: 'n2', term: 1, prevLogIndex: prev, prevLogTerm: prev === 0 ? 0 : 1, entries, leaderCommit: prev, round: 0 };
  };
  let acked = 0;
  const appendCpu = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  await new Promise<void>((resolve) => {
    let outstanding = 0;
    onReply = (m) => {
      if (m.type !== 'appendEntriesResponse') return;
      acked += m.entryCount;
      outstanding--;
      if (performance.now() < end) {
        outstanding++;
        clients.send(append());
      } else if (outstanding === 0) resolve();
    };
    for (let i = 0; i < window; i++) {
      outstanding++;
      clients.send(append());
    }
  });
  const elapsedS = (performance.now() - start) / 1000;
  const appendCpuUs = cpuMicros(process.cpuUsage(appendCpu));
  const stats = clients.stats().get('n2')!;
  console.log(
    `pipelined appends: ${entriesPerAppend} x ${entryBytes} B entries, window ${window}: ` +
      `${Math.round(acked / elapsedS)} entries/s, ${((acked * entryBytes) / elapsedS / 1e6).toFixed(1)} MB/s payload, ` +
      `${Math.round((stats.delivered - latenciesMs.length) / elapsedS)} RPCs/s, CPU ${(appendCpuUs / acked).toFixed(1)} us/entry (both ends) (failed ${stats.failed}, dropped ${stats.droppedInflight})`,
  );

  clients.close();
  await server.stop(200);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
