// OffsetDelete (key 47), v0: deletes committed offsets of partitions the group does not
// consume (GROUP_SUBSCRIBED_TO_TOPIC for those it does, unless the group is empty).
// ACLs (when an authorizer is configured), as Kafka: DELETE on the group (else the whole request
// is GROUP_AUTHORIZATION_FAILED), then READ on each topic (else its partitions are
// TOPIC_AUTHORIZATION_FAILED and the others go ahead). Then, as Kafka, an unknown topic or a
// partition past its partition count is UNKNOWN_TOPIC_OR_PARTITION (offset-topic-screen.ts), and its
// offset is left alone. A group-level error from the coordinator wins over all of these.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { OffsetDeleteRequest } from '../../protocol/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../protocol/messages/OffsetDeleteResponse.js';
import { defineHandler } from '../../server/request-router.js';
import { isAllowed } from '../authorizer.js';
import { mergeScreened, screenOffsetTopics } from '../offset-topic-screen.js';
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
      const readable = (name: string) => isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.TOPIC, name);
      const screened = screenOffsetTopics(broker.metadata.image, req.topics, (t) => t.name, readable);
      // The coordinator is asked even when nothing passed: a group-level error (an unknown group,
      // a group in use) still wins, as Kafka's merge of the two answers does.
      const r = await broker.groupCoordinator.deleteOffsets(
        req.groupId,
        screened.passed.map((t) => ({ name: t.name, partitionIndexes: t.partitions.map((p) => p.partitionIndex) })),
      );
      res.errorCode = r.errorCode;
      if (r.errorCode !== ErrorCode.NONE) return res;
      const answers = mergeScreened(req.topics, screened, r.topics);
      res.topics = req.topics.map((t, i) => ({ name: t.name, partitions: answers[i]! }));
      return res;
    },
  });
}
