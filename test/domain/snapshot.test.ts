/**
 * Determinism and snapshots: equal histories give equal hashes; snapshot -> restore gives the
 * same bytes and hash, and continuing from the original and from the restored copy gives
 * byte-identical replies and events.
 */
import { describe, expect, it } from 'vitest';
import { checkInvariants, defaultExchangeConfig, Exchange, type ApplyResult, type Command } from '../../domain/index.js';
import { randomCommands } from './random-commands.js';

const seeds = process.env.SEED !== undefined ? [Number(process.env.SEED)] : [11, 12, 13];
const steps = 1500;

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function applyAll(ex: Exchange, commands: readonly Command[], from: number): string[] {
  const out: string[] = [];
  for (let i = from; i < commands.length; i++) {
    const r: ApplyResult = ex.apply(commands[i]!, { logIndex: i + 1, timestampMs: 1_000 + i });
    out.push(JSON.stringify(r));
  }
  return out;
}

describe('determinism and snapshots', () => {
  for (const seed of seeds) {
    it(`snapshot -> restore -> same bytes and hash, identical events continuing from both (SEED=${seed})`, () => {
      const commands = randomCommands(seed, steps);
      const original = new Exchange();
      const cut = Math.floor(steps / 2);
      applyAll(original, commands.slice(0, cut), 0);
      const bytes = original.snapshot();
      const restored = Exchange.restore(bytes);
      expect(restored.lastAppliedIndex, `SEED=${seed}`).toBe(cut);
      expect(sameBytes(restored.snapshot(), bytes), `SEED=${seed}: snapshot of the restored state differs`).toBe(true);
      expect(restored.stateHash(), `SEED=${seed}`).toBe(original.stateHash());
      expect(checkInvariants(restored), `SEED=${seed}`).toEqual([]);
      for (const acc of ['a1', 'a2', 'a3', 'a4']) {
        expect(restored.portfolio(acc)).toEqual(original.portfolio(acc));
        expect(restored.openOrders(acc)).toEqual(original.openOrders(acc));
      }
      expect(restored.orderBook('AAPL', 1000)).toEqual(original.orderBook('AAPL', 1000));

      const a = applyAll(original, commands, cut);
      const b = applyAll(restored, commands, cut);
      for (let i = 0; i < a.length; i++) {
        if (a[i] !== b[i]) throw new Error(`SEED=${seed}: entry ${cut + i + 1} differs after restore:\n${a[i]}\n${b[i]}`);
      }
      expect(restored.stateHash()).toBe(original.stateHash());
      // The stream really exercised the engine.
      expect(a.some((s) => s.includes('tradeExecuted'))).toBe(true);
      expect(a.some((s) => s.includes('"cause":"selfTrade"')) || a.some((s) => s.includes('"cause":"fok"'))).toBe(true);
    });
  }

  it('equal histories give equal hashes; a different history a different hash', () => {
    const commands = randomCommands(seeds[0]!, 400);
    const x = new Exchange();
    const y = new Exchange();
    const ex = applyAll(x, commands, 0);
    const ey = applyAll(y, commands, 0);
    expect(ex).toEqual(ey);
    expect(x.stateHash()).toBe(y.stateHash());
    expect(x.stateHash()).toMatch(/^[0-9a-f]{64}$/);
    const z = new Exchange();
    applyAll(z, commands.slice(0, 399), 0);
    z.apply({ type: 'deposit', accountId: 'zz', asset: 'USD', amount: '1', requestId: 'zz' }, { logIndex: 400, timestampMs: 1 });
    expect(z.stateHash()).not.toBe(x.stateHash());
  });

  it('the hash follows the state (cache invalidated on apply and advanceTo)', () => {
    const ex = new Exchange();
    const h0 = ex.stateHash();
    ex.apply({ type: 'deposit', accountId: 'a', asset: 'USD', amount: '1', requestId: 'r' }, { logIndex: 1, timestampMs: 1 });
    const h1 = ex.stateHash();
    expect(h1).not.toBe(h0);
    ex.advanceTo(5);
    expect(ex.lastAppliedIndex).toBe(5);
    expect(ex.stateHash()).not.toBe(h1);
    expect(() => ex.apply({ type: 'cancelOrder', accountId: 'a', orderId: 'O1' }, { logIndex: 5, timestampMs: 1 })).toThrow(/log index/);
  });

  it('restore refuses another config and garbage', () => {
    const bytes = new Exchange().snapshot();
    expect(() => Exchange.restore(bytes, { ...defaultExchangeConfig, dedupKeysPerAccountMax: 5 })).toThrow(/different exchange config/);
    expect(() => Exchange.restore(new TextEncoder().encode('{"format":"nope"}'))).toThrow(/format/);
    expect(() => Exchange.restore(Uint8Array.from([0xff]))).toThrow();
  });
});
