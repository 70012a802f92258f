// An internal topic of a coordinator (__consumer_offsets, __transaction_state) as the coordinator
// sees it: created on first use (as Kafka does on the first FindCoordinator) as a compacted topic,
// appended to through the replica manager like any produced data (acks=all: committed once the
// high watermark passes it), and read back from its partition logs when a partition is led here.
// The replica manager tells the coordinator which partitions are led here and when their high
// watermarks move.
//
// Replication factor: Kafka refuses to create the topic (COORDINATOR_NOT_AVAILABLE) while fewer
// brokers than the configured factor (default 3) are alive. Kafka's own single-node
// config/server.properties sets it to 1; here the factor is capped at the number of brokers, so
// a one-node broker works with the defaults, and a warning says the factor was reduced.
import type { Logger } from '../../logger.js';
import type { ControllerChannel, NewTopic } from '../../metadata/controller-channel.js';
import type { MetadataView } from '../../metadata/publisher.js';
import { ErrorCode } from '../../protocol/errors.js';
import { readWholeLog } from '../../storage/read-whole-log.js';
import type { BrokerConfig } from '../config.js';
import type { OffsetsPartitionListener } from '../group/group-api.js';
import type { ReplicaManager } from '../replica-manager.js';
import type { CoordinatorLog } from './runtime.js';

const REPLAY_READ_BYTES = 8 * 1024 * 1024;

export interface InternalTopicDeps {
  config: () => BrokerConfig;
  metadata: MetadataView;
  controller: Pick<ControllerChannel, 'createTopics'>;
  replicas: ReplicaManager;
  liveBrokerCount: () => number;
  log: Logger;
}

/** Which topic, and the config keys that shape it. */
export interface InternalTopicSpec {
  name: string;
  numPartitionsKey: string;
  replicationFactorKey: string;
  segmentBytesKey: string;
  /** A topic config from a broker key (min.insync.replicas from transaction.state.log.min.isr). */
  extraConfigs?: (config: BrokerConfig, replicationFactor: number) => { name: string; value: string }[];
}

export interface InternalTopicLog extends CoordinatorLog {
  /** Creates the topic if needed; NONE once asked for (the topic exists once the controller commits). */
  ensureTopic(): number;
  topicExists(): boolean;
  numPartitions(): number;
  watch(listener: OffsetsPartitionListener): void;
}

export function internalTopicLog(deps: InternalTopicDeps, spec: InternalTopicSpec): InternalTopicLog {
  const image = () => deps.metadata.image;
  /** A creation of the topic was asked for and is not answered yet. */
  let creating = false;
  const store: InternalTopicLog = {
    topicExists: () => image().topicsByName.has(spec.name),
    numPartitions: () => image().topicsByName.get(spec.name)?.partitions.length ?? deps.config().int(spec.numPartitionsKey),
    ensureTopic(): number {
      // As Kafka: the first request that needs the topic starts its creation and is answered
      // COORDINATOR_NOT_AVAILABLE (clients retry); the topic exists once the controller commits.
      if (!store.topicExists() && !creating) {
        creating = true;
        const config = deps.config();
        const configured = config.int(spec.replicationFactorKey);
        const rf = Math.min(configured, deps.liveBrokerCount());
        // Only a setting someone chose is worth a warning: Kafka's default of 3 on a single node
        // is the usual case, not a mistake.
        if (rf < configured) {
          const fields = { configured, used: rf };
          const message = `${spec.replicationFactorKey} is larger than the number of brokers; creating ${spec.name} with fewer replicas`;
          if (config.has(spec.replicationFactorKey)) deps.log.warn(fields, message);
          else deps.log.info(fields, message);
        }
        const topic: NewTopic = {
          name: spec.name,
          numPartitions: config.int(spec.numPartitionsKey),
          replicationFactor: rf,
          assignments: [],
          configs: [
            { name: 'cleanup.policy', value: 'compact' },
            { name: 'compression.type', value: 'producer' },
            { name: 'segment.bytes', value: String(config.int(spec.segmentBytesKey)) },
            ...(spec.extraConfigs?.(config, rf) ?? []),
          ],
        };
        void deps.controller.createTopics([topic], false).then(([result]) => {
          creating = false;
          if (result!.errorCode === ErrorCode.NONE) deps.log.info({ partitions: topic.numPartitions, replicationFactor: rf }, `created ${spec.name}`);
          else if (result!.errorCode !== ErrorCode.TOPIC_ALREADY_EXISTS) deps.log.error({ errorCode: result!.errorCode, error: result!.errorMessage }, `could not create ${spec.name}`);
        });
      }
      return ErrorCode.NONE;
    },
    append(partition: number, batch: Buffer) {
      const r = deps.replicas.append(spec.name, partition, batch, -1, true);
      return { errorCode: r.errorCode, commitOffset: r.commitOffset };
    },
    highWatermark(partition: number): number {
      return deps.replicas.get(spec.name, partition)?.store.highWatermark ?? -1;
    },
    isEmpty(partition: number): boolean {
      const s = deps.replicas.get(spec.name, partition)?.store;
      return s === undefined || s.logStartOffset >= s.logEndOffset;
    },
    watch(listener: OffsetsPartitionListener): void {
      deps.replicas.watchTopic(spec.name, {
        becameLeader: (hosted) => listener.becameLeader(hosted.partition, hosted.leaderEpoch),
        resigned: (hosted) => listener.resigned(hosted.partition),
        highWatermark: (hosted, hwm) => listener.highWatermark(hosted.partition, hwm),
      });
    },
    readAll(partition: number): Iterable<Buffer> {
      const hosted = deps.replicas.get(spec.name, partition);
      return hosted === undefined ? [] : readWholeLog(hosted.store, REPLAY_READ_BYTES);
    },
  };
  return store;
}
