// __consumer_offsets as the group coordinator sees it: the internal topic (created on first use,
// appended through the replica manager, replayed on leadership; see coordinator/internal-topic.ts)
// plus the data topics the group APIs check partitions and subscriptions against.
import { isInternalTopic } from '../../metadata/topic-names.js';
import type { BrokerConfig } from '../config.js';
import { internalTopicLog, type InternalTopicDeps } from '../coordinator/internal-topic.js';
import { assignorByConfigName } from './consumer-assignors.js';
import { CONSUMER_OFFSETS_TOPIC } from './coordinator-partition.js';
import type { GroupCoordinatorConfig, GroupLogStore } from './group-api.js';
import { consumerGroupTimeouts } from '../group-config.js';

/** Kafka's offset.metadata.max.bytes default (the key is not configurable here yet). */
const OFFSET_METADATA_MAX_BYTES = 4096;

export type OffsetsTopicDeps = InternalTopicDeps;

export function offsetsTopicStore(deps: OffsetsTopicDeps): GroupLogStore {
  const image = () => deps.metadata.image;
  const log = internalTopicLog(deps, {
    name: CONSUMER_OFFSETS_TOPIC,
    numPartitionsKey: 'offsets.topic.num.partitions',
    replicationFactorKey: 'offsets.topic.replication.factor',
    segmentBytesKey: 'offsets.topic.segment.bytes',
  });
  return {
    topicExists: () => log.topicExists(),
    numPartitions: () => log.numPartitions(),
    ensureTopic: () => log.ensureTopic(),
    append: (partition, batch) => log.append(partition, batch),
    highWatermark: (partition) => log.highWatermark(partition),
    isEmpty: (partition) => log.isEmpty(partition),
    watch: (listener) => log.watch(listener),
    readAll: (partition) => log.readAll(partition),
    partitionExists(topic: string, partition: number): boolean {
      const t = image().topicsByName.get(topic);
      return t !== undefined && partition >= 0 && partition < t.partitions.length;
    },
    topics: {
      topicByName(name: string) {
        const t = image().topicsByName.get(name);
        return t === undefined || isInternalTopic(name) ? undefined : { topicId: t.topicId, numPartitions: t.partitions.length };
      },
      topicNameById: (topicId: string) => image().topicsById.get(topicId)?.name,
      *topicNames() {
        for (const name of image().topicsByName.keys()) if (!isInternalTopic(name)) yield name;
      },
    },
  };
}

export function groupCoordinatorConfig(config: BrokerConfig, groupConfigs?: () => ReadonlyMap<string, ReadonlyMap<string, string>>): GroupCoordinatorConfig {
  return {
    minSessionTimeoutMs: config.int('group.min.session.timeout.ms'),
    maxSessionTimeoutMs: config.int('group.max.session.timeout.ms'),
    initialRebalanceDelayMs: config.int('group.initial.rebalance.delay.ms'),
    maxGroupSize: config.int('group.max.size'),
    offsetsRetentionMs: config.int('offsets.retention.minutes') * 60_000,
    offsetsRetentionCheckIntervalMs: config.long('offsets.retention.check.interval.ms'),
    offsetMetadataMaxBytes: OFFSET_METADATA_MAX_BYTES,
    consumer: {
      sessionTimeoutMs: config.int('group.consumer.session.timeout.ms'),
      heartbeatIntervalMs: config.int('group.consumer.heartbeat.interval.ms'),
      maxSize: config.int('group.consumer.max.size'),
      ...(groupConfigs === undefined ? {} : { timeoutsFor: (groupId: string) => consumerGroupTimeouts(config, groupConfigs().get(groupId)) }),
      assignors: config.list('group.consumer.assignors').map((name) => {
        const assignor = assignorByConfigName(name);
        if (assignor === undefined) throw new Error(`group.consumer.assignors: unknown assignor ${name}`);
        return assignor;
      }),
    },
  };
}
