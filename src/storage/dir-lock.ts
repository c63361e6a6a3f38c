/**
 * One process per data directory. Two nodes appending to one WAL (an operator starting the same
 * `--data-dir` twice, a supervisor restarting a node that is still running) would interleave
 * records and lose acknowledged entries, so the store refuses a directory another process holds.
 *
 * The lock is a listening Unix socket in Linux's abstract namespace, named after the directory's
 * real path. The kernel hands a name to one listener at a time and frees it when the process
 * dies however it dies, so there is no stale lock to judge and no window in which two processes
 * both take it (a pid file has both: pids are reused, and "is it stale?" then "take it" races).
 * The `LOCK` file beside the data only tells a human which pid holds it. Abstract socket names
 * are per network namespace: processes in different namespaces sharing one directory are not
 * protected from each other.
 */
import { createHash } from 'node:crypto';
import { unlink, writeFile, readFile, realpath } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

export const lockFileName = 'LOCK';

/** Another process holds the directory. */
export class DataDirInUseError extends Error {
  override readonly name = 'DataDirInUseError';

  constructor(readonly dir: string, readonly pid: number | null) {
    super(`data directory ${dir} is in use by ${pid === null ? 'another process' : `process ${pid}`}: stop it, or use another --data-dir`);
  }
}

export interface DirLock {
  /** Frees the directory (idempotent). */
  release(): Promise<void>;
}

/**
 * This process's locks by directory. A second open in the same process takes the lock over
 * (in-process tests reopen a store after simulating a crash without closing it); only the
 * current holder's release frees it.
 */
const held = new Map<string, { server: Server; token: object }>();

function socketName(realDir: string): string {
  return `\0raftex-data-dir:${createHash('sha256').update(realDir).digest('hex').slice(0, 40)}`;
}

function listen(name: string): Promise<Server | 'inUse'> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve('inUse') : reject(e)));
    server.listen({ path: name }, () => {
      // The lock must not keep the process alive.
      server.unref();
      resolve(server);
    });
  });
}

/** Takes `dir`'s lock, or throws DataDirInUseError. `dir` must exist. */
export async function lockDataDir(dir: string): Promise<DirLock> {
  const realDir = await realpath(dir);
  const infoPath = join(dir, lockFileName);
  const token = {};
  const mine = held.get(realDir);
  if (mine !== undefined) {
    mine.token = token;
  } else {
    const server = await listen(socketName(realDir));
    if (server === 'inUse') {
      const pid = Number.parseInt((await readFile(infoPath, 'utf8').catch(() => '')).trim(), 10);
      throw new DataDirInUseError(dir, Number.isSafeInteger(pid) && pid > 0 ? pid : null);
    }
    held.set(realDir, { server, token });
  }
  await writeFile(infoPath, `${process.pid}\n`);
  let released = false;
  return {
    release: async () => {
      if (released) return;
      released = true;
      const entry = held.get(realDir);
      if (entry === undefined || entry.token !== token) return;
      held.delete(realDir);
      await unlink(infoPath).catch(() => undefined);
      await new Promise<void>((resolve) => entry.server.close(() => resolve()));
    },
  };
}
