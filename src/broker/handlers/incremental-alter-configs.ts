// IncrementalAlterConfigs (key 44), v0-1: SET / DELETE / APPEND / SUBTRACT per key on TOPIC
// overrides, dynamic BROKER configs and GROUP configs (group-config.ts); APPEND and SUBTRACT only on list configs (e.g.
// cleanup.policy), starting from the config's default when it is not set. Checks, codes and
// messages in ../config-admin.ts. validateOnly checks without changing anything.
// ACLs (when an authorizer is configured), after the request-level checks: ALTER_CONFIGS on the
// cluster for BROKER resources, on the topic or group for theirs; refused -> CLUSTER_, TOPIC_ or
// GROUP_AUTHORIZATION_FAILED for that resource.
import { AclOperation } from '../../protocol/acls.js';
import { ConfigResourceType } from '../../metadata/records.js';
import { IncrementalAlterConfigsRequest } from '../../protocol/messages/IncrementalAlterConfigsRequest.js';
import { IncrementalAlterConfigsResponse } from '../../protocol/messages/IncrementalAlterConfigsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { AlterConfigOp, alterResourceConfigs, configResourceRefusal, incrementalEdit, preprocess } from '../config-admin.js';

export function incrementalAlterConfigsHandler(broker: BrokerContext) {
  return defineHandler({
    request: IncrementalAlterConfigsRequest,
    response: IncrementalAlterConfigsResponse,
    minVersion: 0,
    maxVersion: 1,
    async handle(ctx, req) {
      const res = IncrementalAlterConfigsResponse.defaults();
      const failed = preprocess(req.resources, (c) => c.configOperation !== AlterConfigOp.DELETE, [ConfigResourceType.TOPIC, ConfigResourceType.BROKER, ConfigResourceType.GROUP]);
      for (const r of req.resources) {
        const edit = incrementalEdit(r.resourceType, r.configs);
        const outcome = failed.get(r) ?? configResourceRefusal(broker, ctx.connection, AclOperation.ALTER_CONFIGS, r.resourceType, r.resourceName) ?? (await alterResourceConfigs(broker, r.resourceType, r.resourceName, edit, req.validateOnly));
        res.responses.push({ ...outcome, resourceType: r.resourceType, resourceName: r.resourceName });
      }
      return res;
    },
  });
}
