/** The simulated disk keeps exactly what was synced across a crash. */
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/raft/types.js';
import { SimStorage } from './sim-storage.js';

function entry(index: number, term: number): LogEntry {
  return { index, term, type: 'noop', timestampMs: 0, data: new Uint8Array() };
}

describe('SimStorage', () => {
  it('serves reads of unsynced writes, and loses them in a crash', () => {
    const s = new SimStorage();
    s.append([entry(1, 1), entry(2, 1)]);
    s.setHardState({ term: 1, votedFor: 'n1', commitIndex: 1 });
    s.syncNow();
    s.append([entry(3, 1)]);
    s.setHardState({ term: 2, votedFor: null, commitIndex: 2 });
    expect(s.lastIndex()).toBe(3);
    expect(s.hasUnsynced()).toBe(true);
    s.crash();
    expect(s.lastIndex()).toBe(2);
    expect(s.hardState()).toEqual({ term: 1, votedFor: 'n1', commitIndex: 1 });
    expect(s.hasUnsynced()).toBe(false);
  });

  it('restores durable entries that an unsynced truncation replaced', () => {
    const s = new SimStorage();
    s.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    s.syncNow();
    s.append([entry(2, 2)]);
    s.append([entry(3, 2), entry(4, 2), entry(5, 2)]);
    expect(s.entries(1, 6).map((e) => e.term)).toEqual([1, 2, 2, 2, 2]);
    s.crash();
    expect(s.entries(1, 4).map((e) => `${e.index}/${e.term}`)).toEqual(['1/1', '2/1', '3/1']);
    expect(s.term(0)).toBe(0);
    expect(s.term(4)).toBeUndefined();
  });

  it('keeps a synced truncation', () => {
    const s = new SimStorage();
    s.append([entry(1, 1), entry(2, 1), entry(3, 1)]);
    s.syncNow();
    s.append([entry(2, 3)]);
    s.syncNow();
    s.crash();
    expect(s.entries(1, 3).map((e) => e.term)).toEqual([1, 3]);
  });

  it('rejects an append that leaves a gap', () => {
    const s = new SimStorage();
    expect(() => s.append([entry(2, 1)])).toThrow(/gap/);
  });
});
