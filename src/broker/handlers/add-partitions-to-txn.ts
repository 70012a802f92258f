// AddPartitionsToTxn (key 24), v0-5: adds partitions to the producer's open transaction (starting
// it), before the producer writes to them. v0-3 (clients): one transaction; partitions of unknown
// topics get UNKNOWN_TOPIC_OR_PARTITION and the others OPERATION_NOT_ATTEMPTED, as Kafka answers;
// otherwise every partition gets the coordinator's one answer. v4+ (brokers, KIP-890 part 1):
// several transactions per request, each either added or, with VerifyOnly, checked (NONE when the
// partition is in the open transaction, INVALID_TXN_STATE otherwise). PRODUCER_FENCED is
// INVALID_PRODUCER_EPOCH before v2.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { AddPartitionsToTxnRequest, type AddPartitionsToTxnRequestAddPartitionsToTxnTopic } from '../../protocol/messages/AddPartitionsToTxnRequest.js';
import {
  AddPartitionsToTxnResponse,
  type AddPartitionsToTxnResponseAddPartitionsToTxnResult,
  type AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult,
} from '../../protocol/messages/AddPartitionsToTxnResponse.js';
import { defineHandler, type RequestContext } from '../../server/request-router.js';
import { isAllowed } from '../authorizer.js';
import type { BrokerContext } from '../broker-context.js';
import { fencedErrorFor } from '../txn/txn-errors.js';

/** Transactions one v4+ request may carry (Kafka bounds the batch by the client's max in-flight). */
const MAX_TRANSACTIONS_PER_REQUEST = 1_000;

interface Txn {
  transactionalId: string;
  producerId: bigint;
  producerEpoch: number;
  verifyOnly: boolean;
  topics: AddPartitionsToTxnRequestAddPartitionsToTxnTopic[];
}

export function addPartitionsToTxnHandler(broker: BrokerContext) {
  /** The per-partition answers for one transaction. */
  const handleOne = async (t: Txn, v: number, ctx: RequestContext): Promise<AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult[]> => {
    const image = broker.metadata.image;
    const partitions = t.topics.flatMap((topic) => topic.partitions.map((partition) => ({ topic: topic.name, partition })));
    const exists = (p: { topic: string; partition: number }) => {
      const topic = image.topicsByName.get(p.topic);
      return topic !== undefined && p.partition >= 0 && p.partition < topic.partitions.length;
    };
    let codes: number[];
    // ACLs (when an authorizer is configured): WRITE on the transactional id, then on each topic.
    const writable = (p: { topic: string }) => isAllowed(broker.authorizer, ctx.connection, AclOperation.WRITE, ResourceType.TOPIC, p.topic);
    if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, t.transactionalId)) codes = partitions.map(() => ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    else if (!partitions.every(writable)) codes = partitions.map((p) => (writable(p) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.TOPIC_AUTHORIZATION_FAILED));
    else if (!partitions.every(exists)) codes = partitions.map((p) => (exists(p) ? ErrorCode.OPERATION_NOT_ATTEMPTED : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
    else if (t.verifyOnly) codes = await broker.transactionCoordinator.verifyPartitions(t.transactionalId, t.producerId, t.producerEpoch, partitions);
    else {
      const code = await broker.transactionCoordinator.addPartitions(t.transactionalId, t.producerId, t.producerEpoch, partitions);
      codes = partitions.map(() => code);
    }
    const byTopic = new Map<string, AddPartitionsToTxnResponseAddPartitionsToTxnTopicResult>();
    partitions.forEach((p, i) => {
      let r = byTopic.get(p.topic);
      if (r === undefined) byTopic.set(p.topic, (r = { name: p.topic, resultsByPartition: [] }));
      r.resultsByPartition.push({ partitionIndex: p.partition, partitionErrorCode: fencedErrorFor(codes[i]!, v, 2) });
    });
    return [...byTopic.values()];
  };

  return defineHandler({
    request: AddPartitionsToTxnRequest,
    response: AddPartitionsToTxnResponse,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = AddPartitionsToTxnResponse.defaults();
      if (v <= 3) {
        res.resultsByTopicV3AndBelow = await handleOne(
          { transactionalId: req.v3AndBelowTransactionalId, producerId: req.v3AndBelowProducerId, producerEpoch: req.v3AndBelowProducerEpoch, verifyOnly: false, topics: req.v3AndBelowTopics },
          v,
          ctx,
        );
        return res;
      }
      // v4+ is sent by brokers (KIP-890 verification): CLUSTER_ACTION on the cluster.
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
        res.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
        return res;
      }
      if (req.transactions.length > MAX_TRANSACTIONS_PER_REQUEST) {
        res.errorCode = ErrorCode.INVALID_REQUEST;
        return res;
      }
      const results: AddPartitionsToTxnResponseAddPartitionsToTxnResult[] = [];
      for (const t of req.transactions) results.push({ transactionalId: t.transactionalId, topicResults: await handleOne(t, v, ctx) });
      res.resultsByTransaction = results;
      return res;
    },
  });
}
