/**
 * `raftex member add <id> <address>`, `raftex member remove <id>`, `raftex member list`: cluster
 * membership. Add and remove go to `--server`, which forwards them to the leader; they answer
 * once the change is committed. `list` shows the configuration as `--server` sees it.
 */
import { Metadata } from '@grpc/grpc-js';
import type { Command } from 'commander';
import {
  AddMemberResponse, GetStatusResponse, RemoveMemberResponse, Role,
  type Member,
} from '../gen/raftex/v1/cluster.js';
import { clientGlobals, withClient } from './client-commands.js';
import type { NodeClient } from './client.js';
import { renderTable } from './table.js';
import type { Cell } from './table.js';

/**
 * Deadline of `member add` / `member remove` unless `--timeout` is given: adding waits for the
 * new node to copy the whole log before it is promoted.
 */
export const memberChangeTimeoutMs = 60_000;

/** The members as a table (voters first, then learners, each sorted by id). */
export function renderMembers(members: readonly Member[], leaderId: string, progress: ReadonlyMap<string, { matchIndex: number; nextIndex: number }> = new Map()): string {
  const sorted = [...members].sort((a, b) => (a.voter !== b.voter ? (a.voter ? -1 : 1) : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rows: Cell[][] = sorted.map((m) => {
    const p = progress.get(m.id);
    return [m.id, m.address || '-', m.voter ? 'voter' : 'learner', m.id === leaderId ? 'yes' : '', p ? `${p.matchIndex}/${p.nextIndex}` : ''];
  });
  return renderTable(['id', 'address', 'kind', 'leader', 'match/next'], rows);
}

function deadlineFor(cmd: Command): number {
  const g = clientGlobals(cmd);
  const explicit = cmd.getOptionValueSourceWithGlobals('timeout') === 'cli';
  return Date.now() + (explicit ? g.timeoutMs : Math.max(g.timeoutMs, memberChangeTimeoutMs));
}

function addMember(client: NodeClient, nodeId: string, address: string, deadlineMs: number): Promise<AddMemberResponse> {
  return new Promise((resolve, reject) => {
    client.cluster.addMember({ nodeId, address }, new Metadata(), { deadline: new Date(deadlineMs) }, (error, reply) => {
      if (error) reject(error);
      else resolve(reply);
    });
  });
}

function removeMember(client: NodeClient, nodeId: string, deadlineMs: number): Promise<RemoveMemberResponse> {
  return new Promise((resolve, reject) => {
    client.cluster.removeMember({ nodeId }, new Metadata(), { deadline: new Date(deadlineMs) }, (error, reply) => {
      if (error) reject(error);
      else resolve(reply);
    });
  });
}

/** Adds `member` (add, remove, list) to the program. */
export function registerMemberCommand(program: Command): void {
  const member = program
    .command('member')
    .description('cluster membership: add, remove and list members');

  member
    .command('add')
    .argument('<id>', 'the new node\'s id (it runs with --join)')
    .argument('<address>', 'host:port the other members reach it at')
    .description('add a node: it joins as a learner, catches up, then becomes a voter')
    .action((id: string, address: string, _opts: unknown, cmd: Command) =>
      withClient(cmd, async (client, g) => {
        const reply = await addMember(client, id, address, deadlineFor(cmd));
        if (g.json) console.log(JSON.stringify(AddMemberResponse.toJSON(reply)));
        else console.log(`${id} is a voter (log index ${reply.logIndex})\n${renderMembers(reply.members, '')}`);
      }));

  member
    .command('remove')
    .argument('<id>', 'the member to remove (the leader hands leadership over first)')
    .description('remove a member')
    .action((id: string, _opts: unknown, cmd: Command) =>
      withClient(cmd, async (client, g) => {
        const reply = await removeMember(client, id, deadlineFor(cmd));
        if (g.json) console.log(JSON.stringify(RemoveMemberResponse.toJSON(reply)));
        else console.log(`${id} removed (log index ${reply.logIndex})\n${renderMembers(reply.members, '')}`);
      }));

  member
    .command('list')
    .description('the members as --server sees them (voters and learners, with addresses)')
    .action((_opts: unknown, cmd: Command) =>
      withClient(cmd, async (client, g) => {
        const s = await client.status();
        if (g.json) {
          const status = GetStatusResponse.toJSON(s) as { members?: unknown };
          console.log(JSON.stringify({ server: client.address, nodeId: s.nodeId, leaderId: s.leaderId, members: status.members ?? [] }));
          return;
        }
        const progress = new Map(s.role === Role.ROLE_LEADER ? s.followers.map((f) => [f.id, f]) : []);
        console.log(`${renderMembers(s.members, s.leaderId, progress)}\nas seen by ${s.nodeId} (leader: ${s.leaderId || 'none'})`);
      }));
}
