// DeleteRecords (key 21), v0-2: moves a partition's log start offset up to the requested offset
// (-1: the high watermark) and drops whole segments below it; the answer's lowWatermark is the
// new log start offset. As Kafka: internal topics -> INVALID_TOPIC_EXCEPTION, topics without the
// delete cleanup policy -> POLICY_VIOLATION, offsets below 0 or above the high watermark ->
// OFFSET_OUT_OF_RANGE, partitions not hosted here -> UNKNOWN_TOPIC_OR_PARTITION. On a single
// node the new start offset is final at once, so the request never waits.
// ACLs (when an authorizer is configured): DELETE on the topic, else TOPIC_AUTHORIZATION_FAILED on
// its partitions (checked first, as Kafka).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { isInternalTopic } from '../../metadata/topic-names.js';
import { ErrorCode } from '../../protocol/errors.js';
import { DeleteRecordsRequest } from '../../protocol/messages/DeleteRecordsRequest.js';
import { DeleteRecordsResponse, type DeleteRecordsResponseDeleteRecordsPartitionResult } from '../../protocol/messages/DeleteRecordsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import { StorageError } from '../../storage/errors.js';
import type { BrokerContext } from '../broker-context.js';

const HIGH_WATERMARK = -1n;

export function deleteRecordsHandler(broker: BrokerContext) {
  const deleteBefore = (topic: string, partitionIndex: number, requested: bigint): DeleteRecordsResponseDeleteRecordsPartitionResult => {
    const fail = (errorCode: number) => ({ partitionIndex, lowWatermark: -1n, errorCode });
    if (isInternalTopic(topic)) return fail(ErrorCode.INVALID_TOPIC_EXCEPTION);
    const hosted = broker.replicas.get(topic, partitionIndex);
    if (hosted === undefined) return fail(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const store = hosted.store;
    if (!store.config.cleanupPolicy.includes('delete')) return fail(ErrorCode.POLICY_VIOLATION);
    const offset = requested === HIGH_WATERMARK ? store.highWatermark : Number(requested);
    if (offset < 0 || offset > store.highWatermark) return fail(ErrorCode.OFFSET_OUT_OF_RANGE);
    try {
      return { partitionIndex, lowWatermark: BigInt(store.deleteRecordsBefore(offset)), errorCode: ErrorCode.NONE };
    } catch (err) {
      if (err instanceof StorageError) {
        broker.log.error({ err, topic, partition: partitionIndex }, 'delete records failed');
        return fail(err.errorCode);
      }
      throw err;
    }
  };
  return defineHandler({
    request: DeleteRecordsRequest,
    response: DeleteRecordsResponse,
    minVersion: 0,
    maxVersion: 2,
    handle(ctx, req) {
      const res = DeleteRecordsResponse.defaults();
      res.topics = req.topics.map((t) => {
        const deletable = isAllowed(broker.authorizer, ctx.connection, AclOperation.DELETE, ResourceType.TOPIC, t.name);
        return {
          name: t.name,
          partitions: t.partitions.map((p) => (deletable ? deleteBefore(t.name, p.partitionIndex, p.offset) : { partitionIndex: p.partitionIndex, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED })),
        };
      });
      return res;
    },
  });
}
