// The log cleaner's work on one partition (Kafka's Cleaner.doClean), in bounded slices:
//
//   1. the dirty section is [firstDirtyOffset, firstUncleanableOffset): from the cleaner
//      checkpoint to the active segment, the last stable offset (at most the high watermark: the
//      records of an open transaction may yet be aborted), or the first segment younger than
//      min.compaction.lag.ms, whichever comes first;
//   2. an offset map (key -> latest offset) is built over it, until the map is full (then the
//      section ends at the record that did not fit, and the next round starts there); records of
//      aborted transactions (the .txnindex entries) do not enter it, so they never make a
//      committed record of their key look superseded (Kafka's cleaner skips them too; removing
//      the aborted records themselves is not done yet);
//   3. every segment from the log start to the end of that section is rewritten, in groups of
//      adjacent segments whose sizes add up to at most segment.bytes (segment.index.bytes for the
//      indexes, and an offset range an index can address), keeping for each key only the record
//      the map names (cleaner-batch.ts decides per batch), tombstones until their delete horizon;
//   4. each group's new segment replaces the group crash-safely (segment-swap.ts).
//
// The caller (the LogManager's cleaner) drives `cleanInSlices` as a generator: each step handles
// about SLICE_BYTES of batches (reads go `ioBufferBytes` at a time) synchronously and yields the
// bytes it handled, so produce and fetch run between steps and the caller can throttle. A step
// stays well under a millisecond: a request crosses the event loop several times (read, append,
// respond), and waits for one step at each crossing. The log may change
// between steps: appends only touch the active segment, which is never cleaned; retention or a
// truncation that removes a segment of a group makes that group's swap a no-op (replaceSegments
// returns false) and ends the round.
import * as fs from 'node:fs';
import { ATTR_CONTROL, ATTR_TRANSACTIONAL, MAX_TIMESTAMP_OFFSET, RECORD_BATCH_OVERHEAD, type BatchHeader } from '../protocol/records/batch-header.js';
import type { AbortedTxn } from './txn-index.js';
import { filterBatch, forEachKeyedRecord, type CleanerCodec } from './cleaner-batch.js';
import type { Clock } from './clock.js';
import { LogSegment, type AppendedBatchInfo } from './log-segment.js';
import { OffsetMap } from './offset-map.js';

/** Batch bytes per step: about 0.2 ms of cleaning at 300 MB/s. */
const SLICE_BYTES = 64 * 1024;
import type { PartitionLog } from './partition-log.js';
import { CLEANED_SUFFIX, type SwapHooks } from './segment-swap.js';

export interface LogCleanerOptions {
  /** This cleaner's share of log.cleaner.dedupe.buffer.size. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.buffer.size: bytes read or written per slice (default 512 KiB). */
  ioBufferBytes?: number;
  /** log.cleaner.io.buffer.load.factor (default 0.9). */
  loadFactor?: number;
  codec: CleanerCodec;
  clock: Clock;
  hooks?: SwapHooks;
}

/** What a log looks like to the cleaner's scheduler (Kafka's LogToClean). */
export interface CleanableSection {
  firstDirtyOffset: number;
  firstUncleanableOffset: number;
  /** Bytes of the segments before firstDirtyOffset (from the log start). */
  cleanBytes: number;
  /** Bytes of the segments in [firstDirtyOffset, firstUncleanableOffset). */
  dirtyBytes: number;
  /** dirtyBytes / (cleanBytes + dirtyBytes); 0 when both are 0. */
  dirtyRatio: number;
  /** How long past max.compaction.lag.ms the oldest dirty record is (<= 0: not due). */
  maxCompactionDelayMs: number;
}

export interface CleanStats {
  firstDirtyOffset: number;
  /** Where the cleaned section ended: the next round's first dirty offset. */
  endOffset: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRead: number;
  recordsKept: number;
  segmentsBefore: number;
  segmentsAfter: number;
  /** The earliest delete horizon of a kept tombstone, -1 when none: cleaning is due again then. */
  nextTombstoneHorizonMs: number;
  /** False when the log changed under the round and a group was left as it was. */
  completed: boolean;
}

const DEFAULT_IO_BUFFER_BYTES = 512 * 1024;
const INT32_MAX = 0x7fffffff;

export class LogCleaner {
  private readonly map: OffsetMap;
  private readonly ioBufferBytes: number;
  /** Bytes of batches handled per step (at most ioBufferBytes). */
  private readonly sliceBytes: number;
  /** Kept batches gather here (one copy each) and go to the cleaned segment a buffer at a time. */
  private readonly writeBuffer: Buffer;

  constructor(private readonly options: LogCleanerOptions) {
    this.map = new OffsetMap(options.dedupeBufferBytes, options.loadFactor);
    this.ioBufferBytes = Math.max(RECORD_BATCH_OVERHEAD, options.ioBufferBytes ?? DEFAULT_IO_BUFFER_BYTES);
    this.sliceBytes = Math.min(this.ioBufferBytes, SLICE_BYTES);
    this.writeBuffer = Buffer.allocUnsafe(this.ioBufferBytes);
  }

  /** How many distinct keys one round can take (the dirty section stops there). */
  get mapCapacity(): number {
    return this.map.capacity;
  }

  /** The dirty section of `log` and its figures; `checkpoint` is the cleaner checkpoint (or null). */
  static cleanableSection(log: PartitionLog, checkpoint: number | null, nowMs: number): CleanableSection {
    const segments = log.cleanerSegments();
    const active = segments[segments.length - 1]!;
    // A checkpoint outside the log (truncated, or records deleted past it) restarts from the start.
    let firstDirty = checkpoint ?? log.logStartOffset;
    if (firstDirty < log.logStartOffset || firstDirty > log.logEndOffset) firstDirty = log.logStartOffset;
    let firstUncleanable = Math.min(active.baseOffset, log.lastStableOffset);
    const lagMs = log.config.minCompactionLagMs;
    let cleanBytes = 0;
    let dirtyBytes = 0;
    let firstDirtyTimestamp = -1;
    for (const s of segments) {
      if (s === active) break;
      if (s.nextOffset <= firstDirty) {
        cleanBytes += s.size;
        continue;
      }
      if (s.baseOffset >= firstUncleanable) break;
      if (lagMs > 0 && s.maxTimestamp > nowMs - lagMs) {
        firstUncleanable = Math.max(firstDirty, Math.min(firstUncleanable, s.baseOffset));
        break;
      }
      if (firstDirtyTimestamp < 0 && s.maxTimestamp >= 0) firstDirtyTimestamp = s.firstTimestamp();
      dirtyBytes += s.size;
    }
    if (firstUncleanable < firstDirty) firstUncleanable = firstDirty;
    const total = cleanBytes + dirtyBytes;
    const maxLag = log.config.maxCompactionLagMs;
    const maxCompactionDelayMs = firstDirtyTimestamp < 0 || dirtyBytes === 0 || maxLag >= Number.MAX_SAFE_INTEGER ? 0 : nowMs - firstDirtyTimestamp - maxLag;
    return { firstDirtyOffset: firstDirty, firstUncleanableOffset: firstUncleanable, cleanBytes, dirtyBytes, dirtyRatio: total === 0 ? 0 : dirtyBytes / total, maxCompactionDelayMs };
  }

  /** Runs a whole round at once (tests, tools). */
  clean(log: PartitionLog, checkpoint: number | null): CleanStats {
    const slices = this.cleanInSlices(log, checkpoint);
    for (;;) {
      const r = slices.next();
      if (r.done === true) return r.value;
    }
  }

  /**
   * One round on `log` (see the file comment). Yields the bytes each slice read and wrote;
   * returns the round's figures, whose endOffset is the new cleaner checkpoint.
   */
  *cleanInSlices(log: PartitionLog, checkpoint: number | null): Generator<number, CleanStats> {
    const nowMs = this.options.clock.nowMs();
    const section = LogCleaner.cleanableSection(log, checkpoint, nowMs);
    const stats: CleanStats = {
      firstDirtyOffset: section.firstDirtyOffset,
      endOffset: section.firstDirtyOffset,
      bytesRead: 0,
      bytesWritten: 0,
      recordsRead: 0,
      recordsKept: 0,
      segmentsBefore: log.segmentCount,
      segmentsAfter: log.segmentCount,
      nextTombstoneHorizonMs: -1,
      completed: true,
    };
    // An empty dirty section still rewrites the clean one: the scheduler asks for that when a kept
    // tombstone's delete horizon has passed.
    const endOffset = yield* this.buildOffsetMap(log, section, stats);
    stats.endOffset = endOffset;
    const config = log.config;
    const segments = log.cleanerSegments();
    const active = segments[segments.length - 1]!;
    const toClean = segments.filter((s) => s !== active && s.baseOffset < endOffset);
    for (const group of groupSegments(toClean, segments, config.segmentBytes, config.segmentIndexBytes)) {
      const done = yield* this.cleanGroup(log, group, endOffset, nowMs, stats);
      if (!done) {
        stats.completed = false;
        break;
      }
    }
    stats.segmentsAfter = log.segmentCount;
    return stats;
  }

  /** Step 2; returns the end of the section the map covers. */
  private *buildOffsetMap(log: PartitionLog, section: CleanableSection, stats: CleanStats): Generator<number, number> {
    const map = this.map;
    map.clear(section.firstUncleanableOffset - section.firstDirtyOffset);
    const first = section.firstDirtyOffset;
    const limit = section.firstUncleanableOffset;
    let endOffset = limit;
    let full = false;
    let sliceBytes = 0;
    const aborted = abortedByProducer(log, first, limit);
    for (const segment of log.cleanerSegments().slice()) {
      if (limit <= first) break;
      if (segment.nextOffset <= first) continue;
      if (segment.baseOffset >= limit || full) break;
      for (const b of segment.readWholeBatches(this.ioBufferBytes)) {
        if (b.lastOffset < first) continue;
        if (Number(b.header.baseOffset) >= limit) break;
        stats.bytesRead += b.header.sizeInBytes;
        sliceBytes += b.header.sizeInBytes;
        if ((b.header.attributes & ATTR_CONTROL) === 0 && b.header.recordsCount > 0 && !isAborted(aborted, b.header)) {
          forEachKeyedRecord(b.bytes, b.header, this.options.codec, log.where, (key, offset) => {
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
    if (full && endOffset <= first) throw new Error(`${log.where}: the cleaner's offset map (${map.capacity} keys) cannot hold even one key of the dirty section from offset ${first}; raise log.cleaner.dedupe.buffer.size`);
    return endOffset;
  }

  /** Steps 3 and 4 for one group; false when the log changed and the group was left alone. */
  private *cleanGroup(log: PartitionLog, group: readonly LogSegment[], endOffset: number, nowMs: number, stats: CleanStats): Generator<number, boolean> {
    const config = log.config;
    const cleaned = LogSegment.create(log.dir, group[0]!.baseOffset, log.cleanerSegmentConfig, nowMs, CLEANED_SUFFIX);
    let swapped = false;
    try {
      cleaned.activate();
      const ctx = {
        map: this.map,
        endOffset,
        nowMs,
        deleteRetentionMs: config.deleteRetentionMs,
        codec: this.options.codec,
        isLastBatchOfProducer: (header: BatchHeader, lastOffset: number) => {
          const batches = log.producerState.entry(header.producerId)?.batches;
          return batches !== undefined && batches.length > 0 && batches[batches.length - 1]!.lastOffset === lastOffset;
        },
        where: log.where,
      };
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
          const result = filterBatch(b.bytes, b.header, ctx);
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
      cleaned.deactivate();
      cleaned.flush();
      // As Kafka: the new segment takes the old ones' modification time (retention of batches
      // without timestamps goes by it).
      if (latestMtimeMs > 0) fs.utimesSync(cleaned.logPath, new Date(latestMtimeMs), new Date(latestMtimeMs));
      if (sliceBytes > 0) yield sliceBytes;
      // The log may have changed during the yields; replaceSegments checks, synchronously. A group
      // left with nothing (every record superseded by a later one outside it) just goes, unless
      // it starts the log: an empty first segment keeps the log start offset where it was.
      if (cleaned.isEmpty() && log.cleanerSegments()[0] !== group[0]) return log.replaceSegments(null, group, this.options.hooks);
      swapped = log.replaceSegments(cleaned, group, this.options.hooks);
      return swapped;
    } finally {
      if (!swapped && cleaned.logPath.endsWith(CLEANED_SUFFIX)) cleaned.delete();
    }
  }
}

/**
 * Kafka's groupSegmentsBySize: adjacent segments together while their logs add up to at most
 * `maxBytes`, their offset indexes to `maxIndexBytes`, and the group's offsets fit an index's
 * 32-bit relative offsets. `all` is the whole list (to find where a segment's offsets end).
 */
export function groupSegments(segments: readonly LogSegment[], all: readonly LogSegment[], maxBytes: number, maxIndexBytes: number): LogSegment[][] {
  const groups: LogSegment[][] = [];
  let i = 0;
  const lastOffsetOf = (s: LogSegment) => {
    const next = all[all.indexOf(s) + 1];
    return (next === undefined ? s.nextOffset : next.baseOffset) - 1;
  };
  while (i < segments.length) {
    const group = [segments[i]!];
    let bytes = segments[i]!.size;
    let indexBytes = segments[i]!.offsetIndex.sizeInBytes();
    i++;
    while (i < segments.length) {
      const s = segments[i]!;
      if (bytes + s.size > maxBytes || indexBytes + s.offsetIndex.sizeInBytes() > maxIndexBytes || lastOffsetOf(s) - group[0]!.baseOffset > INT32_MAX) break;
      group.push(s);
      bytes += s.size;
      indexBytes += s.offsetIndex.sizeInBytes();
      i++;
    }
    groups.push(group);
  }
  return groups;
}

/** The aborted transactions overlapping [first, limit), by producer id (usually none). */
function abortedByProducer(log: PartitionLog, first: number, limit: number): Map<bigint, AbortedTxn[]> {
  const out = new Map<bigint, AbortedTxn[]>();
  for (const a of log.abortedTransactions(first, limit)) {
    let list = out.get(a.producerId);
    if (list === undefined) out.set(a.producerId, (list = []));
    list.push(a);
  }
  return out;
}

/** Whether a data batch belongs to one of its producer's aborted transactions. */
function isAborted(aborted: ReadonlyMap<bigint, readonly AbortedTxn[]>, header: BatchHeader): boolean {
  if (aborted.size === 0 || (header.attributes & ATTR_TRANSACTIONAL) === 0) return false;
  const list = aborted.get(header.producerId);
  if (list === undefined) return false;
  const offset = Number(header.baseOffset);
  return list.some((a) => a.firstOffset <= offset && offset < a.lastOffset);
}
