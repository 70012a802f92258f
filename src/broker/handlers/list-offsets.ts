// ListOffsets (key 2), v0-11: offsets by timestamp, plus the special timestamps -1 (latest:
// the high watermark, or the last stable offset for read_committed), -2 (earliest), -3 (the
// record with the largest timestamp, v7+), -4 (earliest local, v8+), -5 (latest tiered, v9+)
// and -6 (earliest pending upload to tiered storage, v11+, KIP-1023). Without tiered storage
// -5 and -6 have no offset: offset and timestamp -1, no error. v10's TimeoutMs bounds a remote
// lookup, which never happens here. v0 (old clients) answers a list (OldStyleOffsets) instead of
// one offset: the offset v1 would answer, alone, when MaxNumOffsets allows one and there is one
// (Kafka's v0 also listed segment base offsets after it; clients read the first).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ListOffsetsRequest } from '../../protocol/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse, type ListOffsetsResponseListOffsetsPartitionResponse } from '../../protocol/messages/ListOffsetsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { StorageError } from '../../storage/errors.js';
import { leaderEpochError } from '../replica-manager.js';

const LATEST = -1n;
const EARLIEST = -2n;
const MAX_TIMESTAMP = -3n;
const EARLIEST_LOCAL = -4n;
const LATEST_TIERED = -5n;
const EARLIEST_PENDING_UPLOAD = -6n;

export function listOffsetsHandler(broker: BrokerContext) {
  return defineHandler({
    request: ListOffsetsRequest,
    response: ListOffsetsResponse,
    minVersion: 0,
    maxVersion: 11,
    handle(ctx, req) {
      const res = ListOffsetsResponse.defaults();
      const readCommitted = req.isolationLevel === 1;
      for (const t of req.topics) {
        const partitions: ListOffsetsResponseListOffsetsPartitionResponse[] = [];
        // ACLs (when an authorizer is configured): DESCRIBE on the topic.
        const describable = isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, t.name);
        for (const p of t.partitions) {
          const out = ListOffsetsResponse.newStruct('ListOffsetsPartitionResponse');
          out.partitionIndex = p.partitionIndex;
          partitions.push(out);
          if (!describable) {
            out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
            continue;
          }
          const hosted = broker.replicas.get(t.name, p.partitionIndex);
          if (hosted === undefined) {
            out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            continue;
          }
          out.errorCode = leaderEpochError(hosted, p.currentLeaderEpoch);
          if (out.errorCode !== ErrorCode.NONE) continue;
          const store = hosted.store;
          if (ctx.apiVersion >= 4) out.leaderEpoch = hosted.leaderEpoch;
          try {
            switch (p.timestamp) {
              case LATEST:
                out.offset = BigInt(readCommitted ? store.lastStableOffset : store.highWatermark);
                break;
              case EARLIEST:
              case EARLIEST_LOCAL:
                out.offset = BigInt(store.logStartOffset);
                break;
              case LATEST_TIERED:
              case EARLIEST_PENDING_UPLOAD:
                break;
              case MAX_TIMESTAMP: {
                const found = store.maxTimestampAndOffset();
                if (found !== null) {
                  out.offset = BigInt(found.offset);
                  out.timestamp = BigInt(found.timestamp);
                }
                break;
              }
              default: {
                if (p.timestamp < 0n) {
                  out.errorCode = ErrorCode.INVALID_REQUEST;
                  break;
                }
                const found = store.offsetForTimestamp(Number(p.timestamp));
                const limit = readCommitted ? store.lastStableOffset : store.highWatermark;
                if (found !== null && found.offset < limit) {
                  out.offset = BigInt(found.offset);
                  out.timestamp = BigInt(found.timestamp);
                }
              }
            }
          } catch (err) {
            // A store error is this partition's answer (e.g. a log closed under a shutdown).
            if (!(err instanceof StorageError)) throw err;
            out.errorCode = err.errorCode;
          }
          if (ctx.apiVersion === 0) {
            out.oldStyleOffsets = out.offset >= 0n && p.maxNumOffsets > 0 ? [out.offset] : [];
            // v0 has no single offset or timestamp: back to their defaults for the encoder.
            out.offset = -1n;
            out.timestamp = -1n;
          }
        }
        res.topics.push({ name: t.name, partitions });
      }
      return res;
    },
  });
}
