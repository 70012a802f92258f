// The interface the broker uses for one partition's log, implemented on disk (PartitionLog) and
// in memory (MemoryPartitionLog, for tests and an in-memory broker).
import type { LogConfig } from './config.js';
import type { DeferredSync } from './deferred-sync.js';
import type { CompletedTxn, ProducerEntry, TxnMarkerAppend } from './producer-state.js';
import type { ReadBufferPool } from './read-buffer-pool.js';
import type { EpochEndOffset, EpochEntry } from './leader-epoch-cache.js';
import type { AbortedTxn } from './txn-index.js';

/** A leader append: offsets assigned here, `leaderEpoch` written into every batch. */
export interface LeaderAppendOptions {
  assignOffsets: true;
  /** Written into every batch's partitionLeaderEpoch; starts a leader-epoch cache entry when new. */
  leaderEpoch: number;
}

/**
 * A follower append: batches as the leader wrote them (offsets, partitionLeaderEpoch, timestamps,
 * control batches), written byte for byte. The first batch must start at or after the log end and
 * offsets must increase (FollowerAppendError otherwise, nothing written); each batch's epoch feeds
 * the leader-epoch cache, and producer state is replayed as the leader built it.
 */
export interface FollowerAppendOptions {
  assignOffsets: false;
}

export type AppendOptions = LeaderAppendOptions | FollowerAppendOptions;

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

export interface TxnMarkerAppendResult {
  /** Where the marker was written. */
  offset: number;
  /** The transaction it closed; null when the producer had none open on this partition. */
  completedTxn: CompletedTxn | null;
  logStartOffset: number;
}

export interface ReadResult {
  /**
   * Whole batches as stored; the caller owns the buffer until it calls release(). Empty when
   * there is nothing to return.
   */
  records: Buffer;
  /** Base offset of the first batch in `records`, -1 when empty. */
  firstBatchOffset: number;
  logStartOffset: number;
  logEndOffset: number;
  highWatermark: number;
  lastStableOffset: number;
  /**
   * Gives `records` back to the pool passed to read() (a no-op for reads without a pool or not
   * served from it). After it, neither `records` nor any slice of it may be used or still be
   * referenced by anything, e.g. a socket write in progress. Call at most once; never calling it
   * is safe (the buffer is garbage-collected).
   */
  release(): void;
}

/** release() of a ReadResult that holds no pooled buffer. */
export function noRelease(): void {}

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
  /** Set by the replica manager (appends never move it); kept <= logEndOffset. */
  highWatermark: number;
  /** min(first offset of the oldest open transaction, high watermark): what read_committed may see. */
  readonly lastStableOffset: number;
  /** Offset up to which the data is known to be on disk. */
  readonly recoveryPointOffset: number;
  readonly sizeInBytes: number;

  append(records: Buffer, opts: AppendOptions): AppendResult;
  /**
   * Records that `leaderEpoch` starts at the log end, as a new leader does before its first write
   * (Kafka's maybeAssignEpochStartOffset), so OffsetForLeaderEpoch knows it before any data.
   * No-op when it is the latest epoch; an older epoch is an invariant violation.
   */
  assignLeaderEpoch(leaderEpoch: number): void;
  /** OffsetForLeaderEpoch's answer from the leader-epoch cache (see LeaderEpochCache.endOffsetFor). */
  endOffsetForEpoch(requestedEpoch: number): EpochEndOffset;
  /** The leader-epoch cache's entries, oldest first. Read only. */
  leaderEpochEntries(): readonly Readonly<EpochEntry>[];
  /**
   * Appends a transaction marker (a control batch built here) at the log end and closes the
   * producer's open transaction. Throws InvalidProducerEpochError (an older producer epoch) or
   * TransactionCoordinatorFencedError (an older coordinator epoch) without writing anything.
   */
  appendTxnMarker(marker: TxnMarkerAppend, leaderEpoch: number): TxnMarkerAppendResult;
  /**
   * Whole batches from the one holding `fetchOffset`, at most `maxBytes` (or the first batch whole
   * when `minOneMessage`), none with base offset >= `maxOffset`. With `pool`, the bytes may be read
   * into a pool buffer that the caller gives back with ReadResult.release(); reads for the store's
   * own purposes (replays, lookups) pass no pool.
   */
  read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean, pool?: ReadBufferPool): ReadResult;
  /**
   * The aborted transactions a read_committed reader of [fetchOffset, upperBoundOffset) must
   * skip: those whose ABORT marker is at or after fetchOffset and whose first offset is below
   * upperBoundOffset, in marker order (Kafka's collectAbortedTransactions).
   */
  abortedTransactions(fetchOffset: number, upperBoundOffset: number): AbortedTxn[];
  /** The producers this partition keeps state for (DescribeProducers). Read only. */
  activeProducers(): IterableIterator<Readonly<ProducerEntry>>;
  /** First record with timestamp >= ts (and offset >= logStartOffset), or null. */
  offsetForTimestamp(timestampMs: number): TimestampAndOffset | null;
  /** The record with the largest timestamp (the first one if tied), or null for an empty log. */
  maxTimestampAndOffset(): TimestampAndOffset | null;
  /**
   * The first record at or after `offset` (raised to logStartOffset) below `maxOffset`, or null:
   * the oldest record a consumer at `offset` has not read (time lag). Reads a batch or a few.
   */
  firstRecordFrom(offset: number, maxOffset: number): TimestampAndOffset | null;
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
  /** `deferred`: a clean shutdown collects the fsyncs of every log and runs them together. */
  close(deferred?: DeferredSync): void;
  delete(): void;
}
