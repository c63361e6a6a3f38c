/**
 * Crash test: a child process appends and prints each acknowledged index; we SIGKILL it at
 * random (seeded) moments, reopen, and check every acknowledged index is there with the same
 * bytes, and the hard state is at least the last acknowledged one.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Term } from '../../src/raft/types.js';
import { DiskStorage } from '../../src/storage/disk-storage.js';
import { entry, prng, tempDirs, testSeed } from './storage-fixtures.js';

const dirs = tempDirs();
afterEach(() => dirs.cleanup());

const childPath = fileURLToPath(new URL('./wal-crash-child.ts', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const killsMin = 22;

interface RunResult {
  acks: Array<{ index: number; commit: number }>;
  ready: boolean;
}

/**
 * The node arguments that start the child. `node --import tsx` pays ~2 s of loader start-up per
 * spawn on a loaded 2-core box, so the child is bundled once with esbuild (tsx's own
 * dependency) into `outDir`; if that is unavailable, fall back to tsx.
 */
async function childArgs(outDir: string): Promise<string[]> {
  try {
    const esbuild = await import('esbuild');
    const outfile = join(outDir, 'wal-crash-child.mjs');
    await esbuild.build({ entryPoints: [childPath], bundle: true, platform: 'node', format: 'esm', outfile, logLevel: 'warning' });
    return [outfile];
  } catch (err) {
    console.warn(`bundling the crash child failed, using tsx: ${String(err)}`);
    return ['--import', 'tsx', childPath];
  }
}

/** Runs the child once; kills it `delayMs` after ready (or after spawn when `early`). */
function runChild(args: readonly string[], dir: string, term: Term, delayMs: number, early: boolean): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, dir, String(term)], { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    const result: RunResult = { acks: [], ready: false };
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = (): void => void child.kill('SIGKILL');
    if (early) timer = setTimeout(kill, delayMs);
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        const [kind, a, b] = line.split(' ');
        if (kind === 'ready') {
          result.ready = true;
          if (!early) timer = setTimeout(kill, delayMs);
        } else if (kind === 'ack') {
          result.acks.push({ index: Number(a), commit: Number(b) });
        }
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      // A partial last line was never fully printed: it is not an acknowledgement.
      if (signal !== 'SIGKILL') reject(new Error(`child exited ${code} ${signal}: ${stderr}`));
      else resolve(result);
    });
  });
}

describe('crash recovery', () => {
  it(`every acknowledged index survives ${killsMin} SIGKILLs at random moments`, async () => {
    const seed = testSeed(20261203);
    const rand = prng(seed);
    const dir = await dirs.make();
    const args = await childArgs(await dirs.make());
    /** index -> term, for every index acknowledged (or found durable on a later reopen). */
    const model = new Map<number, Term>();
    let ackedCommit = 0;
    let ackedTerm = 0;
    let totalAcks = 0;
    try {
      for (let run = 1; run <= killsMin; run++) {
        const early = rand() < 0.2;
        const delayMs = early ? 50 + Math.floor(rand() * 500) : Math.floor(rand() * 250);
        const result = await runChild(args, dir, run, delayMs, early);
        for (const a of result.acks) {
          ackedCommit = Math.max(ackedCommit, a.commit);
          ackedTerm = run;
        }
        totalAcks += result.acks.length;
        const maxAcked = Math.max(0, ...result.acks.map((a) => a.index));

        const s = await DiskStorage.open(dir);
        try {
          // Acks are in durability order: every index up to the highest ack of this run is durable.
          expect(s.lastIndex(), `run ${run}`).toBeGreaterThanOrEqual(maxAcked);
          for (let i = 1; i <= maxAcked; i++) if (!model.has(i)) model.set(i, run);
          // Plain comparisons, one expect per run: vitest's expect is too slow for ~10^5 checks.
          const problems: string[] = [];
          for (const [index, term] of model) {
            const got = s.entries(index, index + 1)[0];
            const want = entry(index, term);
            if (got === undefined) problems.push(`index ${index} missing`);
            else if (got.term !== term || got.type !== want.type || got.timestampMs !== want.timestampMs) problems.push(`index ${index}: got term ${got.term}, acked ${term}`);
            else if (!Buffer.from(got.data).equals(Buffer.from(want.data))) problems.push(`index ${index}: bytes differ`);
          }
          // Unacknowledged entries that made it are now part of the log: they must be intact
          // too, and later runs must keep them.
          for (let i = 1; i <= s.lastIndex(); i++) {
            const got = s.entries(i, i + 1)[0]!;
            if (!Buffer.from(got.data).equals(Buffer.from(entry(i, got.term).data))) problems.push(`unacked index ${i}: bytes damaged`);
            model.set(i, got.term);
          }
          expect(problems.slice(0, 10), `run ${run}`).toEqual([]);
          const hs = s.hardState();
          expect(hs.term).toBeGreaterThanOrEqual(ackedTerm);
          expect(hs.commitIndex).toBeGreaterThanOrEqual(ackedCommit);
        } finally {
          await s.close();
        }
      }
      // The test is only meaningful if the children got work acknowledged between kills.
      expect(totalAcks).toBeGreaterThan(killsMin);
      console.log(`crash test: ${killsMin} kills, ${totalAcks} acks, ${model.size} entries, SEED=${seed}`);
    } catch (err) {
      console.error(`crash test failed with SEED=${seed}`);
      throw err;
    }
  }, 120_000);
});
