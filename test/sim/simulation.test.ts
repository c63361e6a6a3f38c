/**
 * The deterministic cluster simulation in `npm test`: 2,000 seeds of 3 nodes and 400 of 5, with
 * crashes, partitions, snapshots, InstallSnapshot and membership changes in the mix; every
 * invariant checked after every step, liveness demanded after the faults stop.
 * Replay one seed: `SIM_SEED=123 npx vitest run test/sim/simulation.test.ts` (SEED= works too)
 * (or `npm run sim -- --seeds 1 --start 123 --verbose` for its trace).
 */
import { describe, expect, it } from 'vitest';
import type { Ready } from '../../src/raft/types.js';
import { raftNodeFactory } from './raft-factory.js';
import type { NodeFactory } from './sim-cluster.js';
import { formatFailure, runSeed, type SeedResult } from './sim-run.js';
import type { Scenario } from './sim-scenario.js';
import type { SimRaftNode } from './sim-types.js';

/** Seeds per configuration in `npm test` (issue 7 asks for >= 2,000 with membership changes). */
const seeds3 = 2_000;
const seeds5 = 400;
/** A seed of 600 ticks takes ~10 ms; a slow CI box gets ample room. */
const simTimeoutMs = 300_000;
/** Fault-phase ticks per seed in `npm test` (the CLI default is longer). */
const testSteps = 600;

const replayEnv = process.env.SIM_SEED ?? process.env.SEED;
const replaySeed = replayEnv === undefined ? null : Number(replayEnv);

function seedsFor(count: number, base: number): number[] {
  if (replaySeed !== null) return [replaySeed];
  return Array.from({ length: count }, (_, i) => base + i);
}

function failures(results: SeedResult[]): string {
  return results.filter((r) => r.violations.length > 0).map((r) => formatFailure(r, 30)).join('\n\n');
}

describe('cluster simulation', () => {
  for (const [nodeCount, count, base] of [[3, seeds3, 1], [5, seeds5, 100_001]] as const) {
    it(`${nodeCount} nodes: ${replaySeed === null ? count : 1} seeds, no violations`, () => {
      const results = seedsFor(count, base).map((seed) => runSeed({ seed, nodeCount, steps: testSteps, factory: raftNodeFactory }));
      const report = failures(results);
      if (report !== '') console.error(report);
      expect(report, report).toBe('');
      // The runs must have reached the interesting paths, or "no violations" means little.
      const total = (key: keyof SeedResult['stats']): number => results.reduce((n, r) => n + r.stats[key], 0);
      expect(total('committed')).toBeGreaterThan(results.length * 5);
      if (replaySeed === null) {
        for (const key of ['crashes', 'crashesMidReady', 'recoveries', 'truncations', 'leaderChanges', 'readsConfirmed', 'partitions', 'campaigns',
          'snapshotsInstalled', 'membershipChanges', 'leaderRemovals'] as const) {
          expect(total(key), `no ${key} in ${results.length} seeds`).toBeGreaterThan(0);
        }
      }
    }, simTimeoutMs);
  }

  it('is deterministic: one seed, one trace', () => {
    const a = runSeed({ seed: 42, nodeCount: 3, steps: 400, factory: raftNodeFactory });
    const b = runSeed({ seed: 42, nodeCount: 3, steps: 400, factory: raftNodeFactory });
    const c = runSeed({ seed: 43, nodeCount: 3, steps: 400, factory: raftNodeFactory });
    expect(a.digest).toBe(b.digest);
    expect(a.stats).toEqual(b.stats);
    expect(c.digest).not.toBe(a.digest);
  });
});

describe('the simulator catches a broken core', () => {
  /** The real core behind a wrapper whose methods `override` may replace (a mutant core). */
  function mutant(override: (node: SimRaftNode, id: string) => Partial<SimRaftNode>): NodeFactory {
    return (id, voters, tuning, storage, rng) => {
      const node = raftNodeFactory(id, voters, tuning, storage, rng);
      const passThrough: SimRaftNode = {
        tick: () => node.tick(),
        step: (m) => node.step(m),
        propose: (d, ts) => node.propose(d, ts),
        readIndex: (r) => node.readIndex(r),
        campaign: () => node.campaign(),
        hasReady: () => node.hasReady(),
        ready: () => node.ready(),
        advance: (rd) => node.advance(rd),
        status: () => node.status(),
        compact: (snapshot, compactTo) => node.compact(snapshot, compactTo),
        transferLeadership: (to) => node.transferLeadership(to),
        proposeMembershipChange: (change, ts) => node.proposeMembershipChange(change, ts),
        membership: () => node.membership(),
        membershipAt: (index) => node.membershipAt(index),
      };
      return { ...passThrough, ...override(node, id) };
    };
  }

  /** A mutant that tampers with the Ready it hands its driver (advance() still gets the original). */
  function tampered(tamper: (id: string, rd: Ready) => Ready): NodeFactory {
    return mutant((node, id) => {
      const originals = new WeakMap<Ready, Ready>();
      return {
        ready: () => {
          const rd = node.ready();
          const changed = tamper(id, rd);
          originals.set(changed, rd);
          return changed;
        },
        advance: (rd) => node.advance(originals.get(rd) ?? rd),
      };
    });
  }

  /** The first failing seed among 1..seedsMax, or null. */
  function firstFailure(seedsMax: number, run: (seed: number) => SeedResult): SeedResult | null {
    for (let seed = 1; seed <= seedsMax; seed++) {
      const r = run(seed);
      if (r.violations.length > 0) return r;
    }
    return null;
  }

  it('reports state-machine safety when one node applies a corrupted entry, with a replay command', () => {
    const factory = tampered((id, rd) => id !== 'n3' ? rd : {
      ...rd,
      committed: rd.committed.map((e) => e.type === 'command' ? { ...e, data: new Uint8Array([...e.data, 0xff]) } : e),
    });
    const r = runSeed({ seed: 5, nodeCount: 3, steps: 300, factory, scenario: (s) => ({ ...s, faults: { ...s.faults, propose: 0.5 } }) });
    expect(r.violations.map((v) => v.kind)).toContain('stateMachineSafety');
    expect(formatFailure(r, 10)).toMatch(/npm run sim -- --seeds 1 --start 5 --nodes 3 --steps 300/);
  });

  it('reports two leaders in a term when a node forgets its vote across a crash', () => {
    // n1 never persists whom it voted for; crashing it right after a vote lets it vote again.
    const factory = tampered((id, rd) => id !== 'n1' || rd.hardState === null ? rd : { ...rd, hardState: { ...rd.hardState, votedFor: null } });
    const forceVoteCrashes = (s: Scenario): Scenario => ({ ...s, tuning: { ...s.tuning, preVote: false }, faults: { ...s.faults, crashAfterVote: 1 } });
    const caught = firstFailure(80, (seed) => runSeed({ seed, nodeCount: 3, steps: 600, factory, scenario: forceVoteCrashes }));
    expect(caught?.violations[0]?.kind).toBe('electionSafety');
  });

  it('reports leader completeness when voters ignore the election restriction', () => {
    // Every vote request is made to look up to date, so a candidate missing committed entries can win.
    const factory = mutant((node) => ({
      step: (m) => node.step(m.type === 'requestVote' ? { ...m, lastLogTerm: m.term - 1, lastLogIndex: 1e6 } : m),
    }));
    // Without compaction: a leader's compacted prefix is not checked entry by entry (its snapshot
    // is), so with snapshots on the same bug tends to surface as a state-machine mismatch first.
    const noSnapshots = (s: Scenario): Scenario => ({ ...s, snapshots: { ...s.snapshots, every: 0 } });
    const caught = firstFailure(80, (seed) => runSeed({ seed, nodeCount: 3, steps: 600, factory, scenario: noSnapshots }));
    expect(caught?.violations[0]?.kind).toBe('leaderCompleteness');
  });

  it('reports a stale read when a leader confirms an old read point', () => {
    const factory = tampered((_id, rd) => ({ ...rd, readStates: rd.readStates.map((rs) => ({ ...rs, index: Math.max(0, rs.index - 3) })) }));
    const withReads = (s: Scenario): Scenario => ({ ...s, faults: { ...s.faults, read: 0.3, propose: 0.5 } });
    const r = runSeed({ seed: 9, nodeCount: 3, steps: 400, factory, scenario: withReads });
    expect(r.violations[0]?.kind).toBe('staleRead');
  });

  it('reports a core that mutates a Ready after handing it out', () => {
    const factory = mutant((node) => ({
      advance: (rd) => {
        // Reuse the handed-out message array: the driver may still hold those messages.
        (rd.messages as unknown[]).length = 0;
        node.advance(rd);
      },
    }));
    const r = runSeed({ seed: 1, nodeCount: 3, steps: 50, factory });
    expect(r.violations[0]?.kind).toBe('coreThrew');
  });

  it('reports liveness when a cluster stops committing after the heal', () => {
    const factory = mutant(() => ({ propose: () => ({ ok: false, reason: 'overloaded' }) }));
    const r = runSeed({ seed: 7, nodeCount: 3, steps: 50, factory });
    expect(r.violations.map((v) => v.kind)).toEqual(['liveness']);
  });
});
