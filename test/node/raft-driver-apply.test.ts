import { describe, expect, it } from 'vitest';
import { RaftDriver, type CoreStatus, type ProposeResult, type RaftCore, type ReadIndexResult } from '../../src/node/raft-driver.js';
import type { HardState, LogEntry, RaftStorageWriter, Ready } from '../../src/raft/types.js';

/** A core that hands out exactly the Readies the test scripts, one per ready() call. */
class ScriptedCore implements RaftCore {
  readonly script: Ready[] = [];
  tick(): void {}
  step(): void {}
  propose(): ProposeResult { return { ok: false, reason: 'overloaded' }; }
  readIndex(): ReadIndexResult { return { ok: true }; }
  campaign(): void {}
  hasReady(): boolean { return this.script.length > 0; }
  ready(): Ready { return this.script.shift()!; }
  advance(): void {}
  status(): CoreStatus { return { id: 'n1', role: 'follower', term: 1, leaderId: 'n2', commitIndex: 0, lastApplied: 0, lastLogIndex: 0, voters: ['n1', 'n2', 'n3'] }; }
}

/** Records calls; each sync stays pending until the test releases it. */
class GatedStorage implements RaftStorageWriter {
  readonly release: (() => void)[] = [];
  constructor(private readonly events: string[]) {}
  setHardState(h: HardState): void { this.events.push(`hard:${h.commitIndex}`); }
  append(e: readonly LogEntry[]): void { this.events.push(`append:${e.map((x) => x.index).join(',')}`); }
  sync(): Promise<void> {
    this.events.push('sync');
    return new Promise((r) => this.release.push(() => { this.events.push('synced'); r(); }));
  }
}

const entry = (index: number): LogEntry => ({ index, term: 1, type: 'command', timestampMs: 0, data: new Uint8Array([index]) });
const readyOf = (entries: number[], committed: number[]): Ready => ({
  hardState: null,
  entries: entries.map(entry),
  messages: [],
  committed: committed.map(entry),
  readStates: [],
  snapshot: null,
});
const turn = () => new Promise((r) => setImmediate(r));

function setup() {
  const events: string[] = [];
  const core = new ScriptedCore();
  const storage = new GatedStorage(events);
  const driver = new RaftDriver(core, storage, {
    send: () => undefined,
    apply: (entries) => events.push(`apply:${entries.map((e) => e.index).join(',')}`),
    readStates: () => undefined,
    afterReady: () => undefined,
    fatal: (e) => { throw e; },
  }, { term: 1, votedFor: null });
  return { events, core, storage, driver };
}

describe('RaftDriver apply timing', () => {
  it('applies committed entries persisted by earlier Readies while the current fsync runs, and its own entries only after it', async () => {
    const { events, core, storage, driver } = setup();
    core.script.push(readyOf([1, 2], []));
    driver.tick();
    await turn();
    storage.release.shift()!();
    await driver.idle();
    // 1 and 2 are durable now; 3 arrives committed together with 1-2 (a follower whose leader
    // commit covers the append it is storing).
    core.script.push(readyOf([3], [1, 2, 3]));
    driver.tick();
    await turn();
    expect(events).toEqual(['append:1,2', 'sync', 'synced', 'append:3', 'sync', 'apply:1,2']);
    storage.release.shift()!();
    await driver.idle();
    expect(events.slice(-2)).toEqual(['synced', 'apply:3']);
  });

  it('applies nothing before the fsync when every committed entry is in this Ready (a single voter commits on append)', async () => {
    const { events, core, storage, driver } = setup();
    core.script.push(readyOf([1, 2], [1, 2]));
    driver.tick();
    await turn();
    expect(events).toEqual(['append:1,2', 'sync']);
    storage.release.shift()!();
    await driver.idle();
    expect(events).toEqual(['append:1,2', 'sync', 'synced', 'apply:1,2']);
  });
});
