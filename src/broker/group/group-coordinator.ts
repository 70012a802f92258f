// The classic group coordinator (JoinGroup/SyncGroup/Heartbeat/LeaveGroup, offsets, group admin)
// for the groups whose __consumer_offsets partition this broker leads (all of them on a single
// node). It follows the behaviour of Kafka's classic protocol: the state machine lives in
// ClassicGroup (see the transition table there); this class drives it with timers and stores
// group metadata and offsets as records in __consumer_offsets through `GroupLogStore`.
//
// It runs on the coordinator runtime (../coordinator/runtime.ts), one shard per partition of
// __consumer_offsets led here: a partition's groups are loaded when it is led here (requests for
// them get COORDINATOR_LOAD_IN_PROGRESS meanwhile), dropped when it is not (NOT_COORDINATOR).
// Requests that write run as events on their partition's serial queue; an append returns a
// CommitTicket, and the answer that depends on it is given once the record is committed (the
// partition's high watermark passed it), never because the append returned:
//  - committed offsets (OffsetCommit, OffsetDelete) are applied at commit, so OffsetFetch reads
//    only committed offsets;
//  - membership steps (a SyncGroup's assignment, a static member's rejoin) are answered at
//    commit; the group stays in its state until then;
//  - removals (group deletion, expiry, KIP-848 group state) are applied when appended (later
//    requests of the partition must see them) and their answer is held until commit. Records
//    that never commit can only fail by losing the partition, which unloads all its groups:
//    the optimistic state goes, and a later load rebuilds it from the log.
// JoinGroup and SyncGroup return promises that stay parked until the rebalance step they wait
// for completes. Time and timers are injected (`GroupCoordinatorDeps`), so tests drive them.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { GroupMetadataValueData } from '../../protocol/messages/GroupMetadataValue.js';
import type { BatchRecord } from '../../protocol/records/record-batch.js';
import {
  ALL_GROUP_STATES,
  ClassicGroup,
  GroupState,
  offsetKey,
  parseSubscriptionTopics,
  type CommittedOffset,
  type GroupMember,
  type JoinOutcome,
  type JoinProtocol,
  type SyncOutcome,
} from './classic-group.js';
import { coordinatorPartitionFor } from './coordinator-partition.js';
import { uniformAssignor, rangeAssignor } from './consumer-assignors.js';
import type { ConsumerGroup } from './consumer-group.js';
import {
  ConsumerGroupCoordinator,
  type ConsumerGroupConfig,
  type ConsumerGroupDescription,
  type ConsumerHeartbeatRequest,
  type ConsumerHeartbeatResponse,
  type TopicMetadataView,
} from './consumer-group-coordinator.js';
import type { ConsumerGroupRecord } from './consumer-group-log.js';
import { decodeGroupRecords, encodeGroupBatch, groupMetadataRecord, groupTombstoneRecord, offsetCommitRecord } from './group-log.js';
import { CoordinatorRuntime, type CommitTicket } from '../coordinator/runtime.js';

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

const DEFAULT_CONSUMER_GROUP_CONFIG: ConsumerGroupConfig = {
  sessionTimeoutMs: 45_000,
  heartbeatIntervalMs: 5_000,
  maxSize: 2_147_483_647,
  assignors: [uniformAssignor, rangeAssignor],
};

const NO_TOPICS: TopicMetadataView = { topicByName: () => undefined, topicNameById: () => undefined, topicNames: () => [] };

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

const EMPTY = Buffer.alloc(0);

/** What the replay of one __consumer_offsets partition has read so far. */
interface PartitionLoad {
  metadata: Map<string, GroupMetadataValueData | null>;
  offsets: Map<string, Map<string, { topic: string; partition: number; value: CommittedOffset }>>;
  /** Which protocol wrote a group's latest group record (a group id changes type only while empty). */
  lastType: Map<string, 'classic' | 'consumer'>;
  /** KIP-848 records, handed to the consumer coordinator when the partition is complete. */
  consumerRecords: ConsumerGroupRecord[];
}

function newPartitionLoad(): PartitionLoad {
  return { metadata: new Map(), offsets: new Map(), lastType: new Map(), consumerRecords: [] };
}

function joinError(memberId: string, errorCode: number): JoinOutcome {
  return { errorCode, generationId: -1, protocolType: null, protocolName: null, leaderId: '', memberId, skipAssignment: false, members: [] };
}

function syncError(errorCode: number): SyncOutcome {
  return { errorCode, protocolType: null, protocolName: null, assignment: EMPTY };
}

/** Errors from appending to __consumer_offsets as the group APIs report them (as Kafka maps them). */
function appendErrorToGroupError(code: number, forOffsets: boolean): number {
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

export class GroupCoordinator {
  private readonly groups = new Map<string, ClassicGroup>();
  private readonly sessionTimers = new Map<GroupMember, TimerHandle>();
  private readonly pendingMemberTimers = new Map<string, TimerHandle>();
  private readonly joinTimers = new Map<ClassicGroup, TimerHandle>();
  /** Groups whose running join phase is the initial delay: it does not complete early. */
  private readonly initialDelayGroups = new Set<ClassicGroup>();
  private retentionTimer: TimerHandle | null = null;
  private closed = false;
  /** Consumer groups (KIP-848); group ids are one namespace with the classic groups here. */
  readonly consumer: ConsumerGroupCoordinator;
  /** The shards of __consumer_offsets: load, unload, serial events, commits. */
  private readonly runtime: CoordinatorRuntime;
  /** Replays in progress, by partition. */
  private readonly loads = new Map<number, PartitionLoad>();
  /** While an operation runs under heldUntilCommitted: the tickets of its appends. */
  private collecting: CommitTicket[] | null = null;

  constructor(private readonly deps: GroupCoordinatorDeps) {
    const store = deps.store;
    this.runtime = new CoordinatorRuntime(
      store,
      {
        replay: (partition, batches) => this.replayChunk(partition, batches),
        loaded: (partition) => this.finishLoad(partition),
        unload: (partition) => this.unloadPartition(partition),
      },
      { defer: (fn) => void deps.scheduler.schedule(0, fn) },
    );
    this.consumer = new ConsumerGroupCoordinator({
      config: deps.config.consumer ?? DEFAULT_CONSUMER_GROUP_CONFIG,
      topics: deps.store.topics ?? NO_TOPICS,
      scheduler: deps.scheduler,
      nowMs: deps.nowMs,
      log: deps.log,
      append: (groupId, records) => appendErrorToGroupError(this.append(groupId, records).appendError, false),
    });
  }

  private partitionOf(groupId: string): number {
    return coordinatorPartitionFor(groupId, this.deps.store.numPartitions());
  }

  /** NONE when the group's partition is loaded here, else NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
  private gate(groupId: string): number {
    return this.runtime.errorFor(this.partitionOf(groupId));
  }

  /**
   * Runs `op` as an event on the group's partition queue; `fail` answers when the partition
   * cannot take it. The result is a promise: `op` may run after the events queued before it.
   */
  private inQueue<T>(groupId: string, fail: (errorCode: number) => T, op: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve) => {
      const error = this.runtime.submit(this.partitionOf(groupId), () => resolve(op()));
      if (error !== ErrorCode.NONE) resolve(fail(error));
    });
  }

  /** Runs `fn` with the outcome of `ticket` as a later event of the partition (at once if it is gone). */
  private afterCommit(groupId: string, ticket: CommitTicket, fn: (errorCode: number) => void): void {
    ticket.onSettled((code) => {
      const outcome = code === ErrorCode.NONE ? code : appendErrorToGroupError(code, false);
      if (this.runtime.submit(this.partitionOf(groupId), () => fn(outcome)) !== ErrorCode.NONE) fn(outcome === ErrorCode.NONE ? ErrorCode.NOT_COORDINATOR : outcome);
    });
  }

  /**
   * Runs `op` now and holds its result until every record it appended is committed; if one
   * fails (the partition was lost), answers `failed(error)` instead.
   */
  private heldUntilCommitted<T>(groupId: string, op: () => T, failed: (errorCode: number) => T): Promise<T> {
    const outer = this.collecting;
    const tickets: CommitTicket[] = [];
    this.collecting = tickets;
    let result: T;
    try {
      result = op();
    } finally {
      this.collecting = outer;
    }
    const appended = tickets.filter((t) => t.appendError === ErrorCode.NONE);
    if (appended.length === 0) return Promise.resolve(result);
    return new Promise<T>((resolve) => {
      let left = appended.length;
      let error: number = ErrorCode.NONE;
      for (const t of appended) {
        this.afterCommit(groupId, t, (code) => {
          if (code !== ErrorCode.NONE && error === ErrorCode.NONE) error = code;
          if (--left === 0) resolve(error === ErrorCode.NONE ? result : failed(error));
        });
      }
    });
  }

  private get config(): GroupCoordinatorConfig {
    return this.deps.config;
  }

  private now(): number {
    return this.deps.nowMs();
  }

  // -------------------------------------------------------------------------------------------
  // Start-up and shutdown

  /**
   * Starts following __consumer_offsets: the partitions led here now are loaded before this
   * returns (start-up, before requests are served), later ones as they come. Then starts the
   * expiry timer.
   */
  load(): void {
    this.deps.store.watch({
      becameLeader: (partition, leaderEpoch) => this.runtime.becomeLeader(partition, leaderEpoch),
      resigned: (partition) => this.runtime.resign(partition),
      highWatermark: (partition, hwm) => this.runtime.onHighWatermark(partition, hwm),
    });
    this.runtime.loadAllNow();
    this.scheduleRetentionCheck();
  }

  private replayChunk(partition: number, batches: Buffer): void {
    let load = this.loads.get(partition);
    if (load === undefined) this.loads.set(partition, (load = newPartitionLoad()));
    for (const r of decodeGroupRecords(batches)) {
      if (r.kind === 'group') {
        load.metadata.set(r.groupId, r.value);
        if (r.value !== null) load.lastType.set(r.groupId, 'classic');
      } else if (r.kind === 'consumer') {
        load.consumerRecords.push(r.record);
        if (r.record.type === 3 && r.record.value !== null) load.lastType.set(r.groupId, 'consumer');
      } else {
        let byPartition = load.offsets.get(r.groupId);
        if (byPartition === undefined) load.offsets.set(r.groupId, (byPartition = new Map()));
        const key = offsetKey(r.topic, r.partition);
        if (r.value === null) byPartition.delete(key);
        else byPartition.set(key, { topic: r.topic, partition: r.partition, value: r.value });
      }
    }
  }

  /** The partition's records are all replayed: builds its classic and consumer groups. */
  private finishLoad(partition: number): void {
    const load = this.loads.get(partition) ?? newPartitionLoad();
    this.loads.delete(partition);
    const { metadata, offsets, lastType } = load;
    for (const record of load.consumerRecords) this.consumer.replay(record);
    const consumerOffsetsAtLoad = new Map<string, Map<string, CommittedOffset>>();
    const now = this.now();
    const groupIds = new Set([...metadata.keys(), ...offsets.keys()]);
    for (const groupId of groupIds) {
      const groupOffsets = offsets.get(groupId);
      if (this.consumer.isLoadingGroup(groupId) && (metadata.get(groupId) == null || lastType.get(groupId) === 'consumer')) {
        consumerOffsetsAtLoad.set(groupId, new Map([...(groupOffsets?.values() ?? [])].map((o) => [offsetKey(o.topic, o.partition), o.value])));
        continue;
      }
      const value = metadata.get(groupId) ?? null;
      if (value === null && (groupOffsets === undefined || groupOffsets.size === 0)) continue;
      const hasMembers = value !== null && value.members.length > 0;
      const group = new ClassicGroup(groupId, hasMembers ? GroupState.Stable : GroupState.Empty, now);
      if (value !== null) {
        group.generationId = value.generation;
        group.protocolType = value.protocolType === '' ? null : value.protocolType;
        group.protocolName = value.protocol;
        if (value.currentStateTimestamp >= 0n) group.stateTimestampMs = Number(value.currentStateTimestamp);
        for (const m of value.members) {
          group.add({
            memberId: m.memberId,
            groupInstanceId: m.groupInstanceId,
            clientId: m.clientId,
            clientHost: m.clientHost,
            rebalanceTimeoutMs: m.rebalanceTimeout < 0 ? m.sessionTimeout : m.rebalanceTimeout,
            sessionTimeoutMs: m.sessionTimeout,
            protocolType: value.protocolType,
            protocols: [{ name: value.protocol ?? '', metadata: m.subscription }],
            assignment: m.assignment,
            joinWaiter: null,
            syncWaiter: null,
            isNew: false,
          });
        }
        group.leaderId = value.leader;
        if (group.protocolType === 'consumer' && hasMembers) {
          // Recompute the subscribed topics as initNextGeneration would have.
          const topics = new Set<string>();
          let known = true;
          for (const m of group.members.values()) {
            const parsed = parseSubscriptionTopics(group.metadataFor(m, group.protocolName));
            if (parsed === null) known = false;
            else for (const t of parsed) topics.add(t);
          }
          group.subscribedTopics = known ? topics : null;
        }
      }
      for (const o of groupOffsets?.values() ?? []) group.offsets.set(offsetKey(o.topic, o.partition), o.value);
      this.groups.set(groupId, group);
      // Members must heartbeat again within their session timeout, as after a coordinator move.
      for (const m of group.members.values()) this.scheduleSessionExpiry(group, m);
    }
    this.consumer.finishLoad((groupId) => consumerOffsetsAtLoad.get(groupId));
    if (groupIds.size > 0) this.deps.log.info({ partition, groups: groupIds.size }, 'loaded groups from __consumer_offsets');
  }

  /** The partition is no longer led here: its groups go; their parked requests get NOT_COORDINATOR. */
  private unloadPartition(partition: number): void {
    this.loads.delete(partition);
    const owned = (groupId: string) => this.partitionOf(groupId) === partition;
    let unloaded = 0;
    for (const group of [...this.groups.values()]) {
      if (!owned(group.groupId)) continue;
      unloaded++;
      this.joinTimers.get(group)?.cancel();
      this.joinTimers.delete(group);
      this.initialDelayGroups.delete(group);
      for (const memberId of group.pendingMembers) {
        const key = `${group.groupId}\u0000${memberId}`;
        this.pendingMemberTimers.get(key)?.cancel();
        this.pendingMemberTimers.delete(key);
      }
      for (const m of group.members.values()) {
        this.sessionTimers.get(m)?.cancel();
        this.sessionTimers.delete(m);
        this.answerJoin(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        this.answerSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
      this.groups.delete(group.groupId);
    }
    this.consumer.unload(owned);
    if (unloaded > 0 && !this.closed) this.deps.log.info({ partition, groups: unloaded }, 'unloaded the classic groups of a __consumer_offsets partition');
  }

  /** Cancels every timer and answers parked requests with NOT_COORDINATOR. */
  shutdown(): void {
    this.closed = true;
    this.consumer.shutdown();
    this.retentionTimer?.cancel();
    for (const t of this.sessionTimers.values()) t.cancel();
    for (const t of this.pendingMemberTimers.values()) t.cancel();
    for (const t of this.joinTimers.values()) t.cancel();
    this.sessionTimers.clear();
    this.pendingMemberTimers.clear();
    this.joinTimers.clear();
    for (const group of this.groups.values()) {
      for (const m of group.members.values()) {
        this.answerJoin(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        this.answerSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
    this.runtime.close();
  }

  /** The state of every group (tests and tools). */
  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  // -------------------------------------------------------------------------------------------
  // FindCoordinator

  /**
   * NONE when this broker coordinates `groupId` (creating __consumer_offsets on first use): it
   * leads the group's partition, loaded or still loading, as Kafka answers from leadership.
   * With no leader here (and no other broker yet), COORDINATOR_NOT_AVAILABLE.
   */
  coordinatorFor(groupId: string): number {
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return ready;
    return this.runtime.isLeader(this.partitionOf(groupId)) ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  // -------------------------------------------------------------------------------------------
  // JoinGroup

  join(req: JoinRequest): Promise<JoinOutcome> {
    if (this.closed) return Promise.resolve(joinError(req.memberId, ErrorCode.NOT_COORDINATOR));
    if (req.groupId === '') return Promise.resolve(joinError(req.memberId, ErrorCode.INVALID_GROUP_ID));
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return Promise.resolve(joinError(req.memberId, ready));
    return new Promise((resolve) => {
      const error = this.runtime.submit(this.partitionOf(req.groupId), () => this.doJoin(req, resolve));
      if (error !== ErrorCode.NONE) resolve(joinError(req.memberId, error));
    });
  }

  private doJoin(req: JoinRequest, respond: (o: JoinOutcome) => void): void {
    if (req.sessionTimeoutMs < this.config.minSessionTimeoutMs || req.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return respond(joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const unknownMember = req.memberId === '';
    const consumerGroup = this.consumer.group(req.groupId);
    let carriedOffsets: Map<string, CommittedOffset> | null = null;
    if (consumerGroup !== undefined) {
      // Kafka without online migration: a classic member cannot join a consumer group with
      // members; an empty consumer group is replaced by a classic one (offsets kept).
      if (consumerGroup.size > 0) return respond(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      if (!unknownMember) return respond(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      const error = appendErrorToGroupError(this.append(req.groupId, this.consumer.groupTombstones(consumerGroup, this.now())).appendError, false);
      if (error !== ErrorCode.NONE) return respond(joinError(req.memberId, error));
      carriedOffsets = new Map(consumerGroup.offsets);
      this.consumer.forget(consumerGroup);
      this.deps.log.info({ groupId: req.groupId }, 'empty consumer group replaced by a classic group');
    }
    let group = this.groups.get(req.groupId);
    if (group === undefined || group.is(GroupState.Dead)) {
      if (!unknownMember) return respond(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup(req.groupId, GroupState.Empty, this.now());
      this.groups.set(req.groupId, group);
    }
    if (carriedOffsets !== null) for (const [k, v] of carriedOffsets) group.offsets.set(k, v);
    if (unknownMember) this.joinNewMember(group, req, respond);
    else this.joinKnownMember(group, req, respond);
  }

  private joinNewMember(group: ClassicGroup, req: JoinRequest, respond: (o: JoinOutcome) => void): void {
    if (!group.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const existingStatic = req.groupInstanceId === null ? undefined : group.staticMemberId(req.groupInstanceId);
    if (existingStatic === undefined && group.size + group.pendingMembers.size >= this.config.maxGroupSize) {
      return respond(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    const newMemberId = `${req.groupInstanceId ?? req.clientId}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      if (existingStatic !== undefined) return this.rejoinStaticMember(group, req, existingStatic, newMemberId, respond);
      return this.addMemberAndRebalance(group, req, newMemberId, respond);
    }
    if (req.requireKnownMemberId) {
      // Two-step join (KIP-394): the member must come back with this id; until then it is
      // pending and blocks the join phase, and is dropped after its session timeout.
      group.pendingMembers.add(newMemberId);
      const key = `${group.groupId}\u0000${newMemberId}`;
      this.pendingMemberTimers.set(
        key,
        this.deps.scheduler.schedule(req.sessionTimeoutMs, () => {
          this.pendingMemberTimers.delete(key);
          if (group.pendingMembers.delete(newMemberId)) this.tryCompleteJoin(group);
        }),
      );
      return respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberAndRebalance(group, req, newMemberId, respond);
  }

  private joinKnownMember(group: ClassicGroup, req: JoinRequest, respond: (o: JoinOutcome) => void): void {
    if (group.pendingMembers.has(req.memberId)) {
      if (!group.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      group.pendingMembers.delete(req.memberId);
      const key = `${group.groupId}\u0000${req.memberId}`;
      this.pendingMemberTimers.get(key)?.cancel();
      this.pendingMemberTimers.delete(key);
      return this.addMemberAndRebalance(group, req, req.memberId, respond);
    }
    if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) return respond(joinError(req.memberId, ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(req.memberId);
    if (member === undefined) return respond(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    if (!group.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    switch (group.state) {
      case GroupState.PreparingRebalance:
        return this.updateMemberAndRebalance(group, member, req, respond, 'member rejoined during rebalance');
      case GroupState.CompletingRebalance:
        if (sameProtocols(member.protocols, req.protocols)) {
          // A retry of a JoinGroup whose answer was lost: answer it again.
          return respond(this.joinOutcomeFor(group, member));
        }
        return this.updateMemberAndRebalance(group, member, req, respond, 'member changed its protocols');
      case GroupState.Stable:
        if (group.isLeader(member.memberId) || !sameProtocols(member.protocols, req.protocols)) {
          return this.updateMemberAndRebalance(group, member, req, respond, group.isLeader(member.memberId) ? 'leader rejoined' : 'member changed its protocols');
        }
        this.scheduleSessionExpiry(group, member);
        return respond({ ...this.joinOutcomeFor(group, member), members: [] });
      default:
        return respond(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private rejoinStaticMember(group: ClassicGroup, req: JoinRequest, oldMemberId: string, newMemberId: string, respond: (o: JoinOutcome) => void): void {
    const previousLeader = group.leaderId;
    const old = group.members.get(oldMemberId)!;
    // Whoever still waits under the old member id has been replaced.
    this.answerJoin(old, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.answerSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    const oldProtocols = old.protocols;
    const member = group.replaceStaticMember(req.groupInstanceId!, oldMemberId, newMemberId);
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    this.scheduleSessionExpiry(group, member);
    this.deps.log.info({ groupId: group.groupId, groupInstanceId: req.groupInstanceId, oldMemberId, newMemberId }, 'static member rejoined');
    switch (group.state) {
      case GroupState.Stable: {
        if (group.selectProtocol() === group.protocolName && sameProtocols(oldProtocols, req.protocols)) {
          // Same subscription: no rebalance. The old leader id is returned so that the new
          // member id never believes it leads (its assignment would not be propagated).
          const revert = () => {
            group.replaceStaticMember(req.groupInstanceId!, newMemberId, oldMemberId);
            member.protocols = oldProtocols;
          };
          const ticket = this.storeGroupTicket(group);
          const error = appendErrorToGroupError(ticket.appendError, false);
          if (error !== ErrorCode.NONE) {
            revert();
            return respond(joinError('', error));
          }
          // The new member id is answered once the group record naming it is committed.
          return this.afterCommit(group.groupId, ticket, (code) => {
            if (code !== ErrorCode.NONE) {
              if (this.groups.get(group.groupId) === group && group.members.get(newMemberId) === member) revert();
              return respond(joinError('', code));
            }
            respond({
              errorCode: ErrorCode.NONE,
              generationId: group.generationId,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              leaderId: previousLeader ?? '',
              memberId: newMemberId,
              skipAssignment: false,
              members: [],
            });
          });
        }
        member.joinWaiter = respond;
        return this.prepareRebalance(group, `static member ${req.groupInstanceId} rejoined with changed protocols`);
      }
      case GroupState.CompletingRebalance:
        // The leader may be assigning under the old member id: rebalance again.
        member.joinWaiter = respond;
        return this.prepareRebalance(group, `static member ${req.groupInstanceId} rejoined during CompletingRebalance`);
      case GroupState.PreparingRebalance:
        member.joinWaiter = respond;
        return this.tryCompleteJoin(group);
      default:
        throw new Error(`group ${group.groupId}: static member in state ${group.state}`);
    }
  }

  private addMemberAndRebalance(group: ClassicGroup, req: JoinRequest, memberId: string, respond: (o: JoinOutcome) => void): void {
    const member: GroupMember = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY,
      joinWaiter: respond,
      syncWaiter: null,
      isNew: true,
    };
    if (group.is(GroupState.PreparingRebalance) && group.generationId === 0) group.newMemberAdded = true;
    group.add(member);
    this.deps.log.info({ groupId: group.groupId, memberId, groupInstanceId: req.groupInstanceId, reason: req.reason }, 'member joined');
    this.maybePrepareRebalance(group, `new member ${memberId} joined`);
    this.tryCompleteJoin(group);
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: GroupMember, req: JoinRequest, respond: (o: JoinOutcome) => void, reason: string): void {
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    // A second JoinGroup from the same member replaces the first; the first gets an answer so
    // its connection's response pipeline does not stall.
    this.answerJoin(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    member.joinWaiter = respond;
    this.maybePrepareRebalance(group, reason);
    this.tryCompleteJoin(group);
  }

  private maybePrepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance) || group.is(GroupState.Empty)) this.prepareRebalance(group, reason);
  }

  private prepareRebalance(group: ClassicGroup, reason: string): void {
    if (group.is(GroupState.CompletingRebalance)) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    const initial = group.is(GroupState.Empty);
    this.joinTimers.get(group)?.cancel();
    group.transitionTo(GroupState.PreparingRebalance, this.now());
    this.deps.log.info({ groupId: group.groupId, generationId: group.generationId, reason }, 'preparing to rebalance');
    if (initial) {
      // group.initial.rebalance.delay.ms: wait for more members of a new group before the
      // first assignment, extended while members keep arriving, up to the rebalance timeout.
      const delay = this.config.initialRebalanceDelayMs;
      this.initialDelayGroups.add(group);
      this.scheduleInitialJoin(group, delay, Math.max(group.rebalanceTimeoutMs() - delay, 0));
    } else {
      this.initialDelayGroups.delete(group);
      this.joinTimers.set(group, this.deps.scheduler.schedule(group.rebalanceTimeoutMs(), () => this.completeJoin(group)));
      // Completes at once when every remaining member has already rejoined (or none is left).
      this.tryCompleteJoin(group);
    }
  }

  private scheduleInitialJoin(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    this.joinTimers.set(
      group,
      this.deps.scheduler.schedule(delayMs, () => {
        if (group.newMemberAdded && remainingMs > 0) {
          group.newMemberAdded = false;
          const next = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
          this.scheduleInitialJoin(group, next, Math.max(remainingMs - this.config.initialRebalanceDelayMs, 0));
        } else {
          this.completeJoin(group);
        }
      }),
    );
  }

  private tryCompleteJoin(group: ClassicGroup): void {
    if (!group.is(GroupState.PreparingRebalance) || this.initialDelayGroups.has(group)) return;
    if (group.hasAllMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: ClassicGroup): void {
    this.joinTimers.get(group)?.cancel();
    this.joinTimers.delete(group);
    this.initialDelayGroups.delete(group);
    group.newMemberAdded = false;
    if (!group.is(GroupState.PreparingRebalance)) return;
    // Dynamic members that did not rejoin in time leave the group; static members keep their
    // place until their session times out.
    for (const m of [...group.members.values()]) {
      if (m.joinWaiter === null && m.groupInstanceId === null) {
        this.deps.log.info({ groupId: group.groupId, memberId: m.memberId }, 'member did not rejoin in time; removed');
        this.removeMember(group, m);
      }
    }
    const joined = [...group.members.values()].filter((m) => m.joinWaiter !== null);
    if (group.size > 0 && joined.length === 0) {
      // Only static members that have not rejoined: wait another rebalance timeout for them.
      this.joinTimers.set(group, this.deps.scheduler.schedule(group.rebalanceTimeoutMs(), () => this.completeJoin(group)));
      return;
    }
    if (group.leaderId === null || group.members.get(group.leaderId)?.joinWaiter == null) group.leaderId = joined[0]?.memberId ?? null;
    group.initNextGeneration(this.now());
    this.deps.log.info(
      { groupId: group.groupId, generationId: group.generationId, protocol: group.protocolName, members: group.size, state: group.state },
      'join phase complete',
    );
    if (group.is(GroupState.Empty)) {
      const error = this.storeGroup(group);
      if (error !== ErrorCode.NONE) this.deps.log.warn({ groupId: group.groupId, error }, 'could not store empty group metadata');
      return;
    }
    for (const m of group.members.values()) {
      if (m.joinWaiter === null) continue;
      const outcome = this.joinOutcomeFor(group, m);
      m.isNew = false;
      this.answerJoin(m, outcome);
      this.scheduleSessionExpiry(group, m);
    }
  }

  private joinOutcomeFor(group: ClassicGroup, member: GroupMember): JoinOutcome {
    const isLeader = group.isLeader(member.memberId);
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: false,
      members: isLeader
        ? [...group.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: group.metadataFor(m, group.protocolName) }))
        : [],
    };
  }

  // -------------------------------------------------------------------------------------------
  // SyncGroup

  sync(req: SyncRequest): Promise<SyncOutcome> {
    if (this.closed) return Promise.resolve(syncError(ErrorCode.NOT_COORDINATOR));
    if (req.groupId === '') return Promise.resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    return new Promise((resolve) => {
      const error = this.runtime.submit(this.partitionOf(req.groupId), () => this.doSync(req, resolve));
      if (error !== ErrorCode.NONE) resolve(syncError(error));
    });
  }

  private doSync(req: SyncRequest, respond: (o: SyncOutcome) => void): void {
    const group = this.groups.get(req.groupId);
    if (group === undefined) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is(GroupState.Dead)) return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) return respond(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(req.memberId);
    if (member === undefined) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== group.generationId) return respond(syncError(ErrorCode.ILLEGAL_GENERATION));
    if ((req.protocolType !== null && req.protocolType !== group.protocolType) || (req.protocolName !== null && req.protocolName !== group.protocolName)) {
      return respond(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    switch (group.state) {
      case GroupState.Empty:
        return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case GroupState.PreparingRebalance:
        return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case GroupState.CompletingRebalance: {
        this.answerSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.syncWaiter = respond;
        this.scheduleSessionExpiry(group, member);
        if (!group.isLeader(member.memberId)) return;
        const assigned = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
        for (const m of group.members.values()) m.assignment = assigned.get(m.memberId) ?? EMPTY;
        const ticket = this.storeGroupTicket(group);
        const failed = (error: number) => {
          this.resetAndPropagateAssignmentError(group, error);
          this.maybePrepareRebalance(group, 'could not store the group assignment');
        };
        const error = appendErrorToGroupError(ticket.appendError, false);
        if (error !== ErrorCode.NONE) return failed(error);
        // The assignment is handed out, and the group becomes Stable, once its record is committed.
        const generation = group.generationId;
        this.afterCommit(group.groupId, ticket, (code) => {
          // A later step (a member left, a new rebalance, an unload) has answered the members already.
          if (this.groups.get(group.groupId) !== group || !group.is(GroupState.CompletingRebalance) || group.generationId !== generation) return;
          if (code !== ErrorCode.NONE) return failed(code);
          for (const m of group.members.values()) this.answerSync(m, this.syncOutcomeFor(group, m));
          group.transitionTo(GroupState.Stable, this.now());
          this.deps.log.info({ groupId: group.groupId, generationId: group.generationId }, 'group stable');
        });
        return;
      }
      case GroupState.Stable:
        this.scheduleSessionExpiry(group, member);
        return respond(this.syncOutcomeFor(group, member));
      default:
        return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private syncOutcomeFor(group: ClassicGroup, member: GroupMember): SyncOutcome {
    return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      m.assignment = EMPTY;
      this.answerSync(m, syncError(errorCode));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeat and session expiry

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const gate = this.gate(groupId);
    if (gate !== ErrorCode.NONE) return gate;
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(groupInstanceId, memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case GroupState.Empty:
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case GroupState.PreparingRebalance:
        this.scheduleSessionExpiry(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        this.scheduleSessionExpiry(group, member);
        return ErrorCode.NONE;
    }
  }

  /** (Re)starts the member's session timer: one timer per member, replaced on every heartbeat. */
  private scheduleSessionExpiry(group: ClassicGroup, member: GroupMember): void {
    this.sessionTimers.get(member)?.cancel();
    if (this.closed) return;
    this.sessionTimers.set(
      member,
      this.deps.scheduler.schedule(member.sessionTimeoutMs, () => {
        this.sessionTimers.delete(member);
        if (group.members.get(member.memberId) !== member) return;
        // A member parked in JoinGroup or SyncGroup is waiting on us, not silent.
        if (member.joinWaiter !== null || member.syncWaiter !== null) return this.scheduleSessionExpiry(group, member);
        this.deps.log.info({ groupId: group.groupId, memberId: member.memberId, sessionTimeoutMs: member.sessionTimeoutMs }, 'member session expired');
        this.removeMemberAndUpdateGroup(group, member, 'session timeout');
      }),
    );
  }

  private removeMember(group: ClassicGroup, member: GroupMember): void {
    this.sessionTimers.get(member)?.cancel();
    this.sessionTimers.delete(member);
    group.remove(member.memberId);
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: string): void {
    this.answerJoin(member, joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    this.answerSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    this.removeMember(group, member);
    switch (group.state) {
      case GroupState.Stable:
      case GroupState.CompletingRebalance:
        this.prepareRebalance(group, `removing member ${member.memberId}: ${reason}`);
        break;
      case GroupState.PreparingRebalance:
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  // -------------------------------------------------------------------------------------------
  // LeaveGroup

  leave(groupId: string, leaving: LeavingMember[]): LeaveResult {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, members: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const gate = this.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, members: [] };
    const group = this.groups.get(groupId);
    const results = leaving.map((l) => ({ memberId: l.memberId, groupInstanceId: l.groupInstanceId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID as number }));
    if (group === undefined) return { errorCode: ErrorCode.NONE, members: results };
    if (group.is(GroupState.Dead)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    leaving.forEach((l, i) => {
      const result = results[i]!;
      let memberId = l.memberId;
      if (l.groupInstanceId !== null) {
        const current = group.staticMemberId(l.groupInstanceId);
        if (current === undefined) return;
        if (memberId !== '' && memberId !== current) {
          result.errorCode = ErrorCode.FENCED_INSTANCE_ID;
          return;
        }
        memberId = current;
      }
      if (group.pendingMembers.delete(memberId)) {
        const key = `${group.groupId}\u0000${memberId}`;
        this.pendingMemberTimers.get(key)?.cancel();
        this.pendingMemberTimers.delete(key);
        result.errorCode = ErrorCode.NONE;
        this.tryCompleteJoin(group);
        return;
      }
      const member = group.members.get(memberId);
      if (member === undefined) return;
      result.errorCode = ErrorCode.NONE;
      this.deps.log.info({ groupId, memberId, groupInstanceId: l.groupInstanceId }, 'member left');
      this.removeMemberAndUpdateGroup(group, member, 'the member left the group');
    });
    return { errorCode: ErrorCode.NONE, members: results };
  }

  // -------------------------------------------------------------------------------------------
  // Offsets

  /** OffsetCommit: answered once the offsets' records are committed; only then does OffsetFetch see them. */
  commitOffsets(req: OffsetCommitRequestIn): Promise<OffsetCommitResult> {
    const all = (code: number): OffsetCommitResult =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    if (this.closed) return Promise.resolve(all(ErrorCode.NOT_COORDINATOR));
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return Promise.resolve(all(ready));
    return this.inQueue(req.groupId, all, () => this.doCommitOffsets(req, all));
  }

  private doCommitOffsets(req: OffsetCommitRequestIn, all: (code: number) => OffsetCommitResult): OffsetCommitResult | Promise<OffsetCommitResult> {
    const consumerGroup = this.consumer.group(req.groupId);
    if (consumerGroup !== undefined) {
      // Consumer groups: the generation field carries the member epoch (KIP-848).
      const validation = this.consumer.validateOffsetCommit(consumerGroup, req.memberId, req.generationId, req.apiVersion);
      if (validation !== ErrorCode.NONE) return all(validation);
      return this.writeOffsets(req.groupId, consumerGroup.offsets, req, all(ErrorCode.NONE));
    }
    let group = this.groups.get(req.groupId);
    if (group === undefined || group.is(GroupState.Dead)) {
      if (req.generationId >= 0) return all(req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      // A commit outside group management (the admin client, or assign() with a group id):
      // a "simple" group is created to hold the offsets.
      group = new ClassicGroup(req.groupId, GroupState.Empty, this.now());
      this.groups.set(req.groupId, group);
    }
    const validation = this.validateCommit(group, req);
    if (validation !== ErrorCode.NONE) return all(validation);
    return this.writeOffsets(group.groupId, group.offsets, req, all(ErrorCode.NONE));
  }

  /**
   * Appends the request's offsets (one batch) and applies them to `offsets` once committed;
   * resolves to `result` (per-partition codes) then.
   */
  private writeOffsets(groupId: string, offsets: Map<string, CommittedOffset>, req: OffsetCommitRequestIn, result: OffsetCommitResult): OffsetCommitResult | Promise<OffsetCommitResult> {
    const now = this.now();
    const expireTimestampMs = req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : null;
    const records: BatchRecord[] = [];
    const accepted: { key: string; value: CommittedOffset; slot: { errorCode: number } }[] = [];
    req.topics.forEach((t, ti) => {
      t.partitions.forEach((p, pi) => {
        const slot = result[ti]!.partitions[pi]!;
        if (!this.deps.store.partitionExists(t.name, p.partitionIndex)) {
          slot.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          return;
        }
        const metadata = p.committedMetadata ?? '';
        if (Buffer.byteLength(metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
          slot.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
          return;
        }
        const value: CommittedOffset = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata, commitTimestampMs: now, expireTimestampMs };
        records.push(offsetCommitRecord(groupId, t.name, p.partitionIndex, value, now));
        accepted.push({ key: offsetKey(t.name, p.partitionIndex), value, slot });
      });
    });
    if (records.length === 0) return result;
    const ticket = this.append(groupId, records);
    const fail = (error: number) => {
      for (const a of accepted) a.slot.errorCode = error;
      return result;
    };
    const appendError = appendErrorToGroupError(ticket.appendError, true);
    if (appendError !== ErrorCode.NONE) return fail(appendError);
    return new Promise((resolve) => {
      this.afterCommit(groupId, ticket, (code) => {
        if (code !== ErrorCode.NONE) return resolve(fail(code));
        for (const a of accepted) offsets.set(a.key, a.value);
        resolve(result);
      });
    });
  }

  private validateCommit(group: ClassicGroup, req: OffsetCommitRequestIn): number {
    if (req.generationId < 0 && group.is(GroupState.Empty)) return ErrorCode.NONE;
    if (req.generationId >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      if (req.groupInstanceId !== null) {
        const current = group.staticMemberId(req.groupInstanceId);
        if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
        if (current !== req.memberId) return ErrorCode.FENCED_INSTANCE_ID;
      }
      const member = group.members.get(req.memberId);
      if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
      if (group.is(GroupState.CompletingRebalance)) return ErrorCode.REBALANCE_IN_PROGRESS;
      // A commit proves the member is alive, as a heartbeat does.
      if (group.is(GroupState.Stable)) this.scheduleSessionExpiry(group, member);
      return ErrorCode.NONE;
    }
    // No member id and no generation (OffsetCommit v0): only an empty group takes it.
    return group.is(GroupState.Empty) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  /** Committed offsets of `topics` (null: every committed partition). Unknown partitions get offset -1. */
  fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
    member: { memberId: string | null; memberEpoch: number } = { memberId: null, memberEpoch: -1 },
  ): OffsetFetchResult {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    const gate = this.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, topics: [] };
    const consumerGroup = this.consumer.group(groupId);
    if (consumerGroup !== undefined) {
      const validation = this.consumer.validateOffsetFetch(consumerGroup, member.memberId, member.memberEpoch);
      if (validation !== ErrorCode.NONE) return { errorCode: validation, topics: [] };
    }
    const group = this.groups.get(groupId);
    const offsets = consumerGroup?.offsets ?? (group === undefined || group.is(GroupState.Dead) ? new Map<string, CommittedOffset>() : group.offsets);
    const describe = (partitionIndex: number, o: CommittedOffset | undefined): FetchedOffset =>
      o === undefined
        ? { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE }
        : { partitionIndex, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE };
    if (topics === null) {
      const byTopic = new Map<string, FetchedOffset[]>();
      for (const [key, o] of offsets) {
        const sep = key.lastIndexOf('\u0000');
        const topic = key.slice(0, sep);
        let list = byTopic.get(topic);
        if (list === undefined) byTopic.set(topic, (list = []));
        list.push(describe(Number(key.slice(sep + 1)), o));
      }
      return { errorCode: ErrorCode.NONE, topics: [...byTopic].map(([name, partitions]) => ({ name, partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex) })) };
    }
    return {
      errorCode: ErrorCode.NONE,
      topics: topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => describe(p, offsets.get(offsetKey(t.name, p)))) })),
    };
  }

  /** OffsetDelete: removes committed offsets of partitions the group does not consume. */
  deleteOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[]): Promise<OffsetDeleteResult> {
    if (this.closed) return Promise.resolve({ errorCode: ErrorCode.NOT_COORDINATOR, topics: [] });
    return this.inQueue(groupId, (errorCode) => ({ errorCode, topics: [] }), () => this.doDeleteOffsets(groupId, topics));
  }

  private doDeleteOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[]): OffsetDeleteResult | Promise<OffsetDeleteResult> {
    const modern = this.consumer.group(groupId);
    if (modern !== undefined) return this.deleteConsumerGroupOffsets(modern, topics);
    const group = this.groups.get(groupId);
    if (group === undefined || group.is(GroupState.Dead)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    const consumerGroup = group.protocolType === 'consumer';
    if (!group.is(GroupState.Empty) && !consumerGroup) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    const now = this.now();
    const records: BatchRecord[] = [];
    const deleted: string[] = [];
    const out = topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => {
        if (!group.is(GroupState.Empty) && group.isSubscribedToTopic(t.name)) return { partitionIndex: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC };
        const key = offsetKey(t.name, p);
        if (group.offsets.has(key)) {
          records.push(offsetCommitRecord(group.groupId, t.name, p, null, now));
          deleted.push(key);
        }
        return { partitionIndex: p, errorCode: ErrorCode.NONE };
      }),
    }));
    return this.removeOffsetsAtCommit(group.groupId, group.offsets, records, deleted, out);
  }

  /** Writes the tombstones of `deleted` offset keys; they leave `offsets` once committed. */
  private removeOffsetsAtCommit(
    groupId: string,
    offsets: Map<string, CommittedOffset>,
    records: BatchRecord[],
    deleted: string[],
    out: OffsetDeleteResult['topics'],
  ): OffsetDeleteResult | Promise<OffsetDeleteResult> {
    if (records.length === 0) return { errorCode: ErrorCode.NONE, topics: out };
    const ticket = this.append(groupId, records);
    const error = appendErrorToGroupError(ticket.appendError, true);
    if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
    return new Promise((resolve) => {
      this.afterCommit(groupId, ticket, (code) => {
        if (code !== ErrorCode.NONE) return resolve({ errorCode: code, topics: [] });
        for (const k of deleted) offsets.delete(k);
        resolve({ errorCode: ErrorCode.NONE, topics: out });
      });
    });
  }

  private deleteConsumerGroupOffsets(group: ConsumerGroup, topics: { name: string; partitionIndexes: number[] }[]): OffsetDeleteResult | Promise<OffsetDeleteResult> {
    const now = this.now();
    const records: BatchRecord[] = [];
    const deleted: string[] = [];
    const out = topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => {
        if (group.isSubscribedToTopic(t.name)) return { partitionIndex: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC as number };
        const key = offsetKey(t.name, p);
        if (group.offsets.has(key)) {
          records.push(offsetCommitRecord(group.groupId, t.name, p, null, now));
          deleted.push(key);
        }
        return { partitionIndex: p, errorCode: ErrorCode.NONE as number };
      }),
    }));
    return this.removeOffsetsAtCommit(group.groupId, group.offsets, records, deleted, out);
  }

  // -------------------------------------------------------------------------------------------
  // Consumer groups (KIP-848)

  /** ConsumerGroupHeartbeat: settles the group id against classic groups, then runs the consumer protocol. */
  /** Answered once the records it wrote are committed. */
  consumerGroupHeartbeat(req: ConsumerHeartbeatRequest): Promise<ConsumerHeartbeatResponse> {
    const fail = (errorCode: number, errorMessage: string | null = null): ConsumerHeartbeatResponse => ({ errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null });
    if (this.closed) return Promise.resolve(fail(ErrorCode.NOT_COORDINATOR));
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return Promise.resolve(fail(ready));
    return this.inQueue(req.groupId, fail, () => this.heldUntilCommitted(req.groupId, () => this.doConsumerGroupHeartbeat(req, fail), fail));
  }

  private doConsumerGroupHeartbeat(req: ConsumerHeartbeatRequest, fail: (errorCode: number, errorMessage: string | null) => ConsumerHeartbeatResponse): ConsumerHeartbeatResponse {
    const classic = this.groups.get(req.groupId);
    if (classic !== undefined && !classic.is(GroupState.Dead) && req.groupId !== '') {
      // As Kafka: only a joining member may take over the id of an empty classic group (its
      // offsets carry over); a classic group in use is not a consumer group.
      const replaceable = req.memberEpoch === 0 && classic.is(GroupState.Empty) && classic.pendingMembers.size === 0 && !this.joinTimers.has(classic);
      if (!replaceable) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`);
      const res = this.consumer.heartbeat(req, classic.offsets);
      if (res.errorCode === ErrorCode.NONE && this.consumer.group(req.groupId) !== undefined) {
        // The consumer group's records are written; the classic group's metadata is deleted.
        if (this.append(req.groupId, [groupTombstoneRecord(req.groupId, this.now())]).appendError !== ErrorCode.NONE) {
          this.deps.log.warn({ groupId: req.groupId }, 'could not write the tombstone of the replaced classic group');
        }
        classic.transitionTo(GroupState.Dead, this.now());
        this.groups.delete(req.groupId);
        this.deps.log.info({ groupId: req.groupId }, 'empty classic group replaced by a consumer group');
      }
      return res;
    }
    return this.consumer.heartbeat(req);
  }

  /** ConsumerGroupDescribe for one group id. */
  describeConsumerGroup(groupId: string): ConsumerGroupDescription {
    const gate = this.closed ? ErrorCode.NONE : this.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, errorMessage: null, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] };
    const classic = this.groups.get(groupId);
    if (!this.closed && classic !== undefined && !classic.is(GroupState.Dead) && this.consumer.group(groupId) === undefined) {
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a consumer group.`, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] };
    }
    return this.consumer.describe(groupId);
  }

  // -------------------------------------------------------------------------------------------
  // Group administration

  listGroups(statesFilter: readonly string[]): GroupListing[] {
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const out: GroupListing[] = [];
    for (const g of this.groups.values()) {
      if (g.is(GroupState.Dead)) continue;
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      out.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state, type: 'classic' });
    }
    for (const g of this.consumer.allGroups()) {
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      out.push({ groupId: g.groupId, protocolType: 'consumer', state: g.state, type: 'consumer' });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription {
    const group = this.groups.get(groupId);
    const gate = this.closed ? ErrorCode.NOT_COORDINATOR : this.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, groupId, state: '', protocolType: '', protocolData: '', members: [], notFound: null };
    if (group === undefined || group.is(GroupState.Dead)) {
      const notFound = this.consumer.group(groupId) !== undefined ? `Group ${groupId} is not a classic group.` : `Group ${groupId} not found.`;
      return { errorCode: ErrorCode.NONE, groupId, state: GroupState.Dead, protocolType: '', protocolData: '', members: [], notFound };
    }
    const stable = group.is(GroupState.Stable);
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? group.protocolName ?? '' : '',
      // Kafka shows subscriptions and assignments only once the group is stable.
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? group.metadataFor(m, group.protocolName) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
      notFound: null,
    };
  }

  /** DeleteGroups: each group's answer is held until its tombstones are committed. */
  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        if (this.closed) return { groupId, errorCode: ErrorCode.NOT_COORDINATOR as number };
        const errorCode = await this.inQueue(groupId, (code) => code, () => this.heldUntilCommitted(groupId, () => this.deleteGroup(groupId), (code) => code));
        return { groupId, errorCode };
      }),
    );
  }

  private deleteGroup(groupId: string): number {
    const modern = this.consumer.group(groupId);
    if (modern !== undefined) {
      if (modern.size > 0) return ErrorCode.NON_EMPTY_GROUP;
      const error = this.tombstoneConsumerGroup(modern);
      if (error === ErrorCode.NONE) this.deps.log.info({ groupId }, 'consumer group deleted');
      return error;
    }
    const group = this.groups.get(groupId);
    if (group === undefined || group.is(GroupState.Dead)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is(GroupState.Empty)) return ErrorCode.NON_EMPTY_GROUP;
    const error = this.tombstoneGroup(group);
    if (error === ErrorCode.NONE) this.deps.log.info({ groupId }, 'group deleted');
    return error;
  }

  /** Writes tombstones for the group and all its offsets, then forgets it (state Dead). */
  private tombstoneGroup(group: ClassicGroup): number {
    const now = this.now();
    const records: BatchRecord[] = [];
    for (const key of group.offsets.keys()) {
      const sep = key.lastIndexOf('\u0000');
      records.push(offsetCommitRecord(group.groupId, key.slice(0, sep), Number(key.slice(sep + 1)), null, now));
    }
    records.push(groupTombstoneRecord(group.groupId, now));
    const error = appendErrorToGroupError(this.append(group.groupId, records).appendError, false);
    if (error !== ErrorCode.NONE) return error;
    group.offsets.clear();
    group.transitionTo(GroupState.Dead, now);
    this.groups.delete(group.groupId);
    return ErrorCode.NONE;
  }

  /** Writes tombstones for an empty consumer group's offsets and records, then forgets it. */
  private tombstoneConsumerGroup(group: ConsumerGroup): number {
    const now = this.now();
    const records: BatchRecord[] = [];
    for (const key of group.offsets.keys()) {
      const sep = key.lastIndexOf('\u0000');
      records.push(offsetCommitRecord(group.groupId, key.slice(0, sep), Number(key.slice(sep + 1)), null, now));
    }
    records.push(...this.consumer.groupTombstones(group, now));
    const error = appendErrorToGroupError(this.append(group.groupId, records).appendError, false);
    if (error !== ErrorCode.NONE) return error;
    group.offsets.clear();
    this.consumer.forget(group);
    return ErrorCode.NONE;
  }

  /**
   * Consumer groups (Kafka's rule for them): an offset expires `offsets.retention.minutes` after
   * its commit once the group is empty or no member subscribes to its topic; an empty group
   * left without offsets is removed.
   */
  private expireConsumerGroupOffsets(now: number): void {
    for (const group of [...this.consumer.allGroups()]) {
      const expired: string[] = [];
      for (const [key, o] of group.offsets) {
        const topic = key.slice(0, key.lastIndexOf('\u0000'));
        const unused = group.size === 0 || !group.isSubscribedToTopic(topic);
        const expires = o.expireTimestampMs !== null ? now >= o.expireTimestampMs : unused && now - o.commitTimestampMs >= this.config.offsetsRetentionMs;
        if (expires) expired.push(key);
      }
      this.expireOffsetKeys(group.groupId, group.offsets, expired, now);
      if (group.size === 0 && group.offsets.size === 0) {
        if (this.tombstoneConsumerGroup(group) === ErrorCode.NONE) this.deps.log.info({ groupId: group.groupId }, 'removed empty consumer group without offsets');
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Offset retention (offsets.retention.minutes)

  /** Writes tombstones for the `keys` ("topic\0partition") of `offsets`, then forgets them; on a
   * failed append nothing is forgotten and the next check tries again. */
  private expireOffsetKeys(groupId: string, offsets: Map<string, unknown>, keys: string[], now: number): void {
    if (keys.length === 0) return;
    const records = keys.map((key) => {
      const sep = key.lastIndexOf('\u0000');
      return offsetCommitRecord(groupId, key.slice(0, sep), Number(key.slice(sep + 1)), null, now);
    });
    if (this.append(groupId, records).appendError !== ErrorCode.NONE) return;
    for (const k of keys) offsets.delete(k);
    this.deps.log.info({ groupId, partitions: keys.length }, 'expired committed offsets');
  }

  private scheduleRetentionCheck(): void {
    if (this.closed) return;
    this.retentionTimer = this.deps.scheduler.schedule(this.config.offsetsRetentionCheckIntervalMs, () => {
      this.expireOffsets();
      this.scheduleRetentionCheck();
    });
  }

  /**
   * Kafka's rule (KIP-211): offsets of an empty group expire `offsets.retention.minutes` after
   * the group became empty (after the commit for a group that never had members); offsets of
   * topics a consumer group no longer subscribes to expire that long after their commit; an
   * explicit v2-4 retention time wins. An empty group left without offsets is removed.
   */
  expireOffsets(): void {
    const now = this.now();
    const retention = this.config.offsetsRetentionMs;
    this.expireConsumerGroupOffsets(now);
    for (const group of [...this.groups.values()]) {
      if (group.is(GroupState.Dead)) continue;
      const expired: string[] = [];
      for (const [key, o] of group.offsets) {
        let expires: boolean;
        if (o.expireTimestampMs !== null) {
          expires = now >= o.expireTimestampMs;
        } else if (group.is(GroupState.Empty)) {
          const base = group.protocolType !== null ? group.stateTimestampMs : o.commitTimestampMs;
          expires = now - base >= retention;
        } else {
          const topic = key.slice(0, key.lastIndexOf('\u0000'));
          expires = group.protocolType === 'consumer' && group.subscribedTopics !== null && !group.subscribedTopics.has(topic) && now - o.commitTimestampMs >= retention;
        }
        if (expires) expired.push(key);
      }
      this.expireOffsetKeys(group.groupId, group.offsets, expired, now);
      if (group.is(GroupState.Empty) && group.offsets.size === 0 && group.pendingMembers.size === 0 && !this.joinTimers.has(group)) {
        if (this.tombstoneGroup(group) === ErrorCode.NONE) this.deps.log.info({ groupId: group.groupId }, 'removed empty group without offsets');
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Persistence

  /** Writes the group's metadata record (members, generation, assignments); the append's error. */
  private storeGroup(group: ClassicGroup): number {
    return appendErrorToGroupError(this.storeGroupTicket(group).appendError, false);
  }

  private storeGroupTicket(group: ClassicGroup): CommitTicket {
    return this.append(group.groupId, [groupMetadataRecord(group, this.now())]);
  }

  /** Appends one batch to the group's partition: a ticket that settles when it is committed. */
  private append(groupId: string, records: BatchRecord[]): CommitTicket {
    const partition = this.partitionOf(groupId);
    const ticket = this.runtime.write(partition, encodeGroupBatch(records));
    if (ticket.appendError !== ErrorCode.NONE) this.deps.log.warn({ groupId, partition, errorCode: ticket.appendError }, 'append to __consumer_offsets failed');
    this.collecting?.push(ticket);
    return ticket;
  }

  private answerJoin(member: GroupMember, outcome: JoinOutcome): void {
    const waiter = member.joinWaiter;
    if (waiter === null) return;
    member.joinWaiter = null;
    waiter(outcome);
  }

  private answerSync(member: GroupMember, outcome: SyncOutcome): void {
    const waiter = member.syncWaiter;
    if (waiter === null) return;
    member.syncWaiter = null;
    waiter(outcome);
  }
}

function sameProtocols(a: readonly JoinProtocol[], b: readonly JoinProtocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}

export { ALL_GROUP_STATES };
