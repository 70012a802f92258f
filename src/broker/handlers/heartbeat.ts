// Heartbeat (key 12), v0-4: keeps a member's session alive; REBALANCE_IN_PROGRESS tells it to
// rejoin. v3+ carries group.instance.id (FENCED_INSTANCE_ID for a replaced static member).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { HeartbeatRequest } from '../../protocol/messages/HeartbeatRequest.js';
import { HeartbeatResponse } from '../../protocol/messages/HeartbeatResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function heartbeatHandler(broker: BrokerContext) {
  return defineHandler({
    request: HeartbeatRequest,
    response: HeartbeatResponse,
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, req) {
      const res = HeartbeatResponse.defaults();
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
        res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        return res;
      }
      res.errorCode = broker.groupCoordinator.heartbeat(req.groupId, req.generationId, req.memberId, ctx.apiVersion >= 3 ? req.groupInstanceId : null);
      return res;
    },
  });
}
