// Test support for the record walker and produce validation tests: records and batches assembled
// byte by byte (a local zig-zag writer, a hand-written 61-byte header), independent of the
// project's encoder, so a bug mirrored in the encoder and the walker cannot hide. Not used by
// production code.
import { crc32c } from './crc32c.js';

/** Zig-zag varint bytes of `n` (exact for |n| < 2^52). */
export function zz(n: number): number[] {
  let v = n >= 0 ? n * 2 : -n * 2 - 1;
  const out: number[] = [];
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export const utf8 = (s: string): number[] => [...Buffer.from(s)];

/** One field of a record body, with the walker's complaint when it is missing or cut. */
export interface Field {
  name: RegExp;
  bytes: number[];
}

export interface HandRecord {
  offsetDelta?: number;
  timestampDelta?: number;
  /** Default 'key'; null writes length -1. */
  key?: string | null;
  /** Default 'value'; null writes length -1. */
  value?: string | null;
  /** Default one header h1=v1. */
  headers?: [string, string | null][];
}

/** The fields of one record body, in order. */
export function recordFields(opts: HandRecord = {}): Field[] {
  const key = opts.key === undefined ? 'key' : opts.key;
  const value = opts.value === undefined ? 'value' : opts.value;
  const headers = opts.headers ?? [['h1', 'v1']];
  const fields: Field[] = [
    { name: /truncated attributes/, bytes: [0] },
    { name: /timestampDelta/, bytes: zz(opts.timestampDelta ?? 300) },
    { name: /offsetDelta/, bytes: zz(opts.offsetDelta ?? 0) },
    { name: /key length varint/, bytes: key === null ? zz(-1) : [...zz(key.length), ...utf8(key)] },
    { name: /value length varint/, bytes: value === null ? zz(-1) : [...zz(value.length), ...utf8(value)] },
    { name: /header count varint/, bytes: zz(headers.length) },
  ];
  for (const [k, v] of headers) {
    // A record cut right after its header count fails on the count: it promises more than is left.
    fields.push({ name: /header key length varint|header count out of range/, bytes: [...zz(k.length), ...utf8(k)] });
    fields.push({ name: /header value length varint/, bytes: v === null ? zz(-1) : [...zz(v.length), ...utf8(v)] });
  }
  return fields;
}

export function body(fields: Field[]): number[] {
  return fields.flatMap((f) => f.bytes);
}

/** One record: length varint (the body's size unless `length` says otherwise), then the body. */
export function record(bodyBytes: number[], length = bodyBytes.length): number[] {
  return [...zz(length), ...bodyBytes];
}

/** `count` well-formed records with offset deltas 0..count-1 and the given timestamp deltas. */
export function records(count: number, opts: HandRecord = {}): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(...record(body(recordFields({ ...opts, offsetDelta: i }))));
  return out;
}

export interface HandBatch {
  /** recordsCount in the header. */
  count: number;
  /** Default count - 1. */
  lastOffsetDelta?: number;
  /** Attributes: compression codec in bits 0-2, plus any flags. Default 0. */
  attributes?: number;
  baseTimestamp?: bigint;
  maxTimestamp?: bigint;
  producerId?: bigint;
}

/** A v2 batch around `section` (the records, compressed or not) with a valid CRC32C. */
export function batch(section: Buffer | number[], opts: HandBatch): Buffer {
  const payload = Buffer.isBuffer(section) ? section : Buffer.from(section);
  const h = Buffer.alloc(61);
  h.writeBigInt64BE(0n, 0); // base offset
  h.writeInt32BE(61 - 12 + payload.length, 8); // batch length
  h.writeInt32BE(-1, 12); // partition leader epoch
  h.writeInt8(2, 16); // magic
  h.writeInt16BE(opts.attributes ?? 0, 21);
  h.writeInt32BE(opts.lastOffsetDelta ?? opts.count - 1, 23);
  h.writeBigInt64BE(opts.baseTimestamp ?? 1_700_000_000_000n, 27);
  h.writeBigInt64BE(opts.maxTimestamp ?? opts.baseTimestamp ?? 1_700_000_000_000n, 35);
  h.writeBigInt64BE(opts.producerId ?? -1n, 43);
  h.writeInt16BE(-1, 51); // producer epoch
  h.writeInt32BE(-1, 53); // base sequence
  h.writeInt32BE(opts.count, 57);
  const out = Buffer.concat([h, payload]);
  out.writeUInt32BE(crc32c(out.subarray(21)), 17);
  return out;
}
