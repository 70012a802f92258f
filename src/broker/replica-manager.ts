// The partitions this broker hosts: their logs, leader epochs and high watermarks, and the
// produce and fetch paths through them. Single-node for now: this broker leads every partition
// and is the whole ISR, so the high watermark follows the log end offset after each append.
//
// Produce: batches are validated by header and CRC, then their records are walked once (framing,
// offsets, the topic's record rules; no per-record objects), and appended as they arrived, with
// offsets patched by the log. Fetch reads raw byte ranges.
import type { Logger } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { CorruptRecordError, UnsupportedMagicError } from '../protocol/records/errors.js';
import { validateBatch } from '../protocol/records/record-batch.js';
import type { LogManager } from '../storage/log-manager.js';
import { MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE, validateBatchRecords } from './record-validation.js';
import type { RecordRules } from './topic-config.js';
import type { LogConfig } from '../storage/config.js';
import { OffsetOutOfRangeError, StorageError } from '../storage/errors.js';
import type { AppendResult, PartitionStore, ReadResult } from '../storage/partition-store.js';
import { ReadBufferPool } from '../storage/read-buffer-pool.js';

export interface HostedPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly store: PartitionStore;
  leaderEpoch: number;
  /** min.insync.replicas for acks=all. */
  minInsyncReplicas: number;
  isrSize: number;
  /** Record rules the topic's config asks for; null (the usual case): framing and offsets only. */
  recordRules: RecordRules | null;
}

export interface ProduceOutcome {
  errorCode: number;
  errorMessage: string | null;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  recordErrors: { batchIndex: number; message: string | null }[];
}

export interface PartitionRead {
  errorCode: number;
  result: ReadResult | null;
}

/** Woken when a partition it watches receives data. */
interface FetchWaiter {
  readonly partitions: readonly HostedPartition[];
  bytesSeen: number;
  readonly minBytes: number;
  wake(): void;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ReplicaManager {
  private readonly partitions = new Map<string, HostedPartition>();
  private readonly waiters = new Map<HostedPartition, Set<FetchWaiter>>();
  private pendingFetches = 0;
  /** Buffers for consumer reads, given back by the fetch path once a response is sent. */
  readonly readBuffers = new ReadBufferPool();

  constructor(
    private readonly logs: LogManager,
    private readonly log: Logger,
    /** Upper bound on parked fetch requests; past it, fetches are answered at once. */
    private readonly maxPendingFetches = 10_000,
  ) {}

  get(topic: string, partition: number): HostedPartition | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  /** Starts hosting a partition (creating its log if needed) as leader at `leaderEpoch`. */
  host(
    topic: string,
    topicId: string,
    partition: number,
    leaderEpoch: number,
    config: LogConfig,
    minInsyncReplicas: number,
    isrSize: number,
    recordRules: RecordRules | null,
  ): HostedPartition {
    const key = partitionKey(topic, partition);
    const existing = this.partitions.get(key);
    if (existing !== undefined) {
      existing.leaderEpoch = leaderEpoch;
      existing.minInsyncReplicas = minInsyncReplicas;
      existing.isrSize = isrSize;
      existing.recordRules = recordRules;
      return existing;
    }
    const store = this.logs.getOrCreate(topic, partition, config);
    store.highWatermark = store.logEndOffset;
    const hosted: HostedPartition = { topic, topicId, partition, store, leaderEpoch, minInsyncReplicas, isrSize, recordRules };
    this.partitions.set(key, hosted);
    return hosted;
  }

  /** Stops hosting and deletes the partition's data (topic deletion). */
  remove(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const hosted = this.partitions.get(key);
    if (hosted === undefined) return;
    this.partitions.delete(key);
    const waiters = this.waiters.get(hosted);
    this.waiters.delete(hosted);
    if (waiters !== undefined) for (const w of waiters) w.wake();
    this.logs.deletePartition(topic, partition);
  }

  updateConfig(topic: string, config: LogConfig, minInsyncReplicas: number): void {
    for (const p of this.partitions.values()) {
      if (p.topic !== topic) continue;
      p.minInsyncReplicas = minInsyncReplicas;
    }
    this.logs.updateConfig(topic, config);
  }

  /**
   * Appends the batches of one partition from a Produce request. `records` is the request's
   * buffer slice; it is patched in place and written as is.
   */
  append(topic: string, partition: number, records: Buffer | null, acks: number, requireSingleBatch: boolean): ProduceOutcome {
    const hosted = this.get(topic, partition);
    if (hosted === undefined) return produceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    if (records === null || records.length === 0) return produceError(ErrorCode.CORRUPT_MESSAGE, 'Produce request carries no record batch.');
    const maxBatchBytes = hosted.store.config.maxMessageBytes;
    const maxUncompressedBytes = maxBatchBytes * MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE;
    const where = `${topic}-${partition}`;
    const nowMs = Date.now();
    let pos = 0;
    let batches = 0;
    try {
      while (pos < records.length) {
        const header = validateBatch(records, pos);
        if (header.sizeInBytes > maxBatchBytes) {
          return produceError(
            ErrorCode.MESSAGE_TOO_LARGE,
            `The record batch of ${header.sizeInBytes} bytes is larger than max.message.bytes (${maxBatchBytes}) of ${where}.`,
          );
        }
        const failure = validateBatchRecords(records, pos, header, hosted.recordRules, nowMs, where, maxUncompressedBytes);
        if (failure !== null) return { ...produceError(failure.errorCode, failure.errorMessage), recordErrors: failure.recordErrors };
        pos += header.sizeInBytes;
        batches++;
      }
    } catch (err) {
      if (err instanceof UnsupportedMagicError) {
        return produceError(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `Record batches of magic ${err.magic} are not supported; use magic 2.`);
      }
      if (err instanceof CorruptRecordError) return produceError(ErrorCode.CORRUPT_MESSAGE, `${where}: ${err.message}`);
      throw err;
    }
    if (requireSingleBatch && batches !== 1) {
      return produceError(ErrorCode.INVALID_RECORD, `Produce requests of version 3 and later must contain exactly one record batch per partition, got ${batches}.`);
    }
    if (acks === -1 && hosted.isrSize < hosted.minInsyncReplicas) {
      return produceError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR ${hosted.isrSize} is insufficient to satisfy the min.isr requirement of ${hosted.minInsyncReplicas} for partition ${topic}-${partition}`,
      );
    }
    let result: AppendResult;
    try {
      result = hosted.store.append(records, { leaderEpoch: hosted.leaderEpoch, assignOffsets: true });
    } catch (err) {
      return produceError(storageErrorCode(err), (err as Error).message);
    }
    hosted.store.highWatermark = hosted.store.logEndOffset;
    if (!result.duplicate) this.notifyAppend(hosted, records.length);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      baseOffset: result.firstOffset,
      logAppendTimeMs: result.logAppendTimeMs,
      logStartOffset: result.logStartOffset,
      recordErrors: [],
    };
  }

  /**
   * Reads from one partition for a consumer. The records may sit in a pooled buffer: the caller
   * must call `result.release()` once nothing refers to them any more (after the response is
   * written), or drop them without releasing.
   */
  read(hosted: HostedPartition, fetchOffset: number, maxBytes: number, readCommitted: boolean, minOneMessage: boolean): PartitionRead {
    const store = hosted.store;
    const maxOffset = readCommitted ? store.lastStableOffset : store.highWatermark;
    try {
      return { errorCode: ErrorCode.NONE, result: store.read(fetchOffset, maxBytes, maxOffset, minOneMessage, this.readBuffers) };
    } catch (err) {
      if (err instanceof OffsetOutOfRangeError) return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, result: null };
      if (err instanceof StorageError) {
        this.log.error({ err, topic: hosted.topic, partition: hosted.partition }, 'read failed');
        return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, result: null };
      }
      throw err;
    }
  }

  /**
   * Resolves once `minBytes` bytes have been appended to any of `partitions` (counting from
   * now), or after `maxWaitMs`, or when `signal` aborts. Resolves at once when too many fetches
   * are already parked.
   */
  waitForData(partitions: readonly HostedPartition[], minBytes: number, maxWaitMs: number): Promise<void> {
    if (this.pendingFetches >= this.maxPendingFetches || partitions.length === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.pendingFetches++;
      let done = false;
      const waiter: FetchWaiter = {
        partitions,
        bytesSeen: 0,
        minBytes,
        wake: () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.pendingFetches--;
          for (const p of partitions) this.waiters.get(p)?.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, maxWaitMs);
      for (const p of partitions) {
        let set = this.waiters.get(p);
        if (set === undefined) this.waiters.set(p, (set = new Set()));
        set.add(waiter);
      }
    });
  }

  private notifyAppend(hosted: HostedPartition, bytes: number): void {
    const set = this.waiters.get(hosted);
    if (set === undefined || set.size === 0) return;
    for (const w of [...set]) {
      w.bytesSeen += bytes;
      if (w.bytesSeen >= w.minBytes) w.wake();
    }
  }

  /** Wakes every parked fetch (shutdown). */
  wakeAll(): void {
    for (const set of this.waiters.values()) for (const w of [...set]) w.wake();
  }

  allPartitions(): IterableIterator<HostedPartition> {
    return this.partitions.values();
  }
}

/**
 * The error for a request made against leader epoch `currentLeaderEpoch` (-1: no check):
 * an older epoch is fenced, a newer one is not known here yet (KIP-320).
 */
export function leaderEpochError(hosted: HostedPartition, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch >= 0 && currentLeaderEpoch < hosted.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (currentLeaderEpoch > hosted.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return ErrorCode.NONE;
}

function produceError(errorCode: number, errorMessage: string): ProduceOutcome {
  return { errorCode, errorMessage, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [] };
}

/** Kafka error code for an error thrown by the storage layer (each carries its own). */
export function storageErrorCode(err: unknown): number {
  if (err instanceof StorageError) return err.errorCode;
  throw err;
}
