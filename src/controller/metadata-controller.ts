// The controller of a single-voter metadata quorum: validates metadata changes (topics,
// partitions, configs, producer id blocks, feature levels), turns each into metadata records,
// makes them durable in the metadata log, then replays them into the image and tells the broker
// side.
//
// Every public change method is synchronous: validation, append and replay happen without an
// `await` in between, so two requests can never both pass a check that only one may pass.
import { randomBytes } from 'node:crypto';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { ZERO_UUID } from '../protocol/codec/reader.js';
import { ConfigResourceType, MetadataImage, MetadataRecordType, type MetadataRecord, type TopicImage } from './metadata-image.js';
import { BOOTSTRAP_FEATURES, METADATA_VERSION, planFeatureUpdates, type FeatureUpdate } from './features.js';
import { METADATA_TOPIC, type MetadataLog } from './metadata-log.js';
import { collisionKey, isInternalTopic, topicNameProblem } from './topic-names.js';

export interface ControllerOptions {
  nodeId: number;
  /** Brokers that can host replicas (just this node until the cluster work lands). */
  brokerIds: () => number[];
  defaultNumPartitions: () => number;
  defaultReplicationFactor: () => number;
  /** Why a topic config is invalid, or null. */
  topicConfigProblem: (name: string, value: string | null) => string | null;
  nowMs: () => number;
}

export interface NewTopic {
  name: string;
  /** -1: the broker default. */
  numPartitions: number;
  /** -1: the broker default. */
  replicationFactor: number;
  /** Manual assignment: partition index -> replica broker ids; empty for automatic. */
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export type ConfigChange = { name: string; value: string | null };

/** Called after records are committed and replayed, in commit order. */
export type MetadataListener = (records: readonly MetadataRecord[], image: MetadataImage) => void;

const PRODUCER_ID_BLOCK_SIZE = 1000n;

export class MetadataController {
  readonly image = new MetadataImage();
  private readonly listeners: MetadataListener[] = [];
  private producerIdBlockEnd = 0n;
  private nextProducerIdInBlock = 0n;
  /** Offset of the last committed record, -1 for an empty log: Kafka's FinalizedFeaturesEpoch. */
  private lastOffset = -1n;

  constructor(
    private readonly log: MetadataLog,
    private readonly opts: ControllerOptions,
  ) {}

  /**
   * Replays the whole metadata log into the image (start-up). A log without a metadata.version
   * (a new node, or one from before feature levels were recorded) gets the bootstrap levels
   * first, as `kafka-storage format` writes them for a new Kafka cluster.
   */
  load(): void {
    for (const { record, offset } of this.log.replay()) {
      this.image.replay(record);
      this.lastOffset = offset;
    }
    if (!this.image.finalizedFeatures.has(METADATA_VERSION)) {
      this.commit([...BOOTSTRAP_FEATURES].filter(([name]) => !this.image.finalizedFeatures.has(name)).map(([name, level]) => featureLevelRecord(name, level)));
    }
  }

  /** The epoch of the finalized feature levels: the offset of the last committed metadata record. */
  get finalizedFeaturesEpoch(): bigint {
    return this.lastOffset;
  }

  onCommit(listener: MetadataListener): void {
    this.listeners.push(listener);
  }

  private commit(records: MetadataRecord[]): void {
    if (records.length === 0) return;
    this.lastOffset = this.log.append(records, this.opts.nowMs());
    for (const r of records) this.image.replay(r);
    for (const l of this.listeners) l(records, this.image);
  }

  /** Validates a topic creation; returns the records that would create it. Throws KafkaError. */
  private planTopic(t: NewTopic): MetadataRecord[] {
    const problem = topicNameProblem(t.name);
    if (problem !== null) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
    // The metadata log's own partition lives beside the topics' partitions on disk; Kafka
    // answers an attempt to create it as an authorization failure (KAFKA-14358).
    if (t.name === METADATA_TOPIC) throw new KafkaError(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `Authorization failed: ${t.name} is the cluster metadata topic.`);
    if (this.image.topicsByName.has(t.name)) throw new KafkaError(ErrorCode.TOPIC_ALREADY_EXISTS, `Topic '${t.name}' already exists.`);
    const key = collisionKey(t.name);
    for (const existing of this.image.topicsByName.keys()) {
      if (collisionKey(existing) === key) {
        throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic '${t.name}' collides with existing topic: ${existing}`);
      }
    }
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

  /** Creates a topic (or only validates it). Throws KafkaError with Kafka's code and message. */
  createTopic(t: NewTopic, validateOnly: boolean): { topicId: string; partitions: number; replicationFactor: number; configs: Map<string, string> } {
    const records = this.planTopic(t);
    const topicRecord = records[0]!.data as { topicId: string };
    const partitionRecords = records.filter((r) => r.type === MetadataRecordType.PartitionRecord);
    const configs = new Map(
      records.filter((r) => r.type === MetadataRecordType.ConfigRecord).map((r) => [(r.data as { name: string }).name, (r.data as { value: string }).value]),
    );
    if (!validateOnly) this.commit(records);
    return {
      topicId: validateOnly ? ZERO_UUID : topicRecord.topicId,
      partitions: partitionRecords.length,
      replicationFactor: (partitionRecords[0]?.data as { replicas: number[] } | undefined)?.replicas.length ?? 0,
      configs,
    };
  }

  deleteTopic(topic: TopicImage): void {
    if (isInternalTopic(topic.name)) {
      throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, `Topic ${topic.name} is an internal topic and cannot be deleted.`);
    }
    this.commit([{ type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId: topic.topicId } }]);
  }

  /** Grows a topic to `count` partitions, with optional manual assignments for the new ones.
   * Checks and messages follow Kafka's controller. */
  createPartitions(topic: TopicImage, count: number, assignments: number[][] | null, validateOnly: boolean): void {
    const current = topic.partitions.length;
    if (count === current) throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `Topic already has ${current} partition(s).`);
    if (count < current) {
      throw new KafkaError(ErrorCode.INVALID_PARTITIONS, `The topic ${topic.name} currently has ${current} partition(s); ${count} would not be an increase.`);
    }
    const additional = count - current;
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
    if (!validateOnly) this.commit(records);
  }

  /** Sets (value) or removes (null) topic config overrides, after validating all of them. */
  alterTopicConfigs(topic: TopicImage, changes: ConfigChange[], validateOnly: boolean): void {
    for (const c of changes) {
      if (c.value === null) continue;
      const why = this.opts.topicConfigProblem(c.name, c.value);
      if (why !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, why);
    }
    if (validateOnly) return;
    this.commit(
      changes.map((c) => ({
        type: MetadataRecordType.ConfigRecord,
        version: 0,
        data: { resourceType: ConfigResourceType.TOPIC, resourceName: topic.name, name: c.name, value: c.value },
      })),
    );
  }

  /** Sets or removes dynamic broker config overrides (resourceName '' is the cluster default). */
  alterBrokerConfigs(resourceName: string, changes: ConfigChange[], validateOnly: boolean): void {
    if (validateOnly) return;
    this.commit(
      changes.map((c) => ({
        type: MetadataRecordType.ConfigRecord,
        version: 0,
        data: { resourceType: ConfigResourceType.BROKER, resourceName, name: c.name, value: c.value },
      })),
    );
  }

  /**
   * UpdateFeatures: checks every update (features.ts has the rules) and records the new levels
   * together, or none of them. Throws KafkaError(INVALID_UPDATE_VERSION) for the first update
   * that is not allowed.
   */
  updateFeatures(updates: readonly FeatureUpdate[], validateOnly: boolean): void {
    const planned = planFeatureUpdates(updates, this.image.finalizedFeatures, this.opts.nodeId);
    if (!validateOnly) this.commit(planned.map((u) => featureLevelRecord(u.feature, u.level)));
  }

  /** A producer id no one has had before, surviving restarts (ids are reserved in blocks). */
  allocateProducerId(): bigint {
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

/** A random (version 4) topic id in Kafka's display form; like Kafka, never one whose text
 * starts with '-' (it would read as a command-line flag) and never the reserved zero id. */
export function newTopicId(): string {
  for (;;) {
    const bytes = randomBytes(16);
    bytes[6] = (bytes[6]! & 0x0f) | 0x40;
    bytes[8] = (bytes[8]! & 0x3f) | 0x80;
    const id = bytes.toString('base64url');
    if (!id.startsWith('-') && id !== ZERO_UUID) return id;
  }
}
