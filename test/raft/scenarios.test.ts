/**
 * Runs every test/raft/scenarios/*.txt script and compares its transcript with the golden
 * `.out` next to it. After an intended behaviour change: `npx vitest run test/raft/scenarios.test.ts -u`,
 * then review the diff of the .out files like code.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runScript } from './interaction.js';

const directory = join(dirname(fileURLToPath(import.meta.url)), 'scenarios');
const scripts = readdirSync(directory).filter((name) => name.endsWith('.txt')).sort();

describe('scenario scripts', () => {
  it('has scripts', () => expect(scripts.length).toBeGreaterThan(0));
  for (const name of scripts) {
    it(name, async () => {
      const transcript = runScript(readFileSync(join(directory, name), 'utf8'));
      await expect(transcript).toMatchFileSnapshot(join(directory, name.replace(/\.txt$/, '.out')));
    });
  }
});
