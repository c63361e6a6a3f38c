/** Durable Raft storage: the WAL-backed `RaftStorage`, its snapshot store and errors. */
export { DiskStorage, type DiskStorageOptions } from './disk-storage.js';
export { SnapshotStore, snapshotsKeptDefault, type Snapshot } from './snapshot-store.js';
export { WalCorruptionError, StorageFailedError } from './wal-errors.js';
export { DataDirInUseError, lockFileName } from './dir-lock.js';
export { describeWarning, type StorageWarning, type StorageWarn } from './storage-warning.js';
export { segmentBytesDefault, writeChunkBytesMax, type WalCounters } from './wal-writer.js';
export { walRecordBytesMax } from './wal-record.js';
