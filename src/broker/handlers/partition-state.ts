// A partition as Metadata and DescribeTopicPartitions describe it: leader, epoch, replicas, ISR
// (no offline replicas: every replica is this broker's own log).
import type { PartitionImage } from '../../controller/metadata-image.js';
import { ErrorCode } from '../../protocol/errors.js';

export function partitionState(p: PartitionImage) {
  return {
    errorCode: ErrorCode.NONE,
    partitionIndex: p.partitionId,
    leaderId: p.leader,
    leaderEpoch: p.leaderEpoch,
    replicaNodes: p.replicas,
    isrNodes: p.isr,
    offlineReplicas: [] as number[],
  };
}
