/**
 * RaftNode: the pure Raft state machine. It is driven only by `tick()`, `step()`, `propose()` and
 * `readIndex()`, and hands everything it wants done to its driver as one `Ready` batch (persist,
 * then send, then apply, then `advance()`). No I/O, no clock, no randomness but the injected Rng.
 */
import { assert, assertNever } from './assert.js';
import { validateRaftConfig, type RaftConfig } from './config.js';
import { ElectionModule, VoteTally, grantsVote } from './election-module.js';
import {
  broadcastHeartbeat,
  confirmReads,
  flushAppends,
  handleAppendResponse,
  handleSnapshotResponse,
  hasActiveQuorum,
  maybeCommit,
  newLeaderRole,
  registerRead,
  type LeaderRole,
  type ReplicationHost,
} from './leader-replication.js';
import { LogManager } from './log-manager.js';
import { startTransfer, tickTransfer, type TransferResult } from './leadership-transfer.js';
import { encodeMembership, isVoter, type Membership, type MembershipChange } from './membership.js';
import { checkChange, pruneDeparted, removedAndCommitted, successorOf, syncProgress } from './membership-changes.js';
import { isValidMessage } from './message-validation.js';
import { ReadyBuilder } from './ready-builder.js';
import { acceptAppend } from './follower-replication.js';
import type { CandidateRole, MembershipProposeResult, ProposeResult, RaftStatus, ReadIndexResult, Role } from './roles.js';
import type { Rng } from './rng.js';
import type {
  AppendEntries,
  FollowerStatus,
  HardState,
  InstallSnapshot,
  LogIndex,
  Message,
  NodeId,
  RaftStorage,
  Ready,
  RequestVote,
  RequestVoteResponse,
  SnapshotMeta,
  Term,
} from './types.js';

export class RaftNode {
  readonly config: RaftConfig;
  private readonly log: LogManager;
  private readonly election: ElectionModule;
  /** Persistent: the latest term seen. Invariant: never decreases. */
  private term: Term;
  /** Persistent: whom this node voted for in `term`. Persisted before any reply that depends on it. */
  private votedFor: NodeId | null;
  private role: Role;
  /** Outbox, read states and the Ready/advance handshake. */
  private readonly output: ReadyBuilder;
  private readonly host: ReplicationHost;
  /** The newest durable snapshot (saved locally or installed from the leader), or null. */
  private snapshotMeta: SnapshotMeta | null;
  /** The (pre-)vote request of the current campaign, without its addressee (see resendVoteRequests). */
  private campaignRequest: Omit<RequestVote, 'to'> | null = null;

  constructor(config: RaftConfig, storage: RaftStorage, rng: Rng) {
    validateRaftConfig(config);
    this.config = { ...config, voters: [...config.voters] };
    const hardState = storage.hardState();
    this.log = new LogManager(storage, this.config.voters);
    this.snapshotMeta = storage.snapshot();
    this.output = new ReadyBuilder(hardState);
    this.term = hardState.term;
    this.votedFor = hardState.votedFor;
    if (this.log.lastTerm() > this.term) {
      // A torn Ready kept entries of a newer term but not its hard state. No vote in that term
      // was sent (replies wait for the persist), so adopting the term with no vote is safe.
      this.term = this.log.lastTerm();
      this.votedFor = null;
    }
    this.election = new ElectionModule(config.electionTicks, rng);
    this.role = { kind: 'follower', leaderId: null };
    this.host = {
      config: this.config,
      log: this.log,
      currentTerm: () => this.term,
      voters: () => this.log.membership.voters(),
      latestSnapshot: () => this.snapshotMeta,
      send: (message) => this.output.send(message),
      emitReadStates: (states) => this.output.emitReadStates(states),
    };
  }

  // ---- inputs -------------------------------------------------------------------------------

  /** One unit of logical time: election timeout on followers/candidates, heartbeats and check-quorum on the leader. */
  tick(): void {
    const role = this.role;
    switch (role.kind) {
      case 'follower':
        // Learners, removed nodes and joiners never campaign: no configuration counts their vote.
        if (this.election.tick() && this.mayCampaign()) this.startCampaign();
        break;
      case 'candidate':
        if (this.election.tick() && this.mayCampaign()) this.startCampaign();
        else if (this.election.resendDue(this.config.heartbeatTicks)) this.resendVoteRequests(role);
        break;
      case 'leader':
        role.ticksAsLeader++;
        tickTransfer(this.host, role);
        if (this.config.checkQuorum && !hasActiveQuorum(this.host, role)) {
          // Cut off from the majority: stop serving writes and reads a newer leader may contradict.
          this.becomeFollower(this.term, null);
          return;
        }
        if (++role.heartbeatElapsed >= this.config.heartbeatTicks) {
          role.heartbeatElapsed = 0;
          broadcastHeartbeat(this.host, role);
        }
        break;
      default:
        assertNever(role);
    }
  }

  /** Handles one message; messages for another node, with bad fields or from non-members are ignored. */
  step(message: Message): void {
    if (!isValidMessage(message, this.config.id) || !this.acceptsFrom(message)) return;
    this.handle(message);
    const role = this.role;
    if (role.kind === 'leader' && removedAndCommitted(this.host)) this.stepDownRemoved(role);
  }

  private handle(message: Message): void {
    if (message.term > this.term) {
      if (!this.acceptHigherTerm(message)) return;
    } else if (message.term < this.term) {
      this.answerStaleTerm(message);
      return;
    }
    switch (message.type) {
      case 'requestVote':
        this.handleVoteRequest(message);
        break;
      case 'requestVoteResponse':
        this.handleVoteResponse(message);
        break;
      case 'appendEntries':
        this.handleAppendEntries(message);
        break;
      case 'appendEntriesResponse':
        if (this.role.kind === 'leader') handleAppendResponse(this.host, this.role, message);
        break;
      case 'installSnapshot':
        this.handleInstallSnapshot(message);
        break;
      case 'installSnapshotResponse':
        if (this.role.kind === 'leader') handleSnapshotResponse(this.host, this.role, message);
        break;
      case 'timeoutNow':
        // The leader of our term asks us to take over: campaign now, no pre-vote, lease bypassed.
        if (this.role.kind === 'follower' && this.mayCampaign()) this.becomeCandidate(false, true);
        break;
      default:
        assertNever(message);
    }
  }

  /** Leader only: appends a command entry. Refusals are values. */
  propose(data: Uint8Array, timestampMs: number): ProposeResult {
    const role = this.role;
    if (role.kind !== 'leader') return { ok: false, reason: 'notLeader', leaderId: this.leaderId() };
    // Handing over: a proposal now could be lost with the old term; the client retries on the new leader.
    if (role.transfer !== null) return { ok: false, reason: 'notLeader', leaderId: null };
    if (this.log.lastIndex() - this.log.commitIndex() >= this.config.uncommittedEntriesMax) {
      return { ok: false, reason: 'overloaded' };
    }
    const index = this.appendAsLeader(role, 'command', data, timestampMs);
    return { ok: true, index, term: this.term };
  }

  /**
   * Leader only: appends a `config` entry for one single-server change. The new configuration is
   * in effect at once (on every node as it appends the entry); the next change is accepted once
   * this one commits. Refusals are values.
   */
  proposeMembershipChange(change: MembershipChange, timestampMs: number): MembershipProposeResult {
    const role = this.role;
    if (role.kind !== 'leader') return { type: 'notLeader', leaderId: this.leaderId() };
    const check = checkChange(this.log, role, change);
    if (check.type !== 'ok') return check;
    const index = this.appendAsLeader(role, 'config', encodeMembership(check.membership), timestampMs);
    syncProgress(this.host, role);
    return { type: 'accepted', index, membership: check.membership };
  }

  /** The configuration in effect: the latest config entry in the log, else the snapshot's, else the initial voters. */
  membership(): Membership {
    return this.log.membership.current();
  }

  /** The configuration in effect at `index` (>= the log's compacted prefix): what a snapshot there records. */
  membershipAt(index: LogIndex): Membership {
    return this.log.membership.at(index);
  }

  /**
   * Leader only: asks for a linearizable read point. A ReadState with this id comes back in a
   * later Ready once a heartbeat round confirmed leadership (at once in a single-voter cluster).
   * Reads still pending when leadership is lost are dropped: the driver times them out.
   */
  readIndex(requestId: string): ReadIndexResult {
    const role = this.role;
    if (role.kind !== 'leader') return { ok: false, reason: 'notLeader', leaderId: this.leaderId() };
    if (role.reads.isFull()) return { ok: false, reason: 'overloaded' };
    if (role.termCommitted) registerRead(this.host, role, requestId);
    else role.reads.deferUntilTermCommit(requestId);
    return { ok: true };
  }

  /**
   * The driver saved `snapshot` durably (the state machine at snapshot.index, which it has
   * applied): followers that lag below the log's start are sent it from now on. The in-memory
   * log is dropped up to `compactTo` (<= snapshot.index), keeping a trailing window of entries
   * so a slightly slow follower still catches up by AppendEntries.
   */
  compact(snapshot: SnapshotMeta, compactTo: LogIndex): void {
    assert(snapshot.index <= this.log.appliedIndex(), `snapshot ${snapshot.index} beyond applied ${this.log.appliedIndex()}`);
    assert(compactTo <= snapshot.index, `compaction to ${compactTo} beyond snapshot ${snapshot.index}`);
    const held = this.log.term(snapshot.index);
    assert(held === undefined || held === snapshot.term, `snapshot ${snapshot.index} has term ${snapshot.term}, the log ${held}`);
    if (this.snapshotMeta === null || snapshot.index > this.snapshotMeta.index) this.snapshotMeta = snapshot;
    this.log.compactTo(Math.max(compactTo, this.log.firstIndex() - 1));
  }

  /** The newest durable snapshot the core knows of (local or installed), or null. */
  latestSnapshot(): SnapshotMeta | null {
    return this.snapshotMeta;
  }

  /**
   * Leader only: hands leadership to voter `to` (see leadership-transfer.ts). Proposals are
   * refused until it completes (this node becomes a follower) or is abandoned after an election
   * timeout. Transferring to itself is a no-op.
   */
  transferLeadership(to: NodeId): TransferResult {
    const role = this.role;
    if (role.kind !== 'leader') return { ok: false, reason: 'notLeader', leaderId: this.leaderId() };
    if (!this.log.membership.isVoter(to)) return { ok: false, reason: 'unknownMember' };
    if (to !== this.config.id) startTransfer(this.host, role, to);
    return { ok: true };
  }

  /**
   * The transport lost its connection to `peer`. If it is our leader it has probably crashed:
   * our lease ends and we campaign within a heartbeat interval instead of an election timeout, so
   * a crashed leader is replaced in a few round trips. Only with pre-vote: then a live leader whose
   * connection merely blipped is not disturbed (its other followers, still in its lease, ignore
   * our pre-vote, and its next AppendEntries makes us its follower again); without pre-vote an
   * early campaign would bump the term and depose it. Timing only, like every timeout.
   */
  leaderUnreachable(peer: NodeId): void {
    const role = this.role;
    if (!this.config.preVote || role.kind !== 'follower' || role.leaderId !== peer) return;
    this.election.leaderLost(this.config.heartbeatTicks);
  }

  /** Starts an election now (pre-vote first if configured). A leader, and a node that is not a voter, ignore it. */
  campaign(): void {
    if (this.role.kind !== 'leader' && this.mayCampaign()) this.startCampaign();
  }

  // ---- output -------------------------------------------------------------------------------

  hasReady(): boolean {
    const role = this.role;
    if (role.kind === 'leader' && (role.sendPending || role.reads.needsRound(role.round))) return true;
    return this.output.hasWork(this.log, this.currentHardState());
  }

  /** Everything accumulated since the last advance(); the caller must advance() it before the next ready(). */
  ready(): Ready {
    const role = this.role;
    if (role.kind === 'leader') {
      // Batching: proposals since the last Ready go out together, one append per follower window.
      if (role.sendPending) flushAppends(this.host, role);
      if (role.reads.needsRound(role.round)) broadcastHeartbeat(this.host, role);
      pruneDeparted(this.host, role);
    }
    return this.output.build(this.log, this.currentHardState());
  }

  /** The driver persisted, sent and applied `ready`. */
  advance(ready: Ready): void {
    this.output.advance(ready, this.log);
  }

  status(): RaftStatus {
    const role = this.role;
    const followers: FollowerStatus[] = [];
    if (role.kind === 'leader') {
      for (const [id, progress] of role.progress) {
        const { matchIndex, nextIndex, state } = progress.flow;
        followers.push({ id, matchIndex, nextIndex, state });
      }
    }
    return {
      id: this.config.id,
      role: role.kind,
      preCandidate: role.kind === 'candidate' && role.preVote,
      term: this.term,
      votedFor: this.votedFor,
      leaderId: this.leaderId(),
      commitIndex: this.log.commitIndex(),
      lastApplied: this.log.appliedIndex(),
      lastLogIndex: this.log.lastIndex(),
      lastLogTerm: this.log.lastTerm(),
      firstLogIndex: this.log.firstIndex(),
      voters: this.log.membership.voters(),
      membership: this.log.membership.current(),
      followers,
    };
  }

  // ---- membership ----------------------------------------------------------------------------

  /**
   * A voter of the configuration in effect campaigns; learners, joiners and removed nodes do not.
   * One exception (thesis §4.1, Figure 4.6): a node removed by a config entry it does not know to
   * be committed may still be needed to commit it. If it held the most up-to-date log when its
   * leader fell, no voter of the new configuration could win without it (they would refuse the
   * other voters as less up to date) and the cluster would stall. So it still campaigns, counting
   * the votes of the new configuration only, and steps down once that entry commits.
   */
  private mayCampaign(): boolean {
    const membership = this.log.membership;
    if (membership.isVoter(this.config.id)) return true;
    const latest = membership.latestIndex();
    return latest > this.log.commitIndex() && isVoter(membership.at(latest - 1), this.config.id);
  }

  /**
   * Messages from nodes outside our configuration are dropped, with the exceptions the thesis
   * (§4.1) needs for liveness: AppendEntries and InstallSnapshot are taken from whoever leads (a
   * joiner has no configuration, a lagging member has not seen the entry that added the leader),
   * and so is TimeoutNow from our leader (a removed leader hands over). A vote request is taken
   * when the candidate's log is at least as up to date as ours (it may be in a configuration we
   * have not seen yet); a removed node's log lacks the entry that removed it, so it is behind and
   * cannot disrupt us with its terms.
   */
  private acceptsFrom(message: Message): boolean {
    if (this.log.membership.isMember(message.from)) return true;
    switch (message.type) {
      case 'appendEntries':
      case 'installSnapshot':
        return true;
      case 'requestVote':
        return this.log.isUpToDate(message.lastLogIndex, message.lastLogTerm);
      case 'timeoutNow':
        return this.role.kind === 'follower' && this.role.leaderId === message.from;
      case 'appendEntriesResponse':
      case 'installSnapshotResponse':
        // A member being removed: the leader still replicates to it until it learns the removal committed.
        return this.role.kind === 'leader' && this.role.progress.has(message.from);
      case 'requestVoteResponse':
        return false;
      default:
        return assertNever(message);
    }
  }

  /**
   * The configuration that removed this leader from the voters has committed: step down, and let
   * a caught-up voter take over at once rather than after an election timeout.
   */
  private stepDownRemoved(leader: LeaderRole): void {
    const successor = successorOf(this.host, leader);
    this.becomeFollower(this.term, null);
    if (successor !== null) this.output.send({ type: 'timeoutNow', from: this.config.id, to: successor, term: this.term });
  }

  // ---- terms ----------------------------------------------------------------------------------

  /**
   * A message from a higher term. Returns false when it must be ignored: a vote request inside a
   * leader lease (check-quorum: a rejoining node must not depose a healthy leader). Pre-vote
   * traffic never changes the term; anything else makes this node a follower of the new term.
   */
  private acceptHigherTerm(message: Message): boolean {
    if (message.type === 'requestVote' && message.leadershipTransfer !== true && (this.config.checkQuorum || message.preVote) && this.inLease()) {
      return false;
    }
    if (message.type === 'requestVote' && message.preVote) return true;
    if (message.type === 'requestVoteResponse' && message.preVote && message.voteGranted) return true;
    const fromLeader = message.type === 'appendEntries' || message.type === 'installSnapshot';
    this.becomeFollower(message.term, fromLeader ? message.from : null);
    return true;
  }

  /**
   * A message from an older term: tell a stale leader or (pre-)candidate the current term (Raft
   * Figure 2: the refusal carries it); drop the rest. A candidate must hear of newer terms: after
   * membership changes the voters of its configuration may be the only nodes it listens to (the
   * others are not members), and without this answer it would campaign in stale terms forever
   * (simulator seed 1285).
   */
  private answerStaleTerm(message: Message): void {
    if (message.type === 'appendEntries') {
      this.respondAppend(message, false, 0, 0, 0);
    } else if (message.type === 'installSnapshot') {
      this.respondSnapshot(message, false, 0);
    } else if (message.type === 'requestVote') {
      this.respondVote(message, false);
    }
  }

  /** Heard from a live leader within the minimum election timeout (or is the leader). */
  private inLease(): boolean {
    const role = this.role;
    if (role.kind === 'leader') return true;
    return role.kind === 'follower' && role.leaderId !== null && this.election.withinLease();
  }

  private leaderId(): NodeId | null {
    const role = this.role;
    switch (role.kind) {
      case 'follower':
        return role.leaderId;
      case 'candidate':
        return null;
      case 'leader':
        return this.config.id;
      default:
        return assertNever(role);
    }
  }

  // ---- transitions ----------------------------------------------------------------------------

  private becomeFollower(term: Term, leaderId: NodeId | null): void {
    assert(term >= this.term, `term ${term} would go back from ${this.term}`);
    if (term > this.term) {
      this.term = term;
      this.votedFor = null;
    }
    this.role = { kind: 'follower', leaderId };
    this.election.reset();
  }

  private startCampaign(): void {
    this.becomeCandidate(this.config.preVote);
  }

  /** `transfer`: campaigning on the leader's TimeoutNow (voters bypass their lease). */
  private becomeCandidate(preVote: boolean, transfer = false): void {
    assert(this.role.kind !== 'leader', 'a leader cannot become a candidate');
    assert(this.mayCampaign(), 'only a voter campaigns');
    if (!preVote) {
      this.term++;
      this.votedFor = this.config.id;
    }
    // Only the voters of our own configuration count (it cannot change while we campaign: it only
    // changes as the log does, and a leader's AppendEntries ends the campaign first).
    const voters = this.log.membership.voters();
    const votes = new VoteTally(voters);
    votes.record(this.config.id, true);
    this.role = { kind: 'candidate', preVote, votes };
    this.election.reset();
    if (this.finishElectionIfDecided()) return;
    const request = {
      type: 'requestVote' as const,
      from: this.config.id,
      // A pre-candidate asks for the term it would campaign in, without moving to it.
      term: preVote ? this.term + 1 : this.term,
      lastLogIndex: this.log.lastIndex(),
      lastLogTerm: this.log.lastTerm(),
      preVote,
      ...(transfer ? { leadershipTransfer: true } : {}),
    };
    this.campaignRequest = request;
    for (const to of voters) if (to !== this.config.id) this.output.send({ ...request, to });
  }

  /**
   * Asks again the voters that have not answered this campaign. A voter still inside its leader
   * lease ignores a (pre-)vote request rather than refusing it; its lease ends at most T after it
   * last heard from the old leader, typically a few ticks after ours did. Without this the
   * candidate would wait out a whole new randomized timeout [T, 2T) before asking again, which
   * was most of the failover time after a leader crash. Re-asking is idempotent: a pre-vote
   * commits nothing, a real vote is granted again only to the candidate it went to, and a
   * voter's first answer is the one counted.
   */
  private resendVoteRequests(role: CandidateRole): void {
    const request = this.campaignRequest;
    if (request === null) return;
    for (const to of this.log.membership.voters()) {
      if (to !== this.config.id && !role.votes.hasAnswered(to)) this.output.send({ ...request, to });
    }
  }

  /** Acts on a decided (pre-)election; returns true if the role changed. */
  private finishElectionIfDecided(): boolean {
    const role = this.role;
    assert(role.kind === 'candidate', 'only candidates count votes');
    const result = role.votes.result();
    switch (result) {
      case 'pending':
        return false;
      case 'won':
        if (role.preVote) this.becomeCandidate(false);
        else this.becomeLeader();
        return true;
      case 'lost':
        this.becomeFollower(this.term, null);
        return true;
      default:
        return assertNever(result);
    }
  }

  private becomeLeader(): void {
    const role = this.role;
    assert(role.kind === 'candidate' && !role.preVote, 'only a candidate that won a real election leads');
    assert(this.votedFor === this.config.id, 'a leader voted for itself');
    const leader = newLeaderRole(this.config, this.log.lastIndex(), this.log.membership.othersThan(this.config.id));
    this.role = leader;
    // Raft §8: a no-op of the new term lets earlier-term entries commit (Figure 8) and reads start.
    this.appendAsLeader(leader, 'noop', new Uint8Array(0), this.log.timestampAt(this.log.lastIndex()));
  }

  private appendAsLeader(leader: LeaderRole, type: 'command' | 'noop' | 'config', data: Uint8Array, timestampMs: number): LogIndex {
    const index = this.log.lastIndex() + 1;
    // The domain's only clock: keep it monotonic along the log even if the leader's wall clock steps back.
    const previousMs = this.log.timestampAt(index - 1);
    this.log.appendNew({ index, term: this.term, type, timestampMs: Math.max(timestampMs, previousMs), data });
    leader.sendPending = true;
    // The leader counts itself: in a single-voter cluster the entry commits at once. With other
    // voters its own (always highest) match cannot move the quorum index or the quorum round, so
    // skip the per-proposal quorum maths there (it showed in the leader's CPU profile).
    const voters = this.log.membership.voters();
    if (voters.length === 1 && voters[0] === this.config.id) {
      maybeCommit(this.host, leader);
      confirmReads(this.host, leader);
    }
    return index;
  }

  // ---- elections ------------------------------------------------------------------------------

  private handleVoteRequest(message: RequestVote): void {
    const granted = grantsVote(message, {
      term: this.term,
      votedFor: this.votedFor,
      leaderId: this.leaderId(),
      isLeader: this.role.kind === 'leader',
      logUpToDate: this.log.isUpToDate(message.lastLogIndex, message.lastLogTerm),
    });
    if (granted && !message.preVote) {
      // Persisted in the same Ready as the reply, and before it is sent.
      this.votedFor = message.from;
      this.election.reset();
    }
    this.respondVote(message, granted);
    if (!granted) this.breakSplitVote(message);
  }

  /**
   * A split vote: another candidate asks for our term's vote, which we gave ourselves. With one
   * voter down in a three-node cluster neither of us can win this term, and both would wait out a
   * new randomized timeout [T, 2T) (the main tail of the failover bench). Exactly one of the two
   * moves on soon, by a rule both sides evaluate alike: the one with the more up-to-date log, the
   * smaller id on a tie. Its timer is cut to one heartbeat interval, not zero: the other voters may
   * still elect the other candidate (all three alive), whose first AppendEntries then ends our
   * campaign before we disturb it. If not, we campaign again (pre-vote first) and the other, a
   * candidate outside any lease, grants us the next term. Timing only: every vote still obeys
   * one-vote-per-term.
   */
  private breakSplitVote(message: RequestVote): void {
    const role = this.role;
    if (role.kind !== 'candidate' || role.preVote || message.preVote || message.term !== this.term) return;
    if (message.leadershipTransfer === true || this.campaignRequest?.leadershipTransfer === true) return;
    const theirsUpToDate = this.log.isUpToDate(message.lastLogIndex, message.lastLogTerm);
    const tie = message.lastLogTerm === this.log.lastTerm() && message.lastLogIndex === this.log.lastIndex();
    if (!theirsUpToDate || (tie && this.config.id < message.from)) this.election.expireWithin(this.config.heartbeatTicks);
  }

  private respondVote(message: RequestVote, granted: boolean): void {
    this.output.send({
      type: 'requestVoteResponse',
      from: this.config.id,
      to: message.from,
      // A granted pre-vote answers in the asked term so the pre-candidate can count it.
      term: granted && message.preVote ? message.term : this.term,
      voteGranted: granted,
      preVote: message.preVote,
    });
  }

  private handleVoteResponse(message: RequestVoteResponse): void {
    const role = this.role;
    if (role.kind !== 'candidate' || role.preVote !== message.preVote) return;
    const expectedTerm = role.preVote && message.voteGranted ? this.term + 1 : this.term;
    if (message.term !== expectedTerm) return;
    role.votes.record(message.from, message.voteGranted);
    this.finishElectionIfDecided();
  }

  // ---- replication (follower side) -------------------------------------------------------------

  private handleAppendEntries(message: AppendEntries): void {
    const role = this.role;
    if (role.kind === 'leader') return; // Two leaders in one term cannot happen; drop rather than trust it.
    if (role.kind === 'candidate') this.becomeFollower(this.term, message.from);
    else role.leaderId = message.from;
    this.election.heardFromLeader();
    const outcome = acceptAppend(this.log, message);
    this.respondAppend(message, outcome.success, outcome.matchIndex, outcome.conflictTerm, outcome.conflictIndex);
  }

  /**
   * The leader's snapshot, whose bytes the transport already holds. One at or below our commit
   * index brings nothing (we hold those entries, committed): answer with the commit index. A newer
   * one replaces the log (see LogManager.installSnapshot); the next Ready installs it before the
   * answer is sent.
   */
  private handleInstallSnapshot(message: InstallSnapshot): void {
    const role = this.role;
    if (role.kind === 'leader') return;
    if (role.kind === 'candidate') this.becomeFollower(this.term, message.from);
    else role.leaderId = message.from;
    this.election.heardFromLeader();
    if (message.meta.index > this.log.commitIndex()) {
      this.log.installSnapshot(message.meta);
      this.snapshotMeta = message.meta;
    }
    this.respondSnapshot(message, true, this.log.commitIndex());
  }

  private respondSnapshot(message: InstallSnapshot, success: boolean, matchIndex: LogIndex): void {
    this.output.send({
      type: 'installSnapshotResponse',
      from: this.config.id,
      to: message.from,
      term: this.term,
      success,
      snapshotIndex: message.meta.index,
      matchIndex,
    });
  }

  private respondAppend(
    message: AppendEntries,
    success: boolean,
    matchIndex: LogIndex,
    conflictTerm: Term,
    conflictIndex: LogIndex,
  ): void {
    this.output.send({
      type: 'appendEntriesResponse',
      from: this.config.id,
      to: message.from,
      term: this.term,
      success,
      matchIndex,
      conflictTerm,
      conflictIndex,
      prevLogIndex: message.prevLogIndex,
      entryCount: message.entries.length,
      round: message.round,
    });
  }

  // ---- hard state -----------------------------------------------------------------------------

  /**
   * The hard state to persist. Its commit index only covers entries persisted by earlier Readies:
   * were it to cover entries of the same Ready, a driver that wrote the hard state first and
   * crashed before the entries could restart with a commit index over a stale, conflicting
   * suffix. It is a hint anyway (the leader repeats it), so lagging one Ready costs nothing.
   */
  private currentHardState(): HardState {
    // Monotonic too: a truncation lowers persistedIndex, but never to below commitIndex.
    const commitIndex = Math.min(this.log.commitIndex(), this.log.persistedIndex());
    return { term: this.term, votedFor: this.votedFor, commitIndex };
  }
}
