/**
 * Which configuration is in effect at each point of the log. A configuration takes effect when
 * its `config` entry is appended (committed or not) and reverts when that entry is truncated, so
 * the node's configuration is the latest config entry it holds, else the one its snapshot
 * recorded, else the initial voters of its RaftConfig. The LogManager reports every append,
 * truncation, compaction and snapshot install here, keeping this in step with the log.
 */
import { assert } from './assert.js';
import { decodeMembership, isVoter, learnerIds, memberIds, voterIds, type Membership } from './membership.js';
import type { LogEntry, LogIndex, NodeId } from './types.js';

/** One config entry held in the log. */
interface ConfigRecord {
  readonly index: LogIndex;
  readonly membership: Membership;
}

export class MembershipLog {
  /** The configuration in effect at `baseIndex` (the log's compacted prefix ends there). */
  private base: Membership;
  private baseIndex: LogIndex;
  /** Config entries above baseIndex, ascending by index. */
  private readonly records: ConfigRecord[] = [];
  /** Cached id lists of the current configuration (read on every ack by the commit rule). */
  private voterIdsCache: readonly NodeId[] = [];
  private learnerIdsCache: readonly NodeId[] = [];

  constructor(base: Membership, baseIndex: LogIndex) {
    this.base = base;
    this.baseIndex = baseIndex;
    this.refresh();
  }

  /** The configuration in effect: the latest config entry held, else the base. */
  current(): Membership {
    return this.records.at(-1)?.membership ?? this.base;
  }

  /** Index of the latest config entry held, or 0 when the base is in effect (it is committed). */
  latestIndex(): LogIndex {
    return this.records.at(-1)?.index ?? 0;
  }

  /** Voter ids of the current configuration (sorted; shared, do not modify). */
  voters(): readonly NodeId[] {
    return this.voterIdsCache;
  }

  learners(): readonly NodeId[] {
    return this.learnerIdsCache;
  }

  /** Every member of the current configuration but `self`: whom a leader replicates to. */
  othersThan(self: NodeId): NodeId[] {
    return memberIds(this.current()).filter((id) => id !== self);
  }

  isVoter(id: NodeId): boolean {
    return isVoter(this.current(), id);
  }

  isMember(id: NodeId): boolean {
    return this.voterIdsCache.includes(id) || this.learnerIdsCache.includes(id);
  }

  /** The configuration in effect at `index` (index >= the log's compacted prefix). */
  at(index: LogIndex): Membership {
    assert(index >= this.baseIndex, `configuration at ${index} is compacted (log starts after ${this.baseIndex})`);
    let found = this.base;
    for (const record of this.records) {
      if (record.index > index) break;
      found = record.membership;
    }
    return found;
  }

  /** An entry was appended at the end of the log. */
  appended(entry: LogEntry): void {
    if (entry.type !== 'config') return;
    const last = this.records.at(-1);
    assert(entry.index > this.baseIndex && (last === undefined || entry.index > last.index), `config entry ${entry.index} out of order`);
    // Bytes from the leader were validated on receipt and our own are encoded by us: a throw here is corruption.
    this.records.push({ index: entry.index, membership: decodeMembership(entry.data) });
    this.refresh();
  }

  /** Entries from `index` on were dropped: their configurations no longer apply. */
  truncatedFrom(index: LogIndex): void {
    const before = this.records.length;
    while ((this.records.at(-1)?.index ?? 0) >= index) this.records.pop();
    if (this.records.length !== before) this.refresh();
  }

  /** The log's prefix up to `index` was compacted: fold its configurations into the base. */
  compactedTo(index: LogIndex): void {
    if (index <= this.baseIndex) return;
    this.base = this.at(index);
    this.baseIndex = index;
    while ((this.records[0]?.index ?? Infinity) <= index) this.records.shift();
  }

  /**
   * A snapshot at `index` recording `membership` replaced the log up to there (the caller
   * truncated any conflicting suffix first). Config entries after it stay in effect.
   */
  snapshotInstalled(index: LogIndex, membership: Membership): void {
    this.base = membership;
    this.baseIndex = index;
    while ((this.records[0]?.index ?? Infinity) <= index) this.records.shift();
    this.refresh();
  }

  private refresh(): void {
    this.voterIdsCache = voterIds(this.current());
    this.learnerIdsCache = learnerIds(this.current());
  }
}
