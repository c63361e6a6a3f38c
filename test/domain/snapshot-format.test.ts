/**
 * The binary snapshot (format 2) and the exchange-wide dedup bound: round trips under tight
 * limits (every dedup slot kind: held orders, forgotten orders, rejections, requests, slots the
 * per-account limit emptied), checksum and truncation refusal, a size that stops growing with
 * history, and the ring's retention rule against a plain model.
 */
import { describe, expect, it } from 'vitest';
import { BoundedMap } from '../../domain/bounded-map.js';
import { DedupRing } from '../../domain/dedup-ring.js';
import { checkInvariants, defaultExchangeConfig, Exchange, type Command, type ExchangeConfig } from '../../domain/index.js';
import { SeededRng } from '../../src/raft/rng.js';
import { randomCommands } from './random-commands.js';

const seeds = process.env.SEED !== undefined ? [Number(process.env.SEED)] : [21, 22, 23];

/** Limits small enough that every eviction path runs within a few hundred commands. */
const tight: ExchangeConfig = { ...defaultExchangeConfig, closedOrdersMax: 25, dedupKeysPerAccountMax: 12, dedupKeysMax: 30 };

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function run(ex: Exchange, commands: readonly Command[], from: number, to: number): string[] {
  const out: string[] = [];
  for (let i = from; i < to; i++) out.push(JSON.stringify(ex.apply(commands[i]!, { logIndex: i + 1, timestampMs: 5_000 + i })));
  return out;
}

describe('binary snapshot under tight limits', () => {
  for (const seed of seeds) {
    it(`restores byte-identically at many cuts and continues identically (SEED=${seed})`, () => {
      const commands = randomCommands(seed, 900);
      const original = new Exchange(tight);
      let at = 0;
      for (const cut of [40, 150, 333, 600, 899]) {
        run(original, commands, at, cut);
        at = cut;
        const bytes = original.snapshot();
        const restored = Exchange.restore(bytes, tight);
        expect(sameBytes(restored.snapshot(), bytes), `SEED=${seed} cut ${cut}: snapshot of the restored state differs`).toBe(true);
        expect(restored.stateHash(), `SEED=${seed} cut ${cut}`).toBe(original.stateHash());
        expect(checkInvariants(restored), `SEED=${seed} cut ${cut}`).toEqual([]);
        // Continue both for a stretch (retries of old keys included): identical replies and events.
        // (the original history replayed from scratch stands in for the original, which goes on).
        const replayed = new Exchange(tight);
        run(replayed, commands, 0, cut);
        const end = Math.min(commands.length, cut + 150);
        const fromReplayed = run(replayed, commands, cut, end);
        const fromRestored = run(restored, commands, cut, end);
        for (let k = 0; k < fromReplayed.length; k++) {
          if (fromRestored[k] !== fromReplayed[k]) throw new Error(`SEED=${seed}: entry ${cut + k + 1} differs after restore:\n${fromReplayed[k]}\n${fromRestored[k]}`);
        }
        expect(restored.stateHash()).toBe(replayed.stateHash());
      }
      // The stream exercised the ring: it is full and the per-account limit emptied some slots.
      const state = original.state;
      expect(state.dedupRing.size, `SEED=${seed}`).toBe(tight.dedupKeysMax);
      let held = 0;
      for (const a of state.accounts.values()) held += a.orderKeys.size + a.requestKeys.size;
      expect(held, `SEED=${seed}`).toBeLessThanOrEqual(tight.dedupKeysMax);
    });
  }

  it('a forgotten order, a rejection and a deposit keep their replies across restore', () => {
    const config: ExchangeConfig = { ...defaultExchangeConfig, closedOrdersMax: 1, dedupKeysMax: 50 };
    const ex = new Exchange(config);
    let i = 0;
    const apply = (e: Exchange, c: Command): string => JSON.stringify(e.apply(c, { logIndex: ++i, timestampMs: 1_700_000_000_000 + i }));
    apply(ex, { type: 'deposit', accountId: 'a', asset: 'USD', amount: '1000', requestId: 'dep' });
    apply(ex, { type: 'deposit', accountId: 'b', asset: 'AAPL', amount: '10', requestId: 'dep' });
    const order = (accountId: string, side: 'buy' | 'sell', id: string): Command =>
      ({ type: 'placeOrder', accountId, clientOrderId: id, symbol: 'AAPL', side, orderType: 'limit', timeInForce: 'gtc', quantity: '2', price: '10.5' });
    apply(ex, order('b', 'sell', 's1'));
    apply(ex, order('a', 'buy', 'b1')); // trades with s1: both close; closedOrdersMax 1 forgets s1
    apply(ex, order('b', 'sell', 's2'));
    apply(ex, order('b', 'sell', 'big'));
    apply(ex, { ...order('b', 'sell', 'toobig'), quantity: '9' } as Command); // 4 AAPL left: rejected
    apply(ex, { ...order('a', 'buy', 'nosym'), symbol: 'ZZZZ' } as Command);
    const restored = Exchange.restore(ex.snapshot(), config);
    const retries: Command[] = [
      order('a', 'buy', 'b1'), order('b', 'sell', 's1'), { ...order('b', 'sell', 'toobig'), quantity: '9' } as Command,
      { ...order('a', 'buy', 'nosym'), symbol: 'ZZZZ' } as Command, { type: 'deposit', accountId: 'a', asset: 'USD', amount: '1000', requestId: 'dep' },
      { type: 'deposit', accountId: 'a', asset: 'USD', amount: '1', requestId: 'dep' },
    ];
    const at = i;
    const a: string[] = [];
    const b: string[] = [];
    for (const c of retries) a.push(apply(ex, c));
    i = at;
    for (const c of retries) b.push(apply(restored, c));
    expect(b).toEqual(a);
    expect(a[0]).toContain('"tradeId":"T4.1"');
    expect(a[0]).toContain('"events":[]');
    expect(a[5]).toContain('duplicateKeyMismatch');
  });

  it('refuses a flipped byte, a truncation and another format', () => {
    const ex = new Exchange();
    ex.apply({ type: 'deposit', accountId: 'a', asset: 'USD', amount: '1', requestId: 'r' }, { logIndex: 1, timestampMs: 1 });
    const bytes = ex.snapshot();
    for (const at of [9, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at]! ^= 0x04;
      expect(() => Exchange.restore(bad), `flip at ${at}`).toThrow(/checksum/);
    }
    expect(() => Exchange.restore(bytes.slice(0, bytes.length - 3))).toThrow(/checksum|truncated/);
    expect(() => Exchange.restore(bytes.slice(0, 6))).toThrow(/format/);
    expect(Exchange.restore(bytes).stateHash()).toBe(ex.stateHash());
  });

  it('stops growing with history once the limits are reached', () => {
    const config: ExchangeConfig = { ...defaultExchangeConfig, closedOrdersMax: 200, dedupKeysMax: 300 };
    const ex = new Exchange(config);
    let i = 0;
    for (let a = 0; a < 50; a++) {
      ex.apply({ type: 'deposit', accountId: `a${a}`, asset: 'USD', amount: '100000', requestId: 'u' }, { logIndex: ++i, timestampMs: i });
      ex.apply({ type: 'deposit', accountId: `a${a}`, asset: 'AAPL', amount: '100000', requestId: 'p' }, { logIndex: ++i, timestampMs: i });
    }
    const sizes: number[] = [];
    for (let round = 0; round < 4; round++) {
      for (let k = 0; k < 2_000; k++) {
        const n = round * 2_000 + k;
        // Each new order crosses the one before it (alternating sides, many accounts).
        ex.apply({
          type: 'placeOrder', accountId: `a${n % 50}`, clientOrderId: `c${n}`, symbol: 'AAPL', side: n % 2 === 0 ? 'buy' : 'sell',
          orderType: 'limit', timeInForce: 'gtc', quantity: '1', price: '10',
        }, { logIndex: ++i, timestampMs: i });
      }
      sizes.push(ex.snapshot().length);
    }
    // Bounded: later snapshots are within a few percent of the second (ids grow a digit at most).
    for (const s of sizes.slice(2)) expect(Math.abs(s - sizes[1]!) / sizes[1]!).toBeLessThan(0.05);
    let held = 0;
    for (const a of ex.state.accounts.values()) held += a.orderKeys.size + a.requestKeys.size;
    expect(held).toBe(300);
  });
});

describe('exchange-wide dedup ring', () => {
  for (const seed of seeds) {
    it(`keeps exactly the keys among the last N overall and the last M of their table (SEED=${seed})`, () => {
      const rng = new SeededRng(seed);
      const ringMax = 1 + rng.nextInt(40);
      const perMax = 1 + rng.nextInt(20);
      const ring = new DedupRing(ringMax);
      const maps = Array.from({ length: 5 }, () => new BoundedMap<number>(perMax, ring));
      const adds: { table: number; key: string }[] = [];
      for (let step = 0; step < 3_000; step++) {
        const table = rng.nextInt(maps.length);
        const key = `k${step}`;
        maps[table]!.add(key, step);
        adds.push({ table, key });
      }
      const recent = adds.slice(-ringMax);
      for (let t = 0; t < maps.length; t++) {
        const ofTable = adds.filter((x) => x.table === t).slice(-perMax).map((x) => x.key);
        const expected = ofTable.filter((k) => recent.some((x) => x.key === k));
        expect([...maps[t]!.entries()].map(([k]) => k), `SEED=${seed} table ${t} ring ${ringMax} per ${perMax}`).toEqual(expected);
        for (const k of expected) expect(maps[t]!.get(k)).toBe(Number(k.slice(1)));
      }
      expect(ring.size).toBe(Math.min(ringMax, adds.length));
    });
  }
});
