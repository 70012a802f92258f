// The on-disk log of one partition: an ordered list of segments, the last one active.
//
// Offsets: logStartOffset <= (first segment's data) ... < logEndOffset; highWatermark and
// recoveryPointOffset are <= logEndOffset. Every method is synchronous: the broker calls it from
// its single event loop, so no other call interleaves between a check and the write it guards.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { findRecordInBatch, firstRecordFrom, producerBatchOf, readTxnMarker, type RecordsDecompressor } from './batches.js';
import { partitionKey, readOffsetCheckpoint, writeOffsetCheckpoint } from './checkpoint.js';
import { systemClock, type Clock } from './clock.js';
import type { LogConfig } from './config.js';
import { loggerFor } from '../logger.js';
import { LogClosedError, OffsetOutOfRangeError, StorageStartupError, asStorageError, invariant } from './errors.js';
import {
  CLEAN_SHUTDOWN_FILE,
  DELETED_SUFFIX,
  INDEX_SUFFIX,
  LEADER_EPOCH_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  LOG_SUFFIX,
  RECOVERY_POINT_CHECKPOINT_FILE,
  REPLICATION_CHECKPOINT_FILE,
  TIME_INDEX_SUFFIX,
  TMP_SUFFIX,
  TXN_INDEX_SUFFIX,
  offsetFromFileName,
  partitionDirName,
} from './files.js';
import type { DeferredSync } from './deferred-sync.js';
import { LeaderEpochCache, readLeaderEpochCheckpoint, type EpochEndOffset, type EpochEntry } from './leader-epoch-cache.js';
import { appendMarkerToLog, appendToLog, type AppendTarget } from './log-append.js';
import { LogSegment, type AppendedBatchInfo, type SegmentConfig } from './log-segment.js';
import { commitCleanedSegment, completeInterruptedSwap, type PendingSwap, type SwapHooks } from './segment-swap.js';
import { noRelease, type AppendOptions, type AppendResult, type PartitionStore, type ReadResult, type TimestampAndOffset, type TxnMarkerAppendResult } from './partition-store.js';
import type { ReadBufferPool } from './read-buffer-pool.js';
import { ProducerStateManager, lastStableOffset, type CompletedTxn, type ProducerEntry, type TxnMarkerAppend } from './producer-state.js';
import type { AbortedTxn } from './txn-index.js';
import { findValidBatch, looksLikeTornWrite, validateSegment, type RecoveryHooks } from './recovery.js';

export interface PartitionLogOptions {
  /** Offset below which data is known flushed. Default: the log dir's checkpoint file, else 0. */
  recoveryPointOffset?: number;
  /** Default: the log dir's checkpoint file, else the first segment's base offset. */
  logStartOffset?: number;
  /**
   * The high watermark last checkpointed (replication-offset-checkpoint); the log opens with
   * min(it, log end offset). Default: the log dir's checkpoint file, else the log end offset (a
   * single node acknowledged everything in its log; its replica manager raises the HW at once).
   */
  highWatermark?: number;
  /** Whether the log dir was shut down cleanly. Default: the marker file exists in the log dir. */
  hadCleanShutdown?: boolean;
  /** True when a LogManager owns the checkpoint files; a standalone log updates them at close. */
  managed?: boolean;
  recoveryHooks?: RecoveryHooks;
  /** Lets offsetForTimestamp look inside compressed batches (see findRecordInBatch). */
  decompress?: RecordsDecompressor;
  /**
   * For a log whose every batch was fsynced before it was acknowledged (the metadata log): only
   * the batch being written when the process died can be torn, so recovery cuts nothing but a
   * torn write above the recovery point after an unclean stop; any other damage refuses to open.
   */
  strictRecovery?: boolean;
}

/** A cut that recovery made, for the log line and for tests. */
export interface RecoveryTruncation {
  file: string;
  position: number;
  bytes: number;
  /** The first offset that is gone (the new log end offset). */
  firstOffset: number;
  /** The log end offset the checkpoint of a clean shutdown recorded, when there was one. */
  previousLogEndOffset: number | null;
  reason: string;
}

/** What open() did, for logs and tests. */
export interface LogLoadStats {
  recoveredSegments: number;
  validatedBatches: number;
  truncatedBytes: number;
  replayedProducerBatches: number;
  /** Why start-up after a clean shutdown did not trust the files and recovered; null when it did. */
  startupCheckFailure: string | null;
  truncations: RecoveryTruncation[];
}

export class PartitionLog implements PartitionStore {
  private segments: LogSegment[] = [];
  private startOffset: number;
  private hw = 0;
  private recoveryPoint: number;
  private unflushedMessages = 0;
  private lastFlushMs: number;
  private closed = false;
  /** The later steps of the last cleaner swap, when they have not run yet (segment-swap.ts). */
  private pendingSwap: PendingSwap | null = null;
  private cfg: LogConfig;
  private readonly segmentConfig: SegmentConfig;
  readonly producerState: ProducerStateManager;
  /** Loaded with the log (load()); the file is `leader-epoch-checkpoint` in the partition dir. */
  private epochs: LeaderEpochCache;
  private readonly appendTarget: AppendTarget;
  readonly loadStats: LogLoadStats = {
    recoveredSegments: 0,
    validatedBatches: 0,
    truncatedBytes: 0,
    replayedProducerBatches: 0,
    startupCheckFailure: null,
    truncations: [],
  };

  private constructor(
    readonly logDir: string,
    readonly dir: string,
    readonly topic: string,
    readonly partition: number,
    config: LogConfig,
    private readonly clock: Clock,
    private readonly options: PartitionLogOptions,
  ) {
    this.cfg = config;
    this.segmentConfig = { indexIntervalBytes: config.indexIntervalBytes, segmentIndexBytes: config.segmentIndexBytes };
    this.startOffset = 0;
    this.recoveryPoint = 0;
    this.lastFlushMs = clock.nowMs();
    this.producerState = new ProducerStateManager(dir, this.where);
    this.epochs = new LeaderEpochCache(path.join(dir, LEADER_EPOCH_CHECKPOINT_FILE), this.where);
    const log = this;
    this.appendTarget = {
      where: this.where,
      producerState: this.producerState,
      get config() {
        return log.cfg;
      },
      get logStartOffset() {
        return log.startOffset;
      },
      get logEndOffset() {
        return log.logEndOffset;
      },
      get epochCache() {
        return log.epochs;
      },
      write: (records, plan, nowMs) => this.writeAppend(records, plan.batches, plan.firstOffset, plan.lastOffset, plan.maxTimestamp, nowMs),
      afterAppend: (plan) => this.afterAppend(plan.lastOffset + 1 - plan.firstOffset, plan.lastOffset),
      recordAbortedTxn: (completed) => this.appendAbortedEntry(completed),
    };
  }

  /**
   * Opens (creating if needed) `<logDir>/<topic>-<partition>`. Without a clean shutdown, every
   * segment from the one holding the recovery point onward is validated and cut at the first bad
   * batch; later segments are then deleted. Producer state comes from the newest snapshot plus a
   * replay of the batch headers after it.
   */
  static open(logDir: string, topic: string, partition: number, config: LogConfig, clock: Clock = systemClock, options: PartitionLogOptions = {}): PartitionLog {
    const dir = path.join(logDir, partitionDirName(topic, partition));
    fs.mkdirSync(dir, { recursive: true });
    const log = new PartitionLog(logDir, dir, topic, partition, config, clock, options);
    log.load();
    return log;
  }

  get where(): string {
    return `${this.topic}-${this.partition}`;
  }

  get config(): LogConfig {
    return this.cfg;
  }

  get logStartOffset(): number {
    return this.startOffset;
  }

  get logEndOffset(): number {
    return this.activeSegment.nextOffset;
  }

  get highWatermark(): number {
    return this.hw;
  }

  set highWatermark(offset: number) {
    this.hw = Math.min(Math.max(offset, this.startOffset), this.logEndOffset);
  }

  /**
   * min(first offset of the oldest open transaction, high watermark), as Kafka's UnifiedLog; a
   * transaction whose start was deleted (retention, DeleteRecords) counts from the log start.
   */
  get lastStableOffset(): number {
    return lastStableOffset(this.producerState.firstUnstableOffset, this.hw, this.startOffset);
  }

  get recoveryPointOffset(): number {
    return this.recoveryPoint;
  }

  get sizeInBytes(): number {
    let total = 0;
    for (const s of this.segments) total += s.size;
    return total;
  }

  get segmentCount(): number {
    return this.segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.segments.map((s) => s.baseOffset);
  }

  private get activeSegment(): LogSegment {
    return this.segments[this.segments.length - 1]!;
  }

  // ---- append

  append(records: Buffer, opts: AppendOptions): AppendResult {
    this.ensureOpen();
    return appendToLog(this.appendTarget, records, opts, this.clock.nowMs());
  }

  assignLeaderEpoch(leaderEpoch: number): void {
    this.ensureOpen();
    if (leaderEpoch !== this.epochs.latestEpoch) this.epochs.assign(leaderEpoch, this.logEndOffset, false);
  }

  endOffsetForEpoch(requestedEpoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(requestedEpoch, this.logEndOffset);
  }

  leaderEpochEntries(): readonly Readonly<EpochEntry>[] {
    return this.epochs.entries();
  }

  appendTxnMarker(marker: TxnMarkerAppend, leaderEpoch: number): TxnMarkerAppendResult {
    this.ensureOpen();
    const completed = appendMarkerToLog(this.appendTarget, marker, leaderEpoch, this.clock.nowMs());
    return { offset: this.logEndOffset - 1, completedTxn: completed, logStartOffset: this.startOffset };
  }

  /**
   * The aborted-index entry of a marker just written, in the segment that holds it (after a roll,
   * the new one). A crash before this write is repaired by recovery's replay.
   */
  private appendAbortedEntry(completed: CompletedTxn): void {
    try {
      this.activeSegment.txnIndex.append(this.abortedEntry(completed));
    } catch (err) {
      throw asStorageError(err, `${this.where}: transaction index entry for the marker at offset ${completed.lastOffset}`);
    }
  }

  private abortedEntry(completed: CompletedTxn): AbortedTxn {
    return { producerId: completed.producerId, firstOffset: completed.firstOffset, lastOffset: completed.lastOffset, lastStableOffset: this.producerState.lastStableOffsetAfter(completed) };
  }

  activeProducers(): IterableIterator<Readonly<ProducerEntry>> {
    return this.producerState.allEntries();
  }

  abortedTransactions(fetchOffset: number, upperBoundOffset: number): AbortedTxn[] {
    this.ensureOpen();
    const out: AbortedTxn[] = [];
    for (let i = this.floorSegmentIndex(fetchOffset); i < this.segments.length; i++) {
      if (this.segments[i]!.txnIndex.collect(fetchOffset, upperBoundOffset, out)) break;
    }
    return out;
  }

  /** Writes patched batches at the log end, rolling first when due. */
  private writeAppend(records: Buffer, infos: readonly AppendedBatchInfo[], firstOffset: number, lastOffset: number, maxTimestamp: number, nowMs: number): void {
    try {
      this.maybeRoll(records.length, maxTimestamp, lastOffset, nowMs);
      this.activeSegment.append(records, infos);
    } catch (err) {
      // A failed system call (disk full, read-only file system, I/O error) is KAFKA_STORAGE_ERROR.
      throw asStorageError(err, `${this.where}: append at offset ${firstOffset}`);
    }
  }

  /** The flush policy (flush.messages) after `messages` more records up to `lastOffset`. */
  private afterAppend(messages: number, lastOffset: number): void {
    this.unflushedMessages += messages;
    if (this.unflushedMessages >= this.cfg.flushMessages) {
      try {
        this.flush();
      } catch (err) {
        throw asStorageError(err, `${this.where}: flush after offset ${lastOffset}`);
      }
    }
  }

  private maybeRoll(appendBytes: number, maxTimestamp: number, lastOffset: number, nowMs: number): void {
    const active = this.activeSegment;
    if (active.isEmpty()) return; // its base offset is the log end already; rolling would gain nothing
    const full = active.size > this.cfg.segmentBytes - appendBytes;
    // As Kafka: a compacted log rolls by max.compaction.lag.ms too, so no record stays dirty
    // (the active segment is never cleaned) longer than that.
    const rollMs = this.cfg.cleanupPolicy === 'delete' ? this.cfg.segmentMs : Math.min(this.cfg.segmentMs, this.cfg.maxCompactionLagMs);
    const old = active.timeWaitedForRollMs(nowMs, maxTimestamp) > rollMs;
    if (full || old || active.isIndexFull() || !active.canHoldOffset(lastOffset)) this.roll(nowMs);
  }

  /** Starts a new active segment at the log end. The old one is synced, so it is recovered. */
  roll(nowMs: number = this.clock.nowMs()): void {
    const old = this.activeSegment;
    const base = old.nextOffset;
    // The new files first: when they cannot be created (disk full, read-only) the old segment
    // stays active and the log is as it was.
    const segment = LogSegment.create(this.dir, base, this.segmentConfig, nowMs);
    old.flush();
    old.deactivate();
    segment.activate();
    this.segments.push(segment);
    this.recoveryPoint = base;
    this.unflushedMessages = 0;
    this.lastFlushMs = nowMs;
    this.producerState.takeSnapshot();
  }

  // ---- read

  read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean, pool?: ReadBufferPool): ReadResult {
    this.ensureOpen();
    const leo = this.logEndOffset;
    if (fetchOffset < this.startOffset || fetchOffset > leo) {
      throw new OffsetOutOfRangeError(`${this.where}: offset ${fetchOffset} outside [${this.startOffset}, ${leo}]`);
    }
    const result: ReadResult = {
      records: Buffer.alloc(0),
      firstBatchOffset: -1,
      logStartOffset: this.startOffset,
      logEndOffset: leo,
      highWatermark: this.hw,
      lastStableOffset: this.lastStableOffset,
      release: noRelease,
    };
    if (fetchOffset >= leo || fetchOffset >= maxOffset) return result;
    for (let i = this.floorSegmentIndex(fetchOffset); i < this.segments.length; i++) {
      const r = this.segments[i]!.read(fetchOffset, maxBytes, maxOffset, minOneMessage, pool);
      if (r === null) continue;
      if (r.records.length > 0) {
        result.records = r.records;
        result.firstBatchOffset = r.firstBatchOffset;
        const pooled = r.pooledBuffer;
        if (pool !== undefined && pooled !== null) {
          let released = false;
          // One-shot: a second call would hand the buffer to two owners.
          result.release = () => {
            if (released) return;
            released = true;
            pool.release(pooled);
          };
        }
      }
      break;
    }
    return result;
  }

  /**
   * The segment file that holds (or should hold) `offset` and the position of its batch, or of
   * the end of the readable batches before it when none holds it; for messages about damage.
   */
  locate(offset: number): { file: string; position: number | null } {
    const segment = this.segments[this.floorSegmentIndex(offset)]!;
    const loc = segment.translateOffset(offset);
    if (loc !== null && loc.baseOffset <= offset) return { file: segment.logPath, position: loc.position };
    const before = offset > segment.baseOffset ? segment.translateOffset(offset - 1) : null;
    return { file: segment.logPath, position: before !== null ? before.position + before.sizeInBytes : offset === segment.baseOffset ? 0 : null };
  }

  offsetForTimestamp(timestampMs: number): TimestampAndOffset | null {
    this.ensureOpen();
    for (const s of this.segments) {
      if (s.maxTimestamp < timestampMs || s.nextOffset <= this.startOffset) continue;
      const found = s.findBatchByTimestamp(timestampMs, this.startOffset);
      if (found === null) continue;
      const inBatch = findRecordInBatch(found.bytes, this.startOffset, (ts) => ts >= timestampMs, this.options.decompress);
      if (inBatch !== null) return inBatch;
    }
    return null;
  }

  firstRecordFrom(offset: number, maxOffset: number): TimestampAndOffset | null {
    this.ensureOpen();
    const from = Math.max(offset, this.startOffset);
    if (from >= Math.min(maxOffset, this.logEndOffset)) return null;
    return firstRecordFrom((o) => this.read(o, 1, maxOffset, true).records, from, maxOffset, this.options.decompress);
  }

  maxTimestampAndOffset(): TimestampAndOffset | null {
    this.ensureOpen();
    let best: LogSegment | null = null;
    for (const s of this.segments) if (s.maxTimestamp >= 0 && (best === null || s.maxTimestamp > best.maxTimestamp)) best = s;
    if (best === null) return null;
    const maxTs = best.maxTimestamp;
    const batch = best.readBatchContaining(best.offsetOfMaxTimestamp);
    if (batch !== null) {
      const found = findRecordInBatch(batch, 0, (ts) => ts === maxTs, this.options.decompress);
      if (found !== null) return found;
    }
    return { timestamp: maxTs, offset: best.offsetOfMaxTimestamp };
  }

  // ---- deletion, truncation, retention

  deleteRecordsBefore(offset: number): number {
    this.ensureOpen();
    if (offset > this.hw) throw new OffsetOutOfRangeError(`${this.where}: cannot delete records before ${offset}, above the high watermark ${this.hw}`);
    if (offset > this.startOffset) {
      this.startOffset = offset;
      this.deleteSegmentsWhile((_s, nextBase) => nextBase <= this.startOffset);
      if (this.recoveryPoint < this.startOffset) this.recoveryPoint = this.startOffset;
      this.epochs.truncateFromStart(this.startOffset);
    }
    return this.startOffset;
  }

  truncateTo(offset: number): void {
    this.ensureOpen();
    if (offset >= this.logEndOffset) return;
    this.settleSwap();
    if (offset <= this.segments[0]!.baseOffset || offset < this.startOffset) {
      this.truncateFullyAndStartAt(Math.max(offset, 0));
      return;
    }
    while (this.segments.length > 1 && this.activeSegment.baseOffset >= offset) {
      this.segments.pop()!.delete();
    }
    const active = this.activeSegment;
    active.truncateTo(offset);
    active.activate();
    this.afterTruncation();
  }

  /** Empties the log and restarts it at `offset`. */
  truncateFullyAndStartAt(offset: number): void {
    this.ensureOpen();
    this.settleSwap();
    for (const s of this.segments) s.delete();
    const segment = LogSegment.create(this.dir, offset, this.segmentConfig, this.clock.nowMs());
    segment.activate();
    this.segments = [segment];
    this.startOffset = offset;
    this.producerState.reset(offset);
    this.epochs.clear();
    this.afterTruncation();
  }

  private afterTruncation(): void {
    const leo = this.logEndOffset;
    this.hw = Math.min(this.hw, leo);
    this.recoveryPoint = Math.min(this.recoveryPoint, leo);
    this.epochs.truncateFromEnd(leo);
    this.rebuildProducerState();
  }

  enforceRetention(nowMs: number): number {
    this.ensureOpen();
    let deleted = 0;
    if (this.cfg.cleanupPolicy.includes('delete')) {
      const retentionMs = this.cfg.retentionMs;
      if (retentionMs >= 0) {
        // As Kafka does: when even the active segment has expired (and is fully acknowledged),
        // roll so that it can go too; otherwise expired records could outlive retention forever.
        const active = this.activeSegment;
        if (active.size > 0 && this.hw === this.logEndOffset && nowMs - active.largestTimestampForRetention() > retentionMs) this.roll(nowMs);
        deleted += this.deleteSegmentsWhile((s) => nowMs - s.largestTimestampForRetention() > retentionMs);
      }
      if (this.cfg.retentionBytes >= 0) {
        let excess = this.sizeInBytes - this.cfg.retentionBytes;
        deleted += this.deleteSegmentsWhile((s) => {
          if (excess - s.size < 0) return false;
          excess -= s.size;
          return true;
        });
      }
    }
    deleted += this.deleteSegmentsWhile((_s, nextBase) => nextBase <= this.startOffset);
    // Rides on the retention timer, as Kafka's producer expiration check does on its own timer.
    this.producerState.removeExpiredProducers(nowMs, this.cfg.producerIdExpirationMs);
    return deleted;
  }

  /**
   * Deletes the oldest segments while `shouldDelete` holds, never the active one and never one
   * holding offsets at or above the high watermark (not yet acknowledged to everyone).
   */
  private deleteSegmentsWhile(shouldDelete: (segment: LogSegment, nextBaseOffset: number) => boolean): number {
    let deleted = 0;
    while (this.segments.length > 1) {
      const oldest = this.segments[0]!;
      const nextBase = this.segments[1]!.baseOffset;
      if (nextBase > this.hw || !shouldDelete(oldest, nextBase)) break;
      if (deleted === 0) this.settleSwap();
      this.segments.shift();
      oldest.delete();
      deleted++;
      this.startOffset = Math.max(this.startOffset, this.segments[0]!.baseOffset);
    }
    if (deleted > 0) {
      this.producerState.deleteSnapshotsBefore(this.segments[0]!.baseOffset);
      if (this.recoveryPoint < this.startOffset) this.recoveryPoint = this.startOffset;
      this.epochs.truncateFromStart(this.startOffset);
    }
    return deleted;
  }

  // ---- for the log cleaner (log-cleaner.ts)

  /** The segments, oldest first; the last one is active. The caller must not change the array. */
  cleanerSegments(): readonly LogSegment[] {
    this.ensureOpen();
    return this.segments;
  }

  /** Index settings for the cleaner's new segments. */
  get cleanerSegmentConfig(): SegmentConfig {
    return this.segmentConfig;
  }

  /**
   * Replaces `old` (consecutive inactive segments, still in this log) with `cleaned` (written and
   * fsynced with the .cleaned suffix, same base offset as old[0], the swap manifest written),
   * crash-safely (segment-swap.ts). Returns false, touching nothing, when the log changed
   * meanwhile (retention or truncation removed one of `old`): the caller then deletes `cleaned`.
   * With `deferred`, only the commit (and the change of the segment list) happens here: the
   * later steps wait for finishSwap(), or for the next change of the segment list, which runs
   * them first.
   */
  replaceSegments(cleaned: LogSegment | null, old: readonly LogSegment[], hooks?: SwapHooks, deferred = false): boolean {
    this.ensureOpen();
    this.settleSwap();
    const first = this.segments.indexOf(old[0]!);
    if (first < 0 || old.some((s, i) => this.segments[first + i] !== s) || first + old.length >= this.segments.length) return false;
    if (cleaned === null) {
      // Nothing of `old` is the latest for its key: deleting them in any order, and a crash
      // between two deletions, leaves every key's latest value in place.
      invariant(first > 0, `${this.where}: the cleaner may not remove the first segment ${old[0]!.logPath}`);
      try {
        for (const s of old) void s.deleteLater();
      } catch (err) {
        throw asStorageError(err, `${this.where}: deleting segments the cleaner emptied`);
      }
      this.segments.splice(first, old.length);
      return true;
    }
    invariant(cleaned.baseOffset === old[0]!.baseOffset, `${this.where}: cleaned segment ${cleaned.logPath} does not start where ${old[0]!.logPath} does`);
    const endOffset = this.segments[first + old.length]!.baseOffset;
    let pending: PendingSwap;
    try {
      // `cleaned` holds the old segments' aborted transactions in its .txnindex (the cleaner
      // keeps markers, so they stay true of it; cleaner-work.ts writes it).
      pending = commitCleanedSegment(this.dir, cleaned, old, endOffset, hooks);
    } catch (err) {
      // A failed step leaves the files for recovery at the next start; this process stops using them.
      throw asStorageError(err, `${this.where}: swapping in the cleaned segment ${cleaned.logPath}`);
    }
    // No await since the check above: the list is as it was. The old segments' files stay until
    // the pending steps delete them; nothing reaches them through the list any more.
    this.segments.splice(first, old.length, cleaned);
    this.pendingSwap = pending;
    if (!deferred) this.settleSwap(true);
    return true;
  }

  /** The later steps of the last cleaner swap, their fsyncs off the event loop (no-op when none). */
  async finishSwap(): Promise<void> {
    const pending = this.pendingSwap;
    if (pending === null) return;
    try {
      await pending.finish();
    } catch (err) {
      throw asStorageError(err, `${this.where}: finishing the swap of a cleaned segment`);
    } finally {
      if (this.pendingSwap === pending) this.pendingSwap = null;
    }
  }

  /**
   * Runs the pending steps of a cleaner swap now: every change of the segment list (retention,
   * truncation, the next swap, close) comes after them. A failure leaves the files to recovery at
   * the next start; it is thrown only when `rethrow` (the swap's own call).
   */
  private settleSwap(rethrow = false): void {
    const pending = this.pendingSwap;
    if (pending === null) return;
    this.pendingSwap = null;
    try {
      pending.finishSync();
    } catch (err) {
      if (rethrow) throw asStorageError(err, `${this.where}: swapping in a cleaned segment`);
      loggerFor('storage').error({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'could not finish the swap of a cleaned segment; start-up will');
    }
  }

  // ---- flush, config, close

  flush(): void {
    this.ensureOpen();
    this.activeSegment.flush();
    this.recoveryPoint = this.logEndOffset;
    this.unflushedMessages = 0;
    this.lastFlushMs = this.clock.nowMs();
  }

  flushIfDue(nowMs: number): boolean {
    if (this.closed || this.unflushedMessages === 0 || nowMs - this.lastFlushMs < this.cfg.flushMs) return false;
    this.flush();
    return true;
  }

  updateConfig(config: LogConfig): void {
    this.cfg = config;
    this.segmentConfig.indexIntervalBytes = config.indexIntervalBytes;
    // segment.index.bytes applies to segments created from now on (the active index is preallocated).
    this.segmentConfig.segmentIndexBytes = config.segmentIndexBytes;
  }

  /** Flushes, snapshots producer state at the log end and closes files. */
  /**
   * Flushes and closes. With `deferred` (a clean shutdown of many logs), nothing waits on the disk
   * here: the fsyncs and the producer snapshot are handed to it, and the caller writes the
   * checkpoints (which take this log's recovery point, its end) only once they are done.
   */
  close(deferred?: DeferredSync): void {
    if (this.closed) return;
    this.settleSwap();
    if (deferred === undefined) this.flush();
    else {
      // Only a LogManager defers: it writes the checkpoints itself, after the fsyncs.
      invariant(this.options.managed === true, `${this.where}: a deferred close needs a LogManager to write the checkpoints after it`);
      this.ensureOpen();
      this.recoveryPoint = this.logEndOffset;
      this.unflushedMessages = 0;
    }
    this.producerState.takeSnapshot(deferred);
    for (const s of this.segments) s.close(deferred);
    this.closed = true;
    if (!this.options.managed) this.writeOwnCheckpoints();
  }

  /** Removes the partition directory and everything in it. */
  delete(): void {
    this.pendingSwap = null; // the directory goes with every file of the swap
    for (const s of this.segments) {
      try {
        s.close();
      } catch {
        /* deleting anyway */
      }
    }
    this.closed = true;
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  get isClosed(): boolean {
    return this.closed;
  }

  // ---- loading

  private load(): void {
    const swap = completeInterruptedSwap(this.dir);
    if (swap.action !== 'none') {
      loggerFor('storage').warn({ topic: this.topic, partition: this.partition, ...swap }, swap.action === 'completed' ? 'completed a log cleaner swap interrupted by a crash' : 'discarded the files of an unfinished log cleaning');
    }
    const names = fs.readdirSync(this.dir);
    const bases: number[] = [];
    const logFiles = new Set<number>();
    for (const name of names) {
      // Leftovers of an interrupted delete or atomic write.
      if (name.endsWith(DELETED_SUFFIX) || name.endsWith(TMP_SUFFIX)) {
        fs.rmSync(path.join(this.dir, name), { force: true });
        continue;
      }
      const base = offsetFromFileName(name, LOG_SUFFIX);
      if (base !== null) {
        bases.push(base);
        logFiles.add(base);
      }
    }
    for (const name of names) {
      // An index without its log file is an orphan of an interrupted segment delete.
      for (const suffix of [INDEX_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX]) {
        const base = offsetFromFileName(name, suffix);
        if (base !== null && !logFiles.has(base)) fs.rmSync(path.join(this.dir, name), { force: true });
      }
    }
    bases.sort((a, b) => a - b);
    const nowMs = this.clock.nowMs();
    const { recoveryPoint, logStartOffset, cleanShutdown, highWatermark } = this.initialOffsets();
    if (bases.length === 0) {
      const start = logStartOffset ?? 0;
      const segment = LogSegment.create(this.dir, start, this.segmentConfig, nowMs);
      this.segments = [segment];
    } else {
      this.segments = bases.map((b) => LogSegment.open(this.dir, b, this.segmentConfig, nowMs));
    }
    let recoverFrom: number | null = cleanShutdown ? null : recoveryPoint;
    if (cleanShutdown) {
      const problem = this.problemAfterCleanShutdown(recoveryPoint, logStartOffset);
      if (problem !== null) {
        // The marker says "all is well", the files say otherwise: believe the files.
        this.loadStats.startupCheckFailure = problem.reason;
        loggerFor('storage').warn({ topic: this.topic, partition: this.partition, problem: problem.reason }, 'log does not match its clean-shutdown checkpoint; recovering it');
        recoverFrom = problem.recoverFrom;
      }
    }
    if (recoverFrom !== null) this.recover(recoverFrom, cleanShutdown, recoveryPoint);
    this.activeSegment.activate();
    const leo = this.logEndOffset;
    this.startOffset = Math.min(Math.max(logStartOffset ?? 0, this.segments[0]!.baseOffset), leo);
    this.recoveryPoint = recoverFrom === null ? Math.min(recoveryPoint, leo) : leo;
    // Without a checkpointed HW, a single node's view: everything in the log was acknowledged.
    this.hw = highWatermark === undefined ? leo : Math.min(Math.max(highWatermark, this.startOffset), leo);
    this.loadLeaderEpochs();
    this.rebuildProducerState();
  }

  /**
   * The leader-epoch cache from its checkpoint, cut to the log as recovered: entries past the log
   * end (written before data a crash lost, or cut by recovery) and before the log start go. A
   * missing or damaged file is rebuilt from the batches' partitionLeaderEpoch (headers only):
   * the cache is derived data, so a bad file never stops start-up.
   */
  private loadLeaderEpochs(): void {
    const file = path.join(this.dir, LEADER_EPOCH_CHECKPOINT_FILE);
    const { entries, problem } = readLeaderEpochCheckpoint(file);
    if (entries !== null) {
      this.epochs = new LeaderEpochCache(file, this.where, entries);
      this.epochs.truncateFromEnd(this.logEndOffset);
      this.epochs.truncateFromStart(this.startOffset);
      return;
    }
    this.epochs = new LeaderEpochCache(file, this.where);
    if (this.logEndOffset === this.startOffset && problem === null) return; // a new, empty log
    if (problem !== null) loggerFor('storage').warn({ topic: this.topic, partition: this.partition, problem }, 'leader epoch checkpoint is damaged; rebuilding it from the log');
    const rebuilt = this.epochsFromBatches();
    this.epochs = new LeaderEpochCache(file, this.where, rebuilt);
    this.epochs.truncateFromStart(this.startOffset);
    try {
      this.epochs.persist();
    } catch (err) {
      // The cache in memory is right; the next change writes the file, or the next start rebuilds it.
      loggerFor('storage').warn({ topic: this.topic, partition: this.partition, err: (err as Error).message }, 'could not write the rebuilt leader epoch checkpoint');
    }
  }

  /** The (epoch, first offset) of every epoch change in the batches, oldest first. */
  private epochsFromBatches(): EpochEntry[] {
    const out: EpochEntry[] = [];
    for (const segment of this.segments) {
      for (const b of segment.scanBatches(0)) {
        const epoch = b.header.partitionLeaderEpoch;
        const last = out[out.length - 1];
        if (epoch < 0 || (last !== undefined && epoch <= last.epoch)) continue;
        out.push({ epoch, startOffset: Number(b.header.baseOffset) });
      }
    }
    return out;
  }

  private initialOffsets(): { recoveryPoint: number; logStartOffset: number | undefined; cleanShutdown: boolean; highWatermark: number | undefined } {
    const key = partitionKey(this.topic, this.partition);
    const recoveryPoint = this.options.recoveryPointOffset
      ?? readOffsetCheckpoint(path.join(this.logDir, RECOVERY_POINT_CHECKPOINT_FILE)).get(key)
      ?? 0;
    const logStartOffset = this.options.logStartOffset
      ?? readOffsetCheckpoint(path.join(this.logDir, LOG_START_OFFSET_CHECKPOINT_FILE)).get(key);
    const cleanShutdown = this.options.hadCleanShutdown ?? fs.existsSync(path.join(this.logDir, CLEAN_SHUTDOWN_FILE));
    // A LogManager read the file once for all its logs and passes the value (or none).
    const highWatermark = this.options.managed === true ? this.options.highWatermark : (this.options.highWatermark ?? readHighWatermarks(path.join(this.logDir, REPLICATION_CHECKPOINT_FILE)).get(key));
    return { recoveryPoint, logStartOffset, cleanShutdown, highWatermark };
  }

  /**
   * After a clean shutdown the recovery point is the log end offset at close. Checks what a few
   * small reads can (no segment is read whole, so start-up stays fast): no segment starts beyond
   * that offset, no older segment is empty, the active segment ends with a whole batch exactly
   * at that offset, and the last entries of its indexes match its batches. Returns what is wrong
   * and the offset recovery should start from, or null.
   */
  private problemAfterCleanShutdown(recoveryPoint: number, logStartOffset: number | undefined): { reason: string; recoverFrom: number } | null {
    for (let i = 0; i < this.segments.length; i++) {
      const s = this.segments[i]!;
      const last = i === this.segments.length - 1;
      if (s.baseOffset > recoveryPoint || (s.baseOffset === recoveryPoint && !s.isEmpty())) {
        return { reason: `segment ${s.logPath} (${s.size} bytes) starts at offset ${s.baseOffset}, at or past the log end offset ${recoveryPoint} recorded at shutdown`, recoverFrom: Math.min(recoveryPoint, s.baseOffset) };
      }
      // The first segment may be empty: the log cleaner keeps it when it removed every record of
      // it, so the log start offset stays where it was.
      if (!last && i > 0 && s.isEmpty()) return { reason: `segment ${s.logPath} is empty but is not the last one`, recoverFrom: s.baseOffset };
    }
    const active = this.activeSegment;
    const problem = active.consistencyProblem();
    if (problem !== null) return { reason: problem, recoverFrom: Math.min(recoveryPoint, active.baseOffset) };
    if (active.nextOffset !== recoveryPoint && !(active.isEmpty() && active.baseOffset === recoveryPoint)) {
      return {
        reason: `${active.logPath} (${active.size} bytes) ends at offset ${active.nextOffset - 1}, but the log end offset recorded at shutdown is ${recoveryPoint}`,
        recoverFrom: Math.min(recoveryPoint, active.baseOffset),
      };
    }
    if (logStartOffset !== undefined && logStartOffset > recoveryPoint) {
      return { reason: `the log start offset ${logStartOffset} is past the log end offset ${recoveryPoint} recorded at shutdown`, recoverFrom: Math.min(recoveryPoint, active.baseOffset) };
    }
    return null;
  }

  /**
   * Validates segments from the one holding `fromOffset`. At the first bad batch, the log is cut
   * there (with a WARN) only when nothing valid lies behind it: a torn tail. Damage with valid
   * batches behind it is not a crash's doing and cutting would delete readable data, so opening
   * fails instead, naming the file and position; so does any damage in a strict log (see
   * PartitionLogOptions.strictRecovery) that is not a torn write above the recovery point after
   * an unclean stop. Nothing is cut before the decision; indexes (derived data) are rebuilt.
   */
  private recover(fromOffset: number, cleanShutdown: boolean, recoveryPoint: number): void {
    const first = this.floorSegmentIndex(fromOffset);
    const hooks = this.options.recoveryHooks ?? {};
    for (let i = first; i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const result = validateSegment(segment, hooks);
      this.loadStats.recoveredSegments++;
      this.loadStats.validatedBatches += result.validBatches;
      if (result.reason !== null) {
        this.cutTornTail(i, result.validEnd, result.nextOffset, result.reason, cleanShutdown, recoveryPoint);
        hooks.onTruncated?.(segment.baseOffset, result.validEnd, result.reason);
      }
      segment.flush();
      if (i < this.segments.length - 1) segment.deactivate();
    }
    // A cut can leave empty segments at the end, and a stray file named after an offset past the
    // log's end is empty once cut: keep the first segment, drop empty ones after it.
    while (this.segments.length > 1 && this.activeSegment.isEmpty()) {
      const empty = this.segments.pop()!;
      empty.delete();
    }
  }

  /** Cuts segment `index` at `position` and drops every later segment, or refuses (see recover). */
  private cutTornTail(index: number, position: number, firstCutOffset: number, reason: string, cleanShutdown: boolean, recoveryPoint: number): void {
    const segment = this.segments[index]!;
    const where = `${segment.logPath}: the bytes at position ${position} (offset ${firstCutOffset} on) are not a valid record batch (${reason})`;
    let behind: string | null = null;
    const inSegment = findValidBatch(segment, position + 1, firstCutOffset);
    if (inSegment !== null) behind = `a valid batch follows at position ${inSegment}`;
    for (let j = index + 1; behind === null && j < this.segments.length; j++) {
      const later = this.segments[j]!;
      const at = later.isEmpty() ? null : findValidBatch(later, 0, firstCutOffset);
      if (at !== null) behind = `valid batches follow in ${later.logPath}`;
    }
    if (behind !== null) {
      throw new StorageStartupError(
        `${where}, but ${behind}. Refusing to start rather than delete data that may be readable: move ${this.dir} away, ` +
          `or cut ${segment.logPath} to ${position} bytes and remove the later segments to give up offset ${firstCutOffset} and everything after it.`,
        segment.logPath,
      );
    }
    if (this.options.strictRecovery === true) {
      const torn = !cleanShutdown && firstCutOffset >= recoveryPoint && looksLikeTornWrite(segment, position);
      if (!torn) {
        const why = cleanShutdown
          ? 'after a clean shutdown nothing in it can be torn'
          : firstCutOffset < recoveryPoint
            ? `it lies below the recovery point ${recoveryPoint}, in data that was flushed`
            : 'it does not look like a write cut short by a crash';
        throw new StorageStartupError(`${where}; ${why}. Refusing to start: this log must be read whole.`, segment.logPath);
      }
    }
    const bytes = segment.size - position;
    segment.truncateToPosition(position);
    segment.txnIndex.truncateTo(firstCutOffset);
    let laterBytes = 0;
    for (const later of this.segments.splice(index + 1)) {
      laterBytes += later.size;
      later.delete();
    }
    const truncation: RecoveryTruncation = {
      file: segment.logPath,
      position,
      bytes: bytes + laterBytes,
      firstOffset: firstCutOffset,
      previousLogEndOffset: cleanShutdown ? recoveryPoint : null,
      reason,
    };
    this.loadStats.truncatedBytes += truncation.bytes;
    this.loadStats.truncations.push(truncation);
    loggerFor('storage').warn(
      { topic: this.topic, partition: this.partition, ...truncation, lastOffsetCut: cleanShutdown && recoveryPoint > firstCutOffset ? recoveryPoint - 1 : null },
      'recovery truncated the log',
    );
  }

  /** Producer state = newest snapshot at or below the log end + replay of batches after it. */
  private rebuildProducerState(): void {
    const leo = this.logEndOffset;
    const from = this.producerState.loadLatestSnapshot(leo, this.startOffset);
    if (from >= leo) return;
    for (let i = this.floorSegmentIndex(from); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      const startPosition = i === this.floorSegmentIndex(from) ? segment.translateOffset(from)?.position ?? segment.size : 0;
      for (const b of segment.scanBatches(startPosition)) {
        if (b.lastOffset < from) continue;
        const producerBatch = producerBatchOf(b.header);
        // Markers are rare and small: only they are read beyond their header.
        const marker = producerBatch.isControl && producerBatch.producerId >= 0n ? readTxnMarker(segment.readAt(b.position, b.header.sizeInBytes)) : null;
        const completed = this.producerState.replay(producerBatch, Number(b.header.baseOffset), b.lastOffset, Number(b.header.maxTimestamp), marker);
        // The index entry an ABORT marker made, unless the file has it (a crash can lose the last ones).
        if (completed !== null && completed.aborted) segment.txnIndex.ensure(this.abortedEntry(completed));
        this.loadStats.replayedProducerBatches++;
      }
    }
  }

  private writeOwnCheckpoints(): void {
    const key = partitionKey(this.topic, this.partition);
    for (const [file, value] of [
      [RECOVERY_POINT_CHECKPOINT_FILE, this.recoveryPoint],
      [LOG_START_OFFSET_CHECKPOINT_FILE, this.startOffset],
      [REPLICATION_CHECKPOINT_FILE, this.hw],
    ] as const) {
      const p = path.join(this.logDir, file);
      const current = file === REPLICATION_CHECKPOINT_FILE ? readHighWatermarks(p) : readOffsetCheckpoint(p);
      current.set(key, value);
      writeOffsetCheckpoint(p, current);
    }
  }

  /** Index of the last segment whose base offset <= offset (0 if none). */
  private floorSegmentIndex(offset: number): number {
    let lo = 0;
    let hi = this.segments.length - 1;
    let found = 0;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.segments[mid]!.baseOffset <= offset) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  private ensureOpen(): void {
    if (this.closed) throw new LogClosedError(`${this.where}: log is closed`);
  }
}

/**
 * The high watermarks of a log dir's replication-offset-checkpoint. A damaged file is logged and
 * read as empty: each log then opens with its HW at its log end offset, and the replica manager
 * lowers or raises it from the replicas' positions; nothing in the log is lost.
 */
export function readHighWatermarks(file: string): Map<string, number> {
  try {
    return readOffsetCheckpoint(file);
  } catch (err) {
    loggerFor('storage').warn({ file, problem: (err as Error).message }, 'high watermark checkpoint is damaged; high watermarks start at the log end offsets');
    return new Map();
  }
}
