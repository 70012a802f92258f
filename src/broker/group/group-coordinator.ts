// The classic group coordinator (JoinGroup/SyncGroup/Heartbeat/LeaveGroup, offsets, group admin)
// for the groups whose __consumer_offsets partition this broker leads (all of them on a single
// node). It follows the behaviour of Kafka's classic protocol: the state machine lives in
// ClassicGroup (see the transition table there); this class drives it with timers and stores
// group metadata and offsets as records in __consumer_offsets through `GroupLogStore`.
//
// Every method runs to completion without an `await`: a check and the change that relies on it
// (membership, generation, the append of the record) happen in one turn of the event loop.
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
import { decodeGroupRecords, encodeGroupBatch, groupMetadataRecord, groupTombstoneRecord, offsetCommitRecord } from './group-log.js';

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

/** The coordinator's view of __consumer_offsets. */
export interface GroupLogStore {
  /** Creates the topic if needed; NONE when its partitions are hosted here, else an error code. */
  ensureTopic(): number;
  /** Whether the topic exists already (without creating it). */
  topicExists(): boolean;
  numPartitions(): number;
  /** Appends one batch to a partition of the topic; returns the produce error code. */
  append(partition: number, batch: Buffer): number;
  /** The partition's batches from its log start, in order (start-up replay). */
  readAll(partition: number): Iterable<Buffer>;
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
      return ErrorCode.NOT_COORDINATOR;
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
  /** Committed offsets of consumer groups read at load, handed to them once all partitions are read. */
  private consumerOffsetsAtLoad = new Map<string, Map<string, CommittedOffset>>();

  constructor(private readonly deps: GroupCoordinatorDeps) {
    this.consumer = new ConsumerGroupCoordinator({
      config: deps.config.consumer ?? DEFAULT_CONSUMER_GROUP_CONFIG,
      topics: deps.store.topics ?? NO_TOPICS,
      scheduler: deps.scheduler,
      nowMs: deps.nowMs,
      log: deps.log,
      append: (groupId, records) => appendErrorToGroupError(this.append(groupId, records), false),
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

  /** Replays __consumer_offsets (if it exists) into groups and offsets, then starts the expiry timer. */
  load(): void {
    if (this.deps.store.topicExists()) {
      for (let p = 0; p < this.deps.store.numPartitions(); p++) this.loadPartition(p);
    }
    this.consumer.finishLoad((groupId) => this.consumerOffsetsAtLoad.get(groupId));
    this.consumerOffsetsAtLoad = new Map();
    this.scheduleRetentionCheck();
  }

  private loadPartition(partition: number): void {
    const metadata = new Map<string, GroupMetadataValueData | null>();
    const offsets = new Map<string, Map<string, { topic: string; partition: number; value: CommittedOffset }>>();
    /** Which protocol wrote a group's latest group record (a group id changes type only while empty). */
    const lastType = new Map<string, 'classic' | 'consumer'>();
    for (const batches of this.deps.store.readAll(partition)) {
      for (const r of decodeGroupRecords(batches)) {
        if (r.kind === 'group') {
          metadata.set(r.groupId, r.value);
          if (r.value !== null) lastType.set(r.groupId, 'classic');
        } else if (r.kind === 'consumer') {
          this.consumer.replay(r.record);
          if (r.record.type === 3 && r.record.value !== null) lastType.set(r.groupId, 'consumer');
        } else {
          let byPartition = offsets.get(r.groupId);
          if (byPartition === undefined) offsets.set(r.groupId, (byPartition = new Map()));
          const key = offsetKey(r.topic, r.partition);
          if (r.value === null) byPartition.delete(key);
          else byPartition.set(key, { topic: r.topic, partition: r.partition, value: r.value });
        }
      }
    }
    const now = this.now();
    const groupIds = new Set([...metadata.keys(), ...offsets.keys()]);
    for (const groupId of groupIds) {
      const groupOffsets = offsets.get(groupId);
      if (this.consumer.isLoadingGroup(groupId) && (metadata.get(groupId) == null || lastType.get(groupId) === 'consumer')) {
        this.consumerOffsetsAtLoad.set(groupId, new Map([...(groupOffsets?.values() ?? [])].map((o) => [offsetKey(o.topic, o.partition), o.value])));
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
    if (groupIds.size > 0) this.deps.log.info({ partition, groups: groupIds.size }, 'loaded groups from __consumer_offsets');
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
  }

  /** The state of every group (tests and tools). */
  group(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  // -------------------------------------------------------------------------------------------
  // FindCoordinator

  /** NONE when this broker coordinates `groupId` (creating __consumer_offsets on first use). */
  coordinatorFor(_groupId: string): number {
    return this.deps.store.ensureTopic();
  }

  // -------------------------------------------------------------------------------------------
  // JoinGroup

  join(req: JoinRequest): Promise<JoinOutcome> {
    return new Promise((resolve) => this.doJoin(req, resolve));
  }

  private doJoin(req: JoinRequest, respond: (o: JoinOutcome) => void): void {
    if (this.closed) return respond(joinError(req.memberId, ErrorCode.NOT_COORDINATOR));
    if (req.groupId === '') return respond(joinError(req.memberId, ErrorCode.INVALID_GROUP_ID));
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return respond(joinError(req.memberId, ready));
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
      const error = appendErrorToGroupError(this.append(req.groupId, this.consumer.groupTombstones(consumerGroup, this.now())), false);
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
          const error = this.storeGroup(group);
          if (error !== ErrorCode.NONE) {
            group.replaceStaticMember(req.groupInstanceId!, newMemberId, oldMemberId);
            member.protocols = oldProtocols;
            return respond(joinError('', error));
          }
          return respond({
            errorCode: ErrorCode.NONE,
            generationId: group.generationId,
            protocolType: group.protocolType,
            protocolName: group.protocolName,
            leaderId: previousLeader ?? '',
            memberId: newMemberId,
            skipAssignment: false,
            members: [],
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
    return new Promise((resolve) => this.doSync(req, resolve));
  }

  private doSync(req: SyncRequest, respond: (o: SyncOutcome) => void): void {
    if (this.closed) return respond(syncError(ErrorCode.NOT_COORDINATOR));
    if (req.groupId === '') return respond(syncError(ErrorCode.INVALID_GROUP_ID));
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
        const error = this.storeGroup(group);
        if (error !== ErrorCode.NONE) {
          this.resetAndPropagateAssignmentError(group, error);
          this.maybePrepareRebalance(group, 'could not store the group assignment');
          return;
        }
        for (const m of group.members.values()) this.answerSync(m, this.syncOutcomeFor(group, m));
        group.transitionTo(GroupState.Stable, this.now());
        this.deps.log.info({ groupId: group.groupId, generationId: group.generationId }, 'group stable');
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

  commitOffsets(req: OffsetCommitRequestIn): OffsetCommitResult {
    const all = (code: number): OffsetCommitResult =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    if (this.closed) return all(ErrorCode.NOT_COORDINATOR);
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return all(ready);
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

  /** Appends the request's offsets (one batch) and applies them to `offsets`; `result` holds per-partition codes. */
  private writeOffsets(groupId: string, offsets: Map<string, CommittedOffset>, req: OffsetCommitRequestIn, result: OffsetCommitResult): OffsetCommitResult {
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
    if (records.length > 0) {
      const error = appendErrorToGroupError(this.append(groupId, records), true);
      for (const a of accepted) {
        if (error === ErrorCode.NONE) offsets.set(a.key, a.value);
        else a.slot.errorCode = error;
      }
    }
    return result;
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
  deleteOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[]): { errorCode: number; topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] } {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
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
    if (records.length > 0) {
      const error = appendErrorToGroupError(this.append(group.groupId, records), true);
      if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
      for (const k of deleted) group.offsets.delete(k);
    }
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  private deleteConsumerGroupOffsets(
    group: ConsumerGroup,
    topics: { name: string; partitionIndexes: number[] }[],
  ): { errorCode: number; topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] } {
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
    if (records.length > 0) {
      const error = appendErrorToGroupError(this.append(group.groupId, records), true);
      if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
      for (const k of deleted) group.offsets.delete(k);
    }
    return { errorCode: ErrorCode.NONE, topics: out };
  }

  // -------------------------------------------------------------------------------------------
  // Consumer groups (KIP-848)

  /** ConsumerGroupHeartbeat: settles the group id against classic groups, then runs the consumer protocol. */
  consumerGroupHeartbeat(req: ConsumerHeartbeatRequest): ConsumerHeartbeatResponse {
    const fail = (errorCode: number, errorMessage: string | null): ConsumerHeartbeatResponse => ({ errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null });
    if (this.closed) return fail(ErrorCode.NOT_COORDINATOR, null);
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return fail(ready, null);
    const classic = this.groups.get(req.groupId);
    if (classic !== undefined && !classic.is(GroupState.Dead) && req.groupId !== '') {
      // As Kafka: only a joining member may take over the id of an empty classic group (its
      // offsets carry over); a classic group in use is not a consumer group.
      const replaceable = req.memberEpoch === 0 && classic.is(GroupState.Empty) && classic.pendingMembers.size === 0 && !this.joinTimers.has(classic);
      if (!replaceable) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`);
      const res = this.consumer.heartbeat(req, classic.offsets);
      if (res.errorCode === ErrorCode.NONE && this.consumer.group(req.groupId) !== undefined) {
        // The consumer group's records are written; the classic group's metadata is deleted.
        if (this.append(req.groupId, [groupTombstoneRecord(req.groupId, this.now())]) !== ErrorCode.NONE) {
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
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, groupId, state: '', protocolType: '', protocolData: '', members: [], notFound: null };
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

  deleteGroups(groupIds: readonly string[]): { groupId: string; errorCode: number }[] {
    return groupIds.map((groupId) => ({ groupId, errorCode: this.deleteGroup(groupId) }));
  }

  private deleteGroup(groupId: string): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
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
    const error = appendErrorToGroupError(this.append(group.groupId, records), false);
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
    const error = appendErrorToGroupError(this.append(group.groupId, records), false);
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
    if (this.append(groupId, records) !== ErrorCode.NONE) return;
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

  /** Writes the group's metadata record (members, generation, assignments). */
  private storeGroup(group: ClassicGroup): number {
    return appendErrorToGroupError(this.append(group.groupId, [groupMetadataRecord(group, this.now())]), false);
  }

  private append(groupId: string, records: BatchRecord[]): number {
    const partition = coordinatorPartitionFor(groupId, this.deps.store.numPartitions());
    const code = this.deps.store.append(partition, encodeGroupBatch(records));
    if (code !== ErrorCode.NONE) this.deps.log.warn({ groupId, partition, errorCode: code }, 'append to __consumer_offsets failed');
    return code;
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
