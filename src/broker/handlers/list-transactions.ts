// ListTransactions (key 66), v0-2: the transactions coordinated by this broker, filtered by state
// (names this broker does not know come back in UnknownStateFilters), producer id, v1 duration
// (Ongoing for longer than DurationFilter ms) and v2 TransactionalIdPattern (a regular
// expression; an invalid one is INVALID_REGULAR_EXPRESSION). COORDINATOR_LOAD_IN_PROGRESS while a
// partition led here is still loading, as Kafka answers.
// ACLs (when an authorizer is configured): only the transactional ids the principal may DESCRIBE
// are listed (never an authorization error).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ListTransactionsRequest } from '../../protocol/messages/ListTransactionsRequest.js';
import { ListTransactionsResponse } from '../../protocol/messages/ListTransactionsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { txnStateByName } from '../txn/txn-state.js';

/** Transactions one answer lists at most. */
const MAX_LISTED = 100_000;

export function listTransactionsHandler(broker: BrokerContext) {
  return defineHandler({
    request: ListTransactionsRequest,
    response: ListTransactionsResponse,
    minVersion: 0,
    maxVersion: 2,
    async handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = ListTransactionsResponse.defaults();
      res.unknownStateFilters = req.stateFilters.filter((s) => txnStateByName(s) === undefined);
      let idPattern: RegExp | null = null;
      if (v >= 2 && req.transactionalIdPattern !== null && req.transactionalIdPattern !== '') {
        try {
          idPattern = new RegExp(`^(?:${req.transactionalIdPattern})$`);
        } catch {
          res.errorCode = ErrorCode.INVALID_REGULAR_EXPRESSION;
          return res;
        }
      }
      const known = req.stateFilters.filter((s) => txnStateByName(s) !== undefined);
      // Only unknown state names: nothing can match.
      if (req.stateFilters.length > 0 && known.length === 0) return res;
      const r = broker.transactionCoordinator.list(
        { states: known, producerIds: req.producerIdFilters, durationFilterMs: v >= 1 ? Number(req.durationFilter) : -1, idPattern },
        MAX_LISTED,
      );
      if (r.loading) res.errorCode = ErrorCode.COORDINATOR_LOAD_IN_PROGRESS;
      res.transactionStates = r.transactions.filter((t) => isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.TRANSACTIONAL_ID, t.transactionalId)).map((t) => ({ transactionalId: t.transactionalId, producerId: t.producerId, transactionState: t.state }));
      return res;
    },
  });
}
