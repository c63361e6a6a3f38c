/**
 * Errors the durable store raises. Corruption is a refusal to start, never a silent repair: a
 * node that serves a damaged log can vote or acknowledge with entries it no longer holds.
 */

/** A checksum or structural check failed somewhere before the tail: the WAL cannot be trusted. */
export class WalCorruptionError extends Error {
  override readonly name = 'WalCorruptionError';

  constructor(
    /** The segment (or snapshot) file that failed. */
    readonly file: string,
    /** Byte offset of the bad record inside `file`. */
    readonly offset: number,
    readonly reason: string,
  ) {
    super(`WAL corruption in ${file} at offset ${offset}: ${reason}`);
  }
}

/**
 * A write or fsync failed. The store is dead from then on: after a failed fsync the kernel may
 * have dropped the dirty pages, so retrying could report data durable that is not ("fsyncgate").
 */
export class StorageFailedError extends Error {
  override readonly name = 'StorageFailedError';

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
