/**
 * WAL throughput: for batch sizes 1, 16 and 256 entries per append, how many entries per second
 * reach disk through `append + sync`, how many fsyncs that took, and the disk's raw
 * write+fdatasync rate measured in the same run (the physical ceiling for batch=1).
 *
 *   npm run bench:wal [-- --dir /path/on/disk] [--seconds 2] [--bytes 128] [--writers 1]
 *
 * `--writers N` runs N concurrent append+sync loops (group commit at work); the default is one
 * loop, so each line measures a plain batch-per-fsync pipeline.
 */
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Command } from 'commander';
import type { LogEntry } from '../src/raft/types.js';
import { DiskStorage } from '../src/storage/disk-storage.js';

const program = new Command()
  .option('--dir <path>', 'directory on the disk to measure (default: os.tmpdir())', tmpdir())
  .option('--seconds <n>', 'seconds per measurement', '2')
  .option('--bytes <n>', 'payload bytes per entry', '128')
  .option('--writers <n>', 'concurrent append+sync loops', '1')
  .parse();
const opts = program.opts<{ dir: string; seconds: string; bytes: string; writers: string }>();
const seconds = Number(opts.seconds);
const payloadBytes = Number(opts.bytes);
const writers = Number(opts.writers);
const batchSizes = [1, 16, 256];

/** Plain write + fdatasync of one small block in a loop: the disk's durable-write rate. */
let rawFiles = 0;

async function rawFdatasyncPerSecond(dir: string): Promise<number> {
  const fh = await open(join(dir, `raw-${rawFiles++}.bin`), 'w');
  const block = Buffer.alloc(payloadBytes + 40, 7);
  let n = 0;
  let position = 0;
  const start = performance.now();
  try {
    while (performance.now() - start < seconds * 1000) {
      await fh.write(block, 0, block.length, position);
      position += block.length;
      await fh.datasync();
      n++;
    }
  } finally {
    await fh.close();
  }
  return n / ((performance.now() - start) / 1000);
}

async function walRun(dir: string, batch: number): Promise<{ appendsPerSec: number; fsyncsPerSec: number }> {
  const s = await DiskStorage.open(join(dir, `wal-${batch}`));
  const data = new Uint8Array(payloadBytes).fill(42);
  let next = 1;
  const start = performance.now();
  const deadline = start + seconds * 1000;
  const loop = async (): Promise<void> => {
    while (performance.now() < deadline) {
      const entries: LogEntry[] = [];
      for (let i = 0; i < batch; i++) entries.push({ index: next++, term: 1, type: 'command', timestampMs: Date.now(), data });
      s.append(entries);
      await s.sync();
    }
  };
  const before = s.fsyncCount;
  await Promise.all(Array.from({ length: writers }, loop));
  const elapsed = (performance.now() - start) / 1000;
  const result = { appendsPerSec: s.durableIndex / elapsed, fsyncsPerSec: (s.fsyncCount - before) / elapsed };
  await s.close();
  return result;
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(opts.dir, 'raftex-wal-bench-'));
  try {
    for (const batch of batchSizes) {
      // Measured right before and after each WAL run (the better of the two): on a shared disk
      // the rate drifts within seconds.
      const rawBefore = await rawFdatasyncPerSecond(dir);
      const r = await walRun(dir, batch);
      const raw = Math.max(rawBefore, await rawFdatasyncPerSecond(dir));
      console.log(
        `wal: batch=${batch} appends/s=${Math.round(r.appendsPerSec)} fsyncs/s=${Math.round(r.fsyncsPerSec)} raw_fdatasync/s=${Math.round(raw)}` +
          (writers > 1 ? ` writers=${writers}` : ''),
      );
    }
    // Recovery: reopening replays every segment into memory (what a restarting node pays).
    const start = performance.now();
    const s = await DiskStorage.open(join(dir, `wal-${batchSizes.at(-1)}`));
    const ms = performance.now() - start;
    console.log(`wal: recovery entries=${s.lastIndex()} segments=${s.segments().length} open_ms=${Math.round(ms)} entries/s=${Math.round(s.lastIndex() / (ms / 1000))}`);
    await s.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
