// AddOffsetsToTxn (key 25), v0-4: adds the group's partition of __consumer_offsets to the
// producer's transaction, before TxnOffsetCommit sends the offsets to the group coordinator.
// PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v2.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isAllowed } from '../authorizer.js';
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
      // ACLs (when an authorizer is configured): WRITE on the transactional id, READ on the group.
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) {
        res.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        return res;
      }
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.GROUP, req.groupId)) {
        res.errorCode = ErrorCode.GROUP_AUTHORIZATION_FAILED;
        return res;
      }
      const partition = broker.groupCoordinator.offsetsPartitionFor(req.groupId);
      const code = await broker.transactionCoordinator.addPartitions(req.transactionalId, req.producerId, req.producerEpoch, [{ topic: CONSUMER_OFFSETS_TOPIC, partition }]);
      res.errorCode = fencedErrorFor(code, ctx.apiVersion, 2);
      return res;
    },
  });
}
