// Record batch v2 (magic 2): encoder and decoder for clients and tools, and the header-only
// validator, scanner and in-place patchers the broker uses on its produce and fetch paths.
//
// Layout of the header: see batch-header.ts. Each record in the (possibly compressed) records
// section is
//   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
//   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value |
//   headersCount varint | headers: keyLength varint, key utf8, valueLength varint (-1 = null), value
//
// Decoding treats its input as hostile: every length is checked against the bytes that remain
// before anything is sliced or allocated, and every failure is a CorruptRecordError.
import {
  ATTR_COMPRESSION_MASK,
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE_LOG_APPEND,
  ATTR_TRANSACTIONAL,
  ATTRIBUTES_OFFSET,
  BASE_OFFSET_OFFSET,
  BATCH_LENGTH_OFFSET,
  type BatchHeader,
  CompressionType,
  CRC_OFFSET,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  NO_PARTITION_LEADER_EPOCH,
  NO_PRODUCER_EPOCH,
  NO_PRODUCER_ID,
  NO_SEQUENCE,
  PARTITION_LEADER_EPOCH_OFFSET,
  readBatchHeader,
  RECORD_BATCH_OVERHEAD,
} from './batch-header.js';
import { compress, type CompressOptions, decompress, decompressTransient } from './compression.js';
import { crc32c } from './crc32c.js';
import { CorruptRecordError, UnsupportedMagicError } from './errors.js';
import { RecordWalker } from './record-walker.js';
import {
  readVarint,
  readVarlong,
  sizeOfVarint,
  sizeOfVarlong,
  writeVarint,
  writeVarlong,
} from '../varint.js';

export const CURRENT_MAGIC = 2;
/** Kafka's RecordBatch.NO_TIMESTAMP. */
export const NO_TIMESTAMP = -1n;
/** Default bound on a batch's decompressed records section when the caller gives none. */
export const DEFAULT_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;
/**
 * Smallest encoded record: length, attributes, timestampDelta, offsetDelta, keyLength,
 * valueLength and headersCount, one byte each. Bounds recordsCount against the bytes present.
 */
export const MIN_RECORD_BYTES = 7;

export interface RecordHeader {
  key: string;
  value: Buffer | null;
}

/** A record to encode. Offsets and timestamps are relative to the batch unless stated. */
export interface BatchRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: RecordHeader[];
  /** Absolute timestamp (ms). Ignored when timestampDelta is given. */
  timestamp?: bigint | number;
  /** Timestamp relative to the batch's baseTimestamp; wins over `timestamp`. */
  timestampDelta?: bigint | number;
  /** Defaults to the record's index in the batch. */
  offsetDelta?: number;
}

/** A decoded record. Buffers are views into the input (or the decompressed section): not copies. */
export interface DecodedRecord {
  offset: bigint;
  /** CreateTime of the record, or the batch's maxTimestamp when the batch uses LogAppendTime. */
  timestamp: bigint;
  offsetDelta: number;
  timestampDelta: bigint;
  attributes: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: RecordHeader[];
}

export interface DecodedBatch {
  header: BatchHeader;
  records: DecodedRecord[];
}

export interface EncodeBatchOptions {
  records: BatchRecord[];
  baseOffset?: bigint | number;
  compression?: CompressionType;
  compressOptions?: CompressOptions;
  producerId?: bigint | number;
  producerEpoch?: number;
  baseSequence?: number;
  partitionLeaderEpoch?: number;
  transactional?: boolean;
  control?: boolean;
  /** Defaults to the first record's timestamp, or NO_TIMESTAMP when it has none. */
  baseTimestamp?: bigint | number;
  /** When set, the batch uses LogAppendTime and this is its maxTimestamp. */
  logAppendTime?: bigint | number;
  /**
   * Override for batches whose last records were compacted away (Kafka keeps the original
   * lastOffsetDelta); must not be below the largest record offsetDelta.
   */
  lastOffsetDelta?: number;
}

export interface DecodeBatchOptions {
  /** Bound on the decompressed records section; DEFAULT_MAX_UNCOMPRESSED_BYTES when absent. */
  maxUncompressedBytes?: number;
  /** Skip the CRC check, e.g. when validateBatch has already run on these bytes. */
  skipCrcCheck?: boolean;
}

// ---------------------------------------------------------------------------------------------
// Encoding

interface PreparedRecord {
  record: BatchRecord;
  offsetDelta: number;
  timestampDelta: bigint;
  headerKeys: Buffer[];
  bodySize: number;
}

function sizeOfBytes(b: Buffer | null): number {
  return b === null ? sizeOfVarint(-1) : sizeOfVarint(b.length) + b.length;
}

function writeBytes(buf: Buffer, pos: number, b: Buffer | null): number {
  if (b === null) return writeVarint(buf, pos, -1);
  pos = writeVarint(buf, pos, b.length);
  return pos + b.copy(buf, pos);
}

function encodeRecords(prepared: PreparedRecord[]): Buffer {
  let total = 0;
  for (const p of prepared) total += sizeOfVarint(p.bodySize) + p.bodySize;
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const p of prepared) {
    pos = writeVarint(buf, pos, p.bodySize);
    const start = pos;
    buf.writeInt8(0, pos++); // record attributes: unused
    pos = writeVarlong(buf, pos, p.timestampDelta);
    pos = writeVarint(buf, pos, p.offsetDelta);
    pos = writeBytes(buf, pos, p.record.key);
    pos = writeBytes(buf, pos, p.record.value);
    const headers = p.record.headers ?? [];
    pos = writeVarint(buf, pos, headers.length);
    headers.forEach((h, i) => {
      pos = writeBytes(buf, pos, p.headerKeys[i]!);
      pos = writeBytes(buf, pos, h.value);
    });
    if (pos - start !== p.bodySize) throw new Error(`record size mismatch: computed ${p.bodySize}, wrote ${pos - start}`);
  }
  return buf;
}

/** Encodes one v2 batch: computes lastOffsetDelta, maxTimestamp, batchLength and the CRC32C. */
export function encodeRecordBatch(opts: EncodeBatchOptions): Buffer {
  const records = opts.records;
  const firstTimestamp = records[0]?.timestamp;
  const baseTimestamp = BigInt(opts.baseTimestamp ?? firstTimestamp ?? NO_TIMESTAMP);
  let maxTimestamp = NO_TIMESTAMP;
  let maxOffsetDelta = -1;
  const prepared: PreparedRecord[] = records.map((record, index) => {
    const offsetDelta = record.offsetDelta ?? index;
    if (!Number.isInteger(offsetDelta) || offsetDelta < 0) throw new RangeError(`invalid offsetDelta ${offsetDelta}`);
    let timestampDelta: bigint;
    if (record.timestampDelta !== undefined) timestampDelta = BigInt(record.timestampDelta);
    else if (record.timestamp !== undefined) timestampDelta = BigInt(record.timestamp) - baseTimestamp;
    else timestampDelta = 0n;
    const timestamp = baseTimestamp + timestampDelta;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    if (offsetDelta > maxOffsetDelta) maxOffsetDelta = offsetDelta;
    const headers = record.headers ?? [];
    const headerKeys = headers.map((h) => Buffer.from(h.key, 'utf8'));
    let bodySize = 1 + sizeOfVarlong(timestampDelta) + sizeOfVarint(offsetDelta);
    bodySize += sizeOfBytes(record.key) + sizeOfBytes(record.value) + sizeOfVarint(headers.length);
    headers.forEach((h, i) => {
      bodySize += sizeOfBytes(headerKeys[i]!) + sizeOfBytes(h.value);
    });
    return { record, offsetDelta, timestampDelta, headerKeys, bodySize };
  });
  const lastOffsetDelta = opts.lastOffsetDelta ?? Math.max(maxOffsetDelta, 0);
  if (lastOffsetDelta < maxOffsetDelta) {
    throw new RangeError(`lastOffsetDelta ${lastOffsetDelta} is below the largest record offsetDelta ${maxOffsetDelta}`);
  }

  const compression = opts.compression ?? CompressionType.None;
  const recordsSection = compress(compression, encodeRecords(prepared), opts.compressOptions);
  let attributes = compression & ATTR_COMPRESSION_MASK;
  if (opts.transactional === true) attributes |= ATTR_TRANSACTIONAL;
  if (opts.control === true) attributes |= ATTR_CONTROL;
  if (opts.logAppendTime !== undefined) {
    attributes |= ATTR_TIMESTAMP_TYPE_LOG_APPEND;
    maxTimestamp = BigInt(opts.logAppendTime);
  }

  const size = RECORD_BATCH_OVERHEAD + recordsSection.length;
  const buf = Buffer.allocUnsafe(size);
  buf.writeBigInt64BE(BigInt(opts.baseOffset ?? 0n), BASE_OFFSET_OFFSET);
  buf.writeInt32BE(size - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
  buf.writeInt32BE(opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH, PARTITION_LEADER_EPOCH_OFFSET);
  buf.writeInt8(CURRENT_MAGIC, MAGIC_OFFSET);
  buf.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
  let pos = ATTRIBUTES_OFFSET + 2;
  pos = buf.writeInt32BE(lastOffsetDelta, pos);
  pos = buf.writeBigInt64BE(baseTimestamp, pos);
  pos = buf.writeBigInt64BE(maxTimestamp, pos);
  pos = buf.writeBigInt64BE(BigInt(opts.producerId ?? NO_PRODUCER_ID), pos);
  pos = buf.writeInt16BE(opts.producerEpoch ?? NO_PRODUCER_EPOCH, pos);
  pos = buf.writeInt32BE(opts.baseSequence ?? NO_SEQUENCE, pos);
  pos = buf.writeInt32BE(records.length, pos);
  recordsSection.copy(buf, pos);
  writeCrc(buf, 0);
  return buf;
}

// ---------------------------------------------------------------------------------------------
// Validation and scanning (no record decoding)

/** CRC32C of the batch at `pos` as it should be stored, over attributes..end. */
export function computeBatchCrc(buf: Buffer, pos: number): number {
  const size = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  return crc32c(buf.subarray(pos + ATTRIBUTES_OFFSET, pos + size));
}

function writeCrc(buf: Buffer, pos: number): void {
  buf.writeUInt32BE(computeBatchCrc(buf, pos), pos + CRC_OFFSET);
}

/**
 * Checks the framing of the batch at `pos`: magic, batchLength against the buffer, then the
 * header's sanity. Does not check the CRC. Returns the header.
 */
/** `reportBase`: what to add to `pos` in messages (the file position of `buf[0]`). */
function checkBatchFraming(buf: Buffer, pos: number, reportBase = 0): BatchHeader {
  const at = pos + reportBase;
  const available = buf.length - pos;
  // Magic sits at the same place in every format, so read it before trusting the v2 layout.
  if (available < MAGIC_OFFSET + 1) {
    throw new CorruptRecordError(`record batch at byte ${at} is truncated: ${available} bytes, need ${RECORD_BATCH_OVERHEAD}`);
  }
  const magic = buf.readInt8(pos + MAGIC_OFFSET);
  if (magic === 0 || magic === 1) throw new UnsupportedMagicError(magic, at);
  if (magic !== CURRENT_MAGIC) throw new CorruptRecordError(`record batch at byte ${at} has unknown magic ${magic}`);
  if (available < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(`record batch at byte ${at} is truncated: ${available} bytes, need ${RECORD_BATCH_OVERHEAD}`);
  }
  const header = readBatchHeader(buf, pos);
  if (header.sizeInBytes < RECORD_BATCH_OVERHEAD) {
    throw new CorruptRecordError(`record batch at byte ${at} declares ${header.sizeInBytes} bytes, less than its header`);
  }
  if (header.sizeInBytes > available) {
    throw new CorruptRecordError(`record batch at byte ${at} declares ${header.sizeInBytes} bytes but only ${available} are present`);
  }
  return header;
}

/**
 * Validates the batch at `pos` for the produce path without decoding its records: enough bytes,
 * batchLength within the buffer, magic 2 (UnsupportedMagicError for 0/1), CRC32C, a known
 * compression type, recordsCount >= 0 (and plausible for uncompressed batches), and
 * lastOffsetDelta >= 0 when there are records. Throws CorruptRecordError otherwise.
 * The batch may be followed by more bytes; header.sizeInBytes says where it ends.
 */
export function validateBatch(buf: Buffer, pos: number): BatchHeader {
  const header = checkBatchFraming(buf, pos);
  const crc = computeBatchCrc(buf, pos);
  if (crc !== header.crc) {
    throw new CorruptRecordError(
      `record batch at byte ${pos} (baseOffset ${header.baseOffset}) fails its CRC: stored ${header.crc}, computed ${crc}`,
    );
  }
  const compression = header.attributes & ATTR_COMPRESSION_MASK;
  if (compression > CompressionType.Zstd) {
    throw new CorruptRecordError(`record batch at byte ${pos} uses unknown compression type ${compression}`);
  }
  if (header.recordsCount < 0) {
    throw new CorruptRecordError(`record batch at byte ${pos} has negative recordsCount ${header.recordsCount}`);
  }
  const bodyBytes = header.sizeInBytes - RECORD_BATCH_OVERHEAD;
  if (compression === CompressionType.None && header.recordsCount > bodyBytes / MIN_RECORD_BYTES) {
    throw new CorruptRecordError(
      `record batch at byte ${pos} claims ${header.recordsCount} records in ${bodyBytes} bytes`,
    );
  }
  if (header.recordsCount > 0 && header.lastOffsetDelta < 0) {
    throw new CorruptRecordError(`record batch at byte ${pos} has negative lastOffsetDelta ${header.lastOffsetDelta}`);
  }
  return header;
}

export interface BatchScanResult {
  /** Bytes covered by whole batches, from the start of the buffer: where the scan stopped. */
  endPosition: number;
  /** Bytes after endPosition: a partial batch (fetch responses may end with one), or 0. */
  trailingBytes: number;
  /** True when the callback asked to stop before the end. */
  stoppedEarly: boolean;
}

/**
 * Calls `fn` with the header and position of each whole batch concatenated in `buf`, stopping
 * quietly at a partial trailing batch. Checks framing (magic, sizes) but not CRCs; call
 * validateBatch inside `fn` where that matters. `fn` returns false to stop. Errors name positions
 * as `pos + reportBase` (a caller walking a file in chunks passes the chunk's file position).
 */
export function forEachBatch(buf: Buffer, fn: (header: BatchHeader, pos: number) => boolean | void, reportBase = 0): BatchScanResult {
  let pos = 0;
  while (pos < buf.length) {
    if (!hasWholeBatch(buf, pos)) break;
    const header = checkBatchFraming(buf, pos, reportBase);
    if (fn(header, pos) === false) {
      return { endPosition: pos + header.sizeInBytes, trailingBytes: buf.length - pos - header.sizeInBytes, stoppedEarly: true };
    }
    pos += header.sizeInBytes;
  }
  return { endPosition: pos, trailingBytes: buf.length - pos, stoppedEarly: false };
}

/** Iterates over the whole batches in `buf`; a partial trailing batch is skipped (see forEachBatch). */
export function* iterateBatches(buf: Buffer): Generator<{ header: BatchHeader; pos: number }, BatchScanResult> {
  let pos = 0;
  while (pos < buf.length && hasWholeBatch(buf, pos)) {
    const header = checkBatchFraming(buf, pos);
    yield { header, pos };
    pos += header.sizeInBytes;
  }
  return { endPosition: pos, trailingBytes: buf.length - pos, stoppedEarly: false };
}

/**
 * True when a whole batch starts at `pos`: its length field is readable and the batch fits.
 * A batch that declares a size below a header's is corrupt, not partial, so it counts as "whole"
 * here and checkBatchFraming reports it.
 */
function hasWholeBatch(buf: Buffer, pos: number): boolean {
  const available = buf.length - pos;
  if (available < LOG_OVERHEAD) return false;
  const size = buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  if (size < RECORD_BATCH_OVERHEAD) return true;
  return size <= available;
}

/**
 * Starts `walker` on the records of the batch at `pos` in `buf`, whose framing (and CRC, where it
 * matters) the caller has checked: in place for an uncompressed batch, else over its records
 * section decompressed within `maxUncompressedBytes` (the batch's own bytes are not touched).
 * The decompressed section may be a scratch buffer reused by the next walk: read the walker's
 * fields before starting another, and keep no slice of walker.buffer. Throws CorruptRecordError
 * when the section does not decompress within the bound.
 */
export function walkBatchRecords(walker: RecordWalker, buf: Buffer, pos: number, header: BatchHeader, maxUncompressedBytes: number): RecordWalker {
  const start = pos + RECORD_BATCH_OVERHEAD;
  const end = pos + header.sizeInBytes;
  const compression = (header.attributes & ATTR_COMPRESSION_MASK) as CompressionType;
  if (compression === CompressionType.None) return walker.reset(buf, start, end, header.recordsCount);
  const section = decompressTransient(compression, buf.subarray(start, end), maxUncompressedBytes);
  return walker.reset(section, 0, section.length, header.recordsCount);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/** Reused by every decode: decoding is synchronous, so one walk never overlaps another. */
const decodeWalker = new RecordWalker();

/** The records of one section, framing checked by the shared walker, as objects (views, not copies). */
function decodeRecords(section: Buffer, start: number, end: number, header: BatchHeader, where: string): DecodedRecord[] {
  // Bounds the array allocated below by the bytes present.
  if (header.recordsCount < 0 || header.recordsCount > (end - start) / MIN_RECORD_BYTES) {
    throw new CorruptRecordError(`${where}: recordsCount ${header.recordsCount} does not fit in ${end - start} bytes`);
  }
  const logAppendTime = (header.attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0;
  const records: DecodedRecord[] = new Array(header.recordsCount);
  const walker = decodeWalker.reset(section, start, end, header.recordsCount);
  while (walker.next()) {
    // The walker has checked every length below against the record's bounds.
    const timestampDelta = readVarlong(section, walker.timestampDeltaPos)!.value;
    const headers: RecordHeader[] = [];
    let p = walker.headersStart;
    for (let h = 0; h < walker.headerCount; h++) {
      const keyLength = readVarint(section, p)!;
      const headerKey = section.toString('utf8', keyLength.next, keyLength.next + keyLength.value);
      const valueLength = readVarint(section, keyLength.next + keyLength.value)!;
      p = valueLength.next + Math.max(0, valueLength.value);
      headers.push({ key: headerKey, value: valueLength.value < 0 ? null : section.subarray(valueLength.next, p) });
    }
    records[walker.index] = {
      offset: header.baseOffset + BigInt(walker.offsetDelta),
      timestamp: logAppendTime ? header.maxTimestamp : header.baseTimestamp + timestampDelta,
      offsetDelta: walker.offsetDelta,
      timestampDelta,
      attributes: walker.attributes,
      key: walker.keyLength < 0 ? null : section.subarray(walker.keyStart, walker.keyStart + walker.keyLength),
      value: walker.valueLength < 0 ? null : section.subarray(walker.valueStart, walker.valueStart + walker.valueLength),
      headers,
    };
  }
  if (!walker.ok) throw new CorruptRecordError(`${where}: ${walker.failureMessage()}`);
  return records;
}

/**
 * Decodes the batch at `pos` (default 0): checks framing and the CRC, decompresses the records
 * section within `maxUncompressedBytes`, and returns every record with absolute offset and
 * timestamp. Buffers in the result are views into `buf` or the decompressed section.
 */
export function decodeRecordBatch(buf: Buffer, pos = 0, options: DecodeBatchOptions = {}): DecodedBatch {
  const header = options.skipCrcCheck === true ? checkBatchFraming(buf, pos) : validateBatch(buf, pos);
  const where = `record batch at byte ${pos} (baseOffset ${header.baseOffset})`;
  const compression = (header.attributes & ATTR_COMPRESSION_MASK) as CompressionType;
  if (compression > CompressionType.Zstd) throw new CorruptRecordError(`${where}: unknown compression type ${compression}`);
  const start = pos + RECORD_BATCH_OVERHEAD;
  const end = pos + header.sizeInBytes;
  if (compression === CompressionType.None) {
    return { header, records: decodeRecords(buf, start, end, header, where) };
  }
  const maxBytes = options.maxUncompressedBytes ?? DEFAULT_MAX_UNCOMPRESSED_BYTES;
  let section: Buffer;
  try {
    section = decompress(compression, buf.subarray(start, end), maxBytes);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CorruptRecordError(`${where}: ${reason}`, { cause: err });
  }
  return { header, records: decodeRecords(section, 0, section.length, header, where) };
}

/** Decodes every whole batch in `buf` (e.g. a fetched partition's records), as decodeRecordBatch. */
export function decodeRecordBatches(buf: Buffer, options: DecodeBatchOptions = {}): DecodedBatch[] {
  const batches: DecodedBatch[] = [];
  forEachBatch(buf, (_header, pos) => {
    batches.push(decodeRecordBatch(buf, pos, options));
  });
  return batches;
}

// ---------------------------------------------------------------------------------------------
// Control batches (transaction markers)

/** Control record types (the `type` in a control record's key). */
export const ControlRecordType = {
  Abort: 0,
  Commit: 1,
} as const;

export const CONTROL_RECORD_KEY_VERSION = 0;
export const END_TXN_MARKER_VERSION = 0;

export interface ControlRecordKey {
  version: number;
  /** ControlRecordType.Abort / Commit, or another type written by a newer Kafka. */
  type: number;
}

export interface EndTxnMarker {
  version: number;
  coordinatorEpoch: number;
}

export interface EncodeControlBatchOptions {
  type: 'COMMIT' | 'ABORT';
  producerId: bigint | number;
  producerEpoch: number;
  coordinatorEpoch: number;
  timestamp: bigint | number;
  baseOffset?: bigint | number;
  partitionLeaderEpoch?: number;
}

export function encodeControlRecordKey(key: ControlRecordKey): Buffer {
  const buf = Buffer.allocUnsafe(4);
  buf.writeInt16BE(key.version, 0);
  buf.writeInt16BE(key.type, 2);
  return buf;
}

/** Reads a control record key. Newer versions may append fields; they are ignored, as Kafka does. */
export function decodeControlRecordKey(key: Buffer | null): ControlRecordKey {
  if (key === null || key.length < 4) throw new CorruptRecordError(`control record key of ${key?.length ?? 'null'} bytes; need 4`);
  return { version: key.readInt16BE(0), type: key.readInt16BE(2) };
}

export function encodeEndTxnMarker(marker: EndTxnMarker): Buffer {
  const buf = Buffer.allocUnsafe(6);
  buf.writeInt16BE(marker.version, 0);
  buf.writeInt32BE(marker.coordinatorEpoch, 2);
  return buf;
}

/** Reads the value of a COMMIT/ABORT control record. */
export function decodeEndTxnMarker(value: Buffer | null): EndTxnMarker {
  if (value === null || value.length < 6) {
    throw new CorruptRecordError(`end transaction marker of ${value?.length ?? 'null'} bytes; need 6`);
  }
  return { version: value.readInt16BE(0), coordinatorEpoch: value.readInt32BE(2) };
}

/** Encodes a transaction marker batch: transactional + control, one record, no sequence. */
export function encodeControlBatch(opts: EncodeControlBatchOptions): Buffer {
  const type = opts.type === 'COMMIT' ? ControlRecordType.Commit : ControlRecordType.Abort;
  return encodeRecordBatch({
    records: [
      {
        key: encodeControlRecordKey({ version: CONTROL_RECORD_KEY_VERSION, type }),
        value: encodeEndTxnMarker({ version: END_TXN_MARKER_VERSION, coordinatorEpoch: opts.coordinatorEpoch }),
        headers: [],
        timestamp: opts.timestamp,
      },
    ],
    baseOffset: opts.baseOffset ?? 0n,
    baseTimestamp: opts.timestamp,
    producerId: opts.producerId,
    producerEpoch: opts.producerEpoch,
    baseSequence: NO_SEQUENCE,
    partitionLeaderEpoch: opts.partitionLeaderEpoch ?? NO_PARTITION_LEADER_EPOCH,
    transactional: true,
    control: true,
  });
}

// ---------------------------------------------------------------------------------------------
// In-place patchers for the broker. The CRC covers attributes..end, so baseOffset and
// partitionLeaderEpoch can be rewritten without touching it; anything from attributes on cannot.

export function setBaseOffset(buf: Buffer, pos: number, offset: bigint): void {
  buf.writeBigInt64BE(offset, pos + BASE_OFFSET_OFFSET);
}

export function setPartitionLeaderEpoch(buf: Buffer, pos: number, epoch: number): void {
  buf.writeInt32BE(epoch, pos + PARTITION_LEADER_EPOCH_OFFSET);
}

/**
 * Marks the batch as LogAppendTime with `timestamp` as its maxTimestamp (what a broker does for
 * topics with message.timestamp.type=LogAppendTime), then recomputes the CRC.
 */
export function setMaxTimestampAndLogAppendTime(buf: Buffer, pos: number, timestamp: bigint): void {
  const attributes = buf.readInt16BE(pos + ATTRIBUTES_OFFSET);
  buf.writeInt16BE(attributes | ATTR_TIMESTAMP_TYPE_LOG_APPEND, pos + ATTRIBUTES_OFFSET);
  buf.writeBigInt64BE(timestamp, pos + MAX_TIMESTAMP_OFFSET);
  writeCrc(buf, pos);
}

/** Recomputes and stores the CRC of the batch at `pos`, after a caller patched covered fields. */
export function updateBatchCrc(buf: Buffer, pos: number): void {
  writeCrc(buf, pos);
}
