/** The log codec: round trips, determinism, and strict rejection of garbage. */
import { describe, expect, it } from 'vitest';
import { DecodeError, decodeCommand, encodeCommand, type Command } from '../../domain/index.js';
import { SeededRng } from '../../src/raft/rng.js';

const seed = Number(process.env.SEED ?? 42);

const samples: Command[] = [
  { type: 'deposit', accountId: 'a', asset: 'USD', amount: '13.37', requestId: 'r-1' },
  { type: 'withdraw', accountId: 'acc:9', asset: 'AAPL', amount: '5', requestId: 'x'.repeat(64) },
  { type: 'placeOrder', accountId: 'a', clientOrderId: 'c', symbol: 'AAPL', side: 'buy', orderType: 'limit', timeInForce: 'gtc', quantity: '10', price: '101.5' },
  { type: 'placeOrder', accountId: 'a', clientOrderId: 'c', symbol: 'MSFT', side: 'sell', orderType: 'market', timeInForce: 'fok', quantity: '1', price: null },
  { type: 'placeOrder', accountId: 'b', clientOrderId: 'd', symbol: 'GOOG', side: 'sell', orderType: 'limit', timeInForce: 'ioc', quantity: '3', price: '0.01' },
  { type: 'cancelOrder', accountId: 'a', orderId: 'O17' },
  { type: 'reduceOrder', accountId: 'a', orderId: 'O17', quantity: '2' },
  // The codec carries unicode faithfully even though validation never lets it through.
  { type: 'cancelOrder', accountId: 'é€😀', orderId: '' },
];

describe('command codec', () => {
  it('round-trips every command shape', () => {
    for (const c of samples) expect(decodeCommand(encodeCommand(c))).toEqual(c);
  });

  it('is deterministic and field-order independent', () => {
    const a = encodeCommand(samples[2]!);
    const reordered = { price: '101.5', quantity: '10', timeInForce: 'gtc', orderType: 'limit', side: 'buy', symbol: 'AAPL', clientOrderId: 'c', accountId: 'a', type: 'placeOrder' } as Command;
    expect(encodeCommand(reordered)).toEqual(a);
    expect(a[0]).toBe(1); // version
  });

  it('rejects truncations, trailing bytes, bad versions, tags and enum codes with DecodeError', () => {
    for (const c of samples) {
      const b = encodeCommand(c);
      for (let n = 0; n < b.length; n++) expect(() => decodeCommand(b.subarray(0, n))).toThrow(DecodeError);
      expect(() => decodeCommand(Uint8Array.from([...b, 0]))).toThrow(DecodeError);
    }
    const place = encodeCommand(samples[2]!);
    expect(() => decodeCommand(Uint8Array.from([2, ...place.subarray(1)]))).toThrow(/version/);
    expect(() => decodeCommand(Uint8Array.from([1, 99]))).toThrow(/tag/);
    const sideAt = 2 + 2 + 2 + 5; // version, tag, then 'a', 'c', 'AAPL' each behind a length byte
    const badSide = Uint8Array.from(place);
    badSide[sideAt] = 7;
    expect(() => decodeCommand(badSide)).toThrow(/side/);
    expect(() => decodeCommand(Uint8Array.from([1, 4, 2, 0xff, 0xfe, 0]))).toThrow(/UTF-8/);
  });

  it(`random bytes never decode into anything but a command or a DecodeError (SEED=${seed})`, () => {
    const rng = new SeededRng(seed);
    for (let i = 0; i < 5000; i++) {
      const base = encodeCommand(samples[rng.nextInt(samples.length)]!);
      const b = Uint8Array.from(base);
      b[rng.nextInt(b.length)] = rng.nextInt(256);
      try {
        const again = encodeCommand(decodeCommand(b));
        if (again.length !== b.length || again.some((x, j) => x !== b[j])) throw new Error(`SEED=${seed} iteration ${i}: not canonical`);
      } catch (e) {
        if (e instanceof Error && e.message.includes('not canonical')) throw e;
        if (!(e instanceof DecodeError)) throw new Error(`SEED=${seed} iteration ${i}: ${String(e)}`, { cause: e });
      }
    }
  });

  it(`writes the documented layout: version, tag, enum bytes, varint length + UTF-8 strings (SEED=${seed})`, () => {
    // The layout spelled out with TextEncoder, independent of the codec's ASCII fast paths.
    const utf8 = new TextEncoder();
    const str = (s: string): number[] => {
      const b = [...utf8.encode(s)];
      return b.length >= 0x80 ? [(b.length & 0x7f) | 0x80, b.length >> 7, ...b] : [b.length, ...b];
    };
    const rng = new SeededRng(seed);
    const alphabet = ['a', 'Z', '0', '.', ':', '-', '_', 'é', '€', '😀'];
    const text = (): string => Array.from({ length: rng.nextInt(rng.nextInt(4) === 0 ? 90 : 12) }, () => alphabet[rng.nextInt(rng.nextInt(3) === 0 ? alphabet.length : 7)]).join('');
    for (let i = 0; i < 2000; i++) {
      const [a, b, q, p] = [text(), text(), text(), text()];
      const sides = ['buy', 'sell'] as const;
      const types = ['limit', 'market'] as const;
      const tifs = ['gtc', 'ioc', 'fok'] as const;
      const [side, orderType, tif] = [rng.nextInt(2), rng.nextInt(2), rng.nextInt(3)];
      const price = rng.nextInt(2) === 0 ? null : p;
      const c: Command = { type: 'placeOrder', accountId: a, clientOrderId: b, symbol: 'AAPL', side: sides[side]!, orderType: types[orderType]!, timeInForce: tifs[tif]!, quantity: q, price };
      const expected = [1, 3, ...str(a), ...str(b), ...str('AAPL'), side, orderType, tif, ...str(q), price === null ? 0 : 1, ...(price === null ? [] : str(price))];
      const bytes = encodeCommand(c);
      expect([...bytes], `SEED=${seed} iteration ${i}`).toEqual(expected);
      expect(decodeCommand(bytes)).toEqual(c);
      const d: Command = { type: 'deposit', accountId: a, asset: b, amount: q, requestId: p };
      expect([...encodeCommand(d)]).toEqual([1, 1, ...str(a), ...str(b), ...str(q), ...str(p)]);
      expect(decodeCommand(encodeCommand(d))).toEqual(d);
    }
  });

  it('refuses a string field longer than 255 UTF-8 bytes, ASCII or not', () => {
    const c = (id: string): Command => ({ type: 'cancelOrder', accountId: id, orderId: 'O1' });
    expect(decodeCommand(encodeCommand(c('x'.repeat(255))))).toEqual(c('x'.repeat(255)));
    expect(() => encodeCommand(c('x'.repeat(256)))).toThrow(RangeError);
    expect(() => encodeCommand(c('é'.repeat(128)))).toThrow(RangeError);
    // A failed encode leaves nothing behind for the next one.
    expect(decodeCommand(encodeCommand(c('ok')))).toEqual(c('ok'));
  });
});
