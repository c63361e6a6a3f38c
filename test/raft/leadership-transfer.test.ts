/**
 * Leadership transfer in the core: the leader brings the target up to date, sends TimeoutNow,
 * the target wins the next term at once (voters inside their lease still vote for it), proposals
 * are refused during the hand-over, and an unfinished transfer is abandoned after a timeout.
 */
import { describe, expect, it } from 'vitest';
import { Harness } from './harness.js';

describe('leadership transfer', () => {
  it('hands leadership to an up-to-date follower in the next term', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 5);
    const term = h.node('a').status().term;
    expect(h.node('a').transferLeadership('c')).toEqual({ ok: true });
    h.stabilize();
    expect(h.delivered.some((m) => m.type === 'timeoutNow' && m.to === 'c')).toBe(true);
    expect(h.node('c').status()).toMatchObject({ role: 'leader', term: term + 1 });
    expect(h.node('a').status()).toMatchObject({ role: 'follower', leaderId: 'c' });
    expect(h.node('b').status().leaderId).toBe('c');
    // No pre-vote round: the transfer campaign goes straight to a real vote, marked as a transfer.
    const votes = h.delivered.filter((m) => m.type === 'requestVote' && m.from === 'c');
    expect(votes.every((m) => m.type === 'requestVote' && !m.preVote && m.leadershipTransfer === true)).toBe(true);
  });

  it('catches a lagging target up before sending TimeoutNow, and refuses proposals meanwhile', () => {
    const h = new Harness();
    h.elect('a');
    h.propose('a', 3);
    h.isolate('c');
    h.propose('a', 10, 'y');
    expect(h.node('a').transferLeadership('c')).toEqual({ ok: true });
    h.stabilize();
    expect(h.delivered.some((m) => m.type === 'timeoutNow')).toBe(false);
    const refused = h.node('a').propose(new Uint8Array([1]), 1);
    expect(refused).toEqual({ ok: false, reason: 'notLeader', leaderId: null });
    h.heal();
    h.tick(2);
    expect(h.node('c').status().role).toBe('leader');
    expect(h.node('c').status().lastLogIndex).toBeGreaterThanOrEqual(14);
  });

  it('abandons a transfer that does not complete within an election timeout', () => {
    const h = new Harness({ config: { checkQuorum: false } });
    h.elect('a');
    h.propose('a', 3);
    h.crash('c');
    expect(h.node('a').transferLeadership('c')).toEqual({ ok: true });
    expect(h.node('a').propose(new Uint8Array([1]), 1).ok).toBe(false);
    h.tick(h.configFor('a').electionTicks, ['a', 'b']);
    expect(h.node('a').status().role).toBe('leader');
    expect(h.node('a').propose(new Uint8Array([2]), 2).ok).toBe(true);
  });

  it('refuses on a follower and for a non-member', () => {
    const h = new Harness();
    h.elect('a');
    expect(h.node('b').transferLeadership('c')).toEqual({ ok: false, reason: 'notLeader', leaderId: 'a' });
    expect(h.node('a').transferLeadership('zz')).toEqual({ ok: false, reason: 'unknownMember' });
    expect(h.node('a').transferLeadership('a')).toEqual({ ok: true });
    expect(h.node('a').status().role).toBe('leader');
  });

  it('without the transfer flag, a vote inside the lease is still refused', () => {
    const h = new Harness();
    h.elect('a');
    const term = h.node('a').status().term;
    h.inject({ type: 'requestVote', from: 'c', to: 'b', term: term + 1, lastLogIndex: 10, lastLogTerm: term, preVote: false });
    expect(h.node('b').status().term).toBe(term);
    h.inject({ type: 'requestVote', from: 'c', to: 'b', term: term + 1, lastLogIndex: 10, lastLogTerm: term, preVote: false, leadershipTransfer: true });
    expect(h.node('b').status().term).toBe(term + 1);
  });
});
