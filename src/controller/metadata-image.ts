// The cluster metadata as the replay of the metadata log: topics (by name and by id), their
// partitions, topic and broker config overrides, the producer id high-water mark and the
// finalized feature levels.
// Replaying the same records always yields the same image; nothing here does I/O.
import type { ConfigRecordData } from '../protocol/messages/ConfigRecord.js';
import type { FeatureLevelRecordData } from '../protocol/messages/FeatureLevelRecord.js';
import type { PartitionChangeRecordData } from '../protocol/messages/PartitionChangeRecord.js';
import type { PartitionRecordData } from '../protocol/messages/PartitionRecord.js';
import type { ProducerIdsRecordData } from '../protocol/messages/ProducerIdsRecord.js';
import type { RemoveTopicRecordData } from '../protocol/messages/RemoveTopicRecord.js';
import type { TopicRecordData } from '../protocol/messages/TopicRecord.js';
import { collisionKey } from './topic-names.js';

/** Record types of the metadata log, as Kafka numbers them. */
export const MetadataRecordType = {
  TopicRecord: 2,
  PartitionRecord: 3,
  ConfigRecord: 4,
  PartitionChangeRecord: 5,
  RemoveTopicRecord: 9,
  FeatureLevelRecord: 12,
  ProducerIdsRecord: 15,
} as const;

/** Kafka's ConfigResource types. */
export const ConfigResourceType = { TOPIC: 2, BROKER: 4 } as const;

export type MetadataRecord =
  | { type: 2; version: number; data: TopicRecordData }
  | { type: 3; version: number; data: PartitionRecordData }
  | { type: 4; version: number; data: ConfigRecordData }
  | { type: 5; version: number; data: PartitionChangeRecordData }
  | { type: 9; version: number; data: RemoveTopicRecordData }
  | { type: 12; version: number; data: FeatureLevelRecordData }
  | { type: 15; version: number; data: ProducerIdsRecordData };

export interface PartitionImage {
  readonly partitionId: number;
  replicas: number[];
  isr: number[];
  leader: number;
  leaderEpoch: number;
  partitionEpoch: number;
}

export interface TopicImage {
  readonly name: string;
  readonly topicId: string;
  /** Indexed by partition id; partitions are numbered 0..n-1. */
  readonly partitions: PartitionImage[];
  readonly configs: Map<string, string>;
}

export class MetadataImage {
  readonly topicsByName = new Map<string, TopicImage>();
  readonly topicsById = new Map<string, TopicImage>();
  /** Topic names by collisionKey(name), so a new name's collision check is one lookup. */
  private readonly namesByCollisionKey = new Map<string, string>();
  /** Broker config overrides by resource name ('' = cluster-wide default, else the node id). */
  readonly brokerConfigs = new Map<string, Map<string, string>>();
  /** First producer id not yet handed out. */
  nextProducerId = 0n;
  /** Finalized feature levels, metadata.version included; a feature at level 0 is absent. */
  readonly finalizedFeatures = new Map<string, number>();
  /** Configs recorded before their topic (never written that way by us, kept for robustness). */
  private readonly pendingTopicConfigs = new Map<string, Map<string, string>>();

  replay(record: MetadataRecord): void {
    switch (record.type) {
      case MetadataRecordType.TopicRecord: {
        const configs = this.pendingTopicConfigs.get(record.data.name) ?? new Map<string, string>();
        this.pendingTopicConfigs.delete(record.data.name);
        const topic: TopicImage = { name: record.data.name, topicId: record.data.topicId, partitions: [], configs };
        this.topicsByName.set(topic.name, topic);
        this.topicsById.set(topic.topicId, topic);
        this.namesByCollisionKey.set(collisionKey(topic.name), topic.name);
        return;
      }
      case MetadataRecordType.PartitionRecord: {
        const topic = this.topicsById.get(record.data.topicId);
        if (topic === undefined) throw new Error(`PartitionRecord for unknown topic id ${record.data.topicId}`);
        const d = record.data;
        topic.partitions[d.partitionId] = {
          partitionId: d.partitionId,
          replicas: d.replicas.slice(),
          isr: d.isr.slice(),
          leader: d.leader,
          leaderEpoch: d.leaderEpoch,
          partitionEpoch: d.partitionEpoch,
        };
        return;
      }
      case MetadataRecordType.PartitionChangeRecord: {
        const d = record.data;
        const p = this.topicsById.get(d.topicId)?.partitions[d.partitionId];
        if (p === undefined) throw new Error(`PartitionChangeRecord for unknown partition ${d.topicId}-${d.partitionId}`);
        if (d.isr !== null) p.isr = d.isr.slice();
        if (d.replicas !== null) p.replicas = d.replicas.slice();
        if (d.leader !== -2) {
          p.leader = d.leader;
          p.leaderEpoch++;
        }
        p.partitionEpoch++;
        return;
      }
      case MetadataRecordType.ConfigRecord: {
        const d = record.data;
        let target: Map<string, string>;
        if (d.resourceType === ConfigResourceType.TOPIC) {
          const topic = this.topicsByName.get(d.resourceName);
          target = topic?.configs ?? this.pendingTopicConfigsFor(d.resourceName);
        } else if (d.resourceType === ConfigResourceType.BROKER) {
          target = this.brokerConfigs.get(d.resourceName) ?? new Map<string, string>();
          this.brokerConfigs.set(d.resourceName, target);
        } else {
          return;
        }
        if (d.value === null) target.delete(d.name);
        else target.set(d.name, d.value);
        return;
      }
      case MetadataRecordType.RemoveTopicRecord: {
        const topic = this.topicsById.get(record.data.topicId);
        if (topic === undefined) return;
        this.topicsById.delete(topic.topicId);
        this.topicsByName.delete(topic.name);
        const key = collisionKey(topic.name);
        if (this.namesByCollisionKey.get(key) === topic.name) this.namesByCollisionKey.delete(key);
        return;
      }
      case MetadataRecordType.ProducerIdsRecord:
        this.nextProducerId = record.data.nextProducerId;
        return;
      case MetadataRecordType.FeatureLevelRecord:
        if (record.data.featureLevel === 0) this.finalizedFeatures.delete(record.data.name);
        else this.finalizedFeatures.set(record.data.name, record.data.featureLevel);
        return;
    }
  }

  /** An existing topic whose name collides with `name` ('.' versus '_'), or undefined. */
  topicCollidingWith(name: string): string | undefined {
    return this.namesByCollisionKey.get(collisionKey(name));
  }

  private pendingTopicConfigsFor(name: string): Map<string, string> {
    const m = this.pendingTopicConfigs.get(name) ?? new Map<string, string>();
    this.pendingTopicConfigs.set(name, m);
    return m;
  }
}
