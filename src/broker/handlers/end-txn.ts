// EndTxn (key 26), v0-4: commits or aborts the producer's open transaction. Answered once the
// coordinator's PrepareCommit/PrepareAbort record is committed; the markers on every partition
// and the Complete* record follow, as Kafka does (a new transaction of the same id meanwhile gets
// CONCURRENT_TRANSACTIONS). v5 (transactions v2, KIP-890 part 2) is not served. PRODUCER_FENCED is
// INVALID_PRODUCER_EPOCH before v2.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isAllowed } from '../authorizer.js';
import { EndTxnRequest } from '../../protocol/messages/EndTxnRequest.js';
import { EndTxnResponse } from '../../protocol/messages/EndTxnResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { fencedErrorFor } from '../txn/txn-errors.js';

export function endTxnHandler(broker: BrokerContext) {
  return defineHandler({
    request: EndTxnRequest,
    response: EndTxnResponse,
    minVersion: 0,
    maxVersion: 4,
    async handle(ctx, req) {
      const res = EndTxnResponse.defaults();
      if (!isAllowed(broker.authorizer, ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId)) {
        res.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
        return res;
      }
      const code = await broker.transactionCoordinator.endTxn(req.transactionalId, req.producerId, req.producerEpoch, req.committed);
      res.errorCode = fencedErrorFor(code, ctx.apiVersion, 2);
      return res;
    },
  });
}
