// OffsetFetch (key 9), v0-10: committed offsets of one group (v0-7) or several (v8+; v9 with the
// member id and epoch of a consumer group member: UNKNOWN_MEMBER_ID / STALE_MEMBER_EPOCH); null
// topics (v2+) means every partition the group committed. Partitions without a commit get
// offset -1. requireStable (v7+, KIP-447): a partition with an offset still pending in an open
// transaction (TxnOffsetCommit) gets UNSTABLE_OFFSET_COMMIT, and the client asks again. v10 names topics by id
// (KIP-848): an unknown id gets UNKNOWN_TOPIC_ID on its partitions; asked for everything, a v10
// answer leaves out committed offsets of topics that no longer exist (they have no id to name).
// ACLs (when an authorizer is configured), as Kafka: DESCRIBE on the group (else
// GROUP_AUTHORIZATION_FAILED), then DESCRIBE on each topic: a named topic the principal may not
// describe gets TOPIC_AUTHORIZATION_FAILED on its partitions, and asked for everything, such
// topics are left out.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { inRequestOrder, isAllowed } from '../authorizer.js';
import type { OffsetFetchResult } from '../group/group-api.js';
import { ErrorCode } from '../../protocol/errors.js';
import { OffsetFetchRequest } from '../../protocol/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse, type OffsetFetchResponseOffsetFetchResponseTopics } from '../../protocol/messages/OffsetFetchResponse.js';
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function offsetFetchHandler(broker: BrokerContext) {
  return defineHandler({
    request: OffsetFetchRequest,
    response: OffsetFetchResponse,
    minVersion: 0,
    maxVersion: 10,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = OffsetFetchResponse.defaults();
      /** The group's offsets of `topics` (null: all) through the topic DESCRIBE check. */
      const fetchOffsets = (groupId: string, topics: { name: string; partitionIndexes: number[] }[] | null, member: { memberId: string | null; memberEpoch: number } | undefined, requireStable: boolean): OffsetFetchResult => {
        const describable = (name: string) => isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, name);
        if (topics === null) {
          const r = broker.groupCoordinator.fetchOffsets(groupId, null, member, requireStable);
          return { errorCode: r.errorCode, topics: r.topics.filter((t) => describable(t.name)) };
        }
        const allowed = topics.map((t) => describable(t.name));
        const r = broker.groupCoordinator.fetchOffsets(groupId, topics.filter((_, i) => allowed[i]), member, requireStable);
        if (r.errorCode !== ErrorCode.NONE) return r;
        const refused = (t: { name: string; partitionIndexes: number[] }) => ({
          name: t.name,
          partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
        });
        return { errorCode: r.errorCode, topics: inRequestOrder(topics, allowed, r.topics, refused) };
      };
      if (v >= 8) {
        const image = broker.metadata.image;
        res.groups = req.groups.map((g) => {
          if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.GROUP, g.groupId)) return { groupId: g.groupId, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED, topics: [] };
          // v9: a consumer group member's id and epoch (KIP-848), checked against the group.
          const member = v >= 9 ? { memberId: g.memberId, memberEpoch: g.memberEpoch } : undefined;
          if (v < 10) {
            const r = fetchOffsets(g.groupId, g.topics, member, req.requireStable);
            return { groupId: g.groupId, errorCode: r.errorCode, topics: r.topics.map((t) => ({ ...t, topicId: ZERO_UUID })) };
          }
          const wanted = g.topics?.map((t) => ({ topicId: t.topicId, name: image.topicsById.get(t.topicId)?.name, partitionIndexes: t.partitionIndexes })) ?? null;
          const known = wanted?.filter((t) => t.name !== undefined).map((t) => ({ name: t.name!, partitionIndexes: t.partitionIndexes })) ?? null;
          const r = fetchOffsets(g.groupId, known, member, req.requireStable);
          if (r.errorCode !== ErrorCode.NONE) return { groupId: g.groupId, errorCode: r.errorCode, topics: [] };
          let topics: OffsetFetchResponseOffsetFetchResponseTopics[];
          if (wanted === null) {
            topics = r.topics.flatMap((t) => {
              const topicId = image.topicsByName.get(t.name)?.topicId;
              return topicId === undefined ? [] : [{ name: '', topicId, partitions: t.partitions }];
            });
          } else {
            // Known topics come back in request order; unknown ids slot back in between.
            let next = 0;
            topics = wanted.map((t) =>
              t.name === undefined
                ? {
                    name: '',
                    topicId: t.topicId,
                    partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.UNKNOWN_TOPIC_ID })),
                  }
                : { name: '', topicId: t.topicId, partitions: r.topics[next++]!.partitions },
            );
          }
          return { groupId: g.groupId, errorCode: ErrorCode.NONE, topics };
        });
        return res;
      }
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.GROUP, req.groupId)) {
        res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        res.topics = (req.topics ?? []).map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED })) }));
        return res;
      }
      // v0-1 have no null topics; an empty list there asks for nothing (v0 is ZooKeeper-era).
      const r = fetchOffsets(req.groupId, req.topics, undefined, v >= 7 && req.requireStable);
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
