// FindCoordinator (key 10), v0-6. Key type 0 (group): the leader of the group's partition of
// __consumer_offsets (created on first use): this broker when it leads it, loaded or still
// loading (GroupCoordinator.coordinatorFor), or the live broker that leads it in a cluster. Key type 1 (transaction): COORDINATOR_NOT_AVAILABLE until the
// transaction coordinator exists. v4+ batches keys in `coordinatorKeys`.
import { ErrorCode } from '../../protocol/errors.js';
import { FindCoordinatorRequest } from '../../protocol/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse, type FindCoordinatorResponseCoordinator } from '../../protocol/messages/FindCoordinatorResponse.js';
import { CONSUMER_OFFSETS_TOPIC } from '../group/coordinator-partition.js';
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
        let code: number;
        if (req.keyType === KEY_TYPE_GROUP) {
          code = broker.groupCoordinator.coordinatorFor(key);
          // The first lookup starts the creation of __consumer_offsets; a single node commits it
          // at once, so the answer waits for it rather than sending the client into a retry.
          const creating = code === ErrorCode.COORDINATOR_NOT_AVAILABLE ? broker.internalTopicCreation() : null;
          if (creating !== null) {
            await creating;
            code = broker.groupCoordinator.coordinatorFor(key);
          }
        }
        else if (req.keyType === KEY_TYPE_TRANSACTION) code = ErrorCode.COORDINATOR_NOT_AVAILABLE;
        else code = ErrorCode.INVALID_REQUEST;
        const brokers = broker.brokersFor(ctx.connection.listenerName);
        let coordinator = brokers.find((b) => b.nodeId === broker.nodeId);
        // In a cluster the group's partition may be led by another broker: that one coordinates it.
        if (code === ErrorCode.COORDINATOR_NOT_AVAILABLE && req.keyType === KEY_TYPE_GROUP) {
          const partition = broker.metadata.image.topicsByName.get(CONSUMER_OFFSETS_TOPIC)?.partitions.find((p) => p.partitionId === broker.groupCoordinator.partitionFor(key));
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
