// InitProducerId (key 22), v0-5. Without a transactional id (idempotent producers): a producer id
// no one has had before, with epoch 0; ids come from blocks reserved in the metadata log, so they
// stay unique across restarts. With one: the transaction coordinator bumps the id's epoch (fencing
// older producers), aborting an open transaction first (answered CONCURRENT_TRANSACTIONS, the
// client retries), rotating to a new producer id when the epoch is exhausted; v3+ carries the
// producer's current id and epoch (KIP-360). PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v4,
// as Kafka answers.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { isAllowed, UNAUDITED } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { InitProducerIdRequest } from '../../protocol/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../../protocol/messages/InitProducerIdResponse.js';
import { defineHandler, type RequestContext } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { fencedErrorFor } from '../txn/txn-errors.js';

export function initProducerIdHandler(broker: BrokerContext) {
  return defineHandler({
    request: InitProducerIdRequest,
    response: InitProducerIdResponse,
    minVersion: 0,
    maxVersion: 5,
    async handle(ctx, req) {
      const res = InitProducerIdResponse.defaults();
      // ACLs (when an authorizer is configured): WRITE on the transactional id; an idempotent
      // producer needs IDEMPOTENT_WRITE on the cluster or WRITE on some topic (KIP-679).
      const authz = broker.authorizer;
      const refused =
        req.transactionalId !== null
          ? !isAllowed(authz, ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId) && ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED
          : authz !== null &&
            !isAllowed(authz, ctx.connection, AclOperation.IDEMPOTENT_WRITE, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME) &&
            !writesSomeTopic(broker, ctx.connection) &&
            ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
      if (refused !== false) {
        res.errorCode = refused;
        res.producerId = -1n;
        res.producerEpoch = -1;
        return res;
      }
      if (req.transactionalId !== null) {
        const expected = ctx.apiVersion >= 3 && req.producerId >= 0n ? { producerId: req.producerId, producerEpoch: req.producerEpoch } : null;
        const r = await broker.transactionCoordinator.initProducerId(req.transactionalId, req.transactionTimeoutMs, expected);
        res.errorCode = fencedErrorFor(r.errorCode, ctx.apiVersion, 4);
        res.producerId = r.producerId;
        res.producerEpoch = r.producerEpoch;
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

/** KIP-679: WRITE on any topic lets a producer be idempotent (stops at the first one). A probe over
 * every topic, so not audited (Kafka's authorizeByResourceType logs none either). */
function writesSomeTopic(broker: BrokerContext, connection: RequestContext['connection']): boolean {
  for (const topic of broker.metadata.image.topicsByName.keys()) {
    if (isAllowed(broker.authorizer, connection, AclOperation.WRITE, ResourceType.TOPIC, topic, UNAUDITED)) return true;
  }
  return false;
}
