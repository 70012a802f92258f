// DeleteGroups (key 42), v0-2: deletes empty groups and their offsets (tombstones in
// __consumer_offsets). NON_EMPTY_GROUP while members remain, GROUP_ID_NOT_FOUND if unknown.
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
    async handle(_ctx, req) {
      const res = DeleteGroupsResponse.defaults();
      res.results = await broker.groupCoordinator.deleteGroups(req.groupsNames);
      return res;
    },
  });
}
