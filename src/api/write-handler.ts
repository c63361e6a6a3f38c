/** The shape shared by a unary write call and one write of an OrderEntry session. */
import type { RequestOf, ResponseOf, UnaryMethod } from './leader-forwarder.js';

/** Where a write came from: its message, how often it was forwarded already, its deadline (epoch ms). */
export interface WriteOrigin<M extends UnaryMethod> {
  readonly request: RequestOf<M>;
  readonly hops: number;
  readonly deadlineMs: number;
}

/** One write: validated, submitted (or forwarded), then exactly one of `succeed` / `fail` is called. */
export type WriteHandler<M extends UnaryMethod> = (
  origin: WriteOrigin<M>,
  succeed: (response: ResponseOf<M>) => void,
  fail: (e: unknown) => void,
) => void;
