// Record-level validation of every produced batch, as Kafka's LogValidator does before an append:
// one walk over the records (decompressed first when the batch is compressed) checks their framing,
// that offset deltas run 0, 1, 2..., and the rules the topic's config asks for (compacted topics
// need keys; message.timestamp.before/after.max.ms bound CreateTime timestamps).
//
// Error codes follow Kafka: records that do not parse, or disagree with the batch header, are
// INVALID_RECORD (Kafka's InvalidRecordException); a records section that does not decompress
// within the bound is CORRUPT_MESSAGE; rule violations are INVALID_RECORD or INVALID_TIMESTAMP with
// one record error per offending record (Produce v8+ record_errors).
//
// One deliberate difference: Kafka rewrites a compressed batch whose inner offsets are not
// 0, 1, 2... (and stores an uncompressed one as it is). Batches are stored as they arrived here,
// and offsets are assigned from lastOffsetDelta, so such a batch is refused instead.
import { ErrorCode } from '../protocol/errors.js';
import { ATTR_CONTROL, ATTR_TIMESTAMP_TYPE_LOG_APPEND, type BatchHeader } from '../protocol/records/batch-header.js';
import { CorruptRecordError } from '../protocol/records/errors.js';
import { NO_TIMESTAMP, walkBatchRecords } from '../protocol/records/record-batch.js';
import { RecordWalker } from '../protocol/records/record-walker.js';
import { readVarlong } from '../protocol/varint.js';
import type { RecordRules } from './topic-config.js';

export interface RecordError {
  /** Index of the record within its batch, as Produce v8+ reports it. */
  batchIndex: number;
  message: string | null;
}

export interface RecordValidationFailure {
  errorCode: number;
  errorMessage: string;
  recordErrors: RecordError[];
}

/**
 * How far a batch's records may expand when decompressed, per byte of max.message.bytes: the
 * bound that stops a decompression bomb (Kafka has none; legitimate batches compress far less).
 */
export const MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE = 64;

/** Reused for every batch: validation is synchronous, so one walker never serves two at once. */
const walker = new RecordWalker();
const NO_TIMESTAMP_MS = Number(NO_TIMESTAMP);

/**
 * Checks every record of the batch at `pos` in `records`, whose header `header` validateBatch
 * has already checked (framing, CRC). `rules` null: framing and offsets only. `where` names the
 * topic-partition for messages. Reads the records once and allocates nothing per record unless
 * one breaks a rule.
 */
export function validateBatchRecords(
  records: Buffer,
  pos: number,
  header: BatchHeader,
  rules: RecordRules | null,
  nowMs: number,
  where: string,
  maxUncompressedBytes: number,
): RecordValidationFailure | null {
  const count = header.recordsCount;
  if (count <= 0) return invalidRecord(`Invalid reported count for record batch: ${count} in topic partition ${where}.`);
  if (header.lastOffsetDelta !== count - 1) {
    const base = header.baseOffset;
    return invalidRecord(
      `Inconsistent batch offset range [${base}, ${base + BigInt(header.lastOffsetDelta)}] and count of records ${count} in topic partition ${where}.`,
    );
  }
  try {
    walkBatchRecords(walker, records, pos, header, maxUncompressedBytes);
  } catch (err) {
    if (!(err instanceof CorruptRecordError)) throw err;
    return { errorCode: ErrorCode.CORRUPT_MESSAGE, errorMessage: `Record batch at byte ${pos} in topic partition ${where}: ${err.message}.`, recordErrors: [] };
  }
  // Control batches (transaction markers) hold a control key and value, not user records: their
  // framing is checked like any other, the topic's record rules do not apply.
  const applyRules = rules !== null && (header.attributes & ATTR_CONTROL) === 0;
  const requireKeys = applyRules && rules.requireKeys;
  const minTimestamp = applyRules ? nowMs - rules.timestampBeforeMaxMs : -Infinity;
  const maxTimestamp = applyRules ? nowMs + rules.timestampAfterMaxMs : Infinity;
  const checkTimestamps = minTimestamp > -Infinity || maxTimestamp < Infinity;
  const logAppendTime = (header.attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  const baseTimestamp = Number(header.baseTimestamp);
  const batchMaxTimestamp = Number(header.maxTimestamp);
  let violations: Violations | null = null;

  while (walker.next()) {
    const index = walker.index;
    if (walker.offsetDelta !== index) {
      const message = `Inner record offsets must be sequential: record ${index} has offset delta ${walker.offsetDelta}, expected ${index}, in topic partition ${where}.`;
      return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: message, recordErrors: [{ batchIndex: index, message }] };
    }
    if (requireKeys && walker.keyLength === -1) {
      violations ??= new Violations();
      violations.add(index, false, `Compacted topic cannot accept message without key in topic partition ${where}.`);
      continue; // as Kafka: a record refused for its key is not checked further
    }
    if (checkTimestamps) {
      const timestamp = logAppendTime ? batchMaxTimestamp : baseTimestamp + walker.timestampDelta;
      if (timestamp !== NO_TIMESTAMP_MS && (timestamp < minTimestamp || timestamp > maxTimestamp)) {
        // The exact 64-bit value for the message (the walker's double is exact only below 2^53).
        const exact = logAppendTime ? header.maxTimestamp : header.baseTimestamp + readVarlong(walker.buffer, walker.timestampDeltaPos)!.value;
        violations ??= new Violations();
        violations.add(
          index,
          true,
          `Timestamp ${exact} of message with offset ${header.baseOffset + BigInt(index)} is out of range. The timestamp should be within [${minTimestamp}, ${maxTimestamp}]`,
        );
      }
    }
  }
  if (!walker.ok) {
    const message = `Record batch at byte ${pos} in topic partition ${where} is malformed: ${walker.failureMessage()}.`;
    const failed = walker.failedRecordIndex;
    return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: message, recordErrors: failed < 0 ? [] : [{ batchIndex: failed, message }] };
  }
  return violations === null ? null : violations.failure(where);
}

function invalidRecord(message: string): RecordValidationFailure {
  return { errorCode: ErrorCode.INVALID_RECORD, errorMessage: message, recordErrors: [] };
}

/** Records that broke a rule, summed up as Kafka does: any bad timestamp makes the whole answer INVALID_TIMESTAMP. */
class Violations {
  readonly recordErrors: RecordError[] = [];
  private anyTimestamp = false;

  add(batchIndex: number, timestamp: boolean, message: string): void {
    this.recordErrors.push({ batchIndex, message });
    if (timestamp) this.anyTimestamp = true;
  }

  failure(where: string): RecordValidationFailure {
    if (this.anyTimestamp) {
      return {
        errorCode: ErrorCode.INVALID_TIMESTAMP,
        errorMessage: `One or more records have been rejected due to invalid timestamp in topic partition ${where}`,
        recordErrors: this.recordErrors,
      };
    }
    const shown = this.recordErrors.slice(0, 3).map((e) => `RecordError(batchIndex=${e.batchIndex}, message='${e.message}')`);
    return {
      errorCode: ErrorCode.INVALID_RECORD,
      errorMessage: `One or more records have been rejected due to ${this.recordErrors.length} record errors in total, and only showing the first three errors at most: [${shown.join(', ')}]`,
      recordErrors: this.recordErrors,
    };
  }
}
