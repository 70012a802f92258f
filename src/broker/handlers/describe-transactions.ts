// DescribeTransactions (key 65), v0: the state of each transactional id coordinated here
// (NOT_COORDINATOR for the others, TRANSACTIONAL_ID_NOT_FOUND for unknown ones), as
// kafka-transactions.sh describe shows it.
// ACLs (when an authorizer is configured), as Kafka: DESCRIBE on each transactional id, else
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED for it; the partitions of topics the principal may not
// DESCRIBE are left out.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { DescribeTransactionsRequest } from '../../protocol/messages/DescribeTransactionsRequest.js';
import { DescribeTransactionsResponse } from '../../protocol/messages/DescribeTransactionsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

/** Ids one request may name. */
const MAX_IDS_PER_REQUEST = 10_000;

export function describeTransactionsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DescribeTransactionsRequest,
    response: DescribeTransactionsResponse,
    minVersion: 0,
    maxVersion: 0,
    async handle(ctx, req) {
      const res = DescribeTransactionsResponse.defaults();
      const allowed = (operation: number, resourceType: number, name: string) => isAllowed(broker.authorizer, ctx.connection, operation, resourceType, name);
      res.transactionStates = req.transactionalIds.slice(0, MAX_IDS_PER_REQUEST).map((id) => {
        if (!allowed(AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, id)) {
          return { ...DescribeTransactionsResponse.newStruct('TransactionState'), transactionalId: id, errorCode: ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED };
        }
        const d = broker.transactionCoordinator.describe(id);
        return {
          errorCode: d.errorCode,
          transactionalId: id,
          transactionState: d.state,
          transactionTimeoutMs: d.txnTimeoutMs,
          transactionStartTimeMs: BigInt(d.txnStartTimestampMs),
          producerId: d.producerId,
          producerEpoch: d.producerEpoch,
          topics: d.topics.filter((t) => allowed(AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic)).map((t) => ({ topic: t.topic, partitions: t.partitions })),
        };
      });
      return res;
    },
  });
}
