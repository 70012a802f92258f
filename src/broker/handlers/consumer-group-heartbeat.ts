// ConsumerGroupHeartbeat (key 68), v0: the consumer group protocol of KIP-848 for clients
// with group.protocol=consumer. Members join (epoch 0), heartbeat with their epoch and owned
// partitions, and leave (epoch -1, or -2 for a static member that will rejoin); the answer
// carries the member epoch, the heartbeat interval and, when it changed, the assignment.
// v1 (SubscribedTopicRegex) is marked unstable in the specs this broker follows (Kafka 3.9),
// and Kafka serves unstable versions only with unstable.api.versions.enable, so it is not
// advertised; the coordinator already matches regexes (whole-name JavaScript RegExp) for when
// it becomes stable.
import { ConsumerGroupHeartbeatRequest } from '../../protocol/messages/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../../protocol/messages/ConsumerGroupHeartbeatResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function consumerGroupHeartbeatHandler(broker: BrokerContext) {
  return defineHandler({
    request: ConsumerGroupHeartbeatRequest,
    response: ConsumerGroupHeartbeatResponse,
    minVersion: 0,
    maxVersion: 0,
    async handle(ctx, req) {
      const r = await broker.groupCoordinator.consumerGroupHeartbeat({
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
