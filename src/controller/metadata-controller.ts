// The controller of a single-voter metadata quorum: validates metadata changes (topics,
// partitions, configs, producer id blocks, feature levels), turns each into metadata records,
// makes them durable in the metadata log, then replays them into the image and tells the broker
// side.
//
// Every public change method is synchronous: validation, append and replay happen without an
// `await` in between, so two requests can never both pass a check that only one may pass.
//
// Bounds, as Kafka's QuorumController: one change writes at most MAX_RECORDS_PER_USER_OP records
// (a CreateTopics with 20,000 partitions is refused with POLICY_VIOLATION, not half-written), and
// partition creations and deletions are charged to a controller mutation quota (KIP-599) that
// the caller passes in; a topic refused by it gets THROTTLING_QUOTA_EXCEEDED. The records of one
// change are committed with one append (one fsync), however many topics it touches.
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/codec/reader.js';
import { MetadataImage, type TopicImage } from '../metadata/image.js';
import { MetadataDelta, applyRecords } from '../metadata/delta.js';
import { ConfigResourceType, MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import { BOOTSTRAP_FEATURES, METADATA_VERSION, type FeatureUpdate } from '../metadata/features.js';
import { MetadataPublication, type MetadataPublisher } from '../metadata/publisher.js';
import {
  UNLIMITED_MUTATIONS,
  type ConfigChange,
  type ControllerChannel,
  type CreatedTopic,
  type ItemResult,
  type NewTopic,
  type PartitionIncrease,
  type PartitionMutationQuota,
  type TopicResult,
  type TopicToDelete,
} from '../metadata/controller-channel.js';
import { METADATA_TOPIC, collisionKey, isInternalTopic, newTopicId, topicNameProblem } from '../metadata/topic-names.js';
import { planFeatureUpdates } from './features.js';
import type { MetadataLog, PreparedAppend } from './metadata-log.js';

export interface ControllerOptions {
  nodeId: number;
  /** Brokers that can host replicas (just this node until the cluster work lands). */
  brokerIds: () => number[];
  defaultNumPartitions: () => number;
  defaultReplicationFactor: () => number;
  /** Why a topic config is invalid, or null. */
  topicConfigProblem: (name: string, value: string | null) => string | null;
  nowMs: () => number;
  /** Resolves once pending I/O has had a turn (between slices of a large change). */
  pause: () => Promise<void>;
}

/** Kafka's QuorumController.MAX_RECORDS_PER_USER_OP: the most records one change may write. */
export const MAX_RECORDS_PER_USER_OP = 10_000;
const EXCESSIVELY_LARGE_OPERATION = 'Unable to perform excessively large batch operation.';
const THROTTLED = 'The throttling quota has been exceeded.';
/** Changes of fewer records are encoded and committed in one go (a few milliseconds at most). */
const SLICED_COMMIT_MIN_RECORDS = 1000;

/** Growth of one topic, resolved against the controller's image. */
interface ResolvedIncrease {
  topic: TopicImage;
  count: number;
  assignments: number[][] | null;
}

/** One topic alone would exceed MAX_RECORDS_PER_USER_OP: the whole change is refused, as Kafka's
 * bounded record list fails the whole operation. */
class OperationTooLarge extends KafkaError {
  constructor() {
    super(ErrorCode.POLICY_VIOLATION, EXCESSIVELY_LARGE_OPERATION);
  }
}

function failure<T>(name: string, err: KafkaError): TopicResult<T> {
  return { name, errorCode: err.code, errorMessage: err.detail, value: null };
}

/** Every topic of an over-large change gets Kafka's POLICY_VIOLATION. */
function tooLarge<T>(names: readonly string[]): TopicResult<T>[] {
  return names.map((name) => ({ name, errorCode: ErrorCode.POLICY_VIOLATION, errorMessage: EXCESSIVELY_LARGE_OPERATION, value: null }));
}

const PRODUCER_ID_BLOCK_SIZE = 1000n;

export class MetadataController implements ControllerChannel {
  private readonly publication = new MetadataPublication();
  private producerIdBlockEnd = 0n;
  private nextProducerIdInBlock = 0n;

  constructor(
    private readonly log: MetadataLog,
    private readonly opts: ControllerOptions,
  ) {}

  /** The latest committed image. */
  get image(): MetadataImage {
    return this.publication.image;
  }

  /** Where committed images are published, in commit order. */
  get publisher(): MetadataPublisher {
    return this.publication;
  }

  /**
   * Replays the whole metadata log into the image (start-up). A transaction left unfinished at
   * the log's end (a crash mid-write) is not applied. A log without a metadata.version (a new
   * node, or one from before feature levels were recorded) gets the bootstrap levels first, as
   * `kafka-storage format` writes them for a new Kafka cluster.
   */
  load(): { unfinishedTransaction: boolean } {
    const delta = new MetadataDelta(this.image);
    const end = this.log.replay((record) => delta.replay(record));
    this.publication.publish(delta.records, delta.apply(), end.lastOffset);
    if (!this.image.finalizedFeatures.has(METADATA_VERSION)) {
      this.commit([...BOOTSTRAP_FEATURES].filter(([name]) => !this.image.finalizedFeatures.has(name)).map(([name, level]) => featureLevelRecord(name, level)));
    }
    return { unfinishedTransaction: end.unfinishedTransaction };
  }

  /** The epoch of the finalized feature levels: the offset of the last committed metadata record. */
  get finalizedFeaturesEpoch(): bigint {
    return this.publication.offset;
  }

  /** Appends (the records, or what the log prepared from them), then replays and publishes. */
  private commit(records: MetadataRecord[], prepared?: PreparedAppend): void {
    if (records.length === 0) return;
    const offset = prepared === undefined ? this.log.append(records, this.opts.nowMs()) : this.log.appendPrepared(prepared);
    this.publication.publish(records, applyRecords(this.image, records), offset);
  }

  /**
   * Validates a topic creation; returns the records that would create it. Throws KafkaError.
   * `planned` maps the collision keys of the topics planned earlier in the same change.
   */
  private planTopic(t: NewTopic, planned: ReadonlyMap<string, string>): MetadataRecord[] {
    const problem = topicNameProblem(t.name);
    if (problem !== null) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    // The metadata log's own partition lives beside the topics' partitions on disk; Kafka
    // answers an attempt to create it as an authorization failure (KAFKA-14358).
    if (t.name === METADATA_TOPIC) throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `Authorization failed: ${t.name} is the cluster metadata topic.`);
    if (this.image.topicsByName.has(t.name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
    const colliding = this.image.topicCollidingWith(t.name) ?? planned.get(collisionKey(t.name));
    if (colliding !== undefined) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${t.name}' collides with existing topic: ${colliding}`);
    const brokers = this.opts.brokerIds();
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
      const partitions = t.numPartitions === -1 ? this.opts.defaultNumPartitions() : t.numPartitions;
      const rf = t.replicationFactor === -1 ? this.opts.defaultReplicationFactor() : t.replicationFactor;
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
      for (let p = 0; p < partitions; p++) {
        const replicas: number[] = [];
        for (let r = 0; r < rf; r++) replicas.push(brokers[(p + r) % brokers.length]!);
        replicaSets.push(replicas);
      }
    }
    const configs = new Map<string, string>();
    for (const c of t.configs) {
      const why = this.opts.topicConfigProblem(c.name, c.value);
      if (why !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, why);
      configs.set(c.name, c.value!);
    }
    const topicId = newTopicId();
    const records: MetadataRecord[] = [{ type: MetadataRecordType.TopicRecord, version: 0, data: { name: t.name, topicId } }];
    for (const [name, value] of configs) {
      records.push({ type: MetadataRecordType.ConfigRecord, version: 0, data: { resourceType: ConfigResourceType.TOPIC, resourceName: t.name, name, value } });
    }
    replicaSets.forEach((replicas, partitionId) => records.push(partitionRecord(topicId, partitionId, replicas)));
    return records;
  }

  /**
   * Creates topics (or only validates them), in one append. Each topic gets its own result with
   * Kafka's code and message; a change of more than MAX_RECORDS_PER_USER_OP records is refused
   * as a whole (POLICY_VIOLATION), before the quota is charged. validateOnly charges nothing.
   */
  createTopics(topics: readonly NewTopic[], validateOnly: boolean, quota: PartitionMutationQuota = UNLIMITED_MUTATIONS): Promise<TopicResult<CreatedTopic>[]> {
    return this.createTopicsInSlices(topics, validateOnly, quota, this.opts.pause);
  }

  /** createTopics with no slicing, answered at once. */
  createTopicsNow(topics: readonly NewTopic[], validateOnly: boolean, quota: PartitionMutationQuota = UNLIMITED_MUTATIONS): TopicResult<CreatedTopic>[] {
    const { results, records } = this.planCreateTopics(topics, validateOnly, quota);
    if (!validateOnly) this.commit(records);
    return results;
  }

  /**
   * createTopics for a request that may write thousands of records: planned (and charged to the
   * quota) at once, its records encoded into metadata-log batches in slices with `pause` between
   * them, then checked again and committed with no await between that check and the write. If
   * another change took one of the names meanwhile, the request is planned again and committed at
   * once (without charging the quota twice).
   */
  async createTopicsInSlices(
    topics: readonly NewTopic[],
    validateOnly: boolean,
    quota: PartitionMutationQuota,
    pause: () => Promise<void>,
  ): Promise<TopicResult<CreatedTopic>[]> {
    const plan = this.planCreateTopics(topics, validateOnly, quota);
    if (validateOnly) return plan.results;
    return this.commitInSlices(
      plan,
      pause,
      () => plan.results.every((r) => r.errorCode !== ErrorCode.NONE || (!this.image.topicsByName.has(r.name) && this.image.topicCollidingWith(r.name) === undefined)),
      () => {
        const again = this.planCreateTopics(topics, false, UNLIMITED_MUTATIONS);
        this.commit(again.records);
        return again.results;
      },
    );
  }

  /**
   * Commits a planned change: at once when small; else its records are encoded in slices, then,
   * with no await between the check and the write, committed if `stillValid` (nothing it relied
   * on changed meanwhile), or `replanAndCommit` runs instead.
   */
  private async commitInSlices<R>(
    plan: { results: R[]; records: MetadataRecord[] },
    pause: () => Promise<void>,
    stillValid: () => boolean,
    replanAndCommit: () => R[],
  ): Promise<R[]> {
    if (plan.records.length < SLICED_COMMIT_MIN_RECORDS) {
      this.commit(plan.records);
      return plan.results;
    }
    const prepared = await this.log.prepare(plan.records, this.opts.nowMs(), pause);
    // No await from here to the commit.
    if (!stillValid()) return replanAndCommit();
    this.commit(plan.records, prepared);
    return plan.results;
  }

  private planCreateTopics(topics: readonly NewTopic[], validateOnly: boolean, quota: PartitionMutationQuota): { results: TopicResult<CreatedTopic>[]; records: MetadataRecord[] } {
    const planned = new Map<string, string>();
    const plans: ({ records: MetadataRecord[]; partitions: number } | KafkaError)[] = [];
    let total = 0;
    for (const t of topics) {
      try {
        const records = this.planTopic(t, planned);
        planned.set(collisionKey(t.name), t.name);
        const partitions = records.reduce((n, r) => (r.type === MetadataRecordType.PartitionRecord ? n + 1 : n), 0);
        plans.push({ records, partitions });
        total += records.length;
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        plans.push(err);
        if (err instanceof OperationTooLarge) total = Number.POSITIVE_INFINITY;
      }
      if (total > MAX_RECORDS_PER_USER_OP) return { results: tooLarge(topics.map((t) => t.name)), records: [] };
    }
    const results: TopicResult<CreatedTopic>[] = [];
    const records: MetadataRecord[] = [];
    topics.forEach((t, i) => {
      const plan = plans[i]!;
      if (plan instanceof KafkaError) {
        results.push(failure(t.name, plan));
        return;
      }
      if (!validateOnly && !quota.tryRecord(plan.partitions)) {
        results.push({ name: t.name, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: THROTTLED, value: null });
        return;
      }
      const topicRecord = plan.records[0]!.data as { topicId: string };
      const partitionRecords = plan.records.filter((r) => r.type === MetadataRecordType.PartitionRecord);
      const configs = new Map(
        plan.records.filter((r) => r.type === MetadataRecordType.ConfigRecord).map((r) => [(r.data as { name: string }).name, (r.data as { value: string }).value]),
      );
      results.push({
        name: t.name,
        errorCode: ErrorCode.NONE,
        errorMessage: null,
        value: {
          topicId: validateOnly ? ZERO_UUID : topicRecord.topicId,
          partitions: partitionRecords.length,
          replicationFactor: (partitionRecords[0]?.data as { replicas: number[] } | undefined)?.replicas.length ?? 0,
          configs,
        },
      });
      for (const r of plan.records) records.push(r);
    });
    return { results, records };
  }

  /** Creates one topic (or only validates it). Throws KafkaError with Kafka's code and message. */
  createTopic(t: NewTopic, validateOnly: boolean, quota: PartitionMutationQuota = UNLIMITED_MUTATIONS): CreatedTopic {
    const [result] = this.createTopicsNow([t], validateOnly, quota);
    if (result!.errorCode !== ErrorCode.NONE) throw new KafkaError(result!.errorCode, result!.errorMessage ?? undefined);
    return result!.value!;
  }

  /** Deletes topics in one append; internal topics are refused, each topic is charged its
   * partitions to the quota. */
  async deleteTopics(targets: readonly TopicToDelete[], quota: PartitionMutationQuota = UNLIMITED_MUTATIONS): Promise<TopicResult[]> {
    if (targets.length > MAX_RECORDS_PER_USER_OP) return tooLarge(targets.map((t) => t.name));
    const records: MetadataRecord[] = [];
    const results = targets.map((target): TopicResult => {
      const topic = this.image.topicsById.get(target.topicId);
      if (topic === undefined) return failure(target.name, new KafkaError(ErrorCode.UNKNOWN_TOPIC_ID, 'This server does not host this topic ID.'));
      if (isInternalTopic(topic.name)) {
        return failure(topic.name, new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic ${topic.name} is an internal topic and cannot be deleted.`));
      }
      if (!quota.tryRecord(topic.partitions.length)) return { name: topic.name, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: THROTTLED, value: null };
      records.push({ type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId: topic.topicId } });
      return { name: topic.name, errorCode: ErrorCode.NONE, errorMessage: null, value: null };
    });
    this.commit(records);
    return results;
  }

  /**
   * Grows topics, each to its `count` partitions, with optional manual assignments for the new
   * ones, in one append. Checks and messages follow Kafka's controller; limits and quota as in
   * createTopics.
   */
  async createPartitions(requested: readonly PartitionIncrease[], validateOnly: boolean, quota: PartitionMutationQuota = UNLIMITED_MUTATIONS): Promise<TopicResult[]> {
    const unknown = new Map<string, TopicResult>();
    const increases: ResolvedIncrease[] = [];
    for (const inc of requested) {
      const topic = this.image.topicsByName.get(inc.topic);
      if (topic === undefined) unknown.set(inc.topic, { name: inc.topic, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, value: null });
      else increases.push({ topic, count: inc.count, assignments: inc.assignments });
    }
    const results = await this.createPartitionsInSlices(increases, validateOnly, quota, this.opts.pause);
    const byName = new Map(results.map((r) => [r.name, r]));
    return requested.map((inc) => byName.get(inc.topic) ?? unknown.get(inc.topic)!);
  }

  /** createPartitions encoded in slices, as createTopicsInSlices; planned again if another change
   * grew or replaced one of the topics meanwhile. */
  private async createPartitionsInSlices(
    increases: readonly ResolvedIncrease[],
    validateOnly: boolean,
    quota: PartitionMutationQuota,
    pause: () => Promise<void>,
  ): Promise<TopicResult[]> {
    const plan = this.planCreatePartitions(increases, validateOnly, quota);
    if (validateOnly) return plan.results;
    return this.commitInSlices(
      plan,
      pause,
      // Images are immutable: the same topic object means nothing changed it.
      () => increases.every((inc) => this.image.topicsById.get(inc.topic.topicId) === inc.topic),
      () => {
        const current = increases.flatMap((inc) => {
          const topic = this.image.topicsById.get(inc.topic.topicId);
          return topic === undefined ? [] : [{ ...inc, topic }];
        });
        const again = this.planCreatePartitions(current, false, UNLIMITED_MUTATIONS);
        this.commit(again.records);
        const byName = new Map(again.results.map((r) => [r.name, r]));
        return increases.map((inc) => byName.get(inc.topic.name) ?? { name: inc.topic.name, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, value: null });
      },
    );
  }

  private planCreatePartitions(increases: readonly ResolvedIncrease[], validateOnly: boolean, quota: PartitionMutationQuota): { results: TopicResult[]; records: MetadataRecord[] } {
    const plans: (MetadataRecord[] | KafkaError)[] = [];
    let total = 0;
    for (const inc of increases) {
      try {
        const planned = this.planPartitions(inc.topic, inc.count, inc.assignments);
        plans.push(planned);
        total += planned.length;
      } catch (err) {
        if (!(err instanceof KafkaError)) throw err;
        plans.push(err);
        if (err instanceof OperationTooLarge) total = Number.POSITIVE_INFINITY;
      }
      if (total > MAX_RECORDS_PER_USER_OP) return { results: tooLarge(increases.map((inc) => inc.topic.name)), records: [] };
    }
    const records: MetadataRecord[] = [];
    const results = increases.map((inc, i): TopicResult => {
      const plan = plans[i]!;
      if (plan instanceof KafkaError) return failure(inc.topic.name, plan);
      if (!validateOnly && !quota.tryRecord(plan.length)) return { name: inc.topic.name, errorCode: ErrorCode.THROTTLING_QUOTA_EXCEEDED, errorMessage: THROTTLED, value: null };
      for (const r of plan) records.push(r);
      return { name: inc.topic.name, errorCode: ErrorCode.NONE, errorMessage: null, value: null };
    });
    return { results, records };
  }

  /** The PartitionRecords that grow `topic` to `count` partitions. Throws KafkaError. */
  private planPartitions(topic: TopicImage, count: number, assignments: number[][] | null): MetadataRecord[] {
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
    const brokers = this.opts.brokerIds();
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
        replicas = [];
        for (let r = 0; r < rf; r++) replicas.push(brokers[(p + r) % brokers.length]!);
      }
      records.push(partitionRecord(topic.topicId, p, replicas));
    }
    return records;
  }

  /** Sets (value) or removes (null) topic config overrides, after validating all of them. */
  async alterTopicConfigs(name: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult> {
    return outcome(() => {
      for (const c of changes) {
        if (c.value === null) continue;
        const why = this.opts.topicConfigProblem(c.name, c.value);
        if (why !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, why);
      }
      if (!this.image.topicsByName.has(name)) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
      if (validateOnly) return null;
      this.commit(changes.map((c) => configRecord(ConfigResourceType.TOPIC, name, c)));
      return null;
    });
  }

  /** Sets or removes dynamic broker config overrides (resourceName '' is the cluster default). */
  async alterBrokerConfigs(resourceName: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult> {
    return outcome(() => {
      if (!validateOnly) this.commit(changes.map((c) => configRecord(ConfigResourceType.BROKER, resourceName, c)));
      return null;
    });
  }

  /**
   * UpdateFeatures: checks every update (features.ts has the rules) and records the new levels
   * together, or none of them. Answers INVALID_UPDATE_VERSION for the first update that is not
   * allowed.
   */
  async updateFeatures(updates: readonly FeatureUpdate[], validateOnly: boolean): Promise<ItemResult> {
    return outcome(() => {
      const planned = planFeatureUpdates(updates, this.image.finalizedFeatures, this.opts.nodeId);
      if (!validateOnly) this.commit(planned.map((u) => featureLevelRecord(u.feature, u.level)));
      return null;
    });
  }

  /** A producer id no one has had before, surviving restarts (ids are reserved in blocks). */
  async allocateProducerId(): Promise<ItemResult<bigint>> {
    return outcome(() => this.allocateProducerIdNow());
  }

  private allocateProducerIdNow(): bigint {
    if (this.nextProducerIdInBlock >= this.producerIdBlockEnd) {
      const start = this.image.nextProducerId;
      this.commit([
        {
          type: MetadataRecordType.ProducerIdsRecord,
          version: 0,
          data: { brokerId: this.opts.nodeId, brokerEpoch: -1n, nextProducerId: start + PRODUCER_ID_BLOCK_SIZE },
        },
      ]);
      this.nextProducerIdInBlock = start;
      this.producerIdBlockEnd = start + PRODUCER_ID_BLOCK_SIZE;
    }
    return this.nextProducerIdInBlock++;
  }
}

/** What `fn` returns as a result, or the KafkaError it throws as Kafka's code and message. */
function outcome<T>(fn: () => T): ItemResult<T> {
  try {
    return { errorCode: ErrorCode.NONE, errorMessage: null, value: fn() };
  } catch (err) {
    if (!(err instanceof KafkaError)) throw err;
    return { errorCode: err.code, errorMessage: err.detail, value: null };
  }
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
      isr: replicas.slice(),
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
