// TxnOffsetCommit (key 28), v0-4: offsets a transactional producer commits for a group inside
// its transaction (sendOffsetsToTransaction, after AddOffsetsToTxn). The group coordinator writes
// them as a transactional batch of the producer and keeps them pending: OffsetFetch sees them
// only after the COMMIT marker reaches the group's partition (RequireStable gets
// UNSTABLE_OFFSET_COMMIT meanwhile); ABORT drops them. v3+ carries the member's generation, id and
// instance id, checked as Kafka checks them. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v3.
// v5 (transactions v2) is not served.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isAllowed } from '../authorizer.js';
import { TxnOffsetCommitRequest } from '../../protocol/messages/TxnOffsetCommitRequest.js';
import { TxnOffsetCommitResponse } from '../../protocol/messages/TxnOffsetCommitResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { fencedErrorFor } from '../txn/txn-errors.js';

export function txnOffsetCommitHandler(broker: BrokerContext) {
  return defineHandler({
    request: TxnOffsetCommitRequest,
    response: TxnOffsetCommitResponse,
    minVersion: 0,
    maxVersion: 4,
    async handle(ctx, req) {
      const v = ctx.apiVersion;
      // ACLs (when an authorizer is configured): WRITE on the transactional id, READ on the group.
      const refused = !isAllowed(broker.authorizer, ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId) ? ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED : !isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.GROUP, req.groupId) ? ErrorCode.GROUP_AUTHORIZATION_FAILED : null;
      if (refused !== null) {
        const res = TxnOffsetCommitResponse.defaults();
        res.topics = req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: refused })) }));
        return res;
      }
      const result = await broker.groupCoordinator.commitTxnOffsets({
        transactionalId: req.transactionalId,
        groupId: req.groupId,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        generationId: v >= 3 ? req.generationId : -1,
        memberId: v >= 3 ? req.memberId : '',
        groupInstanceId: v >= 3 ? req.groupInstanceId : null,
        topics: req.topics.map((t) => ({
          name: t.name,
          partitions: t.partitions.map((p) => ({
            partitionIndex: p.partitionIndex,
            committedOffset: p.committedOffset,
            committedLeaderEpoch: v >= 2 ? p.committedLeaderEpoch : -1,
            committedMetadata: p.committedMetadata,
          })),
        })),
      });
      const res = TxnOffsetCommitResponse.defaults();
      res.topics = result.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: fencedErrorFor(p.errorCode, v, 3) })) }));
      return res;
    },
  });
}
