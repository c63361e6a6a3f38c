import { describe, expect, it } from 'vitest';
import { Clock, defaultTiming, tickCatchUpMax, tickDebtMax, ticksFor } from '../../src/node/clock.js';
import { DeadlineError, OverloadedError, UnavailableError } from '../../src/node/exchange-node-api.js';
import { HealthGate } from '../../src/node/health.js';
import { Proposals } from '../../src/node/proposals.js';
import { AppliedWaiters, ReadIndexer } from '../../src/node/read-index.js';
import { CommittedStream } from '../../src/node/committed-stream.js';

describe('ticksFor', () => {
  it('maps the documented defaults to 10 ms ticks', () => {
    expect(ticksFor(defaultTiming)).toEqual({ tickMs: 10, heartbeatTicks: 5, electionTicks: 30 });
    expect(ticksFor({ electionTimeoutMs: 40, heartbeatMs: 5 })).toEqual({ tickMs: 5, heartbeatTicks: 1, electionTicks: 8 });
    expect(() => ticksFor({ electionTimeoutMs: 50, heartbeatMs: 50 })).toThrow(/2x/);
  });
});

describe('Clock', () => {
  it('delivers a tick per firing, catches up on lateness a little at a time, forgives long stalls', () => {
    expect([tickCatchUpMax, tickDebtMax]).toEqual([1, 5]);
    let now = 0;
    let ticks = 0;
    // A 1 s interval never fires by itself during the test: fire() is called by hand.
    const clock = new Clock(1000, () => ticks++, () => now);
    clock.start();
    const fireAt = (t: number): number => {
      now = t;
      const before = ticks;
      clock.fire();
      return ticks - before;
    };
    try {
      expect([fireAt(1000), fireAt(2500), fireAt(3900)]).toEqual([1, 1, 1]);
      // Two firings' worth of lateness: two ticks, not one.
      expect(fireAt(5200)).toBe(2);
      // A 15 s stall: only tickDebtMax ticks are owed, paid at most two per firing.
      expect([fireAt(20_000), fireAt(20_000), fireAt(20_000), fireAt(20_000)]).toEqual([2, 2, 1, 1]);
    } finally {
      clock.stop();
    }
  });
});

describe('Proposals', () => {
  it('resolves on apply with the same term, fails UNAVAILABLE when another term took the index', async () => {
    const p = new Proposals<string>(10);
    const a = p.add(5, 2, Infinity);
    const b = p.add(6, 2, Infinity);
    p.applied(5, 2, 'ok');
    p.applied(6, 3, 'someone else');
    await expect(a).resolves.toBe('ok');
    await expect(b).rejects.toBeInstanceOf(UnavailableError);
    expect(p.size).toBe(0);
  });

  it('enforces the limit, deadlines and failAll', async () => {
    const p = new Proposals<string>(2);
    const a = p.add(1, 1, 100);
    const b = p.add(2, 1, 200);
    expect(() => p.checkCapacity()).toThrow(OverloadedError);
    p.expire(150);
    await expect(a).rejects.toBeInstanceOf(DeadlineError);
    p.failAll(new UnavailableError('lost'));
    await expect(b).rejects.toBeInstanceOf(UnavailableError);
    p.applied(2, 1, 'late'); // nobody waiting: ignored
  });
});

describe('AppliedWaiters', () => {
  it('resolves in any order once applied reaches each index; expires the rest', async () => {
    const w = new AppliedWaiters(3);
    await w.waitFor(2, 0);
    const order: number[] = [];
    const p7 = w.waitFor(7, 100).then(() => order.push(7));
    const p5 = w.waitFor(5, 100).then(() => order.push(5));
    const p9 = w.waitFor(9, 100);
    w.advance(7);
    await Promise.all([p7, p5]);
    expect(order.sort()).toEqual([5, 7]);
    w.expire(100);
    await expect(p9).rejects.toBeInstanceOf(DeadlineError);
    expect(() => w.advance(6)).toThrow(/went back/);
  });
});

describe('ReadIndexer', () => {
  it('leader: waits for the confirmed read state; follower: asks the leader; no leader: UNAVAILABLE', async () => {
    let leader: string | null = 'n1';
    let now = 0;
    const asked: string[] = [];
    const r = new ReadIndexer({
      selfId: 'n1',
      readIndex: () => (leader === 'n1' ? { ok: true } : { ok: false, reason: 'notLeader', leaderId: leader }),
      leaderId: () => leader,
      askLeader: async (id) => {
        asked.push(id);
        return { readIndex: 42, leaderId: id };
      },
      now: () => now,
    }, 1000);
    const p = r.readPoint(10_000);
    await Promise.resolve();
    r.onReadStates([{ requestId: 'n1/1', index: 17 }]);
    await expect(p).resolves.toBe(17);

    leader = 'n2';
    await expect(r.readPoint(10_000)).resolves.toBe(42);
    expect(asked).toEqual(['n2']);

    leader = null;
    const none = r.readPoint(10_000);
    now = 1000;
    r.expire(now);
    await expect(none).rejects.toBeInstanceOf(UnavailableError);
  });

  it('leadership lost before confirmation fails the read', async () => {
    const r = new ReadIndexer({ selfId: 'n1', readIndex: () => ({ ok: true }), leaderId: () => 'n1', askLeader: async () => ({ readIndex: 0, leaderId: null }), now: () => 0 }, 1000);
    const p = r.leaderReadPoint(10_000);
    r.onLeaderChange(false);
    await expect(p).rejects.toBeInstanceOf(UnavailableError);
  });
});

describe('HealthGate', () => {
  it('serves once a leader is known and applied reaches the commit index seen at start', () => {
    let serving = 0;
    const h = new HealthGate(10, () => serving++);
    h.update({ leaderId: null, commitIndex: 12, lastApplied: 12 });
    expect(h.isServing).toBe(false);
    h.update({ leaderId: 'n2', commitIndex: 8, lastApplied: 9 });
    expect(h.isServing).toBe(false);
    h.update({ leaderId: 'n2', commitIndex: 15, lastApplied: 10 });
    expect(h.isServing).toBe(true);
    h.update({ leaderId: 'n2', commitIndex: 15, lastApplied: 15 });
    expect(serving).toBe(1);
  });
});

describe('CommittedStream', () => {
  it('publishes in order and crashes on a gap', () => {
    const c = new CommittedStream();
    const seen: number[] = [];
    c.entries$.subscribe((e) => seen.push(e.index));
    const entry = (index: number) => ({ index, term: 1, type: 'noop' as const, timestampMs: 0, data: new Uint8Array() });
    c.publish(entry(1));
    c.publish(entry(2));
    expect(() => c.publish(entry(4))).toThrow(/after 2/);
    expect(seen).toEqual([1, 2]);
  });
});
