/**
 * Drives the LOBSTER adapter through any asynchronous `submit` (a live cluster's
 * `ExchangeNodeApi.submit`, a gRPC client): one command at a time, because the next command may
 * name the order id the previous reply assigned. The in-process driver is `in-process-replay.ts`.
 */
import type { Command, Reply } from '../../domain/index.js';
import type { LobsterMessage } from './lobster-csv.js';
import { lobsterCommands } from './lobster-replay.js';
import type { LobsterReplayOptions, ReplayCounters } from './lobster-replay.js';

export interface SubmitReplayHooks {
  /** Applies one command and resolves with its reply. */
  readonly submit: (command: Command) => Promise<Reply>;
  /** Called after message `messageIndex` is fully applied (e.g. a top-of-book check every N rows). */
  readonly onMessageDone?: (messageIndex: number) => Promise<void> | void;
}

/** Replays `messages` through `hooks.submit`; resolves with the adapter's counters. */
export async function replayThroughSubmit(
  messages: readonly LobsterMessage[],
  options: LobsterReplayOptions,
  hooks: SubmitReplayHooks,
): Promise<ReplayCounters> {
  const gen = lobsterCommands(messages, options);
  let reply: Reply | undefined;
  for (;;) {
    const step = gen.next(reply);
    reply = undefined;
    if (step.done === true) return step.value;
    const s = step.value;
    if (s.kind === 'command') reply = await hooks.submit(s.command);
    else await hooks.onMessageDone?.(s.messageIndex);
  }
}
