/**
 * OrderIndex (the sliding-window array behind the exchange's orders by seq) against a Map model,
 * over random adds and deletes, including orders that stay held for very long (they pin the
 * window's front until it spills them to its side Map) and gaps in the seqs.
 */
import { describe, expect, it } from 'vitest';
import { defaultExchangeConfig } from '../../domain/index.js';
import { compileConfig } from '../../domain/config.js';
import { Order } from '../../domain/order-book.js';
import { OrderIndex } from '../../domain/order-index.js';
import { SeededRng } from '../../src/raft/rng.js';

const seeds = process.env.SEED !== undefined ? [Number(process.env.SEED)] : [1, 2, 3];
const market = compileConfig(defaultExchangeConfig).markets.get('AAPL')!;

function order(seq: number): Order {
  return new Order(seq, 'a', market, 'buy', 100, 1, {
    type: 'placeOrder', accountId: 'a', clientOrderId: `c${seq}`, symbol: 'AAPL', side: 'buy', orderType: 'limit', timeInForce: 'gtc', quantity: '1', price: '1',
  });
}

describe('OrderIndex', () => {
  for (const seed of seeds) {
    it(`agrees with a Map over random adds and deletes (SEED=${seed})`, () => {
      const rng = new SeededRng(seed);
      const index = new OrderIndex();
      const model = new Map<number, Order>();
      const held: number[] = [];
      let seq = 0;
      for (let step = 0; step < 20_000; step++) {
        const roll = rng.nextInt(100);
        if (roll < 45) {
          seq += 1 + (rng.nextInt(10) === 0 ? rng.nextInt(20_000) : rng.nextInt(3));
          const o = order(seq);
          index.add(o);
          model.set(seq, o);
          held.push(seq);
        } else if (held.length > 0) {
          // Mostly delete recent orders, so a few old ones stay held for a long time.
          const k = roll < 95 ? held.length - 1 - rng.nextInt(Math.min(held.length, 50)) : rng.nextInt(held.length);
          const s = held[k]!;
          held.splice(k, 1);
          // Plain checks in the hot loop (expect() per step is slow); the message carries the seed.
          if (!index.delete(s) || index.delete(s)) throw new Error(`SEED=${seed} step ${step}: delete of ${s} misreported`);
          model.delete(s);
        }
        if (step % 1999 === 0) {
          expect(index.size, `SEED=${seed} step ${step}`).toBe(model.size);
          expect([...index.values()].map((o) => o.seq), `SEED=${seed} step ${step}`).toEqual([...model.keys()].sort((a, b) => a - b));
          for (let probe = 0; probe < 50; probe++) {
            const s = 1 + rng.nextInt(seq + 10);
            expect(index.get(s), `SEED=${seed} step ${step} seq ${s}`).toBe(model.get(s));
          }
        }
      }
      expect(index.size).toBe(model.size);
      for (const [s, o] of model) expect(index.get(s)).toBe(o);
    });
  }

  it('refuses a seq that is not above every earlier one', () => {
    const index = new OrderIndex();
    index.add(order(5));
    expect(() => index.add(order(5))).toThrow(/reused or out of order/);
    expect(() => index.add(order(3))).toThrow(/reused or out of order/);
  });
});
