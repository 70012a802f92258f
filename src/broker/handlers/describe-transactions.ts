// DescribeTransactions (key 65), v0: the state of each transactional id coordinated here
// (NOT_COORDINATOR for the others, TRANSACTIONAL_ID_NOT_FOUND for unknown ones), as
// kafka-transactions.sh describe shows it.
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
    async handle(_ctx, req) {
      const res = DescribeTransactionsResponse.defaults();
      res.transactionStates = req.transactionalIds.slice(0, MAX_IDS_PER_REQUEST).map((id) => {
        const d = broker.transactionCoordinator.describe(id);
        return {
          errorCode: d.errorCode,
          transactionalId: id,
          transactionState: d.state,
          transactionTimeoutMs: d.txnTimeoutMs,
          transactionStartTimeMs: BigInt(d.txnStartTimestampMs),
          producerId: d.producerId,
          producerEpoch: d.producerEpoch,
          topics: d.topics.map((t) => ({ topic: t.topic, partitions: t.partitions })),
        };
      });
      return res;
    },
  });
}
