// OffsetDelete (key 47), v0: deletes committed offsets of partitions the group does not
// consume (GROUP_SUBSCRIBED_TO_TOPIC for those it does, unless the group is empty).
// ACLs (when an authorizer is configured), as Kafka: DELETE on the group (else the whole request
// is GROUP_AUTHORIZATION_FAILED), then READ on each topic (else its partitions are
// TOPIC_AUTHORIZATION_FAILED and the others go ahead); a group-level error wins.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { OffsetDeleteRequest } from '../../protocol/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../protocol/messages/OffsetDeleteResponse.js';
import { defineHandler } from '../../server/request-router.js';
import { inRequestOrder, isAllowed } from '../authorizer.js';
import type { BrokerContext } from '../broker-context.js';

export function offsetDeleteHandler(broker: BrokerContext) {
  return defineHandler({
    request: OffsetDeleteRequest,
    response: OffsetDeleteResponse,
    minVersion: 0,
    maxVersion: 0,
    async handle(ctx, req) {
      const res = OffsetDeleteResponse.defaults();
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.DELETE, ResourceType.GROUP, req.groupId)) {
        res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        return res;
      }
      const readable = req.topics.map((t) => isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.TOPIC, t.name));
      const r = await broker.groupCoordinator.deleteOffsets(
        req.groupId,
        req.topics.filter((_, i) => readable[i]).map((t) => ({ name: t.name, partitionIndexes: t.partitions.map((p) => p.partitionIndex) })),
      );
      res.errorCode = r.errorCode;
      if (r.errorCode !== ErrorCode.NONE) return res;
      res.topics = inRequestOrder(req.topics, readable, r.topics, (t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })) }));
      return res;
    },
  });
}
