// OffsetCommit (key 8), v0-9: stores committed offsets (with metadata, and the leader epoch
// from v6) as records in __consumer_offsets. Commits from members are checked against the
// group's generation and member ids; generation -1 with no member id commits for a group
// without members (a "simple" consumer). v2-4 carry a retention time.
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { OffsetCommitRequest } from '../../protocol/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../protocol/messages/OffsetCommitResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function offsetCommitHandler(broker: BrokerContext) {
  return defineHandler({
    request: OffsetCommitRequest,
    response: OffsetCommitResponse,
    minVersion: 0,
    maxVersion: 9,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const result = broker.groupCoordinator.commitOffsets({
        groupId: req.groupId,
        generationId: v >= 1 ? req.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? req.memberId : '',
        groupInstanceId: v >= 7 ? req.groupInstanceId : null,
        retentionTimeMs: v >= 2 && v <= 4 ? Number(req.retentionTimeMs) : -1,
        apiVersion: v,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            committedOffset: p.committedOffset,
            committedLeaderEpoch: v >= 6 ? p.committedLeaderEpoch : -1,
            committedMetadata: p.committedMetadata,
          })),
        })),
      });
      const res = OffsetCommitResponse.defaults();
      res.topics = result.map((t) => ({ ...t, topicId: ZERO_UUID }));
      return res;
    },
  });
}
