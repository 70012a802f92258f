// OffsetDelete (key 47), v0: deletes committed offsets of partitions the group does not
// consume (GROUP_SUBSCRIBED_TO_TOPIC for those it does, unless the group is empty).
import { OffsetDeleteRequest } from '../../protocol/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../protocol/messages/OffsetDeleteResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function offsetDeleteHandler(broker: BrokerContext) {
  return defineHandler({
    request: OffsetDeleteRequest,
    response: OffsetDeleteResponse,
    minVersion: 0,
    maxVersion: 0,
    async handle(_ctx, req) {
      const r = await broker.groupCoordinator.deleteOffsets(
        req.groupId,
        req.topics.map((t) => ({ name: t.name, partitionIndexes: t.partitions.map((p) => p.partitionIndex) })),
      );
      const res = OffsetDeleteResponse.defaults();
      res.errorCode = r.errorCode;
      res.topics = r.topics;
      return res;
    },
  });
}
