/**
 * `raftex status`: the cluster as a table. Asks the given node for its view, then every member it
 * lists (at the address that node uses for it), so one command shows each node's own role, term
 * and indexes side by side with the leader's view of its followers' progress.
 */
import type { Command } from 'commander';
import { GetStatusResponse, Role, roleToJSON } from '../gen/raftex/v1/cluster.js';
import { codeName, describeError, isServiceError, NodeClient } from './client.js';
import { clientGlobals, shortEnum, withClient } from './client-commands.js';
import { renderTable } from './table.js';
import type { Cell } from './table.js';

/** Deadline for asking each member, ms: a dead member must not hold up the table. */
export const memberStatusTimeoutMs = 2_000;

/** One member's row: its own answer, or why it did not give one. */
export interface MemberStatus {
  readonly id: string;
  readonly address: string;
  readonly status: GetStatusResponse | null;
  readonly error: string | null;
}

/** The cluster as seen from `server`: its answer plus each member's own. */
export interface ClusterView {
  readonly server: string;
  readonly self: GetStatusResponse;
  readonly members: readonly MemberStatus[];
}

/** Collects the cluster view starting from `client`'s node. */
export async function collectClusterView(client: NodeClient, timeoutMs: number): Promise<ClusterView> {
  const self = await client.status();
  const members = await Promise.all(
    (self.members.length > 0 ? self.members : [{ id: self.nodeId, address: client.address, voter: true }]).map(async (m): Promise<MemberStatus> => {
      if (m.id === self.nodeId) return { id: m.id, address: m.address, status: self, error: null };
      const peer = new NodeClient(m.address, timeoutMs);
      try {
        return { id: m.id, address: m.address, status: await peer.status(Math.min(timeoutMs, memberStatusTimeoutMs)), error: null };
      } catch (e) {
        return { id: m.id, address: m.address, status: null, error: isServiceError(e) ? codeName(e.code) : describeError(e) };
      } finally {
        peer.close();
      }
    }),
  );
  return { server: client.address, self, members };
}

/** Renders the cluster view as the status table. */
export function renderClusterView(view: ClusterView): string {
  // The leader's progress for each follower, from the freshest leader answer we have.
  const leader = view.members
    .map((m) => m.status)
    .filter((s): s is GetStatusResponse => s !== null && s.role === Role.ROLE_LEADER)
    .sort((a, b) => b.term - a.term)[0];
  const progress = new Map((leader?.followers ?? []).map((f) => [f.id, f]));
  const members = [...view.members].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const rows: Cell[][] = members.map((m) => {
    const s = m.status;
    const p = progress.get(m.id);
    const match = p ? `${p.matchIndex}/${p.nextIndex}` : (leader && leader.nodeId === m.id ? 'leader' : '');
    if (s === null) return [m.id, m.address, `unreachable (${m.error ?? '?'})`, '', '', '', '', '', match, ''];
    return [m.id, m.address, shortEnum(roleToJSON(s.role), 'ROLE_').toLowerCase(), s.term, s.leaderId || '-',
      s.commitIndex, s.lastApplied, s.lastLogIndex, match, s.stateHash.slice(0, 12)];
  });
  const leaders = view.members.filter((m) => m.status?.role === Role.ROLE_LEADER).map((m) => m.id);
  const summary = leaders.length === 1 ? `leader: ${leaders[0]}` : leaders.length === 0 ? 'leader: none' : `leaders: ${leaders.join(', ')} (different terms)`;
  return `${renderTable(['id', 'address', 'role', 'term', 'leader', 'commit', 'applied', 'last log', 'match/next', 'state hash'], rows)}\n${summary}`;
}

/** Registers `raftex status`. */
export function registerStatusCommand(program: Command): void {
  program
    .command('status')
    .description('the cluster: every member\'s role, term, indexes and the leader\'s follower progress')
    .action((_opts: unknown, cmd: Command) =>
      withClient(cmd, async (client) => {
        const g = clientGlobals(cmd);
        const view = await collectClusterView(client, g.timeoutMs);
        if (g.json) {
          console.log(JSON.stringify({
            server: view.server,
            self: GetStatusResponse.toJSON(view.self),
            members: view.members.map((m) => ({
              id: m.id, address: m.address, status: m.status ? GetStatusResponse.toJSON(m.status) : null, error: m.error,
            })),
          }));
        } else {
          console.log(renderClusterView(view));
        }
      }));
}
