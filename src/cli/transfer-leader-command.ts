/**
 * `raftex transfer-leader <id>`: hands leadership to member `<id>` (TimeoutNow). Asks the given
 * node who leads, sends TransferLeadership to the leader at the address that node uses for it,
 * and prints the new leader once leadership has moved. `<id>` may be omitted: the leader then
 * picks its most up-to-date follower (what a rolling restart of the leader wants).
 */
import { Metadata } from '@grpc/grpc-js';
import type { Command } from 'commander';
import type { TransferLeadershipResponse } from '../gen/raftex/v1/cluster.js';
import { clientGlobals, withClient } from './client-commands.js';
import { NodeClient } from './client.js';

/** TransferLeadership on `client`'s node; it answers once leadership has moved. */
function transferLeadership(client: NodeClient, targetId: string, timeoutMs: number): Promise<TransferLeadershipResponse> {
  return new Promise((resolve, reject) => {
    client.cluster.transferLeadership({ targetId }, new Metadata(), { deadline: new Date(Date.now() + timeoutMs) }, (error, reply) => {
      if (error) reject(error);
      else resolve(reply);
    });
  });
}

/** Adds `transfer-leader` to the program. */
export function registerTransferLeaderCommand(program: Command): void {
  program
    .command('transfer-leader')
    .argument('[id]', 'the member to hand leadership to (default: the most up-to-date follower)')
    .description('hand leadership to another member without an election gap')
    .action((id: string | undefined, _opts: unknown, cmd: Command) =>
      withClient(cmd, async (client) => {
        const g = clientGlobals(cmd);
        const self = await client.status();
        if (self.leaderId === '') throw new Error('no leader known right now; retry in a moment');
        if (id !== undefined && id === self.leaderId) {
          if (g.json) console.log(JSON.stringify({ from: self.leaderId, leaderId: self.leaderId, term: self.term }));
          else console.log(`${id} is already the leader (term ${self.term})`);
          return;
        }
        const leaderAddress = self.leaderId === self.nodeId
          ? client.address
          : self.members.find((m) => m.id === self.leaderId)?.address;
        if (leaderAddress === undefined) throw new Error(`no address known for the leader ${self.leaderId}`);
        const leader = leaderAddress === client.address ? client : new NodeClient(leaderAddress, g.timeoutMs);
        try {
          const moved = await transferLeadership(leader, id ?? '', g.timeoutMs);
          if (g.json) console.log(JSON.stringify({ from: self.leaderId, leaderId: moved.leaderId, term: moved.term }));
          else console.log(`leadership moved from ${self.leaderId} to ${moved.leaderId} (term ${moved.term})`);
        } finally {
          if (leader !== client) leader.close();
        }
      }));
}
