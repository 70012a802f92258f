// JoinGroup (key 11), v0-9: the classic protocol's join phase. v4+ asks a member without an id
// to rejoin with the one it is given (MEMBER_ID_REQUIRED); v5+ carries group.instance.id
// (static membership); v0 has no rebalance timeout (the session timeout is used, as in Kafka).
// The answer is parked until the join phase completes.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { JoinGroupRequest } from '../../protocol/messages/JoinGroupRequest.js';
import { JoinGroupResponse } from '../../protocol/messages/JoinGroupResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function joinGroupHandler(broker: BrokerContext) {
  return defineHandler({
    request: JoinGroupRequest,
    response: JoinGroupResponse,
    minVersion: 0,
    maxVersion: 9,
    async handle(ctx, req) {
      const v = ctx.apiVersion;
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
        const refused = JoinGroupResponse.defaults();
        refused.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        refused.protocolName = v >= 7 ? null : '';
        return refused;
      }
      const outcome = await broker.groupCoordinator.join({
        groupId: req.groupId,
        memberId: req.memberId,
        groupInstanceId: v >= 5 ? req.groupInstanceId : null,
        protocolType: req.protocolType,
        protocols: req.protocols.map((p) => ({ name: p.name, metadata: Buffer.from(p.metadata) })),
        sessionTimeoutMs: req.sessionTimeoutMs,
        rebalanceTimeoutMs: v >= 1 ? req.rebalanceTimeoutMs : req.sessionTimeoutMs,
        clientId: ctx.clientId ?? '',
        clientHost: `/${ctx.connection.remoteAddress}`,
        requireKnownMemberId: v >= 4,
        reason: v >= 8 ? req.reason : null,
      });
      const res = JoinGroupResponse.defaults();
      res.errorCode = outcome.errorCode;
      res.generationId = outcome.generationId;
      if (v >= 7) res.protocolType = outcome.protocolType;
      res.protocolName = outcome.protocolName ?? (v >= 7 ? null : '');
      res.leader = outcome.leaderId;
      if (v >= 9) res.skipAssignment = outcome.skipAssignment;
      res.memberId = outcome.memberId;
      res.members = outcome.members.map((m) => ({ memberId: m.memberId, groupInstanceId: v >= 5 ? m.groupInstanceId : null, metadata: m.metadata }));
      if (res.errorCode !== ErrorCode.NONE) broker.log.debug({ groupId: req.groupId, memberId: req.memberId, errorCode: res.errorCode }, 'JoinGroup failed');
      return res;
    },
  });
}
