/** The simulated network: seeded delays, drops, duplicates and directed cuts. */
import { describe, expect, it } from 'vitest';
import type { Message } from '../../src/raft/types.js';
import { Prng } from './prng.js';
import { SimNetwork, calmNetwork } from './sim-network.js';

function vote(from: string, to: string, term: number): Message {
  return { type: 'requestVote', from, to, term, lastLogIndex: 0, lastLogTerm: 0, preVote: false };
}

function drain(net: SimNetwork, until: number): Message[] {
  const out: Message[] = [];
  for (let t = 1; t <= until; t++) out.push(...net.takeDue(t));
  return out;
}

describe('SimNetwork', () => {
  it('delivers within the delay bounds, never in the tick it was sent', () => {
    const net = new SimNetwork(new Prng(1), { ...calmNetwork, delayMin: 2, delayMax: 4 });
    for (let i = 0; i < 50; i++) net.send(vote('n1', 'n2', i), 0);
    expect(net.takeDue(0)).toEqual([]);
    expect(net.takeDue(1)).toEqual([]);
    const got = drain(net, 4);
    expect(got).toHaveLength(50);
    expect(net.inflightCount).toBe(0);
  });

  it('reorders messages through independent delays', () => {
    const net = new SimNetwork(new Prng(7), { ...calmNetwork, delayMin: 1, delayMax: 5, fifo: false });
    for (let i = 0; i < 30; i++) net.send(vote('n1', 'n2', i), 0);
    const terms = drain(net, 5).map((m) => m.term);
    expect(terms).not.toEqual([...terms].sort((a, b) => a - b));
  });

  it('keeps each link in order when fifo, while links still interleave', () => {
    const net = new SimNetwork(new Prng(7), { ...calmNetwork, delayMin: 1, delayMax: 5, fifo: true });
    for (let i = 0; i < 30; i++) {
      net.send(vote('n1', 'n2', i), 0);
      net.send(vote('n3', 'n2', 100 + i), 0);
    }
    const got = drain(net, 10);
    const fromN1 = got.filter((m) => m.from === 'n1').map((m) => m.term);
    const fromN3 = got.filter((m) => m.from === 'n3').map((m) => m.term);
    expect(fromN1).toEqual([...fromN1].sort((a, b) => a - b));
    expect(fromN3).toEqual([...fromN3].sort((a, b) => a - b));
    expect(got).toHaveLength(60);
  });

  it('drops and duplicates at the configured rates, deterministically per seed', () => {
    const run = (seed: number): { got: number; dropped: number; dup: number } => {
      const net = new SimNetwork(new Prng(seed), { ...calmNetwork, dropRate: 0.2, duplicateRate: 0.1 });
      for (let i = 0; i < 1000; i++) net.send(vote('n1', 'n2', i), 0);
      return { got: drain(net, 2).length, dropped: net.stats.dropped, dup: net.stats.duplicated };
    };
    const a = run(3);
    expect(a).toEqual(run(3));
    expect(a.dropped).toBeGreaterThan(120);
    expect(a.dropped).toBeLessThan(280);
    expect(a.dup).toBeGreaterThan(40);
    expect(a.got).toBe(1000 - a.dropped + a.dup);
  });

  it('cuts links one way, swallows in-flight messages, and heals', () => {
    const net = new SimNetwork(new Prng(2), calmNetwork);
    net.send(vote('n1', 'n2', 1), 0);
    net.send(vote('n2', 'n1', 1), 0);
    net.cut('n1', 'n2');
    expect(drain(net, 2).map((m) => `${m.from}->${m.to}`)).toEqual(['n2->n1']);
    net.heal();
    net.send(vote('n1', 'n2', 2), 2);
    expect(drain(net, 4).map((m) => `${m.from}->${m.to}`)).toEqual(['n1->n2']);
  });

  it('partitions groups both ways', () => {
    const net = new SimNetwork(new Prng(2), calmNetwork);
    net.partition([['n1'], ['n2', 'n3']]);
    expect(net.isCut('n1', 'n2') && net.isCut('n3', 'n1')).toBe(true);
    expect(net.isCut('n2', 'n3')).toBe(false);
  });
});
