/**
 * The `raftex` command tree, built without running it so tests can parse argv in-process.
 */
import { Command } from 'commander';
import { addClientOptions, registerClientCommands } from './client-commands.js';
import { registerStatusCommand } from './status-command.js';
import { registerTransferLeaderCommand } from './transfer-leader-command.js';
import { registerMemberCommand } from './member-command.js';
import { registerNodeCommands } from './node-commands.js';
import { registerReplayCommand } from './replay-command.js';

/** Builds the `raftex` program with every subcommand registered. */
export function buildProgram(): Command {
  const program = new Command('raftex')
    .description('raftex: an event-sourced stock exchange on a Raft replicated log')
    .showHelpAfterError();
  addClientOptions(program);
  registerNodeCommands(program);
  registerClientCommands(program);
  registerStatusCommand(program);
  registerTransferLeaderCommand(program);
  registerMemberCommand(program);
  registerReplayCommand(program);
  return program;
}
