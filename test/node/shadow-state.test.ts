/**
 * The shadow-state worker's snapshots are byte-identical to the ones the node would capture on
 * its own thread at the same index: from empty, after a restart from a snapshot, with noop
 * entries in between and entry bytes that are views into a larger buffer. It runs the compiled
 * worker (`npm test` builds dist/ first).
 */
import { existsSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeCommand, encodeCommand, Exchange, type Command, type TradeView } from '../../domain/index.js';
import { encodeNodeSnapshot, snapshotTradesMax } from '../../src/node/node-snapshot.js';
import { ShadowState, ShadowStateError } from '../../src/node/shadow-state.js';
import { defaultTradeHistoryLimits, TradeHistory } from '../../src/node/trade-history.js';
import type { LogEntry } from '../../src/raft/types.js';
import { randomCommands } from '../domain/random-commands.js';

const workerUrl = new URL('../../dist/src/node/shadow-worker.js', import.meta.url);
const limits = { ...defaultTradeHistoryLimits, tradeHistoryMax: 500 };
const seed = Number(process.env.SHADOW_SEED ?? 4242);

/** Log entries for `commands`, with a noop every 7th index; each entry's bytes a view into one shared buffer. */
function entriesFor(commands: readonly Command[], firstIndex: number): LogEntry[] {
  const encoded = commands.map((c) => encodeCommand(c));
  const shared = new Uint8Array(encoded.reduce((n, b) => n + b.byteLength, 0) + 16);
  const entries: LogEntry[] = [];
  let at = 8;
  let index = firstIndex;
  for (const bytes of encoded) {
    if (index % 7 === 0) entries.push({ index: index++, term: 1, type: 'noop', timestampMs: 1_700_000_000_000 + index, data: new Uint8Array() });
    shared.set(bytes, at);
    entries.push({ index: index++, term: 1, type: 'command', timestampMs: 1_700_000_000_000 + index, data: shared.subarray(at, at + bytes.byteLength) });
    at += bytes.byteLength;
  }
  return entries;
}

/** The node's own fold (as projectExchange + TradeHistory do), captured inline. */
class InlineState {
  readonly exchange: Exchange;
  readonly trades: TradeHistory<TradeView>;

  constructor(from?: { exchange: Uint8Array; index: number; trades: { from: number; trades: TradeView[] } }) {
    this.exchange = from === undefined ? new Exchange() : Exchange.restore(from.exchange);
    this.trades = new TradeHistory<TradeView>(limits, from?.index ?? 0, from?.trades ?? null);
  }

  apply(entries: readonly LogEntry[]): void {
    for (const e of entries) {
      if (e.type !== 'command') {
        this.exchange.advanceTo(e.index);
        continue;
      }
      const result = this.exchange.apply(decodeCommand(e.data), { logIndex: e.index, timestampMs: e.timestampMs });
      for (const ev of result.events) if (ev.type === 'tradeExecuted') this.trades.record(ev.trade);
    }
  }

  capture(): Uint8Array {
    return encodeNodeSnapshot(this.exchange.snapshot(), this.trades.window(snapshotTradesMax));
  }
}

let shadows: ShadowState[] = [];

afterEach(async () => {
  await Promise.all(shadows.map((s) => s.close()));
  shadows = [];
});

function shadowFrom(snapshot: Uint8Array | null, index: number, onFailure?: (reason: string) => void): ShadowState {
  expect(existsSync(workerUrl), 'dist/ is missing: run `npm test` (it builds first)').toBe(true);
  const s = new ShadowState(workerUrl, { limits }, snapshot, index, onFailure);
  shadows.push(s);
  return s;
}

describe('shadow state worker', () => {
  it(`captures the same bytes as the node at the same index, from empty and after a restart (seed ${seed})`, async () => {
    // With retries: every 25th command is followed by a repeat of one ten before it (an idempotent
    // retry answers its original reply, trades included, and must record no trade again).
    const commands = randomCommands(seed, 3000);
    const all = entriesFor(commands.flatMap((c, i) => (i % 25 === 24 ? [c, commands[i - 10]!] : [c])), 1);
    const inline = new InlineState();
    const shadow = shadowFrom(null, 0);
    // Batches of uneven sizes, as Readies deliver them.
    let i = 0;
    for (const size of [1, 50, 333, 7, 1000]) {
      const batch = all.slice(i, i + size);
      i += size;
      inline.apply(batch);
      shadow.appliedEntries(batch);
    }
    const at = all[i - 1]!.index;
    // Real content: trades in the window, orders resting.
    expect(inline.trades.window(snapshotTradesMax).trades.length).toBeGreaterThan(0);
    const expected = inline.capture();
    expect(Buffer.from(await shadow.capture(at)).equals(Buffer.from(expected)), `seed ${seed}: shadow bytes differ at ${at}`).toBe(true);

    // A shadow restarted from those bytes (as after an inline capture or an InstallSnapshot).
    shadow.restart(expected, at);
    const rest = all.slice(i);
    inline.apply(rest);
    shadow.appliedEntries(rest);
    const end = rest.at(-1)!.index;
    expect(Buffer.from(await shadow.capture(end)).equals(Buffer.from(inline.capture())), `seed ${seed}: shadow bytes differ at ${end} after restart`).toBe(true);
    expect(shadow.healthy).toBe(true);
  });

  it('a capture the shadow cannot honour fails it (not the node): rejected, unhealthy, reported', async () => {
    const reasons: string[] = [];
    const shadow = shadowFrom(null, 0, (r) => reasons.push(r));
    shadow.appliedEntries(entriesFor(randomCommands(seed, 20), 1));
    await expect(shadow.capture(5)).rejects.toBeInstanceOf(ShadowStateError);
    expect(shadow.healthy).toBe(false);
    expect(reasons[0]).toMatch(/capture at 5/);
    await expect(shadow.capture(5)).rejects.toBeInstanceOf(ShadowStateError);
  });
});
