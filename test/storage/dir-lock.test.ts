import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir, lockFileName } from '../../src/storage/dir-lock.js';
import { DiskStorage } from '../../src/storage/index.js';

/** A pid that certainly ran and is certainly gone: a child that has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

describe('data directory lock', () => {
  const dirs: string[] = [];
  const fresh = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'raftex-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('refuses a directory a live process holds, naming that process', async () => {
    const dir = await fresh();
    // The parent of this test process is alive for the whole test.
    await writeFile(join(dir, lockFileName), `${process.ppid}\n`);
    const error = await lockDataDir(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect((error as DataDirInUseError).pid).toBe(process.ppid);
    await expect(DiskStorage.open(dir)).rejects.toBeInstanceOf(DataDirInUseError);
    // Refusing must not remove the holder's lock.
    expect((await readFile(join(dir, lockFileName), 'utf8')).trim()).toBe(String(process.ppid));
  });

  it('takes over the lock of a process that died without releasing it', async () => {
    const dir = await fresh();
    await writeFile(join(dir, lockFileName), `${deadPid()}\n`);
    const lock = await lockDataDir(dir);
    expect((await readFile(join(dir, lockFileName), 'utf8')).trim()).toBe(String(process.pid));
    await lock.release();
    await expect(readFile(join(dir, lockFileName), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('a store holds the lock while open and releases it on close', async () => {
    const dir = await fresh();
    const store = await DiskStorage.open(dir);
    expect((await readFile(join(dir, lockFileName), 'utf8')).trim()).toBe(String(process.pid));
    await store.close();
    await expect(readFile(join(dir, lockFileName), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    const again = await DiskStorage.open(dir);
    await again.close();
  });
});
