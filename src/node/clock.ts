/**
 * The node's only periodic timer. Raft counts time in ticks; this file decides how many
 * milliseconds a tick is and converts the operator's millisecond options into tick counts.
 *
 * Mapping (documented choice): one tick is `tickMsMax` (10 ms) or the heartbeat interval if that
 * is shorter, so `--heartbeat-ms 50 --election-timeout-ms 300` becomes tick = 10 ms,
 * heartbeatTicks = 5, electionTicks = 30 (the core randomizes the timeout in [30, 60) ticks,
 * i.e. 300-600 ms). A finer tick would only burn CPU on a 2-core box; a coarser one would
 * round the heartbeat badly.
 */
import { assert } from '../raft/assert.js';

/** The longest tick we use; short enough that deadlines and heartbeats are not visibly rounded. */
export const tickMsMax = 10;

/** The millisecond timing options of `raftex node`. */
export interface TimingOptions {
  readonly electionTimeoutMs: number;
  readonly heartbeatMs: number;
}

/** The same timing expressed for the Raft core. */
export interface TickTiming {
  readonly tickMs: number;
  readonly heartbeatTicks: number;
  readonly electionTicks: number;
}

/** The documented defaults of `raftex node`. */
export const defaultTiming: TimingOptions = { electionTimeoutMs: 300, heartbeatMs: 50 };

/** Converts millisecond options into ticks; rejects settings Raft cannot work with. */
export function ticksFor(options: TimingOptions): TickTiming {
  const { electionTimeoutMs, heartbeatMs } = options;
  assert(Number.isInteger(heartbeatMs) && heartbeatMs >= 1, `heartbeat-ms must be a positive integer, got ${heartbeatMs}`);
  assert(Number.isInteger(electionTimeoutMs), `election-timeout-ms must be an integer, got ${electionTimeoutMs}`);
  // A follower must see several heartbeats per election timeout or it campaigns against a live leader.
  assert(electionTimeoutMs >= 2 * heartbeatMs, `election-timeout-ms (${electionTimeoutMs}) must be at least 2x heartbeat-ms (${heartbeatMs})`);
  const tickMs = Math.min(tickMsMax, heartbeatMs);
  const heartbeatTicks = Math.max(1, Math.round(heartbeatMs / tickMs));
  const electionTicks = Math.max(heartbeatTicks + 1, Math.round(electionTimeoutMs / tickMs));
  return { tickMs, heartbeatTicks, electionTicks };
}

/** Calls `onTick` every `tickMs` until stopped. The handle is unref'd: a clock alone keeps no process alive. */
export class Clock {
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly tickMs: number, private readonly onTick: () => void) {
    assert(tickMs >= 1, `tick must be >= 1 ms, got ${tickMs}`);
  }

  start(): void {
    assert(this.timer === null, 'clock already started');
    this.timer = setInterval(this.onTick, this.tickMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  get running(): boolean {
    return this.timer !== null;
  }
}
