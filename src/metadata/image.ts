// The cluster metadata as an immutable value: topics (by name and by id), their partitions,
// topic and broker config overrides, the producer id high-water mark and the finalized feature
// levels. An image is never changed once built: a MetadataDelta (delta.ts) replays records on
// top of one and builds the next, sharing what did not change (the topic maps are layered maps,
// so the next image costs what changed, not the number of topics). Replaying the same records always
// yields the same image; nothing here does I/O.
import { LayeredMap } from './layered-map.js';
import { collisionKey } from './topic-names.js';

export interface PartitionImage {
  readonly partitionId: number;
  readonly replicas: readonly number[];
  readonly isr: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Indexed by partition id; partitions are numbered 0..n-1. */
  readonly partitions: readonly PartitionImage[];
  readonly configs: ReadonlyMap<string, string>;
}

/** The parts of an image, as MetadataDelta.apply hands them over (owned by the image from then on). */
export interface MetadataImageParts {
  topicsByName: LayeredMap<string, TopicImage>;
  topicsById: LayeredMap<string, TopicImage>;
  namesByCollisionKey: LayeredMap<string, string>;
  brokerConfigs: Map<string, ReadonlyMap<string, string>>;
  groupConfigs: Map<string, ReadonlyMap<string, string>>;
  nextProducerId: bigint;
  finalizedFeatures: Map<string, number>;
  pendingTopicConfigs: Map<string, ReadonlyMap<string, string>>;
}

export class MetadataImage {
  static readonly EMPTY = new MetadataImage({
    topicsByName: LayeredMap.of(),
    topicsById: LayeredMap.of(),
    namesByCollisionKey: LayeredMap.of(),
    brokerConfigs: new Map(),
    groupConfigs: new Map(),
    nextProducerId: 0n,
    finalizedFeatures: new Map(),
    pendingTopicConfigs: new Map(),
  });

  readonly topicsByName: LayeredMap<string, TopicImage>;
  readonly topicsById: LayeredMap<string, TopicImage>;
  /** Broker config overrides by resource name ('' = cluster-wide default, else the node id). */
  readonly brokerConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** Group config overrides (consumer.session.timeout.ms, ...) by group id; a group need not exist. */
  readonly groupConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;
  /** First producer id not yet handed out. */
  readonly nextProducerId: bigint;
  /** Finalized feature levels, metadata.version included; a feature at level 0 is absent. */
  readonly finalizedFeatures: ReadonlyMap<string, number>;
  /** Topic names by collisionKey(name), so a new name's collision check is one lookup. */
  readonly namesByCollisionKey: LayeredMap<string, string>;
  /** Configs recorded before their topic (never written that way by us, kept for robustness). */
  readonly pendingTopicConfigs: ReadonlyMap<string, ReadonlyMap<string, string>>;

  constructor(parts: MetadataImageParts) {
    this.topicsByName = parts.topicsByName;
    this.topicsById = parts.topicsById;
    this.namesByCollisionKey = parts.namesByCollisionKey;
    this.brokerConfigs = parts.brokerConfigs;
    this.groupConfigs = parts.groupConfigs;
    this.nextProducerId = parts.nextProducerId;
    this.finalizedFeatures = parts.finalizedFeatures;
    this.pendingTopicConfigs = parts.pendingTopicConfigs;
  }

  /** An existing topic whose name collides with `name` ('.' versus '_'), or undefined. */
  topicCollidingWith(name: string): string | undefined {
    return this.namesByCollisionKey.get(collisionKey(name));
  }
}
