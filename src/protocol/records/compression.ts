// Compression codecs for the records section of a v2 batch (attributes bits 0-2).
//
// Decompression is always bounded by `maxOutputBytes`: a hostile producer can send a few KB that
// expand to gigabytes, so each codec refuses from a declared size where the format has one, and
// otherwise stops producing output once the limit is passed. Every failure on bad input surfaces
// as CorruptRecordError; nothing from the native libraries escapes raw.
import { createRequire } from 'node:module';
import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync, gzipSync } from 'node:zlib';
import { compressFrameSync, decompressFrameSync, uncompressSync as lz4UncompressBlockSync } from 'lz4-napi';
import { compressSync as snappyCompressSync, uncompressSync as snappyUncompressSync } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { CompressionType } from './batch-header.js';
import { CorruptRecordError } from './errors.js';
import { readUnsignedVarint } from '../varint.js';

// zstd-napi's binding is a CommonJS native module whose exports ESM cannot name statically.
const zstdBinding = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;

export interface CompressOptions {
  /**
   * Snappy framing to write. 'raw' (default) is what librdkafka produces; 'xerial' is what the
   * Java client produces. Every Kafka consumer reads both.
   */
  snappyFraming?: 'raw' | 'xerial';
  /** Compression level for gzip (zlib 0-9) and zstd (1-22); the codec's default when absent. */
  level?: number;
}

/** Compresses `data` with the given codec. CompressionType.None returns `data` itself. */
export function compress(type: CompressionType, data: Buffer, options: CompressOptions = {}): Buffer {
  switch (type) {
    case CompressionType.None:
      return data;
    case CompressionType.Gzip:
      return options.level === undefined ? gzipSync(data) : gzipSync(data, { level: options.level });
    case CompressionType.Snappy:
      return options.snappyFraming === 'xerial' ? xerialSnappyCompress(data) : rawSnappyCompress(data);
    case CompressionType.Lz4:
      return compressFrameSync(data);
    case CompressionType.Zstd:
      return zstdCompress(data, options.level === undefined ? {} : { compressionLevel: options.level });
    default:
      throw new CorruptRecordError(`unknown compression type ${String(type)}`);
  }
}

/**
 * Decompresses `data`, refusing output larger than `maxOutputBytes` without materialising it
 * (at most maxOutputBytes plus one codec block is ever allocated). The result is a new buffer
 * except for CompressionType.None, which returns `data` itself.
 */
export function decompress(type: CompressionType, data: Buffer, maxOutputBytes: number): Buffer {
  switch (type) {
    case CompressionType.None:
      if (data.length > maxOutputBytes) throw tooLarge('uncompressed', data.length, maxOutputBytes);
      return data;
    case CompressionType.Gzip:
      return gunzipBounded(data, maxOutputBytes);
    case CompressionType.Snappy:
      return snappyDecompressBounded(data, maxOutputBytes);
    case CompressionType.Lz4:
      return lz4DecompressBounded(data, maxOutputBytes);
    case CompressionType.Zstd:
      return zstdDecompressBounded(data, maxOutputBytes);
    default:
      throw new CorruptRecordError(`unknown compression type ${String(type)}`);
  }
}

/** Async wrappers, for callers that want the codec off the current tick; same semantics. */
export async function compressAsync(type: CompressionType, data: Buffer, options: CompressOptions = {}): Promise<Buffer> {
  return compress(type, data, options);
}

export async function decompressAsync(type: CompressionType, data: Buffer, maxOutputBytes: number): Promise<Buffer> {
  return decompress(type, data, maxOutputBytes);
}

function tooLarge(codec: string, size: number | string, maxOutputBytes: number): CorruptRecordError {
  return new CorruptRecordError(`${codec} records decompress to ${size} bytes, more than the limit of ${maxOutputBytes}`);
}

function corrupt(codec: string, err: unknown): CorruptRecordError {
  if (err instanceof CorruptRecordError) return err;
  const reason = err instanceof Error ? err.message : String(err);
  return new CorruptRecordError(`corrupt ${codec} data: ${reason}`, { cause: err });
}

// ---------------------------------------------------------------------------------------------
// gzip: zlib stops inflating once maxOutputLength is passed, so the bound is enforced inside.

function gunzipBounded(data: Buffer, maxOutputBytes: number): Buffer {
  try {
    // maxOutputLength must lie in 1..buffer.constants.MAX_LENGTH; a limit of 0 is checked on the result.
    const maxOutputLength = Math.min(Math.max(1, maxOutputBytes), bufferConstants.MAX_LENGTH);
    const out = gunzipSync(data, { maxOutputLength });
    if (out.length > maxOutputBytes) throw tooLarge('gzip', out.length, maxOutputBytes);
    return out;
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw tooLarge('gzip', `more than ${maxOutputBytes}`, maxOutputBytes);
    }
    throw corrupt('gzip', err);
  }
}

// ---------------------------------------------------------------------------------------------
// snappy: raw snappy starts with the uncompressed length as an unsigned varint, so the bound is
// checked before anything is allocated. Xerial framing (Java clients) is a 16-byte header, then
// blocks of int32 compressed length + one raw snappy block each.

const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER_BYTES = 16;
const XERIAL_VERSION = 1;
const XERIAL_MIN_COMPATIBLE_VERSION = 1;
/** Java's SnappyOutputStream default block size. */
const XERIAL_BLOCK_BYTES = 32 * 1024;

function rawSnappyCompress(data: Buffer): Buffer {
  return snappyCompressSync(data);
}

function xerialSnappyCompress(data: Buffer): Buffer {
  const parts: Buffer[] = [];
  const header = Buffer.alloc(XERIAL_HEADER_BYTES);
  XERIAL_MAGIC.copy(header, 0);
  header.writeInt32BE(XERIAL_VERSION, 8);
  header.writeInt32BE(XERIAL_MIN_COMPATIBLE_VERSION, 12);
  parts.push(header);
  for (let pos = 0; pos < data.length; pos += XERIAL_BLOCK_BYTES) {
    const block = snappyCompressSync(data.subarray(pos, pos + XERIAL_BLOCK_BYTES));
    const length = Buffer.alloc(4);
    length.writeInt32BE(block.length, 0);
    parts.push(length, block);
  }
  return Buffer.concat(parts);
}

function isXerialFramed(data: Buffer): boolean {
  return data.length >= XERIAL_HEADER_BYTES && data.subarray(0, XERIAL_MAGIC.length).equals(XERIAL_MAGIC);
}

/** The uncompressed length a raw snappy block declares in its preamble. */
function rawSnappyDeclaredLength(block: Buffer): number {
  const r = readUnsignedVarint(block, 0);
  if (r === null) throw new CorruptRecordError('corrupt snappy data: truncated length preamble');
  return r.value;
}

function rawSnappyUncompress(block: Buffer): Buffer {
  const out = snappyUncompressSync(block, { asBuffer: true });
  if (!Buffer.isBuffer(out)) throw new CorruptRecordError('snappy returned a string for a buffer request');
  return out;
}

function snappyDecompressBounded(data: Buffer, maxOutputBytes: number): Buffer {
  try {
    if (!isXerialFramed(data)) {
      const declared = rawSnappyDeclaredLength(data);
      if (declared > maxOutputBytes) throw tooLarge('snappy', declared, maxOutputBytes);
      return rawSnappyUncompress(data);
    }
    // First pass: walk the block headers and sum the declared sizes; nothing is inflated yet.
    const blocks: Buffer[] = [];
    let total = 0;
    let pos = XERIAL_HEADER_BYTES;
    while (pos < data.length) {
      if (data.length - pos < 4) throw new CorruptRecordError('corrupt xerial snappy data: truncated block length');
      const blockLength = data.readInt32BE(pos);
      pos += 4;
      if (blockLength < 0 || blockLength > data.length - pos) {
        throw new CorruptRecordError(`corrupt xerial snappy data: block length ${blockLength} exceeds the input`);
      }
      const block = data.subarray(pos, pos + blockLength);
      pos += blockLength;
      total += rawSnappyDeclaredLength(block);
      if (total > maxOutputBytes) throw tooLarge('snappy', `at least ${total}`, maxOutputBytes);
      blocks.push(block);
    }
    const out = Buffer.allocUnsafe(total);
    let written = 0;
    for (const block of blocks) written += rawSnappyUncompress(block).copy(out, written);
    return out;
  } catch (err) {
    throw corrupt('snappy', err);
  }
}

// ---------------------------------------------------------------------------------------------
// lz4 (frame format). lz4-napi inflates a whole frame at once and silently ignores what follows
// the first frame, so the frames are walked here first: a frame that declares its content size is
// checked against it; otherwise the block headers bound the output (each block inflates to at most
// the frame's block maximum size). Standard encoders fill every block but the last, so a bound over
// maxOutputBytes + one block means the real output is over the limit too.
//
// Frames of independent blocks (what Kafka's Java client, kafkajs' codecs and lz4-napi write) are
// inflated block by block with lz4-napi's block decoder, several times faster than its frame
// decoder; frames of linked blocks, whose blocks refer back into earlier output, go through the
// frame decoder. Block and content checksums are not verified on the block path: the batch's
// CRC32C already covers these bytes.

const LZ4_FRAME_MAGIC = 0x184d2204;
const LZ4_SKIPPABLE_MAGIC_MASK = 0xfffffff0;
const LZ4_SKIPPABLE_MAGIC_BASE = 0x184d2a50;
/** What ordinary data inflates to per compressed byte, at most: the first guess at a block's size. */
const LZ4_USUAL_EXPANSION = 16;
const LZ4_BLOCK_MAX_BYTES: Record<number, number> = { 4: 64 * 1024, 5: 256 * 1024, 6: 1024 * 1024, 7: 4 * 1024 * 1024 };

interface Lz4FrameInfo {
  end: number;
  /** Position of the first block header. */
  blocksStart: number;
  independentBlocks: boolean;
  hasBlockChecksum: boolean;
  contentSize: number | null;
  blockMaxBytes: number;
  /** Upper bound on the inflated size from the block headers. */
  boundBytes: number;
}

function walkLz4Frame(data: Buffer, start: number): Lz4FrameInfo {
  let pos = start;
  const need = (n: number, what: string): void => {
    if (data.length - pos < n) throw new CorruptRecordError(`corrupt lz4 data: truncated ${what}`);
  };
  need(7, 'frame header');
  pos += 4; // magic, checked by the caller
  const flags = data[pos++]!;
  const blockDescriptor = data[pos++]!;
  if (flags >> 6 !== 1) throw new CorruptRecordError(`corrupt lz4 data: frame version ${flags >> 6}`);
  const independentBlocks = (flags & 0x20) !== 0;
  const hasBlockChecksum = (flags & 0x10) !== 0;
  const hasContentSize = (flags & 0x08) !== 0;
  const hasContentChecksum = (flags & 0x04) !== 0;
  const hasDictId = (flags & 0x01) !== 0;
  const blockMaxBytes = LZ4_BLOCK_MAX_BYTES[(blockDescriptor >> 4) & 0x07];
  if (blockMaxBytes === undefined) throw new CorruptRecordError('corrupt lz4 data: invalid block maximum size');
  let contentSize: number | null = null;
  if (hasContentSize) {
    need(8, 'content size');
    const size = data.readBigUInt64LE(pos);
    contentSize = size > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(size);
    pos += 8;
  }
  if (hasDictId) {
    need(4, 'dictionary id');
    pos += 4;
  }
  need(1, 'header checksum');
  pos += 1;
  const blocksStart = pos;
  let boundBytes = 0;
  for (;;) {
    need(4, 'block size');
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break; // end mark
    const stored = (word & 0x80000000) !== 0;
    const size = word & 0x7fffffff;
    if (size > blockMaxBytes) throw new CorruptRecordError(`corrupt lz4 data: block of ${size} bytes exceeds the frame's maximum`);
    need(size + (hasBlockChecksum ? 4 : 0), 'block');
    pos += size + (hasBlockChecksum ? 4 : 0);
    boundBytes += stored ? size : blockMaxBytes;
  }
  if (hasContentChecksum) {
    need(4, 'content checksum');
    pos += 4;
  }
  return { end: pos, blocksStart, independentBlocks, hasBlockChecksum, contentSize, blockMaxBytes, boundBytes };
}

/**
 * One LZ4 block. lz4-napi's block decoder takes the output size first (4 bytes LE) and allocates
 * and clears that much, so the size given is what the call costs (4 MiB for every block of a
 * 4 MiB-block frame, however small its output). First a guess that covers ordinary data (LZ4
 * rarely inflates more than 16 times); when that is too small, the exact size counted from the
 * block's sequences, which is cheap exactly then: few input bytes for much output.
 */
function inflateLz4Block(block: Buffer, blockMaxBytes: number): Buffer {
  const input = Buffer.allocUnsafe(4 + block.length);
  block.copy(input, 4);
  const guess = LZ4_USUAL_EXPANSION * block.length + 1024;
  if (guess < blockMaxBytes) {
    input.writeUInt32LE(guess, 0);
    try {
      return lz4UncompressBlockSync(input);
    } catch {
      // did not fit, or is corrupt: the count below tells which
    }
  }
  const size = lz4BlockOutputSize(block);
  if (size < 0) throw new CorruptRecordError('corrupt lz4 data: malformed block');
  if (size > blockMaxBytes) throw new CorruptRecordError(`corrupt lz4 data: block inflates to ${size} bytes, more than the frame's maximum`);
  input.writeUInt32LE(size, 0);
  return lz4UncompressBlockSync(input);
}

/**
 * The output size of an LZ4 block, summed from its sequences (token, literal run, offset, match
 * length) without copying anything; -1 when they do not parse. Reads each input byte at most once.
 */
export function lz4BlockOutputSize(block: Buffer): number {
  const n = block.length;
  let pos = 0;
  let out = 0;
  while (pos < n) {
    const token = block[pos++]!;
    let literals = token >>> 4;
    if (literals === 15) {
      let b = 255;
      while (b === 255) {
        if (pos >= n) return -1;
        b = block[pos++]!;
        literals += b;
      }
    }
    pos += literals;
    out += literals;
    if (pos === n) return out; // the last sequence is literals only
    if (pos + 2 > n) return -1; // literals past the end, or no room for the match offset
    pos += 2;
    let match = token & 15;
    if (match === 15) {
      let b = 255;
      while (b === 255) {
        if (pos >= n) return -1;
        b = block[pos++]!;
        match += b;
      }
    }
    out += match + 4; // a match is at least 4 bytes
  }
  return -1; // a block ends with literals, not a match
}

/** Inflates the blocks of a frame of independent blocks (walkLz4Frame checked their framing). */
function inflateLz4Blocks(data: Buffer, frame: Lz4FrameInfo, outputs: Buffer[]): number {
  let total = 0;
  let pos = frame.blocksStart;
  for (;;) {
    const word = data.readUInt32LE(pos);
    pos += 4;
    if (word === 0) break;
    const size = word & 0x7fffffff;
    const block = data.subarray(pos, pos + size);
    const out = (word & 0x80000000) !== 0 ? block : inflateLz4Block(block, frame.blockMaxBytes);
    outputs.push(out);
    total += out.length;
    pos += size + (frame.hasBlockChecksum ? 4 : 0);
  }
  return total;
}

function lz4DecompressBounded(data: Buffer, maxOutputBytes: number): Buffer {
  try {
    const outputs: Buffer[] = [];
    let total = 0;
    let pos = 0;
    if (data.length === 0) throw new CorruptRecordError('corrupt lz4 data: empty input');
    while (pos < data.length) {
      if (data.length - pos < 4) throw new CorruptRecordError('corrupt lz4 data: trailing bytes after the last frame');
      const magic = data.readUInt32LE(pos);
      if (((magic & LZ4_SKIPPABLE_MAGIC_MASK) >>> 0) === LZ4_SKIPPABLE_MAGIC_BASE) {
        if (data.length - pos < 8) throw new CorruptRecordError('corrupt lz4 data: truncated skippable frame');
        const skip = data.readUInt32LE(pos + 4);
        if (skip > data.length - pos - 8) throw new CorruptRecordError('corrupt lz4 data: truncated skippable frame');
        pos += 8 + skip;
        continue;
      }
      if (magic !== LZ4_FRAME_MAGIC) throw new CorruptRecordError(`corrupt lz4 data: bad frame magic 0x${magic.toString(16)}`);
      const frame = walkLz4Frame(data, pos);
      const remaining = maxOutputBytes - total;
      if (frame.contentSize !== null && frame.contentSize > remaining) {
        throw tooLarge('lz4', `at least ${total + frame.contentSize}`, maxOutputBytes);
      }
      if (frame.contentSize === null && frame.boundBytes > remaining + frame.blockMaxBytes) {
        throw tooLarge('lz4', `about ${total + frame.boundBytes}`, maxOutputBytes);
      }
      let inflated: number;
      if (frame.independentBlocks) {
        inflated = inflateLz4Blocks(data, frame, outputs);
      } else {
        const out = decompressFrameSync(data.subarray(pos, frame.end));
        outputs.push(out);
        inflated = out.length;
      }
      if (frame.contentSize !== null && inflated !== frame.contentSize) {
        throw new CorruptRecordError(`corrupt lz4 data: frame declares ${frame.contentSize} bytes but holds ${inflated}`);
      }
      total += inflated;
      if (total > maxOutputBytes) throw tooLarge('lz4', total, maxOutputBytes);
      pos = frame.end;
    }
    return outputs.length === 1 ? outputs[0]! : Buffer.concat(outputs, total);
  } catch (err) {
    throw corrupt('lz4', err);
  }
}

// ---------------------------------------------------------------------------------------------
// zstd: a declared frame content size over the limit is refused up front; then the frames are
// inflated with the streaming API into chunks that never exceed the remaining allowance + 1 byte,
// so the limit holds whether or not sizes are declared.

const ZSTD_OUT_CHUNK_BYTES = 128 * 1024;
let zstdDecoder: ZstdBinding.DCtx | undefined;

function zstdDecompressBounded(data: Buffer, maxOutputBytes: number): Buffer {
  // A fresh buffer that grows as needed: the result is the caller's to keep.
  const r = zstdDecompressInto(data, maxOutputBytes, Buffer.allocUnsafe(Math.min(ZSTD_OUT_CHUNK_BYTES, maxOutputBytes + 1)));
  return r.buffer.subarray(0, r.length);
}

/**
 * Inflates every zstd frame of `data` into `out` (replaced by a larger copy when it fills up),
 * never writing more than maxOutputBytes + 1 bytes, so the limit holds whether or not sizes are
 * declared. Returns the buffer holding the output (`out` or its replacement) and the output's length.
 */
function zstdDecompressInto(data: Buffer, maxOutputBytes: number, out: Buffer): { buffer: Buffer; length: number } {
  try {
    if (data.length === 0) throw new CorruptRecordError('corrupt zstd data: empty input');
    const declared = zstdBinding.getFrameContentSize(data);
    if (declared !== null && declared > maxOutputBytes) throw tooLarge('zstd', `at least ${declared}`, maxOutputBytes);
    zstdDecoder ??= new zstdBinding.DCtx();
    const dctx = zstdDecoder;
    // A previous call may have failed mid-frame; start from a clean session.
    dctx.reset(zstdBinding.ResetDirective.sessionOnly);
    const limit = maxOutputBytes + 1; // one byte past the limit shows the output is over it
    let total = 0;
    let src = data;
    for (;;) {
      if (total === out.length) {
        if (total >= limit) throw tooLarge('zstd', `more than ${maxOutputBytes}`, maxOutputBytes);
        const grown = Buffer.allocUnsafe(Math.min(limit, Math.max(2 * out.length, ZSTD_OUT_CHUNK_BYTES)));
        out.copy(grown, 0, 0, total);
        out = grown;
      }
      const room = Math.min(out.length, limit) - total;
      const [hint, produced, consumed] = dctx.decompressStream(out.subarray(total, total + room), src);
      src = src.subarray(consumed);
      total += produced;
      if (total > maxOutputBytes) throw tooLarge('zstd', `more than ${maxOutputBytes}`, maxOutputBytes);
      if (src.length === 0) {
        if (hint === 0) break; // every frame complete
        // Output full: more may be buffered inside the decoder; otherwise the input is cut short.
        if (produced < room) throw new CorruptRecordError('corrupt zstd data: truncated frame');
      } else if (produced === 0 && consumed === 0) {
        throw new CorruptRecordError('corrupt zstd data: decoder made no progress');
      }
    }
    return { buffer: out, length: total };
  } catch (err) {
    throw corrupt('zstd', err);
  }
}

// ---------------------------------------------------------------------------------------------
// Transient output for readers that look once and let go (the produce-side record walk).

/** Largest scratch buffer kept between calls; bigger outputs get a buffer of their own. */
const SCRATCH_KEPT_BYTES = 8 * 1024 * 1024;
let scratch: Buffer | null = null;

/**
 * As decompress, except that the result may be a view of a buffer this function reuses: it is
 * valid only until the next call, so the caller must read it synchronously and keep no reference
 * (no slice of it may escape). Saves an allocation, a copy and the garbage per batch where the
 * codec writes into a caller's buffer (zstd); other codecs return a buffer of their own.
 */
export function decompressTransient(type: CompressionType, data: Buffer, maxOutputBytes: number): Buffer {
  if (type !== CompressionType.Zstd) return decompress(type, data, maxOutputBytes);
  scratch ??= Buffer.allocUnsafe(ZSTD_OUT_CHUNK_BYTES);
  const r = zstdDecompressInto(data, maxOutputBytes, scratch);
  // Keep a grown buffer for the next batch, unless it is bigger than worth holding on to.
  if (r.buffer !== scratch && r.buffer.length <= SCRATCH_KEPT_BYTES) scratch = r.buffer;
  return r.buffer.subarray(0, r.length);
}
