// Fetch (key 1), v0-18 for consumers: raw stored batches per partition, bounded by the high
// watermark (or the last stable offset for read_committed), by partition and request MaxBytes,
// with at least one whole batch from the first partition that has data (KIP-74). read_committed
// (isolation_level 1, v4+) also gets AbortedTransactions: the aborted transactions (producer id,
// first offset) overlapping the batches returned, from the segments' .txnindex files, as Kafka's
// collectAbortedTransactions; the client drops their records. Long polling:
// when fewer than MinBytes are available the request parks until appends bring enough or
// MaxWaitMs passes; no polling loop. Fetch sessions (KIP-227) are declined with session id 0,
// the documented opt-out, so every request is a full fetch. v18 adds a follower's high watermark
// (KIP-1166, tagged), which only brokers send; it is ignored here.
// v0-3 predate record batches: their clients get the stored batches converted down to message
// format v0 (Fetch v0-1) or v1 (v2-3), uncompressed, within the partition's limit
// (legacy-messages.ts), unless `log.message.downconversion.enable` is false (then
// UNSUPPORTED_VERSION per partition, as Kafka 3.x). This is the only fetch that builds bytes.
//
// Buffers: the records of each partition may sit in a pooled read buffer (ReplicaManager.read).
// Those put in the response are released after the response was handed to the kernel
// (ctx.afterResponseSent); those of a read that is not sent (the first read of a long poll
// that then waits) are released at once.
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { ErrorCode } from '../../protocol/errors.js';
import { FetchRequest, type FetchRequestData } from '../../protocol/messages/FetchRequest.js';
import { FetchResponse, type FetchResponseData, type FetchResponsePartitionData } from '../../protocol/messages/FetchResponse.js';
import { CorruptRecordError } from '../../protocol/records/errors.js';
import { downConvertBatches } from '../../protocol/records/legacy-messages.js';
import { defineHandler, type RequestContext } from '../../server/request-router.js';
import { isAllowed } from '../authorizer.js';
import type { BrokerContext } from '../broker-context.js';
import { MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE } from '../record-validation.js';
import { leaderEpochError, type HostedPartition } from '../replica-manager.js';

/** First Fetch version whose clients read record batches v2. */
const FIRST_BATCH_FETCH_VERSION = 4;

const READ_COMMITTED = 1;
const NO_RECORDS = Buffer.alloc(0);

interface ResolvedPartition {
  topicIndex: number;
  partition: number;
  hosted: HostedPartition | undefined;
  fetchOffset: number;
  maxBytes: number;
  errorCode: number;
}

export function fetchHandler(broker: BrokerContext) {
  return defineHandler({
    request: FetchRequest,
    response: FetchResponse,
    minVersion: 0,
    maxVersion: 18,
    async handle(ctx, req) {
      const useIds = ctx.apiVersion >= 13;
      if (req.sessionId !== 0 || req.sessionEpoch > 0) {
        // We never hand out sessions, so an incremental fetch refers to one we do not know.
        const res = FetchResponse.defaults();
        res.errorCode = ErrorCode.FETCH_SESSION_ID_NOT_FOUND;
        return res;
      }
      const resolved: ResolvedPartition[] = [];
      req.topics.forEach((t, topicIndex) => {
        const image = broker.metadata.image;
        const topic = useIds ? image.topicsById.get(t.topicId) : image.topicsByName.get(t.topic);
        const name = topic?.name ?? (useIds ? undefined : t.topic);
        // ACLs (when an authorizer is configured): READ on the topic.
        const readable = name === undefined || isAllowed(broker.authorizer, ctx.connection, AclOperation.READ, ResourceType.TOPIC, name);
        for (const p of t.partitions) {
          let errorCode: number = ErrorCode.NONE;
          let hosted: HostedPartition | undefined;
          if (!readable) {
            errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
          } else if (topic === undefined) {
            errorCode = useIds ? ErrorCode.UNKNOWN_TOPIC_ID : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          } else {
            hosted = broker.replicas.get(topic.name, p.partition);
            if (hosted === undefined) errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            else errorCode = leaderEpochError(hosted, p.currentLeaderEpoch);
          }
          resolved.push({ topicIndex, partition: p.partition, hosted, fetchOffset: Number(p.fetchOffset), maxBytes: p.partitionMaxBytes, errorCode });
        }
      });

      let res = readAll(broker, ctx, req, resolved);
      if (res.bytes < req.minBytes && req.maxWaitMs > 0 && !res.hasError) {
        // This response is dropped: nothing refers to its buffers once they are released.
        releaseAll(res.releases);
        const watched = resolved.map((r) => r.hosted).filter((h): h is HostedPartition => h !== undefined);
        await broker.replicas.waitForData(watched, req.minBytes - res.bytes, req.maxWaitMs, req.isolationLevel === READ_COMMITTED);
        res = readAll(broker, ctx, req, resolved);
      }
      for (const s of res.served) s.hosted.traffic.bytesOut += s.bytes;
      // No await between the read and this registration; the router runs these after the write.
      const releases = res.releases;
      if (releases.length > 0) ctx.afterResponseSent(() => releaseAll(releases));
      return res.response;
    },
  });
}

function releaseAll(releases: readonly (() => void)[]): void {
  for (const release of releases) release();
}

interface FetchRead {
  response: FetchResponseData;
  bytes: number;
  hasError: boolean;
  /** Give back the pooled buffers the response's records lie in. */
  releases: (() => void)[];
  /** Bytes each partition put in the response (counted as traffic only if it is sent). */
  served: { hosted: HostedPartition; bytes: number }[];
}

function readAll(broker: BrokerContext, ctx: RequestContext, req: FetchRequestData, resolved: ResolvedPartition[]): FetchRead {
  const res = FetchResponse.defaults();
  res.responses = req.topics.map((t) => ({ topic: t.topic, topicId: t.topicId, partitions: [] }));
  const readCommitted = req.isolationLevel === READ_COMMITTED;
  // v3+ has a response-wide limit; older versions only the per-partition one.
  let remaining = ctx.apiVersion >= 3 ? req.maxBytes : Number.MAX_SAFE_INTEGER;
  let bytes = 0;
  let hasError = false;
  const releases: (() => void)[] = [];
  const served: { hosted: HostedPartition; bytes: number }[] = [];
  for (const r of resolved) {
    const out: FetchResponsePartitionData = FetchResponse.newStruct('PartitionData');
    out.partitionIndex = r.partition;
    out.abortedTransactions = readCommitted ? [] : null;
    out.errorCode = r.errorCode;
    out.records = NO_RECORDS;
    out.highWatermark = -1n;
    out.lastStableOffset = -1n;
    out.logStartOffset = -1n;
    if (r.errorCode === ErrorCode.NONE && r.hosted !== undefined) {
      const store = r.hosted.store;
      const read = broker.replicas.read(r.hosted, r.fetchOffset, Math.min(r.maxBytes, remaining), readCommitted, bytes === 0);
      out.errorCode = read.errorCode;
      out.highWatermark = BigInt(store.highWatermark);
      out.lastStableOffset = BigInt(store.lastStableOffset);
      out.logStartOffset = BigInt(store.logStartOffset);
      if (read.abortedTransactions !== null && read.abortedTransactions.length > 0) {
        out.abortedTransactions = read.abortedTransactions.map((a) => ({ producerId: a.producerId, firstOffset: BigInt(a.firstOffset) }));
      }
      if (read.result !== null) releases.push(read.result.release);
      let records = read.result?.records ?? NO_RECORDS;
      if (ctx.apiVersion < FIRST_BATCH_FETCH_VERSION && records.length > 0 && out.errorCode === ErrorCode.NONE) {
        if (broker.config.bool('log.message.downconversion.enable')) {
          const limits = { maxMessages: Number.MAX_SAFE_INTEGER, maxUncompressedBytes: store.config.maxMessageBytes * MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE };
          try {
            records = downConvertBatches(records, ctx.apiVersion <= 1 ? 0 : 1, BigInt(r.fetchOffset), Math.min(r.maxBytes, remaining), limits);
          } catch (err) {
            if (!(err instanceof CorruptRecordError)) throw err;
            broker.log.warn({ partition: r.partition, fetchOffset: r.fetchOffset, error: err.message }, 'stored batch does not convert down for an old fetch');
            out.errorCode = ErrorCode.CORRUPT_MESSAGE;
            records = NO_RECORDS;
          }
        } else {
          out.errorCode = ErrorCode.UNSUPPORTED_VERSION;
          records = NO_RECORDS;
        }
      }
      if (records.length > 0) {
        served.push({ hosted: r.hosted, bytes: records.length });
        out.records = records;
        bytes += records.length;
        remaining = Math.max(0, remaining - records.length);
      }
    }
    if (out.errorCode !== ErrorCode.NONE) hasError = true;
    res.responses[r.topicIndex]!.partitions.push(out);
  }
  return { response: res, bytes, hasError, releases, served };
}
