/**
 * The run's trace: a bounded ring of the most recent events (printed when a seed fails) and a
 * digest over every event (two runs of one seed must produce the same digest: determinism).
 * Messages are stored as objects and formatted only when the trace is printed.
 */
import type { Message, NodeId } from '../../src/raft/types.js';
import { assertNever } from '../../src/raft/assert.js';

/** How many recent events the trace keeps by default (a failing seed prints up to this many). */
export const traceEventsMax = 400;

type TraceEvent =
  | { readonly kind: 'deliver'; readonly tick: number; readonly message: Message }
  | { readonly kind: 'note'; readonly tick: number; readonly node: NodeId | null; readonly text: string };

/** A ring buffer of recent events plus a running FNV-1a digest of all of them. */
export class SimTrace {
  private readonly ring: TraceEvent[] = [];
  private head = 0;
  private hash = 0x811c9dc5;
  /** Events recorded in total. */
  count = 0;

  /** Keep the most recent `capacity` events. */
  constructor(private readonly capacity = traceEventsMax) {}

  /** A message was delivered. */
  deliver(tick: number, message: Message): void {
    this.mix(tick);
    this.mix(message.type.length + message.term * 31);
    this.mixString(message.from);
    this.mixString(message.to);
    this.push({ kind: 'deliver', tick, message });
  }

  /** A free-form event: a fault, a role change, a proposal. */
  note(tick: number, node: NodeId | null, text: string): void {
    this.mix(tick);
    this.mixString(text);
    this.push({ kind: 'note', tick, node, text });
  }

  /** The digest of every event so far: equal digests mean (with overwhelming odds) equal runs. */
  get digest(): string {
    return (this.hash >>> 0).toString(16).padStart(8, '0') + ':' + this.count;
  }

  /**
   * The most recent `max` events, oldest first, formatted one per line; with `focus`, only those
   * involving that node (its messages either way, its notes, and cluster-wide notes).
   */
  lines(max = this.capacity, focus: NodeId | null = null): string[] {
    const ordered = this.ring.length < this.capacity
      ? this.ring
      : [...this.ring.slice(this.head), ...this.ring.slice(0, this.head)];
    const kept = focus === null ? ordered : ordered.filter((e) => involves(e, focus));
    return kept.slice(Math.max(0, kept.length - max)).map(formatEvent);
  }

  private push(e: TraceEvent): void {
    this.count++;
    if (this.ring.length < this.capacity) {
      this.ring.push(e);
    } else {
      this.ring[this.head] = e;
      this.head = (this.head + 1) % this.capacity;
    }
  }

  private mix(n: number): void {
    this.hash = Math.imul(this.hash ^ (n | 0), 0x01000193);
  }

  private mixString(s: string): void {
    for (let i = 0; i < s.length; i++) this.mix(s.charCodeAt(i));
  }
}

function involves(e: TraceEvent, node: NodeId): boolean {
  switch (e.kind) {
    case 'deliver':
      return e.message.from === node || e.message.to === node;
    case 'note':
      return e.node === null || e.node === node;
    default:
      return assertNever(e);
  }
}

function formatEvent(e: TraceEvent): string {
  const t = `t=${String(e.tick).padStart(5)}`;
  switch (e.kind) {
    case 'deliver':
      return `${t} ${formatMessage(e.message)}`;
    case 'note':
      return `${t} ${e.node ?? '*'} ${e.text}`;
    default:
      return assertNever(e);
  }
}

/** One line per message, in the style of etcd's interaction traces. */
export function formatMessage(m: Message): string {
  const head = `${m.from}->${m.to}`;
  switch (m.type) {
    case 'requestVote':
      return `${head} ${m.preVote ? 'PreVote' : 'Vote'} term=${m.term} last=${m.lastLogIndex}/${m.lastLogTerm}`;
    case 'requestVoteResponse':
      return `${head} ${m.preVote ? 'PreVoteResp' : 'VoteResp'} term=${m.term} ${m.voteGranted ? 'granted' : 'REJECTED'}`;
    case 'appendEntries': {
      const es = m.entries.length === 0 ? '' : ` entries=[${m.entries.map((x) => `${x.index}/${x.term}`).join(',')}]`;
      return `${head} App term=${m.term} prev=${m.prevLogIndex}/${m.prevLogTerm} commit=${m.leaderCommit} round=${m.round}${es}`;
    }
    case 'appendEntriesResponse':
      return m.success
        ? `${head} AppResp term=${m.term} ok match=${m.matchIndex} (prev=${m.prevLogIndex} n=${m.entryCount})`
        : `${head} AppResp term=${m.term} REJECT hint=${m.conflictIndex}/${m.conflictTerm} (prev=${m.prevLogIndex})`;
    case 'installSnapshot':
      return `${head} Snap term=${m.term} snapshot=${m.meta.index}/${m.meta.term}`;
    case 'timeoutNow':
      return `${head} TimeoutNow term=${m.term}`;
    case 'installSnapshotResponse':
      return `${head} SnapResp term=${m.term} ${m.success ? 'ok' : 'FAILED'} snapshot=${m.snapshotIndex} match=${m.matchIndex}`;
    default:
      return assertNever(m);
  }
}
