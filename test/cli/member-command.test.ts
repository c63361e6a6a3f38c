/**
 * `raftex member add|remove|list` as a user runs them (`node --import tsx src/cli/main.ts ...`)
 * against a live two-node cluster of real nodes in this process: n1 alone, n2 started with
 * --join and added through the CLI.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startNode, type RunningNode } from '../../src/node/start-node.js';
import { freePorts, repoRoot, sleep } from '../support/cluster.js';

const timing = { electionTimeoutMs: 300, heartbeatMs: 50 };

/** Runs the CLI without blocking this process's event loop (it serves the nodes). */
function raftex(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repoRoot, timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

interface MemberJson { id: string; address: string; voter?: boolean }

describe('raftex member', () => {
  const running: RunningNode[] = [];
  let root = '';

  afterAll(async () => {
    await Promise.all(running.map((n) => n.stop()));
    if (root !== '') await rm(root, { recursive: true, force: true });
  });

  it('add (through the joining node), list --json and as a table, remove; errors exit 1', async () => {
    root = await mkdtemp(join(tmpdir(), 'raftex-member-cli-'));
    const [p1, p2] = await freePorts(2);
    const a1 = `127.0.0.1:${p1!}`;
    const a2 = `127.0.0.1:${p2!}`;
    const silent = pino({ level: 'silent' });
    const n1 = await startNode({ id: 'n1', listen: a1, peers: new Map(), dataDir: join(root, 'n1'), timing, logger: silent });
    running.push(n1);
    const n2 = await startNode({ id: 'n2', listen: a2, peers: new Map([['n1', a1]]), join: true, dataDir: join(root, 'n2'), timing, logger: silent });
    running.push(n2);
    for (let i = 0; i < 500 && n1.node.status().role !== 'leader'; i++) await sleep(10);

    const added = await raftex('member', 'add', 'n2', a2, '--server', a2, '--json');
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const addJson = JSON.parse(added.stdout) as { members: MemberJson[]; logIndex: number };
    expect(addJson.members.map((m) => [m.id, m.voter === true])).toEqual([['n1', true], ['n2', true]]);
    expect(addJson.logIndex).toBeGreaterThan(0);

    const [listJson, listTable, unknown, malformed] = await Promise.all([
      raftex('member', 'list', '--server', a2, '--json'),
      raftex('member', 'list', '--server', a1),
      raftex('member', 'remove', 'n9', '--server', a2),
      raftex('member', 'add', 'n3', 'no-port', '--server', a1, '--json'),
    ]);
    expect(listJson.code, listJson.stderr).toBe(0);
    const view = JSON.parse(listJson.stdout) as { server: string; nodeId: string; leaderId: string; members: MemberJson[] };
    expect(view).toMatchObject({ server: a2, nodeId: 'n2', leaderId: 'n1' });
    expect(view.members.map((m) => [m.id, m.address, m.voter === true])).toEqual([['n1', a1, true], ['n2', a2, true]]);

    expect(listTable.code, listTable.stderr).toBe(0);
    expect(listTable.stdout).toMatch(/^id\s+address\s+kind\s+leader\s+match\/next$/m);
    expect(listTable.stdout).toMatch(new RegExp(`^n1\\s+${a1.replace(/\./g, '\\.')}\\s+voter\\s+yes\\s*$`, 'm'));
    expect(listTable.stdout).toMatch(new RegExp(`^n2\\s+${a2.replace(/\./g, '\\.')}\\s+voter\\s+\\d+/\\d+$`, 'm'));

    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error: NOT_FOUND: n9 is not a member/);
    expect(malformed.code).toBe(1);
    expect(JSON.parse(malformed.stderr)).toMatchObject({ error: { codeName: 'INVALID_ARGUMENT' } });

    const removed = await raftex('member', 'remove', 'n2', '--server', a1);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/^n2 removed \(log index \d+\)$/m);
    expect(n1.node.membership().voters.map((m) => m.id)).toEqual(['n1']);
  }, 90_000);
});
