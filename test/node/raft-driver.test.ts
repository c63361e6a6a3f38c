import { describe, expect, it } from 'vitest';
import { RaftDriver, appendHoldTicksMax, type CoreStatus, type ProposeResult, type RaftCore, type ReadIndexResult } from '../../src/node/raft-driver.js';
import type { AppendEntries, HardState, LogEntry, Message, RaftStorageWriter, Ready } from '../../src/raft/types.js';

/** A scripted core: each step/propose queues the Ready parts the test wants it to emit. */
class FakeCore implements RaftCore {
  pending: Ready[] = [];
  advanced = 0;
  steps: Message[] = [];
  proposals: Uint8Array[] = [];
  respond = true;
  private index = 0;
  tick(): void {}
  step(m: Message): void {
    this.steps.push(m);
    if (m.type === 'appendEntries' && this.respond) {
      this.queue({ messages: [{ type: 'appendEntriesResponse', from: 'n1', to: m.from, term: 1, success: true, matchIndex: m.prevLogIndex + m.entries.length, conflictTerm: 0, conflictIndex: 0, prevLogIndex: m.prevLogIndex, entryCount: m.entries.length, round: m.round }] });
    }
  }
  propose(data: Uint8Array): ProposeResult {
    this.proposals.push(data);
    const entry: LogEntry = { index: ++this.index, term: 1, type: 'command', timestampMs: 0, data };
    this.queue({ entries: [entry], committed: [entry] });
    return { ok: true, index: entry.index, term: 1 };
  }
  readIndex(): ReadIndexResult { return { ok: true }; }
  campaign(): void {}
  hasReady(): boolean { return this.pending.length > 0; }
  ready(): Ready { return this.pending.shift()!; }
  advance(): void { this.advanced++; }
  status(): CoreStatus { return { id: 'n1', role: 'leader', term: 1, leaderId: 'n1', commitIndex: 0, lastApplied: 0, lastLogIndex: 0, voters: ['n1'] }; }
  /** Like the real core, everything produced before ready() goes into that one Ready. */
  queue(part: Partial<Ready>): void {
    const last = this.pending.pop() ?? { snapshot: null, hardState: null, entries: [], messages: [], committed: [], readStates: [] };
    this.pending.push({
      snapshot: part.snapshot ?? last.snapshot,
      hardState: part.hardState ?? last.hardState,
      entries: [...last.entries, ...(part.entries ?? [])],
      messages: [...last.messages, ...(part.messages ?? [])],
      committed: [...last.committed, ...(part.committed ?? [])],
      readStates: [...last.readStates, ...(part.readStates ?? [])],
    });
  }
}

class FakeStorage implements RaftStorageWriter {
  log: string[] = [];
  release: (() => void)[] = [];
  setHardState(h: HardState): void { this.log.push(`hard:${h.term}`); }
  append(e: readonly LogEntry[]): void { this.log.push(`append:${e.map((x) => x.index).join(',')}`); }
  sync(): Promise<void> {
    this.log.push('sync');
    return new Promise((r) => this.release.push(() => { this.log.push('synced'); r(); }));
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const append = (from: string, prevLogIndex: number): AppendEntries => ({ type: 'appendEntries', from, to: 'n1', term: 1, prevLogIndex, prevLogTerm: 1, entries: [], leaderCommit: 0, round: 0 });

function setup() {
  const core = new FakeCore();
  const storage = new FakeStorage();
  const events: string[] = [];
  const driver = new RaftDriver(core, storage, {
    send: (m) => events.push(`send:${m.type}:${m.to}`),
    apply: (entries) => events.push(`apply:${entries.map((e) => e.index).join(',')}`),
    readStates: () => undefined,
    afterReady: () => undefined,
    fatal: (e) => { throw e; },
  }, { term: 0, votedFor: null });
  return { core, storage, events, driver };
}

/** A follower of n2 whose log grows with each append that connects to it (and rejects the rest). */
class FollowerCore extends FakeCore {
  lastLogIndex = 10;
  override step(m: Message): void {
    this.steps.push(m);
    if (m.type !== 'appendEntries') return;
    const success = m.prevLogIndex <= this.lastLogIndex;
    if (success) this.lastLogIndex = Math.max(this.lastLogIndex, m.prevLogIndex + m.entries.length);
    this.queue({ messages: [{ type: 'appendEntriesResponse', from: 'n1', to: m.from, term: 1, success, matchIndex: success ? m.prevLogIndex + m.entries.length : 0, conflictTerm: 0, conflictIndex: success ? 0 : this.lastLogIndex + 1, prevLogIndex: m.prevLogIndex, entryCount: m.entries.length, round: m.round }] });
  }
  override status(): CoreStatus {
    return { id: 'n1', role: 'follower', term: 1, leaderId: 'n2', commitIndex: 0, lastApplied: 0, lastLogIndex: this.lastLogIndex, voters: ['n1', 'n2'] };
  }
}

const entriesFrom = (first: number, count: number): LogEntry[] =>
  Array.from({ length: count }, (_, i) => ({ index: first + i, term: 1, type: 'command' as const, timestampMs: 0, data: new Uint8Array([i]) }));
const appendOf = (prevLogIndex: number, count: number): AppendEntries =>
  ({ ...append('n2', prevLogIndex), entries: entriesFrom(prevLogIndex + 1, count) });

/** A driver over a FollowerCore whose hooks do nothing: for the hold-buffer cases. */
function followerSetup() {
  const core = new FollowerCore();
  const driver = new RaftDriver(core, new FakeStorage(), {
    send: () => undefined, apply: () => undefined, readStates: () => undefined, afterReady: () => undefined, fatal: (e) => { throw e; },
  }, { term: 1, votedFor: null });
  return { core, driver };
}

describe('RaftDriver', () => {
  it('holds an append that overtook an earlier one until the gap fills, so neither is rejected', async () => {
    const { core, driver } = followerSetup();
    void driver.stepRequest(appendOf(12, 3));
    expect(core.steps).toEqual([]);
    void driver.stepRequest(appendOf(10, 2));
    expect(core.steps.map((m) => (m as AppendEntries).prevLogIndex)).toEqual([10, 12]);
    expect(core.lastLogIndex).toBe(15);
    expect(driver.stats.appendsHeld).toBe(1);
    await driver.stop();
  });

  it('flushHeld answers held appends at shutdown, when no tick will come', () => {
    const { core, driver } = followerSetup();
    void driver.stepRequest(appendOf(30, 2));
    expect(core.steps).toEqual([]);
    driver.flushHeld();
    expect(core.steps.map((m) => (m as AppendEntries).prevLogIndex)).toEqual([30]);
  });

  it('steps a held append anyway after appendHoldTicksMax ticks (the earlier one was lost)', () => {
    const { core, driver } = followerSetup();
    void driver.stepRequest(appendOf(20, 1));
    for (let i = 1; i < appendHoldTicksMax; i++) driver.tick();
    expect(core.steps).toEqual([]);
    driver.tick();
    expect(core.steps.map((m) => (m as AppendEntries).prevLogIndex)).toEqual([20]);
    expect(core.lastLogIndex).toBe(10);
  });

  it('persists and syncs before sending or applying, and batches proposals made during an fsync', async () => {
    const { core, storage, events, driver } = setup();
    core.queue({ hardState: { term: 1, votedFor: 'n1', commitIndex: 0 }, messages: [{ type: 'requestVote', from: 'n1', to: 'n2', term: 1, lastLogIndex: 0, lastLogTerm: 0, preVote: false }] });
    driver.tick();
    await tick();
    expect(storage.log).toEqual(['hard:1', 'sync']);
    expect(events).toEqual([]);
    // Arrive while the first fsync is pending: they must share the next one.
    driver.propose(new Uint8Array([1]), 0);
    driver.propose(new Uint8Array([2]), 0);
    driver.propose(new Uint8Array([3]), 0);
    storage.release.shift()!();
    await tick();
    expect(events).toEqual(['send:requestVote:n2']);
    expect(storage.log).toEqual(['hard:1', 'sync', 'synced', 'append:1,2,3', 'sync']);
    storage.release.shift()!();
    await driver.idle();
    expect(events).toEqual(['send:requestVote:n2', 'apply:1,2,3']);
    expect(core.advanced).toBe(2);
  });

  it('returns responses as the reply of the inbound RPC, FIFO per peer, and null when the core has none', async () => {
    const { core, storage, driver } = setup();
    const r1 = driver.stepRequest(append('n2', 1));
    const r2 = driver.stepRequest(append('n2', 2));
    const r3 = driver.stepRequest(append('n3', 7));
    core.respond = false;
    const r4 = driver.stepRequest(append('n2', 3));
    await tick();
    // No entries and no hard state: no fsync needed.
    expect(storage.log).toEqual([]);
    const [a, b, c, d] = await Promise.all([r1, r2, r3, r4]);
    expect(a).toMatchObject({ type: 'appendEntriesResponse', to: 'n2', prevLogIndex: 1 });
    expect(b).toMatchObject({ to: 'n2', prevLogIndex: 2 });
    expect(c).toMatchObject({ to: 'n3', prevLogIndex: 7 });
    expect(d).toBeNull();
  });

  it('sends a leader\'s AppendEntries before its own fsync completes, but responses only after it', async () => {
    const { core, storage, events, driver } = setup();
    const entry: LogEntry = { index: 1, term: 0, type: 'command', timestampMs: 0, data: new Uint8Array([1]) };
    const toN2: AppendEntries = { ...append('n1', 0), to: 'n2', term: 0, entries: [entry] };
    const response: Message = { type: 'appendEntriesResponse', from: 'n1', to: 'n3', term: 0, success: true, matchIndex: 0, conflictTerm: 0, conflictIndex: 0, prevLogIndex: 0, entryCount: 0, round: 0 };
    core.queue({ entries: [entry], messages: [toN2, response] });
    driver.tick();
    await tick();
    // The fsync is still pending, yet the follower already has its append.
    expect(storage.log).toEqual(['append:1', 'sync']);
    expect(events).toEqual(['send:appendEntries:n2']);
    storage.release.shift()!();
    await driver.idle();
    // The response is not a hook send (it would answer an RPC slot); nothing else left early.
    expect(events).toEqual(['send:appendEntries:n2']);
  });

  it('holds every message until the fsync when the Ready changes term or vote', async () => {
    const { core, storage, events, driver } = setup();
    const entry: LogEntry = { index: 1, term: 2, type: 'noop', timestampMs: 0, data: new Uint8Array() };
    core.queue({ hardState: { term: 2, votedFor: 'n1', commitIndex: 0 }, entries: [entry], messages: [{ ...append('n1', 0), to: 'n2', term: 2, entries: [entry] }] });
    driver.tick();
    await tick();
    expect(storage.log).toEqual(['append:1', 'hard:2', 'sync']);
    expect(events).toEqual([]);
    storage.release.shift()!();
    await driver.idle();
    expect(events).toEqual(['send:appendEntries:n2']);
  });

  it('does not fsync for a hard state that only moves commitIndex', async () => {
    const { core, storage, driver } = setup();
    core.queue({ hardState: { term: 1, votedFor: null, commitIndex: 0 } });
    driver.tick();
    await tick();
    storage.release.shift()!();
    await driver.idle();
    core.queue({ hardState: { term: 1, votedFor: null, commitIndex: 5 } });
    driver.tick();
    await driver.idle();
    await tick();
    expect(storage.log).toEqual(['hard:1', 'sync', 'synced', 'hard:1']);
  });
});
