/**
 * Entry point of the `raftex` bin (bin/raftex.js imports the compiled copy of this file).
 */
import { buildProgram } from './program.js';

await buildProgram().parseAsync(process.argv);
