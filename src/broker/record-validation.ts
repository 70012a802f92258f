// Record-level validation of produced batches, for the topics whose configuration asks for it
// (compacted topics need keys; message.timestamp.before/after.max.ms bound CreateTime
// timestamps). Only then are records decoded; other topics never pay for it.
import { ErrorCode } from '../protocol/errors.js';
import { decodeRecordBatch, forEachBatch } from '../protocol/records/record-batch.js';
import type { RecordRules } from './topic-config.js';

export interface RecordValidationFailure {
  errorCode: number;
  errorMessage: string;
  /** Index of each offending record within its batch, as Produce v8+ reports them. */
  recordErrors: { batchIndex: number; message: string | null }[];
}

/** Checks every record of `records` (already validated batches) against `rules`. */
export function validateRecords(
  records: Buffer,
  rules: RecordRules,
  nowMs: number,
  where: string,
  maxUncompressedBytes: number,
): RecordValidationFailure | null {
  const recordErrors: RecordValidationFailure['recordErrors'] = [];
  let errorCode: number = ErrorCode.NONE;
  let errorMessage = '';
  forEachBatch(records, (header, pos) => {
    if ((header.attributes & 0x20) !== 0) return; // control batches carry no user records
    const batch = decodeRecordBatch(records, pos, { maxUncompressedBytes });
    batch.records.forEach((record, index) => {
      if (rules.requireKeys && record.key === null) {
        errorCode = ErrorCode.INVALID_RECORD;
        errorMessage = `Compacted topic cannot accept message without key in topic partition ${where}.`;
        recordErrors.push({ batchIndex: index, message: errorMessage });
        return;
      }
      const ts = Number(record.timestamp);
      if (nowMs - ts > rules.timestampBeforeMaxMs || ts - nowMs > rules.timestampAfterMaxMs) {
        if (errorCode === ErrorCode.NONE) errorCode = ErrorCode.INVALID_TIMESTAMP;
        const message = `Timestamp ${ts} of message with offset ${record.offset} is out of range. The timestamp should be within [${nowMs - rules.timestampBeforeMaxMs}, ${nowMs + rules.timestampAfterMaxMs}]`;
        if (errorMessage === '') errorMessage = message;
        recordErrors.push({ batchIndex: index, message });
      }
    });
  });
  return recordErrors.length === 0 ? null : { errorCode, errorMessage, recordErrors };
}
