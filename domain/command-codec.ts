/**
 * Commands <-> log entry bytes. Deterministic and compact: a version byte, a tag byte, then the
 * fields in a fixed order, strings as a varint byte length plus UTF-8. Equal commands always give
 * equal bytes, so replicas hash and compare entries byte for byte. Decoding is strict: anything
 * that is not exactly one well-formed command throws `DecodeError` (the log holds only what
 * `encodeCommand` wrote, so garbage means corruption or a version mismatch).
 */
import { assertNever } from './assert.js';
import type { Command, OrderType, Side, TimeInForce } from './types.js';

/** The codec version written into every entry. */
export const commandCodecVersion = 1;
/** Longest string field, in UTF-8 bytes (ids are at most 64 characters, decimals 40). */
export const codecStringBytesMax = 255;

/** The bytes are not a command this codec wrote. */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

const tags = { deposit: 1, withdraw: 2, placeOrder: 3, cancelOrder: 4, reduceOrder: 5 } as const;
const sideCodes: readonly Side[] = ['buy', 'sell'];
const orderTypeCodes: readonly OrderType[] = ['limit', 'market'];
const tifCodes: readonly TimeInForce[] = ['gtc', 'ioc', 'fok'];

const utf8 = new TextEncoder();
const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Longest encoded command: version, tag, three enum bytes, a price flag and at most four strings
 * of codecStringBytesMax bytes behind a two-byte length.
 */
const encodedBytesMax = 6 + 4 * (2 + codecStringBytesMax);

/**
 * Writes into one reused scratch buffer and copies the result out: no per-byte array pushes and,
 * for ASCII strings (every id and decimal validation lets through), no TextEncoder allocation.
 * encodeCommand runs once per write on the leader. Not reentrant, and it never needs to be:
 * encoding is synchronous.
 */
class Writer {
  private static readonly scratch = new Uint8Array(encodedBytesMax);
  private readonly bytes = Writer.scratch;
  private pos = 0;

  byte(b: number): void {
    this.bytes[this.pos++] = b;
  }

  string(s: string): void {
    const n = s.length;
    let ascii = n <= codecStringBytesMax;
    for (let i = 0; ascii && i < n; i++) if (s.charCodeAt(i) >= 0x80) ascii = false;
    if (ascii) {
      this.length(n);
      const bytes = this.bytes;
      let pos = this.pos;
      for (let i = 0; i < n; i++) bytes[pos++] = s.charCodeAt(i);
      this.pos = pos;
      return;
    }
    const b = utf8.encode(s);
    if (b.length > codecStringBytesMax) throw new RangeError(`codec: string field longer than ${codecStringBytesMax} bytes`);
    this.length(b.length);
    this.bytes.set(b, this.pos);
    this.pos += b.length;
  }

  private length(n: number): void {
    while (n >= 0x80) {
      this.bytes[this.pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.bytes[this.pos++] = n;
  }

  finish(): Uint8Array {
    return this.bytes.slice(0, this.pos);
  }
}

class Reader {
  private pos = 0;

  constructor(private readonly bytes: Uint8Array) {}

  byte(): number {
    const b = this.bytes[this.pos];
    if (b === undefined) throw new DecodeError('truncated command');
    this.pos++;
    return b;
  }

  string(): string {
    let n = 0;
    for (let shift = 0; ; shift += 7) {
      if (shift > 14) throw new DecodeError('string length too long');
      const b = this.byte();
      n |= (b & 0x7f) << shift;
      if ((b & 0x80) === 0) break;
    }
    if (n > codecStringBytesMax) throw new DecodeError('string field too long');
    if (this.pos + n > this.bytes.length) throw new DecodeError('truncated string');
    const slice = this.bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    try {
      return utf8Strict.decode(slice);
    } catch {
      throw new DecodeError('string field is not UTF-8');
    }
  }

  code<T>(table: readonly T[], what: string): T {
    const v = table[this.byte()];
    if (v === undefined) throw new DecodeError(`bad ${what} code`);
    return v;
  }

  end(): void {
    if (this.pos !== this.bytes.length) throw new DecodeError('trailing bytes after command');
  }
}

function codeOf<T>(table: readonly T[], value: T, what: string): number {
  const i = table.indexOf(value);
  if (i < 0) throw new RangeError(`codec: bad ${what} ${String(value)}`);
  return i;
}

/** Deterministic bytes for the log. Throws RangeError only for fields no validated command has. */
export function encodeCommand(c: Command): Uint8Array {
  const w = new Writer();
  w.byte(commandCodecVersion);
  w.byte(tags[c.type]);
  switch (c.type) {
    case 'deposit':
    case 'withdraw':
      w.string(c.accountId);
      w.string(c.asset);
      w.string(c.amount);
      w.string(c.requestId);
      break;
    case 'placeOrder':
      w.string(c.accountId);
      w.string(c.clientOrderId);
      w.string(c.symbol);
      w.byte(codeOf(sideCodes, c.side, 'side'));
      w.byte(codeOf(orderTypeCodes, c.orderType, 'order type'));
      w.byte(codeOf(tifCodes, c.timeInForce, 'time in force'));
      w.string(c.quantity);
      w.byte(c.price === null ? 0 : 1);
      if (c.price !== null) w.string(c.price);
      break;
    case 'cancelOrder':
      w.string(c.accountId);
      w.string(c.orderId);
      break;
    case 'reduceOrder':
      w.string(c.accountId);
      w.string(c.orderId);
      w.string(c.quantity);
      break;
    default:
      assertNever(c);
  }
  return w.finish();
}

/** The command `encodeCommand` wrote; throws DecodeError on anything else. */
export function decodeCommand(b: Uint8Array): Command {
  if (!(b instanceof Uint8Array)) throw new DecodeError('not bytes');
  const r = new Reader(b);
  const version = r.byte();
  if (version !== commandCodecVersion) throw new DecodeError(`unknown codec version ${version}`);
  const tag = r.byte();
  let c: Command;
  switch (tag) {
    case tags.deposit:
    case tags.withdraw:
      c = { type: tag === tags.deposit ? 'deposit' : 'withdraw', accountId: r.string(), asset: r.string(), amount: r.string(), requestId: r.string() };
      break;
    case tags.placeOrder: {
      const accountId = r.string();
      const clientOrderId = r.string();
      const symbol = r.string();
      const side = r.code(sideCodes, 'side');
      const orderType = r.code(orderTypeCodes, 'order type');
      const timeInForce = r.code(tifCodes, 'time in force');
      const quantity = r.string();
      const hasPrice = r.byte();
      if (hasPrice > 1) throw new DecodeError('bad price flag');
      const price = hasPrice === 1 ? r.string() : null;
      c = { type: 'placeOrder', accountId, clientOrderId, symbol, side, orderType, timeInForce, quantity, price };
      break;
    }
    case tags.cancelOrder:
      c = { type: 'cancelOrder', accountId: r.string(), orderId: r.string() };
      break;
    case tags.reduceOrder:
      c = { type: 'reduceOrder', accountId: r.string(), orderId: r.string(), quantity: r.string() };
      break;
    default:
      throw new DecodeError(`unknown command tag ${tag}`);
  }
  r.end();
  return c;
}
