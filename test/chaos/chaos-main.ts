/**
 * npm run chaos -- --seconds 120 [--nodes 3|5] [--seed S] [--clients 4] [--keep]
 * Prints `chaos: <ops> ops, <acked> acked, <faults> faults, lost=0 dup=0 divergent=0`; exits 1
 * (after printing the seed and the replay command) when any check fails.
 */
import { parseArgs } from 'node:util';
import { runChaos } from './run-chaos.js';

const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '120' },
    nodes: { type: 'string', default: '3' },
    seed: { type: 'string' },
    clients: { type: 'string', default: '4' },
    keep: { type: 'boolean', default: false },
  },
});
const seed = values.seed !== undefined ? Number(values.seed) : (Date.now() % 1_000_000);
const result = await runChaos({
  seconds: Number(values.seconds), nodes: Number(values.nodes), seed, clients: Number(values.clients),
  keep: values.keep, log: (line) => console.error(line),
});
for (const p of result.verdict.problems) console.error(`  ${p}`);
console.log(result.line);
if (!result.ok) {
  console.error(`chaos: FAILED with seed ${seed}; replay: npm run chaos -- --seconds ${values.seconds} --nodes ${values.nodes} --seed ${seed} --keep`);
  process.exit(1);
}
process.exit(0);
