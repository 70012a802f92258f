// Produce (key 0), v3-13 (record batch v2 only; v0-2 carry the old message formats, which
// Kafka 4 no longer accepts either). Like Kafka 4, ApiVersions lists Produce from v0 all the
// same (librdkafka derives its message-format features from v0-2 being listed, KAFKA-18659);
// a v0-2 request closes the connection. Batches are validated by header and CRC, their records
// walked once (framing, offsets, topic rules; see record-validation.ts), and appended as they
// arrived. acks=0 gets no response; acks=1 and acks=-1 are answered after the append
// (a single node is its own ISR, so the write is committed once appended).
// v12 is v11 for everything Tributary accepts: it differs only for transactional batches under
// transactions v2 (KIP-890), which clients send only when transaction.version >= 2 is
// finalized, and Tributary finalizes 0. v13 names topics by id (KIP-516): an unknown id gets
// UNKNOWN_TOPIC_ID on each of its partitions.
import { isInternalTopic } from '../../metadata/topic-names.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ProduceRequest } from '../../protocol/messages/ProduceRequest.js';
import { ProduceResponse, type ProduceResponsePartitionProduceResponse } from '../../protocol/messages/ProduceResponse.js';
import { NO_RESPONSE, defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';

export function produceHandler(broker: BrokerContext) {
  return defineHandler({
    request: ProduceRequest,
    response: ProduceResponse,
    minVersion: 3,
    maxVersion: 13,
    advertisedMinVersion: 0,
    handle(ctx, req) {
      const acks = req.acks;
      const byId = ctx.apiVersion >= 13;
      const res = ProduceResponse.defaults();
      for (const topic of req.topicData) {
        const name = byId ? broker.metadata.image.topicsById.get(topic.topicId)?.name : topic.name;
        const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
        for (const p of topic.partitionData) {
          const out = ProduceResponse.newStruct('PartitionProduceResponse');
          out.index = p.index;
          out.baseOffset = -1n;
          out.logAppendTimeMs = -1n;
          out.logStartOffset = -1n;
          if (name === undefined) {
            out.errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
          } else if (isInternalTopic(name)) {
            // Only the coordinators write to their internal topics, never clients.
            out.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
            out.errorMessage = `Cannot append to internal topic ${name}`;
          } else if (acks !== 0 && acks !== 1 && acks !== -1) {
            out.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
            out.errorMessage = `Invalid required acks ${acks}: use 0, 1 or -1.`;
          } else {
            const r = broker.replicas.append(name, p.index, p.records, acks, true);
            out.errorCode = r.errorCode;
            out.errorMessage = r.errorMessage;
            out.baseOffset = BigInt(r.baseOffset);
            out.logAppendTimeMs = BigInt(r.logAppendTimeMs);
            out.logStartOffset = BigInt(r.logStartOffset);
            out.recordErrors = r.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message }));
            if (r.errorCode !== ErrorCode.NONE) broker.log.debug({ topic: name, partition: p.index, error: r.errorMessage }, 'produce rejected');
          }
          partitionResponses.push(out);
        }
        // Each version carries only one of name and id (the other decoded as its default).
        res.responses.push({ name: topic.name, topicId: topic.topicId, partitionResponses });
      }
      return acks === 0 ? NO_RESPONSE : res;
    },
  });
}
