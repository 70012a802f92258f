// LeaveGroup (key 13), v0-5. v0-2: one member, its error at the top level. v3+: a batch of
// members (by member id and/or group.instance.id), each with its own error.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { LeaveGroupRequest } from '../../protocol/messages/LeaveGroupRequest.js';
import { LeaveGroupResponse } from '../../protocol/messages/LeaveGroupResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function leaveGroupHandler(broker: BrokerContext) {
  return defineHandler({
    request: LeaveGroupRequest,
    response: LeaveGroupResponse,
    minVersion: 0,
    maxVersion: 5,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
        const refused = LeaveGroupResponse.defaults();
        refused.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        return refused;
      }
      const leaving = v >= 3 ? req.members.map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId })) : [{ memberId: req.memberId, groupInstanceId: null }];
      const result = broker.groupCoordinator.leave(req.groupId, leaving);
      const res = LeaveGroupResponse.defaults();
      if (v >= 3) {
        res.errorCode = result.errorCode;
        res.members = result.members;
      } else {
        res.errorCode = result.errorCode !== 0 ? result.errorCode : result.members[0]?.errorCode ?? 0;
      }
      return res;
    },
  });
}
