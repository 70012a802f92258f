// FindCoordinator (key 10), v0-6. Key type 0 (group): the leader of the group's partition of
// __consumer_offsets (created on first use): this broker when it leads it, loaded or still
// loading (GroupCoordinator.coordinatorFor), or the live broker that leads it in a cluster. Key
// type 1 (transaction): the same with the id's partition of __transaction_state
// (TransactionCoordinator.coordinatorFor). v4+ batches keys in `coordinatorKeys`.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { FindCoordinatorRequest } from '../../protocol/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse, type FindCoordinatorResponseCoordinator } from '../../protocol/messages/FindCoordinatorResponse.js';
import { CONSUMER_OFFSETS_TOPIC } from '../group/coordinator-partition.js';
import { TRANSACTION_STATE_TOPIC } from '../txn/txn-log.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

const KEY_TYPE_GROUP = 0;
const KEY_TYPE_TRANSACTION = 1;

export function findCoordinatorHandler(broker: BrokerContext) {
  return defineHandler({
    request: FindCoordinatorRequest,
    response: FindCoordinatorResponse,
    minVersion: 0,
    maxVersion: 6,
    async handle(ctx, req) {
      const v = ctx.apiVersion;
      const lookup = async (key: string): Promise<FindCoordinatorResponseCoordinator> => {
        const out: FindCoordinatorResponseCoordinator = { key, nodeId: -1, host: '', port: -1, errorCode: ErrorCode.NONE, errorMessage: null };
        const coordinatorFor =
          req.keyType === KEY_TYPE_GROUP ? (k: string) => broker.groupCoordinator.coordinatorFor(k)
          : req.keyType === KEY_TYPE_TRANSACTION ? (k: string) => broker.transactionCoordinator.coordinatorFor(k)
          : null;
        let code: number;
        // ACLs (when an authorizer is configured): DESCRIBE on the group or transactional id.
        if ((req.keyType === KEY_TYPE_GROUP || req.keyType === KEY_TYPE_TRANSACTION) && !isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, req.keyType === KEY_TYPE_GROUP ? ResourceType.GROUP : ResourceType.TRANSACTIONAL_ID, key)) {
          out.errorCode = req.keyType === KEY_TYPE_GROUP ? ErrorCode.GROUP_AUTHORIZATION_FAILED : ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
          return out;
        }
        if (coordinatorFor !== null) {
          code = coordinatorFor(key);
          // The first lookup starts the creation of the internal topic; a single node commits it
          // at once, so the answer waits for it rather than sending the client into a retry.
          const creating = code === ErrorCode.COORDINATOR_NOT_AVAILABLE ? broker.internalTopicCreation() : null;
          if (creating !== null) {
            await creating;
            code = coordinatorFor(key);
          }
        } else code = ErrorCode.INVALID_REQUEST;
        const brokers = broker.brokersFor(ctx.connection.listenerName);
        let coordinator = brokers.find((b) => b.nodeId === broker.nodeId);
        // In a cluster the key's partition may be led by another broker: that one coordinates it.
        if (code === ErrorCode.COORDINATOR_NOT_AVAILABLE && (req.keyType === KEY_TYPE_GROUP || req.keyType === KEY_TYPE_TRANSACTION)) {
          const [topic, partitionId] =
            req.keyType === KEY_TYPE_GROUP ? [CONSUMER_OFFSETS_TOPIC, broker.groupCoordinator.partitionFor(key)] : [TRANSACTION_STATE_TOPIC, broker.transactionCoordinator.partitionFor(key)];
          const partition = broker.metadata.image.topicsByName.get(topic)?.partitions.find((p) => p.partitionId === partitionId);
          const leader = partition === undefined || partition.leader === broker.nodeId ? undefined : brokers.find((b) => b.nodeId === partition.leader);
          if (leader !== undefined) {
            coordinator = leader;
            code = ErrorCode.NONE;
          }
        }
        const self = coordinator;
        if (code === ErrorCode.NONE && self === undefined) code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
        if (code !== ErrorCode.NONE || self === undefined) {
          out.errorCode = code;
          out.errorMessage = code === ErrorCode.INVALID_REQUEST ? `Unknown coordinator key type ${req.keyType}` : null;
          return out;
        }
        out.nodeId = self.nodeId;
        out.host = self.host;
        out.port = self.port;
        return out;
      };
      const res = FindCoordinatorResponse.defaults();
      if (v >= 4) {
        res.coordinators = [];
        for (const key of req.coordinatorKeys) res.coordinators.push(await lookup(key));
        return res;
      }
      const c = await lookup(req.key);
      res.errorCode = c.errorCode;
      if (v >= 1) res.errorMessage = c.errorMessage;
      res.nodeId = c.nodeId;
      res.host = c.host;
      res.port = c.port;
      return res;
    },
  });
}
