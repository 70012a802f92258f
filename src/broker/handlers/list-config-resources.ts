// ListConfigResources (key 74; ListClientMetricsResources until Kafka 4.1), v0-1: the resources
// whose configs can be described. v0 lists client-metrics resources only (KIP-1000); v1 filters
// by ResourceTypes, all types when the list is empty (KIP-1142). Tributary keeps configs for
// topics (every topic is listed), brokers (this node) and groups (those with a config set), and
// none for client metrics or broker loggers, so those types list nothing; an unknown type id is
// INVALID_REQUEST.
import { ConfigResourceType } from '../../metadata/records.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ListConfigResourcesRequest } from '../../protocol/messages/ListConfigResourcesRequest.js';
import { ListConfigResourcesResponse } from '../../protocol/messages/ListConfigResourcesResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

/** Kafka's ConfigResource.Type ids: topic, broker, broker logger, client metrics, group. */
const BROKER_LOGGER = 8;
const CLIENT_METRICS = 16;
const KNOWN_TYPES: readonly number[] = [ConfigResourceType.TOPIC, ConfigResourceType.BROKER, BROKER_LOGGER, CLIENT_METRICS, ConfigResourceType.GROUP];

export function listConfigResourcesHandler(broker: BrokerContext) {
  return defineHandler({
    request: ListConfigResourcesRequest,
    response: ListConfigResourcesResponse,
    minVersion: 0,
    maxVersion: 1,
    handle(ctx, req) {
      const res = ListConfigResourcesResponse.defaults();
      const types = ctx.apiVersion === 0 ? [CLIENT_METRICS] : req.resourceTypes.length === 0 ? KNOWN_TYPES : req.resourceTypes;
      if (types.some((t) => !KNOWN_TYPES.includes(t))) {
        res.errorCode = ErrorCode.INVALID_REQUEST;
        return res;
      }
      for (const type of new Set(types)) {
        if (type === ConfigResourceType.TOPIC) {
          for (const name of [...broker.metadata.image.topicsByName.keys()].sort()) res.configResources.push({ resourceName: name, resourceType: type });
        } else if (type === ConfigResourceType.BROKER) {
          res.configResources.push({ resourceName: String(broker.nodeId), resourceType: type });
        } else if (type === ConfigResourceType.GROUP) {
          for (const name of [...broker.metadata.image.groupConfigs.keys()].sort()) res.configResources.push({ resourceName: name, resourceType: type });
        }
      }
      return res;
    },
  });
}
