// SyncGroup (key 14), v0-5: the leader sends the assignment; every member gets its own share.
// v5+ checks the protocol type and name against the group's. Parked until the leader syncs.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { SyncGroupRequest } from '../../protocol/messages/SyncGroupRequest.js';
import { SyncGroupResponse } from '../../protocol/messages/SyncGroupResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function syncGroupHandler(broker: BrokerContext) {
  return defineHandler({
    request: SyncGroupRequest,
    response: SyncGroupResponse,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, req) {
      const v = ctx.apiVersion;
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
        const refused = SyncGroupResponse.defaults();
        refused.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        return refused;
      }
      const outcome = await broker.groupCoordinator.sync({
        groupId: req.groupId,
        generationId: req.generationId,
        memberId: req.memberId,
        groupInstanceId: v >= 3 ? req.groupInstanceId : null,
        protocolType: v >= 5 ? req.protocolType : null,
        protocolName: v >= 5 ? req.protocolName : null,
        // Copies: the request buffer is not ours to keep once the handler returns.
        assignments: req.assignments.map((a) => ({ memberId: a.memberId, assignment: Buffer.from(a.assignment) })),
      });
      const res = SyncGroupResponse.defaults();
      res.errorCode = outcome.errorCode;
      if (v >= 5) {
        res.protocolType = outcome.protocolType;
        res.protocolName = outcome.protocolName;
      }
      res.assignment = outcome.assignment;
      return res;
    },
  });
}
