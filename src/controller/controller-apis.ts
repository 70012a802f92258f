// The controller-only APIs a controller serves on its controller listener besides the KRaft RPCs
// (raft/raft-rpc-handlers.ts): BrokerRegistration (62) v0-4, BrokerHeartbeat (63) v0-1 and
// AllocateProducerIds (67) v0, which brokers send to the active controller (Kafka's
// ControllerApis). A controller that is not active answers NOT_CONTROLLER; the broker asks the
// active one. A registration naming another cluster gets INCONSISTENT_CLUSTER_ID.
import type { ControllerChannel } from '../metadata/controller-channel.js';
import { ErrorCode } from '../protocol/errors.js';
import { AllocateProducerIdsRequest } from '../protocol/messages/AllocateProducerIdsRequest.js';
import { AllocateProducerIdsResponse } from '../protocol/messages/AllocateProducerIdsResponse.js';
import { BrokerHeartbeatRequest } from '../protocol/messages/BrokerHeartbeatRequest.js';
import { BrokerHeartbeatResponse } from '../protocol/messages/BrokerHeartbeatResponse.js';
import { BrokerRegistrationRequest } from '../protocol/messages/BrokerRegistrationRequest.js';
import { BrokerRegistrationResponse } from '../protocol/messages/BrokerRegistrationResponse.js';
import { defineHandler } from '../server/request-router.js';

export function controllerApiHandlers(controller: ControllerChannel, clusterId: string) {
  return [
    defineHandler({
      request: BrokerRegistrationRequest,
      response: BrokerRegistrationResponse,
      minVersion: 0,
      maxVersion: 4,
      async handle(_ctx, req) {
        const res = BrokerRegistrationResponse.defaults();
        if (req.clusterId !== clusterId) {
          res.errorCode = ErrorCode.INCONSISTENT_CLUSTER_ID;
          return res;
        }
        const r = await controller.registerBroker({ brokerId: req.brokerId, incarnationId: req.incarnationId, endpoints: req.listeners.map((l) => ({ name: l.name, host: l.host, port: l.port, securityProtocol: l.securityProtocol })), rack: req.rack });
        res.errorCode = r.errorCode;
        if (r.value !== null) res.brokerEpoch = r.value;
        return res;
      },
    }),
    defineHandler({
      request: BrokerHeartbeatRequest,
      response: BrokerHeartbeatResponse,
      minVersion: 0,
      maxVersion: 1,
      async handle(_ctx, req) {
        const res = BrokerHeartbeatResponse.defaults();
        const r = await controller.brokerHeartbeat({ brokerId: req.brokerId, brokerEpoch: req.brokerEpoch, currentMetadataOffset: req.currentMetadataOffset, wantFence: req.wantFence, wantShutDown: req.wantShutDown });
        res.errorCode = r.errorCode;
        if (r.value !== null) {
          res.isCaughtUp = r.value.isCaughtUp;
          res.isFenced = r.value.isFenced;
          res.shouldShutDown = r.value.shouldShutDown;
        }
        return res;
      },
    }),
    // One id per request: the controller reserves ids in committed blocks of its own, and a
    // broker asks only when it has none (InitProducerId forwarded).
    defineHandler({
      request: AllocateProducerIdsRequest,
      response: AllocateProducerIdsResponse,
      minVersion: 0,
      maxVersion: 0,
      async handle() {
        const res = AllocateProducerIdsResponse.defaults();
        const r = await controller.allocateProducerId();
        res.errorCode = r.errorCode;
        if (r.value !== null) {
          res.producerIdStart = r.value;
          res.producerIdLen = 1;
        }
        return res;
      },
    }),
  ];
}
