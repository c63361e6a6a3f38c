/**
 * `npm run sim -- --seeds N [--start S] [--nodes 3|5] [--steps K] [--verbose] [--trace LINES]`
 * `npm run sim -- --seed S ...` replays the one seed S (same as `--seeds 1 --start S`);
 * `--focus n2` keeps only the trace events involving node n2.
 *
 * Runs seeds S..S+N-1 and ends with `sim: N seeds, V violations`; exits 1 when V > 0 after
 * printing each failing seed, its violations and the command that replays it.
 */
import { parseArgs } from 'node:util';
import { raftNodeFactory } from './raft-factory.js';
import { formatFailure, runSeed, stepsDefault } from './sim-run.js';

/** Trace lines printed per failing seed (more with --verbose). */
const traceLinesDefault = 40;
const traceLinesVerbose = 400;

function intArg(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) {
    console.error(`sim: --${name} must be a non-negative integer, got ${value}`);
    process.exit(2);
  }
  return n;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      nodes: { type: 'string' },
      steps: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      trace: { type: 'string' },
      focus: { type: 'string' },
    },
    strict: true,
  });
  const one = values.seed === undefined ? null : intArg('seed', values.seed, 0);
  const seeds = one === null ? intArg('seeds', values.seeds, 100) : 1;
  const start = one ?? intArg('start', values.start, 1);
  const nodeCount = intArg('nodes', values.nodes, 3);
  const steps = intArg('steps', values.steps, stepsDefault);
  if (nodeCount !== 3 && nodeCount !== 5) {
    console.error(`sim: --nodes must be 3 or 5, got ${nodeCount}`);
    process.exit(2);
  }
  const verbose = values.verbose === true;
  const traceLines = intArg('trace', values.trace, verbose ? traceLinesVerbose : traceLinesDefault);
  const began = performance.now();
  let violations = 0;
  let livenessMax = 0;
  let ticks = 0;
  let commits = 0;
  let crashes = 0;
  let reads = 0;
  let truncations = 0;
  let snapshotsTaken = 0;
  let snapshotsInstalled = 0;
  let membershipChanges = 0;
  let leaderRemovals = 0;
  for (let seed = start; seed < start + seeds; seed++) {
    const r = runSeed({ seed, nodeCount, steps, factory: raftNodeFactory, traceMax: Math.max(traceLines, traceLinesVerbose), ...(values.focus === undefined ? {} : { focus: values.focus }) });
    ticks += r.stats.ticks;
    commits += r.stats.committed;
    crashes += r.stats.crashes;
    reads += r.stats.readsConfirmed;
    truncations += r.stats.truncations;
    snapshotsTaken += r.stats.snapshotsTaken;
    snapshotsInstalled += r.stats.snapshotsInstalled;
    membershipChanges += r.stats.membershipChanges;
    leaderRemovals += r.stats.leaderRemovals;
    livenessMax = Math.max(livenessMax, r.livenessTicks);
    if (r.violations.length > 0) {
      violations += r.violations.length;
      console.log(formatFailure(r, traceLines));
    } else if (verbose) {
      console.log(`ok seed ${seed}: ${r.stats.committed} committed, ${r.stats.leaderChanges} leader changes, ${r.stats.crashes} crashes, ` +
        `${r.stats.messages} messages, liveness in ${r.livenessTicks} ticks, digest ${r.digest}`);
      console.log(`  scenario: ${r.scenario}`);
    }
  }
  const secs = (performance.now() - began) / 1000;
  console.log(`sim: ${nodeCount} nodes, ${steps} steps/seed, ${ticks} ticks, ${commits} entries committed, ${reads} reads confirmed, ${crashes} crashes, ` +
    `${truncations} log truncations, ${snapshotsTaken} snapshots taken, ${snapshotsInstalled} installed, ` +
    `${membershipChanges} membership changes (${leaderRemovals} removing the leader), ` +
    `slowest liveness ${livenessMax} ticks, ${secs.toFixed(1)} s`);
  console.log(`sim: ${seeds} seeds, ${violations} violations`);
  if (violations > 0) process.exit(1);
}

main();
