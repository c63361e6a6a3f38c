/**
 * A seeded generator of malformed and hostile client requests: wrong types, huge strings,
 * NaN/Infinity/exponent decimals, negatives, unknown enums, garbage bytes. Every request it makes
 * here is MALFORMED: the contract answers INVALID_ARGUMENT (or RESOURCE_EXHAUSTED for oversized
 * messages) without touching the log. Business-hostile requests (unknown accounts/orders, another
 * account's order) live in `businessHostile`.
 */
import type { Prng } from '../chaos/prng.js';

export type HostileRequest =
  | { readonly kind: 'typed'; readonly method: string; readonly request: Record<string, unknown> }
  /** Raw bytes sent as the request body of `method` (not valid for its message type). */
  | { readonly kind: 'raw'; readonly method: string; readonly bytes: Buffer };

const badDecimals = ['NaN', 'Infinity', '-Infinity', '1e3', '1E-2', '-5', '-0.01', '0', '0.00', '', ' 1', '1 ', '+1',
  '1.', '.5', '0x10', '1,5', '１', '1.001', '99999999999999999999999999', '1.2.3', 'abc', '١٢', '1e', '∞', '\u0000',
  '9'.repeat(400), '0.000000000000000000001', '1_000'];
const badIds = ['', ' ', 'a b', 'ü', 'x'.repeat(65), 'a/b', 'a\nb', '💥', '\u0000', 'x'.repeat(1 << 20)];
const badSymbols = ['', 'aapl', 'AAPL ', 'A'.repeat(17), 'AA-PL', '\u0000', 'x'.repeat(1 << 20)];
const writeMethods = ['Deposit', 'Withdraw', 'SubmitOrder', 'CancelOrder', 'ReduceOrder'] as const;

function validOrder(rng: Prng): Record<string, unknown> {
  return { accountId: `hostile-${rng.int(5)}`, clientOrderId: `h-${rng.int(1e9)}`, symbol: 'AAPL', side: 1, type: 1,
    quantity: '1', price: '10.00', timeInForce: 0 };
}

/** One malformed request (never valid: each draw breaks at least one rule). */
export function malformedRequest(rng: Prng): HostileRequest {
  const method = rng.pick(writeMethods);
  const r = rng.int(100);
  if (r < 8) {
    // Garbage or wrong-wire-type bytes.
    const len = rng.int(64);
    const bytes = Buffer.alloc(len);
    for (let i = 0; i < len; i++) bytes[i] = rng.int(256);
    // A varint where a string is expected for field 1, then random bytes.
    return { kind: 'raw', method, bytes: Buffer.concat([Buffer.from([0x08, 0x96, 0x01]), bytes]) };
  }
  switch (method) {
    case 'Deposit':
    case 'Withdraw': {
      const req: Record<string, unknown> = { accountId: 'hostile-1', asset: 'USD', amount: '10.00', requestId: `h-${rng.int(1e9)}` };
      const field = rng.pick(['accountId', 'asset', 'amount', 'requestId'] as const);
      req[field] = field === 'amount' ? rng.pick(badDecimals) : field === 'asset' ? rng.pick(badSymbols) : rng.pick(badIds);
      return { kind: 'typed', method, request: req };
    }
    case 'SubmitOrder': {
      const req = validOrder(rng);
      switch (rng.int(9)) {
        case 0: req.quantity = rng.pick(badDecimals); break;
        case 1: req.price = rng.pick(badDecimals); break;
        case 2: req.side = rng.pick([0, 3, 99, -1]); break;
        case 3: req.type = rng.pick([0, 3, 77]); break;
        case 4: req.timeInForce = rng.pick([4, 9, 1000]); break;
        case 5: req.type = 2; req.price = '10.00'; break; // market with a price
        case 6: req.type = 2; req.price = ''; req.timeInForce = 1; break; // market GTC
        case 7: req.accountId = rng.pick(badIds); break;
        default: req.clientOrderId = rng.pick(badIds); break;
      }
      return { kind: 'typed', method, request: req };
    }
    case 'CancelOrder':
      return { kind: 'typed', method, request: rng.int(2) ? { accountId: rng.pick(badIds), orderId: 'O1' } : { accountId: 'hostile-1', orderId: rng.pick(badIds) } };
    case 'ReduceOrder':
      return { kind: 'typed', method, request: rng.int(2)
        ? { accountId: 'hostile-1', orderId: 'O1', quantity: rng.pick(badDecimals) }
        : { accountId: rng.pick(badIds), orderId: 'O1', quantity: '1' } };
    default: {
      const never: never = method;
      throw new Error(String(never));
    }
  }
}
