import { describe, expect, it } from 'vitest';
import type { TradeView } from '../../domain/index.js';
import { decodeNodeSnapshot, encodeNodeSnapshot, NodeSnapshotError } from '../../src/node/node-snapshot.js';

const trade = (logIndex: number, n: number): TradeView => ({
  tradeId: `T${logIndex}.${n}`, symbol: 'AAPL', price: '100.25', quantity: '3', buyOrderId: 'O1', sellOrderId: 'O2',
  buyerAccountId: 'alice', sellerAccountId: 'bob', aggressorSide: 'buy', logIndex, timestampMs: 1_700_000_000_000 + logIndex,
});

describe('node snapshot', () => {
  const exchange = new Uint8Array([9, 8, 7, 6, 5]);

  it('carries the exchange bytes unchanged and the trade window', () => {
    const trades = [trade(5, 1), trade(5, 2), trade(9, 1)];
    const decoded = decodeNodeSnapshot(encodeNodeSnapshot(exchange, { from: 4, trades }));
    expect([...decoded.exchange]).toEqual([...exchange]);
    expect(decoded.trades).toEqual({ from: 4, trades });
  });

  it('reads bare exchange bytes (older builds, offline tools) as carrying no trades', () => {
    expect(decodeNodeSnapshot(exchange)).toEqual({ exchange, trades: null });
  });

  it('refuses damaged bytes rather than starting from them', () => {
    const good = encodeNodeSnapshot(exchange, { from: 1, trades: [trade(2, 1)] });
    expect(() => decodeNodeSnapshot(good.subarray(0, good.length - 3))).toThrow(NodeSnapshotError);
    const outOfOrder = encodeNodeSnapshot(exchange, { from: 1, trades: [trade(3, 1), trade(2, 1)] });
    expect(() => decodeNodeSnapshot(outOfOrder)).toThrow(/out of order/);
    const badVersion = good.slice();
    badVersion[4] = 99;
    expect(() => decodeNodeSnapshot(badVersion)).toThrow(/version/);
  });
});
