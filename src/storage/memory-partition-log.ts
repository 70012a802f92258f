// A partition log kept in memory (an array of batch buffers), for tests and an in-memory broker.
// Same offsets, dedup and read rules as PartitionLog; retention works batch by batch instead of
// segment by segment, and nothing survives the process.
import { readBatchHeader } from '../protocol/records/batch-header.js';
import { findRecordInBatch, firstRecordFrom, producerBatchOf, readTxnMarker, type RecordsDecompressor } from './batches.js';
import { systemClock, type Clock } from './clock.js';
import type { LogConfig } from './config.js';
import { LogClosedError, OffsetOutOfRangeError } from './errors.js';
import { LeaderEpochCache, type EpochEndOffset, type EpochEntry } from './leader-epoch-cache.js';
import { appendMarkerToLog, appendToLog, type AppendTarget } from './log-append.js';
import type { ReadBufferPool } from './read-buffer-pool.js';
import { noRelease, type AppendOptions, type AppendResult, type PartitionStore, type ReadResult, type TimestampAndOffset, type TxnMarkerAppendResult } from './partition-store.js';
import { ProducerStateManager, lastStableOffset, type CompletedTxn, type ProducerEntry, type TxnMarkerAppend } from './producer-state.js';
import { collectAbortedTxns, type AbortedTxn } from './txn-index.js';

interface StoredBatch {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** Our own copy: the caller's buffer is not retained. */
  bytes: Buffer;
}

export class MemoryPartitionLog implements PartitionStore {
  private batches: StoredBatch[] = [];
  private startOffset = 0;
  private endOffset = 0;
  private hw = 0;
  private bytes = 0;
  private closed = false;
  private cfg: LogConfig;
  private readonly producerState: ProducerStateManager;
  private readonly epochs: LeaderEpochCache;
  private readonly appendTarget: AppendTarget;
  /** Aborted transactions, in marker order (what the disk log keeps in .txnindex files). */
  private aborted: AbortedTxn[] = [];

  constructor(
    readonly topic: string,
    readonly partition: number,
    config: LogConfig,
    private readonly clock: Clock = systemClock,
    private readonly decompress?: RecordsDecompressor,
  ) {
    this.cfg = config;
    this.producerState = new ProducerStateManager(null, `${topic}-${partition}`);
    this.epochs = new LeaderEpochCache(null, this.where);
    const log = this;
    this.appendTarget = {
      where: this.where,
      producerState: this.producerState,
      epochCache: this.epochs,
      get config() {
        return log.cfg;
      },
      get logStartOffset() {
        return log.startOffset;
      },
      get logEndOffset() {
        return log.endOffset;
      },
      write: (records, plan) => {
        for (const b of plan.batches) {
          // Our own copy: the caller's buffer is not retained.
          const bytes = Buffer.from(records.subarray(b.positionInBuffer, b.positionInBuffer + b.sizeInBytes));
          this.batches.push({ baseOffset: b.baseOffset, lastOffset: b.lastOffset, maxTimestamp: b.maxTimestamp, bytes });
          this.bytes += b.sizeInBytes;
        }
        this.endOffset = plan.lastOffset + 1;
      },
      afterAppend: () => {}, // nothing to flush
      recordAbortedTxn: (completed) => this.recordAborted(completed),
    };
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
    return this.endOffset;
  }
  get highWatermark(): number {
    return this.hw;
  }
  set highWatermark(offset: number) {
    this.hw = Math.min(Math.max(offset, this.startOffset), this.endOffset);
  }
  get lastStableOffset(): number {
    return lastStableOffset(this.producerState.firstUnstableOffset, this.hw, this.startOffset);
  }
  get recoveryPointOffset(): number {
    return this.endOffset;
  }
  get sizeInBytes(): number {
    return this.bytes;
  }

  append(records: Buffer, opts: AppendOptions): AppendResult {
    this.ensureOpen();
    return appendToLog(this.appendTarget, records, opts, this.clock.nowMs());
  }

  assignLeaderEpoch(leaderEpoch: number): void {
    this.ensureOpen();
    if (leaderEpoch !== this.epochs.latestEpoch) this.epochs.assign(leaderEpoch, this.endOffset, false);
  }

  endOffsetForEpoch(requestedEpoch: number): EpochEndOffset {
    return this.epochs.endOffsetFor(requestedEpoch, this.endOffset);
  }

  leaderEpochEntries(): readonly Readonly<EpochEntry>[] {
    return this.epochs.entries();
  }

  appendTxnMarker(marker: TxnMarkerAppend, leaderEpoch: number): TxnMarkerAppendResult {
    this.ensureOpen();
    const completed = appendMarkerToLog(this.appendTarget, marker, leaderEpoch, this.clock.nowMs());
    return { offset: this.endOffset - 1, completedTxn: completed, logStartOffset: this.startOffset };
  }

  private recordAborted(completed: CompletedTxn): void {
    this.aborted.push({ producerId: completed.producerId, firstOffset: completed.firstOffset, lastOffset: completed.lastOffset, lastStableOffset: this.producerState.lastStableOffsetAfter(completed) });
  }

  activeProducers(): IterableIterator<Readonly<ProducerEntry>> {
    return this.producerState.allEntries();
  }

  abortedTransactions(fetchOffset: number, upperBoundOffset: number): AbortedTxn[] {
    const out: AbortedTxn[] = [];
    collectAbortedTxns(this.aborted, fetchOffset, upperBoundOffset, out);
    return out;
  }

  /** The pool is not used: records are always a fresh copy of the stored batches. */
  read(fetchOffset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean, _pool?: ReadBufferPool): ReadResult {
    this.ensureOpen();
    if (fetchOffset < this.startOffset || fetchOffset > this.endOffset) {
      throw new OffsetOutOfRangeError(`${this.where}: offset ${fetchOffset} outside [${this.startOffset}, ${this.endOffset}]`);
    }
    const result: ReadResult = {
      records: Buffer.alloc(0),
      firstBatchOffset: -1,
      logStartOffset: this.startOffset,
      logEndOffset: this.endOffset,
      highWatermark: this.hw,
      lastStableOffset: this.lastStableOffset,
      release: noRelease, // records are always a fresh copy here
    };
    const first = this.batchIndexFor(fetchOffset);
    if (first < 0) return result;
    const parts: Buffer[] = [];
    let size = 0;
    for (let i = first; i < this.batches.length; i++) {
      const b = this.batches[i]!;
      if (b.baseOffset >= maxOffset) break;
      if (size + b.bytes.length > maxBytes && !(parts.length === 0 && minOneMessage)) break;
      parts.push(b.bytes);
      size += b.bytes.length;
    }
    if (parts.length > 0) {
      result.records = Buffer.concat(parts, size);
      result.firstBatchOffset = this.batches[first]!.baseOffset;
    }
    return result;
  }

  offsetForTimestamp(timestampMs: number): TimestampAndOffset | null {
    for (const b of this.batches) {
      if (b.lastOffset < this.startOffset || b.maxTimestamp < timestampMs) continue;
      const found = findRecordInBatch(b.bytes, this.startOffset, (ts) => ts >= timestampMs, this.decompress);
      if (found !== null) return found;
    }
    return null;
  }

  firstRecordFrom(offset: number, maxOffset: number): TimestampAndOffset | null {
    this.ensureOpen();
    const from = Math.max(offset, this.startOffset);
    if (from >= Math.min(maxOffset, this.logEndOffset)) return null;
    return firstRecordFrom((o) => this.read(o, 1, maxOffset, true).records, from, maxOffset, this.decompress);
  }

  maxTimestampAndOffset(): TimestampAndOffset | null {
    let best: StoredBatch | null = null;
    for (const b of this.batches) if (best === null || b.maxTimestamp > best.maxTimestamp) best = b;
    if (best === null) return null;
    const maxTs = best.maxTimestamp;
    return findRecordInBatch(best.bytes, 0, (ts) => ts === maxTs, this.decompress) ?? { timestamp: maxTs, offset: best.lastOffset };
  }

  deleteRecordsBefore(offset: number): number {
    if (offset > this.hw) throw new OffsetOutOfRangeError(`${this.where}: cannot delete records before ${offset}, above the high watermark ${this.hw}`);
    if (offset > this.startOffset) {
      this.startOffset = offset;
      this.dropBatchesWhile((b) => b.lastOffset < this.startOffset);
      this.epochs.truncateFromStart(this.startOffset);
    }
    return this.startOffset;
  }

  truncateTo(offset: number): void {
    if (offset >= this.endOffset) return;
    while (this.batches.length > 0 && this.batches[this.batches.length - 1]!.lastOffset >= offset) {
      this.bytes -= this.batches.pop()!.bytes.length;
    }
    this.endOffset = this.batches.length > 0 ? this.batches[this.batches.length - 1]!.lastOffset + 1 : Math.min(offset, this.endOffset);
    if (this.startOffset > this.endOffset) this.startOffset = this.endOffset;
    this.hw = Math.min(this.hw, this.endOffset);
    this.aborted = this.aborted.filter((a) => a.lastOffset < this.endOffset);
    this.epochs.truncateFromEnd(this.endOffset);
    if (this.endOffset <= this.startOffset) this.epochs.clear(); // emptied, as truncateFullyAndStartAt on disk
    // Rebuild producer state from what is left: the memory log has no snapshots.
    this.producerState.reset(this.startOffset);
    for (const b of this.batches) {
      const batch = producerBatchOf(readBatchHeader(b.bytes, 0));
      this.producerState.replay(batch, b.baseOffset, b.lastOffset, b.maxTimestamp, batch.isControl ? readTxnMarker(b.bytes) : null);
    }
  }

  enforceRetention(nowMs: number): number {
    let deleted = 0;
    if (this.cfg.cleanupPolicy.includes('delete')) {
      if (this.cfg.retentionMs >= 0) deleted += this.dropBatchesWhile((b) => nowMs - b.maxTimestamp > this.cfg.retentionMs);
      if (this.cfg.retentionBytes >= 0) deleted += this.dropBatchesWhile((b) => this.bytes - b.bytes.length >= this.cfg.retentionBytes);
    }
    return deleted;
  }

  flushIfDue(_nowMs: number): boolean {
    return false;
  }
  flush(): void {}
  updateConfig(config: LogConfig): void {
    this.cfg = config;
  }
  close(): void {
    this.closed = true;
  }
  delete(): void {
    this.closed = true;
    this.batches = [];
    this.bytes = 0;
  }

  /** Drops the oldest batches while `predicate` holds; never the last one or any at/above the HW. */
  private dropBatchesWhile(predicate: (b: StoredBatch) => boolean): number {
    let n = 0;
    while (this.batches.length > 1 && this.batches[0]!.lastOffset < this.hw && predicate(this.batches[0]!)) {
      const b = this.batches.shift()!;
      this.bytes -= b.bytes.length;
      this.startOffset = Math.max(this.startOffset, b.lastOffset + 1);
      n++;
    }
    if (n > 0) {
      this.aborted = this.aborted.filter((a) => a.lastOffset >= this.startOffset);
      this.epochs.truncateFromStart(this.startOffset);
    }
    return n;
  }

  /** Index of the first batch whose last offset >= offset, or -1. */
  private batchIndexFor(offset: number): number {
    let lo = 0;
    let hi = this.batches.length - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.batches[mid]!.lastOffset >= offset) {
        found = mid;
        hi = mid - 1;
      } else {
        lo = mid + 1;
      }
    }
    return found;
  }

  private ensureOpen(): void {
    if (this.closed) throw new LogClosedError(`${this.where}: log is closed`);
  }
}
