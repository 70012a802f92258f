// The roles of a KRaft replica, one type per role, and the table of legal transitions. The
// persisted part of the state (epoch, vote, leader: `ElectionState`) lives beside the role in
// RaftNode; a role holds only what is lost on restart (timers, tallies, follower progress).
//
// Transitions (target <- sources: when). "Higher epoch" means a message showed a larger epoch.
//
//   Unattached  <- every role: a higher epoch without a known leader;
//                  Unattached, Prospective: this replica granted its vote in the same epoch;
//                  Prospective: the pre-vote was lost and no leader of the epoch is known;
//                  Follower (observers only): the fetch timeout expired, find the leader again.
//   Prospective <- Unattached: the election timeout expired;
//                  Follower: the fetch timeout expired (or the leader resigned, EndQuorumEpoch);
//                  Candidate: the election was lost or timed out, after the backoff;
//                  Resigned: the election timeout expired.
//   Candidate   <- Prospective: a majority granted the pre-vote (KIP-996). The epoch is bumped
//                  and the vote for itself persisted before any Vote request leaves.
//   Leader      <- Candidate: a majority granted the vote. Appends LeaderChangeMessage.
//   Follower    <- Unattached, Prospective, Candidate: a leader of this or a higher epoch;
//                  Follower, Leader, Resigned: a leader of a higher epoch.
//   Resigned    <- Leader: graceful shutdown (EndQuorumEpoch with preferred successors), or
//                  check quorum failed (no fetches from a majority for 1.5 fetch timeouts).
//
// Epoch rules on top: Candidate = epoch + 1; Leader, Resigned, Prospective keep the epoch; a
// same-epoch Follower transition may not change a known leader. Observers (replicas not in the
// voter set) are only ever Unattached or Follower. Anything else throws RaftInvariantError.
import { assert } from './raft-log.js';
import type { FetchRequest, SnapshotId } from './types.js';
import { NO_REPLICA } from './types.js';

export type RoleName = 'unattached' | 'prospective' | 'candidate' | 'leader' | 'follower' | 'resigned';

const ENTERED_FROM: Readonly<Record<RoleName, readonly RoleName[]>> = {
  unattached: ['unattached', 'prospective', 'candidate', 'leader', 'follower', 'resigned'],
  prospective: ['unattached', 'follower', 'candidate', 'resigned'],
  candidate: ['prospective'],
  leader: ['candidate'],
  follower: ['unattached', 'prospective', 'candidate', 'follower', 'leader', 'resigned'],
  resigned: ['leader'],
};

/** The state a transition starts from or goes to. */
export interface TransitionPoint {
  readonly role: RoleName;
  readonly epoch: number;
  readonly leaderId: number;
}

/** Throws unless the table above allows `from` -> `to`. */
export function checkTransition(from: TransitionPoint, to: TransitionPoint, isVoter: boolean): void {
  const what = `${from.role}@${from.epoch} -> ${to.role}@${to.epoch}`;
  assert(ENTERED_FROM[to.role].includes(from.role), `illegal transition ${what}`);
  assert(isVoter || to.role === 'unattached' || to.role === 'follower', `observer cannot become ${to.role} (${what})`);
  assert(to.epoch >= from.epoch, `epoch goes back in ${what}`);
  switch (to.role) {
    case 'candidate':
      assert(to.epoch === from.epoch + 1, `candidate must bump the epoch by one: ${what}`);
      return;
    case 'leader':
    case 'resigned':
    case 'prospective':
      assert(to.epoch === from.epoch, `${to.role} keeps the epoch: ${what}`);
      return;
    case 'unattached':
      assert(
        to.epoch > from.epoch || from.role === 'unattached' || from.role === 'prospective' || (!isVoter && from.role === 'follower'),
        `unattached in the same epoch only after a vote or a lost pre-vote: ${what}`,
      );
      return;
    case 'follower':
      if (to.epoch > from.epoch) return;
      assert(from.role !== 'follower' && from.role !== 'leader' && from.role !== 'resigned', `${from.role} follows a new leader only in a higher epoch: ${what}`);
      assert(from.leaderId === NO_REPLICA || from.leaderId === to.leaderId, `leader of epoch ${to.epoch} changes from ${from.leaderId} to ${to.leaderId}`);
      return;
  }
}

/** Granted and rejected votes (or pre-votes) of one election, and when each request went out. */
export class VoteTally {
  readonly granted = new Set<number>();
  readonly rejected = new Set<number>();
  /** Voters still to answer -> when the last request went to them. */
  readonly waiting = new Map<number, number>();

  constructor(selfId: number, voters: readonly number[], nowMs: number) {
    this.granted.add(selfId);
    for (const v of voters) if (v !== selfId) this.waiting.set(v, nowMs);
  }

  record(voterId: number, granted: boolean): void {
    if (!this.waiting.has(voterId)) return; // a duplicate, or not a voter
    this.waiting.delete(voterId);
    (granted ? this.granted : this.rejected).add(voterId);
  }

  won(majority: number): boolean {
    return this.granted.size >= majority;
  }

  /** No majority is possible any more. */
  lost(majority: number, voterCount: number): boolean {
    return this.rejected.size > voterCount - majority;
  }
}

export class UnattachedRole {
  readonly name = 'unattached';
  /** Voters: when to start an election. Observers: when to ask the next voter for the leader. */
  constructor(public electionDeadlineMs: number) {}
}

export class ProspectiveRole {
  readonly name = 'prospective';
  constructor(
    /** The leader this replica followed in this epoch, to go back to if the pre-vote is lost. */
    readonly lastLeaderId: number,
    readonly tally: VoteTally,
    readonly electionDeadlineMs: number,
  ) {}
}

export class CandidateRole {
  readonly name = 'candidate';
  /** Set once the election is lost or timed out: become prospective at this time. */
  backoffUntilMs: number | undefined;
  constructor(
    readonly tally: VoteTally,
    readonly electionDeadlineMs: number,
  ) {}
}

/** What the leader knows of one replica's fetching. */
export interface ReplicaProgress {
  /** The largest fetch offset this replica sent that matched the leader's log (-1: unknown). */
  endOffset: number;
  /** The last Fetch or FetchSnapshot from it (-1: none yet). */
  lastFetchMs: number;
  /** For check quorum: its last fetch, or when this leadership began. */
  heardMs: number;
  lastCaughtUpMs: number;
  /** The high watermark in the last Fetch answer sent to it (-1: none). A fetch from a replica
   * that has not been told the current one is answered at once instead of parked: otherwise the
   * voter whose fetch did not advance the high watermark learns it only when its parked fetch
   * times out (what KIP-1166 fixes with the request's HighWatermark). A lost answer falls back
   * to that wait. */
  highWatermarkSent: number;
}

export interface ParkedFetch {
  readonly request: FetchRequest;
  readonly deadlineMs: number;
}

export class LeaderRole {
  readonly name = 'leader';
  readonly voterProgress = new Map<number, ReplicaProgress>();
  readonly observerProgress = new Map<number, ReplicaProgress>();
  /** Voters that have neither answered BeginQuorumEpoch nor fetched in this epoch -> last send. */
  readonly unackedBegin = new Map<number, number>();
  /** At most one parked Fetch per replica (a newer one answers the older at once). */
  readonly parked = new Map<number, ParkedFetch>();
  /** Sizes of appended batches not yet committed, oldest first; their total is bounded. */
  readonly uncommitted: Array<{ readonly lastOffset: number; readonly bytes: number }> = [];
  uncommittedBytes = 0;
  /** The leader's own log end that is durable (from `persisted`); -1 until the first Ready of
   * this leadership is durable, so an older Ready's end (maybe pre-truncation) never counts. */
  durableEnd = -1;

  constructor(
    /** Offset of this epoch's LeaderChangeMessage: the high watermark must pass it. */
    readonly epochStartOffset: number,
    /** Seq of the first Ready of this leadership. */
    readonly firstReadySeq: number,
    readonly startedMs: number,
    readonly grantingVoters: readonly number[],
  ) {}
}

export class FollowerRole {
  readonly name = 'follower';
  /** Set by a successful fetch from the leader; a follower that has one rejects pre-votes. */
  hasFetchedFromLeader = false;
  /** The one Fetch or FetchSnapshot in flight. */
  inflight: { readonly correlationId: number; readonly sentMs: number } | undefined;
  /** After an error response: when to fetch again. */
  retryAtMs: number | undefined;
  /** A snapshot being fetched because the fetch offset fell below the leader's log start. */
  snapshotFetch: { readonly id: SnapshotId; position: number; size: number } | undefined;

  constructor(
    readonly leaderId: number,
    public fetchDeadlineMs: number,
  ) {}
}

export class ResignedRole {
  readonly name = 'resigned';
  /** Voters that have not acknowledged EndQuorumEpoch -> last send. */
  readonly unacked = new Map<number, number>();
  constructor(
    readonly electionDeadlineMs: number,
    readonly preferredSuccessors: readonly number[],
  ) {}
}

export type Role = UnattachedRole | ProspectiveRole | CandidateRole | LeaderRole | FollowerRole | ResignedRole;
