// The group coordinator's interfaces: what it needs (the __consumer_offsets store, a scheduler,
// its config) and the requests and answers of the group APIs, plus the error helpers its parts
// share (group-coordinator.ts, classic-group-driver.ts, offset-manager.ts).
import type { Logger } from '../../logger.js';
import type { BatchRecord } from '../../protocol/records/record-batch.js';
import type { CommitTicket } from '../coordinator/runtime.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { JoinOutcome, JoinProtocol, SyncOutcome } from './classic-group.js';
import { uniformAssignor, rangeAssignor } from './consumer-assignors.js';
import type { ConsumerGroupConfig, TopicMetadataView } from './consumer-group-coordinator.js';

export interface TimerHandle {
  cancel(): void;
}

export interface Scheduler {
  schedule(delayMs: number, fn: () => void): TimerHandle;
}

/** Node's timers, unreferenced so a pending group timer never keeps a process alive. */
export const realScheduler: Scheduler = {
  schedule(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, Math.min(delayMs, 2_147_483_647)));
    t.unref();
    return { cancel: () => clearTimeout(t) };
  },
};

/** What the coordinator hears of the partitions of __consumer_offsets. */
export interface OffsetsPartitionListener {
  becameLeader(partition: number, leaderEpoch: number): void;
  resigned(partition: number): void;
  highWatermark(partition: number, highWatermark: number): void;
}

/** The coordinator's view of __consumer_offsets. */
export interface GroupLogStore {
  /** Creates the topic if needed; NONE once it exists, else an error code. */
  ensureTopic(): number;
  /** Whether the topic exists already (without creating it). */
  topicExists(): boolean;
  numPartitions(): number;
  /** Appends one batch (acks=all); the produce error code and the high watermark that commits it. */
  append(partition: number, batch: Buffer): { errorCode: number; commitOffset: number };
  highWatermark(partition: number): number;
  /** Whether the partition holds no batch. */
  isEmpty(partition: number): boolean;
  /** The partition's batches from its log start, in order (replay on load). */
  readAll(partition: number): Iterable<Buffer>;
  /** Tells `listener` of the partitions led here now (becameLeader) and of every later change. */
  watch(listener: OffsetsPartitionListener): void;
  /** Whether a data topic partition exists (OffsetCommit answers UNKNOWN_TOPIC_OR_PARTITION otherwise). */
  partitionExists(topic: string, partition: number): boolean;
  /** The data topics (consumer groups: subscriptions and assignments); none when absent. */
  topics?: TopicMetadataView;
}

export interface GroupCoordinatorConfig {
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  initialRebalanceDelayMs: number;
  maxGroupSize: number;
  offsetsRetentionMs: number;
  offsetsRetentionCheckIntervalMs: number;
  offsetMetadataMaxBytes: number;
  /** Consumer groups (KIP-848); Kafka's defaults when absent. */
  consumer?: ConsumerGroupConfig;
}

export const DEFAULT_CONSUMER_GROUP_CONFIG: ConsumerGroupConfig = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
  maxSize: 2_147_483_647,
  assignors: [uniformAssignor, rangeAssignor],
};

export const NO_TOPICS: TopicMetadataView = { topicByName: () => undefined, topicNameById: () => undefined, topicNames: () => [] };

export interface GroupCoordinatorDeps {
  store: GroupLogStore;
  config: GroupCoordinatorConfig;
  scheduler: Scheduler;
  nowMs: () => number;
  log: Logger;
}

export interface JoinRequest {
  groupId: string;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string;
  protocols: JoinProtocol[];
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  clientId: string;
  clientHost: string;
  /** JoinGroup v4+: a member without an id first gets one with MEMBER_ID_REQUIRED. */
  requireKnownMemberId: boolean;
  reason: string | null;
}

export interface SyncRequest {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  protocolType: string | null;
  protocolName: string | null;
  assignments: { memberId: string; assignment: Buffer }[];
}

export interface LeavingMember {
  memberId: string;
  groupInstanceId: string | null;
}

export interface LeaveResult {
  errorCode: number;
  members: { memberId: string; groupInstanceId: string | null; errorCode: number }[];
}

export interface OffsetCommitPartitionRequest {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  committedMetadata: string | null;
}

export interface OffsetCommitRequestIn {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  /** v2-4 retention time; -1 for the broker's rule. */
  retentionTimeMs: number;
  apiVersion: number;
  topics: { name: string; partitions: OffsetCommitPartitionRequest[] }[];
}

/** TxnOffsetCommit: offsets committed inside a producer's transaction (visible once it commits). */
export interface TxnOffsetCommitRequestIn {
  transactionalId: string;
  groupId: string;
  producerId: bigint;
  producerEpoch: number;
  /** v3+: the member's generation (-1: none), member id ('' : none), instance id. */
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
  topics: { name: string; partitions: OffsetCommitPartitionRequest[] }[];
}

/** OffsetDelete's answer: a group error, or per-partition codes. */
export interface OffsetDeleteResult {
  errorCode: number;
  topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];
}

/** Per-topic, per-partition error codes, in request order. */
export type OffsetCommitResult = { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[];

export interface FetchedOffset {
  partitionIndex: number;
  committedOffset: bigint;
  committedLeaderEpoch: number;
  metadata: string;
  errorCode: number;
}

export interface OffsetFetchResult {
  errorCode: number;
  topics: { name: string; partitions: FetchedOffset[] }[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  /** ListGroups v5 group type. */
  type: 'classic' | 'consumer';
}

export interface GroupDescription {
  errorCode: number;
  groupId: string;
  state: string;
  protocolType: string;
  protocolData: string;
  members: { memberId: string; groupInstanceId: string | null; clientId: string; clientHost: string; metadata: Buffer; assignment: Buffer }[];
  /** Why there is no classic group to describe (Kafka's GROUP_ID_NOT_FOUND message), or null. */
  notFound: string | null;
}

export const EMPTY = Buffer.alloc(0);

export function joinError(memberId: string, errorCode: number): JoinOutcome {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leaderId: '', memberId, skipAssignment: false, members: [] };
}

export function syncError(errorCode: number): SyncOutcome {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** Errors from appending to __consumer_offsets as the group APIs report them (as Kafka maps them). */
export function appendErrorToGroupError(code: number, forOffsets: boolean): number {
  switch (code) {
    case ErrorCode.NONE:
      return ErrorCode.NONE;
    case ErrorCode.UNKNOWN_TOPIC_OR_PARTITION:
    case ErrorCode.NOT_ENOUGH_REPLICAS:
    case ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND:
    case ErrorCode.REQUEST_TIMED_OUT:
      return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    case ErrorCode.NOT_LEADER_OR_FOLLOWER:
    case ErrorCode.KAFKA_STORAGE_ERROR:
    case ErrorCode.NOT_COORDINATOR:
      return ErrorCode.NOT_COORDINATOR;
    case ErrorCode.COORDINATOR_LOAD_IN_PROGRESS:
    case ErrorCode.COORDINATOR_NOT_AVAILABLE:
      return code;
    case ErrorCode.MESSAGE_TOO_LARGE:
    case ErrorCode.RECORD_LIST_TOO_LARGE:
    case ErrorCode.INVALID_FETCH_SIZE:
      return forOffsets ? ErrorCode.INVALID_COMMIT_OFFSET_SIZE : ErrorCode.UNKNOWN_SERVER_ERROR;
    default:
      return ErrorCode.UNKNOWN_SERVER_ERROR;
  }
}

/** How the coordinator's parts write group records to __consumer_offsets. */
export interface GroupRecordWriter {
  /** Appends one batch of the group's records; the ticket settles when they are committed. */
  append(groupId: string, records: BatchRecord[]): CommitTicket;
  /** Runs `fn` with the ticket's outcome (a group API error code) as a later event of the group's partition. */
  afterCommit(groupId: string, ticket: CommitTicket, fn: (errorCode: number) => void): void;
}
