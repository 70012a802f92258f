// ConsumerGroupHeartbeat (key 68), v0: the consumer group protocol of KIP-848 for clients
// with group.protocol=consumer. Members join (epoch 0), heartbeat with their epoch and owned
// partitions, and leave (epoch -1, or -2 for a static member that will rejoin); the answer
// carries the member epoch, the heartbeat interval and, when it changed, the assignment.
// v1 (stable since Kafka 4.0; librdkafka 2.10+ and the Java 4.x consumer need it) adds
// SubscribedTopicRegex, matched against whole topic names (consumer-group-regex.ts), and makes
// the member generate its own member id (KIP-1082): '' is INVALID_REQUEST even to join.
import { ErrorCode } from '../../protocol/errors.js';
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ConsumerGroupHeartbeatRequest } from '../../protocol/messages/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../../protocol/messages/ConsumerGroupHeartbeatResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function consumerGroupHeartbeatHandler(broker: BrokerContext) {
  return defineHandler({
    request: ConsumerGroupHeartbeatRequest,
    response: ConsumerGroupHeartbeatResponse,
    minVersion: 0,
    maxVersion: 1,
    async handle(ctx, req) {
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
        const refused = ConsumerGroupHeartbeatResponse.defaults();
        refused.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        return refused;
      }
      // Subscribed topic names need DESCRIBE (KAFKA-18813, Kafka 4.0): otherwise the heartbeat is
      // refused, and the member stays in the group to retry once the ACLs allow it.
      const unauthorized = (req.subscribedTopicNames ?? []).filter((t) => !isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, t));
      if (unauthorized.length > 0) {
        const refused = ConsumerGroupHeartbeatResponse.defaults();
        refused.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
        refused.errorMessage = `The member is not authorized to access topics: ${unauthorized.join(', ')}`;
        return refused;
      }
      const r = await broker.groupCoordinator.consumerGroupHeartbeat({
        apiVersion: ctx.apiVersion,
        groupId: req.groupId,
        memberId: req.memberId,
        memberEpoch: req.memberEpoch,
        instanceId: req.instanceId,
        rackId: req.rackId,
        rebalanceTimeoutMs: req.rebalanceTimeoutMs,
        subscribedTopicNames: req.subscribedTopicNames,
        subscribedTopicRegex: ctx.apiVersion >= 1 ? req.subscribedTopicRegex : null,
        serverAssignor: req.serverAssignor,
        topicPartitions: req.topicPartitions,
        clientId: ctx.clientId ?? '',
        clientHost: `/${ctx.connection.remoteAddress}`,
      });
      const res = ConsumerGroupHeartbeatResponse.defaults();
      res.errorCode = r.errorCode;
      res.errorMessage = r.errorMessage;
      res.memberId = r.memberId;
      res.memberEpoch = r.memberEpoch;
      res.heartbeatIntervalMs = r.heartbeatIntervalMs;
      res.assignment = r.assignment === null ? null : { topicPartitions: r.assignment };
      return res;
    },
  });
}
