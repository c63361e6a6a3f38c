/**
 * `raftex cluster` (what `npm start` runs) brings up 3 node processes; `raftex status` shows
 * exactly one leader; SIGTERM stops everything with exit status 0 within 5 s (per node and for
 * the cluster command).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freeConsecutivePorts, repoRoot, runCli, sleep } from '../support/cluster.js';

interface StatusJson {
  members: { id: string; status: { role?: string; leaderId?: string; term?: string | number } | null }[];
}

describe('raftex cluster', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'raftex-cluster-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('starts 3 nodes, status shows exactly one leader, SIGTERM stops them all with status 0', async () => {
    const basePort = await freeConsecutivePorts(3);
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'cluster', '--nodes', '3', '--base-port', String(basePort), '--data-dir', dataDir], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (c: Buffer) => (output += c.toString('utf8')));
    child.stderr.on('data', (c: Buffer) => (output += c.toString('utf8')));
    const exited = new Promise<{ code: number | null; signal: string | null }>((done) => child.on('exit', (code, signal) => done({ code, signal })));
    try {
      // The cluster command prints the leader once it polls one.
      const until = Date.now() + 90_000;
      while (!/\[cluster\] n\d leads/.test(output) && Date.now() < until) await sleep(200);
      expect(output, output).toMatch(/\[cluster\] n\d leads \(term \d+\) at 127\.0\.0\.1:\d+/);
      expect(output).toMatch(/\[n1\] .*"msg":"node started"/);

      let leaders: string[] = [];
      for (let attempt = 0; attempt < 10; attempt++) {
        const status = await runCli(['status', '--json', '--server', `127.0.0.1:${basePort + 1}`]);
        expect(status.code, status.stderr).toBe(0);
        const view = JSON.parse(status.stdout) as StatusJson;
        expect(view.members.map((m) => m.id).sort()).toEqual(['n1', 'n2', 'n3']);
        leaders = view.members.filter((m) => m.status?.role === 'ROLE_LEADER').map((m) => m.id);
        if (leaders.length === 1 && view.members.every((m) => m.status?.leaderId === leaders[0])) break;
        await sleep(500);
      }
      expect(leaders).toHaveLength(1);
    } finally {
      const stoppedAt = Date.now();
      child.kill('SIGTERM');
      const { code } = await exited;
      const tookMs = Date.now() - stoppedAt;
      expect(code, output.slice(-3000)).toBe(0);
      expect(tookMs).toBeLessThan(6_000);
      // Every node exited on its own SIGTERM with status 0.
      expect(output.match(/\[cluster\] n\d exited \(code 0\)/g) ?? []).toHaveLength(3);
    }
  }, 150_000);
});
