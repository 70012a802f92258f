// Variable-length integers as Kafka uses them: unsigned varints (LEB128) for compact lengths and
// tagged fields, zig-zag signed varints/varlongs inside records.
//
// Readers take a position and return the value together with the next position, so callers
// keep their own cursor; they return null when the bytes run out or the encoding is too long,
// never throwing, so a hostile buffer costs at most a comparison.

export interface VarintResult {
  value: number;
  next: number;
}

export interface VarlongResult {
  value: bigint;
  next: number;
}

/** Reads an unsigned 32-bit varint (at most 5 bytes). */
export function readUnsignedVarint(buf: Buffer, pos: number, end: number = buf.length): VarintResult | null {
  let value = 0;
  let shift = 0;
  for (let i = 0; i < 5; i++) {
    if (pos >= end) return null;
    const b = buf[pos++]!;
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) return { value: value >>> 0, next: pos };
    shift += 7;
  }
  return null;
}

/** Reads a zig-zag signed 32-bit varint. */
export function readVarint(buf: Buffer, pos: number, end: number = buf.length): VarintResult | null {
  const r = readUnsignedVarint(buf, pos, end);
  if (r === null) return null;
  r.value = (r.value >>> 1) ^ -(r.value & 1);
  return r;
}

/** Reads a zig-zag signed 64-bit varlong (at most 10 bytes). */
export function readVarlong(buf: Buffer, pos: number, end: number = buf.length): VarlongResult | null {
  let raw = 0n;
  let shift = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return null;
    const b = buf[pos++]!;
    raw |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      const value = (raw >> 1n) ^ -(raw & 1n);
      return { value: BigInt.asIntN(64, value), next: pos };
    }
    shift += 7n;
  }
  return null;
}

/** Number of bytes an unsigned varint takes. */
export function sizeOfUnsignedVarint(value: number): number {
  let v = value >>> 0;
  let n = 1;
  while (v >= 0x80) {
    v >>>= 7;
    n++;
  }
  return n;
}

export function sizeOfVarint(value: number): number {
  return sizeOfUnsignedVarint(((value << 1) ^ (value >> 31)) >>> 0);
}

export function sizeOfVarlong(value: bigint): number {
  let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  let n = 1;
  while (v >= 0x80n) {
    v >>= 7n;
    n++;
  }
  return n;
}

/** Writes an unsigned varint at `pos`; the caller has made room. Returns the next position. */
export function writeUnsignedVarint(buf: Buffer, pos: number, value: number): number {
  let v = value >>> 0;
  while (v >= 0x80) {
    buf[pos++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  buf[pos++] = v;
  return pos;
}

export function writeVarint(buf: Buffer, pos: number, value: number): number {
  return writeUnsignedVarint(buf, pos, ((value << 1) ^ (value >> 31)) >>> 0);
}

export function writeVarlong(buf: Buffer, pos: number, value: bigint): number {
  let v = BigInt.asUintN(64, (value << 1n) ^ (value >> 63n));
  while (v >= 0x80n) {
    buf[pos++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  buf[pos++] = Number(v);
  return pos;
}
