// DescribeProducers (key 61), v0 (KIP-664): the producers a partition keeps state for, as
// kafka-transactions.sh describe-producers and find-hanging read them: producer id and epoch,
// the last sequence written (-1 when only a marker was), the last timestamp, the coordinator
// epoch of its last marker (-1 before any), and the first offset of its open transaction (-1 when
// none). A partition not hosted here is UNKNOWN_TOPIC_OR_PARTITION (on a cluster, a follower's
// answer would be NOT_LEADER_OR_FOLLOWER, as Kafka's).
// ACLs (when an authorizer is configured): READ on the topic, else TOPIC_AUTHORIZATION_FAILED (with
// Kafka's message) on its partitions.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { AUTHORIZATION_FAILED_MESSAGE, isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeProducersRequest } from '../../protocol/messages/DescribeProducersRequest.js';
import { DescribeProducersResponse, type DescribeProducersResponsePartitionResponse } from '../../protocol/messages/DescribeProducersResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function describeProducersHandler(broker: BrokerContext) {
  const describe = (topic: string, partitionIndex: number): DescribeProducersResponsePartitionResponse => {
    const hosted = broker.replicas.get(topic, partitionIndex);
    if (hosted === undefined) return { partitionIndex, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: null, activeProducers: [] };
    const activeProducers = [];
    for (const p of hosted.store.activeProducers()) {
      activeProducers.push({
        producerId: p.producerId,
        producerEpoch: p.epoch,
        lastSequence: p.batches.length === 0 ? -1 : p.batches[p.batches.length - 1]!.lastSeq,
        lastTimestamp: BigInt(p.lastTimestamp),
        coordinatorEpoch: p.coordinatorEpoch,
        currentTxnStartOffset: BigInt(p.currentTxnFirstOffset),
      });
    }
    return { partitionIndex, errorCode: ErrorCode.NONE, errorMessage: null, activeProducers };
  };
  return defineHandler({
    request: DescribeProducersRequest,
    response: DescribeProducersResponse,
    minVersion: 0,
    maxVersion: 0,
    handle(ctx, req) {
      const res = DescribeProducersResponse.defaults();
      const code = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
      res.topics = req.topics.map((t) => {
        const readable = isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.TOPIC, t.name);
        return {
          name: t.name,
          partitions: t.partitionIndexes.map((p) => (readable ? describe(t.name, p) : { partitionIndex: p, errorCode: code, errorMessage: AUTHORIZATION_FAILED_MESSAGE[code]!, activeProducers: [] })),
        };
      });
      return res;
    },
  });
}
