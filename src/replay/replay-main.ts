/**
 * `npm run replay -- <message.csv> [--orderbook F] [--seed-book F] [--symbol S] [--verbose]`:
 * replays a LOBSTER message file in-process and prints one summary line (details on stderr with
 * --verbose).
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { Command } from 'commander';
import { parseLobsterBook, parseLobsterFirstRow, parseLobsterMessages } from './lobster-csv.js';
import { formatReplayLine, replayInProcess } from './in-process-replay.js';

/** LOBSTER file names start with the ticker (AAPL_2012-06-21_...). */
function symbolFromFileName(path: string): string {
  return basename(path).split('_')[0] ?? '';
}

function main(argv: string[]): void {
  const program = new Command()
    .name('replay')
    .argument('<message-csv>', 'LOBSTER message file')
    .option('--orderbook <file>', 'LOBSTER orderbook file to compare the top of book with, row by row')
    .option('--seed-book <file>', 'LOBSTER orderbook file whose first row seeds the book')
    .option('--symbol <symbol>', 'instrument (default: the ticker in the file name)')
    .option('--verbose', 'print counters and the first mismatching rows to stderr')
    .parse(argv);
  const messageFile = program.args[0]!;
  const opts = program.opts<{ orderbook?: string; seedBook?: string; symbol?: string; verbose?: boolean }>();
  const symbol = opts.symbol ?? symbolFromFileName(messageFile);
  const messages = parseLobsterMessages(readFileSync(messageFile, 'utf8'));
  // Only the top level is compared, so only it is parsed.
  const orderbook = opts.orderbook === undefined ? undefined : parseLobsterBook(readFileSync(opts.orderbook, 'utf8'), 1);
  const seedBook = opts.seedBook === undefined ? undefined : parseLobsterFirstRow(readFileSync(opts.seedBook, 'utf8'));
  const summary = replayInProcess(messages, { symbol, orderbook, seedBook });
  if (opts.verbose === true) {
    console.error(JSON.stringify(summary.counters));
    for (const m of summary.mismatches) console.error(m);
  }
  console.log(formatReplayLine(summary));
}

main(process.argv);
