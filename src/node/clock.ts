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

/**
 * The documented defaults of `raftex node`. A crashed leader is not waited out: its followers'
 * connections to it drop and they campaign at once (RaftNode.leaderUnreachable), so
 * `npm run bench:failover` needs no shorter timeout (p99 ~160 ms at these values). The timeout
 * only matters when a leader goes silent without its connections dropping (partition, stall),
 * and 150 ms was too short for that: under a saturating load (bench:cluster, 256 clients on 2
 * cores) event-loop stalls of 150-300 ms (seen around snapshots) made followers depose a healthy
 * leader about once a minute; none at 300 ms.
 */
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

/**
 * Extra ticks one timer firing may deliver to catch up. setInterval re-arms from when its callback
 * ran, so on a loaded box every late firing is lost time: ticks measured ~12% slow under the
 * failover bench, stretching every election timeout by as much. Catching up at most this many
 * extra ticks per firing keeps Raft time close to wall time without a burst of ticks after a
 * stall (a burst, counted before the stalled I/O is read, could time out a follower whose
 * heartbeats are waiting in the socket).
 */
export const tickCatchUpMax = 1;
/**
 * Ticks still owed beyond which the rest is forgiven: a long stall (GC, suspended process) is not
 * counted as Raft time, as before; only steady lateness is.
 */
export const tickDebtMax = 5;

/**
 * Calls `onTick` about every `tickMs` until stopped, catching up on late firings within the limits
 * above. The handle is unref'd: a clock alone keeps no process alive.
 */
export class Clock {
  private timer: ReturnType<typeof setInterval> | null = null;
  /** The tick scheduled for after the next poll phase (see start), or null. */
  private pending: ReturnType<typeof setImmediate> | null = null;
  private startedAt = 0;
  /** Ticks delivered since start (including forgiven ones). */
  private delivered = 0;

  constructor(
    private readonly tickMs: number,
    private readonly onTick: () => void,
    /** Milliseconds, monotonic; injectable for tests. */
    private readonly now: () => number = () => performance.now(),
  ) {
    assert(tickMs >= 1, `tick must be >= 1 ms, got ${tickMs}`);
  }

  start(): void {
    assert(this.timer === null, 'clock already started');
    this.startedAt = this.now();
    this.delivered = 0;
    // The tick runs in the check phase (setImmediate), after the poll phase: when the event loop
    // was stalled, the timer is due at once, and ticking right then would count the stall against
    // peers whose messages are already waiting in the sockets (a leader's check-quorum, a
    // follower's election timer). Deferring to setImmediate lets those messages be read first.
    this.timer = setInterval(() => {
      if (this.pending !== null) return;
      this.pending = setImmediate(() => {
        this.pending = null;
        if (this.timer !== null) this.fire();
      });
      this.pending.unref();
    }, this.tickMs);
    this.timer.unref();
  }

  /** One timer firing: at least one tick (as a plain interval would), more if we fell behind. */
  fire(): void {
    const due = Math.floor((this.now() - this.startedAt) / this.tickMs);
    if (due - this.delivered > tickDebtMax) this.delivered = due - tickDebtMax;
    const count = Math.max(1, Math.min(due - this.delivered, 1 + tickCatchUpMax));
    this.delivered += count;
    for (let i = 0; i < count && this.timer !== null; i++) this.onTick();
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    if (this.pending !== null) clearImmediate(this.pending);
    this.timer = null;
    this.pending = null;
  }

  get running(): boolean {
    return this.timer !== null;
  }
}
