// Metadata (key 3), v0-13: brokers on the request's listener, topics with partitions, leaders
// and ISRs, topic ids (v10+). Unknown topics are auto-created when the request allows it (v4+;
// always before) and auto.create.topics.enable is set, within the bounds of
// BrokerContext.autoCreateTopics (per request, and the controller mutation quota); a name left
// uncreated by those bounds is answered LEADER_NOT_AVAILABLE, so the client asks again, as
// Kafka answers while a topic's creation is in progress. The answer is built from the image
// after the creations, so it is one consistent view.
// v13's top-level error (KIP-1102) is REBOOTSTRAP_REQUIRED when a broker wants clients to start
// over; a single node never does, so it stays 0.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ZERO_UUID } from '../../protocol/codec/reader.js';
import { MetadataRequest, type MetadataRequestData } from '../../protocol/messages/MetadataRequest.js';
import { MetadataResponse, type MetadataResponseData, type MetadataResponseMetadataResponseTopic } from '../../protocol/messages/MetadataResponse.js';
import type { TopicImage } from '../../metadata/image.js';
import { isInternalTopic } from '../../metadata/topic-names.js';
import { defineHandler, type RequestContext } from '../../server/request-router.js';
import { DENIAL_UNAUDITED, isAllowed } from '../authorizer.js';
import type { BrokerContext } from '../broker-context.js';
import { OPERATIONS_NOT_REQUESTED, authorizedOperations, clusterAuthorizedOperations } from '../authorized-operations.js';
import { partitionStates } from './partition-state.js';

export function metadataHandler(broker: BrokerContext) {
  return defineHandler({
    request: MetadataRequest,
    response: MetadataResponse,
    minVersion: 0,
    maxVersion: 13,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const allowAutoCreate = req.topics !== null && (v < 4 || req.allowAutoTopicCreation);
      const acl = topicAcls(ctx.connection, req.topics === null || (ctx.apiVersion === 0 && req.topics.length === 0));
      const missing = new Set<string>();
      if (allowAutoCreate) {
        const image = broker.metadata.image;
        for (const t of req.topics ?? []) if (t.name !== null && t.name !== '' && !image.topicsByName.has(t.name) && acl.canDescribe(t.name) && acl.canCreate(t.name)) missing.add(t.name);
      }
      if (missing.size === 0) return answer(v, ctx.connection, req, new Map(), acl, allowAutoCreate);
      return broker.autoCreateTopics([...missing]).then((outcomes) => answer(v, ctx.connection, req, outcomes, acl, allowAutoCreate));
    },
  });

  /** ACLs (when an authorizer is configured): DESCRIBE to see a topic, CREATE (on the cluster or
   * the topic) to auto-create one. Asked for all topics, a topic not described is filtered out,
   * and its denial is not audited at info (as Kafka); CREATE on the cluster falls back to the topic. */
  function topicAcls(connection: RequestContext['connection'], allTopics: boolean): { canDescribe(name: string): boolean; canCreate(name: string): boolean } {
    const authz = broker.authorizer;
    return {
      canDescribe: (name) => isAllowed(authz, connection, AclOperation.DESCRIBE, ResourceType.TOPIC, name, allTopics ? DENIAL_UNAUDITED : undefined),
      canCreate: (name) => isAllowed(authz, connection, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, DENIAL_UNAUDITED) || isAllowed(authz, connection, AclOperation.CREATE, ResourceType.TOPIC, name),
    };
  }

  /** The response, from the image as it is now; `autoCreated` has the outcome of each name this
   * request tried to auto-create (NONE: created). */
  function answer(v: number, connection: RequestContext['connection'], req: MetadataRequestData, autoCreated: ReadonlyMap<string, number>, acl: ReturnType<typeof topicAcls>, allowAutoCreate: boolean): MetadataResponseData {
    const res = MetadataResponse.defaults();
    res.brokers = broker.brokersFor(connection.listenerName);
    res.clusterId = broker.clusterId;
    res.controllerId = broker.nodeId;
    // Authorized operations (v8+; the cluster's only up to v10), as the principal's ACLs allow.
    res.clusterAuthorizedOperations = clusterAuthorizedOperations(v >= 8 && v <= 10 && req.includeClusterAuthorizedOperations, broker.authorizer, connection);
    const withOperations = v >= 8 && req.includeTopicAuthorizedOperations;
    const image = broker.metadata.image;
    const describe = (topic: TopicImage): MetadataResponseMetadataResponseTopic => ({
      errorCode: ErrorCode.NONE,
      name: topic.name,
      topicId: topic.topicId,
      isInternal: isInternalTopic(topic.name),
      partitions: partitionStates(broker, topic.name, topic.partitions),
      topicAuthorizedOperations: withOperations ? authorizedOperations(broker.authorizer, connection, ResourceType.TOPIC, topic.name) : OPERATIONS_NOT_REQUESTED,
    });
    const missing = (name: string | null, topicId: string, errorCode: number): MetadataResponseMetadataResponseTopic => ({
      errorCode,
      name,
      topicId,
      isInternal: false,
      partitions: [],
      topicAuthorizedOperations: OPERATIONS_NOT_REQUESTED,
    });
    // v0: an empty list means all topics; v1+: null means all, empty means none.
    const all = req.topics === null || (v === 0 && req.topics.length === 0);
    if (all) {
      for (const topic of image.topicsByName.values()) if (acl.canDescribe(topic.name)) res.topics.push(describe(topic));
      return res;
    }
    for (const t of req.topics ?? []) {
      if (t.name === null || t.name === '') {
        const byId = image.topicsById.get(t.topicId);
        if (byId !== undefined && !acl.canDescribe(byId.name)) res.topics.push(missing(null, t.topicId, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
        else res.topics.push(byId !== undefined ? describe(byId) : missing(null, t.topicId, ErrorCode.UNKNOWN_TOPIC_ID));
        continue;
      }
      if (!acl.canDescribe(t.name)) {
        res.topics.push(missing(t.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
        continue;
      }
      const existing = image.topicsByName.get(t.name);
      if (existing !== undefined) {
        res.topics.push(describe(existing));
        continue;
      }
      if (allowAutoCreate && !acl.canCreate(t.name)) {
        res.topics.push(missing(t.name, ZERO_UUID, ErrorCode.TOPIC_AUTHORIZATION_FAILED));
        continue;
      }
      // Not created, or created for this request and deleted again before the answer.
      const outcome = autoCreated.get(t.name);
      res.topics.push(missing(t.name, ZERO_UUID, outcome === undefined || outcome === ErrorCode.NONE ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : outcome));
    }
    return res;
  }
}
