/**
 * Exact fixed-point conversion between plain decimal strings and the engine's integer units.
 *
 * The engine never holds money or quantity in a float: a price is an integer count of ticks, a
 * quantity an integer count of lots, a balance an integer count of the asset's unit (cents for
 * USD). These helpers do the string <-> integer step with string arithmetic only (the hot path
 * of `apply` and of `validateCommand`); config compilation uses decimal.js, and the tests check
 * the string code against decimal.js.
 */
import { Decimal as DecimalJs } from 'decimal.js';

/**
 * decimal.js with enough precision that no operation on our inputs (at most
 * `decimalTextLengthMax` characters) ever rounds; the default 20 digits would make
 * '1.000000000000000000001' look like a multiple of 0.01.
 */
export const Decimal = DecimalJs.clone({ precision: 200, rounding: DecimalJs.ROUND_DOWN });
export type Decimal = DecimalJs;

/** Plain decimals only: no sign, exponent, spaces or bare dot. */
export const plainDecimalPattern = /^[0-9]+(\.[0-9]+)?$/;

/** Longest decimal text accepted anywhere; longer input is refused before any parsing. */
export const decimalTextLengthMax = 40;

/** Most digits a scaled integer may have: 15 digits always fit a double exactly (< 2^53). */
const scaledDigitsMax = 15;

/** Why a decimal string did not convert to integer units. */
export type ParseFailure = 'malformed' | 'notMultiple' | 'tooLarge';

/**
 * `s` scaled by 10^scale as an exact integer, e.g. ('13.370', 2) -> 1337. Trailing zeros are not
 * extra precision; more significant decimals than `scale` is 'notMultiple'. Zero is returned as 0
 * (callers decide whether zero is allowed).
 */
export function parseScaled(s: string, scale: number): number | ParseFailure {
  // One pass over the characters, no regex or substrings: this runs for every order.
  if (typeof s !== 'string') return 'malformed';
  const n = s.length;
  if (n === 0 || n > decimalTextLengthMax) return 'malformed';
  let value = 0;
  /** Significant digits so far (leading zeros do not count). */
  let digits = 0;
  let i = 0;
  for (; i < n; i++) {
    const d = s.charCodeAt(i) - 48;
    if (d === -2) break; // '.'
    if (d < 0 || d > 9) return 'malformed';
    if (digits > 0 || d !== 0) {
      digits++;
      value = value * 10 + d;
    }
  }
  if (i === 0) return 'malformed';
  let fracDigits = 0;
  if (i < n) {
    const first = i + 1;
    if (first === n) return 'malformed';
    let end = n;
    for (let j = first; j < n; j++) {
      const d = s.charCodeAt(j) - 48;
      if (d < 0 || d > 9) return 'malformed';
    }
    while (end > first && s.charCodeAt(end - 1) === 48) end--;
    if (end - first > scale) return 'notMultiple';
    for (let j = first; j < end; j++) {
      const d = s.charCodeAt(j) - 48;
      if (digits > 0 || d !== 0) {
        digits++;
        value = value * 10 + d;
      }
      fracDigits++;
    }
  }
  for (; fracDigits < scale; fracDigits++) {
    if (digits > 0) {
      digits++;
      value *= 10;
    }
  }
  // Up to 15 digits every step above was exact; beyond, the value may not be.
  if (digits > scaledDigitsMax) return 'tooLarge';
  return value;
}

/** Integer `units` at 10^-scale as a plain string with exactly `scale` decimals: (1337, 2) -> '13.37'. */
export function formatScaled(units: number, scale: number): string {
  if (!Number.isSafeInteger(units)) throw new RangeError(`formatScaled: not a safe integer: ${units}`);
  if (scale === 0) return String(units);
  const negative = units < 0;
  const digits = String(negative ? -units : units).padStart(scale + 1, '0');
  const cut = digits.length - scale;
  return `${negative ? '-' : ''}${digits.slice(0, cut)}.${digits.slice(cut)}`;
}

/**
 * A step size such as a tick '0.01', a lot '1' or '0.1', or an asset unit, as
 * `stepUnits / 10^scale` with the smallest scale that makes stepUnits an integer.
 */
export interface Step {
  /** Decimal places of the step ('0.05' -> 2, '1' -> 0). */
  readonly scale: number;
  /** The step in units of 10^-scale ('0.05' -> 5). */
  readonly units: number;
  /** The canonical text of the step. */
  readonly text: string;
}

/** Compiles a positive step size from its decimal text (config time, decimal.js). */
export function compileStep(text: string, what: string): Step {
  if (!plainDecimalPattern.test(text)) throw new RangeError(`${what}: not a plain decimal: ${text}`);
  const d = new Decimal(text);
  if (!d.isFinite() || d.lte(0)) throw new RangeError(`${what}: must be > 0: ${text}`);
  const scale = d.decimalPlaces();
  const units = d.mul(new Decimal(10).pow(scale)).toNumber();
  if (!Number.isSafeInteger(units)) throw new RangeError(`${what}: too large: ${text}`);
  return { scale, units, text: d.toFixed() };
}

/**
 * `s` as an integer count of `step`s, or why not. Zero converts to 0. This is the hot-path
 * parser used by `apply` and by `validateCommand`; `countStepsWithDecimal` is its decimal.js twin.
 */
export function countSteps(s: string, step: Step): number | ParseFailure {
  const scaled = parseScaled(s, step.scale);
  if (typeof scaled !== 'number') return scaled;
  if (scaled % step.units !== 0) return 'notMultiple';
  return scaled / step.units;
}

/** The decimal.js twin of `countSteps`, the reference the tests check it against. */
export function countStepsWithDecimal(s: string, step: Step): number | ParseFailure {
  if (typeof s !== 'string' || s.length === 0 || s.length > decimalTextLengthMax) return 'malformed';
  if (!plainDecimalPattern.test(s)) return 'malformed';
  const d = new Decimal(s);
  if (!d.isFinite()) return 'malformed';
  // Same order of checks as parseScaled + countSteps, so both report the same failure.
  const scaled = d.mul(new Decimal(10).pow(step.scale));
  if (!scaled.isInteger()) return 'notMultiple';
  if (scaled.precision(true) > scaledDigitsMax) return 'tooLarge';
  if (!scaled.mod(step.units).isZero()) return 'notMultiple';
  return scaled.div(step.units).toNumber();
}

/** `count` steps as a plain string with the step's decimals: (3, '0.1') -> '0.3'. */
export function formatSteps(count: number, step: Step): string {
  return formatScaled(count * step.units, step.scale);
}

/** Canonical text of a plain decimal ('13.370' -> '13.37', '007' -> '7'), via decimal.js. */
export function canonicalDecimal(s: string): string {
  return new Decimal(s).toFixed();
}

/** Entries a `StepFormatter` memoises in its Map before starting over. */
export const formatCacheMax = 4096;
/** Counts below this are memoised in a plain array instead (small sizes: '0', '100', ...). */
export const formatDenseMax = 1024;

/**
 * `formatSteps` for one step, memoised: books and replies repeat the same few prices and sizes,
 * and a shared string is both faster than re-formatting and less garbage. Small counts (most
 * order sizes in lots, and 0) hit an array; others a bounded Map. Output is identical with or
 * without the cache, so it does not affect determinism.
 */
export class StepFormatter {
  private readonly dense: string[] = [];
  private readonly cache = new Map<number, string>();

  constructor(readonly step: Step) {}

  format(count: number): string {
    if (count >= 0 && count < formatDenseMax && Number.isInteger(count)) {
      const hit = this.dense[count];
      if (hit !== undefined) return hit;
      // Fill up to `count` so the array stays packed (no holes, so reads stay fast).
      const dense = this.dense;
      while (dense.length <= count) dense.push(formatSteps(dense.length, this.step));
      return dense[count]!;
    }
    let s = this.cache.get(count);
    if (s === undefined) {
      s = formatSteps(count, this.step);
      if (this.cache.size >= formatCacheMax) this.cache.clear();
      this.cache.set(count, s);
    }
    return s;
  }
}
