// The consumer group protocol (KIP-848, ConsumerGroupHeartbeat) for the groups this broker
// coordinates: members join, heartbeat and leave with member epochs; the coordinator bumps the
// group epoch when membership, subscriptions or the subscribed topics' partitions change,
// computes the target assignment with a server-side assignor, and reconciles each member
// towards it on its heartbeats (revocation before assignment: see `reconcileMember`).
//
// Every change is written to __consumer_offsets as Kafka's ConsumerGroup* records before it is
// applied in memory: each heartbeat computes the member's next state, the records and the next
// target on copies, appends them as one batch, and applies them only if the append was
// accepted; the GroupCoordinator holds the heartbeat's answer until that batch is committed.
// No `await` falls between those steps. Time and timers are injected, as in the classic code.
// The GroupCoordinator owns this object and settles everything shared with classic groups
// (one namespace of group ids, committed offsets, ListGroups, DeleteGroups).
import { randomBytes } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { BatchRecord } from '../../protocol/records/record-batch.js';
import type { CommittedOffset } from './classic-group.js';
import type { ServerAssignor, TargetAssignment, TopicPartitionSet } from './consumer-assignors.js';
import {
  ConsumerGroup,
  ConsumerGroupState,
  LEAVE_GROUP_MEMBER_EPOCH,
  LEAVE_GROUP_STATIC_MEMBER_EPOCH,
  MemberState,
  copyPartitions,
  isSubset,
  reconcileMember,
  samePartitions,
  type ConsumerGroupMember,
  type SubscribedTopic,
} from './consumer-group.js';
import {
  currentAssignmentRecord,
  groupEpochRecord,
  memberMetadataRecord,
  partitionMetadataRecord,
  partitionsFromWire,
  partitionsToWire,
  targetAssignmentMemberRecord,
  targetAssignmentMetadataRecord,
  type ConsumerGroupRecord,
  type CurrentAssignment,
  type MemberMetadata,
} from './consumer-group-log.js';
import { TopicRegexMatcher, compileTopicRegex } from './consumer-group-regex.js';
import type { Scheduler, TimerHandle } from './group-api.js';
import { RebalanceReason, type RebalanceListener } from './rebalance.js';

export interface ConsumerGroupConfig {
  /** group.consumer.session.timeout.ms */
  sessionTimeoutMs: number;
  /** group.consumer.heartbeat.interval.ms */
  heartbeatIntervalMs: number;
  /** group.consumer.max.size */
  maxSize: number;
  /** The timeouts of one group where its group configs (consumer.session.timeout.ms,
   * consumer.heartbeat.interval.ms) override the two above; read on every use, so a change
   * applies from the next heartbeat on. */
  timeoutsFor?: (groupId: string) => { sessionTimeoutMs: number; heartbeatIntervalMs: number };
  /** group.consumer.assignors: the first is the default. */
  assignors: readonly ServerAssignor[];
}

export interface TopicMetadataView {
  topicByName(name: string): { topicId: string; numPartitions: number } | undefined;
  topicNameById(topicId: string): string | undefined;
  /** Every topic name (regex subscriptions are matched against these); internal topics excluded. */
  topicNames(): Iterable<string>;
}

export interface ConsumerGroupCoordinatorDeps {
  config: ConsumerGroupConfig;
  topics: TopicMetadataView;
  scheduler: Scheduler;
  nowMs: () => number;
  log: Logger;
  /** Told of each group epoch bump (a rebalance) once, after its records were accepted. */
  rebalanced: RebalanceListener;
  /** Appends the records of one group as one batch; returns a group API error code. */
  append(groupId: string, records: BatchRecord[]): number;
}

export interface TopicPartitionsWire {
  topicId: string;
  partitions: number[];
}

export interface ConsumerHeartbeatRequest {
  /** ConsumerGroupHeartbeat version: from v1 the member always generates its own id (KIP-1082). */
  apiVersion: number;
  groupId: string;
  memberId: string;
  memberEpoch: number;
  instanceId: string | null;
  rackId: string | null;
  rebalanceTimeoutMs: number;
  subscribedTopicNames: string[] | null;
  subscribedTopicRegex: string | null;
  serverAssignor: string | null;
  topicPartitions: TopicPartitionsWire[] | null;
  clientId: string;
  clientHost: string;
}

export interface ConsumerHeartbeatResponse {
  errorCode: number;
  errorMessage: string | null;
  memberId: string | null;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: TopicPartitionsWire[] | null;
}

export interface DescribedTopicPartitions {
  topicId: string;
  topicName: string;
  partitions: number[];
}

export interface ConsumerGroupDescription {
  errorCode: number;
  errorMessage: string | null;
  groupId: string;
  groupState: string;
  groupEpoch: number;
  assignmentEpoch: number;
  assignorName: string;
  members: {
    memberId: string;
    instanceId: string | null;
    rackId: string | null;
    memberEpoch: number;
    clientId: string;
    clientHost: string;
    subscribedTopicNames: string[];
    subscribedTopicRegex: string | null;
    assignment: DescribedTopicPartitions[];
    targetAssignment: DescribedTopicPartitions[];
  }[];
}

function errorResponse(errorCode: number, errorMessage: string | null, memberId: string | null = null): ConsumerHeartbeatResponse {
  return { errorCode, errorMessage, memberId, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null };
}

/** Kafka's member ids: a random UUID in URL-safe base64 without padding. */
function newMemberId(): string {
  return randomBytes(16).toString('base64url');
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

function sameSubscriptionMetadata(a: ReadonlyMap<string, SubscribedTopic>, b: ReadonlyMap<string, SubscribedTopic>): boolean {
  if (a.size !== b.size) return false;
  for (const [name, t] of a) {
    const o = b.get(name);
    if (o === undefined || o.topicId !== t.topicId || o.numPartitions !== t.numPartitions) return false;
  }
  return true;
}


interface LoadingGroup {
  epoch: number | null;
  assignmentEpoch: number;
  subscription: SubscribedTopic[];
  metadata: Map<string, MemberMetadata>;
  current: Map<string, CurrentAssignment>;
  target: Map<string, TopicPartitionSet>;
}

export class ConsumerGroupCoordinator {
  private readonly groups = new Map<string, ConsumerGroup>();
  private readonly sessionTimers = new Map<string, TimerHandle>();
  private readonly revocationTimers = new Map<string, TimerHandle>();
  private loading = new Map<string, LoadingGroup>();
  private closed = false;
  private readonly regexes = new TopicRegexMatcher();

  constructor(private readonly deps: ConsumerGroupCoordinatorDeps) {
    if (deps.config.assignors.length === 0) throw new Error('group.consumer.assignors must name at least one assignor');
  }

  private now(): number {
    return this.deps.nowMs();
  }

  group(groupId: string): ConsumerGroup | undefined {
    return this.groups.get(groupId);
  }

  allGroups(): Iterable<ConsumerGroup> {
    return this.groups.values();
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeat

  /**
   * One ConsumerGroupHeartbeat. `carriedOffsets` are the committed offsets of an empty classic
   * group of the same id that this join replaces (the caller has checked that it may).
   */
  heartbeat(req: ConsumerHeartbeatRequest, carriedOffsets?: ReadonlyMap<string, CommittedOffset>): ConsumerHeartbeatResponse {
    if (this.closed) return errorResponse(ErrorCode.NOT_COORDINATOR, null);
    const invalid = this.validate(req);
    if (invalid !== null) return invalid;
    if (req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH || req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) return this.leave(req);

    const existing = this.groups.get(req.groupId);
    if (existing === undefined && req.memberEpoch !== 0) return errorResponse(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
    const group = existing ?? new ConsumerGroup(req.groupId, this.now());
    const now = this.now();
    const records: BatchRecord[] = [];

    // 1. Find the member (or create it), fencing stale requests.
    let member: ConsumerGroupMember | undefined;
    let isNew = false;
    let replacedStatic: ConsumerGroupMember | null = null;
    if (req.memberEpoch === 0) {
      const heldBy = req.instanceId === null ? undefined : group.staticMemberId(req.instanceId);
      if (heldBy !== undefined && heldBy !== req.memberId) {
        const holder = group.members.get(heldBy)!;
        if (holder.memberEpoch !== LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
          return errorResponse(ErrorCode.UNRELEASED_INSTANCE_ID, `Static member ${heldBy} with instance id ${req.instanceId} is still in the group; it must leave first.`);
        }
        replacedStatic = holder;
      }
      member = req.memberId === '' ? undefined : group.members.get(req.memberId);
      if (member === undefined) {
        if (replacedStatic === null && group.size >= this.deps.config.maxSize) {
          return errorResponse(ErrorCode.GROUP_MAX_SIZE_REACHED, `The consumer group has reached its maximum capacity of ${this.deps.config.maxSize} members.`);
        }
        isNew = true;
        const memberId = req.memberId === '' ? newMemberId() : req.memberId;
        member = replacedStatic !== null
          ? {
              // A static member that rejoins continues from its predecessor's subscription and partitions.
              ...replacedStatic,
              memberId,
              memberEpoch: 0,
              previousMemberEpoch: -1,
              state: MemberState.Stable,
              assigned: copyPartitions(replacedStatic.assigned),
              pendingRevocation: new Map(),
            }
          : {
          memberId,
          instanceId: req.instanceId,
          rackId: null,
          clientId: req.clientId,
          clientHost: req.clientHost,
          subscribedTopicNames: [],
          subscribedTopicRegex: null,
          rebalanceTimeoutMs: req.rebalanceTimeoutMs,
          serverAssignor: null,
          memberEpoch: 0,
          previousMemberEpoch: -1,
          state: MemberState.Stable,
          assigned: new Map(),
          pendingRevocation: new Map(),
        };
      }
    } else {
      member = group.members.get(req.memberId);
      if (member === undefined) return errorResponse(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${req.memberId} is not a member of group ${req.groupId}.`);
      if (req.instanceId !== null && group.staticMemberId(req.instanceId) !== req.memberId) {
        return errorResponse(ErrorCode.FENCED_INSTANCE_ID, `Instance id ${req.instanceId} is held by another member.`);
      }
      const fenced = this.checkMemberEpoch(member, req);
      if (fenced !== null) return fenced;
    }

    // 2. The member's metadata (null fields: unchanged since the last heartbeat).
    const updated: ConsumerGroupMember = {
      ...member,
      instanceId: req.instanceId ?? member.instanceId,
      rackId: req.rackId ?? member.rackId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs !== -1 ? req.rebalanceTimeoutMs : member.rebalanceTimeoutMs,
      subscribedTopicNames: req.subscribedTopicNames ?? member.subscribedTopicNames,
      subscribedTopicRegex: req.subscribedTopicRegex ?? member.subscribedTopicRegex,
      serverAssignor: req.serverAssignor ?? member.serverAssignor,
    };
    // A rejoin with epoch 0 of a member that lost its epoch: it reports no partitions.
    const subscriptionChanged =
      !sameStrings(updated.subscribedTopicNames, member.subscribedTopicNames) ||
      updated.subscribedTopicRegex !== member.subscribedTopicRegex ||
      updated.serverAssignor !== member.serverAssignor ||
      updated.rackId !== member.rackId ||
      updated.instanceId !== member.instanceId;
    const metadataChanged =
      isNew || subscriptionChanged || updated.clientId !== member.clientId || updated.clientHost !== member.clientHost || updated.rebalanceTimeoutMs !== member.rebalanceTimeoutMs;

    // The members as they will be after this heartbeat (for subscriptions and the assignor).
    const nextMembers = new Map(group.members);
    if (replacedStatic !== null) nextMembers.delete(replacedStatic.memberId);
    nextMembers.set(updated.memberId, updated);

    let groupEpoch = group.groupEpoch;
    let bump = isNew || subscriptionChanged;
    if (replacedStatic !== null) {
      // The static member's place passes to the new member id without a new group epoch.
      bump = subscriptionChanged;
      records.push(currentAssignmentRecord(group.groupId, replacedStatic.memberId, null, now));
      records.push(targetAssignmentMemberRecord(group.groupId, replacedStatic.memberId, null, now));
      records.push(memberMetadataRecord(group.groupId, replacedStatic.memberId, null, now));
    }
    if (metadataChanged || replacedStatic !== null) records.push(memberMetadataRecord(group.groupId, updated.memberId, updated, now));

    // 3. The subscribed topics' metadata: a new topic, a deleted one or added partitions bump the epoch.
    const subscription = this.subscriptionMetadata(nextMembers.values());
    const subscriptionMetadataChanged = !sameSubscriptionMetadata(subscription, group.subscriptionMetadata);
    if (subscriptionMetadataChanged) {
      records.push(partitionMetadataRecord(group.groupId, [...subscription.values()], now));
      bump = true;
    }
    if (bump) {
      groupEpoch = group.groupEpoch + 1;
      records.push(groupEpochRecord(group.groupId, groupEpoch, now));
    }

    // 4. A new target assignment when the group epoch moved past the assignment epoch.
    let assignmentEpoch = group.assignmentEpoch;
    let target: TargetAssignment = new Map(group.targetAssignment);
    if (replacedStatic !== null) {
      const inherited = target.get(replacedStatic.memberId);
      target.delete(replacedStatic.memberId);
      if (inherited !== undefined) target.set(updated.memberId, inherited);
      records.push(targetAssignmentMemberRecord(group.groupId, updated.memberId, inherited ?? new Map(), now));
    }
    if (groupEpoch > assignmentEpoch) {
      const assignor = this.preferredAssignor(nextMembers.values());
      const computed = assignor.assign({
        members: [...nextMembers.values()].map((m) => ({
          memberId: m.memberId,
          instanceId: m.instanceId,
          subscribedTopicIds: this.subscribedTopicIds(m, subscription),
          previous: target.get(m.memberId) ?? new Map(),
        })),
        partitionCounts: new Map([...subscription.values()].map((t) => [t.topicId, t.numPartitions])),
      });
      for (const [memberId, parts] of computed) {
        const before = target.get(memberId);
        if (before === undefined || !samePartitions(before, parts)) records.push(targetAssignmentMemberRecord(group.groupId, memberId, parts, now));
      }
      target = computed;
      assignmentEpoch = groupEpoch;
      records.push(targetAssignmentMetadataRecord(group.groupId, assignmentEpoch, now));
      this.deps.log.debug({ groupId: group.groupId, groupEpoch, assignor: assignor.name, members: nextMembers.size }, 'computed target assignment');
    }

    // 5. Reconcile the member towards its target.
    const owned = req.topicPartitions === null ? null : partitionsFromWire(req.topicPartitions);
    const partitionEpoch = (topicId: string, partition: number): number => {
      // The replaced static member's partitions pass to its successor.
      if (replacedStatic !== null && group.partitionOwner(topicId, partition) === replacedStatic.memberId) return -1;
      return group.currentPartitionEpoch(topicId, partition);
    };
    const reconciled = reconcileMember(updated, assignmentEpoch, target.get(updated.memberId) ?? new Map(), owned, partitionEpoch);
    const assignmentChanged =
      isNew ||
      replacedStatic !== null ||
      reconciled.memberEpoch !== member.memberEpoch ||
      reconciled.state !== member.state ||
      !samePartitions(reconciled.assigned, member.assigned) ||
      !samePartitions(reconciled.pendingRevocation, member.pendingRevocation);
    if (assignmentChanged) records.push(currentAssignmentRecord(group.groupId, reconciled.memberId, reconciled, now));

    // 6. Persist, then apply.
    if (records.length > 0) {
      const error = this.deps.append(group.groupId, records);
      if (error !== ErrorCode.NONE) return errorResponse(error, null, req.memberId === '' ? null : req.memberId);
    }
    if (existing === undefined) {
      this.groups.set(group.groupId, group);
      if (carriedOffsets !== undefined) for (const [k, v] of carriedOffsets) group.offsets.set(k, v);
    }
    if (replacedStatic !== null) {
      this.cancelTimers(group.groupId, replacedStatic.memberId);
      group.removeMember(replacedStatic.memberId);
      group.targetAssignment.delete(replacedStatic.memberId);
      this.deps.log.info({ groupId: group.groupId, instanceId: req.instanceId, oldMemberId: replacedStatic.memberId, memberId: reconciled.memberId }, 'static member rejoined');
    }
    if (subscriptionMetadataChanged) group.subscriptionMetadata = subscription;
    group.groupEpoch = groupEpoch;
    if (assignmentEpoch !== group.assignmentEpoch || replacedStatic !== null) {
      group.targetAssignment.clear();
      for (const [id, parts] of target) group.targetAssignment.set(id, parts);
      group.assignmentEpoch = assignmentEpoch;
    }
    group.updateMember(reconciled);
    group.refreshState(now);
    if (isNew) this.deps.log.debug({ groupId: group.groupId, memberId: reconciled.memberId, instanceId: reconciled.instanceId, groupEpoch }, 'consumer group member joined');
    if (bump) {
      const who = reconciled.memberId + (reconciled.instanceId === null ? '' : ` (instance id ${reconciled.instanceId})`);
      const [reason, detail] =
        isNew && replacedStatic === null
          ? [RebalanceReason.MemberJoined, `new member ${who} joined`]
          : subscriptionChanged
            ? [RebalanceReason.SubscriptionChanged, `member ${who} updated its subscription`]
            : [RebalanceReason.MetadataChanged, `the metadata of the subscribed topics changed (seen on member ${reconciled.memberId}'s heartbeat)`];
      this.deps.rebalanced({ groupId: group.groupId, protocol: 'consumer', reason, detail, generation: groupEpoch });
    }
    this.scheduleSessionExpiry(group, reconciled.memberId);
    this.updateRevocationTimer(group, member, reconciled);

    const isFullRequest = req.rebalanceTimeoutMs !== -1 && (req.subscribedTopicNames !== null || req.subscribedTopicRegex !== null) && req.topicPartitions !== null;
    const sendAssignment = req.memberEpoch === 0 || isFullRequest || !samePartitions(reconciled.assigned, member.assigned) || isNew;
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      memberId: reconciled.memberId,
      memberEpoch: reconciled.memberEpoch,
      heartbeatIntervalMs: this.timeouts(group.groupId).heartbeatIntervalMs,
      assignment: sendAssignment ? partitionsToWire(reconciled.assigned) : null,
    };
  }

  /** Kafka's checks (GroupCoordinatorService), in its order, before the group is looked at. */
  private validate(req: ConsumerHeartbeatRequest): ConsumerHeartbeatResponse | null {
    const invalid = (message: string) => errorResponse(ErrorCode.INVALID_REQUEST, message);
    const blank = (s: string | null) => s !== null && s.trim() === '';
    // v1 (KIP-1082): the member generates its id, also to join; v0 may join with '' and get one.
    if ((req.apiVersion >= 1 || req.memberEpoch > 0 || req.memberEpoch === LEAVE_GROUP_MEMBER_EPOCH) && blank(req.memberId)) return invalid("MemberId can't be empty.");
    if (blank(req.groupId)) return invalid("GroupId can't be empty.");
    if (blank(req.instanceId)) return invalid("InstanceId can't be empty.");
    if (blank(req.rackId)) return invalid("RackId can't be empty.");
    if (req.memberEpoch === 0) {
      if (req.rebalanceTimeoutMs === -1) return invalid('RebalanceTimeoutMs must be provided in first request.');
      if (req.topicPartitions === null || req.topicPartitions.length > 0) return invalid('TopicPartitions must be empty when (re-)joining.');
      // An empty list of names or an empty regex joins the group subscribed to nothing.
      if (req.subscribedTopicNames === null && req.subscribedTopicRegex === null) return invalid('Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.');
    } else if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      if (req.instanceId === null) return invalid("InstanceId can't be null.");
    } else if (req.memberEpoch < LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      return invalid('MemberEpoch is invalid.');
    }
    if (req.serverAssignor !== null && !this.deps.config.assignors.some((a) => a.name === req.serverAssignor)) {
      return errorResponse(ErrorCode.UNSUPPORTED_ASSIGNOR, `ServerAssignor ${req.serverAssignor} is not supported. Supported assignors: ${this.deps.config.assignors.map((a) => a.name).join(', ')}.`);
    }
    if (req.subscribedTopicRegex !== null && req.subscribedTopicRegex !== '') {
      const compiled = compileTopicRegex(req.subscribedTopicRegex);
      if (!compiled.ok) return errorResponse(ErrorCode.INVALID_REGULAR_EXPRESSION, compiled.message);
    }
    return null;
  }

  /**
   * Kafka's rule: a greater epoch than the member's is fenced; a smaller one is accepted only
   * when it is the previous epoch and the member owns no more than its current assignment (the
   * response that carried the new epoch may have been lost).
   */
  private checkMemberEpoch(member: ConsumerGroupMember, req: ConsumerHeartbeatRequest): ConsumerHeartbeatResponse | null {
    const fenced = (message: string) => errorResponse(ErrorCode.FENCED_MEMBER_EPOCH, message);
    if (req.memberEpoch > member.memberEpoch) return fenced(`The consumer group member has a greater member epoch (${req.memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
    if (req.memberEpoch < member.memberEpoch) {
      const owned = req.topicPartitions === null ? null : partitionsFromWire(req.topicPartitions);
      if (req.memberEpoch !== member.previousMemberEpoch || owned === null || !isSubset(owned, member.assigned)) {
        return fenced(`The consumer group member has a smaller member epoch (${req.memberEpoch}) than the one known by the group coordinator (${member.memberEpoch}). The member must abandon all its partitions and rejoin.`);
      }
    }
    return null;
  }

  /** The subscribed topics that exist, by name, for these members. */
  private subscriptionMetadata(members: Iterable<ConsumerGroupMember>): Map<string, SubscribedTopic> {
    const names = new Set<string>();
    const regexes = new Set<string>();
    for (const m of members) {
      for (const t of m.subscribedTopicNames) names.add(t);
      if (m.subscribedTopicRegex !== null && m.subscribedTopicRegex !== '') regexes.add(m.subscribedTopicRegex);
    }
    // Regexes are resolved against the topics as they are now, so a topic created or deleted
    // changes the subscription (and bumps the group epoch) at the next heartbeat.
    if (regexes.size > 0) {
      for (const name of this.deps.topics.topicNames()) {
        for (const re of regexes) {
          if (this.regexes.matchesTopic(re, name)) {
            names.add(name);
            break;
          }
        }
      }
    }
    const out = new Map<string, SubscribedTopic>();
    for (const name of [...names].sort()) {
      const t = this.deps.topics.topicByName(name);
      if (t !== undefined) out.set(name, { topicId: t.topicId, topicName: name, numPartitions: t.numPartitions });
    }
    return out;
  }

  private subscribedTopicIds(member: ConsumerGroupMember, subscription: ReadonlyMap<string, SubscribedTopic>): Set<string> {
    const ids = new Set<string>();
    for (const name of member.subscribedTopicNames) {
      const t = subscription.get(name);
      if (t !== undefined) ids.add(t.topicId);
    }
    const regex = member.subscribedTopicRegex;
    if (regex !== null && regex !== '') for (const [name, t] of subscription) if (this.regexes.matchesTopic(regex, name)) ids.add(t.topicId);
    return ids;
  }

  /** The assignor most members ask for (ties: the configured order), else the default. */
  private preferredAssignor(members: Iterable<ConsumerGroupMember>): ServerAssignor {
    const votes = new Map<string, number>();
    for (const m of members) if (m.serverAssignor !== null) votes.set(m.serverAssignor, (votes.get(m.serverAssignor) ?? 0) + 1);
    let best: ServerAssignor = this.deps.config.assignors[0]!;
    let bestVotes = 0;
    for (const a of this.deps.config.assignors) {
      const v = votes.get(a.name) ?? 0;
      if (v > bestVotes) {
        best = a;
        bestVotes = v;
      }
    }
    return best;
  }

  // -------------------------------------------------------------------------------------------
  // Leaving, session and revocation timeouts

  private leave(req: ConsumerHeartbeatRequest): ConsumerHeartbeatResponse {
    const group = this.groups.get(req.groupId);
    if (group === undefined) return errorResponse(ErrorCode.GROUP_ID_NOT_FOUND, `Consumer group ${req.groupId} not found.`);
    let memberId = req.memberId;
    if (req.instanceId !== null) {
      const holder = group.staticMemberId(req.instanceId);
      if (holder === undefined) return errorResponse(ErrorCode.UNKNOWN_MEMBER_ID, `Instance id ${req.instanceId} is unknown.`);
      if (holder !== req.memberId) return errorResponse(ErrorCode.FENCED_INSTANCE_ID, `Instance id ${req.instanceId} is held by another member.`);
      memberId = holder;
    }
    const member = group.members.get(memberId);
    if (member === undefined) return errorResponse(ErrorCode.UNKNOWN_MEMBER_ID, `Member ${memberId} is not a member of group ${req.groupId}.`);
    const ok = (epoch: number): ConsumerHeartbeatResponse => ({ errorCode: ErrorCode.NONE, errorMessage: null, memberId, memberEpoch: epoch, heartbeatIntervalMs: 0, assignment: null });
    if (req.memberEpoch === LEAVE_GROUP_STATIC_MEMBER_EPOCH) {
      // A static member bouncing: it keeps its assignment for its session timeout; partitions
      // it was revoking are released at once.
      const leaving: ConsumerGroupMember = {
        ...member,
        previousMemberEpoch: member.memberEpoch >= 0 ? member.memberEpoch : member.previousMemberEpoch,
        memberEpoch: LEAVE_GROUP_STATIC_MEMBER_EPOCH,
        pendingRevocation: new Map(),
      };
      const now = this.now();
      const error = this.deps.append(group.groupId, [currentAssignmentRecord(group.groupId, memberId, leaving, now)]);
      if (error !== ErrorCode.NONE) return errorResponse(error, null, memberId);
      group.updateMember(leaving);
      group.refreshState(now);
      this.revocationTimers.get(`${group.groupId}\u0000${memberId}`)?.cancel();
      this.deps.log.info({ groupId: group.groupId, memberId, instanceId: member.instanceId }, 'static member left temporarily');
      return ok(LEAVE_GROUP_STATIC_MEMBER_EPOCH);
    }
    const error = this.removeMember(group, member, RebalanceReason.MemberLeft, `member ${memberId} left the group`);
    if (error !== ErrorCode.NONE) return errorResponse(error, null, memberId);
    return ok(LEAVE_GROUP_MEMBER_EPOCH);
  }

  /** Removes a member (left, fenced or expired) and bumps the group epoch. */
  private removeMember(group: ConsumerGroup, member: ConsumerGroupMember, reason: RebalanceReason, detail: string): number {
    const now = this.now();
    const remaining = [...group.members.values()].filter((m) => m.memberId !== member.memberId);
    const subscription = this.subscriptionMetadata(remaining);
    const records: BatchRecord[] = [
      currentAssignmentRecord(group.groupId, member.memberId, null, now),
      targetAssignmentMemberRecord(group.groupId, member.memberId, null, now),
      memberMetadataRecord(group.groupId, member.memberId, null, now),
    ];
    const subscriptionChanged = !sameSubscriptionMetadata(subscription, group.subscriptionMetadata);
    if (subscriptionChanged) records.push(partitionMetadataRecord(group.groupId, [...subscription.values()], now));
    records.push(groupEpochRecord(group.groupId, group.groupEpoch + 1, now));
    const error = this.deps.append(group.groupId, records);
    if (error !== ErrorCode.NONE) return error;
    this.cancelTimers(group.groupId, member.memberId);
    group.removeMember(member.memberId);
    group.targetAssignment.delete(member.memberId);
    if (subscriptionChanged) group.subscriptionMetadata = subscription;
    group.groupEpoch++;
    group.refreshState(now);
    this.deps.log.debug({ groupId: group.groupId, memberId: member.memberId, groupEpoch: group.groupEpoch, reason }, 'consumer group member removed');
    this.deps.rebalanced({ groupId: group.groupId, protocol: 'consumer', reason, detail, generation: group.groupEpoch });
    return ErrorCode.NONE;
  }

  private timerKey(groupId: string, memberId: string): string {
    return `${groupId}\u0000${memberId}`;
  }

  private cancelTimers(groupId: string, memberId: string): void {
    const key = this.timerKey(groupId, memberId);
    this.sessionTimers.get(key)?.cancel();
    this.sessionTimers.delete(key);
    this.revocationTimers.get(key)?.cancel();
    this.revocationTimers.delete(key);
  }

  private timeouts(groupId: string): { sessionTimeoutMs: number; heartbeatIntervalMs: number } {
    const c = this.deps.config;
    return c.timeoutsFor?.(groupId) ?? { sessionTimeoutMs: c.sessionTimeoutMs, heartbeatIntervalMs: c.heartbeatIntervalMs };
  }

  /** (Re)starts the member's session: it is removed if no heartbeat arrives in time. */
  private scheduleSessionExpiry(group: ConsumerGroup, memberId: string): void {
    const key = this.timerKey(group.groupId, memberId);
    this.sessionTimers.get(key)?.cancel();
    if (this.closed) return;
    const { sessionTimeoutMs } = this.timeouts(group.groupId);
    this.sessionTimers.set(
      key,
      this.deps.scheduler.schedule(sessionTimeoutMs, () => {
        this.sessionTimers.delete(key);
        const member = group.members.get(memberId);
        if (member === undefined || this.groups.get(group.groupId) !== group) return;
        this.deps.log.debug({ groupId: group.groupId, memberId, sessionTimeoutMs }, 'consumer group member session expired');
        if (this.removeMember(group, member, RebalanceReason.SessionTimeout, `removing member ${memberId} on heartbeat expiration (session timeout ${sessionTimeoutMs} ms)`) !== ErrorCode.NONE) this.scheduleSessionExpiry(group, memberId);
      }),
    );
  }

  /** A member asked to revoke partitions must do so within its rebalance timeout, or it is fenced. */
  private updateRevocationTimer(group: ConsumerGroup, before: ConsumerGroupMember, after: ConsumerGroupMember): void {
    const key = this.timerKey(group.groupId, after.memberId);
    if (after.state !== MemberState.UnrevokedPartitions) {
      this.revocationTimers.get(key)?.cancel();
      this.revocationTimers.delete(key);
      return;
    }
    if (before.state === MemberState.UnrevokedPartitions && this.revocationTimers.has(key) && samePartitions(before.pendingRevocation, after.pendingRevocation)) return;
    this.revocationTimers.get(key)?.cancel();
    const epoch = after.memberEpoch;
    this.revocationTimers.set(
      key,
      this.deps.scheduler.schedule(after.rebalanceTimeoutMs, () => {
        this.revocationTimers.delete(key);
        const member = group.members.get(after.memberId);
        if (member === undefined || member.state !== MemberState.UnrevokedPartitions || member.memberEpoch !== epoch) return;
        this.deps.log.debug({ groupId: group.groupId, memberId: member.memberId, rebalanceTimeoutMs: member.rebalanceTimeoutMs }, 'member did not revoke its partitions in time; fenced');
        this.removeMember(group, member, RebalanceReason.RebalanceTimeout, `member ${member.memberId} did not revoke its partitions within its rebalance timeout (${member.rebalanceTimeoutMs} ms); fenced`);
      }),
    );
  }

  // -------------------------------------------------------------------------------------------
  // Offsets (the GroupCoordinator stores them; these are the consumer group rules)

  /** Kafka's OffsetCommit validation for consumer groups. */
  validateOffsetCommit(group: ConsumerGroup, memberId: string, memberEpoch: number, apiVersion: number): number {
    // Epoch -1: the admin client or a consumer outside group management; only for an empty group.
    if (memberEpoch < 0 && group.size === 0) return ErrorCode.NONE;
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (apiVersion < 9) return ErrorCode.UNSUPPORTED_VERSION;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  /** Kafka's OffsetFetch validation for consumer groups (v9+ carries the member id and epoch). */
  validateOffsetFetch(group: ConsumerGroup, memberId: string | null, memberEpoch: number): number {
    if (memberEpoch < 0 && memberId === null) return ErrorCode.NONE;
    const member = memberId === null ? undefined : group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (memberEpoch !== member.memberEpoch) return ErrorCode.STALE_MEMBER_EPOCH;
    return ErrorCode.NONE;
  }

  // -------------------------------------------------------------------------------------------
  // Describe, delete, conversion

  describe(groupId: string): ConsumerGroupDescription {
    const group = this.groups.get(groupId);
    const base = { groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] };
    if (this.closed) return { ...base, errorCode: ErrorCode.NOT_COORDINATOR, errorMessage: null };
    if (group === undefined) return { ...base, errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} not found.` };
    const describe = (set: TopicPartitionSet): DescribedTopicPartitions[] =>
      partitionsToWire(set).map((t) => ({ topicId: t.topicId, topicName: this.deps.topics.topicNameById(t.topicId) ?? '', partitions: t.partitions }));
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      groupId,
      groupState: group.state,
      groupEpoch: group.groupEpoch,
      assignmentEpoch: group.assignmentEpoch,
      assignorName: this.preferredAssignor(group.members.values()).name,
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        instanceId: m.instanceId,
        rackId: m.rackId,
        memberEpoch: m.memberEpoch,
        clientId: m.clientId,
        clientHost: m.clientHost,
        subscribedTopicNames: m.subscribedTopicNames,
        subscribedTopicRegex: m.subscribedTopicRegex,
        assignment: describe(m.assigned),
        targetAssignment: describe(group.targetAssignment.get(m.memberId) ?? new Map()),
      })),
    };
  }

  /** The tombstones that delete an empty group's own records (not its offsets). */
  groupTombstones(group: ConsumerGroup, nowMs: number): BatchRecord[] {
    return [
      targetAssignmentMetadataRecord(group.groupId, null, nowMs),
      partitionMetadataRecord(group.groupId, null, nowMs),
      groupEpochRecord(group.groupId, null, nowMs),
    ];
  }

  /** Forgets an empty group whose tombstones were written (deleted, expired or replaced by a classic group). */
  forget(group: ConsumerGroup): void {
    if (group.size !== 0) throw new Error(`consumer group ${group.groupId}: forgotten with ${group.size} members`);
    group.transitionTo(ConsumerGroupState.Dead, this.now());
    this.groups.delete(group.groupId);
  }

  /** Drops the groups `owned` selects (their coordinator partition was unloaded) with their timers. */
  unload(owned: (groupId: string) => boolean): void {
    for (const groupId of [...this.groups.keys()]) {
      if (!owned(groupId)) continue;
      const group = this.groups.get(groupId)!;
      for (const memberId of group.members.keys()) this.cancelTimers(groupId, memberId);
      this.groups.delete(groupId);
    }
  }

  /** Cancels every timer; requests from now on get NOT_COORDINATOR. */
  shutdown(): void {
    this.closed = true;
    for (const t of this.sessionTimers.values()) t.cancel();
    for (const t of this.revocationTimers.values()) t.cancel();
    this.sessionTimers.clear();
    this.revocationTimers.clear();
  }

  // -------------------------------------------------------------------------------------------
  // Start-up replay

  /** Applies one record read back from __consumer_offsets, in log order. */
  replay(record: ConsumerGroupRecord): void {
    let g = this.loading.get(record.groupId);
    if (g === undefined) {
      g = { epoch: null, assignmentEpoch: 0, subscription: [], metadata: new Map(), current: new Map(), target: new Map() };
      this.loading.set(record.groupId, g);
    }
    switch (record.type) {
      case 3:
        g.epoch = record.value?.epoch ?? null;
        if (record.value === null) this.loading.delete(record.groupId);
        break;
      case 4:
        g.subscription = record.value ?? [];
        break;
      case 5:
        if (record.value === null) g.metadata.delete(record.memberId);
        else g.metadata.set(record.memberId, record.value);
        break;
      case 6:
        g.assignmentEpoch = record.value?.assignmentEpoch ?? 0;
        break;
      case 7:
        if (record.value === null) g.target.delete(record.memberId);
        else g.target.set(record.memberId, record.value);
        break;
      case 8:
        if (record.value === null) g.current.delete(record.memberId);
        else g.current.set(record.memberId, record.value);
        break;
    }
  }

  /** Whether replay has seen a live consumer group of this id (before `finishLoad`). */
  isLoadingGroup(groupId: string): boolean {
    return this.loading.get(groupId)?.epoch != null;
  }

  /**
   * Builds the groups replayed so far; `offsetsFor` hands over each group's committed offsets.
   * Members must heartbeat again within their session timeout, as after a coordinator move.
   */
  finishLoad(offsetsFor: (groupId: string) => Map<string, CommittedOffset> | undefined): void {
    const now = this.now();
    for (const [groupId, g] of this.loading) {
      if (g.epoch === null) continue;
      const group = new ConsumerGroup(groupId, now);
      group.groupEpoch = g.epoch;
      group.assignmentEpoch = g.assignmentEpoch;
      group.subscriptionMetadata = new Map(g.subscription.map((t) => [t.topicName, t]));
      for (const [memberId, parts] of g.target) if (g.metadata.has(memberId)) group.targetAssignment.set(memberId, parts);
      for (const [memberId, meta] of g.metadata) {
        const current = g.current.get(memberId) ?? { memberEpoch: 0, previousMemberEpoch: -1, state: MemberState.Stable, assigned: new Map(), pendingRevocation: new Map() };
        const member: ConsumerGroupMember = { memberId, ...meta, ...current };
        try {
          group.updateMember(member);
        } catch (err) {
          // Two members holding one partition cannot come from records this broker wrote.
          this.deps.log.error({ err, groupId, memberId }, 'inconsistent consumer group records; the member starts without partitions');
          group.updateMember({ ...member, assigned: new Map(), pendingRevocation: new Map(), state: MemberState.Stable, memberEpoch: 0 });
        }
      }
      for (const [k, v] of offsetsFor(groupId) ?? []) group.offsets.set(k, v);
      group.refreshState(now);
      this.groups.set(groupId, group);
      for (const memberId of group.members.keys()) this.scheduleSessionExpiry(group, memberId);
      this.deps.log.info({ groupId, groupEpoch: group.groupEpoch, members: group.size, state: group.state }, 'loaded consumer group');
    }
    this.loading = new Map();
  }
}
