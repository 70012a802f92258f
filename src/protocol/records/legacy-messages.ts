// Message formats v0 and v1 (Kafka before 0.11: "message sets"), for clients that still speak
// them: Produce v0-2 carries them, Fetch v0-3 expects them back. Tributary stores only v2
// batches, so a legacy message set is converted to one v2 batch on produce, and stored batches
// are converted down to a message set for an old fetch. Neither is on a modern client's path.
//
// A message set is a concatenation of
//   offset int64 | messageSize int32 | crc int32 | magic int8 | attributes int8 |
//   [timestamp int64, v1 only] | keyLength int32 (-1 = null) | key | valueLength int32 | value
// where the CRC (CRC-32, not CRC-32C) covers magic..end. Attributes bits 0-2 are the codec of a
// wrapper message whose value is a compressed inner message set (its inner offsets are 0, 1, 2...
// in v1, anything in v0); bit 3 (v1) marks LogAppendTime. Magic sits at byte 16 of an entry, the
// same position as a v2 batch's, which is how a set is told apart.
import { crc32 } from '@node-rs/crc32';
import { ATTR_COMPRESSION_MASK, ATTR_CONTROL, ATTR_TIMESTAMP_TYPE_LOG_APPEND, CompressionType, MAGIC_OFFSET, type BatchHeader } from './batch-header.js';
import { decompress } from './compression.js';
import { CorruptRecordError, INVALID_RECORD_ERROR_CODE } from './errors.js';
import { NO_TIMESTAMP, decodeRecordBatch, encodeRecordBatch, forEachBatch, type BatchRecord } from './record-batch.js';

export type LegacyMagic = 0 | 1;

const ENTRY_OVERHEAD = 12; // offset + messageSize
const V0_HEADER = 4 + 1 + 1; // crc, magic, attributes
const V1_HEADER = V0_HEADER + 8; // + timestamp
const ATTR_V1_LOG_APPEND_TIME = 0x08;

/** A message set that breaks a rule of the old formats other than its framing (Kafka INVALID_RECORD). */
export class InvalidLegacyMessageError extends Error {
  readonly errorCode: number = INVALID_RECORD_ERROR_CODE;

  constructor(message: string) {
    super(message);
    this.name = 'InvalidLegacyMessageError';
  }
}

export interface LegacyConversionLimits {
  /** Messages one produced set may hold (inner messages of compressed wrappers included). */
  maxMessages: number;
  /** Bound on a wrapper's decompressed inner set, and on a stored batch's decompressed records. */
  maxUncompressedBytes: number;
}

/** Whether `records` (a produce partition's payload) is a v0/v1 message set. */
export function isLegacyMessageSet(records: Buffer): boolean {
  return records.length > MAGIC_OFFSET && records[MAGIC_OFFSET]! < 2;
}

interface LegacyMessage {
  timestamp: bigint;
  key: Buffer | null;
  value: Buffer | null;
}

function readBytes(buf: Buffer, pos: number, end: number, what: string): [Buffer | null, number] {
  if (pos + 4 > end) throw new CorruptRecordError(`truncated ${what} length`);
  const len = buf.readInt32BE(pos);
  pos += 4;
  if (len === -1) return [null, pos];
  if (len < 0 || pos + len > end) throw new CorruptRecordError(`${what} length ${len} out of range`);
  return [buf.subarray(pos, pos + len), pos + len];
}

/**
 * Reads the messages of a set into `out` (decompressing wrappers; `inner` forbids nesting).
 * The timestamp of a LogAppendTime wrapper stands for its inner messages, as in Kafka.
 */
function readMessageSet(buf: Buffer, out: LegacyMessage[], limits: LegacyConversionLimits, inner: boolean, codecs: Set<CompressionType>, wrapperTime: bigint | null): void {
  let pos = 0;
  while (pos < buf.length) {
    if (buf.length - pos < ENTRY_OVERHEAD) throw new CorruptRecordError(`truncated message set entry at byte ${pos}`);
    const size = buf.readInt32BE(pos + 8);
    const start = pos + ENTRY_OVERHEAD;
    const end = start + size;
    if (size < V0_HEADER + 8 || end > buf.length) throw new CorruptRecordError(`message at byte ${pos}: size ${size} out of range`);
    const magic = buf[start + 4]!;
    if (magic > 1) throw new InvalidLegacyMessageError(`message at byte ${pos} has magic ${magic} inside a v0/v1 message set`);
    if (magic === 1 && size < V1_HEADER + 8) throw new CorruptRecordError(`message at byte ${pos}: size ${size} out of range`);
    const expected = buf.readUInt32BE(start);
    const actual = crc32(buf.subarray(start + 4, end)) >>> 0;
    if (expected !== actual) throw new CorruptRecordError(`message at byte ${pos}: CRC ${expected} does not match computed ${actual}`);
    const attributes = buf[start + 5]!;
    const timestamp = magic === 1 ? buf.readBigInt64BE(start + 6) : NO_TIMESTAMP;
    const [key, afterKey] = readBytes(buf, start + (magic === 1 ? V1_HEADER : V0_HEADER), end, 'key');
    const [value, afterValue] = readBytes(buf, afterKey, end, 'value');
    if (afterValue !== end) throw new CorruptRecordError(`message at byte ${pos}: ${end - afterValue} bytes after the value`);
    const codec = (attributes & ATTR_COMPRESSION_MASK) as CompressionType;
    if (codec === CompressionType.None) {
      if (out.length >= limits.maxMessages) throw new InvalidLegacyMessageError(`more than ${limits.maxMessages} messages in one message set`);
      out.push({ timestamp: wrapperTime ?? timestamp, key, value });
    } else {
      if (inner) throw new InvalidLegacyMessageError(`message at byte ${pos}: a compressed message inside a compressed message`);
      if (codec > CompressionType.Lz4) throw new InvalidLegacyMessageError(`compression codec ${codec} is not allowed in message format v${magic}`);
      if (value === null) throw new CorruptRecordError(`compressed message at byte ${pos} has no value`);
      let section: Buffer;
      try {
        section = decompress(codec, value, limits.maxUncompressedBytes);
      } catch (err) {
        throw new CorruptRecordError(`message at byte ${pos}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
      }
      codecs.add(codec);
      const logAppend = magic === 1 && (attributes & ATTR_V1_LOG_APPEND_TIME) !== 0;
      readMessageSet(section, out, limits, true, codecs, logAppend ? timestamp : null);
    }
    pos = end;
  }
}

/**
 * Converts a produced v0/v1 message set to one v2 batch (offsets from 0, no producer id), with
 * the codec its wrappers used (none when uncompressed). v0 messages have no timestamp
 * (NO_TIMESTAMP). Throws CorruptRecordError or InvalidLegacyMessageError, each with its Kafka
 * error code.
 */
export function upConvertMessageSet(records: Buffer, limits: LegacyConversionLimits): Buffer {
  const messages: LegacyMessage[] = [];
  const codecs = new Set<CompressionType>();
  readMessageSet(records, messages, limits, false, codecs, null);
  if (messages.length === 0) throw new InvalidLegacyMessageError('the message set holds no messages');
  const batchRecords: BatchRecord[] = messages.map((m) => ({ key: m.key, value: m.value, timestamp: m.timestamp }));
  // One codec for the batch: the wrappers' when they agree (they always do from real producers).
  const compression = codecs.size === 1 ? [...codecs][0]! : CompressionType.None;
  return encodeRecordBatch({ records: batchRecords, compression });
}

function writeMessage(out: Buffer, pos: number, offset: bigint, magic: LegacyMagic, logAppendTime: boolean, timestamp: bigint, key: Buffer | null, value: Buffer | null): number {
  const size = (magic === 1 ? V1_HEADER : V0_HEADER) + 8 + (key?.length ?? 0) + (value?.length ?? 0);
  out.writeBigInt64BE(offset, pos);
  out.writeInt32BE(size, pos + 8);
  const start = pos + ENTRY_OVERHEAD;
  let p = start + 4;
  out[p++] = magic;
  out[p++] = magic === 1 && logAppendTime ? ATTR_V1_LOG_APPEND_TIME : 0;
  if (magic === 1) {
    out.writeBigInt64BE(timestamp, p);
    p += 8;
  }
  for (const b of [key, value]) {
    out.writeInt32BE(b === null ? -1 : b.length, p);
    p += 4;
    if (b !== null) p += b.copy(out, p);
  }
  out.writeUInt32BE(crc32(out.subarray(start + 4, p)) >>> 0, start);
  return p;
}

/** Size of one message of `magic` with this key and value, offset and size fields included. */
export function legacyMessageSize(magic: LegacyMagic, key: Buffer | null, value: Buffer | null): number {
  return ENTRY_OVERHEAD + (magic === 1 ? V1_HEADER : V0_HEADER) + 8 + (key?.length ?? 0) + (value?.length ?? 0);
}

/**
 * Converts stored v2 batches (as a fetch read them: whole batches, maybe a partial one at the
 * end, which is dropped) to an uncompressed message set of `magic`, from offset `fromOffset` on,
 * at most `maxBytes` long except that the first message is always included (as KIP-74 does for
 * batches). Control batches (transaction markers) are left out; headers have no place in the old
 * formats and are dropped. Each batch is decompressed within `limits.maxUncompressedBytes`.
 */
export function downConvertBatches(stored: Buffer, magic: LegacyMagic, fromOffset: bigint, maxBytes: number, limits: LegacyConversionLimits): Buffer {
  const parts: Buffer[] = [];
  let total = 0;
  let full = false;
  forEachBatch(stored, (header: BatchHeader, pos: number) => {
    if ((header.attributes & ATTR_CONTROL) !== 0) return true;
    const batch = decodeRecordBatch(stored, pos, { maxUncompressedBytes: limits.maxUncompressedBytes, skipCrcCheck: true });
    const logAppendTime = (header.attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0;
    for (const r of batch.records) {
      if (r.offset < fromOffset) continue;
      const size = legacyMessageSize(magic, r.key, r.value);
      if (total > 0 && total + size > maxBytes) {
        full = true;
        return false;
      }
      const buf = Buffer.allocUnsafe(size);
      writeMessage(buf, 0, r.offset, magic, logAppendTime, r.timestamp, r.key, r.value);
      parts.push(buf);
      total += size;
    }
    return !full;
  });
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
}

/** Encodes messages as an uncompressed message set (for tests and tools that act as old clients). */
export function encodeLegacyMessageSet(magic: LegacyMagic, messages: readonly { offset?: bigint; timestamp?: bigint; key: Buffer | null; value: Buffer | null }[]): Buffer {
  const total = messages.reduce((n, m) => n + legacyMessageSize(magic, m.key, m.value), 0);
  const out = Buffer.allocUnsafe(total);
  let pos = 0;
  messages.forEach((m, i) => {
    pos = writeMessage(out, pos, m.offset ?? BigInt(i), magic, false, m.timestamp ?? NO_TIMESTAMP, m.key, m.value);
  });
  return out;
}

/** Wraps an encoded inner message set in one compressed wrapper message (v1 inner offsets 0..n-1). */
export function wrapLegacyMessageSet(magic: LegacyMagic, codec: CompressionType, compressedInner: Buffer, lastOffset: bigint, timestamp: bigint = NO_TIMESTAMP): Buffer {
  const out = Buffer.allocUnsafe(legacyMessageSize(magic, null, compressedInner));
  writeMessage(out, 0, lastOffset, magic, false, timestamp, null, compressedInner);
  out[ENTRY_OVERHEAD + 5] = codec;
  // The attributes changed after the CRC was written: write it again.
  out.writeUInt32BE(crc32(out.subarray(ENTRY_OVERHEAD + 4)) >>> 0, ENTRY_OVERHEAD);
  return out;
}
