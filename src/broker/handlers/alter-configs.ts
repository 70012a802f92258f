// AlterConfigs (key 33), v0-2: the legacy API that replaces the whole set of dynamic configs of
// a resource (keys not listed are removed). TOPIC overrides and dynamic BROKER configs; checks,
// codes and messages in ../config-admin.ts. validateOnly checks without changing anything.
// ACLs (when an authorizer is configured), after the request-level checks: ALTER_CONFIGS on the
// cluster for BROKER resources, on the topic for TOPIC ones; refused -> CLUSTER_ or
// TOPIC_AUTHORIZATION_FAILED for that resource.
import { AclOperation } from '../../protocol/acls.js';
import { ConfigResourceType } from '../../metadata/records.js';
import { AlterConfigsRequest } from '../../protocol/messages/AlterConfigsRequest.js';
import { AlterConfigsResponse } from '../../protocol/messages/AlterConfigsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { alterResourceConfigs, configResourceRefusal, preprocess, replaceAll } from '../config-admin.js';

export function alterConfigsHandler(broker: BrokerContext) {
  return defineHandler({
    request: AlterConfigsRequest,
    response: AlterConfigsResponse,
    minVersion: 0,
    maxVersion: 2,
    async handle(ctx, req) {
      const res = AlterConfigsResponse.defaults();
      const failed = preprocess(req.resources, () => true);
      for (const r of req.resources) {
        const outcome = failed.get(r) ?? configResourceRefusal(broker, ctx.connection, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName) ?? (await alterResourceConfigs(broker, r.resourceType, r.resourceName, replaceAll(r.configs), req.validateOnly));
        res.responses.push({ ...outcome, resourceType: r.resourceType, resourceName: r.resourceName });
      }
      return res;
    },
  });
}
