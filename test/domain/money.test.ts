/** Fixed-point conversion: the string fast path agrees with decimal.js, formatting is exact. */
import { describe, expect, it } from 'vitest';
import { SeededRng } from '../../src/raft/rng.js';
import { compileStep, countSteps, countStepsWithDecimal, formatScaled, formatSteps, parseScaled } from '../../domain/money.js';

const seed = Number(process.env.SEED ?? 20261203);

function randomDecimal(rng: SeededRng): string {
  const digits = (n: number): string => Array.from({ length: n }, () => String(rng.nextInt(10))).join('');
  const r = rng.nextInt(10);
  if (r === 0) return ['0', '00', '0.0', '1e3', '-1', '.5', '5.', '', ' 1', 'NaN'][rng.nextInt(10)]!;
  const int = digits(1 + rng.nextInt(r < 3 ? 18 : 6));
  const frac = rng.nextInt(3) === 0 ? '' : `.${digits(1 + rng.nextInt(r < 5 ? 6 : 25))}`;
  return int + frac;
}

describe('money', () => {
  it('parseScaled handles trailing zeros, leading zeros and excess precision', () => {
    expect(parseScaled('13.370', 2)).toBe(1337);
    expect(parseScaled('013.37', 2)).toBe(1337);
    expect(parseScaled('13.371', 2)).toBe('notMultiple');
    expect(parseScaled('0', 2)).toBe(0);
    expect(parseScaled('1e5', 2)).toBe('malformed');
    expect(parseScaled('1234567890123456', 0)).toBe('tooLarge');
    expect(parseScaled('999999999999999', 0)).toBe(999999999999999);
  });

  it('formats with exactly the step decimals', () => {
    expect(formatScaled(1337, 2)).toBe('13.37');
    expect(formatScaled(5, 2)).toBe('0.05');
    expect(formatScaled(0, 2)).toBe('0.00');
    expect(formatScaled(-5, 1)).toBe('-0.5');
    expect(formatSteps(3, compileStep('0.1', 'lot'))).toBe('0.3');
    expect(formatSteps(3, compileStep('0.05', 'tick'))).toBe('0.15');
    expect(formatSteps(7, compileStep('1', 'lot'))).toBe('7');
  });

  it(`countSteps agrees with the decimal.js twin on random input (SEED=${seed})`, () => {
    const rng = new SeededRng(seed);
    const steps = ['0.01', '0.05', '1', '0.1', '5', '0.0001'].map((s) => compileStep(s, 'step'));
    for (let i = 0; i < 5_000; i++) {
      const s = randomDecimal(rng);
      const step = steps[rng.nextInt(steps.length)]!;
      const fast = countSteps(s, step);
      const slow = countStepsWithDecimal(s, step);
      if (fast !== slow) throw new Error(`SEED=${seed}: '${s}' step ${step.text}: fast ${fast}, decimal.js ${slow}`);
      if (typeof fast === 'number') expect(countSteps(formatSteps(fast, step), step)).toBe(fast);
    }
  });
});
