/** Edge validation: what becomes INVALID_ARGUMENT before anything reaches the log. */
import { describe, expect, it } from 'vitest';
import { defaultExchangeConfig, validateCommand, type Command, type RawPlaceOrder } from '../../domain/index.js';
import { compileStep, countStepsWithDecimal, Decimal } from '../../domain/money.js';
import { canonicalPlainDecimal, comparePlainDecimals } from '../../domain/validate-command.js';
import { SeededRng } from '../../src/raft/rng.js';

type Raw = Command | ({ type: 'placeOrder' } & RawPlaceOrder);

const order = (over: Partial<RawPlaceOrder> = {}): Raw => ({
  type: 'placeOrder', accountId: 'acc-1', clientOrderId: 'c.1', symbol: 'AAPL', side: 'buy',
  orderType: 'limit', timeInForce: null, quantity: '10', price: '13.37', ...over,
});
const deposit = (amount: string, asset = 'USD'): Raw => ({ type: 'deposit', accountId: 'a', asset, amount, requestId: 'r' });

function error(raw: Raw): string {
  const v = validateCommand(raw);
  if (v.ok) throw new Error(`expected invalid, got ${JSON.stringify(v.command)}`);
  return v.error;
}
function ok(raw: Raw): Command {
  const v = validateCommand(raw);
  if (!v.ok) throw new Error(`expected valid, got ${v.error}`);
  return v.command;
}

describe('validateCommand: decimals', () => {
  const bad: [string, string, RegExp][] = [
    ['exponent', '1e3', /plain decimal/],
    ['upper exponent', '1E3', /plain decimal/],
    ['NaN', 'NaN', /plain decimal/],
    ['Infinity', 'Infinity', /plain decimal/],
    ['negative', '-1', /plain decimal/],
    ['plus sign', '+1', /plain decimal/],
    ['spaces', ' 1', /plain decimal/],
    ['bare dot', '.5', /plain decimal/],
    ['trailing dot', '5.', /plain decimal/],
    ['hex', '0x10', /plain decimal/],
    ['empty', '', /plain decimal/],
    ['comma', '1,5', /plain decimal/],
    ['too long', '1'.repeat(41), /plain decimal/],
    ['zero', '0', /greater than zero/],
    ['zero with decimals', '0.000', /greater than zero/],
    ['too many decimals', '1.001', /multiple of 0.01/],
    ['tiny beyond default decimal precision', '1.000000000000000000001', /multiple of 0.01/],
    ['over the maximum', '1000000000000.01', /exceeds the maximum/],
  ];
  for (const [name, amount, re] of bad) {
    it(`refuses a deposit amount: ${name}`, () => expect(error(deposit(amount))).toMatch(re));
  }

  it('canonicalises: trailing zeros are not extra precision, leading zeros dropped', () => {
    expect(ok(deposit('13.370'))).toMatchObject({ amount: '13.37' });
    expect(ok(deposit('0013.00'))).toMatchObject({ amount: '13' });
    expect(ok(deposit('1000000000000'))).toMatchObject({ amount: '1000000000000' });
    expect(ok(order({ price: '13.370', quantity: '010' }))).toMatchObject({ price: '13.37', quantity: '10' });
  });

  it('share deposits must be whole lots; unknown assets only need a plain decimal', () => {
    expect(error(deposit('1.5', 'AAPL'))).toMatch(/multiple of 1/);
    expect(ok(deposit('1.5', 'EUR'))).toMatchObject({ asset: 'EUR', amount: '1.5' });
  });

  it('prices must be tick multiples, quantities lot multiples (known symbols only)', () => {
    expect(error(order({ price: '13.375' }))).toMatch(/price must be a multiple of 0.01/);
    expect(error(order({ quantity: '1.5' }))).toMatch(/quantity must be a multiple of 1/);
    expect(ok(order({ symbol: 'TSLA', quantity: '1.5', price: '13.375' }))).toMatchObject({ symbol: 'TSLA' });
    expect(error(order({ price: '1000000.01' }))).toMatch(/exceeds the maximum/);
    expect(error(order({ quantity: '1000001' }))).toMatch(/exceeds the maximum/);
  });
});

describe('validateCommand: ids, names and order shape', () => {
  it('ids are 1-64 characters from [A-Za-z0-9._:-]', () => {
    expect(ok(order({ accountId: 'A-z_0.9:x' }))).toMatchObject({ accountId: 'A-z_0.9:x' });
    expect(ok(order({ accountId: 'x'.repeat(64) }))).toBeTruthy();
    for (const bad of ['', 'x'.repeat(65), 'a b', 'a/b', 'é', 'a\n']) {
      expect(error(order({ accountId: bad }))).toMatch(/accountId/);
      expect(error(order({ clientOrderId: bad }))).toMatch(/clientOrderId/);
    }
    expect(error({ type: 'cancelOrder', accountId: 'a', orderId: '' })).toMatch(/orderId/);
    expect(error({ type: 'deposit', accountId: 'a', asset: 'USD', amount: '1', requestId: 'no way' })).toMatch(/requestId/);
  });

  it('symbols and assets are 1-16 characters from [A-Z0-9.]', () => {
    expect(error(order({ symbol: 'aapl' }))).toMatch(/symbol/);
    expect(error(order({ symbol: 'A'.repeat(17) }))).toMatch(/symbol/);
    expect(error(deposit('1', 'US D'))).toMatch(/asset/);
    expect(ok(order({ symbol: 'BRK.B' }))).toMatchObject({ symbol: 'BRK.B' });
  });

  it('time in force defaults: gtc for limit, ioc for market', () => {
    expect(ok(order())).toMatchObject({ timeInForce: 'gtc' });
    expect(ok(order({ orderType: 'market', price: null }))).toMatchObject({ timeInForce: 'ioc', price: null });
    expect(ok(order({ orderType: 'market', price: null, timeInForce: 'fok' }))).toMatchObject({ timeInForce: 'fok' });
  });

  it('market orders take no price and never GTC; limit orders need a price', () => {
    expect(error(order({ orderType: 'market', price: '1' }))).toMatch(/must not carry a price/);
    expect(error(order({ orderType: 'market', price: null, timeInForce: 'gtc' }))).toMatch(/never GTC/);
    expect(error(order({ price: null }))).toMatch(/needs a price/);
    expect(error(order({ price: '' }))).toMatch(/needs a price/);
    expect(ok(order({ orderType: 'market', price: '' }))).toMatchObject({ price: null });
  });

  it('unknown enum values and command types are refused', () => {
    expect(error(order({ side: 'hold' as never }))).toMatch(/side/);
    expect(error(order({ orderType: 'stop' as never }))).toMatch(/orderType/);
    expect(error(order({ timeInForce: 'day' as never }))).toMatch(/timeInForce/);
    expect(error({ type: 'explode' } as never)).toMatch(/unknown command type/);
    expect(error(null as never)).toMatch(/object/);
  });

  it('reduce quantities are positive plain decimals that some instrument lot divides', () => {
    expect(ok({ type: 'reduceOrder', accountId: 'a', orderId: 'O1', quantity: '2.0' })).toMatchObject({ quantity: '2' });
    // Every default instrument has lot 1: 2.5 can never be valid, whatever the order's symbol.
    expect(error({ type: 'reduceOrder', accountId: 'a', orderId: 'O1', quantity: '2.50' })).toMatch(/multiple of the instrument lot/);
    expect(error({ type: 'reduceOrder', accountId: 'a', orderId: 'O1', quantity: '0' })).toMatch(/greater than zero/);
  });

  it('returns fields in a fixed order (deterministic encoding and fingerprints)', () => {
    const c = ok({ price: '1', quantity: '1', timeInForce: null, orderType: 'limit', side: 'sell', symbol: 'AAPL', clientOrderId: 'c', accountId: 'a', type: 'placeOrder' });
    expect(Object.keys(c)).toEqual(['type', 'accountId', 'clientOrderId', 'symbol', 'side', 'orderType', 'timeInForce', 'quantity', 'price']);
  });

  it('uses the given config', () => {
    const config = { ...defaultExchangeConfig, assets: [{ asset: 'USD', unit: '0.0001' }], amountMax: '1000000', priceMax: '10000' };
    expect(validateCommand(deposit('1.0001'), config).ok).toBe(true);
    expect(validateCommand(deposit('1.0001')).ok).toBe(false);
  });
});

describe('validateCommand: string decimals agree with decimal.js', () => {
  const seed = Number(process.env.SEED ?? 7);
  const rng = new SeededRng(seed);
  const digits = (n: number): string => Array.from({ length: n }, () => (rng.nextInt(4) === 0 ? '0' : String(rng.nextInt(10)))).join('');
  /** Plain decimals with leading/trailing zeros, short and long (up to the 40-character cap). */
  const plain = (): string => {
    const int = digits(1 + rng.nextInt(rng.nextInt(3) === 0 ? 20 : 4));
    const frac = rng.nextInt(3) === 0 ? '' : `.${digits(1 + rng.nextInt(rng.nextInt(3) === 0 ? 18 : 3))}`;
    return (int + frac).slice(0, 40).replace(/\.$/, '');
  };

  it(`canonical text and order equal decimal.js toFixed() and cmp() (SEED=${seed})`, () => {
    for (let i = 0; i < 20_000; i++) {
      const a = plain();
      const b = rng.nextInt(4) === 0 ? a : plain();
      const ca = canonicalPlainDecimal(a);
      expect(ca, `SEED=${seed} ${a}`).toBe(new Decimal(a).toFixed());
      expect(Math.sign(comparePlainDecimals(ca, canonicalPlainDecimal(b))), `SEED=${seed} ${a} vs ${b}`).toBe(new Decimal(a).cmp(b));
    }
  });

  it(`accepts and refuses exactly what the decimal.js rules did (SEED=${seed})`, () => {
    // A maximum of 9e13 cents leaves 16-digit amounts in cents below it: 'out of range'.
    const assets = [{ asset: 'USD', unit: '0.01' }, { asset: 'XYZ', unit: '0.5' }];
    const config = { ...defaultExchangeConfig, assets, amountMax: '90000000000000.5' };
    const units = new Map(assets.map((a) => [a.asset, compileStep(a.unit, a.asset)]));
    const seen = new Set<string>();
    for (let i = 0; i < 20_000; i++) {
      const amount = plain();
      const asset = assets[rng.nextInt(assets.length)]!.asset;
      // The decimal.js formulation the string code replaced.
      const d = new Decimal(amount);
      const steps = countStepsWithDecimal(amount, units.get(asset)!);
      const expected = d.lte(0) ? 'greater than zero'
        : d.gt(config.amountMax) ? 'exceeds the maximum'
          : steps === 'notMultiple' ? 'multiple of'
            : typeof steps !== 'number' ? 'out of range' : d.toFixed();
      const v = validateCommand(deposit(amount, asset), config);
      if (v.ok) {
        seen.add('ok');
        expect((v.command as Extract<Command, { type: 'deposit' }>).amount, `SEED=${seed} ${asset} ${amount}`).toBe(expected);
      } else {
        seen.add(expected);
        expect(v.error, `SEED=${seed} ${asset} ${amount}`).toContain(expected);
      }
    }
    // The generator reached every outcome.
    expect([...seen].sort()).toEqual(['exceeds the maximum', 'greater than zero', 'multiple of', 'ok', 'out of range']);
  });
});
