import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir, lockFileName } from '../../src/storage/dir-lock.js';
import { DiskStorage } from '../../src/storage/index.js';

/** Another process that takes `dir`'s lock and keeps it until killed. */
async function holder(dir: string): Promise<ChildProcess> {
  const script = `import { lockDataDir } from ${JSON.stringify(new URL('../../src/storage/dir-lock.ts', import.meta.url).pathname)};
    await lockDataDir(${JSON.stringify(dir)}); process.stdout.write('locked\\n'); setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (b: Buffer) => { if (b.toString().includes('locked')) resolve(); });
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code}`)));
  });
  return child;
}

describe('data directory lock', () => {
  const dirs: string[] = [];
  const children: ChildProcess[] = [];
  const fresh = async (): Promise<string> => {
    const dir = await mkdtemp(join(tmpdir(), 'raftex-lock-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const c of children.splice(0)) c.kill('SIGKILL');
    await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
  });

  it('refuses a directory another process holds, names it, and is free once that process is killed', async () => {
    const dir = await fresh();
    const child = await holder(dir);
    children.push(child);
    const error = await DiskStorage.open(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataDirInUseError);
    expect((error as DataDirInUseError).pid).toBe(child.pid);
    // SIGKILL leaves its LOCK file behind; the kernel frees the lock itself.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    expect((await readFile(join(dir, lockFileName), 'utf8')).trim()).toBe(String(child.pid));
    const store = await DiskStorage.open(dir);
    expect((await readFile(join(dir, lockFileName), 'utf8')).trim()).toBe(String(process.pid));
    await store.close();
  }, 30_000);

  it('a store holds the lock while open and releases it on close', async () => {
    const dir = await fresh();
    const store = await DiskStorage.open(dir);
    await store.close();
    await expect(readFile(join(dir, lockFileName), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
    const child = await holder(dir);
    children.push(child);
  }, 30_000);

  it('a reopen in the same process takes the lock over; the first holder closing does not free it', async () => {
    const dir = await fresh();
    const first = await lockDataDir(dir);
    const second = await lockDataDir(dir);
    await first.release();
    // Still held: another process cannot take it.
    const script = `import { lockDataDir } from ${JSON.stringify(new URL('../../src/storage/dir-lock.ts', import.meta.url).pathname)};
      try { await lockDataDir(${JSON.stringify(dir)}); process.stdout.write('took'); } catch (e) { process.stdout.write(e.name); }`;
    const out = await new Promise<string>((resolve) => {
      const c = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
      let text = '';
      c.stdout!.on('data', (b: Buffer) => (text += b.toString()));
      c.once('exit', () => resolve(text));
    });
    expect(out).toBe('DataDirInUseError');
    await second.release();
  }, 30_000);
});
