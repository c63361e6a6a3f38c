/**
 * The in-process driver: runs the LOBSTER adapter's commands through `Exchange.apply` in log order
 * and compares the top of book with the orderbook file after every message.
 */
import { Exchange } from '../../domain/index.js';
import type { Command, Reply } from '../../domain/index.js';
import type { LobsterBookRow, LobsterMessage } from './lobster-csv.js';
import { lobsterCommands } from './lobster-replay.js';
import type { LobsterReplayOptions, ReplayCounters } from './lobster-replay.js';
import { describeTops, topOfBookDepth, topOfBookMatches } from './top-of-book.js';

/** Mismatching rows kept for the report; the count covers them all. */
export const mismatchSampleMax = 20;

/** 2012-06-21 00:00 US Eastern (EDT, UTC-4) in epoch ms: LOBSTER times are seconds after that midnight. */
const sessionMidnightMs = Date.UTC(2012, 5, 21, 4, 0, 0);

export interface InProcessReplayOptions extends LobsterReplayOptions {
  /** Orderbook rows (row i = the book after message i); omit to skip the comparison. */
  readonly orderbook?: readonly LobsterBookRow[];
  /** The exchange to drive; a fresh default one when omitted. */
  readonly exchange?: Exchange;
  /** Every command applied with its reply, in log order (the bench re-applies this exact stream). */
  readonly record?: RecordedCommand[];
}

/** One applied command, its apply context and the engine's reply. */
export interface RecordedCommand {
  readonly command: Command;
  readonly logIndex: number;
  readonly timestampMs: number;
  readonly reply: Reply;
}

export interface ReplaySummary {
  readonly messages: number;
  readonly trades: number;
  /** Rows compared: min(messages, orderbook rows). */
  readonly comparedRows: number;
  readonly matchedRows: number;
  readonly elapsedMs: number;
  readonly commands: number;
  readonly counters: ReplayCounters;
  /** The first `mismatchSampleMax` mismatching rows (1-based line numbers) with both tops. */
  readonly mismatches: readonly string[];
  readonly exchange: Exchange;
}

/** Replays `messages` into an exchange; times the whole loop, including the top-of-book checks. */
export function replayInProcess(messages: readonly LobsterMessage[], options: InProcessReplayOptions): ReplaySummary {
  const exchange = options.exchange ?? new Exchange();
  const orderbook = options.orderbook;
  const gen = lobsterCommands(messages, options);
  let logIndex = exchange.lastAppliedIndex;
  let comparedRows = 0;
  let matchedRows = 0;
  const mismatches: string[] = [];
  let reply: Reply | undefined;
  const started = performance.now();
  let timestampMs = sessionMidnightMs + Math.round((messages[0]?.timeSec ?? 0) * 1000);
  for (;;) {
    const step = gen.next(reply);
    reply = undefined;
    if (step.done === true) {
      const elapsedMs = performance.now() - started;
      return {
        messages: step.value.messages, trades: step.value.trades, comparedRows, matchedRows, elapsedMs,
        commands: logIndex, counters: step.value, mismatches, exchange,
      };
    }
    const s = step.value;
    if (s.kind === 'command') {
      logIndex++;
      reply = exchange.apply(s.command, { logIndex, timestampMs }).reply;
      options.record?.push({ command: s.command, logIndex, timestampMs, reply });
      continue;
    }
    const next = messages[s.messageIndex + 1];
    if (next !== undefined) timestampMs = sessionMidnightMs + Math.round(next.timeSec * 1000);
    const row = orderbook?.[s.messageIndex];
    if (row === undefined) continue;
    comparedRows++;
    const book = exchange.orderBook(options.symbol, topOfBookDepth);
    if (topOfBookMatches(book, row)) matchedRows++;
    else if (mismatches.length < mismatchSampleMax) mismatches.push(`row ${s.messageIndex + 1}: ${describeTops(book, row)}`);
  }
}

/** The summary line `npm run replay` prints. */
export function formatReplayLine(s: ReplaySummary): string {
  const pct = s.comparedRows === 0 ? 'n/a' : ((100 * s.matchedRows) / s.comparedRows).toFixed(2);
  const rate = s.elapsedMs > 0 ? Math.round((s.messages * 1000) / s.elapsedMs) : 0;
  return `replay: ${s.messages} msgs, ${s.trades} trades, top-of-book match ${pct}% of ${s.comparedRows} rows, ${rate} msgs/s`;
}
