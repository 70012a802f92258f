// A partition as Metadata and DescribeTopicPartitions describe it: leader, epoch, replicas, ISR
// (no offline replicas: every replica is this broker's own log).
// A partition led here whose log the replica manager has not created yet (a large creation is
// done in background slices) is answered LEADER_NOT_AVAILABLE with no leader, as Kafka answers
// while a leader is not ready: a client waits and asks again instead of producing to a partition
// that would answer UNKNOWN_TOPIC_OR_PARTITION.
import type { PartitionImage } from '../../metadata/image.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { BrokerContext } from '../broker-context.js';

const NO_LEADER = -1;

export function partitionStates(broker: Pick<BrokerContext, 'nodeId' | 'replicas'>, topic: string, partitions: readonly PartitionImage[]) {
  return partitions.map((p) => {
    const notReady = p.leader === broker.nodeId && broker.replicas.isAwaitingLog(topic, p.partitionId);
    return {
      errorCode: notReady ? ErrorCode.LEADER_NOT_AVAILABLE : ErrorCode.NONE,
      partitionIndex: p.partitionId,
      leaderId: notReady ? NO_LEADER : p.leader,
      leaderEpoch: p.leaderEpoch,
      // The image's arrays, shared: encoders only read them.
      replicaNodes: p.replicas as number[],
      isrNodes: p.isr as number[],
      offlineReplicas: [] as number[],
    };
  });
}
