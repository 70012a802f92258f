// Produce (key 0), v0-13. v3+ carry record batches v2, validated by header and CRC, their
// records walked once (framing, offsets, topic rules; see record-validation.ts), and appended as
// they arrived. v0-2 carry the old message formats (v0/v1 message sets), which Kafka 4 dropped
// but old clients still send: each partition's set is converted to one v2 batch first
// (legacy-messages.ts), then goes the same way; a v2 batch in a v0-2 request, or a v0/v1 set in
// a v3+ request, is INVALID_RECORD as in Kafka. acks=0 gets no response; acks=1 is answered
// after the leader append; acks=-1 once the high watermark has passed every partition's batch
// (ReplicaManager.awaitCommitted: on a single node, at once), or with REQUEST_TIMED_OUT for the
// partitions still short when the request's timeout runs out.
// v12 is v11 for everything Tributary accepts: it differs only for transactional batches under
// transactions v2 (KIP-890), which clients send only when transaction.version >= 2 is
// finalized, and Tributary finalizes 0. v13 names topics by id (KIP-516): an unknown id gets
// UNKNOWN_TOPIC_ID on each of its partitions.
import { isInternalTopic } from '../../metadata/topic-names.js';
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ProduceRequest } from '../../protocol/messages/ProduceRequest.js';
import { ProduceResponse, type ProduceResponseData, type ProduceResponsePartitionProduceResponse } from '../../protocol/messages/ProduceResponse.js';
import { CorruptRecordError } from '../../protocol/records/errors.js';
import { InvalidLegacyMessageError, isLegacyMessageSet, upConvertMessageSet } from '../../protocol/records/legacy-messages.js';
import { NO_RESPONSE, defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE } from '../record-validation.js';
import type { ProduceOutcome } from '../replica-manager.js';

/** Messages one converted v0/v1 set may hold (each is at least 26 bytes, so bytes bound it first). */
const MAX_LEGACY_MESSAGES = 1 << 20;

/**
 * The v2 batch for a v0-2 request's message set, or the Kafka error that refuses it. The set's
 * compressed wrappers are decompressed within the same bound as v2 batches'.
 */
function upConvert(broker: BrokerContext, name: string, partition: number, records: Buffer | null): Buffer | { errorCode: number; errorMessage: string } | null {
  if (records === null || records.length === 0) return records;
  if (!isLegacyMessageSet(records)) return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: 'Produce requests before v3 carry message format v0 or v1, not record batches v2.' };
  const maxMessageBytes = broker.replicas.get(name, partition)?.store.config.maxMessageBytes ?? broker.config.int('message.max.bytes');
  try {
    return upConvertMessageSet(records, { maxMessages: MAX_LEGACY_MESSAGES, maxUncompressedBytes: maxMessageBytes * MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE });
  } catch (err) {
    if (err instanceof CorruptRecordError || err instanceof InvalidLegacyMessageError) return { errorCode: err.errorCode, errorMessage: err.message };
    throw err;
  }
}

export function produceHandler(broker: BrokerContext) {
  return defineHandler({
    request: ProduceRequest,
    response: ProduceResponse,
    minVersion: 0,
    maxVersion: 13,
    handle(ctx, req) {
      const acks = req.acks;
      const byId = ctx.apiVersion >= 13;
      const res = ProduceResponse.defaults();
      /** acks=-1 appends whose batches are not committed yet, with the response slot of each. */
      let uncommitted: { outcome: ProduceOutcome; out: ProduceResponsePartitionProduceResponse }[] | null = null;
      // ACLs (when an authorizer is configured): WRITE on the transactional id, then on each topic.
      const txnIdRefused = req.transactionalId !== null && !isAllowed(broker.authorizer, ctx.connection, AclOperation.WRITE, ResourceType.TRANSACTIONAL_ID, req.transactionalId);
      for (const topic of req.topicData) {
        const name = byId ? broker.metadata.image.topicsById.get(topic.topicId)?.name : topic.name;
        const writable = name !== undefined && isAllowed(broker.authorizer, ctx.connection, AclOperation.WRITE, ResourceType.TOPIC, name);
        const partitionResponses: ProduceResponsePartitionProduceResponse[] = [];
        for (const p of topic.partitionData) {
          const out = ProduceResponse.newStruct('PartitionProduceResponse');
          out.index = p.index;
          out.baseOffset = -1n;
          out.logAppendTimeMs = -1n;
          out.logStartOffset = -1n;
          if (name === undefined) {
            out.errorCode = ErrorCode.UNKNOWN_TOPIC_ID;
          } else if (txnIdRefused) {
            out.errorCode = ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
          } else if (!writable) {
            out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          } else if (isInternalTopic(name)) {
            // Only the coordinators write to their internal topics, never clients.
            out.errorCode = ErrorCode.INVALID_TOPIC_EXCEPTION;
            out.errorMessage = `Cannot append to internal topic ${name}`;
          } else if (acks !== 0 && acks !== 1 && acks !== -1) {
            out.errorCode = ErrorCode.INVALID_REQUIRED_ACKS;
            out.errorMessage = `Invalid required acks ${acks}: use 0, 1 or -1.`;
          } else {
            const records = ctx.apiVersion < 3 ? upConvert(broker, name, p.index, p.records) : p.records;
            if (records !== null && !Buffer.isBuffer(records)) {
              out.errorCode = records.errorCode;
              out.errorMessage = records.errorMessage;
              broker.log.debug({ topic: name, partition: p.index, error: records.errorMessage }, 'produce rejected');
              partitionResponses.push(out);
              continue;
            }
            const r = broker.replicas.append(name, p.index, records, acks, true);
            out.errorCode = r.errorCode;
            out.errorMessage = r.errorMessage;
            out.baseOffset = BigInt(r.baseOffset);
            out.logAppendTimeMs = BigInt(r.logAppendTimeMs);
            out.logStartOffset = BigInt(r.logStartOffset);
            out.recordErrors = r.recordErrors.map((e) => ({ batchIndex: e.batchIndex, batchIndexErrorMessage: e.message }));
            if (r.errorCode !== ErrorCode.NONE) broker.log.debug({ topic: name, partition: p.index, error: r.errorMessage }, 'produce rejected');
            else if (acks === -1 && !broker.replicas.isCommitted(r)) (uncommitted ??= []).push({ outcome: r, out });
          }
          partitionResponses.push(out);
        }
        // Each version carries only one of name and id (the other decoded as its default).
        res.responses.push({ name: topic.name, topicId: topic.topicId, partitionResponses });
      }
      if (acks === 0) return NO_RESPONSE;
      if (uncommitted === null) return res;
      return awaitCommit(broker, res, uncommitted, req.timeoutMs);
    },
  });
}

async function awaitCommit(
  broker: BrokerContext,
  res: ProduceResponseData,
  uncommitted: readonly { outcome: ProduceOutcome; out: ProduceResponsePartitionProduceResponse }[],
  timeoutMs: number,
): Promise<ProduceResponseData> {
  const codes = await broker.replicas.awaitCommitted(
    uncommitted.map((u) => u.outcome),
    timeoutMs,
  );
  uncommitted.forEach(({ out }, i) => {
    const code = codes[i]!;
    if (code === ErrorCode.NONE) return;
    out.errorCode = code;
    out.errorMessage = code === ErrorCode.REQUEST_TIMED_OUT ? `The high watermark did not reach the batch within the request timeout (${timeoutMs} ms).` : 'This server is no longer the leader of the partition.';
    out.baseOffset = -1n;
    out.logAppendTimeMs = -1n;
    out.logStartOffset = -1n;
  });
  return res;
}
