/**
 * LOBSTER prices are integer dollars x 10000; the exchange takes canonical plain decimal strings
 * of the instrument's tick (USD cents for the default instruments). Integers only here: no float
 * ever holds a price.
 */
import { assert } from '../raft/assert.js';

/** LOBSTER price units per cent. */
const lobsterUnitsPerCent = 100;

/** Converts a LOBSTER price to integer cents; asserts it lies on the cent grid (AAPL's visible orders do). */
export function lobsterPriceToCents(price: number): number {
  assert(Number.isSafeInteger(price) && price > 0, `LOBSTER price must be a positive integer, got ${price}`);
  assert(price % lobsterUnitsPerCent === 0, `LOBSTER price ${price} is not on the cent grid`);
  return price / lobsterUnitsPerCent;
}

/**
 * Integer cents -> canonical plain decimal string: no exponent, no trailing fractional zeros
 * (58533 -> "585.33", 58530 -> "585.3", 58500 -> "585").
 */
export function centsToDecimal(cents: number): string {
  assert(Number.isSafeInteger(cents) && cents >= 0, `cents must be a non-negative integer, got ${cents}`);
  const whole = Math.floor(cents / 100);
  const frac = cents % 100;
  if (frac === 0) return String(whole);
  if (frac % 10 === 0) return `${whole}.${frac / 10}`;
  return `${whole}.${frac < 10 ? '0' : ''}${frac}`;
}

/** A plain decimal string of whole shares/cents (lot 1) -> integer; asserts there is no fraction. */
export function wholeFromDecimal(text: string): number {
  const n = Number(text);
  assert(/^[0-9]+$/.test(text) && Number.isSafeInteger(n), `expected a whole number, got ${JSON.stringify(text)}`);
  return n;
}

/** A canonical decimal price string -> integer cents (inverse of centsToDecimal). */
export function decimalToCents(text: string): number {
  const m = /^([0-9]+)(?:\.([0-9]{1,2}))?$/.exec(text);
  assert(m !== null, `not a cent price: ${JSON.stringify(text)}`);
  const frac = (m[2] ?? '').padEnd(2, '0');
  const cents = Number(m[1]) * 100 + Number(frac);
  assert(Number.isSafeInteger(cents), `price out of range: ${text}`);
  return cents;
}
