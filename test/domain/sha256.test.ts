/** The pure-TS SHA-256 against FIPS 180-4 vectors and node:crypto. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../domain/index.js';
import { SeededRng } from '../../src/raft/rng.js';

const seed = Number(process.env.SEED ?? 7);

describe('sha256Hex', () => {
  it('matches the standard vectors', () => {
    const enc = new TextEncoder();
    expect(sha256Hex(new Uint8Array())).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(sha256Hex(enc.encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(enc.encode('abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq')))
      .toBe('248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1');
  });

  it(`matches node:crypto on every length around block boundaries (SEED=${seed})`, () => {
    const rng = new SeededRng(seed);
    for (let n = 0; n < 300; n++) {
      const data = Uint8Array.from({ length: n }, () => rng.nextInt(256));
      const expected = createHash('sha256').update(data).digest('hex');
      if (sha256Hex(data) !== expected) throw new Error(`SEED=${seed}: length ${n} differs`);
    }
  });
});
