/**
 * Crash-test child: `node --import tsx wal-crash-child.ts <dir> <term>`. Opens the store, prints
 * `ready <lastIndex>`, then appends forever from several concurrent writers (so group commit is in
 * play), printing `ack <index> <commitIndex>` only after sync() resolved for that index. The
 * parent SIGKILLs it at random moments and checks every acknowledged index survived.
 * Entries are `entry(index, term)` from storage-fixtures, so the parent can rebuild the bytes.
 */
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { describeWarning } from '../../src/storage/storage-warning.js';
import type { LogEntry } from '../../src/raft/types.js';
import { entry } from './storage-fixtures.js';

const [dir, termArg] = process.argv.slice(2);
if (dir === undefined || termArg === undefined) throw new Error('usage: wal-crash-child <dir> <term>');
const term = Number(termArg);
const writersMax = 4;
const batchMax = 8;

// Pipes are synchronous on Linux, so a line printed is a line the parent will read.
const say = (line: string): void => void process.stdout.write(`${line}\n`);

const s = await DiskStorage.open(dir, { segmentBytes: 8 * 1024, warn: (w) => say(`warn ${describeWarning(w)}`) });
say(`ready ${s.lastIndex()}`);
let next = s.lastIndex() + 1;
let commit = s.hardState().commitIndex;

async function writer(seed: number): Promise<never> {
  let x = seed;
  for (;;) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    const n = 1 + (x % batchMax);
    const batch: LogEntry[] = [];
    for (let i = 0; i < n; i++) batch.push(entry(next++, term));
    s.append(batch);
    // commitIndex only moves up to what is already durable, as in Raft.
    commit = Math.max(commit, s.durableIndex);
    s.setHardState({ term, votedFor: 'n1', commitIndex: commit });
    const hs = commit;
    await s.sync();
    say(`ack ${batch.at(-1)!.index} ${hs}`);
  }
}

await Promise.all(Array.from({ length: writersMax }, (_, i) => writer(i + term * 7919)));
