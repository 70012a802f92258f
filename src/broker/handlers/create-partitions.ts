// CreatePartitions (key 37), v0-3: grows topics through the controller (automatic or manual
// replica assignments), or only validates with validateOnly. As Kafka's controller: names that
// appear twice are answered first with INVALID_REQUEST, then the others in request order; an
// unknown topic is UNKNOWN_TOPIC_OR_PARTITION without a message.
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { CreatePartitionsRequest } from '../../protocol/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse, type CreatePartitionsResponseCreatePartitionsTopicResult } from '../../protocol/messages/CreatePartitionsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function createPartitionsHandler(broker: BrokerContext) {
  return defineHandler({
    request: CreatePartitionsRequest,
    response: CreatePartitionsResponse,
    minVersion: 0,
    maxVersion: 3,
    handle(_ctx, req) {
      const res = CreatePartitionsResponse.defaults();
      const result = (name: string, errorCode: number, errorMessage: string | null): CreatePartitionsResponseCreatePartitionsTopicResult => ({ name, errorCode, errorMessage });
      const counts = new Map<string, number>();
      for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      for (const [name, n] of counts) if (n > 1) res.results.push(result(name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
      for (const t of req.topics) {
        if (counts.get(t.name)! > 1) continue;
        const topic = broker.controller.image.topicsByName.get(t.name);
        if (topic === undefined) {
          res.results.push(result(t.name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null));
          continue;
        }
        try {
          broker.controller.createPartitions(topic, t.count, t.assignments?.map((a) => a.brokerIds) ?? null, req.validateOnly);
          res.results.push(result(t.name, ErrorCode.NONE, null));
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          res.results.push(result(t.name, err.code, err.detail));
        }
      }
      return res;
    },
  });
}
