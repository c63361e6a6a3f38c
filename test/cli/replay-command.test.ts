/**
 * `raftex replay` against a real 3-node cluster with a prefix of the AAPL level-50 file: the
 * command's own checks (every reply and the final book equal to the in-process run) and an
 * independent one (the book read on every node equals a fresh in-process replay of the prefix).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GetOrderBookResponse, ListOrdersResponse } from '../../src/gen/raftex/v1/exchange.js';
import { parseLobsterFirstRow, parseLobsterMessages } from '../../src/replay/lobster-csv.js';
import { replayInProcess } from '../../src/replay/in-process-replay.js';
import { repoRoot, runCli, TestCluster, unary } from '../support/cluster.js';

const dataDir = join(repoRoot, '..', 'shared', 'data');
const messageFile = join(dataDir, 'AAPL_2012-06-21_34200000_37800000_message_50.csv');
const bookFile = join(dataDir, 'AAPL_2012-06-21_34200000_37800000_orderbook_50_top1.csv');
const seedFile = join(dataDir, 'AAPL_2012-06-21_34200000_37800000_orderbook_50_first672.csv');
const haveData = existsSync(messageFile) && existsSync(bookFile) && existsSync(seedFile);
const limit = 2000;

if (!haveData) console.warn(`skipping replay-command tests: LOBSTER data not found under ${dataDir}`);

interface ReplayJson {
  runId: string;
  accounts: { buyer: string; seller: string; taker: string };
  replayLine: string;
  cluster: { messages: number; requests: number; replyMismatches: number; bookMatches: boolean; cancelledAtEnd: number };
}

type Levels = { price: string; quantity: string; orderCount: number }[];
const levels = (ls: Levels): string[] => ls.map((l) => `${Number(l.quantity)}@${Number(l.price)}x${l.orderCount}`);

describe.skipIf(!haveData)('raftex replay through a 3-node cluster', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({ nodes: 3 });
    // Generous: node start-up through tsx is slow on a loaded 2-core machine.
    await cluster.waitForLeader(60_000);
  }, 90_000);
  afterAll(async () => {
    await cluster?.stop();
  });

  async function book(id: string): Promise<GetOrderBookResponse> {
    const n = cluster.node(id);
    return unary(n.exchange, n.exchange.getOrderBook, { symbol: 'AAPL', depth: 1000 }, 10_000);
  }

  it('replays a prefix through a follower (--keep): replies and book equal the in-process engine on every node', async () => {
    const leader = await cluster.waitForLeader(30_000);
    const follower = cluster.nodes.find((n) => n.id !== leader)!;
    // Through a follower: every write is forwarded, and the stream's order must still hold.
    const run = await runCli([
      'replay', messageFile, '--orderbook', bookFile, '--seed-book', seedFile, '--limit', String(limit),
      '--concurrency', '32', '--keep', '--server', follower.address,
    ], 120_000);
    // Exit 0 means: no reply differed from the in-process run and the final books are equal.
    expect(run.code, `${run.stdout}\n${run.stderr}\n${cluster.dumpLogs()}`).toBe(0);
    expect(run.stdout).toMatch(new RegExp(
      `^replay: ${limit} msgs, \\d+ trades, top-of-book match [\\d.]+% of ${limit} rows, \\d+ msgs/s\\n`
      + `cluster: ${limit} msgs, \\d+ orders/s, p50=[\\d.]+ ms, p99=[\\d.]+ ms, book matches in-process: yes\\n$`));
    expect(run.stderr).toMatch(/replay \[#+\] \d+\/\d+ requests/);

    // The GetStatus counters saw the run: every node made the entries durable, in batches.
    for (const node of cluster.nodes) {
      const s = await cluster.status(node.id, 5000);
      expect(s.entriesPersisted, node.id).toBeGreaterThanOrEqual(limit);
      expect(s.fsyncs, node.id).toBeGreaterThan(0);
      expect(s.fsyncs, node.id).toBeLessThanOrEqual(s.entriesPersisted + 10);
    }

    // Independently: a fresh in-process replay of the same prefix (ids differ, levels do not).
    const messages = parseLobsterMessages(readFileSync(messageFile, 'utf8')).slice(0, limit);
    const local = replayInProcess(messages, { symbol: 'AAPL', seedBook: parseLobsterFirstRow(readFileSync(seedFile, 'utf8')) });
    const want = local.exchange.orderBook('AAPL', 1000)!;
    expect(want.bids.length).toBeGreaterThan(0);
    expect(want.asks.length).toBeGreaterThan(0);
    for (const node of cluster.nodes) {
      const got = await book(node.id);
      expect(levels(got.bids), node.id).toEqual(levels(want.bids));
      expect(levels(got.asks), node.id).toEqual(levels(want.asks));
    }
  }, 180_000);

  it('on a non-empty book the comparison fails (exit 1); the run cancels its own orders at the end', async () => {
    // The first run kept its orders: this run's IOC takers meet them, so the books must differ.
    const run = await runCli(['replay', messageFile, '--seed-book', seedFile, '--limit', '300', '--json', '--server', cluster.nodes[0]!.address], 120_000);
    expect(run.code, run.stderr).toBe(1);
    expect(run.stderr).toMatch(/book is not empty before the run/);
    const out = JSON.parse(run.stdout) as ReplayJson;
    expect(out.replayLine).toMatch(/^replay: 300 msgs, /);
    expect(out.cluster.bookMatches).toBe(false);
    expect(out.cluster.cancelledAtEnd).toBeGreaterThan(0);
    const n = cluster.nodes[2]!;
    for (const accountId of Object.values(out.accounts)) {
      expect(accountId.startsWith(out.runId)).toBe(true);
      const open: ListOrdersResponse = await unary(n.exchange, n.exchange.listOrders, { accountId }, 10_000);
      expect(open.orders, accountId).toEqual([]);
    }
  }, 180_000);
});
