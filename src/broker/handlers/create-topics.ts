// CreateTopics (key 19), v0-7: validation and creation through the controller, with Kafka's
// error codes and messages; validateOnly checks without creating. v5+ responses describe the
// partitions, replication factor and configs of the created topic.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { CreateTopicsRequest } from '../../protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse, type CreateTopicsResponseCreatableTopicResult } from '../../protocol/messages/CreateTopicsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { describeTopicConfigs } from '../topic-config.js';

export function createTopicsHandler(broker: BrokerContext) {
  return defineHandler({
    request: CreateTopicsRequest,
    response: CreateTopicsResponse,
    minVersion: 0,
    maxVersion: 7,
    handle(ctx, req) {
      const res = CreateTopicsResponse.defaults();
      const seen = new Map<string, number>();
      for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
      for (const t of req.topics) {
        const out: CreateTopicsResponseCreatableTopicResult = CreateTopicsResponse.newStruct('CreatableTopicResult');
        out.name = t.name;
        out.numPartitions = -1;
        out.replicationFactor = -1;
        out.configs = null;
        res.topics.push(out);
        if (seen.get(t.name)! > 1) {
          out.errorCode = ErrorCode.INVALID_REQUEST;
          out.errorMessage = `Create topics request from client contains duplicate topic name ${t.name}`;
          continue;
        }
        try {
          const created = broker.controller.createTopic(
            { name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, assignments: t.assignments, configs: t.configs },
            req.validateOnly,
          );
          out.topicId = created.topicId;
          if (ctx.apiVersion >= 5) {
            out.numPartitions = created.partitions;
            out.replicationFactor = created.replicationFactor;
            out.configs = describeTopicConfigs(broker.config, created.configs).map((e) => ({
              name: e.name,
              value: e.value,
              readOnly: false,
              configSource: e.source,
              isSensitive: false,
            }));
          }
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
