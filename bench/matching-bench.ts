/**
 * `npm run bench:matching`: the AAPL LOBSTER message file replayed in-process through raftex's
 * engine and through nodejs-order-book (floats), alternating in the same process, several rounds,
 * median reported:
 *
 *   bench:matching raftex=<msgs/s> nodejs-order-book=<msgs/s> ratio=<x>
 *
 * Same work for both: the LOBSTER adapter's command stream is recorded once (parsing, seeding
 * decisions and level adjustments are not timed); each round then applies exactly that stream.
 * raftex gets the commands as they travel in the log (decimal strings, parsed inside `apply`);
 * nodejs-order-book gets the same operations pre-converted to its float arguments:
 * placeOrder -> limit (GTC/IOC), cancelOrder -> cancel, reduceOrder -> modify(size), which in that
 * library is cancel + re-add (it has no in-place reduce). Deposits have no counterpart there.
 *
 * Both sides are timed in wall time and in process CPU time (`process.cpuUsage()`, user + system,
 * which includes GC helper threads); on a shared box the CPU figures are the steadier ones. A full
 * GC runs before every timed run so neither side pays for the other's garbage. raftex is timed
 * twice: `apply` alone (what a follower does: the reply and the events of the hot commands are
 * built on first read, domain/apply-results.ts, and a follower reads neither) and `apply` with
 * every reply and event read (what the RxJS projection does), printed as `raftex+events`.
 *
 * Options: env ROUNDS (default 7), env DATA_DIR (default ../shared/data), env ONLY=raftex,
 * ONLY=raftex+events or ONLY=nodejs-order-book to run one side (for `node --cpu-prof --import tsx bench/matching-bench.ts`).
 */
import { readFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { OrderBook, Side } from 'nodejs-order-book';
import { Exchange } from '../domain/index.js';
import { parseLobsterFirstRow, parseLobsterMessages } from '../src/replay/lobster-csv.js';
import { replayInProcess, type RecordedCommand } from '../src/replay/in-process-replay.js';
import { assert, assertNever } from '../src/raft/assert.js';

const rounds = Number(process.env['ROUNDS'] ?? 7);
const only = process.env['ONLY'];
assert(only === undefined || ['raftex', 'raftex+events', 'nodejs-order-book'].includes(only), `ONLY=${only ?? ''}: not a side`);
const dataDir = process.env['DATA_DIR'] ?? new URL('../../shared/data/', import.meta.url).pathname;
const prefix = `${dataDir}/AAPL_2012-06-21_34200000_37800000_`;

type NobOp =
  | { op: 'limit'; side: Side; id: string; size: number; price: number; tif: 'GTC' | 'IOC' }
  | { op: 'cancel'; id: string }
  | { op: 'modify'; id: string; size: number };

/** The recorded stream as nodejs-order-book calls, floats computed up front (not timed). */
function toNobOps(recorded: readonly RecordedCommand[]): NobOp[] {
  const ops: NobOp[] = [];
  for (const { command: c, reply } of recorded) {
    switch (c.type) {
      case 'deposit':
      case 'withdraw':
        break;
      case 'placeOrder':
        assert(c.orderType === 'limit' && c.price !== null && c.timeInForce !== 'fok', 'the replay only places GTC/IOC limits');
        assert(reply.kind === 'order', `recorded place answered ${reply.kind}`);
        ops.push({
          op: 'limit', side: c.side === 'buy' ? Side.BUY : Side.SELL, id: reply.orderId,
          size: Number(c.quantity), price: Number(c.price), tif: c.timeInForce === 'gtc' ? 'GTC' : 'IOC',
        });
        break;
      case 'cancelOrder':
        ops.push({ op: 'cancel', id: c.orderId });
        break;
      case 'reduceOrder':
        assert(reply.kind === 'reduce', `recorded reduce answered ${reply.kind}`);
        ops.push({ op: 'modify', id: c.orderId, size: Number(reply.remainingQuantity) });
        break;
      default:
        assertNever(c);
    }
  }
  return ops;
}

setFlagsFromString('--expose-gc');
const fullGc = runInNewContext('gc') as () => void;

/** Wall and CPU milliseconds since `start()`. */
interface Timing {
  ms: number;
  cpuMs: number;
}

function start(): () => Timing {
  fullGc();
  const wall = performance.now();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return { ms: performance.now() - wall, cpuMs: (used.user + used.system) / 1000 };
  };
}

/** Sink for the events read in `withEvents` runs, so the reads cannot be optimised away. */
let eventsRead = 0;

function runRaftex(recorded: readonly RecordedCommand[], withEvents: boolean): Timing & { exchange: Exchange } {
  const exchange = new Exchange();
  const stop = start();
  for (let i = 0; i < recorded.length; i++) {
    const r = recorded[i]!;
    const result = exchange.apply(r.command, { logIndex: r.logIndex, timestampMs: r.timestampMs });
    // The projection reads the reply too (and both are built on first read), so this side does.
    if (withEvents) eventsRead += result.events.length + (result.reply.kind === 'rejected' ? 1 : 0);
  }
  return { ...stop(), exchange };
}

function runNob(ops: readonly NobOp[]): Timing & { book: OrderBook } {
  const book = new OrderBook();
  const stop = start();
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i]!;
    switch (o.op) {
      case 'limit':
        book.limit({ side: o.side, id: o.id, size: o.size, price: o.price, timeInForce: o.tif as never });
        break;
      case 'cancel':
        book.cancel(o.id);
        break;
      case 'modify':
        book.modify(o.id, { size: o.size });
        break;
      default:
        assertNever(o);
    }
  }
  return { ...stop(), book };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const messages = parseLobsterMessages(readFileSync(`${prefix}message_50.csv`, 'utf8'));
  const seedBook = parseLobsterFirstRow(readFileSync(`${prefix}orderbook_50_first672.csv`, 'utf8'));
  const recorded: RecordedCommand[] = [];
  replayInProcess(messages, { symbol: 'AAPL', seedBook, record: recorded });
  const ops = toNobOps(recorded);
  type Which = 'raftex' | 'raftex+events' | 'nodejs-order-book';
  const all: Which[] = ['raftex', 'raftex+events', 'nodejs-order-book'];
  const sides = all.filter((w) => only === undefined || w === only);
  const wallRates = new Map<Which, number[]>(sides.map((w) => [w, []]));
  const cpuRates = new Map<Which, number[]>(sides.map((w) => [w, []]));
  const last: { exchange: Exchange | null; book: OrderBook | null } = { exchange: null, book: null };
  for (let r = 0; r < rounds; r++) {
    // Rotate which goes first so warm-up and GC drift do not favour one side.
    const order = sides.map((_, i) => sides[(i + r) % sides.length]!);
    for (const which of order) {
      let t: Timing;
      if (which === 'nodejs-order-book') {
        const res = runNob(ops);
        last.book = res.book;
        t = res;
      } else {
        const res = runRaftex(recorded, which === 'raftex+events');
        last.exchange = res.exchange;
        t = res;
      }
      wallRates.get(which)!.push((messages.length * 1000) / t.ms);
      cpuRates.get(which)!.push((messages.length * 1000) / t.cpuMs);
    }
  }
  // Same work: both books must end with the same top of book.
  if (last.exchange !== null && last.book !== null) {
    const ours = last.exchange.orderBook('AAPL', 1);
    const depth = last.book.depth();
    // Pick the best levels by price rather than trusting the library's iteration order.
    const theirBid = depth[1].reduce<[number, number] | undefined>((b, l) => (b === undefined || l[0] > b[0] ? l : b), undefined);
    const theirAsk = depth[0].reduce<[number, number] | undefined>((b, l) => (b === undefined || l[0] < b[0] ? l : b), undefined);
    const sameBid = ours?.bids[0] !== undefined && theirBid !== undefined && Number(ours.bids[0].price) === theirBid[0] && Number(ours.bids[0].quantity) === theirBid[1];
    const sameAsk = ours?.asks[0] !== undefined && theirAsk !== undefined && Number(ours.asks[0].price) === theirAsk[0] && Number(ours.asks[0].quantity) === theirAsk[1];
    if (!sameBid || !sameAsk) {
      console.error(`bench:matching: warning: final tops differ: raftex ${JSON.stringify(ours)} nodejs-order-book bid ${JSON.stringify(theirBid)} ask ${JSON.stringify(theirAsk)}`);
    }
  }
  const wall = (w: Which): number => median(wallRates.get(w)!);
  const cpu = (w: Which): number => median(cpuRates.get(w)!);
  if (only !== undefined) {
    const w = only as Which;
    console.log(`bench:matching ${w}=${Math.round(wall(w))} cpu:${w}=${Math.round(cpu(w))} (one side only; events read ${eventsRead})`);
    return;
  }
  const nob = 'nodejs-order-book';
  console.log(`bench:matching raftex=${Math.round(wall('raftex'))} nodejs-order-book=${Math.round(wall(nob))} ratio=${(wall('raftex') / wall(nob)).toFixed(2)}`);
  console.log(`bench:matching cpu-time raftex=${Math.round(cpu('raftex'))} raftex+events=${Math.round(cpu('raftex+events'))} nodejs-order-book=${Math.round(cpu(nob))} ratio=${(cpu('raftex') / cpu(nob)).toFixed(2)} ratio+events=${(cpu('raftex+events') / cpu(nob)).toFixed(2)} (${rounds} rounds, median msgs/s)`);
}

main();
