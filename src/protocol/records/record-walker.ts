// One walker over the records section of a v2 batch, for every place that must look at records
// without decoding them: the broker's produce validation (framing, offset deltas, keys,
// timestamps, in one pass) and the timestamp lookup of stored batches.
//
// Each record is
//   length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
//   keyLength varint (-1 = null) | key | valueLength varint (-1 = null) | value |
//   headersCount varint | headers: keyLength varint (>= 0), key, valueLength varint (-1 = null), value
// and the section holds exactly recordsCount of them, nothing after the last.
//
// The walker reads varints from the buffer by position and keeps what it found in its own
// fields: it allocates nothing per record (a failure message is formatted only when asked for).
// It checks framing only; what the values must be (offset deltas 0, 1, 2... on produce, keys on
// compacted topics) is the caller's rule, so the same walker also reads compacted stored batches
// whose offset deltas have gaps.
//
// Pure framing over bytes (no codecs): a compressed batch is decompressed by the caller
// (walkBatchRecords in record-batch.ts, or the storage layer with its injected decompressor).

/** Why a walk stopped early, as constant strings (no allocation on the hot path). */
const enum Failure {
  None = 0,
  MissingRecords,
  TrailingBytes,
  Length,
  LengthRange,
  Attributes,
  TimestampDelta,
  OffsetDelta,
  KeyLength,
  KeyRange,
  ValueLength,
  ValueRange,
  HeaderCount,
  HeaderCountRange,
  HeaderKeyLength,
  HeaderKeyNull,
  HeaderKeyRange,
  HeaderValueLength,
  HeaderValueRange,
  SizeMismatch,
}

const FAILURE_TEXT: readonly string[] = [
  '',
  'the batch holds fewer records than its recordsCount',
  'bytes are left after the last record',
  'truncated or overlong length varint',
  'record length out of range',
  'truncated attributes',
  'truncated or overlong timestampDelta varlong',
  'truncated or overlong offsetDelta varint',
  'truncated or overlong key length varint',
  'key length out of range',
  'truncated or overlong value length varint',
  'value length out of range',
  'truncated or overlong header count varint',
  'header count out of range',
  'truncated or overlong header key length varint',
  'null header key',
  'header key length out of range',
  'truncated or overlong header value length varint',
  'header value length out of range',
  'record fields do not end where its length says',
];

// Position after the last successful varint read, or -1 when it ran past `end` or was longer
// than its type allows. Module state is safe: reads are synchronous and never nest.
let nextPos = 0;

/** Zig-zag varint (at most 5 bytes) at `pos`; sets nextPos (-1 on failure). */
function varintAt(buf: Buffer, pos: number, end: number): number {
  let raw = 0;
  for (let shift = 0; shift < 35; shift += 7) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    raw |= (b & 0x7f) << shift;
    if (b < 0x80) {
      nextPos = pos;
      return (raw >>> 1) ^ -(raw & 1);
    }
  }
  nextPos = -1;
  return 0;
}

/**
 * Zig-zag varlong (at most 10 bytes) at `pos` as a double: exact up to 2^53 in magnitude, which
 * covers every timestamp delta a clock can produce; beyond that only the sign (the first byte's
 * low bit) and the rough size are kept, enough to compare as huge. Sets nextPos.
 */
function varlongAt(buf: Buffer, pos: number, end: number): number {
  if (pos >= end) {
    nextPos = -1;
    return 0;
  }
  const negative = (buf[pos]! & 1) === 1;
  let raw = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) break;
    const b = buf[pos++]!;
    raw += (b & 0x7f) * scale;
    if (b < 0x80) {
      nextPos = pos;
      return negative ? -(raw + 1) / 2 : raw / 2;
    }
    scale *= 128;
  }
  nextPos = -1;
  return 0;
}

/**
 * Walks the records in `buf[start, end)`. Use: `reset(...)`, then `while (walker.next())` read
 * the current record's fields; once next() returns false, `ok` says whether the whole section
 * was well formed (exactly recordsCount records, nothing after them) and `failureMessage()` why
 * not. A walker may be reused for any number of sections; it holds no reference after the walk
 * beyond the last buffer.
 */
export class RecordWalker {
  /** Index of the current record within the batch (0-based); -1 before the first. */
  index = -1;
  /** Position of the current record's length varint. */
  recordStart = 0;
  /** Position just after the current record. */
  recordEnd = 0;
  /** The record's attributes byte, as int8 (unused in v2, kept for decoders). */
  attributes = 0;
  timestampDelta = 0;
  offsetDelta = 0;
  /** Position of the timestampDelta varlong, for callers that want its exact 64-bit value. */
  timestampDeltaPos = 0;
  /** -1 for a null key. */
  keyLength = -1;
  keyStart = 0;
  /** -1 for a null value. */
  valueLength = -1;
  valueStart = 0;
  headerCount = 0;
  /** Position of the first header (just after the header count varint). */
  headersStart = 0;

  private buf: Buffer = Buffer.alloc(0);
  private start = 0;
  private pos = 0;
  private end = 0;
  private count = 0;
  private failure = Failure.None;
  private failurePos = 0;

  reset(buf: Buffer, start: number, end: number, recordsCount: number): this {
    this.buf = buf;
    this.start = start;
    this.pos = start;
    this.end = end;
    this.count = recordsCount;
    this.index = -1;
    this.failure = Failure.None;
    this.failurePos = 0;
    return this;
  }

  /** The buffer being walked (the batch's own, or its decompressed records section). */
  get buffer(): Buffer {
    return this.buf;
  }

  /** True when the walk ended with every record well formed and no bytes left over. */
  get ok(): boolean {
    return this.failure === Failure.None && this.index === this.count;
  }

  /**
   * Why the walk failed, naming the record and the byte (counted from the start of the records
   * section, decompressed or not); null when it did not (or has not yet).
   */
  failureMessage(): string | null {
    if (this.failure === Failure.None) return null;
    const at = this.failurePos - this.start;
    if (this.failure === Failure.MissingRecords) {
      return `recordsCount is ${this.count} but the records section ends after ${this.index} records`;
    }
    if (this.failure === Failure.TrailingBytes) {
      return `${this.end - this.failurePos} bytes are left after the last of ${this.count} records, at byte ${at} of the records`;
    }
    return `record ${this.index}: ${FAILURE_TEXT[this.failure]} at byte ${at} of the records`;
  }

  /** Index of the record the walk failed in, or -1 when the failure is not inside one record. */
  get failedRecordIndex(): number {
    return this.failure === Failure.None || this.failure === Failure.MissingRecords || this.failure === Failure.TrailingBytes ? -1 : this.index;
  }

  private fail(failure: Failure, at: number): false {
    this.failure = failure;
    this.failurePos = at;
    this.pos = this.end;
    return false;
  }

  /** Moves to the next record, checking its framing. False at the end of the walk or on a failure. */
  next(): boolean {
    if (this.failure !== Failure.None) return false;
    const buf = this.buf;
    const end = this.end;
    let pos = this.pos;
    const index = ++this.index;
    if (index >= this.count) {
      this.index = this.count;
      return pos === end ? false : this.fail(Failure.TrailingBytes, pos);
    }
    if (pos >= end) return this.fail(Failure.MissingRecords, pos);
    this.recordStart = pos;
    const length = varintAt(buf, pos, end);
    if (nextPos < 0) return this.fail(Failure.Length, pos);
    pos = nextPos;
    if (length < 0 || length > end - pos) return this.fail(Failure.LengthRange, this.recordStart);
    const recordEnd = pos + length;
    this.recordEnd = recordEnd;

    if (pos >= recordEnd) return this.fail(Failure.Attributes, pos);
    this.attributes = (buf[pos++]! << 24) >> 24;
    this.timestampDeltaPos = pos;
    this.timestampDelta = varlongAt(buf, pos, recordEnd);
    if (nextPos < 0) return this.fail(Failure.TimestampDelta, pos);
    pos = nextPos;
    this.offsetDelta = varintAt(buf, pos, recordEnd);
    if (nextPos < 0) return this.fail(Failure.OffsetDelta, pos);
    pos = nextPos;

    const keyLength = varintAt(buf, pos, recordEnd);
    if (nextPos < 0) return this.fail(Failure.KeyLength, pos);
    if (keyLength < -1 || keyLength > recordEnd - nextPos) return this.fail(Failure.KeyRange, pos);
    pos = nextPos;
    this.keyLength = keyLength;
    this.keyStart = pos;
    if (keyLength > 0) pos += keyLength;

    const valueLength = varintAt(buf, pos, recordEnd);
    if (nextPos < 0) return this.fail(Failure.ValueLength, pos);
    if (valueLength < -1 || valueLength > recordEnd - nextPos) return this.fail(Failure.ValueRange, pos);
    pos = nextPos;
    this.valueLength = valueLength;
    this.valueStart = pos;
    if (valueLength > 0) pos += valueLength;

    const headerCount = varintAt(buf, pos, recordEnd);
    if (nextPos < 0) return this.fail(Failure.HeaderCount, pos);
    if (headerCount < 0 || headerCount > recordEnd - nextPos) return this.fail(Failure.HeaderCountRange, pos);
    pos = nextPos;
    this.headerCount = headerCount;
    this.headersStart = pos;
    for (let h = 0; h < headerCount; h++) {
      const headerKeyLength = varintAt(buf, pos, recordEnd);
      if (nextPos < 0) return this.fail(Failure.HeaderKeyLength, pos);
      if (headerKeyLength === -1) return this.fail(Failure.HeaderKeyNull, pos);
      if (headerKeyLength < 0 || headerKeyLength > recordEnd - nextPos) return this.fail(Failure.HeaderKeyRange, pos);
      pos = nextPos + headerKeyLength;
      const headerValueLength = varintAt(buf, pos, recordEnd);
      if (nextPos < 0) return this.fail(Failure.HeaderValueLength, pos);
      if (headerValueLength < -1 || headerValueLength > recordEnd - nextPos) return this.fail(Failure.HeaderValueRange, pos);
      pos = nextPos + (headerValueLength > 0 ? headerValueLength : 0);
    }
    if (pos !== recordEnd) return this.fail(Failure.SizeMismatch, pos);
    this.pos = recordEnd;
    return true;
  }
}
