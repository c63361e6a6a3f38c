import { describe, expect, it } from 'vitest';
import {
  Inflights,
  becomeProbe,
  becomeReplicate,
  canSendEntries,
  newProgress,
  recordMatch,
  recordSent,
} from '../../src/raft/progress.js';
import { AssertionError } from '../../src/raft/index.js';

describe('Inflights', () => {
  it('is bounded and frees acknowledged appends in order', () => {
    const inflights = new Inflights(3);
    inflights.add(5);
    inflights.add(9);
    inflights.add(12);
    expect(inflights.isFull()).toBe(true);
    expect(() => inflights.add(15)).toThrow(AssertionError);
    inflights.freeTo(9);
    expect(inflights.count).toBe(1);
    inflights.freeTo(8); // stale ack
    expect(inflights.count).toBe(1);
    inflights.freeFirst();
    expect(inflights.count).toBe(0);
    expect(() => new Inflights(0)).toThrow(AssertionError);
  });
});

describe('Progress', () => {
  it('probes one append at a time, then pipelines up to the window after the first match', () => {
    const progress = newProgress(10, 0);
    expect(progress.flow).toMatchObject({ state: 'probe', matchIndex: 0, nextIndex: 11 });
    expect(canSendEntries(progress)).toBe(true);
    recordSent(progress, 12, 2);
    expect(canSendEntries(progress)).toBe(false);
    expect(progress.flow.nextIndex).toBe(11); // probing does not move nextIndex optimistically
    expect(recordMatch(progress, 12)).toBe(true);
    becomeReplicate(progress, 2);
    expect(progress.flow).toMatchObject({ state: 'replicate', matchIndex: 12, nextIndex: 13 });
    recordSent(progress, 14, 2);
    recordSent(progress, 16, 2);
    expect(progress.flow.nextIndex).toBe(17);
    expect(canSendEntries(progress)).toBe(false);
    expect(recordMatch(progress, 14)).toBe(true);
    expect(canSendEntries(progress)).toBe(true);
  });

  it('a stale ack never moves matchIndex back; a probe never goes to or below matchIndex', () => {
    const progress = newProgress(10, 0);
    recordMatch(progress, 8);
    expect(recordMatch(progress, 5)).toBe(false);
    expect(progress.flow.matchIndex).toBe(8);
    becomeProbe(progress, 3);
    expect(progress.flow).toMatchObject({ state: 'probe', matchIndex: 8, nextIndex: 9 });
  });
});

