// The append path shared by PartitionLog (disk) and MemoryPartitionLog: splitting the buffer into
// batches, leader appends (duplicates, producer checks, offsets and epoch patched in place,
// LogAppendTime) and follower appends (batches kept as the leader wrote them), the leader-epoch
// cache, and producer state. Each log supplies only where the bytes go (AppendTarget.write).
//
// Order, for both kinds: validate everything (nothing changes when refused) -> new epochs into
// the cache (before the data, so the checkpoint never lacks an epoch the log has) -> patch (leader
// only) -> write -> producer state -> flush policy. Work per record: none; per batch: header
// reads (and, for follower appends, the CRC, since those bytes come from the network unchecked).
import { batchCrcMatches, encodeTxnMarkerBatch, parseAppendBatches, patchLogAppendTime, patchOffsetAndEpoch, producerBatchOf, readTxnMarker, type ParsedBatch } from './batches.js';
import type { LogConfig } from './config.js';
import { CorruptRecordError, FollowerAppendError, RecordBatchTooLargeError } from './errors.js';
import type { LeaderEpochCache } from './leader-epoch-cache.js';
import type { AppendedBatchInfo } from './log-segment.js';
import type { AppendOptions, AppendResult, LeaderAppendOptions } from './partition-store.js';
import type { CompletedTxn, ProducerStateManager, TxnMarkerAppend } from './producer-state.js';

/** One batch of a planned append, at its final offsets. */
export interface PlannedBatch extends AppendedBatchInfo {
  baseOffset: number;
  sizeInBytes: number;
}

export interface PlannedAppend {
  firstOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  batches: PlannedBatch[];
}

/** What a log lends the shared append path. */
export interface AppendTarget {
  readonly where: string;
  readonly config: LogConfig;
  readonly logStartOffset: number;
  readonly logEndOffset: number;
  readonly producerState: ProducerStateManager;
  readonly epochCache: LeaderEpochCache;
  /**
   * Writes `records` (whole batches at their final offsets) at the log end and moves the log end
   * to plan.lastOffset + 1. Throws (a StorageError) when the write failed and nothing was kept.
   */
  write(records: Buffer, plan: PlannedAppend, nowMs: number): void;
  /** After the write and the producer state (the flush policy): a failure here loses no state. */
  afterAppend(plan: PlannedAppend): void;
  /** An ABORT marker just written (a leader's or a follower's) closed `completed`: its aborted-index entry. */
  recordAbortedTxn(completed: CompletedTxn): void;
}

function emptyResult(logStartOffset: number): AppendResult {
  return { firstOffset: -1, lastOffset: -1, logAppendTimeMs: -1, logStartOffset, maxTimestamp: -1, duplicate: false };
}

export function appendToLog(log: AppendTarget, records: Buffer, opts: AppendOptions, nowMs: number): AppendResult {
  const cfg = log.config;
  const parsed = parseAppendBatches(records, cfg.maxMessageBytes, log.where, opts.assignOffsets);
  if (parsed.length === 0) return emptyResult(log.logStartOffset);
  if (opts.assignOffsets) {
    const dup = findDuplicate(log, parsed);
    if (dup !== null) return dup;
  }
  if (records.length > cfg.segmentBytes) {
    throw new RecordBatchTooLargeError(`${log.where}: append of ${records.length} bytes exceeds segment.bytes ${cfg.segmentBytes}`);
  }
  return opts.assignOffsets ? leaderAppend(log, records, parsed, opts, nowMs) : followerAppend(log, records, parsed, nowMs);
}

/** A retry of a batch already written: the original offsets, nothing to write. */
function findDuplicate(log: AppendTarget, parsed: readonly ParsedBatch[]): AppendResult | null {
  for (const b of parsed) {
    if (b.header.producerId < 0n) continue;
    const dup = log.producerState.findDuplicate(producerBatchOf(b.header));
    if (dup !== null) {
      const logAppendTime = log.config.messageTimestampType === 'LogAppendTime' ? dup.timestamp : -1;
      return { firstOffset: dup.firstOffset, lastOffset: dup.lastOffset, logAppendTimeMs: logAppendTime, logStartOffset: log.logStartOffset, maxTimestamp: dup.timestamp, duplicate: true };
    }
  }
  return null;
}

function leaderAppend(log: AppendTarget, records: Buffer, parsed: readonly ParsedBatch[], opts: LeaderAppendOptions, nowMs: number): AppendResult {
  const logAppendTime = log.config.messageTimestampType === 'LogAppendTime';
  const producerAppend = log.producerState.beginAppend();
  const firstOffset = log.logEndOffset;
  let next = firstOffset;
  let maxTimestamp = -1;
  const batches: PlannedBatch[] = [];
  // Validate everything before patching anything, so a refused append leaves the buffer as it was.
  for (const b of parsed) {
    const lastOffset = next + b.header.lastOffsetDelta;
    const ts = logAppendTime ? nowMs : Number(b.header.maxTimestamp);
    if (b.header.producerId >= 0n) producerAppend.stage(producerBatchOf(b.header), next, lastOffset, ts);
    batches.push({ positionInBuffer: b.position, baseOffset: next, lastOffset, maxTimestamp: ts, sizeInBytes: b.header.sizeInBytes });
    if (ts > maxTimestamp) maxTimestamp = ts;
    next = lastOffset + 1;
  }
  // One comparison per append: the cache changes only when the leader epoch does.
  const newEpoch = assignIfNewEpoch(log.epochCache, opts.leaderEpoch, firstOffset);
  for (const b of batches) {
    patchOffsetAndEpoch(records, b.positionInBuffer, b.baseOffset, opts.leaderEpoch);
    if (logAppendTime) patchLogAppendTime(records, b.positionInBuffer, b.sizeInBytes, nowMs);
  }
  const plan: PlannedAppend = { firstOffset, lastOffset: next - 1, maxTimestamp, batches };
  writeOrUndoEpochs(log, records, plan, nowMs, newEpoch, firstOffset);
  producerAppend.commit(next);
  log.afterAppend(plan);
  return { firstOffset, lastOffset: next - 1, logAppendTimeMs: logAppendTime ? nowMs : -1, logStartOffset: log.logStartOffset, maxTimestamp, duplicate: false };
}

function followerAppend(log: AppendTarget, records: Buffer, parsed: readonly ParsedBatch[], nowMs: number): AppendResult {
  const logEnd = log.logEndOffset;
  const firstOffset = Number(parsed[0]!.header.baseOffset);
  // At or after the log end, as Kafka: a compacted leader log can have a gap where the follower's
  // fetch offset was (the batches holding it were cleaned away).
  if (firstOffset < logEnd) {
    throw new FollowerAppendError(`${log.where}: follower append starts at offset ${firstOffset}, below the log end offset ${logEnd}`, 'unexpected-offset', firstOffset, logEnd);
  }
  let latestEpoch = log.epochCache.latestEpoch;
  const epochStarts: { epoch: number; startOffset: number }[] = [];
  const batches: PlannedBatch[] = [];
  let previousLast = logEnd - 1;
  let maxTimestamp = -1;
  for (const b of parsed) {
    const h = b.header;
    const baseOffset = Number(h.baseOffset);
    const lastOffset = baseOffset + h.lastOffsetDelta;
    if (baseOffset <= previousLast) {
      throw new FollowerAppendError(`${log.where}: follower append has a batch at offset ${baseOffset} after offset ${previousLast}: offsets out of order`, 'offsets-out-of-order', firstOffset, logEnd);
    }
    if (!batchCrcMatches(records, b.position, h)) throw new CorruptRecordError(`${log.where}: follower batch at offset ${baseOffset} fails its CRC`);
    const epoch = h.partitionLeaderEpoch;
    // Epoch -1: no epoch recorded (data from before leader epochs), nothing to cache.
    if (epoch >= 0 && epoch !== latestEpoch) {
      if (epoch < latestEpoch) {
        throw new FollowerAppendError(`${log.where}: follower batch at offset ${baseOffset} has leader epoch ${epoch}, older than ${latestEpoch}`, 'epoch-out-of-order', firstOffset, logEnd);
      }
      epochStarts.push({ epoch, startOffset: baseOffset });
      latestEpoch = epoch;
    }
    const ts = Number(h.maxTimestamp);
    batches.push({ positionInBuffer: b.position, baseOffset, lastOffset, maxTimestamp: ts, sizeInBytes: h.sizeInBytes });
    if (ts > maxTimestamp) maxTimestamp = ts;
    previousLast = lastOffset;
  }
  log.epochCache.persistIfDirty();
  for (const e of epochStarts) log.epochCache.assign(e.epoch, e.startOffset);
  const plan: PlannedAppend = { firstOffset, lastOffset: previousLast, maxTimestamp, batches };
  writeOrUndoEpochs(log, records, plan, nowMs, epochStarts.length > 0, logEnd);
  replayProducers(log, records, parsed, plan);
  log.afterAppend(plan);
  return { firstOffset, lastOffset: previousLast, logAppendTimeMs: -1, logStartOffset: log.logStartOffset, maxTimestamp, duplicate: false };
}

/**
 * Writes a transaction marker (a control batch built here) at the log end and closes the
 * producer's open transaction; returns it (null: none was open). The producer checks come first,
 * so a refused marker leaves the log as it was.
 */
export function appendMarkerToLog(log: AppendTarget, marker: TxnMarkerAppend, leaderEpoch: number, nowMs: number): CompletedTxn | null {
  const offset = log.logEndOffset;
  const producerAppend = log.producerState.beginAppend();
  const completed = producerAppend.stageMarker(marker, offset, nowMs);
  const bytes = encodeTxnMarkerBatch(marker.producerId, marker.producerEpoch, marker.coordinatorEpoch, marker.committed, offset, leaderEpoch, nowMs);
  if (log.config.messageTimestampType === 'LogAppendTime') patchLogAppendTime(bytes, 0, bytes.length, nowMs);
  const newEpoch = assignIfNewEpoch(log.epochCache, leaderEpoch, offset);
  const plan: PlannedAppend = { firstOffset: offset, lastOffset: offset, maxTimestamp: nowMs, batches: [{ positionInBuffer: 0, baseOffset: offset, lastOffset: offset, maxTimestamp: nowMs, sizeInBytes: bytes.length }] };
  writeOrUndoEpochs(log, bytes, plan, nowMs, newEpoch, offset);
  producerAppend.commit(offset + 1);
  if (completed !== null && completed.aborted) log.recordAbortedTxn(completed);
  log.afterAppend(plan);
  return completed;
}

/** Writes; when the write fails, drops the epochs this append put in the cache (they have no data). */
function writeOrUndoEpochs(log: AppendTarget, records: Buffer, plan: PlannedAppend, nowMs: number, addedEpochs: boolean, logEndBefore: number): void {
  try {
    log.write(records, plan, nowMs);
  } catch (err) {
    if (addedEpochs) log.epochCache.truncateFromEnd(logEndBefore);
    throw err;
  }
}

/**
 * Producer state after a follower append: the leader checked the batches, so they are replayed
 * unchecked, as recovery does; the result equals the leader's state after the same batches.
 */
function replayProducers(log: AppendTarget, records: Buffer, parsed: readonly ParsedBatch[], plan: PlannedAppend): void {
  const state = log.producerState;
  for (let i = 0; i < parsed.length; i++) {
    const h = parsed[i]!.header;
    if (h.producerId < 0n) continue;
    const b = plan.batches[i]!;
    const batch = producerBatchOf(h);
    const marker = batch.isControl ? readTxnMarker(records.subarray(b.positionInBuffer, b.positionInBuffer + b.sizeInBytes)) : null;
    const completed = state.replay(batch, b.baseOffset, b.lastOffset, b.maxTimestamp, marker);
    if (completed !== null && completed.aborted) log.recordAbortedTxn(completed);
  }
  state.advanceTo(plan.lastOffset + 1);
}

/**
 * Before a leader write at `startOffset`: puts `epoch` into the cache when it is not the latest,
 * and makes sure the file has it; returns whether the entry is new. Two comparisons per append.
 */
export function assignIfNewEpoch(cache: LeaderEpochCache, epoch: number, startOffset: number): boolean {
  if (epoch !== cache.latestEpoch) return cache.assign(epoch, startOffset);
  cache.persistIfDirty();
  return false;
}
