// The controller's planner: a metadata change request and an image in, the records that make the
// change (or Kafka's error with its message) out. Pure: no I/O, no clock, no randomness of its
// own (topic ids come from the context), nothing kept between calls; the same image, request and
// context give the same records. The event queue (event-queue.ts) decides which image a request
// is planned against and when its records count as committed.
//
// Bounds, as Kafka's QuorumController: one change writes at most MAX_RECORDS_PER_USER_OP records
// (a CreateTopics with 20,000 partitions is refused with POLICY_VIOLATION, not half-written).
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { MAX_RECORDS_PER_USER_OP, type BrokerHeartbeatAnswer, type BrokerHeartbeatRequest, type BrokerRegistrationRequest, type ConfigChange, type NewTopic } from '../metadata/controller-channel.js';
import type { FeatureUpdate } from '../metadata/features.js';
import type { MetadataImage, TopicImage } from '../metadata/image.js';
import { ConfigResourceType, MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import { METADATA_TOPIC, collisionKey, isInternalTopic, topicNameProblem } from '../metadata/topic-names.js';
import { planFeatureUpdates } from './features.js';

export const EXCESSIVELY_LARGE_OPERATION = 'Unable to perform excessively large batch operation.';
export const PRODUCER_ID_BLOCK_SIZE = 1000n;

/** What a plan may depend on besides the image and the request. */
export interface PlannerContext {
  readonly nodeId: number;
  /** Brokers that can host replicas (just this node until the cluster work lands). */
  readonly brokerIds: readonly number[];
  /** num.partitions and default.replication.factor, asked only when a request leaves them to the broker. */
  defaultNumPartitions(): number;
  defaultReplicationFactor(): number;
  /** Why a topic config is invalid, or null. */
  topicConfigProblem(name: string, value: string | null): string | null;
  /** The id of the next topic a plan creates. */
  newTopicId(): string;
}

/** One topic alone would exceed MAX_RECORDS_PER_USER_OP: the whole change is refused, as Kafka's
 * bounded record list fails the whole operation. */
export class OperationTooLarge extends KafkaError {
  constructor() {
    super(ErrorCode.POLICY_VIOLATION, EXCESSIVELY_LARGE_OPERATION);
  }
}

/** The records of one item of a change and the partitions it creates or deletes (for the quota). */
export interface ItemPlan {
  readonly records: MetadataRecord[];
  readonly partitionMutations: number;
}

/** Per item a plan or the reason it is refused; or the whole change refused as too large. */
export type ChangePlan = { readonly items: readonly (ItemPlan | KafkaError)[] } | { readonly tooLarge: true };

/** Plans CreateTopics: one plan per topic, in request order. */
export function planCreateTopics(image: MetadataImage, topics: readonly NewTopic[], ctx: PlannerContext): ChangePlan {
  const planned = new Map<string, string>();
  return planItems(topics, (t) => {
    const records = planTopic(image, t, planned, ctx);
    planned.set(collisionKey(t.name), t.name);
    return { records, partitionMutations: records.reduce((n, r) => (r.type === MetadataRecordType.PartitionRecord ? n + 1 : n), 0) };
  });
}

/**
 * One plan per request item, or the item's KafkaError; the whole change is refused when one item
 * is OperationTooLarge or all together write more than MAX_RECORDS_PER_USER_OP records (checked
 * as it goes, so a huge request is not planned to its end).
 */
function planItems<R>(requests: readonly R[], planOne: (request: R) => ItemPlan): ChangePlan {
  const items: (ItemPlan | KafkaError)[] = [];
  let total = 0;
  for (const request of requests) {
    try {
      const item = planOne(request);
      items.push(item);
      total += item.records.length;
    } catch (err) {
      if (!(err instanceof KafkaError)) throw err;
      if (err instanceof OperationTooLarge) return { tooLarge: true };
      items.push(err);
    }
    if (total > MAX_RECORDS_PER_USER_OP) return { tooLarge: true };
  }
  return { items };
}

/** The records that create one topic. Throws KafkaError. `planned`: collision keys of the topics
 * planned earlier in the same change. */
function planTopic(image: MetadataImage, t: NewTopic, planned: ReadonlyMap<string, string>, ctx: PlannerContext): MetadataRecord[] {
  const problem = topicNameProblem(t.name);
  if (problem !== null) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  // The metadata log's own partition lives beside the topics' partitions on disk; Kafka
  // answers an attempt to create it as an authorization failure (KAFKA-14358).
  if (t.name === METADATA_TOPIC) throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `Authorization failed: ${t.name} is the cluster metadata topic.`);
  if (image.topicsByName.has(t.name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
  const colliding = image.topicCollidingWith(t.name) ?? planned.get(collisionKey(t.name));
  if (colliding !== undefined) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${t.name}' collides with existing topic: ${colliding}`);
  const brokers = ctx.brokerIds;
  let replicaSets: number[][];
  if (t.assignments.length > 0) {
    if (t.numPartitions !== -1 || t.replicationFactor !== -1) {
      throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot be used at the same time.');
    }
    replicaSets = [];
    const sorted = [...t.assignments].sort((a, b) => a.partitionIndex - b.partitionIndex);
    sorted.forEach((a, i) => {
      if (a.partitionIndex !== i) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Partitions should be a consecutive 0-based integer sequence');
      if (a.brokerIds.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Empty replica list for partition ${i}`);
      if (new Set(a.brokerIds).size !== a.brokerIds.length) {
        throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `Duplicate brokers not allowed in replica assignment: ${a.brokerIds.join(', ')} for partition id ${i}.`);
      }
      for (const b of a.brokerIds) {
        if (!brokers.includes(b)) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${b}, but no such broker is registered.`);
      }
      replicaSets.push(a.brokerIds.slice());
    });
  } else {
    const partitions = t.numPartitions === -1 ? ctx.defaultNumPartitions() : t.numPartitions;
    const rf = t.replicationFactor === -1 ? ctx.defaultReplicationFactor() : t.replicationFactor;
    if (partitions <= 0) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, 'Number of partitions was set to an invalid non-positive value.');
    // More partitions than one change may write: refused before any record is built.
    if (partitions >= MAX_RECORDS_PER_USER_OP) throw new OperationTooLarge();
    if (rf <= 0) throw new KafkaError(ErrorCode.INVALID_REPLICATION_FACTOR, 'Replication factor must be larger than 0, or -1 to use the default value.');
    if (rf > brokers.length) {
      throw new KafkaError(
        ErrorCode.INVALID_REPLICATION_FACTOR,
        `Unable to replicate the partition ${rf} time(s): The target replication factor of ${rf} cannot be reached because only ${brokers.length} broker(s) are registered.`,
      );
    }
    replicaSets = [];
    for (let p = 0; p < partitions; p++) replicaSets.push(automaticReplicas(brokers, p, rf));
  }
  const configs = new Map<string, string>();
  for (const c of t.configs) {
    const why = ctx.topicConfigProblem(c.name, c.value);
    if (why !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, why);
    configs.set(c.name, c.value!);
  }
  const topicId = ctx.newTopicId();
  const records: MetadataRecord[] = [{ type: MetadataRecordType.TopicRecord, version: 0, data: { name: t.name, topicId } }];
  for (const [name, value] of configs) records.push(configRecord(ConfigResourceType.TOPIC, t.name, { name, value }));
  replicaSets.forEach((replicas, partitionId) => records.push(partitionRecord(topicId, partitionId, replicas)));
  return records;
}

/** Plans DeleteTopics by topic id: internal topics are refused, each topic counts its partitions. */
export function planDeleteTopics(image: MetadataImage, topicIds: readonly string[]): ChangePlan {
  if (topicIds.length > MAX_RECORDS_PER_USER_OP) return { tooLarge: true };
  return {
    items: topicIds.map((topicId) => {
      const topic = image.topicsById.get(topicId);
      if (topic === undefined) return new KafkaError(ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.');
      if (isInternalTopic(topic.name)) return new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic ${topic.name} is an internal topic and cannot be deleted.`);
      return { records: [{ type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId } }], partitionMutations: topic.partitions.length };
    }),
  };
}

export interface PartitionGrowth {
  topic: string;
  count: number;
  assignments: number[][] | null;
}

/** Plans CreatePartitions: one plan per topic, in request order. Checks and messages follow
 * Kafka's controller. */
export function planCreatePartitions(image: MetadataImage, increases: readonly PartitionGrowth[], ctx: PlannerContext): ChangePlan {
  return planItems(increases, (inc) => {
    const topic = image.topicsByName.get(inc.topic);
    if (topic === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const records = planPartitions(topic, inc.count, inc.assignments, ctx.brokerIds);
    return { records, partitionMutations: records.length };
  });
}

/** The PartitionRecords that grow `topic` to `count` partitions. Throws KafkaError. */
function planPartitions(topic: TopicImage, count: number, assignments: number[][] | null, brokers: readonly number[]): MetadataRecord[] {
  const current = topic.partitions.length;
  if (count === current) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
  if (count < current) {
    throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `The topic ${topic.name} currently has ${current} partition(s); ${count} would not be an increase.`);
  }
  const additional = count - current;
  if (additional > MAX_RECORDS_PER_USER_OP) throw new OperationTooLarge();
  if (assignments !== null && assignments.length !== additional) {
    throw new KafkaError(
      ErrorCode.INVALID_REPLICA_ASSIGNMENT,
      `Attempted to add ${additional} additional partition(s), but only ${assignments.length} assignment(s) were specified.`,
    );
  }
  const rf = topic.partitions[0]?.replicas.length ?? 1;
  const records: MetadataRecord[] = [];
  for (let p = current; p < count; p++) {
    let replicas: number[];
    if (assignments !== null) {
      replicas = assignments[p - current]!;
      if (replicas.length === 0) throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes an empty replica list.');
      const sorted = [...replicas].sort((a, b) => a - b);
      sorted.forEach((b, i) => {
        if (!brokers.includes(b)) {
          throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes broker ${b}, but no such broker is registered.`);
        }
        if (i > 0 && sorted[i - 1] === b) {
          throw new KafkaError(ErrorCode.INVALID_REPLICA_ASSIGNMENT, `The manual partition assignment includes the broker ${b} more than once.`);
        }
      });
      if (replicas.length !== rf) {
        throw new KafkaError(
          ErrorCode.INVALID_REPLICA_ASSIGNMENT,
          `The manual partition assignment includes a partition with ${replicas.length} replica(s), but this is not consistent with previous partitions, which have ${rf} replica(s).`,
        );
      }
      replicas = replicas.slice();
    } else {
      replicas = automaticReplicas(brokers, p, rf);
    }
    records.push(partitionRecord(topic.topicId, p, replicas));
  }
  return records;
}

/** Topic config overrides set (value) or removed (null), after validating all of them. Throws KafkaError. */
export function planTopicConfigs(image: MetadataImage, topic: string, changes: readonly ConfigChange[], ctx: PlannerContext): MetadataRecord[] {
  for (const c of changes) {
    if (c.value === null) continue;
    const why = ctx.topicConfigProblem(c.name, c.value);
    if (why !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, why);
  }
  if (!image.topicsByName.has(topic)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${topic}' does not exist.`);
  return changes.map((c) => configRecord(ConfigResourceType.TOPIC, topic, c));
}

/** Dynamic broker configs set or removed (resourceName '' is the cluster default). */
export function planBrokerConfigs(resourceName: string, changes: readonly ConfigChange[]): MetadataRecord[] {
  return changes.map((c) => configRecord(ConfigResourceType.BROKER, resourceName, c));
}

/** Group configs set or removed (checked by the broker against its group.* bounds). */
export function planGroupConfigs(groupId: string, changes: readonly ConfigChange[]): MetadataRecord[] {
  return changes.map((c) => configRecord(ConfigResourceType.GROUP, groupId, c));
}

/** UpdateFeatures: every update checked (features.ts has the rules), all recorded or none. Throws KafkaError. */
export function planFeatures(image: MetadataImage, updates: readonly FeatureUpdate[], ctx: PlannerContext): MetadataRecord[] {
  return planFeatureUpdates(updates, image.finalizedFeatures, ctx.nodeId).map((u) => featureLevelRecord(u.feature, u.level));
}

/** Reserves the next block of producer ids: the block starts at the image's high-water mark. */
export function planProducerIdBlock(image: MetadataImage, ctx: PlannerContext): { start: bigint; end: bigint; records: MetadataRecord[] } {
  const start = image.nextProducerId;
  const end = start + PRODUCER_ID_BLOCK_SIZE;
  return { start, end, records: [{ type: MetadataRecordType.ProducerIdsRecord, version: 0, data: { brokerId: ctx.nodeId, brokerEpoch: -1n, nextProducerId: end } }] };
}

/**
 * BrokerRegistration: a RegisterBrokerRecord, fenced, with an epoch above every epoch the image
 * holds (so a record of an older registration never matches the new one). `hasLiveSession`
 * says whether the current registration of that id still heartbeats (then another process
 * with the same id is refused, as Kafka refuses it).
 */
export function planRegisterBroker(image: MetadataImage, request: BrokerRegistrationRequest, hasLiveSession: (brokerId: number, epoch: bigint) => boolean): { records: MetadataRecord[]; brokerEpoch: bigint } {
  const existing = image.brokers.get(request.brokerId);
  if (existing !== undefined && existing.incarnationId !== request.incarnationId && hasLiveSession(existing.brokerId, existing.brokerEpoch)) {
    throw new KafkaError(ErrorCode.DUPLICATE_BROKER_REGISTRATION, `Another broker is registered with that broker id: ${request.brokerId}.`);
  }
  let brokerEpoch = 1n;
  for (const b of image.brokers.values()) if (b.brokerEpoch >= brokerEpoch) brokerEpoch = b.brokerEpoch + 1n;
  const record: MetadataRecord = {
    type: MetadataRecordType.RegisterBrokerRecord,
    version: 3,
    data: {
      brokerId: request.brokerId,
      isMigratingZkBroker: false,
      incarnationId: request.incarnationId,
      brokerEpoch,
      endPoints: request.endpoints.map((e) => ({ name: e.name, host: e.host, port: e.port, securityProtocol: e.securityProtocol })),
      features: [],
      rack: request.rack,
      fenced: true,
      inControlledShutdown: false,
      logDirs: [],
    },
  };
  return { records: [record], brokerEpoch };
}

/** BrokerHeartbeat against the image: STALE_BROKER_EPOCH for an older registration; unfence a
 * caught-up broker that does not want fencing; fence one that does; a controlled shutdown
 * marks the registration and, with no partition leadership to move (a single broker), fences it
 * and lets it go. Throws KafkaError. */
export function planBrokerHeartbeat(image: MetadataImage, request: BrokerHeartbeatRequest, isCaughtUp: boolean): { records: MetadataRecord[]; answer: BrokerHeartbeatAnswer } {
  const b = image.brokers.get(request.brokerId);
  if (b === undefined) throw new KafkaError(ErrorCode.BROKER_ID_NOT_REGISTERED, `Broker ${request.brokerId} is not registered.`);
  if (b.brokerEpoch !== request.brokerEpoch) {
    throw new KafkaError(ErrorCode.STALE_BROKER_EPOCH, `Expected broker epoch ${b.brokerEpoch}, but got broker epoch ${request.brokerEpoch}`);
  }
  const records: MetadataRecord[] = [];
  const id = { id: b.brokerId, epoch: b.brokerEpoch };
  let fenced = b.fenced;
  if (request.wantShutDown) {
    if (!b.inControlledShutdown || !b.fenced) {
      records.push({ type: MetadataRecordType.BrokerRegistrationChangeRecord, version: 1, data: { brokerId: b.brokerId, brokerEpoch: b.brokerEpoch, fenced: b.fenced ? 0 : 1, inControlledShutdown: 1, logDirs: [] } });
    }
    return { records, answer: { isCaughtUp, isFenced: true, shouldShutDown: true } };
  }
  if (fenced && !request.wantFence && isCaughtUp) {
    records.push({ type: MetadataRecordType.UnfenceBrokerRecord, version: 0, data: id });
    fenced = false;
  } else if (!fenced && request.wantFence) {
    records.push({ type: MetadataRecordType.FenceBrokerRecord, version: 0, data: id });
    fenced = true;
  }
  return { records, answer: { isCaughtUp, isFenced: fenced, shouldShutDown: false } };
}

/** The feature levels a new cluster starts with that `image` lacks. */
export function planBootstrapFeatures(image: MetadataImage, bootstrap: ReadonlyMap<string, number>): MetadataRecord[] {
  return [...bootstrap].filter(([name]) => !image.finalizedFeatures.has(name)).map(([name, level]) => featureLevelRecord(name, level));
}

/**
 * What a new cluster starts with when its metadata directory was formatted with a
 * bootstrap.checkpoint: its feature levels (over `defaults` for features it does not name) and
 * its SCRAM credentials (`storage format --add-scram`), each unless `image` has it already.
 */
export function planBootstrapRecords(image: MetadataImage, defaults: ReadonlyMap<string, number>, bootstrap: readonly MetadataRecord[]): MetadataRecord[] {
  const features = new Map(defaults);
  const credentials: MetadataRecord[] = [];
  for (const r of bootstrap) {
    if (r.type === MetadataRecordType.FeatureLevelRecord) features.set(r.data.name, r.data.featureLevel);
    else if (r.type === MetadataRecordType.UserScramCredentialRecord && image.scramCredentials.get(r.data.name)?.has(r.data.mechanism) !== true) credentials.push(r);
  }
  return [...planBootstrapFeatures(image, features), ...credentials];
}

function automaticReplicas(brokers: readonly number[], partition: number, rf: number): number[] {
  const replicas: number[] = [];
  for (let r = 0; r < rf; r++) replicas.push(brokers[(partition + r) % brokers.length]!);
  return replicas;
}

function configRecord(resourceType: number, resourceName: string, c: ConfigChange): MetadataRecord {
  return { type: MetadataRecordType.ConfigRecord, version: 0, data: { resourceType, resourceName, name: c.name, value: c.value } };
}

function featureLevelRecord(name: string, featureLevel: number): MetadataRecord {
  return { type: MetadataRecordType.FeatureLevelRecord, version: 0, data: { name, featureLevel } };
}

function partitionRecord(topicId: string, partitionId: number, replicas: number[]): MetadataRecord {
  return {
    type: MetadataRecordType.PartitionRecord,
    version: 0,
    data: {
      partitionId,
      topicId,
      replicas,
      // Only the leader: followers do not fetch yet (partition replication is issue 10's), so
      // an ISR of every replica would let acks=all with min.insync.replicas > 1 acknowledge a
      // write that one broker holds. The other replicas are out of sync, as Kafka shows them.
      isr: [replicas[0]!],
      removingReplicas: [],
      addingReplicas: [],
      leader: replicas[0]!,
      leaderRecoveryState: 0,
      leaderEpoch: 0,
      partitionEpoch: 0,
      directories: [],
      eligibleLeaderReplicas: null,
      lastKnownElr: null,
    },
  };
}
