import { describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import {
  clip, invalidArgument, notFound, rejectReasonTrailer, rejected, statusMessageMax, toServiceError,
} from '../../src/api/status-mapping.js';
import { DeadlineError, NotLeaderError, OverloadedError, UnavailableError } from '../../src/node/exchange-node-api.js';
import { AssertionError } from '../../src/raft/assert.js';

describe('toServiceError', () => {
  it.each([
    ['invalid argument', invalidArgument('amount must be > 0'), status.INVALID_ARGUMENT, /amount/],
    ['not found', notFound('unknown symbol XYZ'), status.NOT_FOUND, /XYZ/],
    ['no leader', new NotLeaderError(null, null), status.UNAVAILABLE, /no leader/],
    ['unavailable', new UnavailableError('leadership lost'), status.UNAVAILABLE, /leadership lost/],
    ['deadline', new DeadlineError('too slow'), status.DEADLINE_EXCEEDED, /too slow/],
    ['overloaded', new OverloadedError('queue full'), status.RESOURCE_EXHAUSTED, /queue full/],
    ['bug', new AssertionError('broken'), status.INTERNAL, /broken/],
    ['anything else', new TypeError('oops'), status.INTERNAL, /oops/],
  ])('%s', (_name, error, code, message) => {
    const e = toServiceError(error);
    expect(e.code).toBe(code);
    expect(e.details).toMatch(message);
  });

  it('a rejection is FAILED_PRECONDITION with the reason first and in a trailer', () => {
    const e = toServiceError(rejected('insufficientFunds', 'needs 100 USD, has 5', 12));
    expect(e.code).toBe(status.FAILED_PRECONDITION);
    expect(e.details).toBe('insufficientFunds: needs 100 USD, has 5');
    expect(e.metadata?.get(rejectReasonTrailer)).toEqual(['insufficientFunds']);
  });

  it("relays a leader's status unchanged", () => {
    const md = new Metadata();
    md.set(rejectReasonTrailer, 'unknownSymbol');
    const e = toServiceError({ code: status.FAILED_PRECONDITION, details: 'unknownSymbol: XYZ', metadata: md });
    expect([e.code, e.details, e.metadata?.get(rejectReasonTrailer)]).toEqual([status.FAILED_PRECONDITION, 'unknownSymbol: XYZ', ['unknownSymbol']]);
  });

  it('never sends a huge message back', () => {
    const e = toServiceError(invalidArgument(`bad value ${'x'.repeat(1 << 20)}`));
    expect(e.details?.length).toBeLessThanOrEqual(statusMessageMax);
    expect(clip('short')).toBe('short');
  });
});
