// Fixed layout of a record batch, format v2 (magic 2). The broker reads and patches these fields
// in place; it never decodes the records behind them on the produce or fetch path.
//
//   baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 | crc uint32 |
//   attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64 |
//   producerId int64 | producerEpoch int16 | baseSequence int32 | recordsCount int32 | records...
//
// batchLength counts the bytes after the batchLength field; the CRC32C covers attributes..end.

export const BASE_OFFSET_OFFSET = 0;
export const BATCH_LENGTH_OFFSET = 8;
export const PARTITION_LEADER_EPOCH_OFFSET = 12;
export const MAGIC_OFFSET = 16;
export const CRC_OFFSET = 17;
export const ATTRIBUTES_OFFSET = 21;
export const LAST_OFFSET_DELTA_OFFSET = 23;
export const BASE_TIMESTAMP_OFFSET = 27;
export const MAX_TIMESTAMP_OFFSET = 35;
export const PRODUCER_ID_OFFSET = 43;
export const PRODUCER_EPOCH_OFFSET = 51;
export const BASE_SEQUENCE_OFFSET = 53;
export const RECORDS_COUNT_OFFSET = 57;
/** Size of the batch header; the first record starts here. */
export const RECORD_BATCH_OVERHEAD = 61;
/** Bytes before batchLength's payload: baseOffset + batchLength. */
export const LOG_OVERHEAD = 12;

export const ATTR_COMPRESSION_MASK = 0x07;
export const ATTR_TIMESTAMP_TYPE_LOG_APPEND = 0x08;
export const ATTR_TRANSACTIONAL = 0x10;
export const ATTR_CONTROL = 0x20;
export const ATTR_DELETE_HORIZON = 0x40;

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
export const NO_PARTITION_LEADER_EPOCH = -1;

export const enum CompressionType {
  None = 0,
  Gzip = 1,
  Snappy = 2,
  Lz4 = 3,
  Zstd = 4,
}

/** The header fields of one batch, as numbers (offsets as bigint only where 64-bit is needed). */
export interface BatchHeader {
  baseOffset: bigint;
  /** Whole size of the batch on the wire: batchLength + LOG_OVERHEAD. */
  sizeInBytes: number;
  partitionLeaderEpoch: number;
  magic: number;
  crc: number;
  attributes: number;
  lastOffsetDelta: number;
  baseTimestamp: bigint;
  maxTimestamp: bigint;
  producerId: bigint;
  producerEpoch: number;
  baseSequence: number;
  recordsCount: number;
}

/**
 * Reads the header of the batch that starts at `pos`. The caller checks that at least
 * RECORD_BATCH_OVERHEAD bytes are available; the batch body is not touched.
 */
export function readBatchHeader(buf: Buffer, pos: number): BatchHeader {
  return {
    baseOffset: buf.readBigInt64BE(pos + BASE_OFFSET_OFFSET),
    sizeInBytes: buf.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD,
    partitionLeaderEpoch: buf.readInt32BE(pos + PARTITION_LEADER_EPOCH_OFFSET),
    magic: buf.readInt8(pos + MAGIC_OFFSET),
    crc: buf.readUInt32BE(pos + CRC_OFFSET),
    attributes: buf.readInt16BE(pos + ATTRIBUTES_OFFSET),
    lastOffsetDelta: buf.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET),
    baseTimestamp: buf.readBigInt64BE(pos + BASE_TIMESTAMP_OFFSET),
    maxTimestamp: buf.readBigInt64BE(pos + MAX_TIMESTAMP_OFFSET),
    producerId: buf.readBigInt64BE(pos + PRODUCER_ID_OFFSET),
    producerEpoch: buf.readInt16BE(pos + PRODUCER_EPOCH_OFFSET),
    baseSequence: buf.readInt32BE(pos + BASE_SEQUENCE_OFFSET),
    recordsCount: buf.readInt32BE(pos + RECORDS_COUNT_OFFSET),
  };
}
