/**
 * What a node's snapshot holds: the exchange state (the domain's canonical bytes, which the state
 * hash covers) and the node's most recent trades before it. The trades are what StreamTrades
 * replays; without them a node that restarted from a snapshot, or installed one, could serve no
 * resume from before it. They are derived data (the same on every node that applied the same
 * entries, up to how far back each kept them), so they sit beside the state, not inside it.
 *
 * Layout: "RXNS" | version 1 | u32 exchange length | exchange bytes | u32 JSON length | JSON
 * `{ "from": N, "trades": [[tradeId, symbol, price, quantity, buyOrderId, sellOrderId,
 * buyerAccountId, sellerAccountId, aggressorSide, logIndex, timestampMs], ...] }` where every
 * trade at log index >= N (and at most the snapshot's index) is listed. Bytes without the magic
 * are an exchange snapshot alone (older builds, offline tools): no trades, resumable from after it.
 */
import type { Side, TradeView } from '../../domain/index.js';
import type { CarriedTrades } from './trade-history.js';

const magic = [0x52, 0x58, 0x4e, 0x53]; // "RXNS"
const version = 1;
const headerBytes = magic.length + 1 + 4;

/** Trades a snapshot carries at most (newest kept): bounds its size (~150 bytes a trade). */
export const snapshotTradesMax = 20_000;

/** The node snapshot's trade part. */
export type SnapshotTrades = CarriedTrades<TradeView>;

export interface NodeSnapshot {
  readonly exchange: Uint8Array;
  /** null: the bytes carried no trades (a bare exchange snapshot). */
  readonly trades: SnapshotTrades | null;
}

/** A node snapshot that cannot be read: the node must not start from it. */
export class NodeSnapshotError extends Error {
  override readonly name = 'NodeSnapshotError';
}

type TradeRow = [string, string, string, string, string, string, string, string, Side, number, number];

export function encodeNodeSnapshot(exchange: Uint8Array, trades: SnapshotTrades): Uint8Array {
  const rows: TradeRow[] = trades.trades.map((t) => [t.tradeId, t.symbol, t.price, t.quantity, t.buyOrderId, t.sellOrderId,
    t.buyerAccountId, t.sellerAccountId, t.aggressorSide, t.logIndex, t.timestampMs]);
  const json = new TextEncoder().encode(JSON.stringify({ from: trades.from, trades: rows }));
  const out = new Uint8Array(headerBytes + exchange.byteLength + 4 + json.byteLength);
  const view = new DataView(out.buffer);
  out.set(magic, 0);
  out[magic.length] = version;
  view.setUint32(magic.length + 1, exchange.byteLength);
  out.set(exchange, headerBytes);
  view.setUint32(headerBytes + exchange.byteLength, json.byteLength);
  out.set(json, headerBytes + exchange.byteLength + 4);
  return out;
}

export function decodeNodeSnapshot(bytes: Uint8Array): NodeSnapshot {
  if (!(bytes.byteLength >= headerBytes && magic.every((b, i) => bytes[i] === b))) return { exchange: bytes, trades: null };
  if (bytes[magic.length] !== version) throw new NodeSnapshotError(`node snapshot: unknown version ${bytes[magic.length]}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const exchangeLength = view.getUint32(magic.length + 1);
  const jsonAt = headerBytes + exchangeLength + 4;
  if (jsonAt > bytes.byteLength) throw new NodeSnapshotError('node snapshot: truncated');
  const jsonLength = view.getUint32(headerBytes + exchangeLength);
  if (jsonAt + jsonLength !== bytes.byteLength) throw new NodeSnapshotError('node snapshot: length mismatch');
  const exchange = bytes.subarray(headerBytes, headerBytes + exchangeLength);
  let parsed: { from: unknown; trades: unknown };
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(jsonAt))) as { from: unknown; trades: unknown };
  } catch (e) {
    throw new NodeSnapshotError(`node snapshot: unreadable trades (${(e as Error).message})`);
  }
  if (!Number.isSafeInteger(parsed.from) || (parsed.from as number) < 1 || !Array.isArray(parsed.trades)) {
    throw new NodeSnapshotError('node snapshot: malformed trades section');
  }
  let last = 0;
  const trades = (parsed.trades as unknown[]).map((row): TradeView => {
    if (!Array.isArray(row) || row.length !== 11) throw new NodeSnapshotError('node snapshot: malformed trade');
    const [tradeId, symbol, price, quantity, buyOrderId, sellOrderId, buyerAccountId, sellerAccountId, aggressorSide, logIndex, timestampMs] = row as TradeRow;
    if (!Number.isSafeInteger(logIndex) || logIndex < last || logIndex < (parsed.from as number)) throw new NodeSnapshotError('node snapshot: trades out of order');
    last = logIndex;
    return { tradeId, symbol, price, quantity, buyOrderId, sellOrderId, buyerAccountId, sellerAccountId, aggressorSide, logIndex, timestampMs };
  });
  return { exchange, trades: { from: parsed.from as number, trades } };
}
