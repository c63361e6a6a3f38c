/** An invariant was broken: a bug, never a business outcome. The node must crash, not continue. */
export class AssertionError extends Error {
  override readonly name = 'AssertionError';
}

/** Assertions stay on in production: a Raft invariant broken silently corrupts every replica. */
export function assert(condition: unknown, message: string): asserts condition {
  if (!condition) throw new AssertionError(message);
}

/** The default branch of an exhaustive switch. */
export function assertNever(value: never): never {
  throw new AssertionError(`unexpected variant: ${JSON.stringify(value)}`);
}
