// DeleteGroups (key 42), v0-2: deletes empty groups and their offsets (tombstones in
// __consumer_offsets). NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND if unknown.
// ACLs (when an authorizer is configured): DELETE on each group, else GROUP_AUTHORIZATION_FAILED
// for that group while the others are deleted (as Kafka, a name given twice is answered once).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isAllowed } from '../authorizer.js';
import { DeleteGroupsRequest } from '../../protocol/messages/DeleteGroupsRequest.js';
import { DeleteGroupsResponse } from '../../protocol/messages/DeleteGroupsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function deleteGroupsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DeleteGroupsRequest,
    response: DeleteGroupsResponse,
    minVersion: 0,
    maxVersion: 2,
    async handle(ctx, req) {
      const res = DeleteGroupsResponse.defaults();
      const groups = [...new Set(req.groupsNames)];
      const deletable = groups.filter((g) => isAllowed(broker.authorizer, ctx.connection, AclOperation.DELETE, ResourceType.GROUP, g));
      const outcomes = new Map((await broker.groupCoordinator.deleteGroups(deletable)).map((r) => [r.groupId, r.errorCode]));
      res.results = groups.map((groupId) => ({ groupId, errorCode: outcomes.get(groupId) ?? ErrorCode.GROUP_AUTHORIZATION_FAILED }));
      return res;
    },
  });
}
