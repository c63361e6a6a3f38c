import { describe, expect, it } from 'vitest';
import { hasQuorum, majority, quorumMatchIndex, voteResult } from '../../src/raft/quorum.js';

describe('quorum math', () => {
  it('majority of 1..7 voters', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map(majority)).toEqual([1, 2, 2, 3, 3, 4, 4]);
  });

  it('quorumMatchIndex is the highest index a majority holds', () => {
    const m = (entries: [string, number][]) => new Map(entries);
    expect(quorumMatchIndex(['a'], m([['a', 7]]))).toBe(7);
    expect(quorumMatchIndex(['a', 'b', 'c'], m([['a', 9], ['b', 4], ['c', 2]]))).toBe(4);
    expect(quorumMatchIndex(['a', 'b', 'c'], m([['a', 9]]))).toBe(0); // missing voters count as 0
    expect(quorumMatchIndex(['a', 'b', 'c', 'd'], m([['a', 9], ['b', 8], ['c', 3], ['d', 1]]))).toBe(3);
    expect(quorumMatchIndex(['a', 'b', 'c', 'd', 'e'], m([['a', 5], ['b', 5], ['c', 4], ['d', 9], ['e', 0]]))).toBe(5);
    // Non-voters are not counted.
    expect(quorumMatchIndex(['a', 'b', 'c'], m([['a', 9], ['x', 9], ['y', 9]]))).toBe(0);
  });

  it('quorumMatchIndex agrees with a brute-force count', () => {
    const voters = ['a', 'b', 'c', 'd', 'e'];
    for (let seed = 0; seed < 500; seed++) {
      const matches = new Map(voters.map((v, i) => [v, (seed * 7 + i * 13) % 11] as [string, number]));
      const q = quorumMatchIndex(voters, matches);
      const holders = (index: number) => voters.filter((v) => matches.get(v)! >= index).length;
      expect(holders(q)).toBeGreaterThanOrEqual(3);
      expect(holders(q + 1)).toBeLessThan(3);
    }
  });

  it('voteResult: won, lost and pending, even-sized too', () => {
    const v = (entries: [string, boolean][]) => new Map(entries);
    expect(voteResult(['a'], v([['a', true]]))).toBe('won');
    expect(voteResult(['a', 'b', 'c'], v([['a', true]]))).toBe('pending');
    expect(voteResult(['a', 'b', 'c'], v([['a', true], ['b', true]]))).toBe('won');
    expect(voteResult(['a', 'b', 'c'], v([['a', true], ['b', false]]))).toBe('pending');
    expect(voteResult(['a', 'b', 'c'], v([['a', true], ['b', false], ['c', false]]))).toBe('lost');
    expect(voteResult(['a', 'b', 'c', 'd'], v([['a', true], ['b', true]]))).toBe('pending');
    expect(voteResult(['a', 'b', 'c', 'd'], v([['a', true], ['b', false], ['c', false]]))).toBe('lost');
    expect(voteResult(['a', 'b', 'c'], v([['a', true], ['x', true]]))).toBe('pending');
  });

  it('hasQuorum counts only voters', () => {
    expect(hasQuorum(['a', 'b', 'c'], new Set(['a', 'b']))).toBe(true);
    expect(hasQuorum(['a', 'b', 'c'], new Set(['a', 'x']))).toBe(false);
  });
});
