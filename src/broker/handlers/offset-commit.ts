// OffsetCommit (key 8), v0-10: stores committed offsets (with metadata, and the leader epoch
// from v6) as records in __consumer_offsets. Commits from members are checked against the
// group's generation and member ids; generation -1 with no member id commits for a group
// without members (a "simple" consumer). v2-4 carry a retention time. v10 names topics by id
// (KIP-848): ids are resolved to names here; the partitions of an unknown id get UNKNOWN_TOPIC_ID
// and the rest of the request is committed.
// ACLs (when an authorizer is configured), as Kafka: READ on the group (else every partition is
// GROUP_AUTHORIZATION_FAILED), then READ on each topic (else its partitions are
// TOPIC_AUTHORIZATION_FAILED and the other topics are committed). Then, as Kafka, a topic the
// broker does not know, or a partition past its partition count, is UNKNOWN_TOPIC_OR_PARTITION
// and is not committed (offset-topic-screen.ts).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { mergeScreened, screenOffsetTopics } from '../offset-topic-screen.js';
import { ErrorCode } from '../../protocol/errors.js';
import { OffsetCommitRequest } from '../../protocol/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse, type OffsetCommitResponseOffsetCommitResponseTopic } from '../../protocol/messages/OffsetCommitResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function offsetCommitHandler(broker: BrokerContext) {
  return defineHandler({
    request: OffsetCommitRequest,
    response: OffsetCommitResponse,
    minVersion: 0,
    maxVersion: 10,
    async handle(ctx, req) {
      const v = ctx.apiVersion;
      const image = broker.metadata.image;
      const nameOf = (t: { name: string; topicId: string }): string | undefined => (v >= 10 ? image.topicsById.get(t.topicId)?.name : t.name);
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
        const refused = OffsetCommitResponse.defaults();
        refused.topics = req.topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: ErrorCode.GROUP_AUTHORIZATION_FAILED })) }));
        return refused;
      }
      const readable = (name: string) => isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.TOPIC, name);
      const screened = screenOffsetTopics(image, req.topics, nameOf, readable);
      const result = screened.passed.length === 0 ? [] : await broker.groupCoordinator.commitOffsets({
        groupId: req.groupId,
        generationId: v >= 1 ? req.generationIdOrMemberEpoch : -1,
        memberId: v >= 1 ? req.memberId : '',
        groupInstanceId: v >= 7 ? req.groupInstanceId : null,
        retentionTimeMs: v >= 2 && v <= 4 ? Number(req.retentionTimeMs) : -1,
        apiVersion: v,
        topics: screened.passed.map((t) => ({
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
      const answers = mergeScreened(req.topics, screened, result);
      // Each version carries only one of name and id (the other decoded as its default).
      res.topics = req.topics.map((t, i): OffsetCommitResponseOffsetCommitResponseTopic => ({ name: t.name, topicId: t.topicId, partitions: answers[i]! }));
      return res;
    },
  });
}
