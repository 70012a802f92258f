// The log cleaner's work on one partition (Kafka's Cleaner.doClean), in bounded slices:
//
//   1. the dirty section is [firstDirtyOffset, firstUncleanableOffset): from the cleaner
//      checkpoint to the active segment, the last stable offset (at most the high watermark: the
//      records of an open transaction may yet be aborted), or the first segment younger than
//      min.compaction.lag.ms, whichever comes first;
//   2. an offset map (key -> latest offset) is built over it, until the map is full (then the
//      section ends at the record that did not fit, and the next round starts there); records of
//      aborted transactions (the .txnindex entries) do not enter it, so they never make a
//      committed record of their key look superseded;
//   3. every segment from the log start to the end of that section is rewritten, in groups of
//      adjacent segments whose sizes add up to at most segment.bytes (segment.index.bytes for the
//      indexes, and an offset range an index can address), keeping for each key only the record
//      the map names (cleaner-batch.ts decides per batch), tombstones until their delete horizon;
//      the data of aborted transactions goes whatever its keys, and a transaction marker stays
//      until no batch of its transaction is left, then until its own delete horizon (the walk
//      over the transactions, cleaner-txn.ts, as Kafka's cleaner does);
//   4. each group's new segment replaces the group crash-safely (segment-swap.ts).
//
// The work of steps 2 and 3 is cleaner-work.ts, on plain data and files; this file plans it and
// swaps its result in. The LogManager's cleaner (cleaner-manager.ts) runs the work on a worker
// thread and calls `planMap`, `planGroups`, `groupTask` and `swapGroup` here on the event loop;
// `cleanInSlices` runs everything on the calling thread as a generator (tests, tools), each step
// about SLICE_BYTES of batches. The log may change between steps: appends only touch the active
// segment, which is never cleaned; retention or a truncation that removes a segment of a group
// makes that group's swap a no-op (replaceSegments returns false) and ends the round.
import type { CleanerCodec } from './cleaner-batch.js';
import { CleanerWork, DEFAULT_IO_BUFFER_BYTES, addWorkStats, emptyWorkStats, type GroupTask, type MapTask } from './cleaner-work.js';
import type { Clock } from './clock.js';
import { invariant } from './errors.js';
import type { LogSegment } from './log-segment.js';
import type { PartitionLog } from './partition-log.js';
import { CLEANED_SUFFIX, removeSwapManifest, type SwapHooks } from './segment-swap.js';

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

const INT32_MAX = 0x7fffffff;

/** Step 1 of a round, decided on the event loop: the section and what the map reads. */
export interface MapPlan {
  section: CleanableSection;
  task: MapTask;
  /** The closed segments holding offsets of the section, oldest first. */
  segments: LogSegment[];
}

export class LogCleaner {
  private readonly work: CleanerWork;

  constructor(private readonly options: LogCleanerOptions) {
    this.work = new CleanerWork({ dedupeBufferBytes: options.dedupeBufferBytes, ioBufferBytes: options.ioBufferBytes ?? DEFAULT_IO_BUFFER_BYTES, loadFactor: options.loadFactor, codec: options.codec });
  }

  /** How many distinct keys one round can take (the dirty section stops there). */
  get mapCapacity(): number {
    return this.work.map.capacity;
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

  /** Step 1: the dirty section, and the offset map's work over it. */
  static planMap(log: PartitionLog, checkpoint: number | null, nowMs: number): MapPlan {
    const section = LogCleaner.cleanableSection(log, checkpoint, nowMs);
    const first = section.firstDirtyOffset;
    const limit = section.firstUncleanableOffset;
    const segments = limit <= first ? [] : log.cleanerSegments().filter((s) => s.baseOffset < limit && s.nextOffset > first);
    const aborted = segments.length === 0 ? [] : log.abortedTransactions(first, limit);
    return { section, task: { where: log.where, first, limit, aborted }, segments };
  }

  /** The round's figures before any work. */
  static startStats(log: PartitionLog, section: CleanableSection): CleanStats {
    return {
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
  }

  /**
   * Step 3's groups: every closed segment from the log start to `endOffset` (an empty dirty section
   * still rewrites the clean one: the scheduler asks for that when a kept tombstone's delete horizon
   * has passed).
   */
  static planGroups(log: PartitionLog, endOffset: number): LogSegment[][] {
    const config = log.config;
    const segments = log.cleanerSegments();
    const active = segments[segments.length - 1]!;
    const toClean = segments.filter((s) => s !== active && s.baseOffset < endOffset);
    return groupSegments(toClean, segments, config.segmentBytes, config.segmentIndexBytes);
  }

  /** What the cleaning of `group` needs to know of the log, as it is now. */
  static groupTask(log: PartitionLog, group: readonly LogSegment[], endOffset: number, nowMs: number): GroupTask {
    const lastBatchOfProducer = new Map<bigint, number>();
    const markerEpochOfProducer = new Map<bigint, number>();
    const from = group[0]!.baseOffset;
    const segments = log.cleanerSegments();
    const next = segments[segments.indexOf(group[group.length - 1]!) + 1];
    invariant(next !== undefined, `${log.where}: a group to clean ends with the active segment`);
    for (const entry of log.producerState.allEntries()) {
      const last = entry.batches[entry.batches.length - 1];
      if (last === undefined) markerEpochOfProducer.set(entry.producerId, entry.epoch);
      else if (last.lastOffset >= from && last.lastOffset < endOffset) lastBatchOfProducer.set(entry.producerId, last.lastOffset);
    }
    return {
      where: log.where,
      endOffset,
      nowMs,
      deleteRetentionMs: log.config.deleteRetentionMs,
      segmentConfig: { ...log.cleanerSegmentConfig },
      lastBatchOfProducer,
      markerEpochOfProducer,
      aborted: log.abortedTransactions(from, next.baseOffset),
      swapEndOffset: next.baseOffset,
      keepIfEmpty: segments[0] === group[0],
    };
  }

  /**
   * Step 4: `cleaned` (the group's cleaned segment, inactive, .cleaned files fsynced) replaces
   * `group`, synchronously. A group left with nothing (every record superseded by a later one
   * outside it; `cleaned` is null then, or empty) just goes, unless it starts the log: an empty
   * first segment keeps the log start offset where it was. Returns false when the log changed and the group was left as it was;
   * the cleaned files go unless the swap got past its commit point. With `deferred`, the swap's
   * steps after its commit wait for log.finishSwap() (see PartitionLog.replaceSegments).
   */
  static swapGroup(log: PartitionLog, group: readonly LogSegment[], cleaned: LogSegment | null, hooks?: SwapHooks, deferred = false): boolean {
    // It became the first segment meanwhile (retention): it stays as it is, for the next round.
    if (cleaned === null) return log.cleanerSegments()[0] !== group[0] && log.replaceSegments(null, group, hooks);
    let swapped = false;
    try {
      if (cleaned.isEmpty() && log.cleanerSegments()[0] !== group[0]) return log.replaceSegments(null, group, hooks);
      swapped = log.replaceSegments(cleaned, group, hooks, deferred);
      return swapped;
    } finally {
      if (!swapped && cleaned.logPath.endsWith(CLEANED_SUFFIX)) {
        removeSwapManifest(log.dir);
        cleaned.delete();
      }
    }
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
   * One round on `log` on this thread (see the file comment). Yields the bytes each slice read
   * and wrote; returns the round's figures, whose endOffset is the new cleaner checkpoint.
   */
  *cleanInSlices(log: PartitionLog, checkpoint: number | null): Generator<number, CleanStats> {
    const nowMs = this.options.clock.nowMs();
    const plan = LogCleaner.planMap(log, checkpoint, nowMs);
    const stats = LogCleaner.startStats(log, plan.section);
    const work = emptyWorkStats();
    try {
      const endOffset = yield* this.work.buildOffsetMap(plan.segments, plan.task, work);
      stats.endOffset = endOffset;
      for (const group of LogCleaner.planGroups(log, endOffset)) {
        const cleaned = yield* this.work.cleanGroup(log.dir, group, LogCleaner.groupTask(log, group, endOffset, nowMs), work);
        if (!LogCleaner.swapGroup(log, group, cleaned, this.options.hooks)) {
          stats.completed = false;
          break;
        }
      }
    } finally {
      addWorkStats(stats, work);
    }
    stats.segmentsAfter = log.segmentCount;
    return stats;
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

