/** The RxJS adapter: applies each committed command once, publishes results, events and trades. */
import { Subject, toArray, firstValueFrom, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { Exchange, type Command, type TradeView } from '../../domain/index.js';
import { ExchangeProjection, type AppliedCommand, type CommittedCommand } from '../../src/exchange/exchange-projection.js';

const cmds: Command[] = [
  { type: 'deposit', accountId: 'a', asset: 'USD', amount: '1000', requestId: 'r1' },
  { type: 'deposit', accountId: 'b', asset: 'AAPL', amount: '10', requestId: 'r1' },
  { type: 'placeOrder', accountId: 'b', clientOrderId: 'c1', symbol: 'AAPL', side: 'sell', orderType: 'limit', timeInForce: 'gtc', quantity: '4', price: '100' },
  { type: 'placeOrder', accountId: 'a', clientOrderId: 'c1', symbol: 'AAPL', side: 'buy', orderType: 'limit', timeInForce: 'gtc', quantity: '3', price: '100' },
  { type: 'placeOrder', accountId: 'a', clientOrderId: 'c2', symbol: 'AAPL', side: 'buy', orderType: 'market', timeInForce: 'ioc', quantity: '5', price: null },
];
const entry = (i: number, index = i + 1): CommittedCommand => ({ index, timestampMs: 5000 + index, command: cmds[i]! });

describe('ExchangeProjection', () => {
  it('applies in order, emits results with the state already updated, and trades', () => {
    const committed = new Subject<CommittedCommand>();
    const p = new ExchangeProjection(committed);
    const results: AppliedCommand[] = [];
    const trades: TradeView[] = [];
    const seenApplied: number[] = [];
    p.results$.subscribe((r) => {
      results.push(r);
      seenApplied.push(p.exchange.lastAppliedIndex);
    });
    p.trades$.subscribe((t) => trades.push(t));
    p.connect();
    // Gaps (noop/config entries) are fine.
    committed.next(entry(0, 1));
    committed.next(entry(1, 3));
    committed.next(entry(2, 4));
    committed.next(entry(3, 7));
    committed.next(entry(4, 8));
    expect(results.map((r) => r.index)).toEqual([1, 3, 4, 7, 8]);
    expect(seenApplied).toEqual([1, 3, 4, 7, 8]);
    expect(results[3]!.reply).toMatchObject({ kind: 'order', orderId: 'O7', status: 'filled', logIndex: 7 });
    expect(trades.map((t) => [t.tradeId, t.price, t.quantity, t.logIndex, t.timestampMs])).toEqual([
      ['T7.1', '100.00', '3', 7, 5007],
      ['T8.1', '100.00', '1', 8, 5008],
    ]);
    expect(p.exchange.portfolio('a')).toEqual([
      { asset: 'AAPL', available: '4', reserved: '0' },
      { asset: 'USD', available: '600.00', reserved: '0.00' },
    ]);
    expect(p.lastAppliedIndex).toBe(8);
  });

  it('applies exactly once with several subscribers, and without any', async () => {
    const p = new ExchangeProjection(of(...cmds.map((_, i) => entry(i))));
    const a = firstValueFrom(p.results$.pipe(toArray()));
    const b = firstValueFrom(p.events$.pipe(toArray()));
    p.connect();
    p.connect(); // idempotent
    expect((await a).length).toBe(5);
    expect((await b).filter((e) => e.event.type === 'tradeExecuted').length).toBe(2);
    const silent = new ExchangeProjection(of(...cmds.map((_, i) => entry(i))));
    silent.connect();
    expect(silent.exchange.stateHash()).toBe(p.exchange.stateHash());
  });

  it('skips entries at or below lastAppliedIndex (replay over a restored snapshot)', () => {
    const full = new Exchange();
    cmds.forEach((c, i) => full.apply(c, { logIndex: i + 1, timestampMs: 5000 + i + 1 }));
    const partial = new Exchange();
    cmds.slice(0, 3).forEach((c, i) => partial.apply(c, { logIndex: i + 1, timestampMs: 5000 + i + 1 }));
    const p = new ExchangeProjection(of(...cmds.map((_, i) => entry(i))), Exchange.restore(partial.snapshot()));
    const indexes: number[] = [];
    p.results$.subscribe((r) => indexes.push(r.index));
    p.connect();
    expect(indexes).toEqual([4, 5]);
    expect(p.exchange.stateHash()).toBe(full.stateHash());
  });

  it('skips a repeated index, forwards a failing apply as an error and applies nothing after it', () => {
    const committed = new Subject<CommittedCommand>();
    const p = new ExchangeProjection(committed);
    let error: unknown = null;
    const results: number[] = [];
    p.results$.subscribe({ next: (r) => results.push(r.index), error: (e: unknown) => (error = e) });
    p.connect();
    committed.next(entry(1, 1));
    committed.next(entry(2, 2));
    committed.next(entry(2, 2)); // delivered twice: skipped
    expect(results).toEqual([1, 2]);
    // Corrupt the state so the next match asserts (the maker's account vanished).
    p.exchange.state.accounts.delete('b');
    committed.next({ index: 3, timestampMs: 0, command: cmds[0]! });
    committed.next({ index: 4, timestampMs: 0, command: cmds[3]! });
    expect(String(error)).toMatch(/has no account/);
    committed.next({ index: 5, timestampMs: 0, command: { ...cmds[0]!, requestId: 'later' } as Command });
    expect(p.lastAppliedIndex).toBe(4);
    expect(results).toEqual([1, 2, 3]);
  });

  it('completes the outputs when the committed stream completes', async () => {
    const p = new ExchangeProjection(of(entry(0)));
    const done = firstValueFrom(p.trades$.pipe(toArray()));
    p.connect();
    expect(await done).toEqual([]);
  });
});
