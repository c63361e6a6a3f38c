/**
 * A seeded random command stream for determinism and snapshot tests: four accounts, two symbols,
 * prices within a few ticks so orders cross often, every command kind, repeats of earlier keys.
 */
import type { Command, Side, TimeInForce } from '../../domain/index.js';
import { SeededRng } from '../../src/raft/rng.js';

const accounts = ['a1', 'a2', 'a3', 'a4'];
const symbols = ['AAPL', 'MSFT'];

function pick<T>(rng: SeededRng, xs: readonly T[]): T {
  return xs[rng.nextInt(xs.length)]!;
}

/** `n` commands from `seed`; order ids are guessed from log indexes (entry i places order `O<i>`). */
export function randomCommands(seed: number, n: number): Command[] {
  const rng = new SeededRng(seed);
  const out: Command[] = [];
  for (const a of accounts) {
    out.push({ type: 'deposit', accountId: a, asset: 'USD', amount: '50000', requestId: `init-${a}` });
    for (const s of symbols) out.push({ type: 'deposit', accountId: a, asset: s, amount: '200', requestId: `init-${a}-${s}` });
  }
  while (out.length < n) {
    const i = out.length + 1;
    const accountId = pick(rng, accounts);
    const roll = rng.nextInt(100);
    const earlierOrder = `O${1 + rng.nextInt(i)}`;
    if (roll < 3) {
      out.push(pick(rng, out));
    } else if (roll < 8) {
      out.push({ type: 'deposit', accountId, asset: pick(rng, ['USD', ...symbols]), amount: String(1 + rng.nextInt(500)), requestId: `d${i}` });
    } else if (roll < 12) {
      out.push({ type: 'withdraw', accountId, asset: pick(rng, ['USD', ...symbols]), amount: String(1 + rng.nextInt(300)), requestId: `w${i}` });
    } else if (roll < 24) {
      out.push({ type: 'cancelOrder', accountId, orderId: earlierOrder });
    } else if (roll < 32) {
      out.push({ type: 'reduceOrder', accountId, orderId: earlierOrder, quantity: String(1 + rng.nextInt(5)) });
    } else {
      const side: Side = rng.nextInt(2) === 0 ? 'buy' : 'sell';
      const market = rng.nextInt(10) === 0;
      const tif: TimeInForce = market ? pick(rng, ['ioc', 'fok'] as const) : pick(rng, ['gtc', 'gtc', 'gtc', 'ioc', 'fok'] as const);
      const cents = 10_000 + (rng.nextInt(21) - 10) * 5;
      out.push({
        type: 'placeOrder', accountId, clientOrderId: `c${i}`, symbol: pick(rng, symbols), side,
        orderType: market ? 'market' : 'limit', timeInForce: tif, quantity: String(1 + rng.nextInt(15)),
        price: market ? null : `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`,
      });
    }
  }
  return out;
}
