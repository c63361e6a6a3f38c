import { assertNever } from '../raft/assert.js';

/**
 * Non-fatal events the store reports through the injected `warn` callback (no logger
 * dependency in storage: the node runtime maps these to pino).
 */
export type StorageWarning =
  | {
      /** A partial record at the end of the last segment (a crash mid-write) was cut off. */
      readonly kind: 'tornTail';
      readonly file: string;
      readonly offset: number;
      readonly bytesCut: number;
      readonly reason: string;
    }
  | {
      /** A snapshot file failed its checksum; an older one (or none) is used instead. */
      readonly kind: 'snapshotUnreadable';
      readonly file: string;
      readonly reason: string;
    }
  | {
      /** A leftover temp file from a crash during a snapshot write was deleted. */
      readonly kind: 'tempFileRemoved';
      readonly file: string;
    }
  | {
      /** Log entries that conflict with the snapshot (different term at its index) were dropped. */
      readonly kind: 'logDiscardedBySnapshot';
      readonly snapshotIndex: number;
      readonly entriesDropped: number;
    };

/** The callback type; the default ignores warnings. */
export type StorageWarn = (warning: StorageWarning) => void;

/** Formats a warning as one human-readable line (for loggers that want a message). */
export function describeWarning(w: StorageWarning): string {
  switch (w.kind) {
    case 'tornTail':
      return `torn WAL tail cut: ${w.file} at offset ${w.offset} (${w.bytesCut} bytes): ${w.reason}`;
    case 'snapshotUnreadable':
      return `snapshot unreadable, skipped: ${w.file}: ${w.reason}`;
    case 'tempFileRemoved':
      return `leftover temp file removed: ${w.file}`;
    case 'logDiscardedBySnapshot':
      return `${w.entriesDropped} log entries conflicting with snapshot ${w.snapshotIndex} dropped`;
    default:
      return assertNever(w);
  }
}
