// GetTelemetrySubscriptions (key 71), v0 (KIP-714): answered as a Kafka broker with no
// client-metrics subscription configured answers it: a client instance id for a new client,
// no requested metrics, and the default push interval (5 minutes) after which the client asks
// again (client-telemetry.ts). So clients with telemetry on (librdkafka, the Java client) collect
// and push nothing.
import { GetTelemetrySubscriptionsRequest } from '../../protocol/messages/GetTelemetrySubscriptionsRequest.js';
import { GetTelemetrySubscriptionsResponse } from '../../protocol/messages/GetTelemetrySubscriptionsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function getTelemetrySubscriptionsHandler(broker: BrokerContext) {
  return defineHandler({
    request: GetTelemetrySubscriptionsRequest,
    response: GetTelemetrySubscriptionsResponse,
    minVersion: 0,
    maxVersion: 0,
    handle(_ctx, req) {
      return { throttleTimeMs: 0, errorCode: 0, ...broker.telemetry.subscribe(req.clientInstanceId) };
    },
  });
}
