// InitProducerId (key 22), v0-5, for idempotent producers (no transactional id): a producer id
// no one has had before, with epoch 0. Ids come from blocks reserved in the metadata log, so
// they stay unique across restarts. Transactional ids need the transaction coordinator.
import { ErrorCode } from '../../protocol/errors.js';
import { InitProducerIdRequest } from '../../protocol/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../../protocol/messages/InitProducerIdResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function initProducerIdHandler(broker: BrokerContext) {
  return defineHandler({
    request: InitProducerIdRequest,
    response: InitProducerIdResponse,
    minVersion: 0,
    maxVersion: 5,
    async handle(_ctx, req) {
      const res = InitProducerIdResponse.defaults();
      if (req.transactionalId !== null) {
        res.errorCode = ErrorCode.COORDINATOR_NOT_AVAILABLE;
        res.producerId = -1n;
        res.producerEpoch = -1;
        return res;
      }
      const allocated = await broker.controller.allocateProducerId();
      if (allocated.value === null) {
        res.errorCode = allocated.errorCode;
        res.producerId = -1n;
        res.producerEpoch = -1;
        return res;
      }
      res.producerId = allocated.value;
      res.producerEpoch = 0;
      return res;
    },
  });
}
