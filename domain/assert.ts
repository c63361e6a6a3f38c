/**
 * Invariant checks for the pure exchange core. A broken invariant is a bug that would corrupt
 * every replica identically, so it crashes (throws AssertionError); business outcomes are values.
 */

/** An invariant was broken: a bug, never a business outcome. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** Assertions stay on in production: a silently wrong ledger is worse than a crash. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** The default branch of an exhaustive switch. */
export function assertNever(value: never): never {
  throw new AssertionError(`unexpected variant: ${JSON.stringify(value)}`);
}

/** Asserts that `n` is a non-negative safe integer (engine amounts are integer units). */
export function assertUnits(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0) throw new AssertionError(`${what}: not a non-negative safe integer: ${n}`);
}

/**
 * Throws AssertionError. Hot paths write `if (!cond) fail(`...`)` rather than
 * `assert(cond, `...`)`, so the message is only built when the invariant is actually broken.
 */
export function fail(message: string): never {
  throw new AssertionError(message);
}
