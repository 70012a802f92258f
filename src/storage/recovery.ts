// Crash recovery of one segment: validate every batch from the start of the file (header sanity,
// magic 2, offsets increasing, CRC32C, batch fits), re-index the valid prefix, and cut the file at
// the first batch that fails. Kept out of the append path; PartitionLog.open decides which
// segments need it (those at or after the recovery point when there was no clean shutdown).
import {
  ATTRIBUTES_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
} from '../protocol/records/batch-header.js';
import { crc32c } from '../protocol/records/crc32c.js';
import type { LogSegment } from './log-segment.js';

export interface RecoveryHooks {
  /** Called for every batch that recovery validated; tests count these. */
  onBatchValidated?(segmentBaseOffset: number, position: number): void;
  /** Called when recovery cuts a segment; `reason` says what was wrong. */
  onTruncated?(segmentBaseOffset: number, position: number, reason: string): void;
}

export interface SegmentRecoveryResult {
  validBatches: number;
  truncatedBytes: number;
  /** Why the file was cut, or null when it was whole. */
  reason: string | null;
}

const RECOVERY_CHUNK_BYTES = 1024 * 1024;

/**
 * Checks the batch at `pos` inside `buf` (which must hold the whole batch: the caller checked
 * sizeInBytes fits). Returns a reason when invalid, null when valid.
 */
export function batchProblem(buf: Buffer, pos: number, expectedMinOffset: number, segmentBaseOffset: number): string | null {
  const header = readBatchHeader(buf, pos);
  if (header.magic !== 2) return `magic ${header.magic}, expected 2`;
  const base = Number(header.baseOffset);
  if (base < expectedMinOffset) return `base offset ${base} below ${expectedMinOffset}`;
  if (header.lastOffsetDelta < 0) return `negative lastOffsetDelta ${header.lastOffsetDelta}`;
  if (base + header.lastOffsetDelta - segmentBaseOffset > 0x7fffffff) return `offset ${base} too far from segment base ${segmentBaseOffset}`;
  const expected = header.crc >>> 0;
  const actual = crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + header.sizeInBytes));
  if (expected !== actual) return `CRC mismatch (stored ${expected}, computed ${actual})`;
  return null;
}

/**
 * Re-validates and re-indexes `segment` from position 0; cuts the file at the first bad batch.
 * Leaves the segment active (indexes open); the caller deactivates it unless it is the last one.
 */
export function recoverSegment(segment: LogSegment, hooks: RecoveryHooks = {}): SegmentRecoveryResult {
  segment.resetForRebuild();
  segment.activate();
  const fileSize = segment.size;
  let pos = 0;
  let chunk: Buffer = Buffer.alloc(0);
  let chunkStart = 0;
  let expectedMinOffset = segment.baseOffset;
  let validBatches = 0;
  let reason: string | null = null;
  while (pos < fileSize) {
    if (fileSize - pos < RECORD_BATCH_OVERHEAD) {
      reason = `${fileSize - pos} trailing bytes, less than a batch header`;
      break;
    }
    if (pos + RECORD_BATCH_OVERHEAD > chunkStart + chunk.length) {
      chunkStart = pos;
      chunk = segment.readAt(pos, Math.min(RECOVERY_CHUNK_BYTES, fileSize - pos));
    }
    const batchLength = chunk.readInt32BE(pos - chunkStart + LOG_OVERHEAD - 4);
    const size = batchLength + LOG_OVERHEAD;
    if (batchLength < RECORD_BATCH_OVERHEAD - LOG_OVERHEAD || chunk[pos - chunkStart + MAGIC_OFFSET] !== 2) {
      reason = `bad header (batchLength ${batchLength}, magic ${chunk[pos - chunkStart + MAGIC_OFFSET]})`;
      break;
    }
    if (pos + size > fileSize) {
      reason = `batch of ${size} bytes at ${pos} runs past the end of the file (${fileSize})`;
      break;
    }
    let batchBuf: Buffer;
    let batchPos: number;
    if (pos + size <= chunkStart + chunk.length) {
      batchBuf = chunk;
      batchPos = pos - chunkStart;
    } else if (size > RECOVERY_CHUNK_BYTES) {
      batchBuf = segment.readAt(pos, size);
      batchPos = 0;
    } else {
      chunkStart = pos;
      chunk = segment.readAt(pos, Math.min(RECOVERY_CHUNK_BYTES, fileSize - pos));
      batchBuf = chunk;
      batchPos = 0;
    }
    const problem = batchProblem(batchBuf, batchPos, expectedMinOffset, segment.baseOffset);
    if (problem !== null) {
      reason = problem;
      break;
    }
    const header = readBatchHeader(batchBuf, batchPos);
    const lastOffset = Number(header.baseOffset) + header.lastOffsetDelta;
    segment.indexBatch(pos, lastOffset, Number(header.maxTimestamp), size);
    hooks.onBatchValidated?.(segment.baseOffset, pos);
    validBatches++;
    expectedMinOffset = lastOffset + 1;
    pos += size;
  }
  let truncatedBytes = 0;
  if (reason !== null) {
    hooks.onTruncated?.(segment.baseOffset, pos, reason);
    truncatedBytes = segment.truncateToPosition(pos);
  }
  return { validBatches, truncatedBytes, reason };
}
