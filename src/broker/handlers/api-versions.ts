// ApiVersions (key 18), v0-4: the versions this broker serves, built from the handler table.
// A request with a version above ours is answered as v0 by the router (see request-router.ts).
// v3+ also carries the feature flags (KIP-584): the levels this node supports and the finalized
// ones with their epoch (the offset of the last committed metadata record), as a Kafka 4.2
// broker answers them; features.ts says which levels Tributary supports and why.
import { SUPPORTED_FEATURES } from '../../metadata/features.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ApiVersionsRequest } from '../../protocol/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../protocol/messages/ApiVersionsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

const SOFTWARE_NAME_OR_VERSION = /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/;

export function apiVersionsHandler(broker: BrokerContext) {
  return defineHandler({
    request: ApiVersionsRequest,
    response: ApiVersionsResponse,
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, req) {
      const res = ApiVersionsResponse.defaults();
      // v3+ requests carry client software name/version, which must be valid if present.
      if (ctx.apiVersion >= 3 && !(SOFTWARE_NAME_OR_VERSION.test(req.clientSoftwareName) && SOFTWARE_NAME_OR_VERSION.test(req.clientSoftwareVersion))) {
        res.errorCode = ErrorCode.INVALID_REQUEST;
      }
      res.apiKeys = broker.supportedVersions().map((v) => ({ apiKey: v.apiKey, minVersion: v.minVersion, maxVersion: v.maxVersion }));
      if (ctx.apiVersion >= 3) {
        res.supportedFeatures = [...SUPPORTED_FEATURES].map(([name, r]) => ({ name, minVersion: r.min, maxVersion: r.max }));
        res.finalizedFeaturesEpoch = broker.metadata.offset;
        res.finalizedFeatures = [...broker.metadata.image.finalizedFeatures]
          .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
          .map(([name, level]) => ({ name, maxVersionLevel: level, minVersionLevel: level }));
      }
      return res;
    },
  });
}
