/**
 * The verdict after the cluster healed: every acknowledged write applied exactly once, no write
 * applied twice, all nodes identical, cash and shares conserved, every trade stream gap- and
 * duplicate-free.
 */
import { credentials, Metadata, status, type ServiceError } from '@grpc/grpc-js';
import { ExchangeServiceClient, OrderStatus, type GetPortfolioResponse, type Trade } from '../../src/gen/raftex/v1/exchange.js';
import type { ChaosCluster } from './chaos-cluster.js';
import type { ChaosHistory } from './chaos-history.js';
import { chaosSymbols, toCents, type TradeFollower } from './chaos-client.js';

export interface Verdict {
  lost: number;
  dup: number;
  divergent: number;
  problems: string[];
}

const convergenceTimeoutMs = 60_000;

/** Waits until every node reports the same last_applied (= its commit index) and state hash. */
export async function awaitConvergence(cluster: ChaosCluster, verdict: Verdict): Promise<number> {
  const until = Date.now() + convergenceTimeoutMs;
  let last = '';
  while (Date.now() < until) {
    const statuses = await Promise.all(cluster.nodes.map((n) => cluster.status(n, 2000)));
    if (statuses.every((s) => s !== null)) {
      const applied = new Set(statuses.map((s) => s!.lastApplied));
      const hashes = new Set(statuses.map((s) => s!.stateHash));
      const leaders = statuses.filter((s) => s!.role === 3);
      last = statuses.map((s) => `${s!.nodeId}:role=${s!.role},term=${s!.term},commit=${s!.commitIndex},applied=${s!.lastApplied},hash=${s!.stateHash.slice(0, 12)}`).join(' ');
      if (leaders.length === 1 && applied.size === 1 && hashes.size === 1 && statuses.every((s) => s!.commitIndex === s!.lastApplied)) {
        return statuses[0]!.lastApplied;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  verdict.divergent = cluster.nodes.length;
  verdict.problems.push(`no convergence within ${convergenceTimeoutMs} ms: ${last}`);
  return -1;
}

function unary<Res>(client: ExchangeServiceClient, method: string, request: object): Promise<Res> {
  return new Promise((resolve, reject) => {
    const fn = (client as unknown as Record<string, (r: object, m: Metadata, o: object, cb: (e: ServiceError | null, r: Res) => void) => void>)[method]!;
    fn.call(client, request, new Metadata(), { deadline: Date.now() + 10_000 }, (e, r) => (e ? reject(e) : resolve(r)));
  });
}

async function resendWithRetry(write: ChaosHistory['writes'][number]) {
  let lastError: unknown;
  for (let i = 0; i < 20; i++) {
    try {
      return await write.resend();
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  throw lastError;
}

interface TradeReplay {
  readonly trades: Trade[];
  /** The node refused the replay: the first log index it said it can resume from. */
  readonly resumeFrom: number | null;
  /** The stream broke off some other way: the trades are only a prefix. */
  readonly failed: string | null;
}

/** Reads every committed trade from `fromLogIndex` up to `appliedIndex` on one node. */
async function tradesFrom(address: string, fromLogIndex: number, appliedIndex: number): Promise<TradeReplay> {
  const client = new ExchangeServiceClient(address, credentials.createInsecure());
  const trades: Trade[] = [];
  let resumeFrom: number | null = null;
  let failed: string | null = null;
  await new Promise<void>((resolve) => {
    const stream = client.streamTrades({ symbol: '', fromLogIndex });
    let timer = setTimeout(() => { stream.cancel(); }, 3000);
    stream.on('data', (t: Trade) => {
      trades.push(t);
      clearTimeout(timer);
      timer = setTimeout(() => stream.cancel(), t.logIndex >= appliedIndex ? 300 : 3000);
    });
    stream.on('error', (e: ServiceError) => {
      clearTimeout(timer);
      const m = /resume from log index (\d+)/.exec(e.details ?? '');
      if (e.code === status.OUT_OF_RANGE && m) resumeFrom = Number(m[1]);
      else if (e.code !== status.CANCELLED) failed = `${status[e.code]}: ${e.details}`;
      resolve();
    });
    stream.on('end', () => resolve());
  });
  client.close();
  return { trades: trades.filter((t) => t.logIndex <= appliedIndex), resumeFrom, failed };
}

/**
 * The committed trade sequence as far back as any node can still replay it: nodes that restarted
 * from a snapshot (or installed one) only keep trades after it and say so with OUT_OF_RANGE.
 * Returns the trades and the log index they are complete from.
 */
async function committedTrades(cluster: ChaosCluster, appliedIndex: number): Promise<{ trades: Trade[]; from: number }> {
  let earliest: { address: string; from: number } | null = null;
  const failures: string[] = [];
  for (const node of cluster.nodes) {
    const replay = await tradesFrom(node.address, 1, appliedIndex);
    if (replay.failed !== null) failures.push(`${node.id}: ${replay.failed}`);
    else if (replay.resumeFrom === null) return { trades: replay.trades, from: 1 };
    else if (earliest === null || replay.resumeFrom < earliest.from) earliest = { address: node.address, from: replay.resumeFrom };
  }
  if (earliest === null) throw new Error(`no node replayed the committed trades: ${failures.join('; ')}`);
  const replay = await tradesFrom(earliest.address, earliest.from, appliedIndex);
  if (replay.failed !== null || replay.resumeFrom !== null) throw new Error(`the committed trades from ${earliest.from} broke off: ${replay.failed ?? 'trimmed'}`);
  return { trades: replay.trades, from: earliest.from };
}

export async function checkHistory(cluster: ChaosCluster, history: ChaosHistory, followers: TradeFollower[]): Promise<Verdict> {
  const verdict: Verdict = { lost: 0, dup: 0, divergent: 0, problems: [] };
  const problem = (kind: 'lost' | 'dup' | 'divergent', text: string) => {
    verdict[kind]++;
    if (verdict.problems.length < 50) verdict.problems.push(`${kind}: ${text}`);
  };

  await awaitConvergence(cluster, verdict);
  if (verdict.divergent > 0) return verdict;

  // 1. Every acknowledged keyed write is in the log at the index it was acknowledged with: the
  //    same request again must return the original reply. Uncertain writes are resolved the same
  //    way (after this, each keyed write has applied exactly once, or the dedup table is wrong).
  const applied: { asset: string; cents: bigint; sign: 1n | -1n }[] = [];
  for (const w of history.writes) {
    let again: Awaited<ReturnType<typeof w.resend>>;
    try {
      again = await resendWithRetry(w);
    } catch (e) {
      problem('lost', `${w.key}: resend failed after heal: ${(e as Error).message}`);
      continue;
    }
    if (w.outcome.kind === 'acked') {
      if (again.logIndex !== w.outcome.logIndex || again.ok !== w.outcome.ok || again.orderId !== w.outcome.orderId) {
        problem('lost', `${w.key}: acked at ${w.outcome.logIndex} (${w.outcome.summary}), now ${again.logIndex} (${again.summary})`);
      }
    }
    if (again.ok && (w.kind === 'deposit' || w.kind === 'withdraw')) {
      applied.push({ asset: w.asset, cents: w.amountCents, sign: w.kind === 'deposit' ? 1n : -1n });
    }
  }

  // 2. Conservation across all chaos accounts: total of each asset = deposits - withdrawals,
  //    each counted once. An excess means some write took effect twice.
  const client = new ExchangeServiceClient(cluster.nodes[0]!.address, credentials.createInsecure());
  const accounts = [...new Set(history.writes.map((w) => w.key.split('/')[0]!))];
  const totals = new Map<string, bigint>();
  for (const a of accounts) {
    const p = await unary<GetPortfolioResponse>(client, 'getPortfolio', { accountId: a });
    for (const b of p.balances) {
      totals.set(b.asset, (totals.get(b.asset) ?? 0n) + toCents(b.available, b.asset) + toCents(b.reserved, b.asset));
    }
  }
  for (const asset of ['USD', ...chaosSymbols]) {
    const expected = applied.filter((x) => x.asset === asset).reduce((s, x) => s + x.sign * x.cents, 0n);
    const actual = totals.get(asset) ?? 0n;
    if (actual !== expected) problem(actual > expected ? 'dup' : 'lost', `${asset}: held ${actual}, deposits - withdrawals = ${expected}`);
  }

  // 3. Acknowledged cancels stuck.
  for (const c of history.acknowledgedCancels) {
    const orders = await unary<{ orders: { orderId: string; status: OrderStatus }[] }>(client, 'listOrders', { accountId: c.accountId });
    if (orders.orders.some((o) => o.orderId === c.orderId)) problem('lost', `cancel of ${c.orderId} acknowledged but the order is open`);
  }
  client.close();

  // 4. Trade streams: each follower saw a prefix of the committed trade sequence, no gap, no dup.
  //    Checked from the earliest log index some node can still replay (all of it unless every
  //    node restarted from a snapshot since the first trades).
  const first = await cluster.status(cluster.nodes[0]!, 2000);
  let truth: { trades: Trade[]; from: number };
  try {
    truth = await committedTrades(cluster, first?.lastApplied ?? 0);
  } catch (e) {
    // Without the truth no stream can be checked: that is a failure, not a pass.
    problem('lost', (e as Error).message);
    truth = { trades: [], from: Number.MAX_SAFE_INTEGER };
  }
  if (truth.from > 1) verdict.problems.push(`note: trade streams checked from log index ${truth.from} (every node restarted from a snapshot since)`);
  const truthIds = truth.trades.map((t) => t.tradeId);
  if (new Set(truthIds).size !== truthIds.length) problem('dup', 'the committed trade stream repeats a trade id');
  // Before that index no node can replay the truth any more, but every follower started at log
  // index 1, so their views of it must agree: each is a prefix of the longest.
  const early = followers.map((f) => f.seen.filter((t) => t.logIndex < truth.from).map((t) => t.tradeId));
  const longest = early.reduce((a, b) => (b.length > a.length ? b : a), [] as string[]);
  early.forEach((ids, i) => {
    const k = ids.findIndex((id, j) => id !== longest[j]);
    if (k >= 0) problem('lost', `stream ${i}: trade #${k} is ${ids[k]}, another stream has ${longest[k]} there (gap or reorder)`);
  });
  followers.forEach((f, i) => {
    if (f.duplicates > 0) problem('dup', `stream ${i}: ${f.duplicates} duplicate trades`);
    const seen = f.seen.filter((t) => t.logIndex >= truth.from).map((t) => t.tradeId);
    for (let k = 0; k < seen.length; k++) {
      if (seen[k] !== truthIds[k]) {
        problem('lost', `stream ${i}: trade #${k} from log index ${truth.from} is ${seen[k]}, committed sequence has ${truthIds[k]} (gap or reorder)`);
        break;
      }
    }
  });

  // 5. Every node converges again to the same state after the resends.
  await awaitConvergence(cluster, verdict);
  return verdict;
}
