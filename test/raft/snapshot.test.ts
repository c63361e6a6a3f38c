/**
 * Log compaction and InstallSnapshot in the core: a follower that was down across a compaction is
 * repaired by a snapshot and catches up; installing drops a conflicting log; stale answers never
 * drag nextIndex below the snapshot; an interrupted or lost transfer is retried; a node restarts
 * from a snapshot; the log's clock stays monotonic across compaction.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, RaftNode, SeededRng, defaultRaftConfig, type Message, type SnapshotMeta } from '../../src/raft/index.js';
import { snapshotResponseTicksMax } from '../../src/raft/leader-replication.js';
import { Harness, craftedStorage } from './harness.js';

/** What the driver does every N applied entries: save a snapshot at applied, then compact. */
function snapshotAndCompact(h: Harness, id: string, trailing: number): SnapshotMeta {
  const node = h.node(id);
  const applied = node.status().lastApplied;
  const storage = h.storage(id);
  const term = storage.term(applied)!;
  const timestampMs = storage.entries(applied, applied + 1)[0]!.timestampMs;
  const meta: SnapshotMeta = { index: applied, term, voters: h.ids, learners: [], timestampMs };
  storage.applySnapshot(meta);
  node.compact(meta, applied - trailing);
  return meta;
}

function follower(h: Harness, leader: string, id: string) {
  return h.node(leader).status().followers.find((f) => f.id === id)!;
}

describe('compaction and InstallSnapshot', () => {
  it('a follower down across a compaction rejoins through InstallSnapshot and catches up', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 20);
    h.crash('c');
    h.propose('a', 30, 'y');
    const meta = snapshotAndCompact(h, 'a', 5);
    expect(h.node('a').status().firstLogIndex).toBe(meta.index - 5 + 1);
    h.propose('a', 5, 'z');
    h.restart('c');
    h.tick(3);
    const installs = h.delivered.filter((m) => m.type === 'installSnapshot' && m.to === 'c');
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatchObject({ meta: { index: meta.index, term: meta.term } });
    const a = h.node('a').status();
    const c = h.node('c').status();
    expect(c.commitIndex).toBe(a.commitIndex);
    expect(c.lastApplied).toBe(a.commitIndex);
    expect(h.storage('c').snapshot()?.index).toBe(meta.index);
    // c applied only what follows the snapshot, and the same entries as a.
    expect(h.applied('c')[0]?.index).toBe(meta.index + 1);
    expect(h.logOf('c')).toEqual(h.logOf('a').filter((e) => Number(e.split('@')[0]) > meta.index));
    expect(follower(h, 'a', 'c').state).toBe('replicate');
  });

  it('a follower waiting for a snapshot is sent heartbeats it accepts, not appends it rejects (issue 6)', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 20);
    h.crash('c');
    h.propose('a', 300, 'y');
    const meta = snapshotAndCompact(h, 'a', 5);
    h.restart('c');
    const mark = h.delivered.length;
    // The transport streams the snapshot bytes for a while: the InstallSnapshot arrives 30 ticks late.
    const held: Message[] = [];
    const notSnapshot = (m: Message) => m.type !== 'installSnapshot';
    for (let i = 0; i < 30; i++) {
      for (const id of h.ids) h.node(id).tick();
      h.stabilize(notSnapshot);
      held.push(...h.take((m) => m.type === 'installSnapshot'));
    }
    const rejections = h.rejectionsFrom('c', mark);
    const heartbeats = h.delivered.slice(mark).filter((m) => m.type === 'appendEntries' && m.to === 'c').length;
    console.log(`follower behind a compaction, 30 ticks waiting for its snapshot: ${rejections} rejected of ${heartbeats} AppendEntries`);
    // One probe finds where c's log ends; every heartbeat after it matches (it used to be one rejection per heartbeat).
    expect(heartbeats).toBeGreaterThanOrEqual(25);
    expect(rejections).toBeLessThanOrEqual(1);
    expect(held).toHaveLength(1);
    expect(h.node('c').status()).toMatchObject({ role: 'follower', leaderId: 'a' });
    for (const m of held) h.inject(m);
    h.tick(2);
    h.propose('a', 5, 'z');
    // c resumes right after the snapshot.
    expect(h.applied('c')[0]?.index).toBe(meta.index + 1);
    expect(h.node('c').status().commitIndex).toBe(h.node('a').status().commitIndex);
    expect(h.rejectionsFrom('c', mark)).toBe(rejections);
  });

  it('a follower within the trailing window catches up by AppendEntries, without a snapshot', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 10);
    h.crash('c');
    h.propose('a', 5, 'y');
    snapshotAndCompact(h, 'a', 10);
    h.restart('c');
    h.tick(3);
    expect(h.delivered.some((m) => m.type === 'installSnapshot')).toBe(false);
    expect(h.node('c').status().commitIndex).toBe(h.node('a').status().commitIndex);
  });

  it('installing a snapshot drops a conflicting log and commits up to the snapshot', () => {
    // c holds entries of a stale term 1 at 2..6; the leader's snapshot at 8 is of term 2.
    const storage = craftedStorage([[1, 6]], 1, 1);
    const node = new RaftNode(defaultRaftConfig('c', ['a', 'b', 'c']), storage, new SeededRng(1));
    const meta: SnapshotMeta = { index: 8, term: 2, voters: ['a', 'b', 'c'], learners: [], timestampMs: 5 };
    node.step({ type: 'installSnapshot', from: 'a', to: 'c', term: 2, meta });
    const ready = node.ready();
    expect(ready.snapshot).toEqual(meta);
    expect(ready.committed).toEqual([]);
    expect(ready.messages).toEqual([
      { type: 'installSnapshotResponse', from: 'c', to: 'a', term: 2, success: true, snapshotIndex: 8, matchIndex: 8 },
    ]);
    storage.persist(ready);
    node.advance(ready);
    const status = node.status();
    expect(status).toMatchObject({ commitIndex: 8, lastApplied: 8, lastLogIndex: 8, firstLogIndex: 9, leaderId: 'a' });
    expect(storage.firstIndex()).toBe(9);
    expect(storage.lastIndex()).toBe(8);
  });

  it('a snapshot that matches the log keeps the suffix after it', () => {
    const storage = craftedStorage([[1, 3], [2, 5]], 2, 0);
    const node = new RaftNode(defaultRaftConfig('c', ['a', 'b', 'c']), storage, new SeededRng(1));
    node.step({ type: 'installSnapshot', from: 'a', to: 'c', term: 2, meta: { index: 5, term: 2, voters: ['a', 'b', 'c'], learners: [] } });
    const ready = node.ready();
    storage.persist(ready);
    node.advance(ready);
    expect(node.status()).toMatchObject({ commitIndex: 5, lastLogIndex: 8, firstLogIndex: 6 });
    expect(storage.lastIndex()).toBe(8);
  });

  it('a snapshot at or below the commit index changes nothing and is acknowledged', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 10);
    const c = h.node('c');
    const before = c.status();
    c.step({ type: 'installSnapshot', from: 'a', to: 'c', term: before.term, meta: { index: 3, term: 1, voters: h.ids, learners: [] } });
    const ready = c.ready();
    expect(ready.snapshot).toBeNull();
    expect(ready.messages[0]).toMatchObject({ type: 'installSnapshotResponse', success: true, matchIndex: before.commitIndex });
    h.storage('c').persist(ready);
    c.advance(ready);
    expect(c.status().lastLogIndex).toBe(before.lastLogIndex);
  });

  it('stale answers never drag nextIndex below the snapshot', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 10);
    h.crash('c');
    h.propose('a', 20, 'y');
    const meta = snapshotAndCompact(h, 'a', 0);
    h.restart('c');
    h.tick(3);
    const term = h.node('a').status().term;
    const installsBefore = h.delivered.filter((m) => m.type === 'installSnapshot').length;
    // An old rejection from before the snapshot, a duplicate snapshot answer and a failed one.
    h.inject({ type: 'appendEntriesResponse', from: 'c', to: 'a', term, success: false, matchIndex: 0, conflictTerm: 0, conflictIndex: 2, prevLogIndex: 5, entryCount: 0, round: 0 });
    h.inject({ type: 'installSnapshotResponse', from: 'c', to: 'a', term, success: true, snapshotIndex: meta.index, matchIndex: meta.index });
    h.inject({ type: 'installSnapshotResponse', from: 'c', to: 'a', term, success: false, snapshotIndex: meta.index, matchIndex: 0 });
    h.stabilize();
    const progress = follower(h, 'a', 'c');
    expect(progress.nextIndex).toBeGreaterThan(meta.index);
    expect(progress.matchIndex).toBe(h.node('a').status().lastLogIndex);
    h.tick(3);
    expect(h.delivered.filter((m) => m.type === 'installSnapshot')).toHaveLength(installsBefore);
  });

  it('an interrupted transfer (failure answer) restarts cleanly with a fresh InstallSnapshot', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 10);
    h.crash('c');
    h.propose('a', 20, 'y');
    const meta = snapshotAndCompact(h, 'a', 0);
    h.restart('c');
    h.node('a').tick();
    h.processAll();
    const first = h.take((m) => m.type === 'installSnapshot');
    expect(first).toHaveLength(1);
    expect(follower(h, 'a', 'c').state).toBe('snapshot');
    // The transport could not stream the bytes: it answers failure on the follower's behalf.
    const term = h.node('a').status().term;
    h.inject({ type: 'installSnapshotResponse', from: 'c', to: 'a', term, success: false, snapshotIndex: meta.index, matchIndex: 0 });
    expect(follower(h, 'a', 'c').state).toBe('probe');
    h.tick(2);
    expect(h.delivered.filter((m) => m.type === 'installSnapshot')).toHaveLength(1);
    expect(h.node('c').status().commitIndex).toBe(h.node('a').status().commitIndex);
  });

  it('a lost InstallSnapshot with no answer is sent again after snapshotResponseTicksMax', () => {
    const h = new Harness({ config: { checkQuorum: false } });
    h.elect('a');
    h.propose('a', 10);
    h.crash('c');
    h.propose('a', 20, 'y');
    snapshotAndCompact(h, 'a', 0);
    h.restart('c');
    const lost: Message[] = [];
    for (let i = 0; i < snapshotResponseTicksMax + 2; i++) {
      h.node('a').tick();
      h.processAll();
      lost.push(...h.take((m) => m.type === 'installSnapshot'));
      h.stabilize();
    }
    expect(lost).toHaveLength(2);
    h.tick(snapshotResponseTicksMax + 2);
    expect(h.node('c').status().commitIndex).toBe(h.node('a').status().commitIndex);
  });

  it('a node restarts from its snapshot: the log and applying resume after it', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 30);
    const meta = snapshotAndCompact(h, 'b', 0);
    h.crash('b');
    h.restart('b');
    const status = h.node('b').status();
    expect(status.firstLogIndex).toBe(meta.index + 1);
    expect(status.lastApplied).toBe(meta.index);
    h.propose('a', 3, 'z');
    h.tick(2);
    expect(h.applied('b')[0]?.index).toBe(meta.index + 1);
    expect(h.node('b').status().commitIndex).toBe(h.node('a').status().commitIndex);
  });

  it('a leader elected over a compacted log stamps no earlier than the last entry', () => {
    const storage = new MemoryStorage({ index: 10, term: 1, voters: ['a'], learners: [], timestampMs: 50_000 });
    const node = new RaftNode(defaultRaftConfig('a', ['a']), storage, new SeededRng(3));
    node.campaign();
    while (node.hasReady()) {
      const ready = node.ready();
      storage.persist(ready);
      node.advance(ready);
    }
    const noop = storage.entries(11, 12)[0]!;
    expect(noop.type).toBe('noop');
    expect(noop.timestampMs).toBe(50_000);
  });

  it('refuses to compact beyond what was applied', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 3);
    const applied = h.node('a').status().lastApplied;
    expect(() => h.node('a').compact({ index: applied + 1, term: 1, voters: h.ids, learners: [] }, applied)).toThrow(/beyond applied/);
  });
});
