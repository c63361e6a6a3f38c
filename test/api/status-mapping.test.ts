import { describe, expect, it } from 'vitest';
import { Metadata, status } from '@grpc/grpc-js';
import {
  clip, invalidArgument, notFound, withWireFieldNames, rejectReasonTrailer, rejected, resumeFromMetadataKey, statusMessageMax, toServiceError,
} from '../../src/api/status-mapping.js';
import { DeadlineError, NotLeaderError, OverloadedError, TradeHistoryTrimmedError, UnavailableError } from '../../src/node/exchange-node-api.js';
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

  it('a trimmed trade history is OUT_OF_RANGE with the index to resume from in a trailer', () => {
    const e = toServiceError(new TradeHistoryTrimmedError('older trades are no longer kept; this node can resume from log index 42', 42));
    expect(e.code).toBe(status.OUT_OF_RANGE);
    expect(e.details).toMatch(/resume from log index 42/);
    expect(e.metadata?.get(resumeFromMetadataKey)).toEqual(['42']);
  });

  it("relays a leader's status unchanged", () => {
    const md = new Metadata();
    md.set(rejectReasonTrailer, 'unknownSymbol');
    const e = toServiceError({ code: status.FAILED_PRECONDITION, details: 'unknownSymbol: XYZ', metadata: md });
    expect([e.code, e.details, e.metadata?.get(rejectReasonTrailer)]).toEqual([status.FAILED_PRECONDITION, 'unknownSymbol: XYZ', ['unknownSymbol']]);
  });

  it('names request fields as the proto does', () => {
    expect(withWireFieldNames('clientOrderId must be 1-64 characters from [A-Za-z0-9._:-]')).toBe('client_order_id must be 1-64 characters from [A-Za-z0-9._:-]');
    expect(withWireFieldNames('accountId must be ...; requestId too; quantity stays')).toBe('account_id must be ...; request_id too; quantity stays');
  });

  it('never sends a huge message back', () => {
    const e = toServiceError(invalidArgument(`bad value ${'x'.repeat(1 << 20)}`));
    expect(e.details?.length).toBeLessThanOrEqual(statusMessageMax);
    expect(clip('short')).toBe('short');
  });
});
