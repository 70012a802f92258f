// A partition as Metadata and DescribeTopicPartitions describe it: leader, epoch, replicas, ISR
// (no offline replicas: every replica is this broker's own log).
import type { PartitionImage } from '../../metadata/image.js';
import { ErrorCode } from '../../protocol/errors.js';

export function partitionState(p: PartitionImage) {
  return {
    errorCode: ErrorCode.NONE,
    partitionIndex: p.partitionId,
    leaderId: p.leader,
    leaderEpoch: p.leaderEpoch,
    // The image's arrays, shared: encoders only read them.
    replicaNodes: p.replicas as number[],
    isrNodes: p.isr as number[],
    offlineReplicas: [] as number[],
  };
}
