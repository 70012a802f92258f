// DescribeCluster (key 60), v0-2: the brokers reachable through the listener the request came
// in on, the cluster id and the controller id (as Kafka's brokers answer: a live broker, here
// this node). v1 endpointType: brokers (1) are described here; controllers (2) ->
// MISMATCHED_ENDPOINT_TYPE, anything else -> UNSUPPORTED_ENDPOINT_TYPE (INVALID_REQUEST on v0).
// v2 (KIP-1073) lists fenced brokers too when asked, with IsFenced; a serving node is never fenced.
// No ACL is needed (as Kafka); the cluster's authorized operations, when asked for, are 0 without
// DESCRIBE on the cluster.
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeClusterRequest } from '../../protocol/messages/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../../protocol/messages/DescribeClusterResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { clusterAuthorizedOperations } from '../authorized-operations.js';

const ENDPOINT_BROKER = 1;
const ENDPOINT_CONTROLLER = 2;
const ENDPOINT_NAMES: Record<number, string> = { [ENDPOINT_BROKER]: 'BROKER', [ENDPOINT_CONTROLLER]: 'CONTROLLER' };

export function describeClusterHandler(broker: BrokerContext) {
  return defineHandler({
    request: DescribeClusterRequest,
    response: DescribeClusterResponse,
    minVersion: 0,
    maxVersion: 2,
    handle(ctx, req) {
      const res = DescribeClusterResponse.defaults();
      const wanted = req.endpointType;
      if (wanted !== ENDPOINT_BROKER) {
        if (wanted === ENDPOINT_CONTROLLER) {
          res.errorCode = ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.MISMATCHED_ENDPOINT_TYPE;
          res.errorMessage = `The request was sent to an endpoint of type ${ENDPOINT_NAMES[ENDPOINT_BROKER]}, but we wanted an endpoint of type ${ENDPOINT_NAMES[wanted]}`;
        } else {
          res.errorCode = ctx.apiVersion === 0 ? ErrorCode.INVALID_REQUEST : ErrorCode.UNSUPPORTED_ENDPOINT_TYPE;
          res.errorMessage = `Unsupported endpoint type ${wanted}`;
        }
        return res;
      }
      res.clusterId = broker.clusterId;
      res.brokers = broker.brokersFor(ctx.connection.listenerName).map((b) => ({ brokerId: b.nodeId, host: b.host, port: b.port, rack: b.rack, isFenced: false }));
      res.controllerId = res.brokers.some((b) => b.brokerId === broker.nodeId) ? broker.nodeId : -1;
      res.clusterAuthorizedOperations = clusterAuthorizedOperations(req.includeClusterAuthorizedOperations, broker.authorizer, ctx.connection);
      return res;
    },
  });
}
