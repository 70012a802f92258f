// UpdateFeatures (key 57), v0-2: changes finalized feature levels (KIP-584) through the
// controller, which records them as FeatureLevelRecords; ApiVersions shows the result at once.
// Upgrades and downgrades stay within what this node supports (controller/features.ts), a
// downgrade needs its upgrade type (v0: AllowDowngrade), and a metadata.version downgrade across
// a metadata format change is refused. The request is applied whole or not at all: as Kafka's
// controller answers, one error goes on the response and (v0-1) on every feature's result.
// ValidateOnly (v1+) checks without recording. An empty request changes nothing.
// ACLs (when an authorizer is configured): ALTER on the cluster, else the response's error is
// CLUSTER_AUTHORIZATION_FAILED with no per-feature results (Kafka's error response).
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { AUTHORIZATION_FAILED_MESSAGE, isAllowed } from '../authorizer.js';
import { UpgradeType } from '../../metadata/features.js';
import { ErrorCode } from '../../protocol/errors.js';
import { UpdateFeaturesRequest } from '../../protocol/messages/UpdateFeaturesRequest.js';
import { UpdateFeaturesResponse } from '../../protocol/messages/UpdateFeaturesResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function updateFeaturesHandler(broker: BrokerContext) {
  return defineHandler({
    request: UpdateFeaturesRequest,
    response: UpdateFeaturesResponse,
    minVersion: 0,
    maxVersion: 2,
    async handle(ctx, req) {
      const v = ctx.apiVersion;
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.ALTER, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME)) {
        const refused = UpdateFeaturesResponse.defaults();
        refused.errorCode = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
        refused.errorMessage = AUTHORIZATION_FAILED_MESSAGE[refused.errorCode]!;
        return refused;
      }
      const updates = req.featureUpdates.map((u) => ({
        feature: u.feature,
        level: u.maxVersionLevel,
        upgradeType: v === 0 ? (u.allowDowngrade ? UpgradeType.SAFE_DOWNGRADE : UpgradeType.UPGRADE) : u.upgradeType,
      }));
      const { errorCode, errorMessage } = await broker.controller.updateFeatures(updates, v >= 1 && req.validateOnly);
      if (errorCode !== ErrorCode.NONE) broker.log.info({ errorCode, error: errorMessage }, 'feature update refused');
      const res = UpdateFeaturesResponse.defaults();
      res.errorCode = errorCode;
      res.errorMessage = errorMessage;
      if (v <= 1) res.results = updates.map((u) => ({ feature: u.feature, errorCode, errorMessage }));
      return res;
    },
  });
}
