// Produce (key 0), v3-11 (record batch v2 only; v0-2 carry the old message formats, which
// Kafka 4 no longer accepts either). Batches are validated by header and CRC and appended as
// they arrived. acks=0 gets no response; acks=1 and acks=-1 are answered after the append
// (a single node is its own ISR, so the write is committed once appended).
import { isInternalTopic } from '../../controller/topic-names.js';
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
    maxVersion: 11,
    handle(ctx, req) {
      const acks = req.acks;
      const res = ProduceResponse.defaults();
      for (const topic of req.topicData) {
        const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
        for (const p of topic.partitionData) {
          const out = ProduceResponse.newStruct('PartitionProduceResponse');
          out.index = p.index;
          out.baseOffset = -1n;
          out.logAppendTimeMs = -1n;
          out.logStartOffset = -1n;
          if (isInternalTopic(topic.name)) {
            // Only the coordinators write to their internal topics, never clients.
            out.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
            out.errorMessage = `Cannot append to internal topic ${topic.name}`;
          } else if (acks !== 0 && acks !== 1 && acks !== -1) {
            out.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
            out.errorMessage = `Invalid required acks ${acks}: use 0, 1 or -1.`;
          } else {
            const r = broker.replicas.append(topic.name, p.index, p.records, acks, true);
            out.errorCode = r.errorCode;
            out.errorMessage = r.errorMessage;
            out.baseOffset = BigInt(r.baseOffset);
            out.logAppendTimeMs = BigInt(r.logAppendTimeMs);
            out.logStartOffset = BigInt(r.logStartOffset);
            out.recordErrors = r.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message }));
            if (r.errorCode !== ErrorCode.NONE) broker.log.debug({ topic: topic.name, partition: p.index, error: r.errorMessage }, 'produce rejected');
          }
          partitionResponses.push(out);
        }
        res.responses.push({ name: topic.name, topicId: topic.topicId, partitionResponses });
      }
      return acks === 0 ? NO_RESPONSE : res;
    },
  });
}
