// TxnOffsetCommit (key 28), v0-4: offsets a transactional producer commits for a group inside
// its transaction (sendOffsetsToTransaction, after AddOffsetsToTxn). The group coordinator writes
// them as a transactional batch of the producer and keeps them pending: OffsetFetch sees them
// only after the COMMIT marker reaches the group's partition (RequireStable gets
// UNSTABLE_OFFSET_COMMIT meanwhile); ABORT drops them. v3+ carries the member's generation, id and
// instance id, checked as Kafka checks them. PRODUCER_FENCED is INVALID_PRODUCER_EPOCH before v3.
// v5 (transactions v2) is not served.
// ACLs (when an authorizer is configured), as Kafka: WRITE on the transactional id, READ on the
// group (either refused: every partition carries the error), then READ on each topic (refused:
// its partitions are TOPIC_AUTHORIZATION_FAILED and the other topics are committed). Then, as Kafka,
// an unknown topic or a partition past its partition count is UNKNOWN_TOPIC_OR_PARTITION and is not
// committed (offset-topic-screen.ts).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { isAllowed } from '../authorizer.js';
import { mergeScreened, screenOffsetTopics } from '../offset-topic-screen.js';
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
      const readable = (name: string) => isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.TOPIC, name);
      const screened = screenOffsetTopics(broker.metadata.image, req.topics, (t) => t.name, readable);
      const result = screened.passed.length === 0 ? [] : await broker.groupCoordinator.commitTxnOffsets({
        transactionalId: req.transactionalId,
        groupId: req.groupId,
        producerId: req.producerId,
        producerEpoch: req.producerEpoch,
        generationId: v >= 3 ? req.generationId : -1,
        memberId: v >= 3 ? req.memberId : '',
        groupInstanceId: v >= 3 ? req.groupInstanceId : null,
        topics: screened.passed.map((t) => ({
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
      const answered = result.map((t) => ({ partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: fencedErrorFor(p.errorCode, v, 3) })) }));
      const answers = mergeScreened(req.topics, screened, answered);
      res.topics = req.topics.map((t, i) => ({ name: t.name, partitions: answers[i]! }));
      return res;
    },
  });
}
