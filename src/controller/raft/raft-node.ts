// The KRaft consensus core (KIP-595 with pre-vote, KIP-996, and snapshots, KIP-630) as a pure
// state machine: no I/O, no clock, no randomness of its own, no timers. The roles and their
// transition table are in roles.ts.
//
// Driver contract (the driver owns the network, the disk, the clock and the state machine):
//
//  1. Inputs: `tick(now)` when `nextDeadlineMs()` is reached, `step(message, now)` for every
//     message addressed to this node, `propose(batch, now)` to append (leader only),
//     `resign(now)` on graceful shutdown, `persisted(seq)` when a Ready is durable,
//     `snapshotCreated(id, now)` when a requested snapshot is durable. `now` is a monotonic
//     clock in milliseconds; the same random source (uniform in [0, 1)) is used for every timeout.
//  2. After any input, call `ready()` until it returns undefined. For each Ready, in order:
//     a. write `electionState` (the quorum-state file) and `logOps` to storage, in order, before
//        giving the core its next input — the core's reads of storage rely on it;
//     b. make them durable (fsync); Readys may share one fsync, in order;
//     c. only then send `messages` — persist before send: a vote, a candidacy, or a fetch
//        offset claimed to the leader must survive a crash;
//     d. apply `committed` in order (a `snapshot` item means: load the state machine from that
//        snapshot); every item is committed and durable here;
//     e. if `snapshotRequest` is set: once the state machine has applied everything up to its
//        end offset (it has, after d.), write a snapshot of it durably and call
//        `snapshotCreated(id)`;
//     f. call `persisted(ready.seq)`.
//  3. Responses go to the node that sent the request, with the request's correlation id; the
//     echoed request fields of a response (VoteResponse.candidateEpoch/preVote,
//     FetchResponse.fetchOffset/lastFetchedEpoch) are the ones of that request, which the driver
//     keeps with its in-flight request (Kafka's responses do not carry them). Messages may be
//     lost, duplicated, delayed or reordered: the core tolerates it (the simulation does all).
//  4. On restart, construct a new RaftNode from storage: the synced log, the latest snapshot and
//     the last quorum-state. The first Ready loads the state machine from the latest snapshot.
//
// Safety rests on: votes and epochs persisted before being announced; a vote only for a log at
// least as up to date (last epoch, then end offset); the high watermark is the largest offset
// durable on a majority, and only once an entry of the leader's own epoch (its LeaderChange) is
// in it; a follower appends only after the leader matched its (fetch offset, last epoch).
//
// Driver notes for the real RPCs (the next step, not wired yet):
//  - Map messages to the generated codecs: Vote (v2 has PreVote; the checked-in spec folder has
//    v0-1 only: regenerate from Kafka 4.0's VoteRequest.json first), BeginQuorumEpoch,
//    EndQuorumEpoch (v0 PreferredSuccessors, v1 PreferredCandidates), Fetch v13+ on topic id of
//    `__cluster_metadata` with ReplicaState (ReplicaId, ReplicaEpoch -1), FetchSnapshot, and
//    answer DescribeQuorum from `describeQuorum()`. Check ClusterId before `step`
//    (INCONSISTENT_CLUSTER_ID), and the topic/partition (UNKNOWN_TOPIC_OR_PARTITION).
//  - Storage: `RaftLogView` over the `__cluster_metadata-0` PartitionLog (its leader-epoch
//    cache gives `epochStarts`), snapshots as `<endOffset>-<epoch>.checkpoint` files
//    (snapshot-file.ts), quorum-state as JSON (quorum-state-file.ts). Append patches baseOffset
//    and partitionLeaderEpoch of the batch bytes; control batches are encoded from `control`.
//  - One serial event queue: inputs, ready() handling and timers never interleave; a single
//    timer armed at `nextDeadlineMs()` replaces polling.
import { DEFAULT_RAFT_CONFIG, snapshotDue, type RaftConfig } from './quorum-config.js';
import { assert, LocalLog, type LogOp, type RaftLogView } from './raft-log.js';
import {
  CandidateRole,
  checkTransition,
  FollowerRole,
  LeaderRole,
  ProspectiveRole,
  type ReplicaProgress,
  ResignedRole,
  type Role,
  type RoleName,
  UnattachedRole,
  VoteTally,
} from './roles.js';
import {
  batchSizeBytes,
  type BeginQuorumEpochRequest,
  type BeginQuorumEpochResponse,
  type ElectionState,
  type EndQuorumEpochRequest,
  type EndQuorumEpochResponse,
  type FetchRequest,
  type FetchResponse,
  type FetchSnapshotRequest,
  type FetchSnapshotResponse,
  type LeaderAndEpoch,
  NO_REPLICA,
  type OffsetAndEpoch,
  type RaftBatch,
  RaftError,
  type RaftErrorCode,
  type RaftMessage,
  sameElectionState,
  type SnapshotId,
  type VoteRequest,
  type VoteResponse,
} from './types.js';

export interface RaftNodeOptions {
  readonly nodeId: number;
  /** The static voter set (controller.quorum.voters ids). The node may be an observer. */
  readonly voters: readonly number[];
  readonly config?: Partial<RaftConfig>;
  readonly log: RaftLogView;
  /** The quorum-state as recovered; undefined for a new replica. */
  readonly electionState?: ElectionState;
  /** Uniform in [0, 1). */
  readonly random: () => number;
  readonly nowMs: number;
  /** Start of this incarnation's correlation ids (they only pair responses with requests). */
  readonly firstCorrelationId?: number;
}

/** A committed item to apply, in order. */
export type Committed =
  | { readonly type: 'batch'; readonly batch: RaftBatch }
  /** Replace the state machine's state with this snapshot's. */
  | { readonly type: 'snapshot'; readonly snapshotId: SnapshotId };

/** What the driver does next; see the contract at the top. */
export interface Ready {
  readonly seq: number;
  readonly electionState?: ElectionState;
  readonly logOps: readonly LogOp[];
  readonly messages: readonly RaftMessage[];
  readonly committed: readonly Committed[];
  readonly highWatermark: number;
  readonly snapshotRequest?: SnapshotId;
}

export type ProposeResult =
  | { readonly status: 'appended'; readonly baseOffset: number; readonly lastOffset: number; readonly epoch: number }
  /** Not the leader (or not of `expectedEpoch`): the leader this node knows, if any. */
  | { readonly status: 'notLeader'; readonly leader: LeaderAndEpoch }
  | { readonly status: 'batchTooLarge'; readonly maxBatchBytes: number }
  /** Too many bytes appended and not committed yet: retry once the quorum catches up. */
  | { readonly status: 'backlogFull'; readonly maxUncommittedBytes: number };

export interface ReplicaDescription {
  readonly replicaId: number;
  readonly logEndOffset: number;
  readonly lastFetchTimestamp: number;
  readonly lastCaughtUpTimestamp: number;
}

/** DescribeQuorum's partition data, from the leader. */
export interface QuorumDescription {
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly highWatermark: number;
  readonly currentVoters: readonly ReplicaDescription[];
  readonly observers: readonly ReplicaDescription[];
}

export interface RaftStatus {
  readonly nodeId: number;
  readonly role: RoleName;
  readonly epoch: number;
  readonly leaderId: number;
  readonly votedId: number;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly lastEpoch: number;
  readonly appliedOffset: number;
}

/** Kafka's LeaderState: resign after this many fetch timeouts without a majority fetching. */
const CHECK_QUORUM_TIMEOUT_FACTOR = 1.5;
/** Base of the exponential backoff after a lost election (Kafka's RETRY_BACKOFF_BASE_MS). */
const ELECTION_BACKOFF_BASE_MS = 100;
/** Observers tracked by a leader for DescribeQuorum (the oldest is forgotten beyond this). */
const MAX_TRACKED_OBSERVERS = 1000;
/** Bound on the timer cascade of one input (e.g. a single voter's election runs in one go). */
const MAX_TIMER_ROUNDS = 16;
/** Readys handed out and not yet persisted. */
const MAX_UNPERSISTED_READYS = 100_000;

export class RaftNode {
  readonly nodeId: number;
  private readonly voters: readonly number[];
  private readonly isVoter: boolean;
  private readonly majority: number;
  private readonly cfg: RaftConfig;
  private readonly view: RaftLogView;
  private readonly log: LocalLog;
  private readonly random: () => number;

  private nowMs: number;
  private election: ElectionState;
  private persistedElection: ElectionState | undefined;
  private role: Role;
  /** High watermark known here: every offset below it is committed. A batch boundary. */
  private commit: number;
  /** Everything below this has been handed out in `committed`. */
  private applied: number;
  private snapshotToLoad: SnapshotId | undefined;
  private outbox: RaftMessage[] = [];
  private nextCorrelationId: number;
  private electionRetries = 0;
  /** Observers: the voter to ask for the leader next. */
  private discoveryIndex = 0;

  private seq = 0;
  private readonly readyEnds: Array<{ readonly seq: number; readonly endOffset: number }> = [];

  private bytesSinceSnapshot = 0;
  private lastSnapshotMs: number;
  private snapshotInFlight = false;

  constructor(opts: RaftNodeOptions) {
    this.nodeId = opts.nodeId;
    assert(opts.voters.length > 0, 'the voter set is empty');
    assert(new Set(opts.voters).size === opts.voters.length, 'the voter set has duplicates');
    this.voters = [...opts.voters].sort((a, b) => a - b);
    this.isVoter = this.voters.includes(this.nodeId);
    this.majority = Math.floor(this.voters.length / 2) + 1;
    this.cfg = { ...DEFAULT_RAFT_CONFIG, ...opts.config };
    this.view = opts.log;
    this.log = new LocalLog(opts.log);
    this.random = opts.random;
    this.nowMs = opts.nowMs;
    this.lastSnapshotMs = opts.nowMs;
    this.nextCorrelationId = opts.firstCorrelationId ?? 0;

    const snapshot = this.log.latestSnapshot();
    this.commit = Math.max(this.log.startOffset(), snapshot?.endOffset ?? 0);
    this.applied = this.commit;
    this.snapshotToLoad = snapshot;

    const recovered = opts.electionState ?? { epoch: 0, votedId: NO_REPLICA, leaderId: NO_REPLICA };
    this.persistedElection = opts.electionState;
    const lastEpoch = this.log.lastEpoch();
    if (recovered.epoch < lastEpoch) {
      // The quorum-state is older than the log (lost or replaced): start from the log's epoch.
      this.election = { epoch: lastEpoch, votedId: NO_REPLICA, leaderId: NO_REPLICA };
      this.role = this.newUnattached();
    } else if (recovered.leaderId === this.nodeId) {
      // A leader restarting: its leader state is gone, so it may not lead this epoch again.
      assert(this.isVoter, `node ${this.nodeId} was leader but is not a voter`);
      this.election = recovered;
      this.role = new ResignedRole(this.nowMs + this.electionTimeoutMs(), []);
    } else if (recovered.leaderId !== NO_REPLICA) {
      this.election = recovered;
      this.role = new FollowerRole(recovered.leaderId, this.nowMs + this.cfg.fetchTimeoutMs);
      this.sendNextFetch(this.role);
    } else {
      this.election = recovered;
      this.role = this.newUnattached();
    }
    // The only voter need not wait for anyone: it elects itself now.
    if (this.isVoter && this.voters.length === 1 && (this.role.name === 'unattached' || this.role.name === 'resigned')) this.becomeProspective();
    this.fireTimers();
  }

  // ------------------------------------------------------------------------------------------
  // Inputs

  tick(nowMs: number): void {
    this.advanceTime(nowMs);
  }

  step(message: RaftMessage, nowMs: number): void {
    this.advanceTime(nowMs);
    assert(message.to === this.nodeId, `message for ${message.to} given to node ${this.nodeId}`);
    switch (message.type) {
      case 'voteRequest':
        this.onVoteRequest(message);
        break;
      case 'voteResponse':
        this.onVoteResponse(message);
        break;
      case 'beginQuorumEpochRequest':
        this.onBeginQuorumEpochRequest(message);
        break;
      case 'beginQuorumEpochResponse':
        this.onBeginQuorumEpochResponse(message);
        break;
      case 'endQuorumEpochRequest':
        this.onEndQuorumEpochRequest(message);
        break;
      case 'endQuorumEpochResponse':
        this.onEndQuorumEpochResponse(message);
        break;
      case 'fetchRequest':
        this.onFetchRequest(message);
        break;
      case 'fetchResponse':
        this.onFetchResponse(message);
        break;
      case 'fetchSnapshotRequest':
        this.onFetchSnapshotRequest(message);
        break;
      case 'fetchSnapshotResponse':
        this.onFetchSnapshotResponse(message);
        break;
    }
    this.fireTimers();
  }

  /**
   * Appends one batch of `recordCount` records as the leader. `expectedEpoch`, when given, must
   * be the current epoch (a controller that planned against one leadership writes only in it).
   */
  propose(batch: { readonly data: Buffer; readonly recordCount: number }, nowMs: number, expectedEpoch?: number): ProposeResult {
    this.advanceTime(nowMs);
    assert(Number.isSafeInteger(batch.recordCount) && batch.recordCount >= 1, `a batch needs at least one record, got ${batch.recordCount}`);
    const role = this.role;
    if (role.name !== 'leader' || (expectedEpoch !== undefined && expectedEpoch !== this.election.epoch)) {
      return { status: 'notLeader', leader: this.knownLeader() };
    }
    if (batch.data.length > this.cfg.maxBatchBytes) return { status: 'batchTooLarge', maxBatchBytes: this.cfg.maxBatchBytes };
    if (role.uncommittedBytes + batch.data.length > this.cfg.maxUncommittedBytes) {
      return { status: 'backlogFull', maxUncommittedBytes: this.cfg.maxUncommittedBytes };
    }
    const b = this.appendAsLeader(role, { data: batch.data, recordCount: batch.recordCount });
    return { status: 'appended', baseOffset: b.baseOffset, lastOffset: b.lastOffset, epoch: b.epoch };
  }

  /** Graceful shutdown of a leader: hand over to the most caught-up voters. */
  resign(nowMs: number): boolean {
    this.advanceTime(nowMs);
    const role = this.role;
    if (role.name !== 'leader') return false;
    const successors = this.voters
      .filter((v) => v !== this.nodeId)
      .sort((a, b) => (role.voterProgress.get(b)?.endOffset ?? -1) - (role.voterProgress.get(a)?.endOffset ?? -1) || a - b);
    this.becomeResigned(successors);
    return true;
  }

  /** Every Ready up to `seq` is durable (its state, its log operations). */
  persisted(seq: number): void {
    assert(seq <= this.seq, `persisted(${seq}) for a Ready not handed out (last is ${this.seq})`);
    let endOffset: number | undefined;
    while (this.readyEnds.length > 0 && this.readyEnds[0]!.seq <= seq) endOffset = this.readyEnds.shift()!.endOffset;
    const role = this.role;
    if (endOffset !== undefined && role.name === 'leader' && seq >= role.firstReadySeq) {
      role.durableEnd = Math.max(role.durableEnd, endOffset);
      this.maybeAdvanceHighWatermark(role);
    }
  }

  /** A snapshot requested in a Ready is durable: the log below it may go. */
  snapshotCreated(id: SnapshotId, nowMs: number): void {
    this.advanceTime(nowMs);
    this.snapshotInFlight = false;
    assert(id.endOffset <= this.applied, `snapshot at ${id.endOffset} is past the applied offset ${this.applied}`);
    if (id.endOffset <= this.log.startOffset()) return; // a newer snapshot was installed meanwhile
    this.log.truncatePrefix(id);
  }

  /** Everything the driver must do next, or undefined when there is nothing. */
  ready(): Ready | undefined {
    const committed = this.takeCommitted();
    const snapshotRequest = this.maybeRequestSnapshot();
    const electionState = this.persistedElection !== undefined && sameElectionState(this.persistedElection, this.election) ? undefined : this.election;
    if (electionState === undefined && !this.log.hasOps() && this.outbox.length === 0 && committed.length === 0 && snapshotRequest === undefined) {
      return undefined;
    }
    const logOps = this.log.takeOps();
    const messages = this.outbox;
    this.outbox = [];
    this.persistedElection = this.election;
    this.seq += 1;
    assert(this.readyEnds.length < MAX_UNPERSISTED_READYS, 'the driver is not calling persisted()');
    this.readyEnds.push({ seq: this.seq, endOffset: this.log.endOffset() });
    const ready: Ready = { seq: this.seq, logOps, messages, committed, highWatermark: this.commit };
    return {
      ...ready,
      ...(electionState !== undefined ? { electionState } : {}),
      ...(snapshotRequest !== undefined ? { snapshotRequest } : {}),
    };
  }

  /** When `tick` is next needed (the earliest timer of the current role). */
  nextDeadlineMs(): number {
    const role = this.role;
    let t = Infinity;
    const at = (ms: number | undefined): void => {
      if (ms !== undefined && ms < t) t = ms;
    };
    switch (role.name) {
      case 'unattached':
        at(role.electionDeadlineMs);
        break;
      case 'prospective':
      case 'candidate':
        if (role.name === 'candidate' && role.backoffUntilMs !== undefined) {
          at(role.backoffUntilMs); // the election is over: no more vote requests
          break;
        }
        at(role.electionDeadlineMs);
        for (const sent of role.tally.waiting.values()) at(sent + this.cfg.requestTimeoutMs);
        break;
      case 'leader':
        at(this.checkQuorumDeadlineMs(role));
        for (const sent of role.unackedBegin.values()) at(sent + this.cfg.requestTimeoutMs);
        for (const p of role.parked.values()) at(p.deadlineMs);
        break;
      case 'follower':
        at(role.fetchDeadlineMs);
        at(role.retryAtMs);
        if (role.inflight !== undefined) at(role.inflight.sentMs + this.cfg.requestTimeoutMs);
        break;
      case 'resigned':
        at(role.electionDeadlineMs);
        for (const sent of role.unacked.values()) at(sent + this.cfg.requestTimeoutMs);
        break;
    }
    // The time-based snapshot trigger is acted on by the next ready().
    if (this.cfg.snapshotIntervalMs > 0 && this.bytesSinceSnapshot > 0 && !this.snapshotInFlight && this.lastSnapshotMs + this.cfg.snapshotIntervalMs > this.nowMs) {
      at(this.lastSnapshotMs + this.cfg.snapshotIntervalMs);
    }
    return t;
  }

  status(): RaftStatus {
    return {
      nodeId: this.nodeId,
      role: this.role.name,
      epoch: this.election.epoch,
      leaderId: this.election.leaderId,
      votedId: this.election.votedId,
      highWatermark: this.commit,
      logStartOffset: this.log.startOffset(),
      logEndOffset: this.log.endOffset(),
      lastEpoch: this.log.lastEpoch(),
      appliedOffset: this.applied,
    };
  }

  /** DescribeQuorum's answer, or the leader to ask instead. */
  describeQuorum(nowMs: number): QuorumDescription | { readonly notLeader: LeaderAndEpoch } {
    this.advanceTime(nowMs);
    const role = this.role;
    if (role.name !== 'leader') return { notLeader: this.knownLeader() };
    const describe = (id: number, p: ReplicaProgress): ReplicaDescription => ({
      replicaId: id,
      logEndOffset: p.endOffset,
      lastFetchTimestamp: p.lastFetchMs,
      lastCaughtUpTimestamp: p.lastCaughtUpMs,
    });
    return {
      leaderId: this.nodeId,
      leaderEpoch: this.election.epoch,
      highWatermark: this.commit,
      currentVoters: this.voters.map((v) =>
        v === this.nodeId
          ? { replicaId: v, logEndOffset: this.log.endOffset(), lastFetchTimestamp: -1, lastCaughtUpTimestamp: this.nowMs }
          : describe(v, role.voterProgress.get(v)!),
      ),
      observers: [...role.observerProgress].map(([id, p]) => describe(id, p)),
    };
  }

  /** For the simulation: the core's view of the log matches storage (the driver wrote it all). */
  assertStorageMatches(): void {
    this.log.assertMatches(this.view);
  }

  // ------------------------------------------------------------------------------------------
  // Time

  private advanceTime(nowMs: number): void {
    assert(nowMs >= this.nowMs, `time went back from ${this.nowMs} to ${nowMs}`);
    this.nowMs = nowMs;
    this.fireTimers();
  }

  private electionTimeoutMs(): number {
    return this.cfg.electionTimeoutMs + Math.floor(this.random() * this.cfg.electionTimeoutMs);
  }

  private checkQuorumTimeoutMs(): number {
    return Math.floor(this.cfg.fetchTimeoutMs * CHECK_QUORUM_TIMEOUT_FACTOR);
  }

  /** Random backoff after the n-th lost election in a row, capped by election.backoff.max.ms. */
  private electionBackoffMs(): number {
    const cap = Math.min(this.cfg.electionBackoffMaxMs, ELECTION_BACKOFF_BASE_MS * 2 ** Math.min(this.electionRetries, 20));
    return Math.floor(this.random() * cap);
  }

  private fireTimers(): void {
    for (let round = 0; round < MAX_TIMER_ROUNDS; round++) {
      if (!this.fireTimersOnce()) return;
    }
    throw new Error(`raft node ${this.nodeId}: timers still firing after ${MAX_TIMER_ROUNDS} rounds`);
  }

  /** Fires what is due for the current role; true when the role changed (fire the new one's). */
  private fireTimersOnce(): boolean {
    const now = this.nowMs;
    const role = this.role;
    switch (role.name) {
      case 'unattached':
        if (now < role.electionDeadlineMs) return false;
        if (this.isVoter) {
          this.becomeProspective();
          return true;
        }
        this.sendDiscoveryFetch(role);
        return false;
      case 'prospective':
        if (now >= role.electionDeadlineMs) {
          this.losePreVote(role);
          return true;
        }
        this.resendVoteRequests(role.tally, true);
        return false;
      case 'candidate':
        if (role.backoffUntilMs !== undefined) {
          if (now < role.backoffUntilMs) return false;
          this.becomeProspective();
          return true;
        }
        if (now >= role.electionDeadlineMs) {
          this.startElectionBackoff(role);
          return now >= role.backoffUntilMs!;
        }
        this.resendVoteRequests(role.tally, false);
        return false;
      case 'leader':
        if (this.lostQuorum(role)) {
          this.becomeResigned([]);
          return true;
        }
        for (const [voter, sent] of role.unackedBegin) {
          if (now >= sent + this.cfg.requestTimeoutMs) this.sendBeginQuorumEpoch(role, voter);
        }
        for (const [replica, p] of role.parked) {
          if (now >= p.deadlineMs) {
            role.parked.delete(replica);
            this.answerFetch(p.request);
          }
        }
        return false;
      case 'follower':
        if (now >= role.fetchDeadlineMs) {
          if (this.isVoter) this.becomeProspective();
          else this.becomeUnattached(this.election.epoch);
          return true;
        }
        if ((role.inflight !== undefined && now >= role.inflight.sentMs + this.cfg.requestTimeoutMs) || (role.retryAtMs !== undefined && now >= role.retryAtMs)) {
          this.sendNextFetch(role);
        }
        return false;
      case 'resigned':
        if (now >= role.electionDeadlineMs) {
          this.becomeProspective();
          return true;
        }
        for (const [voter, sent] of role.unacked) {
          if (now >= sent + this.cfg.requestTimeoutMs) this.sendEndQuorumEpoch(role, voter);
        }
        return false;
    }
  }

  /** When the leader resigns unless more fetches arrive: the (majority - 1)-th most recent
   * fetch of another voter, plus the check-quorum timeout. */
  private checkQuorumDeadlineMs(role: LeaderRole): number | undefined {
    if (this.majority === 1) return undefined;
    const recent = [...role.voterProgress.values()].map((p) => p.heardMs).sort((a, b) => b - a);
    return recent[this.majority - 2]! + this.checkQuorumTimeoutMs();
  }

  private lostQuorum(role: LeaderRole): boolean {
    const deadline = this.checkQuorumDeadlineMs(role);
    return deadline !== undefined && this.nowMs >= deadline;
  }

  // ------------------------------------------------------------------------------------------
  // Transitions

  private setRole(next: Role, election: ElectionState): void {
    checkTransition(
      { role: this.role.name, epoch: this.election.epoch, leaderId: this.election.leaderId },
      { role: next.name, epoch: election.epoch, leaderId: election.leaderId },
      this.isVoter,
    );
    assert(election.epoch > this.election.epoch || election.votedId === this.election.votedId || this.election.votedId === NO_REPLICA, `vote of epoch ${election.epoch} changes from ${this.election.votedId} to ${election.votedId}`);
    const previous = this.role;
    if (previous.name === 'leader') {
      // Tell parked fetchers now rather than letting them time out.
      const leader = { leaderId: next.name === 'resigned' ? NO_REPLICA : election.leaderId, epoch: election.epoch };
      for (const p of previous.parked.values()) this.respondFetchError(p.request, RaftError.NOT_LEADER_OR_FOLLOWER, leader);
      previous.parked.clear();
    }
    this.role = next;
    this.election = election;
  }

  private newUnattached(): UnattachedRole {
    return new UnattachedRole(this.isVoter ? this.nowMs + this.electionTimeoutMs() : this.nowMs);
  }

  /** Unattached in `epoch`; in the same epoch the vote is kept. */
  private becomeUnattached(epoch: number, votedId?: number): void {
    const keepVote = epoch === this.election.epoch ? this.election.votedId : NO_REPLICA;
    this.setRole(this.newUnattached(), { epoch, votedId: votedId ?? keepVote, leaderId: NO_REPLICA });
  }

  private becomeProspective(): void {
    const role = this.role;
    const lastLeader = role.name === 'follower' ? role.leaderId : NO_REPLICA;
    const tally = new VoteTally(this.nodeId, this.voters, this.nowMs);
    this.setRole(new ProspectiveRole(lastLeader, tally, this.nowMs + this.electionTimeoutMs()), this.election);
    if (tally.won(this.majority)) {
      this.becomeCandidate();
      return;
    }
    for (const v of tally.waiting.keys()) this.sendVoteRequest(v, true);
  }

  private losePreVote(role: ProspectiveRole): void {
    if (role.lastLeaderId !== NO_REPLICA) this.becomeFollower(this.election.epoch, role.lastLeaderId);
    else this.becomeUnattached(this.election.epoch);
  }

  private becomeCandidate(): void {
    const epoch = this.election.epoch + 1;
    const tally = new VoteTally(this.nodeId, this.voters, this.nowMs);
    this.setRole(new CandidateRole(tally, this.nowMs + this.electionTimeoutMs()), { epoch, votedId: this.nodeId, leaderId: NO_REPLICA });
    if (tally.won(this.majority)) {
      this.becomeLeader(tally);
      return;
    }
    for (const v of tally.waiting.keys()) this.sendVoteRequest(v, false);
  }

  private startElectionBackoff(role: CandidateRole): void {
    this.electionRetries += 1;
    role.backoffUntilMs = this.nowMs + this.electionBackoffMs();
  }

  private becomeLeader(tally: VoteTally): void {
    const epoch = this.election.epoch;
    const role = new LeaderRole(this.log.endOffset(), this.seq + 1, this.nowMs, [...tally.granted].sort((a, b) => a - b));
    this.setRole(role, { epoch, votedId: this.nodeId, leaderId: this.nodeId });
    this.electionRetries = 0;
    for (const v of this.voters) {
      if (v === this.nodeId) continue;
      // Every voter counts as heard at the start, so check quorum gives them a full timeout.
      role.voterProgress.set(v, { endOffset: -1, lastFetchMs: -1, heardMs: this.nowMs, lastCaughtUpMs: -1, highWatermarkSent: -1 });
      this.sendBeginQuorumEpoch(role, v);
    }
    // The control record that commits this epoch: the high watermark must pass it.
    this.appendAsLeader(role, {
      data: Buffer.alloc(0),
      recordCount: 1,
      control: { type: 'leaderChange', leaderId: this.nodeId, voters: this.voters, grantingVoters: role.grantingVoters },
    });
  }

  private becomeFollower(epoch: number, leaderId: number): void {
    assert(leaderId !== this.nodeId, `node ${this.nodeId} told to follow itself in epoch ${epoch}`);
    const votedId = epoch === this.election.epoch ? this.election.votedId : NO_REPLICA;
    const role = new FollowerRole(leaderId, this.nowMs + this.cfg.fetchTimeoutMs);
    this.setRole(role, { epoch, votedId, leaderId });
    this.electionRetries = 0;
    this.sendNextFetch(role);
  }

  private becomeResigned(preferredSuccessors: readonly number[]): void {
    const role = new ResignedRole(this.nowMs + this.electionTimeoutMs(), preferredSuccessors);
    this.setRole(role, this.election);
    for (const v of this.voters) if (v !== this.nodeId) this.sendEndQuorumEpoch(role, v);
  }

  /**
   * Applies what a message says about the leadership: a higher epoch moves this node to it
   * (following its leader when named); a leader named for the current epoch ends an election.
   * `from` is the sender: a prospective that hears from the leader it followed goes back to it.
   */
  private observeLeader(epoch: number, leaderId: number, from = NO_REPLICA): void {
    if (epoch > this.election.epoch) {
      if (leaderId !== NO_REPLICA) this.becomeFollower(epoch, leaderId);
      else this.becomeUnattached(epoch);
      return;
    }
    if (epoch < this.election.epoch || leaderId === NO_REPLICA) return;
    // This node led the epoch and has resigned (or restarted) since: nothing to follow.
    if (leaderId === this.nodeId) return;
    // Nothing new: a follower hearing of its leader, or a prospective that followed it (a voter
    // still following that leader names it when it grants or refuses a pre-vote).
    if (this.election.leaderId === leaderId) {
      const role = this.role;
      if (role.name === 'prospective' && from === leaderId) this.becomeFollower(epoch, leaderId); // it is alive after all
      return;
    }
    assert(this.election.leaderId === NO_REPLICA, `two leaders in epoch ${epoch}: ${this.election.leaderId} and ${leaderId}`);
    const role = this.role;
    assert(role.name === 'unattached' || role.name === 'prospective' || role.name === 'candidate', `${role.name} without a leader in epoch ${epoch}`);
    this.becomeFollower(epoch, leaderId);
  }

  private knownLeader(): LeaderAndEpoch {
    const leaderId = this.role.name === 'resigned' ? NO_REPLICA : this.election.leaderId;
    return { leaderId, epoch: this.election.epoch };
  }

  // ------------------------------------------------------------------------------------------
  // Vote

  private sendVoteRequest(to: number, preVote: boolean): void {
    this.send({
      type: 'voteRequest',
      from: this.nodeId,
      to,
      correlationId: this.nextCorrelationId++,
      candidateEpoch: this.election.epoch,
      candidateId: this.nodeId,
      lastOffsetEpoch: this.log.lastEpoch(),
      lastOffset: this.log.endOffset(),
      preVote,
    });
  }

  private resendVoteRequests(tally: VoteTally, preVote: boolean): void {
    for (const [voter, sent] of tally.waiting) {
      if (this.nowMs < sent + this.cfg.requestTimeoutMs) continue;
      tally.waiting.set(voter, this.nowMs);
      this.sendVoteRequest(voter, preVote);
    }
  }

  private onVoteRequest(req: VoteRequest): void {
    const reply = (errorCode: RaftErrorCode, voteGranted: boolean): void =>
      this.send({
        type: 'voteResponse',
        from: this.nodeId,
        to: req.from,
        correlationId: req.correlationId,
        errorCode,
        leaderId: this.knownLeader().leaderId,
        leaderEpoch: this.election.epoch,
        voteGranted,
        candidateEpoch: req.candidateEpoch,
        preVote: req.preVote,
      });
    if (!this.isVoter || !this.voters.includes(req.candidateId) || req.candidateId === this.nodeId) {
      reply(RaftError.INCONSISTENT_VOTER_SET, false);
      return;
    }
    if (req.candidateEpoch > this.election.epoch) this.becomeUnattached(req.candidateEpoch);
    if (req.candidateEpoch < this.election.epoch) {
      reply(RaftError.NONE, false);
      return;
    }
    const lastEpoch = this.log.lastEpoch();
    const logOk = req.lastOffsetEpoch > lastEpoch || (req.lastOffsetEpoch === lastEpoch && req.lastOffset >= this.log.endOffset());
    const role = this.role;
    if (req.preVote) {
      // A pre-vote binds nothing. A follower that hears from its leader protects it (KIP-996);
      // one that never fetched from it yet does not, so prospectives cannot ping-pong forever.
      const roleOk = role.name === 'leader' ? false : role.name === 'follower' ? !role.hasFetchedFromLeader : true;
      reply(RaftError.NONE, logOk && roleOk);
      return;
    }
    const { votedId, leaderId } = this.election;
    if (votedId === req.candidateId) {
      reply(RaftError.NONE, true); // the same vote again (a retry or a duplicate)
      return;
    }
    const canVote = votedId === NO_REPLICA && leaderId === NO_REPLICA && (role.name === 'unattached' || role.name === 'prospective');
    if (!canVote || !logOk) {
      reply(RaftError.NONE, false);
      return;
    }
    // The vote is persisted (Ready.electionState) before the response goes out (persist, then send).
    if (role.name === 'prospective') this.becomeUnattached(this.election.epoch, req.candidateId);
    else this.setRole(this.newUnattached(), { ...this.election, votedId: req.candidateId });
    reply(RaftError.NONE, true);
  }

  private onVoteResponse(resp: VoteResponse): void {
    this.observeLeader(resp.leaderEpoch, resp.leaderId, resp.from);
    const role = this.role;
    const epoch = this.election.epoch;
    if (resp.candidateEpoch !== epoch || resp.leaderEpoch !== epoch) return;
    const granted = resp.errorCode === RaftError.NONE && resp.voteGranted;
    if (role.name === 'prospective' && resp.preVote) {
      role.tally.record(resp.from, granted);
      if (role.tally.won(this.majority)) this.becomeCandidate();
      else if (role.tally.lost(this.majority, this.voters.length)) this.losePreVote(role);
    } else if (role.name === 'candidate' && !resp.preVote && role.backoffUntilMs === undefined) {
      role.tally.record(resp.from, granted);
      if (role.tally.won(this.majority)) this.becomeLeader(role.tally);
      else if (role.tally.lost(this.majority, this.voters.length)) this.startElectionBackoff(role);
    }
  }

  // ------------------------------------------------------------------------------------------
  // BeginQuorumEpoch / EndQuorumEpoch

  private sendBeginQuorumEpoch(role: LeaderRole, to: number): void {
    role.unackedBegin.set(to, this.nowMs);
    this.send({ type: 'beginQuorumEpochRequest', from: this.nodeId, to, correlationId: this.nextCorrelationId++, leaderId: this.nodeId, leaderEpoch: this.election.epoch });
  }

  private onBeginQuorumEpochRequest(req: BeginQuorumEpochRequest): void {
    let errorCode: RaftErrorCode = RaftError.NONE;
    if (!this.voters.includes(req.leaderId) || req.leaderId === this.nodeId) errorCode = RaftError.INCONSISTENT_VOTER_SET;
    else if (req.leaderEpoch < this.election.epoch) errorCode = RaftError.FENCED_LEADER_EPOCH;
    else this.observeLeader(req.leaderEpoch, req.leaderId, req.from);
    const leader = this.knownLeader();
    this.send({ type: 'beginQuorumEpochResponse', from: this.nodeId, to: req.from, correlationId: req.correlationId, errorCode, leaderId: leader.leaderId, leaderEpoch: leader.epoch });
  }

  private onBeginQuorumEpochResponse(resp: BeginQuorumEpochResponse): void {
    this.observeLeader(resp.leaderEpoch, resp.leaderId);
    const role = this.role;
    if (role.name === 'leader' && resp.leaderEpoch === this.election.epoch && resp.errorCode === RaftError.NONE) role.unackedBegin.delete(resp.from);
  }

  private sendEndQuorumEpoch(role: ResignedRole, to: number): void {
    role.unacked.set(to, this.nowMs);
    this.send({
      type: 'endQuorumEpochRequest',
      from: this.nodeId,
      to,
      correlationId: this.nextCorrelationId++,
      leaderId: this.nodeId,
      leaderEpoch: this.election.epoch,
      preferredSuccessors: role.preferredSuccessors,
    });
  }

  private onEndQuorumEpochRequest(req: EndQuorumEpochRequest): void {
    let errorCode: RaftErrorCode = RaftError.NONE;
    if (!this.voters.includes(req.leaderId) || req.leaderId === this.nodeId) errorCode = RaftError.INCONSISTENT_VOTER_SET;
    else if (req.leaderEpoch < this.election.epoch) errorCode = RaftError.FENCED_LEADER_EPOCH;
    else {
      this.observeLeader(req.leaderEpoch, req.leaderId);
      const role = this.role;
      if (role.name === 'follower' && role.leaderId === req.leaderId && this.isVoter) {
        // The leader is leaving: stop protecting it from pre-votes and start an election soon,
        // the first preferred successor at once, the others staggered, the rest last.
        role.hasFetchedFromLeader = false;
        const position = req.preferredSuccessors.indexOf(this.nodeId);
        const delay = position < 0 ? this.cfg.electionBackoffMaxMs : Math.floor((this.cfg.electionBackoffMaxMs * position) / Math.max(1, req.preferredSuccessors.length));
        role.fetchDeadlineMs = Math.min(role.fetchDeadlineMs, this.nowMs + delay);
      }
    }
    const leader = this.knownLeader();
    this.send({ type: 'endQuorumEpochResponse', from: this.nodeId, to: req.from, correlationId: req.correlationId, errorCode, leaderId: leader.leaderId, leaderEpoch: leader.epoch });
  }

  private onEndQuorumEpochResponse(resp: EndQuorumEpochResponse): void {
    this.observeLeader(resp.leaderEpoch, resp.leaderId);
    const role = this.role;
    if (role.name === 'resigned' && resp.leaderEpoch === this.election.epoch) role.unacked.delete(resp.from);
  }

  // ------------------------------------------------------------------------------------------
  // Fetch: the leader side

  private onFetchRequest(req: FetchRequest): void {
    const role = this.role;
    if (role.name !== 'leader') {
      this.respondFetchError(req, RaftError.NOT_LEADER_OR_FOLLOWER, this.knownLeader());
      return;
    }
    if (req.currentLeaderEpoch !== this.election.epoch) {
      this.respondFetchError(req, req.currentLeaderEpoch < this.election.epoch ? RaftError.FENCED_LEADER_EPOCH : RaftError.UNKNOWN_LEADER_EPOCH, this.knownLeader());
      return;
    }
    const progress = this.progressOf(role, req.replicaId);
    progress.lastFetchMs = this.nowMs;
    progress.heardMs = this.nowMs;
    role.unackedBegin.delete(req.replicaId);
    const previous = role.parked.get(req.replicaId);
    if (previous !== undefined) {
      role.parked.delete(req.replicaId);
      this.answerFetch(previous.request);
    }
    const check = this.validateFetchPosition(req.fetchOffset, req.lastFetchedEpoch);
    if (check !== undefined) {
      this.send(this.fetchResponse(req, RaftError.NONE, [], check));
      return;
    }
    // The fetcher's log matches ours below fetchOffset, and it is durable there (sent after sync).
    progress.endOffset = Math.max(progress.endOffset, req.fetchOffset);
    if (req.fetchOffset >= this.log.endOffset()) progress.lastCaughtUpMs = this.nowMs;
    const hwBefore = this.commit;
    if (this.voters.includes(req.replicaId)) this.maybeAdvanceHighWatermark(role);
    // Answer at once when there is data, or a high watermark the fetcher has not been told.
    if (req.fetchOffset < this.log.endOffset() || req.maxWaitMs <= 0 || this.commit > hwBefore || progress.highWatermarkSent < this.commit) {
      this.answerFetch(req);
    } else {
      role.parked.set(req.replicaId, { request: req, deadlineMs: this.nowMs + Math.min(req.maxWaitMs, this.cfg.fetchMaxWaitMs) });
    }
  }

  private progressOf(role: LeaderRole, replicaId: number): ReplicaProgress {
    const voter = role.voterProgress.get(replicaId);
    if (voter !== undefined) return voter;
    let p = role.observerProgress.get(replicaId);
    if (p === undefined) {
      if (role.observerProgress.size >= MAX_TRACKED_OBSERVERS) {
        let oldest: number | undefined;
        let oldestMs = Infinity;
        for (const [id, o] of role.observerProgress) if (o.lastFetchMs < oldestMs) [oldest, oldestMs] = [id, o.lastFetchMs];
        role.observerProgress.delete(oldest!);
      }
      p = { endOffset: -1, lastFetchMs: this.nowMs, heardMs: this.nowMs, lastCaughtUpMs: -1, highWatermarkSent: -1 };
      role.observerProgress.set(replicaId, p);
    }
    return p;
  }

  /**
   * Checks a fetcher's position against this log: undefined when its log matches ours below
   * `fetchOffset`, else where it diverges or the snapshot it must fetch instead.
   */
  private validateFetchPosition(fetchOffset: number, lastFetchedEpoch: number): Pick<FetchResponse, 'divergingEpoch' | 'snapshotId'> | undefined {
    const snapshot = this.log.latestSnapshot();
    const needSnapshot = (): Pick<FetchResponse, 'snapshotId'> => {
      assert(snapshot !== undefined, `fetch below the log start ${this.log.startOffset()} without a snapshot`);
      return { snapshotId: snapshot };
    };
    if (fetchOffset < this.log.startOffset()) return needSnapshot();
    const epoch = fetchOffset === 0 ? 0 : lastFetchedEpoch;
    const ours = this.log.endOffsetForEpoch(epoch);
    if (ours === undefined) return needSnapshot();
    if (ours.epoch === epoch && ours.offset >= fetchOffset) return undefined;
    return { divergingEpoch: ours };
  }

  /** Answers a fetch whose position matched this log (a parked one still does: the log only grew). */
  private answerFetch(req: FetchRequest): void {
    const records = this.log.read(req.fetchOffset, Math.min(req.maxBytes, this.cfg.fetchMaxBytes));
    this.send(this.fetchResponse(req, RaftError.NONE, records, {}));
    if (this.role.name === 'leader') this.progressOf(this.role, req.replicaId).highWatermarkSent = this.commit;
  }

  private fetchResponse(req: FetchRequest, errorCode: RaftErrorCode, records: readonly RaftBatch[], extra: Pick<FetchResponse, 'divergingEpoch' | 'snapshotId'>): FetchResponse {
    return {
      type: 'fetchResponse',
      from: this.nodeId,
      to: req.from,
      correlationId: req.correlationId,
      errorCode,
      currentLeader: this.knownLeader(),
      highWatermark: this.commit,
      logStartOffset: this.log.startOffset(),
      records,
      ...extra,
      fetchOffset: req.fetchOffset,
      lastFetchedEpoch: req.lastFetchedEpoch,
    };
  }

  private respondFetchError(req: FetchRequest, errorCode: RaftErrorCode, leader: LeaderAndEpoch): void {
    this.send({ ...this.fetchResponse(req, errorCode, [], {}), currentLeader: leader });
  }

  private maybeAdvanceHighWatermark(role: LeaderRole): void {
    const offsets = this.voters.map((v) => (v === this.nodeId ? role.durableEnd : role.voterProgress.get(v)!.endOffset)).sort((a, b) => b - a);
    const replicated = offsets[this.majority - 1]!;
    if (replicated <= role.epochStartOffset || replicated <= this.commit) return;
    assert(replicated <= this.log.endOffset(), `high watermark ${replicated} past the leader's log end ${this.log.endOffset()}`);
    this.commit = replicated;
    while (role.uncommitted.length > 0 && role.uncommitted[0]!.lastOffset < replicated) role.uncommittedBytes -= role.uncommitted.shift()!.bytes;
    // Followers learn the new high watermark from the answers to their parked fetches.
    for (const p of role.parked.values()) this.answerFetch(p.request);
    role.parked.clear();
  }

  private appendAsLeader(role: LeaderRole, batch: { data: Buffer; recordCount: number; control?: RaftBatch['control'] }): RaftBatch {
    const baseOffset = this.log.endOffset();
    const b: RaftBatch = {
      baseOffset,
      lastOffset: baseOffset + batch.recordCount - 1,
      epoch: this.election.epoch,
      appendTimeMs: this.nowMs,
      data: batch.data,
      ...(batch.control !== undefined ? { control: batch.control } : {}),
    };
    this.log.append(b);
    role.uncommitted.push({ lastOffset: b.lastOffset, bytes: batchSizeBytes(b) });
    role.uncommittedBytes += batchSizeBytes(b);
    for (const p of role.parked.values()) this.answerFetch(p.request);
    role.parked.clear();
    return b;
  }

  // ------------------------------------------------------------------------------------------
  // Fetch: the follower side

  private sendNextFetch(role: FollowerRole): void {
    const correlationId = this.nextCorrelationId++;
    role.inflight = { correlationId, sentMs: this.nowMs };
    role.retryAtMs = undefined;
    const sf = role.snapshotFetch;
    if (sf !== undefined) {
      this.send({
        type: 'fetchSnapshotRequest',
        from: this.nodeId,
        to: role.leaderId,
        correlationId,
        replicaId: this.nodeId,
        currentLeaderEpoch: this.election.epoch,
        snapshotId: sf.id,
        position: sf.position,
        maxBytes: this.cfg.fetchMaxBytes,
      });
      return;
    }
    this.send({
      type: 'fetchRequest',
      from: this.nodeId,
      to: role.leaderId,
      correlationId,
      replicaId: this.nodeId,
      currentLeaderEpoch: this.election.epoch,
      fetchOffset: this.log.endOffset(),
      lastFetchedEpoch: this.log.lastEpoch(),
      maxWaitMs: this.cfg.fetchMaxWaitMs,
      maxBytes: this.cfg.fetchMaxBytes,
    });
  }

  /** Observers: ask the next voter who leads (its answer names the leader, if it knows one). */
  private sendDiscoveryFetch(role: UnattachedRole): void {
    const to = this.voters[this.discoveryIndex++ % this.voters.length]!;
    role.electionDeadlineMs = this.nowMs + this.cfg.requestTimeoutMs;
    this.send({
      type: 'fetchRequest',
      from: this.nodeId,
      to,
      correlationId: this.nextCorrelationId++,
      replicaId: this.nodeId,
      currentLeaderEpoch: this.election.epoch,
      fetchOffset: this.log.endOffset(),
      lastFetchedEpoch: this.log.lastEpoch(),
      maxWaitMs: 0,
      maxBytes: this.cfg.fetchMaxBytes,
    });
  }

  /** The follower's role when `from` is its leader in `epoch`; undefined otherwise. */
  private followerOf(from: number, epoch: number): FollowerRole | undefined {
    const role = this.role;
    return role.name === 'follower' && role.leaderId === from && epoch === this.election.epoch ? role : undefined;
  }

  /** Marks the in-flight request answered; true when `correlationId` is it. */
  private takeInflight(role: FollowerRole, correlationId: number): boolean {
    if (role.inflight === undefined || role.inflight.correlationId !== correlationId) return false;
    role.inflight = undefined;
    return true;
  }

  private onFetchResponse(resp: FetchResponse): void {
    this.observeLeader(resp.currentLeader.epoch, resp.currentLeader.leaderId, resp.from);
    const unattached = this.role;
    if (unattached.name === 'unattached' && !this.isVoter) {
      // Discovery found no leader there: ask the next voter soon.
      unattached.electionDeadlineMs = Math.min(unattached.electionDeadlineMs, this.nowMs + this.cfg.retryBackoffMs);
      return;
    }
    const role = this.followerOf(resp.from, resp.currentLeader.epoch);
    if (role === undefined) return;
    const current = this.takeInflight(role, resp.correlationId);
    if (resp.errorCode !== RaftError.NONE) {
      if (current) role.retryAtMs = this.nowMs + this.cfg.retryBackoffMs;
      return;
    }
    if (resp.fetchOffset !== this.log.endOffset() || resp.lastFetchedEpoch !== this.log.lastEpoch() || role.snapshotFetch !== undefined) {
      // An answer to an older position of this log (a duplicate, a retry): it says nothing now.
      if (current) this.sendNextFetch(role);
      return;
    }
    role.fetchDeadlineMs = this.nowMs + this.cfg.fetchTimeoutMs;
    role.hasFetchedFromLeader = true;
    if (resp.divergingEpoch !== undefined) {
      this.truncateToDivergence(resp.divergingEpoch);
    } else if (resp.snapshotId !== undefined) {
      // Usually the log ends below the leader's log start; it may also end above it with a stale
      // tail of epochs older than the leader's snapshot. Either way the snapshot replaces it all.
      role.snapshotFetch = { id: resp.snapshotId, position: 0, size: -1 };
    } else {
      for (const b of resp.records) {
        assert(b.baseOffset === this.log.endOffset(), `leader sent batch at ${b.baseOffset} for fetch offset ${this.log.endOffset()}`);
        assert(b.epoch <= this.election.epoch, `batch of epoch ${b.epoch} from the leader of epoch ${this.election.epoch}`);
        this.log.append(b);
      }
      this.advanceCommit(Math.min(resp.highWatermark, this.log.endOffset()));
    }
    if (current) this.sendNextFetch(role);
  }

  /**
   * Removes the tail that the leader's log does not have (KIP-595's DivergingEpoch: the largest
   * epoch the leader has up to our last fetched epoch, and where it ends there). When we have
   * that epoch too, both logs hold the same batches of it up to the smaller end; when we do not,
   * only our entries up to the end of our own last epoch before it may match, and the next fetch
   * checks those.
   */
  private truncateToDivergence(diverging: OffsetAndEpoch): void {
    const ours = this.log.endOffsetForEpoch(diverging.epoch);
    assert(ours !== undefined, `diverging epoch ${diverging.epoch} is older than this log's start epoch`);
    const to = ours.epoch === diverging.epoch ? Math.min(diverging.offset, ours.offset) : ours.offset;
    assert(to < this.log.endOffset(), `divergence at ${diverging.offset}@${diverging.epoch} removes nothing from a log ending at ${this.log.endOffset()}`);
    assert(to >= this.commit, `truncation to ${to} would remove committed offsets below ${this.commit}`);
    this.log.truncateTo(to);
  }

  private advanceCommit(offset: number): void {
    if (offset > this.commit) this.commit = offset;
  }

  // ------------------------------------------------------------------------------------------
  // FetchSnapshot

  private onFetchSnapshotRequest(req: FetchSnapshotRequest): void {
    const role = this.role;
    const reply = (errorCode: RaftErrorCode, size = -1, bytes: Buffer = Buffer.alloc(0)): void =>
      this.send({
        type: 'fetchSnapshotResponse',
        from: this.nodeId,
        to: req.from,
        correlationId: req.correlationId,
        errorCode,
        currentLeader: this.knownLeader(),
        snapshotId: req.snapshotId,
        size,
        position: req.position,
        bytes,
      });
    if (role.name !== 'leader') return reply(RaftError.NOT_LEADER_OR_FOLLOWER);
    if (req.currentLeaderEpoch !== this.election.epoch) {
      return reply(req.currentLeaderEpoch < this.election.epoch ? RaftError.FENCED_LEADER_EPOCH : RaftError.UNKNOWN_LEADER_EPOCH);
    }
    const progress = this.progressOf(role, req.replicaId);
    progress.lastFetchMs = this.nowMs;
    progress.heardMs = this.nowMs;
    role.unackedBegin.delete(req.replicaId);
    if (req.position < 0) return reply(RaftError.POSITION_OUT_OF_RANGE);
    const chunk = this.view.readSnapshot(req.snapshotId, req.position, Math.max(1, Math.min(req.maxBytes, this.cfg.fetchMaxBytes)));
    if (chunk === undefined) return reply(RaftError.SNAPSHOT_NOT_FOUND);
    if (req.position > chunk.size) return reply(RaftError.POSITION_OUT_OF_RANGE, chunk.size);
    reply(RaftError.NONE, chunk.size, chunk.bytes);
  }

  private onFetchSnapshotResponse(resp: FetchSnapshotResponse): void {
    this.observeLeader(resp.currentLeader.epoch, resp.currentLeader.leaderId, resp.from);
    const role = this.followerOf(resp.from, resp.currentLeader.epoch);
    if (role === undefined) return;
    const current = this.takeInflight(role, resp.correlationId);
    const sf = role.snapshotFetch;
    if (sf === undefined || sf.id.endOffset !== resp.snapshotId.endOffset || sf.id.epoch !== resp.snapshotId.epoch || resp.position !== sf.position) {
      if (current) this.sendNextFetch(role);
      return;
    }
    if (resp.errorCode !== RaftError.NONE) {
      if (resp.errorCode === RaftError.SNAPSHOT_NOT_FOUND) role.snapshotFetch = undefined; // a newer one replaced it: fetch again
      else if (resp.errorCode === RaftError.POSITION_OUT_OF_RANGE) sf.position = 0;
      if (current) role.retryAtMs = this.nowMs + this.cfg.retryBackoffMs;
      return;
    }
    if ((sf.size >= 0 && resp.size !== sf.size) || resp.position + resp.bytes.length > resp.size || (resp.bytes.length === 0 && resp.position < resp.size)) {
      sf.position = 0; // the snapshot changed under us or the answer is inconsistent: start over
      sf.size = -1;
      if (current) role.retryAtMs = this.nowMs + this.cfg.retryBackoffMs;
      return;
    }
    role.fetchDeadlineMs = this.nowMs + this.cfg.fetchTimeoutMs;
    role.hasFetchedFromLeader = true;
    sf.size = resp.size;
    this.log.writeSnapshotChunk(sf.id, sf.position, sf.size, resp.bytes);
    sf.position += resp.bytes.length;
    if (sf.position === sf.size) {
      assert(sf.id.endOffset >= this.commit, `installing snapshot ${sf.id.endOffset} below the high watermark ${this.commit}`);
      this.log.installSnapshot(sf.id);
      role.snapshotFetch = undefined;
      this.commit = sf.id.endOffset;
      this.applied = sf.id.endOffset;
      this.snapshotToLoad = sf.id;
      this.bytesSinceSnapshot = 0;
    }
    if (current) this.sendNextFetch(role);
  }

  // ------------------------------------------------------------------------------------------
  // Apply and snapshots

  private takeCommitted(): Committed[] {
    const out: Committed[] = [];
    if (this.snapshotToLoad !== undefined) {
      out.push({ type: 'snapshot', snapshotId: this.snapshotToLoad });
      this.snapshotToLoad = undefined;
    }
    if (this.applied >= this.commit) return out;
    for (const b of this.log.read(this.applied, this.cfg.maxApplyBytesPerReady)) {
      if (b.baseOffset >= this.commit) break;
      assert(b.lastOffset < this.commit, `high watermark ${this.commit} splits the batch ${b.baseOffset}..${b.lastOffset}`);
      out.push({ type: 'batch', batch: b });
      this.applied = b.lastOffset + 1;
      this.bytesSinceSnapshot += batchSizeBytes(b);
    }
    return out;
  }

  private maybeRequestSnapshot(): SnapshotId | undefined {
    if (this.snapshotInFlight || this.bytesSinceSnapshot === 0 || this.applied <= this.log.startOffset()) return undefined;
    if (!snapshotDue(this.cfg, this.bytesSinceSnapshot, this.lastSnapshotMs, this.nowMs)) return undefined;
    this.snapshotInFlight = true;
    this.bytesSinceSnapshot = 0;
    this.lastSnapshotMs = this.nowMs;
    return { endOffset: this.applied, epoch: this.log.epochAt(this.applied - 1) };
  }

  private send(message: RaftMessage): void {
    assert(message.to !== this.nodeId, `node ${this.nodeId} sending ${message.type} to itself`);
    this.outbox.push(message);
  }
}
