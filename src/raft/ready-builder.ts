/**
 * Assembles the Ready batches a RaftNode hands its driver and enforces the handshake: one Ready
 * outstanding at a time, each acknowledged by `advance()` with exactly that Ready. What the node
 * produces while a Ready is out (the driver is fsyncing) accumulates here for the next one.
 */
import { assert } from './assert.js';
import type { LogManager } from './log-manager.js';
import type { HardState, Message, Ready, ReadState } from './types.js';

function sameHardState(a: HardState, b: HardState): boolean {
  return a.term === b.term && a.votedFor === b.votedFor && a.commitIndex === b.commitIndex;
}

export class ReadyBuilder {
  /** Messages produced since the last Ready; the driver sends them only after persisting. */
  private outbox: Message[] = [];
  private readStates: ReadState[] = [];
  /** The hard state the driver has (or will have, once the outstanding Ready persists). */
  private handedOutHardState: HardState;
  /** The Ready handed out and not yet advanced. */
  private outstanding: Ready | null = null;

  constructor(storedHardState: HardState) {
    this.handedOutHardState = storedHardState;
  }

  send(message: Message): void {
    this.outbox.push(message);
  }

  emitReadStates(states: readonly ReadState[]): void {
    this.readStates.push(...states);
  }

  /** True when a Ready would carry something (messages, reads, entries, commits or a new hard state). */
  hasWork(log: LogManager, hardState: HardState): boolean {
    return (
      this.outbox.length > 0 ||
      this.readStates.length > 0 ||
      log.hasInstalledSnapshot() ||
      log.hasUnpersisted() ||
      log.hasCommittedToHandOut() ||
      !sameHardState(hardState, this.handedOutHardState)
    );
  }

  /** Hands out everything accumulated; `hardState` is included only if it changed. */
  build(log: LogManager, hardState: HardState): Ready {
    assert(this.outstanding === null, 'ready() called again before advance()');
    const changed = !sameHardState(hardState, this.handedOutHardState);
    if (changed) this.handedOutHardState = hardState;
    const ready: Ready = {
      snapshot: log.takeInstalledSnapshot(),
      hardState: changed ? hardState : null,
      entries: log.takeUnpersisted(),
      messages: this.outbox,
      committed: log.takeCommitted(),
      readStates: this.readStates,
    };
    this.outbox = [];
    this.readStates = [];
    this.outstanding = ready;
    return ready;
  }

  /** The driver persisted, sent and applied `ready`. */
  advance(ready: Ready, log: LogManager): void {
    assert(ready === this.outstanding, 'advance() of a Ready that is not the outstanding one');
    const lastCommitted = ready.committed.at(-1);
    if (lastCommitted !== undefined) log.appliedTo(lastCommitted.index);
    this.outstanding = null;
  }
}
