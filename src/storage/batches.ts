// Header-level work on a buffer of concatenated v2 batches, shared by PartitionLog and
// MemoryPartitionLog: splitting an append into batches, patching offsets/epoch/timestamps in place,
// and (only for ListOffsets by timestamp) walking the records of one batch with the protocol's
// record walker (framing only; no codecs here).
import {
  ATTRIBUTES_OFFSET,
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE_LOG_APPEND,
  ATTR_TRANSACTIONAL,
  BASE_OFFSET_OFFSET,
  CRC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  RECORD_BATCH_OVERHEAD,
  readBatchHeader,
  type BatchHeader,
} from '../protocol/records/batch-header.js';
import { crc32c } from '../protocol/records/crc32c.js';
import { RecordWalker } from '../protocol/records/record-walker.js';
import { CorruptRecordError, InvalidRecordError, RecordTooLargeError } from './errors.js';
import type { ProducerBatch } from './producer-state.js';

export interface ParsedBatch {
  position: number;
  header: BatchHeader;
}

/**
 * Splits `records` into batches, checking only what is cheap: each batch header is whole, its
 * length fits the buffer, magic is 2, it is no larger than `maxBatchBytes`, and its record count
 * matches lastOffsetDelta (offsets are assigned from it). CRC is the caller's job on produce.
 * `exactRecordCount` false (follower appends): a batch from a compacted leader log keeps its
 * lastOffsetDelta with fewer records, or none, so the count may be anything up to delta + 1.
 */
export function parseAppendBatches(records: Buffer, maxBatchBytes: number, where: string, exactRecordCount = true): ParsedBatch[] {
  const out: ParsedBatch[] = [];
  let pos = 0;
  while (pos < records.length) {
    if (records.length - pos < RECORD_BATCH_OVERHEAD) {
      throw new CorruptRecordError(`${where}: ${records.length - pos} trailing bytes at ${pos} are not a whole batch header`);
    }
    const header = readBatchHeader(records, pos);
    if (header.sizeInBytes < RECORD_BATCH_OVERHEAD || pos + header.sizeInBytes > records.length) {
      throw new CorruptRecordError(`${where}: batch at ${pos} claims ${header.sizeInBytes} bytes, ${records.length - pos} available`);
    }
    if (header.magic !== 2) throw new CorruptRecordError(`${where}: batch at ${pos} has magic ${header.magic}`);
    if (header.sizeInBytes > maxBatchBytes) {
      throw new RecordTooLargeError(`${where}: batch of ${header.sizeInBytes} bytes exceeds max.message.bytes ${maxBatchBytes}`);
    }
    if (exactRecordCount ? header.recordsCount < 1 || header.lastOffsetDelta !== header.recordsCount - 1 : header.recordsCount < 0 || header.lastOffsetDelta < 0 || header.recordsCount > header.lastOffsetDelta + 1) {
      throw new InvalidRecordError(`${where}: batch at ${pos} has ${header.recordsCount} records but lastOffsetDelta ${header.lastOffsetDelta}`);
    }
    out.push({ position: pos, header });
    pos += header.sizeInBytes;
  }
  return out;
}

export function producerBatchOf(header: BatchHeader): ProducerBatch {
  return {
    producerId: header.producerId,
    producerEpoch: header.producerEpoch,
    baseSequence: header.baseSequence,
    lastOffsetDelta: header.lastOffsetDelta,
    isTransactional: (header.attributes & ATTR_TRANSACTIONAL) !== 0,
    isControl: (header.attributes & ATTR_CONTROL) !== 0,
  };
}

/** Patches baseOffset and partitionLeaderEpoch; neither is covered by the CRC. */
export function patchOffsetAndEpoch(records: Buffer, position: number, baseOffset: number, leaderEpoch: number): void {
  records.writeBigInt64BE(BigInt(baseOffset), position + BASE_OFFSET_OFFSET);
  records.writeInt32BE(leaderEpoch, position + PARTITION_LEADER_EPOCH_OFFSET);
}

/** Sets LogAppendTime: timestamp type bit and maxTimestamp, then recomputes the CRC they change. */
export function patchLogAppendTime(records: Buffer, position: number, sizeInBytes: number, nowMs: number): void {
  const attributes = records.readInt16BE(position + ATTRIBUTES_OFFSET);
  records.writeInt16BE(attributes | ATTR_TIMESTAMP_TYPE_LOG_APPEND, position + ATTRIBUTES_OFFSET);
  records.writeBigInt64BE(BigInt(nowMs), position + MAX_TIMESTAMP_OFFSET);
  records.writeUInt32BE(crc32c(records.subarray(position + ATTRIBUTES_OFFSET, position + sizeInBytes)), position + CRC_OFFSET);
}

/** Whether the CRC32C of the batch at `position` matches its bytes (attributes to the end). */
export function batchCrcMatches(records: Buffer, position: number, header: BatchHeader): boolean {
  return crc32c(records.subarray(position + ATTRIBUTES_OFFSET, position + header.sizeInBytes)) === header.crc;
}

/** Reused by every lookup: findRecordInBatch is synchronous, so one walk never overlaps another. */
const lookupWalker = new RecordWalker();

/** Decompresses the records section of a batch; supplied by the broker (storage has no codecs). */
export type RecordsDecompressor = (compression: number, compressed: Buffer) => Buffer;

export interface RecordTimestamp {
  offset: number;
  timestamp: number;
}

/** Batches a first-record lookup reads at most before giving up (compacted gaps, control batches). */
export const FIRST_RECORD_BATCHES_MAX = 8;

/**
 * The first record at or after `offset` and below `maxOffset` (its offset and timestamp), reading
 * whole batches with `readFrom` (the batches from the one holding an offset; empty at the end).
 * Reads at most FIRST_RECORD_BATCHES_MAX batches; null when none holds such a record.
 */
export function firstRecordFrom(readFrom: (offset: number) => Buffer, offset: number, maxOffset: number, decompress?: RecordsDecompressor): RecordTimestamp | null {
  let from = offset;
  for (let i = 0; i < FIRST_RECORD_BATCHES_MAX && from < maxOffset; i++) {
    const batch = readFrom(from);
    if (batch.length === 0) return null;
    const found = findRecordInBatch(batch, from, () => true, decompress);
    if (found !== null) return found.offset < maxOffset ? found : null;
    const header = readBatchHeader(batch, 0);
    from = Number(header.baseOffset) + header.lastOffsetDelta + 1;
  }
  return null;
}

/**
 * The first record of the batch in `batch` (bytes of one whole batch) whose offset is >=
 * minOffset and whose timestamp satisfies `accept`. For LogAppendTime batches every record has the
 * batch's maxTimestamp. A compressed batch without a decompressor is answered at batch level (its
 * first eligible offset with its maxTimestamp): an approximation the broker avoids by passing one.
 */
export function findRecordInBatch(
  batch: Buffer,
  minOffset: number,
  accept: (timestamp: number) => boolean,
  decompress?: RecordsDecompressor,
): RecordTimestamp | null {
  const header = readBatchHeader(batch, 0);
  const baseOffset = Number(header.baseOffset);
  const maxTimestamp = Number(header.maxTimestamp);
  const compression = header.attributes & ATTR_COMPRESSION_MASK;
  if ((header.attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0 || (compression !== 0 && decompress === undefined)) {
    const offset = Math.max(baseOffset, minOffset);
    return offset <= baseOffset + header.lastOffsetDelta && accept(maxTimestamp) ? { offset, timestamp: maxTimestamp } : null;
  }
  let body = batch.subarray(RECORD_BATCH_OVERHEAD, header.sizeInBytes);
  if (compression !== 0) {
    try {
      body = decompress!(compression, body);
    } catch {
      // Stored bytes that do not decompress within the bound (corrupt on disk, or a bomb stored
      // before produce validated records) are answered at batch level, like a batch without a
      // decompressor, rather than failing the lookup.
      const offset = Math.max(baseOffset, minOffset);
      return offset <= baseOffset + header.lastOffsetDelta && accept(maxTimestamp) ? { offset, timestamp: maxTimestamp } : null;
    }
  }
  // Stored batches were checked on produce; a walk that fails all the same finds nothing further.
  const baseTimestamp = Number(header.baseTimestamp);
  const walker = lookupWalker.reset(body, 0, body.length, header.recordsCount);
  while (walker.next()) {
    const offset = baseOffset + walker.offsetDelta;
    const timestamp = baseTimestamp + walker.timestampDelta;
    if (offset >= minOffset && accept(timestamp)) return { offset, timestamp };
  }
  return null;
}

/**
 * What the one record of a control batch (the whole batch in `batch`) says: COMMIT or ABORT and
 * the coordinator epoch, read as Kafka reads EndTransactionMarker. Null when it is no transaction
 * marker (another control type, a compressed or malformed batch).
 */
export function readTxnMarker(batch: Buffer): { committed: boolean; coordinatorEpoch: number } | null {
  const header = readBatchHeader(batch, 0);
  if ((header.attributes & ATTR_CONTROL) === 0 || (header.attributes & ATTR_COMPRESSION_MASK) !== 0 || header.sizeInBytes > batch.length) return null;
  const walker = lookupWalker.reset(batch, RECORD_BATCH_OVERHEAD, header.sizeInBytes, header.recordsCount);
  if (!walker.next() || walker.keyLength < 4 || walker.valueLength < 6) return null;
  const type = batch.readInt16BE(walker.keyStart + 2);
  if (type !== CONTROL_TYPE_ABORT && type !== CONTROL_TYPE_COMMIT) return null;
  return { committed: type === CONTROL_TYPE_COMMIT, coordinatorEpoch: batch.readInt32BE(walker.valueStart + 2) };
}

const CONTROL_TYPE_ABORT = 0;
const CONTROL_TYPE_COMMIT = 1;
/** The one record of a marker: length, attributes, timestampDelta, offsetDelta, key length, key
 *  (version 0, type), value length, value (version 0, coordinator epoch), header count. */
const MARKER_RECORD_BYTES = 1 + 1 + 1 + 1 + 1 + 4 + 1 + 6 + 1;
export const TXN_MARKER_BATCH_BYTES = RECORD_BATCH_OVERHEAD + MARKER_RECORD_BYTES;

/**
 * A transaction marker as Kafka writes it (EndTransactionMarker in MemoryRecords): one control
 * batch, transactional + control, one uncompressed record, base sequence -1. Built here from the
 * fixed layout (storage has no record codec); equal to the protocol's encodeControlBatch bytes.
 */
export function encodeTxnMarkerBatch(producerId: bigint, producerEpoch: number, coordinatorEpoch: number, committed: boolean, baseOffset: number, leaderEpoch: number, timestampMs: number): Buffer {
  const buf = Buffer.alloc(TXN_MARKER_BATCH_BYTES);
  buf.writeBigInt64BE(BigInt(baseOffset), BASE_OFFSET_OFFSET);
  buf.writeInt32BE(TXN_MARKER_BATCH_BYTES - 12, 8);
  buf.writeInt32BE(leaderEpoch, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(2, 16);
  buf.writeInt16BE(ATTR_TRANSACTIONAL | ATTR_CONTROL, ATTRIBUTES_OFFSET);
  buf.writeInt32BE(0, 23); // lastOffsetDelta
  buf.writeBigInt64BE(BigInt(timestampMs), 27);
  buf.writeBigInt64BE(BigInt(timestampMs), MAX_TIMESTAMP_OFFSET);
  buf.writeBigInt64BE(producerId, 43);
  buf.writeInt16BE(producerEpoch, 51);
  buf.writeInt32BE(-1, 53); // baseSequence
  buf.writeInt32BE(1, 57); // recordsCount
  let p = RECORD_BATCH_OVERHEAD;
  // Varints are zigzag: n -> 2n for the small non-negative values here.
  buf[p++] = (MARKER_RECORD_BYTES - 1) * 2;
  buf[p++] = 0; // attributes
  buf[p++] = 0; // timestampDelta
  buf[p++] = 0; // offsetDelta
  buf[p++] = 4 * 2;
  buf.writeInt16BE(0, p);
  buf.writeInt16BE(committed ? CONTROL_TYPE_COMMIT : CONTROL_TYPE_ABORT, p + 2);
  p += 4;
  buf[p++] = 6 * 2;
  buf.writeInt16BE(0, p);
  buf.writeInt32BE(coordinatorEpoch, p + 2);
  p += 6;
  buf[p++] = 0; // headers
  buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
  return buf;
}
