// DeleteTopics (key 20), v0-6: by name, or by topic id (v6+). All topics of a request are removed
// in one metadata change; their partitions stop being served at once and their data is deleted
// from disk in the background. The controller mutation quota (KIP-599) refuses topics with
// THROTTLING_QUOTA_EXCEEDED from v5 and throttles older versions by holding the response back.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { DeleteTopicsRequest } from '../../protocol/messages/DeleteTopicsRequest.js';
import { DeleteTopicsResponse, type DeleteTopicsResponseDeletableTopicResult } from '../../protocol/messages/DeleteTopicsResponse.js';
import type { TopicImage } from '../../metadata/image.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { throttledResponse } from '../controller-mutation-quota.js';

const STRICT_QUOTA_SINCE = 5;

export function deleteTopicsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DeleteTopicsRequest,
    response: DeleteTopicsResponse,
    minVersion: 0,
    maxVersion: 6,
    async handle(ctx, req) {
      const res = DeleteTopicsResponse.defaults();
      const quota = broker.mutationQuota(ctx.apiVersion >= STRICT_QUOTA_SINCE);
      const targets = ctx.apiVersion >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
      const image = broker.metadata.image;
      const toDelete: { out: DeleteTopicsResponseDeletableTopicResult; topic: TopicImage }[] = [];
      for (const target of targets) {
        const out: DeleteTopicsResponseDeletableTopicResult = DeleteTopicsResponse.newStruct('DeletableTopicResult');
        out.name = target.name;
        out.topicId = target.topicId;
        res.responses.push(out);
        const byName = target.name !== null && target.name !== '';
        const topic = byName ? image.topicsByName.get(target.name!) : image.topicsById.get(target.topicId);
        // ACLs (when an authorizer is configured): DELETE on the topic (a name, or the id's topic).
        const aclName = byName ? target.name! : topic?.name;
        if (aclName !== undefined && !isAllowed(broker.authorizer, ctx.connection, AclOperation.DELETE, ResourceType.TOPIC, aclName)) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          out.errorMessage = 'Authorization failed.';
          continue;
        }
        if (!broker.config.bool('delete.topic.enable')) {
          out.errorCode = ErrorCode.TOPIC_DELETION_DISABLED;
          out.errorMessage = 'Topic deletion is disabled.';
          continue;
        }
        if (topic === undefined) {
          out.errorCode = byName ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.UNKNOWN_TOPIC_ID;
          out.errorMessage = byName ? 'This server does not host this topic-partition.' : 'This server does not host this topic ID.';
          continue;
        }
        out.name = topic.name;
        if (ctx.apiVersion >= 6) out.topicId = topic.topicId;
        toDelete.push({ out, topic });
      }
      const results = await broker.controller.deleteTopics(
        toDelete.map((d) => ({ name: d.topic.name, topicId: d.topic.topicId })),
        quota,
      );
      results.forEach((r, i) => {
        const out = toDelete[i]!.out;
        out.errorCode = r.errorCode;
        out.errorMessage = r.errorMessage;
      });
      return throttledResponse(broker, ctx.apiVersion >= 1, ctx.apiVersion >= STRICT_QUOTA_SINCE, quota, res);
    },
  });
}
