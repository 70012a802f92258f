// The log cleaner's work on files (Kafka's Cleaner.buildOffsetMap and cleanSegments), apart from
// the live log: it reads closed segments, fills the offset map and writes a cleaned segment with
// the .cleaned suffix (log, offset and time indexes, .txnindex), fsynced, and never touches a live
// file. Everything it needs arrives as plain data (offsets, the aborted transactions, the
// producers' last batches), so the same code runs on the event loop (LogCleaner.clean, tests and
// tools) and on the cleaner's worker thread (cleaner-worker.ts), where it opens the segments by
// name. Deciding what to clean and swapping the result into the log stay with the caller
// (log-cleaner.ts): a segment removed or truncated meanwhile makes that swap a no-op.
//
// Both steps are generators that yield the bytes each slice of about `sliceBytes` handled, so the
// caller can throttle, stop, or (on the event loop) let requests run between slices.
import * as fs from 'node:fs';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, MAX_TIMESTAMP_OFFSET, RECORD_BATCH_OVERHEAD, type BatchHeader } from '../protocol/records/batch-header.js';
import { controlRecordType, filterBatch, forEachKeyedRecord, type CleanerCodec } from './cleaner-batch.js';
import { CleanedTxnState } from './cleaner-txn.js';
import { LogSegment, type AppendedBatchInfo, type SegmentConfig } from './log-segment.js';
import { OffsetMap } from './offset-map.js';
import { CLEANED_SUFFIX, writeSwapManifest } from './segment-swap.js';
import type { AbortedTxn } from './txn-index.js';

/** Batch bytes per slice: about 0.2 ms of cleaning at 300 MB/s. */
export const SLICE_BYTES = 64 * 1024;
export const DEFAULT_IO_BUFFER_BYTES = 512 * 1024;

export interface CleanerWorkOptions {
  /** This cleaner's share of log.cleaner.dedupe.buffer.size. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.buffer.size: bytes read or written at a time (default 512 KiB). */
  ioBufferBytes?: number;
  /** log.cleaner.io.buffer.load.factor (default 0.9). */
  loadFactor?: number;
  codec: CleanerCodec;
}

/** Step 2's input: the dirty section [first, limit) over the segments that hold it. */
export interface MapTask {
  where: string;
  first: number;
  limit: number;
  /** The aborted transactions overlapping [first, limit): their records never enter the map. */
  aborted: readonly AbortedTxn[];
}

/** Steps 3's input for one group of adjacent segments. */
export interface GroupTask {
  where: string;
  /** Records at or past this offset were not in the map's range: they all stay. */
  endOffset: number;
  nowMs: number;
  deleteRetentionMs: number;
  segmentConfig: SegmentConfig;
  /** Each producer's last batch in the log (producer id -> its last offset), for emptied batches. */
  lastBatchOfProducer: ReadonlyMap<bigint, number>;
  /** Producers whose state holds no data batch (their last write was a marker) -> their epoch:
   * such a marker stays, emptied, so the epoch survives a rebuild of the producer state. */
  markerEpochOfProducer: ReadonlyMap<bigint, number>;
  /** The aborted transactions overlapping the group's offsets (from every segment's .txnindex):
   * their data goes; the entries of the ABORT markers that stay make the cleaned .txnindex. */
  aborted: readonly AbortedTxn[];
  /** Where the group's offsets end (the next segment's base offset), for the swap manifest. */
  swapEndOffset: number;
  /**
   * The group starts the log: a cleaned segment left empty stays (it keeps the log start offset
   * where it was). Otherwise an empty one is removed here and the group just goes.
   */
  keepIfEmpty: boolean;
}

/** What one piece of work adds to the round's figures. */
export interface WorkStats {
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsKept: number;
  /** The earliest delete horizon of a kept tombstone, -1 when none. */
  nextTombstoneHorizonMs: number;
}

export const emptyWorkStats = (): WorkStats => ({ bytesRead: 0, bytesWritten: 0, recordsRead: 0, recordsKept: 0, nextTombstoneHorizonMs: -1 });

export function addWorkStats(into: WorkStats, add: WorkStats): void {
  into.bytesRead += add.bytesRead;
  into.bytesWritten += add.bytesWritten;
  into.recordsRead += add.recordsRead;
  into.recordsKept += add.recordsKept;
  if (add.nextTombstoneHorizonMs >= 0) into.nextTombstoneHorizonMs = into.nextTombstoneHorizonMs < 0 ? add.nextTombstoneHorizonMs : Math.min(into.nextTombstoneHorizonMs, add.nextTombstoneHorizonMs);
}

export class CleanerWork {
  /** Kept between a map and the groups it serves: one round at a time per CleanerWork. */
  readonly map: OffsetMap;
  /** The round's walk over transactions, from the log start through its groups in order (a
   * transaction may span groups); a new round starts with its map. */
  private txnState = new CleanedTxnState();
  readonly ioBufferBytes: number;
  readonly sliceBytes: number;
  /** Kept batches gather here (one copy each) and go to the cleaned segment a buffer at a time. */
  private readonly writeBuffer: Buffer;
  private readonly codec: CleanerCodec;

  constructor(options: CleanerWorkOptions) {
    this.map = new OffsetMap(options.dedupeBufferBytes, options.loadFactor);
    this.ioBufferBytes = Math.max(RECORD_BATCH_OVERHEAD, options.ioBufferBytes ?? DEFAULT_IO_BUFFER_BYTES);
    this.sliceBytes = Math.min(this.ioBufferBytes, SLICE_BYTES);
    this.writeBuffer = Buffer.allocUnsafe(this.ioBufferBytes);
    this.codec = options.codec;
  }

  /**
   * Step 2 over `segments` (the closed segments holding offsets of [task.first, task.limit),
   * oldest first; only their batches are read, so a segment opened for reading will do); returns the end of the section the map covers: task.limit, or the offset of the first record
   * whose key did not fit.
   */
  *buildOffsetMap(segments: readonly LogSegment[], task: MapTask, stats: WorkStats): Generator<number, number> {
    const map = this.map;
    const { first, limit } = task;
    map.clear(limit - first);
    this.txnState = new CleanedTxnState();
    let endOffset = limit;
    let full = false;
    let sliceBytes = 0;
    // Aborted records never enter the map: they must not make a committed record look superseded.
    const txns = new CleanedTxnState();
    txns.addAborted(task.aborted);
    for (const segment of segments) {
      if (limit <= first || full) break;
      for (const b of segment.readWholeBatches(this.ioBufferBytes)) {
        if (b.lastOffset < first) continue;
        if (Number(b.header.baseOffset) >= limit) break;
        stats.bytesRead += b.header.sizeInBytes;
        sliceBytes += b.header.sizeInBytes;
        const h = b.header;
        if ((h.attributes & ATTR_CONTROL) !== 0) txns.onControlBatch(h.producerId, b.lastOffset, controlRecordType(b.bytes, h, this.codec, task.where));
        else if (!txns.onDataBatch(h.producerId, (h.attributes & ATTR_TRANSACTIONAL) !== 0, b.lastOffset) && h.recordsCount > 0) {
          forEachKeyedRecord(b.bytes, b.header, this.codec, task.where, (key, offset) => {
            if (offset < first || offset >= limit) return true;
            if (map.put(key, offset)) return true;
            full = true;
            endOffset = offset;
            return false;
          });
        }
        if (full) break;
        if (sliceBytes >= this.sliceBytes) {
          yield sliceBytes;
          sliceBytes = 0;
        }
      }
    }
    if (sliceBytes > 0) yield sliceBytes;
    if (full && endOffset <= first) throw new Error(`${task.where}: the cleaner's offset map (${map.capacity} keys) cannot hold even one key of the dirty section from offset ${first}; raise log.cleaner.dedupe.buffer.size`);
    return endOffset;
  }

  /**
   * Step 3 for one group: writes `<group[0].base>.*.cleaned` in `dir` with what the map keeps,
   * fsynced, with the old files' latest modification time, then the swap's manifest; returns the
   * cleaned segment, inactive, or null when it held nothing and is gone already (see
   * keepIfEmpty). On an error or when the caller stops the generator early, the cleaned files go.
   */
  *cleanGroup(dir: string, group: readonly LogSegment[], task: GroupTask, stats: WorkStats): Generator<number, LogSegment | null> {
    const cleaned = LogSegment.create(dir, group[0]!.baseOffset, task.segmentConfig, task.nowMs, CLEANED_SUFFIX);
    let written = false;
    try {
      cleaned.activate();
      const ctx = {
        map: this.map,
        endOffset: task.endOffset,
        nowMs: task.nowMs,
        deleteRetentionMs: task.deleteRetentionMs,
        codec: this.codec,
        isLastBatchOfProducer: (header: BatchHeader, lastOffset: number) =>
          (header.attributes & ATTR_CONTROL) !== 0 ? task.markerEpochOfProducer.get(header.producerId) === header.producerEpoch : task.lastBatchOfProducer.get(header.producerId) === lastOffset,
        where: task.where,
      };
      const txns = this.txnState;
      txns.addAborted(task.aborted);
      /** The cleaned segment's .txnindex: the entries of the ABORT markers kept with data seen. */
      const txnEntries: AbortedTxn[] = [];
      const out = this.writeBuffer;
      let outBytes = 0;
      let infos: AppendedBatchInfo[] = [];
      const flushOut = () => {
        if (outBytes === 0) return;
        cleaned.append(out.subarray(0, outBytes), infos);
        stats.bytesWritten += outBytes;
        infos = [];
        outBytes = 0;
      };
      let sliceBytes = 0;
      let latestMtimeMs = 0;
      for (const segment of group) {
        latestMtimeMs = Math.max(latestMtimeMs, fs.statSync(segment.logPath).mtimeMs);
        for (const b of segment.readWholeBatches(this.ioBufferBytes)) {
          const h = b.header;
          let discardable: boolean;
          if ((h.attributes & ATTR_CONTROL) !== 0) {
            const fate = txns.onControlBatch(h.producerId, b.lastOffset, controlRecordType(b.bytes, h, this.codec, task.where));
            discardable = fate.discardable;
            if (fate.indexEntry !== null) txnEntries.push(fate.indexEntry);
          } else {
            discardable = txns.onDataBatch(h.producerId, (h.attributes & ATTR_TRANSACTIONAL) !== 0, b.lastOffset);
          }
          const result = filterBatch(b.bytes, h, ctx, discardable);
          stats.recordsRead += result.records;
          sliceBytes += b.header.sizeInBytes;
          stats.bytesRead += b.header.sizeInBytes;
          let kept: Buffer | null = null;
          if (result.kind === 'keep') {
            kept = b.bytes;
            stats.recordsKept += result.records;
          } else if (result.kind === 'rewrite') {
            kept = result.batch;
            stats.recordsKept += result.kept;
          }
          if (result.kind !== 'drop' && result.tombstoneHorizonMs >= 0) {
            stats.nextTombstoneHorizonMs = stats.nextTombstoneHorizonMs < 0 ? result.tombstoneHorizonMs : Math.min(stats.nextTombstoneHorizonMs, result.tombstoneHorizonMs);
          }
          if (kept !== null) {
            // Copied now: `b.bytes` is a view of a read buffer that the next read replaces.
            if (outBytes + kept.length > out.length) flushOut();
            const info = { positionInBuffer: outBytes, lastOffset: b.lastOffset, maxTimestamp: Number(kept.readBigInt64BE(MAX_TIMESTAMP_OFFSET)) };
            if (kept.length > out.length) {
              cleaned.append(kept, [info]);
              stats.bytesWritten += kept.length;
            } else {
              infos.push(info);
              outBytes += kept.copy(out, outBytes);
            }
          }
          if (sliceBytes >= this.sliceBytes) {
            yield sliceBytes;
            sliceBytes = 0;
          }
        }
      }
      flushOut();
      // Written before the swap renames it (<base>.txnindex.cleaned).
      if (txnEntries.length > 0) cleaned.txnIndex.writeAll(txnEntries);
      cleaned.deactivate();
      cleaned.flush();
      // As Kafka: the new segment takes the old ones' modification time (retention of batches
      // without timestamps goes by it).
      if (latestMtimeMs > 0) fs.utimesSync(cleaned.logPath, new Date(latestMtimeMs), new Date(latestMtimeMs));
      if (sliceBytes > 0) yield sliceBytes;
      if (cleaned.isEmpty() && !task.keepIfEmpty) {
        cleaned.delete();
        written = true;
        return null;
      }
      // Swap step 2 (segment-swap.ts), here so that its fsyncs cost the event loop nothing. Not
      // committed: with <base>.log.cleaned beside it, recovery undoes it.
      writeSwapManifest(dir, cleaned.baseOffset, task.swapEndOffset);
      written = true;
      return cleaned;
    } finally {
      if (!written) cleaned.delete();
    }
  }
}
