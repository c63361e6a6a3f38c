/**
 * The top-of-book check: the engine's best bid and best ask (price and size) against a LOBSTER
 * orderbook row. Takes the engine's book *view*, so the in-process driver and a check against a
 * live cluster (a linearizable read of `orderBook(symbol, 1)`) share it.
 */
import type { OrderBookView } from '../../domain/index.js';
import type { LobsterBookRow, LobsterLevel } from './lobster-csv.js';
import { centsToDecimal, decimalToCents, lobsterPriceToCents, wholeFromDecimal } from './lobster-price.js';

/** The depth to ask the engine for: only the best level is compared. */
export const topOfBookDepth = 1;

function sameLevel(engine: { price: string; quantity: string } | undefined, lobster: LobsterLevel | undefined): boolean {
  if (engine === undefined || lobster === undefined) return engine === undefined && lobster === undefined;
  // Numeric compare: views may print "585.30" where commands carry the canonical "585.3".
  return wholeFromDecimal(engine.quantity) === lobster.size && decimalToCents(engine.price) === lobsterPriceToCents(lobster.price);
}

/** True when best bid and best ask agree in price and size (an empty side must be empty in both). */
export function topOfBookMatches(book: OrderBookView | null, row: LobsterBookRow): boolean {
  if (book === null) return false;
  return sameLevel(book.bids[0], row.bids[0]) && sameLevel(book.asks[0], row.asks[0]);
}

/** A one-line description of both tops, for mismatch reports. */
export function describeTops(book: OrderBookView | null, row: LobsterBookRow): string {
  const e = (l: { price: string; quantity: string } | undefined): string => (l === undefined ? '-' : `${l.quantity}@${l.price}`);
  const r = (l: LobsterLevel | undefined): string => (l === undefined ? '-' : `${l.size}@${centsToDecimal(lobsterPriceToCents(l.price))}`);
  return `engine bid ${e(book?.bids[0])} ask ${e(book?.asks[0])} | lobster bid ${r(row.bids[0])} ask ${r(row.asks[0])}`;
}
