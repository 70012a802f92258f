// Bounds-checked reader over a Buffer with a sticky error, in the manner of franz-go's reader: the
// first failed read records what failed and moves the cursor to the end, so every later read fails
// too and returns a default. Callers check `error` once at the end instead of after every field,
// and no read throws for any input.
//
// Lengths are checked against the remaining bytes before anything is allocated, so a hostile
// declared count costs a comparison, not memory.

import { readUnsignedVarint } from '../varint.js';

export class Reader {
  readonly buf: Buffer;
  /** Next byte to read. */
  pos: number;
  /** One past the last readable byte; narrowed temporarily while a tagged field is read. */
  end: number;
  /** Description of the first failure, or null while every read has succeeded. */
  error: string | null = null;
  /** Name of the field being read, set by the codec so the error can say where it failed. */
  where = '';

  constructor(buf: Buffer, pos = 0, end: number = buf.length) {
    this.buf = buf;
    this.pos = pos;
    this.end = Math.min(end, buf.length);
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  get ok(): boolean {
    return this.error === null;
  }

  /** Records the first failure and makes every later read fail. */
  fail(reason: string): void {
    if (this.error === null) {
      this.error = this.where === '' ? `${reason} at byte ${this.pos}` : `${this.where}: ${reason} at byte ${this.pos}`;
    }
    this.pos = this.end;
  }

  private short(n: number, what: string): void {
    this.fail(`needs ${n} bytes for ${what}, ${this.end - this.pos} left`);
  }

  int8(): number {
    const p = this.pos;
    if (p + 1 > this.end) {
      this.short(1, 'int8');
      return 0;
    }
    this.pos = p + 1;
    return (this.buf[p]! << 24) >> 24;
  }

  uint8(): number {
    const p = this.pos;
    if (p + 1 > this.end) {
      this.short(1, 'uint8');
      return 0;
    }
    this.pos = p + 1;
    return this.buf[p]!;
  }

  bool(): boolean {
    return this.uint8() !== 0;
  }

  int16(): number {
    const p = this.pos;
    if (p + 2 > this.end) {
      this.short(2, 'int16');
      return 0;
    }
    this.pos = p + 2;
    const b = this.buf;
    return (((b[p]! << 8) | b[p + 1]!) << 16) >> 16;
  }

  uint16(): number {
    const p = this.pos;
    if (p + 2 > this.end) {
      this.short(2, 'uint16');
      return 0;
    }
    this.pos = p + 2;
    const b = this.buf;
    return (b[p]! << 8) | b[p + 1]!;
  }

  int32(): number {
    const p = this.pos;
    if (p + 4 > this.end) {
      this.short(4, 'int32');
      return 0;
    }
    this.pos = p + 4;
    const b = this.buf;
    return (b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!;
  }

  uint32(): number {
    return this.int32() >>> 0;
  }

  int64(): bigint {
    const p = this.pos;
    if (p + 8 > this.end) {
      this.short(8, 'int64');
      return 0n;
    }
    this.pos = p + 8;
    return this.buf.readBigInt64BE(p);
  }

  float64(): number {
    const p = this.pos;
    if (p + 8 > this.end) {
      this.short(8, 'float64');
      return 0;
    }
    this.pos = p + 8;
    return this.buf.readDoubleBE(p);
  }

  /** Unsigned 32-bit varint (at most 5 bytes), as compact lengths and tags use. */
  uvarint(): number {
    const r = readUnsignedVarint(this.buf, this.pos, this.end);
    if (r === null) {
      this.fail('truncated or overlong unsigned varint');
      return 0;
    }
    this.pos = r.next;
    return r.value;
  }

  /** A 16-byte UUID in Kafka's display form: base64url without padding (22 characters). */
  uuid(): string {
    const p = this.pos;
    if (p + 16 > this.end) {
      this.short(16, 'uuid');
      return ZERO_UUID;
    }
    this.pos = p + 16;
    return this.buf.toString('base64url', p, p + 16);
  }

  /** UTF-8 text of `length` bytes; the caller has checked that length is not negative. */
  utf8(length: number): string {
    const p = this.pos;
    if (length > this.end - p) {
      this.short(length, 'string');
      return '';
    }
    this.pos = p + length;
    return this.buf.toString('utf8', p, p + length);
  }

  /** `length` bytes as a view of the input: no copy, so the caller must not reuse the input buffer. */
  view(length: number): Buffer {
    const p = this.pos;
    if (length > this.end - p) {
      this.short(length, 'bytes');
      return EMPTY_BUFFER;
    }
    this.pos = p + length;
    return this.buf.subarray(p, p + length);
  }

  /** `length` bytes copied out of the input. */
  copy(length: number): Buffer {
    const p = this.pos;
    if (length > this.end - p) {
      this.short(length, 'bytes');
      return EMPTY_BUFFER;
    }
    this.pos = p + length;
    return Buffer.from(this.buf.subarray(p, p + length));
  }

  /** Moves past `length` bytes. */
  skip(length: number): void {
    if (length > this.end - this.pos) {
      this.short(length, 'skipped bytes');
      return;
    }
    this.pos += length;
  }
}

/** Kafka's Uuid.ZERO_UUID in display form. */
export const ZERO_UUID = 'AAAAAAAAAAAAAAAAAAAAAA';
export const EMPTY_BUFFER: Buffer = Buffer.alloc(0);
