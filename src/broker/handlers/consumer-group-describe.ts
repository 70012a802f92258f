// ConsumerGroupDescribe (key 69), v0-1: state, epochs, assignor and members (with current and
// target assignments) of consumer groups (KIP-848). A classic group or an unknown id gets
// GROUP_ID_NOT_FOUND with Kafka's message. ACLs (when an authorizer is configured): DESCRIBE on
// each group, else GROUP_AUTHORIZATION_FAILED for it; authorized operations (when asked, for a
// group described without error) are the principal's on the group.
// v1 adds each member's type (KIP-1099): always 1 (consumer) here, since classic members never
// join a consumer group in Tributary.
import { ConsumerGroupDescribeRequest } from '../../protocol/messages/ConsumerGroupDescribeRequest.js';
import { ConsumerGroupDescribeResponse } from '../../protocol/messages/ConsumerGroupDescribeResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { OPERATIONS_NOT_REQUESTED, authorizedOperations } from '../authorized-operations.js';
import { isAllowed } from '../authorizer.js';
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';

const MEMBER_TYPE_UNKNOWN = -1;
const MEMBER_TYPE_CONSUMER = 1;

export function consumerGroupDescribeHandler(broker: BrokerContext) {
  return defineHandler({
    request: ConsumerGroupDescribeRequest,
    response: ConsumerGroupDescribeResponse,
    minVersion: 0,
    maxVersion: 1,
    handle(ctx, req) {
      const res = ConsumerGroupDescribeResponse.defaults();
      res.groups = req.groupIds.map((groupId) => {
        if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
          return { ...ConsumerGroupDescribeResponse.newStruct('DescribedGroup'), groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED };
        }
        const d = broker.groupCoordinator.describeConsumerGroup(groupId);
        return {
          errorCode: d.errorCode,
          errorMessage: d.errorMessage,
          groupId,
          groupState: d.groupState,
          groupEpoch: d.groupEpoch,
          assignmentEpoch: d.assignmentEpoch,
          assignorName: d.assignorName,
          members: d.members.map((m) => ({
            memberId: m.memberId,
            instanceId: m.instanceId,
            rackId: m.rackId,
            memberEpoch: m.memberEpoch,
            clientId: m.clientId,
            clientHost: m.clientHost,
            subscribedTopicNames: m.subscribedTopicNames,
            subscribedTopicRegex: m.subscribedTopicRegex,
            assignment: { topicPartitions: m.assignment },
            targetAssignment: { topicPartitions: m.targetAssignment },
            memberType: ctx.apiVersion >= 1 ? MEMBER_TYPE_CONSUMER : MEMBER_TYPE_UNKNOWN,
          })),
          authorizedOperations: req.includeAuthorizedOperations && d.errorCode === ErrorCode.NONE ? authorizedOperations(broker.authorizer, ctx.connection, ResourceType.GROUP, groupId) : OPERATIONS_NOT_REQUESTED,
        };
      });
      return res;
    },
  });
}
