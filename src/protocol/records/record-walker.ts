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
  /** Value of the last successful varint()/varlong(). */
  private value = 0;

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

  /** fail(), for readers that answer a position. */
  private failAt(failure: Failure, at: number): -1 {
    this.fail(failure, at);
    return -1;
  }

  // Readers return the position after what they read and leave the value in this.value, or
  // return -1 when the read ran past `end` or was longer than its type allows. (A field, not a
  // module variable or a result object: the cheapest out-parameter V8 offers on this loop.)

  /** Zig-zag varint (at most 5 bytes). */
  private varint(buf: Buffer, pos: number, end: number): number {
    let raw = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (pos >= end) return -1;
      const b = buf[pos++]!;
      raw |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.value = (raw >>> 1) ^ -(raw & 1);
        return pos;
      }
    }
    return -1;
  }

  /**
   * Zig-zag varlong (at most 10 bytes) as a double: exact up to 2^53 in magnitude, which covers
   * every timestamp delta a clock can produce; beyond that only the sign (the first byte's low
   * bit) and the rough size are kept, enough to compare as huge.
   */
  private varlong(buf: Buffer, pos: number, end: number): number {
    if (pos >= end) return -1;
    const first = buf[pos]!;
    if (first < 0x80) {
      // Deltas of records produced together mostly take one byte: keep that path in integers.
      this.value = (first >>> 1) ^ -(first & 1);
      return pos + 1;
    }
    let raw = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (pos >= end) return -1;
      const b = buf[pos++]!;
      raw += (b & 0x7f) * scale;
      if (b < 0x80) {
        this.value = (first & 1) === 1 ? -(raw + 1) / 2 : raw / 2;
        return pos;
      }
      scale *= 128;
    }
    return -1;
  }

  /** Checks `count` headers from `pos`; returns the position after them, or -1 on a failure. */
  private skipHeaders(buf: Buffer, pos: number, recordEnd: number, count: number): number {
    for (let h = 0; h < count; h++) {
      let at = pos;
      pos = this.varint(buf, pos, recordEnd);
      if (pos < 0) return this.failAt(Failure.HeaderKeyLength, at);
      const keyLength = this.value;
      if (keyLength === -1) return this.failAt(Failure.HeaderKeyNull, at);
      if (keyLength < 0 || keyLength > recordEnd - pos) return this.failAt(Failure.HeaderKeyRange, at);
      pos += keyLength;
      at = pos;
      pos = this.varint(buf, pos, recordEnd);
      if (pos < 0) return this.failAt(Failure.HeaderValueLength, at);
      const valueLength = this.value;
      if (valueLength < -1 || valueLength > recordEnd - pos) return this.failAt(Failure.HeaderValueRange, at);
      if (valueLength > 0) pos += valueLength;
    }
    return pos;
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
    const recordStart = pos;
    this.recordStart = pos;
    pos = this.varint(buf, pos, end);
    if (pos < 0) return this.fail(Failure.Length, recordStart);
    const length = this.value;
    if (length < 0 || length > end - pos) return this.fail(Failure.LengthRange, recordStart);
    const recordEnd = pos + length;
    this.recordEnd = recordEnd;

    if (pos >= recordEnd) return this.fail(Failure.Attributes, pos);
    this.attributes = (buf[pos++]! << 24) >> 24;
    let at = pos;
    this.timestampDeltaPos = pos;
    pos = this.varlong(buf, pos, recordEnd);
    if (pos < 0) return this.fail(Failure.TimestampDelta, at);
    this.timestampDelta = this.value;
    at = pos;
    pos = this.varint(buf, pos, recordEnd);
    if (pos < 0) return this.fail(Failure.OffsetDelta, at);
    this.offsetDelta = this.value;

    at = pos;
    pos = this.varint(buf, pos, recordEnd);
    if (pos < 0) return this.fail(Failure.KeyLength, at);
    const keyLength = this.value;
    if (keyLength < -1 || keyLength > recordEnd - pos) return this.fail(Failure.KeyRange, at);
    this.keyLength = keyLength;
    this.keyStart = pos;
    if (keyLength > 0) pos += keyLength;

    at = pos;
    pos = this.varint(buf, pos, recordEnd);
    if (pos < 0) return this.fail(Failure.ValueLength, at);
    const valueLength = this.value;
    if (valueLength < -1 || valueLength > recordEnd - pos) return this.fail(Failure.ValueRange, at);
    this.valueLength = valueLength;
    this.valueStart = pos;
    if (valueLength > 0) pos += valueLength;

    at = pos;
    pos = this.varint(buf, pos, recordEnd);
    if (pos < 0) return this.fail(Failure.HeaderCount, at);
    const headerCount = this.value;
    if (headerCount < 0 || headerCount > recordEnd - pos) return this.fail(Failure.HeaderCountRange, at);
    this.headerCount = headerCount;
    this.headersStart = pos;
    if (headerCount > 0) {
      pos = this.skipHeaders(buf, pos, recordEnd, headerCount);
      if (pos < 0) return false;
    }
    if (pos !== recordEnd) return this.fail(Failure.SizeMismatch, pos);
    this.pos = recordEnd;
    return true;
  }

}
