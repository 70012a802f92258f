// Crash recovery of one segment: validate every batch from the start of the file (header sanity,
// magic 2, offsets increasing, CRC32C, batch fits) and re-index the valid prefix; and the two
// questions PartitionLog asks before it cuts a log at the first batch that fails: is anything
// valid behind the damage, and does the damage look like a write that a crash cut short. Kept out
// of the append path; PartitionLog.open decides which segments need it.
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

export interface SegmentValidation {
  validBatches: number;
  /** Where the valid prefix ends: the file size when the whole file is valid. */
  validEnd: number;
  /** One past the last offset of the valid prefix (the segment's base offset when it is empty). */
  nextOffset: number;
  /** Why the bytes at `validEnd` are not a batch, or null when the whole file is valid. */
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
 * Re-validates and re-indexes `segment` from position 0 up to the first bad batch, which it
 * reports but does not cut: whether the bytes from there may go is the caller's decision (see
 * PartitionLog's recovery). Leaves the segment active (indexes open); the caller deactivates it
 * unless it is the last one.
 */
export function validateSegment(segment: LogSegment, hooks: RecoveryHooks = {}): SegmentValidation {
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
  return { validBatches, validEnd: pos, nextOffset: expectedMinOffset, reason };
}

/**
 * The position of the first valid batch (whole, magic 2, CRC matching, offsets at or above
 * `minOffset`) that starts at or after `fromPosition`, or null. Looks at every byte where a
 * batch could start, so it finds data behind damage of any length; only recovery calls it, once
 * it has found damage, to tell a torn tail (nothing valid behind it) from damage in the middle.
 */
export function findValidBatch(segment: LogSegment, fromPosition: number, minOffset: number): number | null {
  const fileSize = segment.size;
  let chunkStart = fromPosition;
  while (chunkStart + RECORD_BATCH_OVERHEAD <= fileSize) {
    const chunk = segment.readAt(chunkStart, Math.min(RECOVERY_CHUNK_BYTES, fileSize - chunkStart));
    // Candidates: a magic byte of 2 where a header would have it.
    let at = chunk.indexOf(2, MAGIC_OFFSET);
    while (at !== -1) {
      const p = chunkStart + at - MAGIC_OFFSET;
      if (p + RECORD_BATCH_OVERHEAD > fileSize) return null;
      const header = at - MAGIC_OFFSET + RECORD_BATCH_OVERHEAD <= chunk.length ? readBatchHeader(chunk, at - MAGIC_OFFSET) : readBatchHeader(segment.readAt(p, RECORD_BATCH_OVERHEAD), 0);
      if (
        header.sizeInBytes >= RECORD_BATCH_OVERHEAD &&
        p + header.sizeInBytes <= fileSize &&
        Number(header.baseOffset) >= minOffset &&
        header.lastOffsetDelta >= 0 &&
        batchProblem(segment.readAt(p, header.sizeInBytes), 0, minOffset, segment.baseOffset) === null
      ) {
        return p;
      }
      at = chunk.indexOf(2, at + 1);
    }
    // The next chunk starts where a header could still begin inside this one.
    chunkStart += Math.max(1, chunk.length - RECORD_BATCH_OVERHEAD + 1);
  }
  return null;
}

/**
 * Whether the bytes from `position` to the end of the file look like a write that a crash cut
 * short: fewer bytes than a batch header, zeros (space the file system had allocated but never
 * filled), or one batch whose header is plausible and which runs to or past the end of the file
 * with only zeros after its declared end.
 */
export function looksLikeTornWrite(segment: LogSegment, position: number): boolean {
  const fileSize = segment.size;
  if (fileSize - position < RECORD_BATCH_OVERHEAD) return true;
  const head = segment.readAt(position, RECORD_BATCH_OVERHEAD);
  const header = readBatchHeader(head, 0);
  const plausible = header.magic === 2 && header.sizeInBytes >= RECORD_BATCH_OVERHEAD && header.lastOffsetDelta >= 0;
  const zerosFrom = plausible ? Math.min(fileSize, position + header.sizeInBytes) : position;
  for (let p = zerosFrom; p < fileSize; p += RECOVERY_CHUNK_BYTES) {
    const chunk = segment.readAt(p, Math.min(RECOVERY_CHUNK_BYTES, fileSize - p));
    for (let i = 0; i < chunk.length; i++) if (chunk[i] !== 0) return false;
  }
  return true;
}
