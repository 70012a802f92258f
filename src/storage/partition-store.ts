// The interface the broker uses for one partition's log, implemented on disk (PartitionLog) and
// in memory (MemoryPartitionLog, for tests and an in-memory broker).
import type { LogConfig } from './config.js';

export interface AppendOptions {
  /** Written into every batch's partitionLeaderEpoch. */
  leaderEpoch: number;
  /** Only leader appends (offsets assigned here) exist for now. */
  assignOffsets: true;
}

export interface AppendResult {
  firstOffset: number;
  lastOffset: number;
  /** The broker time written into the batches when the topic uses LogAppendTime, else -1. */
  logAppendTimeMs: number;
  logStartOffset: number;
  /** Largest batch maxTimestamp of the append. */
  maxTimestamp: number;
  /** True when the append was a retry of a batch already in the log: nothing was written and
   *  the offsets are those of the original. */
  duplicate: boolean;
}

export interface ReadResult {
  /** Whole batches as stored; the caller owns the buffer. Empty when there is nothing to return. */
  records: Buffer;
  /** Base offset of the first batch in `records`, -1 when empty. */
  firstBatchOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  lastStableOffset: number;
}

export interface TimestampAndOffset {
  timestamp: number;
  offset: number;
}

export interface PartitionStore {
  readonly topic: string;
  readonly partition: number;
  readonly config: LogConfig;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  /** Set by the broker; on a single node it follows logEndOffset after every append. */
  highWatermark: number;
  /** Hook for transactions: equals the high watermark until transactions exist. */
  readonly lastStableOffset: number;
  /** Offset up to which the data is known to be on disk. */
  readonly recoveryPointOffset: number;
  readonly sizeInBytes: number;

  append(records: Buffer, opts: AppendOptions): AppendResult;
  read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean): ReadResult;
  /** First record with timestamp >= ts (and offset >= logStartOffset), or null. */
  offsetForTimestamp(timestampMs: number): TimestampAndOffset | null;
  /** The record with the largest timestamp (the first one if tied), or null for an empty log. */
  maxTimestampAndOffset(): TimestampAndOffset | null;
  /** Moves logStartOffset up to `offset` (<= high watermark) and deletes whole segments below it. */
  deleteRecordsBefore(offset: number): number;
  /** Removes every offset >= `offset`. */
  truncateTo(offset: number): void;
  /** Deletes old segments per retention.ms / retention.bytes; returns how many. */
  enforceRetention(nowMs: number): number;
  /** fsync when flush.ms has passed since the last flush. */
  flushIfDue(nowMs: number): boolean;
  flush(): void;
  updateConfig(config: LogConfig): void;
  close(): void;
  delete(): void;
}
