/** The bounded FIFOs behind dedup retention and closed-order memory, past their compaction points. */
import { describe, expect, it } from 'vitest';
import { defaultExchangeConfig, Exchange } from '../../domain/index.js';
import { BoundedMap } from '../../domain/bounded-map.js';
import { Harness, orderIdOf } from './harness.js';
import { SeededRng } from '../../src/raft/rng.js';

describe('BoundedMap', () => {
  it('keeps the last max keys in insertion order across many evictions and compactions', () => {
    const m = new BoundedMap<number>(100);
    for (let i = 0; i < 5000; i++) m.add(`k${i}`, i);
    expect(m.size).toBe(100);
    expect(m.get('k4899')).toBeUndefined();
    expect(m.get('k4900')).toBe(4900);
    expect([...m.entries()].map(([k]) => k)).toEqual(Array.from({ length: 100 }, (_, i) => `k${4900 + i}`));
    // An evicted key is fresh again.
    m.add('k0', -1);
    expect(m.get('k4900')).toBeUndefined();
    expect(() => m.add('k0', 1)).toThrow(/added twice/);
  });
});

describe('BoundedMap against a model', () => {
  const seeds = process.env.SEED !== undefined ? [Number(process.env.SEED)] : [7, 8];
  for (const seed of seeds) {
    it(`agrees with the last-max-keys model over random adds and lookups (SEED=${seed})`, () => {
      const rng = new SeededRng(seed);
      const max = 1 + rng.nextInt(300);
      const m = new BoundedMap<number>(max);
      const inserted: string[] = [];
      for (let step = 0; step < 20_000; step++) {
        // Few distinct keys, so evicted keys come back and probe runs collide and wrap.
        const key = `k${rng.nextInt(3 * max)}`;
        const live = inserted.slice(-max);
        const at = live.lastIndexOf(key);
        const expected = at < 0 ? undefined : inserted.length - live.length + at;
        if (m.get(key) !== expected) throw new Error(`SEED=${seed} step ${step}: get(${key}) = ${m.get(key)}, expected ${expected}`);
        if (expected === undefined) {
          m.add(key, inserted.length);
          inserted.push(key);
        }
      }
      expect(m.size).toBe(Math.min(max, inserted.length));
      expect([...m.entries()].map(([k]) => k), `SEED=${seed}`).toEqual(inserted.slice(-max));
    });
  }
});

describe('closed-order memory', () => {
  it('forgets the oldest closed orders first, across FIFO compactions, and snapshots agree', () => {
    const h = new Harness({ ...defaultExchangeConfig, closedOrdersMax: 30, dedupKeysPerAccountMax: 40 });
    h.deposit('a', 'USD', '100000');
    const ids: string[] = [];
    for (let i = 0; i < 1500; i++) ids.push(orderIdOf(h.limit('a', 'buy', 'AAPL', '1', '1', 'ioc', `c${i}`)));
    expect(h.ex.order(ids[1469]!)).toBeNull();
    expect(h.ex.order(ids[1470]!)?.status).toBe('cancelled');
    expect(h.ex.state.closedIds.length - h.ex.state.closedHead).toBe(30);
    // Snapshot/restore with idempotency records whose orders were already forgotten (c1460..c1469).
    const restored = Exchange.restore(h.ex.snapshot(), h.config);
    expect(restored.stateHash()).toBe(h.ex.stateHash());
    const retry = { type: 'placeOrder', accountId: 'a', clientOrderId: 'c1461', symbol: 'AAPL', side: 'buy', orderType: 'limit', timeInForce: 'ioc', quantity: '1', price: '1' } as const;
    const ctx = { logIndex: h.index + 1, timestampMs: 0 };
    expect(JSON.stringify(restored.apply(retry, ctx))).toBe(JSON.stringify(h.ex.apply(retry, ctx)));
    h.index++;
    expect(restored.stateHash()).toBe(h.ex.stateHash());
    // Cancelling a forgotten order: unknownOrder; a remembered one: orderNotOpen.
    expect(h.cancel('a', ids[0]!).reply).toMatchObject({ kind: 'rejected', reason: 'unknownOrder' });
    expect(h.cancel('a', ids[1499]!).reply).toMatchObject({ kind: 'rejected', reason: 'orderNotOpen' });
    // Dedup keeps the last 40 client order ids: c1459 was evicted and counts as new.
    const again = h.limit('a', 'buy', 'AAPL', '1', '1', 'ioc', 'c1460');
    expect(again.events).toEqual([]);
    const fresh = h.limit('a', 'buy', 'AAPL', '1', '1', 'ioc', 'c1459');
    expect(fresh.events.length).toBeGreaterThan(0);
  });
});
