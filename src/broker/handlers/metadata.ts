// Metadata (key 3), v0-13: brokers on the request's listener, topics with partitions, leaders
// and ISRs, topic ids (v10+). Unknown topics are auto-created when the request allows it (v4+;
// always before) and auto.create.topics.enable is set. v13's top-level error (KIP-1102) is
// REBOOTSTRAP_REQUIRED when a broker wants clients to start over; a single node never does,
// so it stays 0.
import { ErrorCode } from '../../protocol/errors.js';
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { MetadataRequest } from '../../protocol/messages/MetadataRequest.js';
import { MetadataResponse, type MetadataResponseMetadataResponseTopic } from '../../protocol/messages/MetadataResponse.js';
import type { TopicImage } from '../../controller/metadata-image.js';
import { isInternalTopic } from '../../controller/topic-names.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function metadataHandler(broker: BrokerContext) {
  return defineHandler({
    request: MetadataRequest,
    response: MetadataResponse,
    minVersion: 0,
    maxVersion: 13,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = MetadataResponse.defaults();
      res.brokers = broker.brokersFor(ctx.connection.listenerName);
      res.clusterId = broker.clusterId;
      res.controllerId = broker.nodeId;
      if (v < 8 || v > 10) res.clusterAuthorizedOperations = -2147483648;
      const image = broker.controller.image;
      const describe = (topic: TopicImage): MetadataResponseMetadataResponseTopic => ({
        errorCode: ErrorCode.NONE,
        name: topic.name,
        topicId: topic.topicId,
        isInternal: isInternalTopic(topic.name),
        partitions: topic.partitions.map((p) => ({
          errorCode: ErrorCode.NONE,
          partitionIndex: p.partitionId,
          leaderId: p.leader,
          leaderEpoch: p.leaderEpoch,
          replicaNodes: p.replicas,
          isrNodes: p.isr,
          offlineReplicas: [],
        })),
        topicAuthorizedOperations: -2147483648,
      });
      const missing = (name: string | null, topicId: string, errorCode: number): MetadataResponseMetadataResponseTopic => ({
        errorCode,
        name,
        topicId,
        isInternal: false,
        partitions: [],
        topicAuthorizedOperations: -2147483648,
      });
      // v0: an empty list means all topics; v1+: null means all, empty means none.
      const all = req.topics === null || (v === 0 && req.topics.length === 0);
      if (all) {
        res.topics = [...image.topicsByName.values()].map(describe);
        return res;
      }
      const allowAutoCreate = v < 4 || req.allowAutoTopicCreation;
      for (const t of req.topics ?? []) {
        if (t.name === null || t.name === '') {
          const byId = image.topicsById.get(t.topicId);
          res.topics.push(byId !== undefined ? describe(byId) : missing(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID));
          continue;
        }
        const existing = image.topicsByName.get(t.name);
        if (existing !== undefined) {
          res.topics.push(describe(existing));
        } else if (allowAutoCreate) {
          const created = broker.autoCreateTopic(t.name);
          res.topics.push(typeof created === 'number' ? missing(t.name, ZERO_UUID, created) : describe(created));
        } else {
          res.topics.push(missing(t.name, ZERO_UUID, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
        }
      }
      return res;
    },
  });
}
