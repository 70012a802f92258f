// DescribeGroups (key 15), v0-5: state, protocol and members of each group. An unknown group is
// described as Dead with no error (as Kafka does up to v5). Member subscriptions and
// assignments are shown only when the group is Stable.
import { DescribeGroupsRequest } from '../../protocol/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../protocol/messages/DescribeGroupsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function describeGroupsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DescribeGroupsRequest,
    response: DescribeGroupsResponse,
    minVersion: 0,
    maxVersion: 5,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = DescribeGroupsResponse.defaults();
      res.groups = req.groups.map((groupId) => {
        const d = broker.groupCoordinator.describeGroup(groupId);
        return {
          errorCode: d.errorCode,
          errorMessage: null,
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
          authorizedOperations: -2147483648,
        };
      });
      return res;
    },
  });
}
