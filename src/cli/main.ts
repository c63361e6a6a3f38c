/**
 * Entry point of the `raftex` bin (bin/raftex.js imports the compiled copy of this file).
 */
import { buildProgram } from './program.js';

// `raftex trades | head`: the reader went away, which is how a pipeline ends, not a failure.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0);
  throw e;
});

await buildProgram().parseAsync(process.argv);
