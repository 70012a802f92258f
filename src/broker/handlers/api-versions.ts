// ApiVersions (key 18), v0-4: the versions this broker serves, built from the handler table.
// A request with a version above ours is answered as v0 by the router (see request-router.ts).
import { ErrorCode } from '../../protocol/errors.js';
import { ApiVersionsRequest } from '../../protocol/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../protocol/messages/ApiVersionsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function apiVersionsHandler(broker: BrokerContext) {
  return defineHandler({
    request: ApiVersionsRequest,
    response: ApiVersionsResponse,
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, req) {
      const res = ApiVersionsResponse.defaults();
      // v3+ requests carry client software name/version, which must be valid if present.
      if (ctx.apiVersion >= 3 && !(/^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/.test(req.clientSoftwareName) && /^[a-zA-Z0-9](?:[a-zA-Z0-9\-.]*[a-zA-Z0-9])?$/.test(req.clientSoftwareVersion))) {
        res.errorCode = ErrorCode.INVALID_REQUEST;
      }
      res.apiKeys = broker.supportedVersions().map((v) => ({ apiKey: v.apiKey, minVersion: v.minVersion, maxVersion: v.maxVersion }));
      return res;
    },
  });
}
