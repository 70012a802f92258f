// OffsetFetch (key 9), v0-9: committed offsets of one group (v0-7) or several (v8+; v9 with the
// member id and epoch of a consumer group member: UNKNOWN_MEMBER_ID / STALE_MEMBER_EPOCH); null
// topics (v2+) means every partition the group committed. Partitions without a commit get
// offset -1. requireStable (v7+) would wait for pending transactional commits; there are none
// until transactions exist, so every committed offset is stable.
import { ErrorCode } from '../../protocol/errors.js';
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { OffsetFetchRequest } from '../../protocol/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../../protocol/messages/OffsetFetchResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function offsetFetchHandler(broker: BrokerContext) {
  return defineHandler({
    request: OffsetFetchRequest,
    response: OffsetFetchResponse,
    minVersion: 0,
    maxVersion: 9,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = OffsetFetchResponse.defaults();
      if (v >= 8) {
        res.groups = req.groups.map((g) => {
          // v9: a consumer group member's id and epoch (KIP-848), checked against the group.
          const r = broker.groupCoordinator.fetchOffsets(g.groupId, g.topics, v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : undefined);
          return { groupId: g.groupId, errorCode: r.errorCode, topics: r.topics.map((t) => ({ ...t, topicId: ZERO_UUID })) };
        });
        return res;
      }
      // v0-1 have no null topics; an empty list there asks for nothing (v0 is ZooKeeper-era).
      const r = broker.groupCoordinator.fetchOffsets(req.groupId, req.topics);
      res.topics = r.topics.map((t) => ({
        name: t.name,
        partitions: t.partitions.map((p) => ({
          partitionIndex: p.partitionIndex,
          committedOffset: p.committedOffset,
          committedLeaderEpoch: v >= 5 ? p.committedLeaderEpoch : -1,
          metadata: p.metadata,
          // Before v2 there is no top-level error: a group error goes on every partition.
          errorCode: v < 2 && r.errorCode !== ErrorCode.NONE ? r.errorCode : p.errorCode,
        })),
      }));
      if (v >= 2) res.errorCode = r.errorCode;
      return res;
    },
  });
}
