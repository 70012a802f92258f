// Values the KRaft core exchanges with its driver: log entries (opaque batches), the persisted
// election state, snapshot ids, and the RPC messages as plain structs that mirror the fields of
// Kafka's Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch and FetchSnapshot messages the core needs.
// The driver maps them to the generated codecs (src/protocol/messages); the core never sees bytes
// on the wire and never decodes a batch.
import { ErrorCode } from '../../protocol/errors.js';

/** Replica id meaning "none" (Kafka's -1 for LeaderId, VotedId, ReplicaId). */
export const NO_REPLICA = -1;

/** An offset and the epoch of the entry before it: a log end, a snapshot id, a diverging point. */
export interface OffsetAndEpoch {
  readonly offset: number;
  readonly epoch: number;
}

/**
 * A snapshot's id as Kafka names it: the offset one past its last entry and that entry's epoch
 * (`<endOffset>-<epoch>.checkpoint`). Everything below `endOffset` is in the snapshot.
 */
export interface SnapshotId {
  readonly endOffset: number;
  readonly epoch: number;
}

/** The control records the core itself writes or reads (Kafka's ControlRecordType). */
export type ControlRecord = {
  readonly type: 'leaderChange';
  readonly leaderId: number;
  /** LeaderChangeMessage.Voters: the voter set of this epoch. */
  readonly voters: readonly number[];
  /** LeaderChangeMessage.GrantingVoters: who voted for this leader. */
  readonly grantingVoters: readonly number[];
};

/**
 * One record batch of the metadata log. The core knows only its offsets, epoch and size; `data`
 * is whatever the driver stores (for the metadata log: the record batch bytes, to which the driver
 * patches `baseOffset` and `epoch` as partitionLeaderEpoch on append). Batches the core writes
 * itself carry `control` and an empty `data`; the driver encodes them as control batches and,
 * reading one back, fills `control` again. Batches are immutable once created: the core, the
 * storage and the messages share them.
 */
export interface RaftBatch {
  readonly baseOffset: number;
  /** Inclusive. */
  readonly lastOffset: number;
  readonly epoch: number;
  readonly appendTimeMs: number;
  readonly data: Buffer;
  readonly control?: ControlRecord;
}

/** Bytes a batch counts for in limits and in the snapshot threshold. */
export function batchSizeBytes(batch: RaftBatch): number {
  return batch.data.length;
}

/**
 * Kafka's quorum-state file: the epoch, who this replica voted for in it and the leader it knows
 * for it. Persisted before anything that depends on it is sent (a vote, a candidacy).
 */
export interface ElectionState {
  readonly epoch: number;
  readonly votedId: number;
  readonly leaderId: number;
}

export function sameElectionState(a: ElectionState, b: ElectionState): boolean {
  return a.epoch === b.epoch && a.votedId === b.votedId && a.leaderId === b.leaderId;
}

/** Error codes the core puts in responses (Kafka's values). */
export const RaftError = {
  NONE: ErrorCode.NONE,
  NOT_LEADER_OR_FOLLOWER: ErrorCode.NOT_LEADER_OR_FOLLOWER,
  FENCED_LEADER_EPOCH: ErrorCode.FENCED_LEADER_EPOCH,
  UNKNOWN_LEADER_EPOCH: ErrorCode.UNKNOWN_LEADER_EPOCH,
  INCONSISTENT_VOTER_SET: ErrorCode.INCONSISTENT_VOTER_SET,
  SNAPSHOT_NOT_FOUND: ErrorCode.SNAPSHOT_NOT_FOUND,
  POSITION_OUT_OF_RANGE: ErrorCode.POSITION_OUT_OF_RANGE,
} as const;
export type RaftErrorCode = (typeof RaftError)[keyof typeof RaftError];

/** Fields every message has. Responses carry the correlation id of their request. */
interface Envelope {
  readonly from: number;
  readonly to: number;
  readonly correlationId: number;
}

/** A leader id with its epoch, as in Kafka's CurrentLeader / LeaderIdAndEpoch. */
export interface LeaderAndEpoch {
  readonly leaderId: number;
  readonly epoch: number;
}

/** VoteRequest (v2 adds PreVote, KIP-996). */
export interface VoteRequest extends Envelope {
  readonly type: 'voteRequest';
  /** The candidate's epoch; for a pre-vote the prospective's current epoch, not bumped. */
  readonly candidateEpoch: number;
  readonly candidateId: number;
  /** Epoch of the candidate's last entry (LastOffsetEpoch). */
  readonly lastOffsetEpoch: number;
  /** The candidate's log end offset (Kafka fills LastOffset with the end offset). */
  readonly lastOffset: number;
  readonly preVote: boolean;
}

export interface VoteResponse extends Envelope {
  readonly type: 'voteResponse';
  readonly errorCode: RaftErrorCode;
  readonly leaderId: number;
  readonly leaderEpoch: number;
  readonly voteGranted: boolean;
  /** Echoed from the request: the driver fills these from the request it sent. */
  readonly candidateEpoch: number;
  readonly preVote: boolean;
}

export interface BeginQuorumEpochRequest extends Envelope {
  readonly type: 'beginQuorumEpochRequest';
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

export interface BeginQuorumEpochResponse extends Envelope {
  readonly type: 'beginQuorumEpochResponse';
  readonly errorCode: RaftErrorCode;
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

export interface EndQuorumEpochRequest extends Envelope {
  readonly type: 'endQuorumEpochRequest';
  readonly leaderId: number;
  readonly leaderEpoch: number;
  /** Voters to start the next election, most caught up first (PreferredSuccessors/Candidates). */
  readonly preferredSuccessors: readonly number[];
}

export interface EndQuorumEpochResponse extends Envelope {
  readonly type: 'endQuorumEpochResponse';
  readonly errorCode: RaftErrorCode;
  readonly leaderId: number;
  readonly leaderEpoch: number;
}

/** Fetch as a KRaft replica sends it for `__cluster_metadata-0`. */
export interface FetchRequest extends Envelope {
  readonly type: 'fetchRequest';
  /** ReplicaState.ReplicaId: a voter or an observer. */
  readonly replicaId: number;
  readonly currentLeaderEpoch: number;
  readonly fetchOffset: number;
  /** Epoch of the entry before fetchOffset (the log's last epoch). */
  readonly lastFetchedEpoch: number;
  readonly maxWaitMs: number;
  readonly maxBytes: number;
}

export interface FetchResponse extends Envelope {
  readonly type: 'fetchResponse';
  readonly errorCode: RaftErrorCode;
  readonly currentLeader: LeaderAndEpoch;
  readonly highWatermark: number;
  readonly logStartOffset: number;
  readonly records: readonly RaftBatch[];
  /** Set when the fetcher's log diverges: truncate to at most this epoch's end offset. */
  readonly divergingEpoch?: OffsetAndEpoch;
  /** Set when fetchOffset is below the leader's log start: fetch this snapshot. */
  readonly snapshotId?: SnapshotId;
  /** Echoed from the request (the driver fills them from the request it sent). */
  readonly fetchOffset: number;
  readonly lastFetchedEpoch: number;
}

export interface FetchSnapshotRequest extends Envelope {
  readonly type: 'fetchSnapshotRequest';
  readonly replicaId: number;
  readonly currentLeaderEpoch: number;
  readonly snapshotId: SnapshotId;
  readonly position: number;
  readonly maxBytes: number;
}

export interface FetchSnapshotResponse extends Envelope {
  readonly type: 'fetchSnapshotResponse';
  readonly errorCode: RaftErrorCode;
  readonly currentLeader: LeaderAndEpoch;
  readonly snapshotId: SnapshotId;
  /** Total size of the snapshot in bytes. */
  readonly size: number;
  readonly position: number;
  /** UnalignedRecords: the chunk starting at `position`. */
  readonly bytes: Buffer;
}

export type RaftRequest = VoteRequest | BeginQuorumEpochRequest | EndQuorumEpochRequest | FetchRequest | FetchSnapshotRequest;
export type RaftResponse = VoteResponse | BeginQuorumEpochResponse | EndQuorumEpochResponse | FetchResponse | FetchSnapshotResponse;
export type RaftMessage = RaftRequest | RaftResponse;
