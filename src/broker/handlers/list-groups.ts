// ListGroups (key 16), v0-5: the groups this broker coordinates. v4+ filters by state
// (case-insensitive), v5+ by type: "classic", or "consumer" for KIP-848 consumer groups.
// ACLs (when an authorizer is configured), as Kafka: DESCRIBE on the cluster lists every group,
// otherwise only the groups the principal may DESCRIBE are listed; never an authorization error.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { DENIAL_UNAUDITED, isAllowed } from '../authorizer.js';
import { ListGroupsRequest } from '../../protocol/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../../protocol/messages/ListGroupsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function listGroupsHandler(broker: BrokerContext) {
  return defineHandler({
    request: ListGroupsRequest,
    response: ListGroupsResponse,
    minVersion: 0,
    maxVersion: 5,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = ListGroupsResponse.defaults();
      const types = v >= 5 ? req.typesFilter.map((t) => t.toLowerCase()) : [];
      const seesAll = isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, DENIAL_UNAUDITED);
      const visible = (groupId: string) => seesAll || isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.GROUP, groupId, DENIAL_UNAUDITED);
      res.groups = broker.groupCoordinator.listGroups(v >= 4 ? req.statesFilter : []).filter((g) => (types.length === 0 || types.includes(g.type)) && visible(g.groupId)).map((g) => ({
        groupId: g.groupId,
        protocolType: g.protocolType,
        groupState: v >= 4 ? g.state : '',
        groupType: v >= 5 ? g.type : '',
      }));
      return res;
    },
  });
}
