/** checkInvariants must catch each kind of corruption, or the property tests prove nothing. */
import { describe, expect, it } from 'vitest';
import { checkInvariants } from '../../domain/index.js';
import { Harness, orderIdOf } from './harness.js';

function sample(): { h: Harness; buy: string; sell: string } {
  const h = new Harness();
  h.deposit('a', 'USD', '1000');
  h.deposit('b', 'AAPL', '10');
  const buy = orderIdOf(h.limit('a', 'buy', 'AAPL', '2', '99'));
  const sell = orderIdOf(h.limit('b', 'sell', 'AAPL', '3', '101'));
  return { h, buy, sell };
}

describe('checkInvariants', () => {
  it('is empty for a sound state', () => {
    expect(checkInvariants(sample().h.ex)).toEqual([]);
  });

  it('reports a conservation break', () => {
    const { h } = sample();
    h.ex.state.accounts.get('a')!.balance('USD').available += 1;
    expect(checkInvariants(h.ex).join('\n')).toMatch(/USD not conserved/);
  });

  it('reports a reservation that does not match the open orders', () => {
    const { h } = sample();
    const bal = h.ex.state.accounts.get('b')!.balance('AAPL');
    bal.available += 1;
    bal.reserved -= 1;
    expect(checkInvariants(h.ex).join('\n')).toMatch(/reserved 2, open orders need 3/);
  });

  it('reports a negative balance', () => {
    const { h } = sample();
    const bal = h.ex.state.accounts.get('a')!.balance('USD');
    bal.available = -bal.reserved;
    expect(checkInvariants(h.ex).join('\n')).toMatch(/available is -/);
  });

  it('reports a crossed book and a wrong level total', () => {
    const { h, buy } = sample();
    const book = h.ex.state.books.get('AAPL')!;
    book.bids.best()!.totalLots += 1;
    expect(checkInvariants(h.ex).join('\n')).toMatch(/level 9900 total 3, holds 2/);
    book.bids.best()!.totalLots -= 1;
    // Move the bid above the ask without matching.
    const order = h.ex.state.order(buy)!;
    book.bids.remove(order);
    (order as { priceTicks: number }).priceTicks = 10200;
    book.bids.add(order);
    expect(checkInvariants(h.ex).join('\n')).toMatch(/book crossed/);
  });

  it('reports an open order missing from the book', () => {
    const { h, sell } = sample();
    const book = h.ex.state.books.get('AAPL')!;
    book.asks.remove(h.ex.state.order(sell)!);
    expect(checkInvariants(h.ex).join('\n')).toMatch(/not in the book/);
  });
});
