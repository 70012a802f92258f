// Growable output as a list of chunks. Small values are written into a current buffer; large
// byte fields (record batches above all) are appended as their own chunks without copying, so a
// Fetch response can carry stored batches straight to the socket. A server writes
// `[sizePrefix, ...writer.chunks()]` (length = writer.length) in one corked write.
//
// Growing never copies either: the filled part of the current buffer becomes a finished chunk
// and writing continues in a new, larger buffer.

import { sizeOfUnsignedVarint, writeUnsignedVarint, writeVarint, writeVarlong, sizeOfVarint, sizeOfVarlong } from '../varint.js';
import { ProtocolEncodeError } from './errors.js';

/** Byte fields at least this long are appended as separate chunks instead of being copied. */
export const ZERO_COPY_MIN_BYTES = 4096;

const MAX_BUFFER_BYTES = 1 << 20;

export class Writer {
  private buf: Buffer;
  /** Where the not yet finished part of `buf` begins. */
  private start = 0;
  private pos = 0;
  private readonly finished: Buffer[] = [];
  private finishedBytes = 0;

  constructor(initialBytes = 512) {
    this.buf = Buffer.allocUnsafe(initialBytes);
  }

  /** Total bytes written so far. */
  get length(): number {
    return this.finishedBytes + (this.pos - this.start);
  }

  /**
   * The bytes written so far, in order. Large appended buffers are the caller's own buffers, not
   * copies: they must stay unchanged until the chunks have been written out.
   */
  chunks(): Buffer[] {
    const out = this.finished.slice();
    if (this.pos > this.start) out.push(this.buf.subarray(this.start, this.pos));
    return out;
  }

  /** All bytes as one Buffer (copies when there is more than one chunk). */
  toBuffer(): Buffer {
    const chunks = this.chunks();
    if (chunks.length === 1) return chunks[0]!;
    return Buffer.concat(chunks, this.length);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    this.finishCurrent();
    const size = Math.max(n, Math.min(this.buf.length * 2, MAX_BUFFER_BYTES));
    this.buf = Buffer.allocUnsafe(size);
    this.start = 0;
    this.pos = 0;
  }

  private finishCurrent(): void {
    if (this.pos > this.start) {
      this.finished.push(this.buf.subarray(this.start, this.pos));
      this.finishedBytes += this.pos - this.start;
    }
    this.start = this.pos;
  }

  int8(v: number): void {
    this.ensure(1);
    this.pos = this.buf.writeInt8(v, this.pos);
  }

  uint8(v: number): void {
    this.ensure(1);
    this.pos = this.buf.writeUInt8(v, this.pos);
  }

  bool(v: boolean): void {
    this.ensure(1);
    this.buf[this.pos++] = v ? 1 : 0;
  }

  int16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeInt16BE(v, this.pos);
  }

  uint16(v: number): void {
    this.ensure(2);
    this.pos = this.buf.writeUInt16BE(v, this.pos);
  }

  int32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeInt32BE(v, this.pos);
  }

  uint32(v: number): void {
    this.ensure(4);
    this.pos = this.buf.writeUInt32BE(v, this.pos);
  }

  int64(v: bigint): void {
    this.ensure(8);
    this.pos = this.buf.writeBigInt64BE(v, this.pos);
  }

  float64(v: number): void {
    this.ensure(8);
    this.pos = this.buf.writeDoubleBE(v, this.pos);
  }

  uvarint(v: number): void {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ProtocolEncodeError(`unsigned varint out of range: ${v}`);
    this.ensure(sizeOfUnsignedVarint(v));
    this.pos = writeUnsignedVarint(this.buf, this.pos, v);
  }

  varint(v: number): void {
    this.ensure(sizeOfVarint(v));
    this.pos = writeVarint(this.buf, this.pos, v);
  }

  varlong(v: bigint): void {
    this.ensure(sizeOfVarlong(v));
    this.pos = writeVarlong(this.buf, this.pos, v);
  }

  /** Writes a UUID given in Kafka's display form (22 characters of base64url). */
  uuid(v: string): void {
    this.ensure(16);
    // Node's base64 decoder skips characters it does not know, so check the text round-trips.
    if (v.length !== 22 || this.buf.write(v, this.pos, 16, 'base64url') !== 16 || this.buf.toString('base64url', this.pos, this.pos + 16) !== v) {
      throw new ProtocolEncodeError(`not a uuid in Kafka's display form: ${JSON.stringify(v)}`);
    }
    this.pos += 16;
  }

  /** Writes the UTF-8 bytes of `s`, whose byte length the caller has computed. */
  utf8(s: string, byteLength: number): void {
    this.ensure(byteLength);
    this.pos += this.buf.write(s, this.pos, byteLength, 'utf8');
  }

  /** Appends bytes: copied when small, kept as their own chunk (no copy) when large. */
  bytes(b: Buffer): void {
    const n = b.length;
    if (n >= ZERO_COPY_MIN_BYTES) {
      this.finishCurrent();
      this.finished.push(b);
      this.finishedBytes += n;
      return;
    }
    this.ensure(n);
    this.pos += b.copy(this.buf, this.pos);
  }

  /** Appends everything another writer holds (its large chunks stay uncopied). */
  writer(other: Writer): void {
    for (const c of other.chunks()) this.bytes(c);
  }
}
