// One segment: a `.log` file that is a plain concatenation of v2 batches, plus its sparse offset
// and time indexes. The segment never decodes records; it only reads batch headers.
//
// Invariants: batches in the file have strictly increasing offsets, all >= baseOffset and with
// (offset - baseOffset) <= Int32.MAX; `size` is the file length we own (bytes past it are garbage
// from a failed write and get overwritten). Only the active (last) segment is appended to.
// All I/O is synchronous, so a check and the write that relies on it never straddle an await.
import * as fs from 'node:fs';
import {
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  LOG_OVERHEAD,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  type BatchHeader,
} from '../protocol/records/batch-header.js';
import { loggerFor } from '../logger.js';
import type { DeferredSync } from './deferred-sync.js';
import { KafkaStorageError, invariant } from './errors.js';
import { DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, TXN_INDEX_SUFFIX, segmentFilePath } from './files.js';
import { TransactionIndex } from './txn-index.js';
import { OffsetIndex } from './offset-index.js';
import type { ReadBufferPool } from './read-buffer-pool.js';
import { TimeIndex } from './time-index.js';

export interface SegmentConfig {
  indexIntervalBytes: number;
  segmentIndexBytes: number;
}

/** Where a batch sits in the file. */
export interface BatchLocation {
  position: number;
  baseOffset: number;
  lastOffset: number;
  sizeInBytes: number;
}

/** A batch header read from the file, with its position. */
export interface ScannedBatch {
  position: number;
  header: BatchHeader;
  lastOffset: number;
}

/** What the caller tells the segment about each batch inside an appended buffer. */
export interface AppendedBatchInfo {
  /** Position of the batch inside the appended buffer. */
  positionInBuffer: number;
  lastOffset: number;
  maxTimestamp: number;
}

export interface SegmentReadResult {
  records: Buffer;
  /** Base offset of the first batch returned (it may be below the requested offset). */
  firstBatchOffset: number;
  /** The pool buffer `records` lies in, which the caller must give back to the pool it passed
   *  once done with `records`; null when `records` is a plain allocation. */
  pooledBuffer: Buffer | null;
}

const SCAN_CHUNK_BYTES = 64 * 1024;

export class LogSegment {
  private fd: number | null = null;
  private sizeBytes: number;
  private bytesSinceLastIndexEntry = 0;
  private tailLoaded = false;
  private next: number;
  private maxTimestampSoFar = -1;
  private offsetOfMaxTimestampSoFar: number;
  private firstBatchTimestamp: number | null = null;
  private active = false;
  /** What loadTail found wrong in the file or its indexes, or null; see consistencyProblem(). */
  private tailProblem: string | null = null;
  /** The batch ending at the time index's last offset, when loadTail's scan passed it. */
  private timeEntryBatch: { lastOffset: number; maxTimestamp: number } | null = null;
  /** Indexes are rebuilt from the log at most once per process when found inconsistent. */
  private indexesRebuilt = false;
  /** '' for a live segment; '.cleaned' or '.swap' while the log cleaner builds its replacement. */
  private fileSuffix = '';
  /** Opened by the cleaner's worker to read batches only (see openForReading). */
  private readOnly = false;

  private constructor(
    readonly dir: string,
    readonly baseOffset: number,
    private readonly config: SegmentConfig,
    readonly offsetIndex: OffsetIndex,
    readonly timeIndex: TimeIndex,
    /** Aborted transactions whose ABORT marker is in this segment (txn-index.ts). */
    readonly txnIndex: TransactionIndex,
    sizeBytes: number,
    /** When the segment was created or loaded; segment.ms counts from here when it has no timestamp. */
    readonly createdMs: number,
  ) {
    this.sizeBytes = sizeBytes;
    this.next = baseOffset;
    this.offsetOfMaxTimestampSoFar = baseOffset;
  }

  /** A new, empty, active segment. An existing file with that name is emptied. */
  static create(dir: string, baseOffset: number, config: SegmentConfig, nowMs: number, fileSuffix = ''): LogSegment {
    // Empty index files exist from the start, as Kafka's do; they are preallocated on first write.
    for (const suffix of [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX]) fs.closeSync(fs.openSync(segmentFilePath(dir, baseOffset, suffix) + fileSuffix, 'w'));
    const segment = LogSegment.open(dir, baseOffset, config, nowMs, fileSuffix);
    // Created by its first entry, replacing any stale file of that name (no system call before).
    segment.txnIndex.startEmpty();
    segment.tailLoaded = true;
    return segment;
  }

  /** An existing segment; nothing is read until needed (fast start-up with many partitions). */
  static open(dir: string, baseOffset: number, config: SegmentConfig, nowMs: number, fileSuffix = ''): LogSegment {
    const logPath = segmentFilePath(dir, baseOffset, LOG_SUFFIX) + fileSuffix;
    const size = fs.statSync(logPath).size;
    const offsetIndex = new OffsetIndex(segmentFilePath(dir, baseOffset, INDEX_SUFFIX) + fileSuffix, baseOffset, config.segmentIndexBytes);
    const timeIndex = new TimeIndex(segmentFilePath(dir, baseOffset, TIME_INDEX_SUFFIX) + fileSuffix, baseOffset, config.segmentIndexBytes);
    const txnIndex = new TransactionIndex(segmentFilePath(dir, baseOffset, TXN_INDEX_SUFFIX) + fileSuffix);
    const segment = new LogSegment(dir, baseOffset, config, offsetIndex, timeIndex, txnIndex, size, nowMs);
    segment.fileSuffix = fileSuffix;
    return segment;
  }

  /**
   * A closed segment that another thread's log owns, for the log cleaner's worker to read batches
   * from (readWholeBatches): its descriptor is read-only, and nothing here ever writes, repairs or
   * deletes its files. Offsets and timestamps (nextOffset, maxTimestamp) are not for it: they
   * would load the tail, which may repair indexes.
   */
  static openForReading(dir: string, baseOffset: number, config: SegmentConfig, nowMs: number): LogSegment {
    const segment = LogSegment.open(dir, baseOffset, config, nowMs);
    segment.readOnly = true;
    segment.tailLoaded = true;
    return segment;
  }

  get logPath(): string {
    return segmentFilePath(this.dir, this.baseOffset, LOG_SUFFIX) + this.fileSuffix;
  }

  /**
   * Renames the segment's three files to carry `fileSuffix` ('' = live names). The log file is
   * renamed last when gaining a suffix and first when losing it: the log file's name is what
   * crash recovery of an interrupted cleaner swap goes by (see segment-swap.ts). The segment
   * must be inactive (no open log descriptor).
   */
  /**
   * Deletes a segment that is no longer in its log, as Kafka's asyncDelete: its files take the
   * `.deleted` suffix now (a rename: no blocks freed on the event loop), then go on the thread
   * pool. A `.deleted` file left by a crash is removed when the log opens next.
   */
  deleteLater(): Promise<void> {
    invariant(!this.readOnly, `segment ${this.logPath} was opened for reading only`);
    this.active = false;
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    const renamed: string[] = [];
    for (const file of [this.logPath, this.offsetIndex.path, this.timeIndex.path, this.txnIndex.path]) {
      try {
        fs.renameSync(file, file + DELETED_SUFFIX);
        renamed.push(file + DELETED_SUFFIX);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      }
    }
    return Promise.all(renamed.map((f) => fs.promises.rm(f, { force: true }))).then(
      () => undefined,
      () => undefined, // left for the next open
    );
  }

  /** Closes the log file's descriptor of an inactive segment (a read reopens it). */
  releaseDescriptor(): void {
    if (this.active || this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
  }

  renameFiles(fileSuffix: string, betweenLogAndIndexes?: () => void): void {
    invariant(!this.active && this.fd === null, `segment ${this.logPath} must be inactive to be renamed`);
    const target = (suffix: string) => segmentFilePath(this.dir, this.baseOffset, suffix) + fileSuffix;
    const renameLog = () => fs.renameSync(this.logPath, target(LOG_SUFFIX));
    if (fileSuffix === '') {
      renameLog();
      betweenLogAndIndexes?.();
    }
    this.offsetIndex.renameTo(target(INDEX_SUFFIX));
    this.timeIndex.renameTo(target(TIME_INDEX_SUFFIX));
    this.txnIndex.renameTo(target(TXN_INDEX_SUFFIX));
    if (fileSuffix !== '') renameLog();
    this.fileSuffix = fileSuffix;
  }

  /** Bytes of batches in the file. */
  get size(): number {
    return this.sizeBytes;
  }

  /** One past the last offset in this segment (baseOffset when empty). */
  get nextOffset(): number {
    this.loadTail();
    return this.next;
  }

  /** Largest batch maxTimestamp in the segment, -1 if none. */
  get maxTimestamp(): number {
    this.loadTail();
    return this.maxTimestampSoFar;
  }

  /** Last offset of the (first) batch holding maxTimestamp. */
  get offsetOfMaxTimestamp(): number {
    this.loadTail();
    return this.offsetOfMaxTimestampSoFar;
  }

  /** For time retention: the largest timestamp, or the file's mtime when no batch has one. */
  largestTimestampForRetention(): number {
    const ts = this.maxTimestamp;
    return ts >= 0 ? ts : fs.statSync(this.logPath).mtimeMs;
  }

  /**
   * For segment.ms, as Kafka: how long this segment has been "open", measured in record time
   * (incoming max timestamp minus the first batch's) when batches carry timestamps, so replayed
   * old data does not roll on every append; otherwise wall time since the segment was created.
   */
  timeWaitedForRollMs(nowMs: number, incomingMaxTimestamp: number): number {
    const first = this.firstTimestamp();
    return first >= 0 ? incomingMaxTimestamp - first : nowMs - this.createdMs;
  }

  /** The first batch's maxTimestamp (Kafka's getFirstBatchTimestamp), -1 when empty or without one. */
  firstTimestamp(): number {
    if (this.sizeBytes > 0 && this.firstBatchTimestamp === null) {
      const first = this.readHeaderAt(0);
      this.firstBatchTimestamp = first === null ? -1 : Number(first.maxTimestamp);
    }
    return this.firstBatchTimestamp ?? -1;
  }

  isEmpty(): boolean {
    return this.sizeBytes === 0;
  }

  /** Would `lastOffset` still fit as an int32 relative offset in this segment's indexes? */
  canHoldOffset(lastOffset: number): boolean {
    return lastOffset - this.baseOffset <= 0x7fffffff;
  }

  isIndexFull(): boolean {
    return this.offsetIndex.isFull() || this.timeIndex.isFull();
  }

  // ---- writing (active segment only)

  /** Makes this the active segment: indexes open for append (preallocated). */
  activate(): void {
    invariant(!this.readOnly, `segment ${this.logPath} was opened for reading only`);
    this.loadTail();
    this.offsetIndex.openForAppend();
    this.timeIndex.openForAppend();
    this.active = true;
  }

  /**
   * Appends a buffer of whole batches (offsets already assigned) at the end of the file and
   * indexes them. The buffer is written as-is; the caller keeps ownership.
   */
  append(records: Buffer, batches: readonly AppendedBatchInfo[]): void {
    if (!this.active) throw new Error(`segment ${this.logPath} is not active`);
    this.loadTail();
    const start = this.sizeBytes;
    const fd = this.descriptor();
    try {
      let written = 0;
      while (written < records.length) {
        written += fs.writeSync(fd, records, written, records.length - written, start + written);
      }
    } catch (err) {
      // Leave no half batch behind: the file ends where our last whole batch ended.
      try {
        fs.ftruncateSync(fd, start);
      } catch {
        /* the disk is failing; recovery truncates at restart */
      }
      throw new KafkaStorageError(`write to ${this.logPath} at ${start} failed: ${(err as Error).message}`, (err as NodeJS.ErrnoException).code ?? null);
    }
    for (let i = 0; i < batches.length; i++) {
      const b = batches[i]!;
      const batchSize = (i + 1 < batches.length ? batches[i + 1]!.positionInBuffer : records.length) - b.positionInBuffer;
      this.indexBatch(start + b.positionInBuffer, b.lastOffset, b.maxTimestamp, batchSize);
    }
    this.sizeBytes = start + records.length;
  }

  /** Index bookkeeping for one batch at `position`; shared by append and rebuild. */
  indexBatch(position: number, lastOffset: number, maxTimestamp: number, sizeInBytes: number): void {
    if (this.firstBatchTimestamp === null && position === 0) this.firstBatchTimestamp = maxTimestamp;
    if (maxTimestamp > this.maxTimestampSoFar) {
      this.maxTimestampSoFar = maxTimestamp;
      this.offsetOfMaxTimestampSoFar = lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > this.config.indexIntervalBytes) {
      this.offsetIndex.append(lastOffset, position);
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += sizeInBytes;
    this.next = lastOffset + 1;
  }

  /** Clears the indexes and in-memory state before recovery re-indexes the file from the start. */
  resetForRebuild(): void {
    this.offsetIndex.reset();
    this.timeIndex.reset();
    this.bytesSinceLastIndexEntry = 0;
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.firstBatchTimestamp = null;
    this.next = this.baseOffset;
    this.tailLoaded = true;
    this.timeEntryBatch = null;
  }

  /** Cuts the file at `position` (a batch boundary). Indexes must already be consistent. */
  truncateToPosition(position: number): number {
    const removed = this.sizeBytes - position;
    fs.ftruncateSync(this.descriptor(), position);
    this.sizeBytes = position;
    return removed;
  }

  /**
   * Removes every batch whose last offset is >= offset (a batch holding `offset` goes entirely).
   * Returns the bytes removed.
   */
  truncateTo(offset: number): number {
    const loc = this.translateOffset(offset);
    if (loc === null) return 0;
    this.offsetIndex.truncateTo(offset);
    this.timeIndex.truncateTo(offset);
    this.txnIndex.truncateTo(offset);
    const removed = this.truncateToPosition(loc.position);
    // Recompute the in-memory tail from what remains (cheap: scan from the last index entry). The
    // running max goes too: loadTail starts it from the time index's last entry, and when the cut
    // removed every entry (a closed segment often has only its final one, written at roll), a
    // stale max would point past the new end and be written back as the final entry at the next roll.
    this.maxTimestampSoFar = -1;
    this.offsetOfMaxTimestampSoFar = this.baseOffset;
    this.tailLoaded = false;
    this.firstBatchTimestamp = null;
    this.loadTail();
    return removed;
  }

  /**
   * No more appends: final time index entry, indexes trimmed to size and synced, and the log
   * descriptor released (a read reopens it), so old segments do not pin descriptors.
   */
  /** The segment stops taking appends: indexes trimmed, files fsynced (by `deferred` when given), descriptors closed. */
  deactivate(deferred?: DeferredSync): void {
    if (!this.active) return;
    this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp, true);
    this.offsetIndex.closeForAppend(deferred);
    this.timeIndex.closeForAppend(deferred);
    this.txnIndex.flush(deferred);
    this.active = false;
    if (this.fd !== null) {
      if (deferred !== undefined) deferred.fsyncAndClose(this.fd, this.logPath);
      else {
        fs.fsyncSync(this.fd);
        fs.closeSync(this.fd);
      }
      this.fd = null;
    }
  }

  flush(): void {
    if (this.fd !== null) fs.fsyncSync(this.fd);
    this.offsetIndex.flush();
    this.timeIndex.flush();
    this.txnIndex.flush();
  }

  close(deferred?: DeferredSync): void {
    this.deactivate(deferred);
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
  }

  delete(): void {
    invariant(!this.readOnly, `segment ${this.logPath} was opened for reading only`);
    this.active = false;
    if (this.fd !== null) {
      fs.closeSync(this.fd);
      this.fd = null;
    }
    this.offsetIndex.delete();
    this.timeIndex.delete();
    this.txnIndex.delete();
    fs.rmSync(this.logPath, { force: true });
  }

  // ---- reading

  /** Reads `length` bytes at `position` (one pread). The returned buffer belongs to the caller. */
  readAt(position: number, length: number): Buffer {
    const len = Math.max(0, Math.min(length, this.sizeBytes - position));
    return this.readInto(Buffer.allocUnsafe(len), position, len);
  }

  /** Reads up to `len` bytes at `position` into the start of `buf`; returns the part read. */
  private readInto(buf: Buffer, position: number, len: number): Buffer {
    let done = 0;
    while (done < len) {
      const n = fs.readSync(this.descriptor(), buf, done, len - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done === len && buf.length === len ? buf : buf.subarray(0, done);
  }

  /**
   * Walks batch headers from `fromPosition` to the end of the file in 64 KiB reads. Stops at the
   * first header that is not whole, claims more bytes than the file has, is not magic 2 or does
   * not follow the previous batch's offsets (recovery judges those; CRCs are not checked here).
   */
  scanBatches(fromPosition = 0, endPosition = this.sizeBytes): Generator<ScannedBatch> {
    return this.walkBatches(fromPosition, endPosition, SCAN_CHUNK_BYTES, false);
  }

  /**
   * The same walk from the start, with every batch read whole (`chunkBytes` per read, one read of
   * its own for a larger batch): `bytes` is a view of a read buffer that the next step replaces,
   * so copy what must outlive the step.
   */
  readWholeBatches(chunkBytes: number): Generator<ScannedBatch & { bytes: Buffer }> {
    return this.walkBatches(0, this.sizeBytes, Math.max(RECORD_BATCH_OVERHEAD, chunkBytes), true) as Generator<ScannedBatch & { bytes: Buffer }>;
  }

  private *walkBatches(fromPosition: number, endPosition: number, chunkBytes: number, whole: boolean): Generator<ScannedBatch & { bytes: Buffer | null }> {
    let chunk: Buffer = Buffer.alloc(0);
    let chunkStart = fromPosition;
    let pos = fromPosition;
    let previousLastOffset = this.baseOffset - 1;
    while (pos + RECORD_BATCH_OVERHEAD <= endPosition) {
      if (pos + RECORD_BATCH_OVERHEAD > chunkStart + chunk.length) {
        chunkStart = pos;
        chunk = this.readAt(pos, Math.min(chunkBytes, endPosition - pos));
        if (chunk.length < RECORD_BATCH_OVERHEAD) return;
      }
      const header = readBatchHeader(chunk, pos - chunkStart);
      if (header.sizeInBytes < RECORD_BATCH_OVERHEAD || pos + header.sizeInBytes > endPosition || header.magic !== 2) return;
      const lastOffset = Number(header.baseOffset) + header.lastOffsetDelta;
      if (Number(header.baseOffset) <= previousLastOffset || header.lastOffsetDelta < 0) return;
      let bytes: Buffer | null = null;
      if (whole) {
        if (pos + header.sizeInBytes > chunkStart + chunk.length) {
          chunkStart = pos;
          chunk = this.readAt(pos, Math.min(Math.max(chunkBytes, header.sizeInBytes), endPosition - pos));
          if (chunk.length < header.sizeInBytes) return;
        }
        bytes = chunk.subarray(pos - chunkStart, pos - chunkStart + header.sizeInBytes);
      }
      yield { position: pos, header, lastOffset, bytes };
      previousLastOffset = lastOffset;
      pos += header.sizeInBytes;
    }
  }

  /** The first batch whose last offset is >= offset, found by index lookup then a header scan. */
  translateOffset(offset: number, startingPosition = 0): BatchLocation | null {
    const entry = this.offsetIndex.lookup(offset);
    const from = Math.max(entry.position, startingPosition);
    let first = true;
    for (const b of this.scanBatches(from)) {
      // An index entry names the last offset of the batch that starts at its position; one that
      // does not is damaged (or stale): rebuild the indexes from the log and look again.
      if (first && from === entry.position && entry.position > 0 && b.lastOffset !== entry.offset) return this.retryWithRebuiltIndexes(offset, startingPosition, entry);
      first = false;
      if (b.lastOffset >= offset) {
        return { position: b.position, baseOffset: Number(b.header.baseOffset), lastOffset: b.lastOffset, sizeInBytes: b.header.sizeInBytes };
      }
    }
    if (first && from === entry.position && entry.position > 0) return this.retryWithRebuiltIndexes(offset, startingPosition, entry);
    return null;
  }

  private retryWithRebuiltIndexes(offset: number, startingPosition: number, entry: { offset: number; position: number }): BatchLocation | null {
    if (this.indexesRebuilt) return null;
    this.rebuildIndexes(`the entry (offset ${entry.offset}, position ${entry.position}) of ${this.offsetIndex.path} does not point at the batch ending at that offset`);
    return this.translateOffset(offset, startingPosition);
  }

  /**
   * Rebuilds both indexes from the batch headers in the log (no CRC checks: the data itself is
   * not in question, only its indexes). The indexes are derived data; nothing is lost.
   */
  rebuildIndexes(why: string): void {
    this.indexesRebuilt = true;
    loggerFor('storage').warn({ segment: this.logPath, reason: why }, 'rebuilding the indexes of a segment from its log');
    const wasActive = this.active;
    this.resetForRebuild();
    this.offsetIndex.openForAppend();
    this.timeIndex.openForAppend();
    let end = 0;
    for (const b of this.scanBatches(0)) {
      this.indexBatch(b.position, b.lastOffset, Number(b.header.maxTimestamp), b.header.sizeInBytes);
      end = b.position + b.header.sizeInBytes;
    }
    this.tailProblem = end === this.sizeBytes ? null : this.trailingBytesProblem(end);
    if (!wasActive) {
      this.timeIndex.maybeAppend(this.maxTimestampSoFar, this.offsetOfMaxTimestampSoFar, true);
      this.offsetIndex.closeForAppend();
      this.timeIndex.closeForAppend();
    }
  }

  /**
   * What is wrong with the end of the file or with the last entries of its indexes, as far as a
   * few small reads can tell (start-up after a clean shutdown trusts the files otherwise): the
   * last offset index entry must name the batch at its position, the batches after it must end
   * exactly at the end of the file, and the last time index entry must match the batch it names.
   * Null when nothing is wrong.
   */
  consistencyProblem(): string | null {
    this.loadTail(false);
    if (this.tailProblem !== null) return this.tailProblem;
    return this.timeIndexProblem();
  }

  /**
   * Whole batches starting with the one that holds `startOffset`, at most `maxBytes` (or the first
   * batch whole when `minOneMessage`), none with base offset >= `maxOffset`. Null when this segment
   * has nothing at or after `startOffset`. One pread for the data, into a buffer from `pool` when
   * given (see SegmentReadResult.pooledBuffer), else into a fresh one.
   */
  read(startOffset: number, maxBytes: number, maxOffset: number, minOneMessage: boolean, pool?: ReadBufferPool): SegmentReadResult | null {
    const first = this.translateOffset(startOffset);
    if (first === null) return null;
    const empty = { records: Buffer.alloc(0), firstBatchOffset: first.baseOffset, pooledBuffer: null };
    if (first.baseOffset >= maxOffset) return empty;
    const limit = minOneMessage ? Math.max(maxBytes, first.sizeInBytes) : maxBytes;
    if (limit < first.sizeInBytes) return empty;
    const len = Math.max(0, Math.min(limit, this.sizeBytes - first.position));
    let pooledBuffer: Buffer | null = null;
    let data: Buffer;
    if (pool === undefined) {
      data = this.readAt(first.position, len);
    } else {
      const buf = pool.acquire(len);
      if (pool.isPooled(buf)) pooledBuffer = buf;
      try {
        data = this.readInto(buf, first.position, len);
      } catch (err) {
        if (pooledBuffer !== null) pool.release(pooledBuffer);
        throw err;
      }
    }
    let end = 0;
    while (end + LOG_OVERHEAD <= data.length) {
      const base = Number(data.readBigInt64BE(end + BASE_OFFSET_OFFSET));
      if (base >= maxOffset) break;
      const size = data.readInt32BE(end + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
      if (end + size > data.length) break;
      end += size;
    }
    if (end === 0 && pooledBuffer !== null) {
      pool!.release(pooledBuffer); // nothing to hand out
      return empty;
    }
    return { records: end === data.length ? data : data.subarray(0, end), firstBatchOffset: first.baseOffset, pooledBuffer };
  }

  /**
   * The first batch whose maxTimestamp >= timestamp and whose last offset >= startingOffset, with
   * its bytes (so the caller can look inside for the exact record). Null when none.
   */
  findBatchByTimestamp(timestamp: number, startingOffset: number): { location: BatchLocation; bytes: Buffer } | null {
    const below = this.timeIndex.lookupBelow(timestamp);
    const fromOffset = Math.max(below === null ? this.baseOffset : below.offset, startingOffset);
    const fromPosition = this.offsetIndex.lookup(fromOffset).position;
    let checked = below === null || fromOffset !== below.offset;
    for (const b of this.scanBatches(fromPosition)) {
      if (!checked && b.lastOffset >= below!.offset) {
        // The entry (T, O) says the batch ending at O holds the largest timestamp so far, T. One
        // that does not is damaged: a search from it could skip the answer.
        checked = true;
        if ((b.lastOffset !== below!.offset || Number(b.header.maxTimestamp) !== below!.timestamp) && !this.indexesRebuilt) {
          this.rebuildIndexes(`the entry (timestamp ${below!.timestamp}, offset ${below!.offset}) of ${this.timeIndex.path} does not match the batch ending at that offset`);
          return this.findBatchByTimestamp(timestamp, startingOffset);
        }
      }
      if (b.lastOffset < startingOffset) continue;
      if (Number(b.header.maxTimestamp) >= timestamp) {
        const location = { position: b.position, baseOffset: Number(b.header.baseOffset), lastOffset: b.lastOffset, sizeInBytes: b.header.sizeInBytes };
        return { location, bytes: this.readAt(b.position, b.header.sizeInBytes) };
      }
    }
    return null;
  }

  /** The bytes of the batch holding `offset`, or null. */
  readBatchContaining(offset: number): Buffer | null {
    const loc = this.translateOffset(offset);
    return loc === null || loc.baseOffset > offset ? null : this.readAt(loc.position, loc.sizeInBytes);
  }

  // ---- internals

  private descriptor(): number {
    if (this.fd === null) this.fd = fs.openSync(this.logPath, this.readOnly ? 'r' : 'r+');
    return this.fd;
  }

  private readHeaderAt(position: number): BatchHeader | null {
    if (position + RECORD_BATCH_OVERHEAD > this.sizeBytes) return null;
    return readBatchHeader(this.readAt(position, RECORD_BATCH_OVERHEAD), 0);
  }

  /**
   * Next offset and max timestamp without reading the whole file: the time index's last entry
   * holds the max timestamp up to its offset, and only batches after the last offset index entry
   * are scanned (at most index.interval.bytes plus one batch). Notes what does not add up in
   * `tailProblem`; a segment that is not (yet) active gets its indexes rebuilt when they are at
   * fault (`repair`), the active one is left to PartitionLog's recovery.
   */
  private loadTail(repair = !this.active): void {
    if (this.tailLoaded) return;
    this.tailLoaded = true;
    this.timeEntryBatch = null;
    const lastTime = this.timeIndex.lastEntry();
    if (lastTime !== null) {
      this.maxTimestampSoFar = lastTime.timestamp;
      this.offsetOfMaxTimestampSoFar = lastTime.offset;
    }
    const lastIndexed = this.offsetIndex.lastEntry();
    const from = lastIndexed === null ? 0 : lastIndexed.position;
    let next = this.baseOffset;
    let bytesSince = 0;
    let end = from;
    let indexProblem: string | null = null;
    if (lastIndexed !== null && lastIndexed.position >= this.sizeBytes) {
      indexProblem = `the last entry of ${this.offsetIndex.path} points at position ${lastIndexed.position}, past the end of ${this.logPath} (${this.sizeBytes} bytes)`;
    }
    for (const b of indexProblem === null ? this.scanBatches(from) : []) {
      if (lastIndexed !== null && b.position === from && b.lastOffset !== lastIndexed.offset) {
        indexProblem = `the last entry of ${this.offsetIndex.path} names offset ${lastIndexed.offset} at position ${from}, where a batch ending at offset ${b.lastOffset} starts`;
        break;
      }
      next = b.lastOffset + 1;
      const ts = Number(b.header.maxTimestamp);
      if (lastTime !== null && b.lastOffset === lastTime.offset) this.timeEntryBatch = { lastOffset: b.lastOffset, maxTimestamp: ts };
      if (ts > this.maxTimestampSoFar) {
        this.maxTimestampSoFar = ts;
        this.offsetOfMaxTimestampSoFar = b.lastOffset;
      }
      bytesSince += b.header.sizeInBytes;
      end = b.position + b.header.sizeInBytes;
    }
    if (indexProblem === null && lastIndexed !== null && end === from && this.sizeBytes > from) {
      indexProblem = `the last entry of ${this.offsetIndex.path} names offset ${lastIndexed.offset} at position ${from}, where no batch starts`;
    }
    this.next = next;
    this.bytesSinceLastIndexEntry = bytesSince;
    this.tailProblem = indexProblem ?? (end === this.sizeBytes ? null : this.trailingBytesProblem(end));
    if (repair && this.indexesRebuilt === false && (indexProblem !== null || (this.tailProblem === null && this.timeIndexProblem() !== null))) {
      this.rebuildIndexes(indexProblem ?? this.timeIndexProblem()!);
    }
    if (this.tailProblem !== null && repair) {
      // Damage inside the log of an older segment: nothing here can mend it; reads stop short of it.
      loggerFor('storage').warn({ segment: this.logPath, problem: this.tailProblem }, 'segment does not end with a whole batch');
    }
  }

  private trailingBytesProblem(end: number): string {
    return `the ${this.sizeBytes - end} bytes at position ${end} of ${this.logPath} (${this.sizeBytes} bytes) are not whole batches following offset ${this.next - 1}`;
  }

  /** The time index's last entry must be the max timestamp of the batch ending at its offset. */
  private timeIndexProblem(): string | null {
    const last = this.timeIndex.lastEntry();
    // Older versions wrote (-1, base offset) into the time index of an empty segment: harmless.
    if (last === null || last.timestamp < 0) return null;
    const where = `the last entry of ${this.timeIndex.path} (timestamp ${last.timestamp}, offset ${last.offset})`;
    if (last.offset < this.baseOffset || last.offset >= this.next) return `${where} lies outside the segment's offsets ${this.baseOffset}..${this.next - 1}`;
    // Usually the largest timestamp is in the last batches, which loadTail has just read.
    const seen = this.timeEntryBatch;
    if (seen !== null && seen.lastOffset === last.offset) {
      return seen.maxTimestamp === last.timestamp ? null : `${where} does not match the batch holding that offset (max timestamp ${seen.maxTimestamp})`;
    }
    for (const b of this.scanBatches(this.offsetIndex.lookup(last.offset).position)) {
      if (b.lastOffset < last.offset) continue;
      if (b.lastOffset !== last.offset || Number(b.header.maxTimestamp) !== last.timestamp) {
        return `${where} does not match the batch holding that offset (last offset ${b.lastOffset}, max timestamp ${b.header.maxTimestamp})`;
      }
      return null;
    }
    return `${where} names an offset no batch holds`;
  }
}
