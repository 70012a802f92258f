// Builds one v2 record batch in place: records are encoded straight into a buffer as they are
// appended (no per-record objects are kept), and `seal` fills the 61-byte header, compresses the
// records section when asked, and computes the CRC. Layout: Kafka's implementation.html.
import {
  ATTR_COMPRESSION_MASK,
  ATTR_TRANSACTIONAL,
  ATTRIBUTES_OFFSET,
  BASE_SEQUENCE_OFFSET,
  BATCH_LENGTH_OFFSET,
  CRC_OFFSET,
  CompressionType,
  LOG_OVERHEAD,
  MAGIC_OFFSET,
  PARTITION_LEADER_EPOCH_OFFSET,
  PRODUCER_EPOCH_OFFSET,
  PRODUCER_ID_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
  BASE_TIMESTAMP_OFFSET,
  MAX_TIMESTAMP_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
} from '../protocol/records/batch-header.js';
import { compress } from '../protocol/records/compression.js';
import { crc32c } from '../protocol/records/crc32c.js';
import { sizeOfVarint, sizeOfVarlong, writeVarint, writeVarlong } from '../protocol/varint.js';

export type Bytes = Buffer | string | null;

export interface HeaderEntry {
  key: string;
  value: Bytes;
}

function byteLen(b: Bytes): number {
  return b === null ? 0 : typeof b === 'string' ? Buffer.byteLength(b, 'utf8') : b.length;
}

function sizeOfField(len: number, isNull: boolean): number {
  return isNull ? 1 : sizeOfVarint(len) + len;
}

// Timestamp deltas within +-2^30 ms (12 days) take the number path; larger ones use bigint.
const SMALL_DELTA = 1 << 30;

function sizeOfTimestampDelta(d: number): number {
  return d > -SMALL_DELTA && d < SMALL_DELTA ? sizeOfVarint(d) : sizeOfVarlong(BigInt(d));
}

export class BatchBuilder {
  private buf: Buffer;
  private pos = RECORD_BATCH_OVERHEAD;
  count = 0;
  baseTimestamp = 0;
  maxTimestamp = 0;
  /** When the first record was appended (ms since epoch), for linger. */
  readonly createdMs: number;

  constructor(capacity: number, createdMs: number) {
    this.buf = Buffer.allocUnsafe(Math.max(capacity, RECORD_BATCH_OVERHEAD + 64));
    this.createdMs = createdMs;
  }

  /** Bytes of the uncompressed batch so far. */
  get sizeInBytes(): number {
    return this.pos;
  }

  /** Buffer bytes held (for buffer.memory accounting). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Encoded size of a record with these fields, including its length prefix. */
  static recordSize(key: Bytes, value: Bytes, headers: readonly HeaderEntry[] | undefined, timestampDelta: number, offsetDelta: number): number {
    const body = BatchBuilder.bodySize(byteLen(key), key === null, byteLen(value), value === null, headers, timestampDelta, offsetDelta);
    return sizeOfVarint(body) + body;
  }

  private static bodySize(
    keyLen: number,
    keyNull: boolean,
    valueLen: number,
    valueNull: boolean,
    headers: readonly HeaderEntry[] | undefined,
    timestampDelta: number,
    offsetDelta: number,
  ): number {
    let n = 1 + sizeOfTimestampDelta(timestampDelta) + sizeOfVarint(offsetDelta) + sizeOfField(keyLen, keyNull) + sizeOfField(valueLen, valueNull);
    const hc = headers === undefined ? 0 : headers.length;
    n += sizeOfVarint(hc);
    for (let i = 0; i < hc; i++) {
      const h = headers![i]!;
      n += sizeOfField(Buffer.byteLength(h.key, 'utf8'), false);
      n += sizeOfField(byteLen(h.value), h.value === null);
    }
    return n;
  }

  /**
   * Appends a record if it fits within `limit` bytes of batch (always, growing the buffer, when
   * the batch is empty). Returns false when it does not fit.
   */
  tryAppend(key: Bytes, value: Bytes, headers: readonly HeaderEntry[] | undefined, timestamp: number, limit: number): boolean {
    const offsetDelta = this.count;
    if (offsetDelta === 0) {
      this.baseTimestamp = timestamp;
      this.maxTimestamp = timestamp;
    }
    const tsDelta = timestamp - this.baseTimestamp;
    const keyLen = byteLen(key);
    const valueLen = byteLen(value);
    const body = BatchBuilder.bodySize(keyLen, key === null, valueLen, value === null, headers, tsDelta, offsetDelta);
    const total = sizeOfVarint(body) + body;
    if (this.pos + total > limit || this.pos + total > this.buf.length) {
      if (this.count > 0) return false;
      if (this.pos + total > this.buf.length) this.grow(this.pos + total);
    }
    const buf = this.buf;
    let p = writeVarint(buf, this.pos, body);
    buf[p++] = 0; // record attributes: unused
    p = tsDelta > -SMALL_DELTA && tsDelta < SMALL_DELTA ? writeVarint(buf, p, tsDelta) : writeVarlong(buf, p, BigInt(tsDelta));
    p = writeVarint(buf, p, offsetDelta);
    p = writeField(buf, p, key, keyLen);
    p = writeField(buf, p, value, valueLen);
    const hc = headers === undefined ? 0 : headers.length;
    p = writeVarint(buf, p, hc);
    for (let i = 0; i < hc; i++) {
      const h = headers![i]!;
      p = writeField(buf, p, h.key, Buffer.byteLength(h.key, 'utf8'));
      p = writeField(buf, p, h.value, byteLen(h.value));
    }
    this.pos = p;
    this.count++;
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    return true;
  }

  private grow(min: number): void {
    const next = Buffer.allocUnsafe(Math.max(min, this.buf.length * 2));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /**
   * Finishes the batch: header, compression, CRC. The result may be a view of the builder's
   * buffer; the builder must not be appended to afterwards.
   */
  seal(opts: { compression: CompressionType; producerId: bigint; producerEpoch: number; baseSequence: number; transactional: boolean }): Buffer {
    let out: Buffer;
    if (opts.compression === CompressionType.None) {
      out = this.buf.subarray(0, this.pos);
    } else {
      const compressed = compress(opts.compression, this.buf.subarray(RECORD_BATCH_OVERHEAD, this.pos));
      out = Buffer.allocUnsafe(RECORD_BATCH_OVERHEAD + compressed.length);
      compressed.copy(out, RECORD_BATCH_OVERHEAD);
    }
    let attributes = opts.compression & ATTR_COMPRESSION_MASK;
    if (opts.transactional) attributes |= ATTR_TRANSACTIONAL;
    out.writeBigInt64BE(0n, 0);
    out.writeInt32BE(out.length - LOG_OVERHEAD, BATCH_LENGTH_OFFSET);
    out.writeInt32BE(-1, PARTITION_LEADER_EPOCH_OFFSET);
    out.writeInt8(2, MAGIC_OFFSET);
    out.writeInt16BE(attributes, ATTRIBUTES_OFFSET);
    out.writeInt32BE(this.count - 1, LAST_OFFSET_DELTA_OFFSET);
    out.writeBigInt64BE(BigInt(this.baseTimestamp), BASE_TIMESTAMP_OFFSET);
    out.writeBigInt64BE(BigInt(this.maxTimestamp), MAX_TIMESTAMP_OFFSET);
    out.writeBigInt64BE(opts.producerId, PRODUCER_ID_OFFSET);
    out.writeInt16BE(opts.producerEpoch, PRODUCER_EPOCH_OFFSET);
    out.writeInt32BE(opts.baseSequence, BASE_SEQUENCE_OFFSET);
    out.writeInt32BE(this.count, RECORDS_COUNT_OFFSET);
    updateCrc(out);
    return out;
  }
}

function writeField(buf: Buffer, p: number, b: Bytes, len: number): number {
  if (b === null) return writeVarint(buf, p, -1);
  p = writeVarint(buf, p, len);
  if (typeof b === 'string') return p + buf.write(b, p, len, 'utf8');
  return p + b.copy(buf, p);
}

/** Recomputes the CRC of a sealed batch (after its producer fields changed). */
export function updateCrc(batch: Buffer): void {
  batch.writeUInt32BE(crc32c(batch.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
}

/** Rewrites the producer id, epoch and base sequence of a sealed batch, and its CRC. */
export function setProducerFields(batch: Buffer, producerId: bigint, producerEpoch: number, baseSequence: number): void {
  batch.writeBigInt64BE(producerId, PRODUCER_ID_OFFSET);
  batch.writeInt16BE(producerEpoch, PRODUCER_EPOCH_OFFSET);
  batch.writeInt32BE(baseSequence, BASE_SEQUENCE_OFFSET);
  updateCrc(batch);
}
