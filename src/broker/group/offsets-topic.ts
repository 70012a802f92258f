// __consumer_offsets as the group coordinator sees it: created on first use (as Kafka does on
// the first FindCoordinator) as a compacted internal topic, appended to through the replica
// manager like any produced data (acks=all: committed once the high watermark passes it), and
// read back from its partition logs when a partition is led here. The replica manager tells the
// coordinator which partitions are led here and when their high watermarks move.
//
// Replication factor: Kafka refuses to create the topic (COORDINATOR_NOT_AVAILABLE) while fewer
// brokers than offsets.topic.replication.factor (default 3) are alive. Kafka's own single-node
// config/server.properties sets it to 1; here the factor is capped at the number of brokers, so
// a one-node broker works with the defaults, and a warning says the factor was reduced.
import type { Logger } from '../../logger.js';
import type { ControllerChannel, NewTopic } from '../../metadata/controller-channel.js';
import type { MetadataView } from '../../metadata/publisher.js';
import { ErrorCode } from '../../protocol/errors.js';
import { readWholeLog } from '../../storage/read-whole-log.js';
import type { BrokerConfig } from '../config.js';
import type { ReplicaManager } from '../replica-manager.js';
import { isInternalTopic } from '../../metadata/topic-names.js';
import { assignorByConfigName } from './consumer-assignors.js';
import { CONSUMER_OFFSETS_TOPIC } from './coordinator-partition.js';
import type { GroupCoordinatorConfig, GroupLogStore, OffsetsPartitionListener } from './group-api.js';
import { consumerGroupTimeouts } from '../group-config.js';

const REPLAY_READ_BYTES = 8 * 1024 * 1024;
/** Kafka's offset.metadata.max.bytes default (the key is not configurable here yet). */
const OFFSET_METADATA_MAX_BYTES = 4096;

export interface OffsetsTopicDeps {
  config: () => BrokerConfig;
  metadata: MetadataView;
  controller: Pick<ControllerChannel, 'createTopics'>;
  replicas: ReplicaManager;
  liveBrokerCount: () => number;
  log: Logger;
}

export function offsetsTopicStore(deps: OffsetsTopicDeps): GroupLogStore {
  const image = () => deps.metadata.image;
  /** A creation of the topic was asked for and is not answered yet. */
  let creating = false;
  const store: GroupLogStore = {
    topicExists: () => image().topicsByName.has(CONSUMER_OFFSETS_TOPIC),
    numPartitions: () => image().topicsByName.get(CONSUMER_OFFSETS_TOPIC)?.partitions.length ?? deps.config().int('offsets.topic.num.partitions'),
    ensureTopic(): number {
      // As Kafka: the first request that needs the topic starts its creation and is answered
      // COORDINATOR_NOT_AVAILABLE (clients retry); the topic exists once the controller commits.
      if (!store.topicExists() && !creating) {
        creating = true;
        const config = deps.config();
        const configured = config.int('offsets.topic.replication.factor');
        const rf = Math.min(configured, deps.liveBrokerCount());
        // Only a setting someone chose is worth a warning: Kafka's default of 3 on a single node
        // is the usual case, not a mistake.
        if (rf < configured) {
          const fields = { configured, used: rf };
          const message = 'offsets.topic.replication.factor is larger than the number of brokers; creating __consumer_offsets with fewer replicas';
          if (config.has('offsets.topic.replication.factor')) deps.log.warn(fields, message);
          else deps.log.info(fields, message);
        }
        const topic: NewTopic = {
          name: CONSUMER_OFFSETS_TOPIC,
          numPartitions: config.int('offsets.topic.num.partitions'),
          replicationFactor: rf,
          assignments: [],
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'compression.type', value: 'producer' },
            { name: 'segment.bytes', value: String(config.int('offsets.topic.segment.bytes')) },
          ],
        };
        void deps.controller.createTopics([topic], false).then(([result]) => {
          creating = false;
          if (result!.errorCode === ErrorCode.NONE) deps.log.info({ partitions: topic.numPartitions, replicationFactor: rf }, 'created __consumer_offsets');
          else if (result!.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) deps.log.error({ errorCode: result!.errorCode, error: result!.errorMessage }, 'could not create __consumer_offsets');
        });
      }
      return ErrorCode.NONE;
    },
    append(partition: number, batch: Buffer) {
      const r = deps.replicas.append(CONSUMER_OFFSETS_TOPIC, partition, batch, -1, true);
      return { errorCode: r.errorCode, commitOffset: r.commitOffset };
    },
    highWatermark(partition: number): number {
      return deps.replicas.get(CONSUMER_OFFSETS_TOPIC, partition)?.store.highWatermark ?? -1;
    },
    isEmpty(partition: number): boolean {
      const store = deps.replicas.get(CONSUMER_OFFSETS_TOPIC, partition)?.store;
      return store === undefined || store.logStartOffset >= store.logEndOffset;
    },
    watch(listener: OffsetsPartitionListener): void {
      deps.replicas.watchTopic(CONSUMER_OFFSETS_TOPIC, {
        becameLeader: (hosted) => listener.becameLeader(hosted.partition, hosted.leaderEpoch),
        resigned: (hosted) => listener.resigned(hosted.partition),
        highWatermark: (hosted, hwm) => listener.highWatermark(hosted.partition, hwm),
      });
    },
    readAll(partition: number): Iterable<Buffer> {
      const hosted = deps.replicas.get(CONSUMER_OFFSETS_TOPIC, partition);
      return hosted === undefined ? [] : readWholeLog(hosted.store, REPLAY_READ_BYTES);
    },
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
  return store;
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
