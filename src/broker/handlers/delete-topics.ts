// DeleteTopics (key 20), v0-6: by name, or by topic id (v6+). Deleting removes the topic from
// the metadata log and the partition data from disk.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { DeleteTopicsRequest } from '../../protocol/messages/DeleteTopicsRequest.js';
import { DeleteTopicsResponse, type DeleteTopicsResponseDeletableTopicResult } from '../../protocol/messages/DeleteTopicsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function deleteTopicsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DeleteTopicsRequest,
    response: DeleteTopicsResponse,
    minVersion: 0,
    maxVersion: 6,
    handle(ctx, req) {
      const res = DeleteTopicsResponse.defaults();
      const targets = ctx.apiVersion >= 6 ? req.topics : req.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
      for (const target of targets) {
        const out: DeleteTopicsResponseDeletableTopicResult = DeleteTopicsResponse.newStruct('DeletableTopicResult');
        out.name = target.name;
        out.topicId = target.topicId;
        res.responses.push(out);
        const image = broker.controller.image;
        const byName = target.name !== null && target.name !== '';
        const topic = byName ? image.topicsByName.get(target.name!) : image.topicsById.get(target.topicId);
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
        try {
          broker.controller.deleteTopic(topic);
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          out.errorCode = err.code;
          out.errorMessage = err.detail;
        }
      }
      return res;
    },
  });
}
