/**
 * Parsers for LOBSTER sample files (lobsterdata.com): the message file (one event per row) and the
 * orderbook file (the book after each event, 4 columns per level). Both have no header row.
 * Prices stay integers in LOBSTER units (dollars x 10000) here; mapping to the exchange's decimal
 * strings belongs to the adapter, which knows the instrument's tick.
 */

/** LOBSTER's event types (message column 2). */
export type LobsterEventKind =
  | 'add' // 1: new limit order
  | 'partialCancel' // 2: size shares taken off an order
  | 'delete' // 3: the whole order removed
  | 'execute' // 4: visible execution against the named resting order
  | 'hiddenExecute' // 5: execution of a hidden order (id 0); the displayed book does not change
  | 'cross' // 6: auction/cross trade
  | 'halt'; // 7: trading-halt indicator

const kindByCode: readonly LobsterEventKind[] = ['add', 'partialCancel', 'delete', 'execute', 'hiddenExecute', 'cross', 'halt'];

/** One row of a message file. */
export interface LobsterMessage {
  /** Seconds after midnight (exchange time); only used for ordering and display, never for money. */
  readonly timeSec: number;
  readonly kind: LobsterEventKind;
  readonly orderId: number;
  /** Shares. */
  readonly size: number;
  /** Dollars x 10000. */
  readonly price: number;
  /** The side of the order the event is about; for executions, the resting order's side. */
  readonly side: 'buy' | 'sell';
}

/** One price level of an orderbook row; prices in dollars x 10000. */
export interface LobsterLevel {
  readonly price: number;
  readonly size: number;
}

/** The book after one message: occupied levels only (LOBSTER's dummy empty levels are dropped), best first. */
export interface LobsterBookRow {
  readonly asks: readonly LobsterLevel[];
  readonly bids: readonly LobsterLevel[];
}

/** LOBSTER fills empty levels with these dummy prices and size 0. */
export const lobsterDummyAskPrice = 9999999999;
export const lobsterDummyBidPrice = -9999999999;

/** A malformed LOBSTER file: names the 1-based line so the row can be found. */
export class LobsterParseError extends Error {
  override readonly name = 'LobsterParseError';
}

function parseIntField(text: string | undefined, line: number, what: string): number {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isSafeInteger(n)) {
    throw new LobsterParseError(`line ${line}: ${what} is not an integer: ${JSON.stringify(text)}`);
  }
  return n;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => (l.endsWith('\r') ? l.slice(0, -1) : l));
}

/** Parses a whole LOBSTER message file (6 columns: time, type, order id, size, price, direction). */
export function parseLobsterMessages(text: string): LobsterMessage[] {
  const out: LobsterMessage[] = [];
  const lines = splitLines(text);
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    const f = lines[i]!.split(',');
    if (f.length !== 6) throw new LobsterParseError(`line ${line}: expected 6 columns, got ${f.length}`);
    const timeSec = Number(f[0]);
    if (!Number.isFinite(timeSec)) throw new LobsterParseError(`line ${line}: bad time ${JSON.stringify(f[0])}`);
    const code = parseIntField(f[1], line, 'type');
    const kind = kindByCode[code - 1];
    if (kind === undefined) throw new LobsterParseError(`line ${line}: unknown event type ${code}`);
    const direction = parseIntField(f[5], line, 'direction');
    if (direction !== 1 && direction !== -1) throw new LobsterParseError(`line ${line}: direction must be 1 or -1, got ${direction}`);
    const size = parseIntField(f[3], line, 'size');
    if (size < 0) throw new LobsterParseError(`line ${line}: negative size ${size}`);
    out.push({
      timeSec,
      kind,
      orderId: parseIntField(f[2], line, 'order id'),
      size,
      price: parseIntField(f[4], line, 'price'),
      side: direction === 1 ? 'buy' : 'sell',
    });
  }
  return out;
}

/**
 * Parses one orderbook row (4 columns per level: ask price, ask size, bid price, bid size).
 * `levelsMax` limits how many levels are read (1 for a top-of-book compare).
 */
export function parseLobsterBookRow(lineText: string, line: number, levelsMax: number): LobsterBookRow {
  const f = lineText.split(',');
  if (f.length < 4 || f.length % 4 !== 0) throw new LobsterParseError(`line ${line}: expected 4 columns per level, got ${f.length}`);
  const asks: LobsterLevel[] = [];
  const bids: LobsterLevel[] = [];
  const levels = Math.min(levelsMax, f.length / 4);
  for (let k = 0; k < levels; k++) {
    const askPrice = parseIntField(f[4 * k], line, 'ask price');
    const askSize = parseIntField(f[4 * k + 1], line, 'ask size');
    const bidPrice = parseIntField(f[4 * k + 2], line, 'bid price');
    const bidSize = parseIntField(f[4 * k + 3], line, 'bid size');
    // Dummy levels (and any zero-size level) mean "no level here"; deeper levels are empty too.
    if (askPrice !== lobsterDummyAskPrice && askSize > 0) asks.push({ price: askPrice, size: askSize });
    if (bidPrice !== lobsterDummyBidPrice && bidSize > 0) bids.push({ price: bidPrice, size: bidSize });
  }
  return { asks, bids };
}

/** Parses a whole orderbook file, keeping the first `levelsMax` levels of each row. */
export function parseLobsterBook(text: string, levelsMax: number): LobsterBookRow[] {
  return splitLines(text).map((l, i) => parseLobsterBookRow(l, i + 1, levelsMax));
}

/** Parses only the first row of an orderbook file (all its levels): the seed book. */
export function parseLobsterFirstRow(text: string): LobsterBookRow {
  const end = text.indexOf('\n');
  const first = end < 0 ? text : text.slice(0, end);
  if (first.trim() === '') throw new LobsterParseError('line 1: empty orderbook file');
  return parseLobsterBookRow(first.replace(/\r$/, ''), 1, Number.MAX_SAFE_INTEGER);
}
