/**
 * The byte-level vocabulary of the binary snapshot (snapshot.ts): unsigned varints, raw strings,
 * interned strings and a CRC-32 trailer. Pure (the domain may not import node:zlib).
 *
 * Interning: `writeInterned` writes a string the first time as (new id, bytes) and afterwards as
 * its id alone. Ids are handed out in first-use order, which is a function of the state being
 * written, so equal states give equal bytes. Account ids, symbols, prices, quantities, statuses
 * repeat across hundreds of thousands of records: each costs a byte or two after the first.
 */
import { fail } from './assert.js';

/** The writer's first buffer; it doubles as needed. */
const writerBytesInitial = 64 * 1024;
/** Strings decoded with String.fromCharCode in one call at most this long (else TextDecoder). */
const asciiFastMax = 64;

const crcTable = ((): Uint32Array => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE, as zlib's) of `bytes[0, end)`. */
export function crc32(bytes: Uint8Array, end: number = bytes.length): number {
  let c = 0xffffffff;
  for (let i = 0; i < end; i++) c = crcTable[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Appends snapshot fields to a growing buffer. */
export class ByteWriter {
  private buf = new Uint8Array(writerBytesInitial);
  private pos = 0;
  private readonly internIds = new Map<string, number>();

  private room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  byte(b: number): void {
    this.room(1);
    this.buf[this.pos++] = b;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** A non-negative safe integer, 7 bits a byte, low first. */
  uint(v: number): void {
    if (!(Number.isSafeInteger(v) && v >= 0)) fail(`snapshot: ${v} is not a non-negative safe integer`);
    this.room(8);
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v % 0x80) | 0x80;
      v = Math.floor(v / 0x80);
    }
    buf[this.pos++] = v;
  }

  /** Length-prefixed UTF-8. */
  str(s: string): void {
    const n = s.length;
    let ascii = true;
    for (let i = 0; i < n; i++) {
      if (s.charCodeAt(i) >= 0x80) {
        ascii = false;
        break;
      }
    }
    if (!ascii) {
      const b = encoder.encode(s);
      this.uint(b.length);
      this.bytes(b);
      return;
    }
    this.uint(n);
    this.room(n);
    const buf = this.buf;
    for (let i = 0; i < n; i++) buf[this.pos++] = s.charCodeAt(i);
  }

  /** A string likely to repeat: its id, plus its bytes the first time. */
  interned(s: string): void {
    const id = this.internIds.get(s);
    if (id !== undefined) {
      this.uint(id);
      return;
    }
    const next = this.internIds.size;
    this.internIds.set(s, next);
    this.uint(next);
    this.str(s);
  }

  /** The bytes written, followed by their CRC-32 (little-endian). */
  finish(): Uint8Array {
    const crc = crc32(this.buf, this.pos);
    this.room(4);
    for (let i = 0; i < 4; i++) this.buf[this.pos++] = (crc >>> (8 * i)) & 0xff;
    return this.buf.slice(0, this.pos);
  }
}

/** Reads what a ByteWriter wrote; any read past the end fails. */
export class ByteReader {
  private pos = 0;
  private readonly strings: string[] = [];
  private readonly end: number;

  /** Checks the CRC-32 trailer first: past that, the structure is trusted (bounds still checked). */
  constructor(private readonly buf: Uint8Array) {
    if (buf.length < 4) fail('snapshot: truncated');
    this.end = buf.length - 4;
    const stored = (buf[this.end]! | (buf[this.end + 1]! << 8) | (buf[this.end + 2]! << 16) | (buf[this.end + 3]! << 24)) >>> 0;
    if (crc32(buf, this.end) !== stored) fail('snapshot: checksum mismatch');
  }

  get done(): boolean {
    return this.pos === this.end;
  }

  byte(): number {
    if (this.pos >= this.end) fail('snapshot: truncated');
    return this.buf[this.pos++]!;
  }

  bytes(n: number): Uint8Array {
    if (this.pos + n > this.end) fail('snapshot: truncated');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  uint(): number {
    const buf = this.buf;
    let b = this.pos < this.end ? buf[this.pos++]! : fail('snapshot: truncated');
    if (b < 0x80) return b;
    let v = b & 0x7f;
    let scale = 0x80;
    for (;;) {
      b = this.pos < this.end ? buf[this.pos++]! : fail('snapshot: truncated');
      v += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
      if (scale > 2 ** 56) fail('snapshot: varint too long');
    }
    if (!Number.isSafeInteger(v)) fail('snapshot: varint out of range');
    return v;
  }

  str(): string {
    const n = this.uint();
    if (this.pos + n > this.end) fail('snapshot: truncated');
    const buf = this.buf;
    const start = this.pos;
    this.pos += n;
    if (n <= asciiFastMax) {
      let ascii = true;
      for (let i = start; i < start + n; i++) {
        if (buf[i]! >= 0x80) {
          ascii = false;
          break;
        }
      }
      if (ascii) return String.fromCharCode.apply(null, buf.subarray(start, start + n) as unknown as number[]);
    }
    return decoder.decode(buf.subarray(start, start + n));
  }

  interned(): string {
    const id = this.uint();
    const known = this.strings[id];
    if (known !== undefined) return known;
    if (id !== this.strings.length) fail(`snapshot: string id ${id} out of order`);
    const s = this.str();
    this.strings.push(s);
    return s;
  }
}
