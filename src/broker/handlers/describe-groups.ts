// DescribeGroups (key 15), v0-6: state, protocol and members of each classic group. Member
// subscriptions and assignments are shown only when the group is Stable. A group that does not
// exist (or is a consumer group, KIP-848) is described as Dead with no error up to v5; v6 answers
// GROUP_ID_NOT_FOUND with Kafka's message instead (KIP-1043).
// ACLs (when an authorizer is configured): DESCRIBE on each group, else GROUP_AUTHORIZATION_FAILED
// for it (empty state, protocol and members, as Kafka's groupError). Authorized operations (v3+,
// when asked) are the principal's on the group.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeGroupsRequest } from '../../protocol/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../protocol/messages/DescribeGroupsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { OPERATIONS_NOT_REQUESTED, authorizedOperations } from '../authorized-operations.js';
import { isAllowed } from '../authorizer.js';

export function describeGroupsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DescribeGroupsRequest,
    response: DescribeGroupsResponse,
    minVersion: 0,
    maxVersion: 6,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = DescribeGroupsResponse.defaults();
      res.groups = req.groups.map((groupId) => {
        if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.GROUP, groupId)) {
          return { errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, errorMessage: null, groupId, groupState: '', protocolType: '', protocolData: '', members: [], authorizedOperations: OPERATIONS_NOT_REQUESTED };
        }
        const d = broker.groupCoordinator.describeGroup(groupId);
        const notFound = v >= 6 && d.notFound !== null;
        return {
          errorCode: notFound ? ErrorCode.GROUP_ID_NOT_FOUND : d.errorCode,
          errorMessage: notFound ? d.notFound : null,
          groupId,
          groupState: d.state,
          protocolType: d.protocolType,
          protocolData: d.protocolData,
          members: d.members.map((m) => ({
            memberId: m.memberId,
            groupInstanceId: v >= 4 ? m.groupInstanceId : null,
            clientId: m.clientId,
            clientHost: m.clientHost,
            memberMetadata: m.metadata,
            memberAssignment: m.assignment,
          })),
          authorizedOperations: v >= 3 && req.includeAuthorizedOperations && !notFound ? authorizedOperations(broker.authorizer, ctx.connection, ResourceType.GROUP, groupId) : OPERATIONS_NOT_REQUESTED,
        };
      });
      return res;
    },
  });
}
