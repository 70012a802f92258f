// PushTelemetry (key 72), v0 (KIP-714): validated as Kafka validates a push (INVALID_REQUEST for
// a missing instance id, UNKNOWN_SUBSCRIPTION_ID for an unknown or expired instance or a stale
// subscription id, THROTTLING_QUOTA_EXCEEDED before the push interval unless the client is
// terminating, UNSUPPORTED_COMPRESSION_TYPE, TELEMETRY_TOO_LARGE over telemetry.max.bytes). With
// no subscriptions nothing was requested, so an accepted payload is dropped.
import { PushTelemetryRequest } from '../../protocol/messages/PushTelemetryRequest.js';
import { PushTelemetryResponse } from '../../protocol/messages/PushTelemetryResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function pushTelemetryHandler(broker: BrokerContext) {
  return defineHandler({
    request: PushTelemetryRequest,
    response: PushTelemetryResponse,
    minVersion: 0,
    maxVersion: 0,
    handle(_ctx, req) {
      return { throttleTimeMs: 0, errorCode: broker.telemetry.push(req) };
    },
  });
}
