/** The trace keeps the most recent events, filters by node, and digests everything. */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/types.js';
import { SimTrace, formatMessage } from './sim-trace.js';

const vote = (from: string, to: string): Message => ({ type: 'requestVote', from, to, term: 2, lastLogIndex: 5, lastLogTerm: 1, preVote: true });

describe('SimTrace', () => {
  it('keeps only the most recent events, oldest first', () => {
    const t = new SimTrace(3);
    for (let i = 1; i <= 5; i++) t.note(i, 'n1', `e${i}`);
    expect(t.lines().map((l) => l.trim().split(' ').at(-1))).toEqual(['e3', 'e4', 'e5']);
    expect(t.count).toBe(5);
  });

  it('filters by node: its messages either way, its notes, cluster-wide notes', () => {
    const t = new SimTrace();
    t.deliver(1, vote('n1', 'n2'));
    t.deliver(1, vote('n3', 'n1'));
    t.note(2, 'n3', 'CRASH');
    t.note(2, null, 'heal');
    expect(t.lines(10, 'n2')).toEqual(['t=    1 n1->n2 PreVote term=2 last=5/1', 't=    2 * heal']);
  });

  it('digests the whole run: equal inputs give equal digests, any change another', () => {
    const run = (last: string): string => {
      const t = new SimTrace(2);
      t.deliver(1, vote('n1', 'n2'));
      t.note(2, 'n1', last);
      return t.digest;
    };
    expect(run('a')).toBe(run('a'));
    expect(run('a')).not.toBe(run('b'));
  });

  it('formats appends and rejections readably', () => {
    expect(formatMessage({
      type: 'appendEntriesResponse', from: 'n2', to: 'n1', term: 3, success: false, matchIndex: 0,
      conflictTerm: 2, conflictIndex: 7, prevLogIndex: 9, entryCount: 1, round: 4,
    })).toBe('n2->n1 AppResp term=3 REJECT hint=7/2 (prev=9)');
  });
});
