// DescribeTopicPartitions (key 75), v0 (KIP-966): topics with their partitions, leaders, ISRs
// and eligible leader replicas (empty: ELR is not implemented), paged by partition count as
// Kafka's brokers page it. Topics are answered in name order from the cursor's topic (and, for
// that topic, from the cursor's partition); at most min(ResponsePartitionLimit,
// max.request.partition.size.limit) partitions are returned, and NextCursor names where the next
// request starts (the next partition, or partition 0 of the next topic) when more remain.
// No topics asks for all of them; then topics that do not exist are left out, while a named
// topic that does not exist is UNKNOWN_TOPIC_OR_PARTITION. A cursor whose topic is not among the
// named topics, or whose partition is negative, makes the request INVALID_REQUEST (every named
// topic carries the error, as Kafka's error response does).
// ACLs (when an authorizer is configured), as Kafka: DESCRIBE on each topic; asked for all topics,
// the others are left out; a named one the principal may not describe is TOPIC_AUTHORIZATION_FAILED
// (with a zero id, after the page, whether it exists or not). Every described topic carries the
// principal's authorized operations on it (the request has no flag: Kafka always fills them in).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeTopicPartitionsRequest } from '../../protocol/messages/DescribeTopicPartitionsRequest.js';
import { DescribeTopicPartitionsResponse, type DescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic } from '../../protocol/messages/DescribeTopicPartitionsResponse.js';
import { isInternalTopic } from '../../metadata/topic-names.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { OPERATIONS_NOT_REQUESTED, authorizedOperations } from '../authorized-operations.js';
import { partitionStates } from './partition-state.js';

type ResponseTopic = DescribeTopicPartitionsResponseDescribeTopicPartitionsResponseTopic;

function missingTopic(name: string, errorCode: number): ResponseTopic {
  return { errorCode, name, topicId: ZERO_UUID, isInternal: false, partitions: [], topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED };
}

export function describeTopicPartitionsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DescribeTopicPartitionsRequest,
    response: DescribeTopicPartitionsResponse,
    minVersion: 0,
    maxVersion: 0,
    handle(ctx, req) {
      const res = DescribeTopicPartitionsResponse.defaults();
      const image = broker.metadata.image;
      const cursor = req.cursor;
      const fetchAll = req.topics.length === 0;
      const from = cursor?.topicName ?? '';
      const names = new Set<string>();
      if (fetchAll) {
        for (const name of image.topicsByName.keys()) if (name >= from) names.add(name);
      } else {
        for (const t of req.topics) if (t.name >= from) names.add(t.name);
      }
      if (cursor !== null && ((!fetchAll && !names.has(cursor.topicName)) || cursor.partitionIndex < 0)) {
        res.topics = req.topics.map((t) => missingTopic(t.name, ErrorCode.INVALID_REQUEST));
        return res;
      }
      // At least one partition per page, so a client paging with a limit of 0 still gets through.
      let remaining = Math.max(1, Math.min(req.responsePartitionLimit, broker.config.int('max.request.partition.size.limit')));
      const describable = (name: string) => isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
      const sorted = [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
      const refused = fetchAll ? [] : sorted.filter((name) => !describable(name));
      const refusedSet = new Set(refused);
      const allowed = sorted.filter((name) => (fetchAll ? describable(name) : !refusedSet.has(name)));
      for (let i = 0; i < allowed.length; i++) {
        const name = allowed[i]!;
        const topic = image.topicsByName.get(name);
        if (topic === undefined) {
          if (!fetchAll) res.topics.push(missingTopic(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
          continue;
        }
        if (remaining <= 0) {
          res.nextCursor = { topicName: name, partitionIndex: 0 };
          break;
        }
        const first = cursor !== null && name === cursor.topicName ? cursor.partitionIndex : 0;
        const partitions = topic.partitions.slice(first, first + remaining);
        remaining -= partitions.length;
        res.topics.push({
          errorCode: ErrorCode.NONE,
          name,
          topicId: topic.topicId,
          isInternal: isInternalTopic(name),
          partitions: partitionStates(broker, name, partitions).map((p) => ({ ...p, eligibleLeaderReplicas: [], lastKnownElr: [] })),
          topicAuthorizedOperations: authorizedOperations(broker.authorizer, ctx.connection, ResourceType.TOPIC, name),
        });
        if (first + partitions.length < topic.partitions.length) {
          res.nextCursor = { topicName: name, partitionIndex: first + partitions.length };
          break;
        }
      }
      for (const name of refused) res.topics.push(missingTopic(name, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
      return res;
    },
  });
}
