/**
 * Election scenarios: initial election, re-election after a leader crash, check-quorum step-down,
 * a rejoining node that must not depose a healthy leader, and one vote per term across a crash.
 */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, RaftNode, SeededRng, defaultRaftConfig } from '../../src/raft/index.js';
import { checkQuorumElectionTimeouts } from '../../src/raft/config.js';
import type { Message } from '../../src/raft/types.js';
import { Harness } from './harness.js';

const T = 10; // defaultRaftConfig electionTicks

describe('elections', () => {
  it('elects exactly one leader that all nodes follow, in term 1 (pre-vote does not bump terms)', () => {
    const h = new Harness();
    const ticks = h.tickUntil(() => h.leader() !== null, 3 * T);
    const leader = h.leader()!;
    expect(ticks).toBeGreaterThanOrEqual(T);
    expect(ticks).toBeLessThan(2 * T + 1);
    for (const id of h.ids) {
      const status = h.node(id).status();
      expect(status.term).toBe(1);
      expect(status.leaderId).toBe(leader);
      expect(status.role).toBe(id === leader ? 'leader' : 'follower');
    }
    // The leader's no-op commits everywhere after a heartbeat.
    h.tick(1);
    for (const id of h.ids) {
      expect(h.node(id).status().commitIndex).toBe(1);
      expect(h.applied(id).map((e) => e.type)).toEqual(['noop']);
    }
  });

  it('re-elects after the leader crashes and keeps every committed entry', () => {
    const h = new Harness({ seed: 7 });
    h.tickUntil(() => h.leader() !== null, 3 * T);
    const first = h.leader()!;
    h.propose(first, 5);
    h.tick(1);
    h.crash(first);
    const ticks = h.tickUntil(() => h.leader() !== null, 4 * T);
    const second = h.leader()!;
    expect(second).not.toBe(first);
    // A follower waits out its lease (>= T ticks) before it can win.
    expect(ticks).toBeGreaterThanOrEqual(T);
    expect(h.node(second).status().term).toBe(2);
    h.propose(second, 3, 'y');
    h.restart(first);
    h.tick(2);
    const logs = h.ids.map((id) => h.logOf(id).join(','));
    expect(new Set(logs).size).toBe(1);
    expect(h.node(first).status().leaderId).toBe(second);
    // 1 noop + 5 + noop + 3, applied again by the restarted node.
    expect(h.applied(first).length).toBe(10);
  });

  it('a leader cut off from the majority steps down within the check-quorum window (two minimum election timeouts)', () => {
    const h = new Harness({ seed: 3 });
    h.tickUntil(() => h.leader() !== null, 3 * T);
    const leader = h.leader()!;
    // Healthy: it stays leader for many timeouts.
    h.tick(5 * T);
    expect(h.node(leader).status().role).toBe('leader');
    h.isolate(leader);
    let ticks = 0;
    while (h.node(leader).status().role === 'leader') {
      h.tick(1, [leader]);
      ticks++;
      expect(ticks).toBeLessThanOrEqual(checkQuorumElectionTimeouts * T);
    }
    // Not before: a loaded follower's late replies must not depose a healthy leader.
    expect(ticks).toBeGreaterThanOrEqual((checkQuorumElectionTimeouts - 1) * T);
    console.log(`check-quorum: isolated leader stepped down after ${ticks} ticks (T = ${T})`);
    expect(h.node(leader).status().role).toBe('follower');
    expect(h.node(leader).propose(new Uint8Array([1]), 0)).toEqual({ ok: false, reason: 'notLeader', leaderId: null });
  });

  it('a node rejoining after a long partition does not depose a healthy leader', () => {
    const h = new Harness({ seed: 11 });
    h.tickUntil(() => h.leader() !== null, 3 * T);
    const leader = h.leader()!;
    const loner = h.ids.find((id) => id !== leader)!;
    const term = h.node(leader).status().term;
    h.isolate(loner);
    h.tick(20 * T);
    h.propose(leader, 3);
    // Pre-vote: the loner never won a pre-election, so it never bumped its term.
    expect(h.node(loner).status().term).toBe(term);
    h.heal();
    h.tick(10 * T);
    expect(h.leader()).toBe(leader);
    for (const id of h.ids) expect(h.node(id).status().term).toBe(term);
    expect(h.logOf(loner)).toEqual(h.logOf(leader));
  });

  it('a rejoining node with an equally up-to-date log that campaigns at once does not depose the leader', () => {
    const h = new Harness({ seed: 12 });
    h.tickUntil(() => h.leader() !== null, 3 * T);
    const leader = h.leader()!;
    const loner = h.ids.find((id) => id !== leader)!;
    const term = h.node(leader).status().term;
    h.isolate(loner);
    h.tick(20 * T);
    h.heal();
    // Its timer fires right at the heal: only the lease of the others stops the pre-vote.
    h.node(loner).campaign();
    h.stabilize();
    h.tick(3 * T);
    expect(h.leader()).toBe(leader);
    for (const id of h.ids) expect(h.node(id).status().term).toBe(term);
  });

  it('followers in a leader lease ignore vote requests even from a higher term', () => {
    const h = new Harness({ seed: 5, config: { preVote: false } });
    h.tickUntil(() => h.leader() !== null, 3 * T);
    const leader = h.leader()!;
    const [x, y] = h.ids.filter((id) => id !== leader) as [string, string];
    const term = h.node(leader).status().term;
    h.inject({ type: 'requestVote', from: x, to: y, term: term + 5, lastLogIndex: 100, lastLogTerm: term, preVote: false });
    h.processAll();
    expect(h.node(y).status().term).toBe(term);
    expect(h.queue.filter((m) => m.type === 'requestVoteResponse')).toEqual([]);
  });

  it('never grants two votes in one term, across a crash (the vote is persisted before the reply)', () => {
    const h = new Harness({ seed: 2, config: { preVote: false } });
    const request = (from: string) =>
      ({ type: 'requestVote', from, to: 'c', term: 1, lastLogIndex: 0, lastLogTerm: 0, preVote: false }) as const;
    h.inject(request('a'));
    h.processReady('c');
    const ready = h.readies.get('c')!.at(-1)!;
    const reply = ready.messages.find((m) => m.type === 'requestVoteResponse');
    expect(reply).toMatchObject({ to: 'a', voteGranted: true, term: 1 });
    // The vote travels in the same Ready as the reply, so the driver persists it first.
    expect(ready.hardState).toMatchObject({ term: 1, votedFor: 'a' });
    h.crash('c');
    h.restart('c');
    expect(h.node('c').status()).toMatchObject({ term: 1, votedFor: 'a' });
    h.inject(request('b'));
    h.processReady('c');
    const second = h.readies.get('c')!.at(-1)!.messages.find((m) => m.type === 'requestVoteResponse');
    expect(second).toMatchObject({ to: 'b', voteGranted: false, term: 1 });
    // Asking again for the same candidate is fine (a lost reply is retried).
    h.inject(request('a'));
    h.processReady('c');
    expect(h.readies.get('c')!.at(-1)!.messages.find((m) => m.type === 'requestVoteResponse')).toMatchObject({
      voteGranted: true,
    });
  });

  it('a (pre-)candidate asks the voters that have not answered again every heartbeat interval', () => {
    const config = { ...defaultRaftConfig('a', ['a', 'b', 'c']), electionTicks: 10, heartbeatTicks: 3 };
    const storage = new MemoryStorage();
    storage.setHardState({ term: 1, votedFor: null, commitIndex: 0 });
    const node = new RaftNode(config, storage, new SeededRng(1));
    const drain = (): Message[] => {
      if (!node.hasReady()) return [];
      const ready = node.ready();
      node.advance(ready);
      return [...ready.messages];
    };
    const votesAsked = (messages: Message[]) => messages.filter((m) => m.type === 'requestVote').map((m) => `${m.to}:${m.preVote}`).sort();
    node.campaign();
    expect(votesAsked(drain())).toEqual(['b:true', 'c:true']);
    // b refuses (it still has a leader); c, inside its lease, stays silent.
    node.step({ type: 'requestVoteResponse', from: 'b', to: 'a', term: 1, voteGranted: false, preVote: true });
    node.tick();
    node.tick();
    expect(votesAsked(drain())).toEqual([]);
    node.tick();
    expect(votesAsked(drain())).toEqual(['c:true']);
    // c's lease ended: it grants, the real vote goes out, and is asked again while unanswered.
    node.step({ type: 'requestVoteResponse', from: 'c', to: 'a', term: 2, voteGranted: true, preVote: true });
    expect(node.status()).toMatchObject({ role: 'candidate', preCandidate: false, term: 2 });
    expect(votesAsked(drain())).toEqual(['b:false', 'c:false']);
    node.step({ type: 'requestVoteResponse', from: 'c', to: 'a', term: 2, voteGranted: false, preVote: false });
    for (let i = 0; i < 3; i++) node.tick();
    expect(votesAsked(drain())).toEqual(['b:false']);
  });

  it('a lost connection to the leader starts the election within a heartbeat, not a timeout', () => {
    const h = new Harness({ seed: 11 });
    h.tickUntil(() => h.leader() !== null, 3 * T);
    const first = h.leader()!;
    const term = h.node(first).status().term;
    h.crash(first);
    for (const id of h.ids) if (id !== first) h.node(id).leaderUnreachable(first);
    // Both followers campaign within heartbeatTicks (1) + 1 ticks; a tie is broken a heartbeat later.
    const ticks = h.tickUntil(() => h.leader() !== null, T);
    expect(ticks).toBeLessThanOrEqual(4);
    expect(h.node(h.leader()!).status().term).toBeGreaterThan(term);
  });

  it('a lost connection to a live leader on one follower deposes nobody', () => {
    const h = new Harness({ seed: 12 });
    h.tickUntil(() => h.leader() !== null, 3 * T);
    const leader = h.leader()!;
    const term = h.node(leader).status().term;
    const follower = h.ids.find((id) => id !== leader)!;
    h.node(follower).leaderUnreachable(leader);
    // Not our leader: ignored.
    h.node(follower).leaderUnreachable(h.ids.find((id) => id !== leader && id !== follower)!);
    h.tick(5 * T);
    expect(h.leader()).toBe(leader);
    for (const id of h.ids) expect(h.node(id).status()).toMatchObject({ term, leaderId: leader });
  });
});
