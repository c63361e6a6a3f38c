import { describe, expect, it } from 'vitest';
import { firstValueFrom, take, toArray } from 'rxjs';
import { TradeHistory } from '../../src/node/trade-history.js';
import { OverloadedError, TradeHistoryTrimmedError } from '../../src/node/exchange-node-api.js';

interface T { logIndex: number; symbol: string; id: string }
const t = (logIndex: number, id: string, symbol = 'AAPL'): T => ({ logIndex, symbol, id });
const tick = () => new Promise((r) => setImmediate(r));

describe('TradeHistory', () => {
  it('replays history from a log index then continues live with no gap or duplicate at the seam', async () => {
    const h = new TradeHistory<T>();
    h.record(t(3, 'a'));
    h.record(t(5, 'b'));
    h.record(t(5, 'c'));
    const got = firstValueFrom(h.stream('', 5).pipe(take(4), toArray()));
    // Recorded after subscribe but before the first drain: must come after history, exactly once.
    h.record(t(6, 'd'));
    await tick();
    h.record(t(7, 'e'));
    expect((await got).map((x) => x.id)).toEqual(['b', 'c', 'd', 'e']);
  });

  it('from 0 is live only; symbol filters', async () => {
    const h = new TradeHistory<T>();
    h.record(t(1, 'old'));
    const got = firstValueFrom(h.stream('MSFT', 0).pipe(take(2), toArray()));
    h.record(t(2, 'x', 'AAPL'));
    h.record(t(2, 'y', 'MSFT'));
    h.record(t(4, 'z', 'MSFT'));
    expect((await got).map((x) => x.id)).toEqual(['y', 'z']);
  });

  it('a resume index beyond everything recorded waits for it', async () => {
    const h = new TradeHistory<T>();
    h.record(t(1, 'a'));
    const got = firstValueFrom(h.stream('', 10).pipe(take(1), toArray()));
    h.record(t(9, 'no'));
    h.record(t(10, 'yes'));
    expect((await got).map((x) => x.id)).toEqual(['yes']);
  });

  it('errors a subscriber that falls more than its buffer behind, without affecting others', async () => {
    const h = new TradeHistory<T>({ tradeHistoryMax: 100, streamBufferMax: 3, streamDrainBatchMax: 10 });
    const errors: unknown[] = [];
    const seen: string[] = [];
    h.stream('', 0).subscribe({ error: (e) => errors.push(e) });
    for (let i = 1; i <= 4; i++) h.record(t(i, `t${i}`));
    expect(errors[0]).toBeInstanceOf(OverloadedError);
    h.stream('', 0).subscribe({ next: (x) => seen.push(x.id) });
    h.record(t(5, 't5'));
    await tick();
    expect(seen).toEqual(['t5']);
    expect(h.subscriberCount).toBe(1);
  });

  it('a resume before the retained history fails with TradeHistoryTrimmedError', async () => {
    const h = new TradeHistory<T>({ tradeHistoryMax: 2, streamBufferMax: 10, streamDrainBatchMax: 10 });
    for (let i = 1; i <= 4; i++) h.record(t(i, `t${i}`));
    await expect(firstValueFrom(h.stream('', 1))).rejects.toBeInstanceOf(TradeHistoryTrimmedError);
    const got = await firstValueFrom(h.stream('', 3).pipe(take(2), toArray()));
    expect(got.map((x) => x.id)).toEqual(['t3', 't4']);
  });

  it('a node that started from a snapshot refuses a resume from inside it and names where it can resume', async () => {
    const h = new TradeHistory<T>({ tradeHistoryMax: 100, streamBufferMax: 10, streamDrainBatchMax: 10 }, 50);
    expect(h.firstResumableIndex).toBe(51);
    await expect(firstValueFrom(h.stream('', 1))).rejects.toThrow(/resume from log index 51/);
    await expect(firstValueFrom(h.stream('', 50))).rejects.toBeInstanceOf(TradeHistoryTrimmedError);
    h.record(t(51, 't51'));
    const got = await firstValueFrom(h.stream('', 51).pipe(take(1), toArray()));
    expect(got.map((x) => x.id)).toEqual(['t51']);
  });

  it('installing a snapshot ends open streams instead of letting them skip the trades inside it', async () => {
    const h = new TradeHistory<T>({ tradeHistoryMax: 100, streamBufferMax: 10, streamDrainBatchMax: 10 });
    h.record(t(1, 't1'));
    const seen: string[] = [];
    let failure: unknown = null;
    h.stream('', 1).subscribe({ next: (x) => seen.push(x.id), error: (e: unknown) => (failure = e) });
    await tick();
    expect(seen).toEqual(['t1']);
    h.restartAfter(10);
    h.record(t(11, 't11'));
    await tick();
    expect(seen).toEqual(['t1']);
    expect(failure).toBeInstanceOf(TradeHistoryTrimmedError);
    expect(String(failure)).toMatch(/resume from log index 11/);
    expect(h.subscriberCount).toBe(0);
    await expect(firstValueFrom(h.stream('', 1))).rejects.toBeInstanceOf(TradeHistoryTrimmedError);
    const after = await firstValueFrom(h.stream('', 11).pipe(take(1), toArray()));
    expect(after.map((x) => x.id)).toEqual(['t11']);
  });

  it('a snapshot window never splits the trades of one log index, and a restart from it resumes there', async () => {
    const h = new TradeHistory<T>({ tradeHistoryMax: 100, streamBufferMax: 10, streamDrainBatchMax: 10 });
    for (const [i, id] of [[1, 'a'], [2, 'b'], [2, 'c'], [2, 'd'], [3, 'e']] as const) h.record(t(i, id));
    expect(h.window(100)).toEqual({ from: 1, trades: [t(1, 'a'), t(2, 'b'), t(2, 'c'), t(2, 'd'), t(3, 'e')] });
    // Three newest would cut inside index 2: all of index 2 goes.
    expect(h.window(3)).toEqual({ from: 3, trades: [t(3, 'e')] });
    expect(h.window(4)).toEqual({ from: 2, trades: [t(2, 'b'), t(2, 'c'), t(2, 'd'), t(3, 'e')] });

    const restarted = new TradeHistory<T>({ tradeHistoryMax: 100, streamBufferMax: 10, streamDrainBatchMax: 10 }, 5, h.window(4));
    expect(restarted.firstResumableIndex).toBe(2);
    await expect(firstValueFrom(restarted.stream('', 1))).rejects.toBeInstanceOf(TradeHistoryTrimmedError);
    restarted.record(t(6, 'f'));
    const got = await firstValueFrom(restarted.stream('', 2).pipe(take(5), toArray()));
    expect(got.map((x) => x.id)).toEqual(['b', 'c', 'd', 'e', 'f']);
  });

  it('replays history only as fast as the consumer takes it (flow), and misses nothing', async () => {
    const h = new TradeHistory<T>({ tradeHistoryMax: 5000, streamBufferMax: 10, streamDrainBatchMax: 7 });
    for (let i = 1; i <= 100; i++) h.record(t(i, `t${i}`));
    let paused = true;
    let resume: (() => void) | null = null;
    const seen: string[] = [];
    h.stream('', 1, { paused: () => paused, onResume: (r) => { resume = r; } }).subscribe({ next: (x) => seen.push(x.id) });
    await tick();
    await tick();
    expect(seen).toEqual([]);
    expect(resume).not.toBeNull();
    paused = false;
    resume!();
    for (let i = 0; i < 20; i++) await tick();
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => `t${i + 1}`));
  });

  it('delivers long histories in batches, in order', async () => {
    const h = new TradeHistory<T>({ tradeHistoryMax: 5000, streamBufferMax: 10, streamDrainBatchMax: 7 });
    for (let i = 1; i <= 1000; i++) h.record(t(i, `t${i}`));
    const got = await firstValueFrom(h.stream('', 500).pipe(take(501), toArray()));
    expect(got[0]!.id).toBe('t500');
    expect(got.at(-1)!.id).toBe('t1000');
    expect(new Set(got.map((x) => x.id)).size).toBe(501);
  });
});
