// CreateTopics (key 19), v0-7: validation and creation through the controller, with Kafka's
// error codes and messages, all topics of a request in one metadata change (encoded in slices
// by the metadata log when large, so other clients are served meanwhile); validateOnly checks without creating. v5+ responses describe the partitions, replication factor and configs of the
// created topic. Limits as Kafka's controller: more than 10,000 records in one request ->
// POLICY_VIOLATION for every topic; the controller mutation quota (KIP-599) refuses topics with
// THROTTLING_QUOTA_EXCEEDED from v6 and throttles older versions by holding the response back.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { DENIAL_UNAUDITED, isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CreateTopicsRequest } from '../../protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse, type CreateTopicsResponseCreatableTopicResult } from '../../protocol/messages/CreateTopicsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { describeTopicConfigs } from '../topic-config.js';
import { throttledResponse } from '../controller-mutation-quota.js';

/** First version that answers a quota violation with THROTTLING_QUOTA_EXCEEDED (KIP-599). */
const STRICT_QUOTA_SINCE = 6;

export function createTopicsHandler(broker: BrokerContext) {
  return defineHandler({
    request: CreateTopicsRequest,
    response: CreateTopicsResponse,
    minVersion: 0,
    maxVersion: 7,
    async handle(ctx, req) {
      const res = CreateTopicsResponse.defaults();
      const quota = broker.mutationQuota(ctx.apiVersion >= STRICT_QUOTA_SINCE);
      const seen = new Map<string, number>();
      for (const t of req.topics) seen.set(t.name, (seen.get(t.name) ?? 0) + 1);
      // ACLs (when an authorizer is configured): CREATE on the cluster, or on the topic.
      const clusterCreate = isAllowed(broker.authorizer, ctx.connection, AclOperation.CREATE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, DENIAL_UNAUDITED);
      const creatable = (name: string) => clusterCreate || isAllowed(broker.authorizer, ctx.connection, AclOperation.CREATE, ResourceType.TOPIC, name);
      const unique = req.topics.filter((t) => seen.get(t.name) === 1 && creatable(t.name));
      const results = await broker.controller.createTopics(
        unique.map((t) => ({ name: t.name, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor, assignments: t.assignments, configs: t.configs })),
        req.validateOnly,
        quota,
      );
      const byName = new Map(results.map((r) => [r.name, r]));
      for (const t of req.topics) {
        const out: CreateTopicsResponseCreatableTopicResult = CreateTopicsResponse.newStruct('CreatableTopicResult');
        out.name = t.name;
        out.numPartitions = -1;
        out.replicationFactor = -1;
        out.configs = null;
        res.topics.push(out);
        const result = byName.get(t.name);
        if (result === undefined && seen.get(t.name) === 1) {
          out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          out.errorMessage = 'Authorization failed.';
          continue;
        }
        if (result === undefined) {
          out.errorCode = ErrorCode.INVALID_REQUEST;
          out.errorMessage = `Create topics request from client contains duplicate topic name ${t.name}`;
          continue;
        }
        out.errorCode = result.errorCode;
        out.errorMessage = result.errorMessage;
        const created = result.value;
        if (created === null) continue;
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
      }
      return throttledResponse(broker, ctx.apiVersion >= 2, ctx.apiVersion >= STRICT_QUOTA_SINCE, quota, res);
    },
  });
}
