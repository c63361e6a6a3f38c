/**
 * One process per data directory. Two nodes appending to one WAL (an operator starting the same
 * `--data-dir` twice) would interleave records and lose acknowledged entries, so the store
 * refuses to open a directory another live process holds.
 *
 * The lock is a `LOCK` file created exclusively, holding the owner's pid. Node has no flock, so
 * a lock left by a process that died (SIGKILL, power loss) is recognised by its pid no longer
 * running and taken over. This guards against mistakes, not against two processes racing to
 * take over the same stale lock in the same millisecond.
 */
import { open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';

export const lockFileName = 'LOCK';

/** Another live process holds the directory. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';

  constructor(readonly dir: string, readonly pid: number) {
    super(`data directory ${dir} is in use by process ${pid}: stop it, or use another --data-dir `
      + `(if ${pid} is not a raftex node, e.g. after a reboot reused the pid, delete ${dir}/${lockFileName})`);
  }
}

/** Taking over a stale lock is tried this many times before giving up (another taker won). */
const lockAttemptsMax = 3;

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else; only ESRCH means gone.
    return (e as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

export interface DirLock {
  /** Removes the lock file if it is still ours. */
  release(): Promise<void>;
}

/**
 * Takes `dir`'s lock. A lock held by this same process is taken over: in-process tests reopen a
 * store after simulating a crash, and a process cannot race itself across an await here.
 */
export async function lockDataDir(dir: string): Promise<DirLock> {
  const path = join(dir, lockFileName);
  const me = process.pid;
  for (let attempt = 1; ; attempt++) {
    try {
      const handle = await open(path, 'wx');
      try {
        await handle.writeFile(`${me}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      return { release: () => releaseIfOurs(path, me) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const holder = Number.parseInt((await readFile(path, 'utf8').catch(() => '')).trim(), 10);
    if (Number.isSafeInteger(holder) && holder > 0 && holder !== me && isRunning(holder)) throw new DataDirInUseError(dir, holder);
    if (attempt >= lockAttemptsMax) throw new DataDirInUseError(dir, Number.isSafeInteger(holder) ? holder : 0);
    // Stale (its process is gone), ours, or unreadable (a crash between create and write): retake.
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
}

async function releaseIfOurs(path: string, pid: number): Promise<void> {
  const holder = await readFile(path, 'utf8').catch(() => '');
  if (holder.trim() === String(pid)) await unlink(path).catch(() => undefined);
}
