import { describe, expect, it } from 'vitest';
import { LogManager } from '../../src/raft/log-manager.js';
import { AssertionError, MemoryStorage, type LogEntry } from '../../src/raft/index.js';
import { craftedStorage } from './harness.js';

const entry = (index: number, term: number): LogEntry => ({ index, term, type: 'command', timestampMs: index, data: new Uint8Array([index & 0xff]) });

describe('LogManager', () => {
  it('starts from storage: indexes, terms, the boundary at 0', () => {
    const log = new LogManager(craftedStorage([[1, 3], [2, 2]], 2, 4));
    expect([log.firstIndex(), log.lastIndex(), log.lastTerm(), log.commitIndex(), log.appliedIndex()]).toEqual([1, 5, 2, 4, 0]);
    expect([0, 1, 3, 4, 5, 6].map((i) => log.term(i))).toEqual([0, 1, 1, 2, 2, undefined]);
    expect(log.matchTerm(0, 0)).toBe(true);
    expect(log.matchTerm(4, 1)).toBe(false);
    // Committed entries are handed out again after a restart (the state machine is in memory).
    expect(log.takeCommitted().map((e) => e.index)).toEqual([1, 2, 3, 4]);
    expect(log.hasUnpersisted()).toBe(false);
  });

  it('starts after a snapshot: first index > 1 and the snapshot term at the boundary', () => {
    const storage = new MemoryStorage({ index: 10, term: 3, voters: ['a'], learners: [] });
    storage.append([entry(11, 3), entry(12, 4)]);
    storage.setHardState({ term: 4, votedFor: null, commitIndex: 11 });
    const log = new LogManager(storage);
    expect([log.firstIndex(), log.lastIndex(), log.term(10), log.term(9), log.term(12)]).toEqual([11, 12, 3, undefined, 4]);
    expect(log.takeCommitted().map((e) => e.index)).toEqual([11]);
    expect(log.isUpToDate(12, 4)).toBe(true);
    expect(log.isUpToDate(13, 3)).toBe(false);
  });

  it('appendFromLeader skips duplicates, truncates at the first conflict, re-hands out the rewritten suffix', () => {
    const log = new LogManager(craftedStorage([[1, 2], [2, 3]], 2, 2));
    expect(log.takeUnpersisted()).toEqual([]);
    // A duplicate of what we hold changes nothing (must not truncate entries 4-5).
    log.appendFromLeader([entry(2, 1), entry(3, 2)]);
    expect(log.lastIndex()).toBe(5);
    expect(log.hasUnpersisted()).toBe(false);
    log.appendFromLeader([entry(3, 2), entry(4, 3)]);
    expect([log.lastIndex(), log.term(4)]).toEqual([4, 3]);
    expect(log.takeUnpersisted().map((e) => `${e.index}@${e.term}`)).toEqual(['4@3']);
  });

  it('never truncates at or below commitIndex', () => {
    const log = new LogManager(craftedStorage([[1, 2], [2, 3]], 2, 4));
    expect(() => log.appendFromLeader([entry(4, 3)])).toThrow(AssertionError);
    expect(() => log.appendFromLeader([entry(5, 3)])).not.toThrow();
  });

  it('commitTo is monotonic and bounded by the log', () => {
    const log = new LogManager(craftedStorage([[1, 5]], 1, 2));
    expect(log.commitTo(1)).toBe(false);
    expect(log.commitTo(4)).toBe(true);
    expect(log.commitIndex()).toBe(4);
    expect(() => log.commitTo(6)).toThrow(AssertionError);
  });

  it('term search: lastIndexOfTerm and firstIndexOfTerm', () => {
    const log = new LogManager(craftedStorage([[1, 3], [2, 4], [4, 2], [7, 1]], 7));
    // terms: 1:1-3, 2:4-7, 4:8-9, 7:10
    expect(log.lastIndexOfTerm(2, 10)).toBe(7);
    expect(log.lastIndexOfTerm(2, 5)).toBe(5);
    expect(log.lastIndexOfTerm(3, 10)).toBe(0);
    expect(log.lastIndexOfTerm(1, 10)).toBe(3);
    expect(log.lastIndexOfTerm(8, 10)).toBe(0);
    expect(log.lastIndexOfTerm(0, 10)).toBe(0);
    expect(log.firstIndexOfTerm(2, 6)).toBe(4);
    expect(log.firstIndexOfTerm(4, 9)).toBe(8);
    expect(log.firstIndexOfTerm(1, 2)).toBe(1);
    expect(log.firstIndexOfTerm(7, 10)).toBe(10);
  });

  it('slice respects count and byte limits but always returns one entry', () => {
    const storage = new MemoryStorage();
    storage.append([1, 2, 3, 4].map((i) => ({ ...entry(i, 1), data: new Uint8Array(100) })));
    const log = new LogManager(storage);
    expect(log.slice(1, 5, 10, 250).map((e) => e.index)).toEqual([1, 2]);
    expect(log.slice(1, 5, 3, 10_000).map((e) => e.index)).toEqual([1, 2, 3]);
    expect(log.slice(2, 5, 10, 1).map((e) => e.index)).toEqual([2]);
  });

  it('applied only advances over handed-out committed entries', () => {
    const log = new LogManager(craftedStorage([[1, 5]], 1, 3));
    expect(() => log.appliedTo(1)).toThrow(AssertionError);
    log.takeCommitted();
    log.appliedTo(3);
    expect(log.appliedIndex()).toBe(3);
  });
});
