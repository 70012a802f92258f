// AddOffsetsToTxn (key 25), v0-4: adds the group's partition of __consumer_offsets to the
// producer's transaction, before TxnOffsetCommit sends the offsets to the group coordinator.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
import { AddOffsetsToTxnRequest } from '../../protocol/messages/AddOffsetsToTxnRequest.js';
import { AddOffsetsToTxnResponse } from '../../protocol/messages/AddOffsetsToTxnResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { CONSUMER_OFFSETS_TOPIC } from '../group/coordinator-partition.js';
import { fencedErrorFor } from '../txn/txn-errors.js';

export function addOffsetsToTxnHandler(broker: BrokerContext) {
  return defineHandler({
    request: AddOffsetsToTxnRequest,
    response: AddOffsetsToTxnResponse,
    minVersion: 0,
    maxVersion: 4,
    async handle(ctx, req) {
      const res = AddOffsetsToTxnResponse.defaults();
      const partition = broker.groupCoordinator.offsetsPartitionFor(req.groupId);
      const code = await broker.transactionCoordinator.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, [{ topic: CONSUMER_OFFSETS_TOPIC, partition }]);
      res.errorCode = fencedErrorFor(code, ctx.apiVersion, 2);
      return res;
    },
  });
}
