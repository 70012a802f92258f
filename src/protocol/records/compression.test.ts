import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { compressFrameSync, compressSync as lz4Block } from 'lz4-napi';
import { compressSync as rawSnappy } from 'snappy';
import { compress as zstdCompress } from 'zstd-napi';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { CompressionType } from './batch-header.js';
import { compress, decompress, decompressAsync, decompressTransient, lz4BlockOutputSize } from './compression.js';
import { CorruptRecordError } from './errors.js';

const zstdBinding = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;

const MB = 1024 * 1024;
const CODECS: [string, CompressionType][] = [
  ['none', CompressionType.None],
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
];

/** Deterministic pseudo-random bytes (xorshift), so failures reproduce. */
function pseudoRandomBytes(length: number, seed = 12345): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    buf[i] = x & 0xff;
  }
  return buf;
}

/** Half text-like (compressible), half random: exercises literals and matches. */
function mixedBytes(length: number): Buffer {
  const text = Buffer.from('the quick brown fox jumps over the lazy dog; '.repeat(Math.ceil(length / 90)));
  return Buffer.concat([text.subarray(0, length >> 1), pseudoRandomBytes(length - (length >> 1))]);
}

function assertCorrupt(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CorruptRecordError, `expected CorruptRecordError, got ${String(err)}`);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return true;
  });
}

function externalBytes(): number {
  return process.memoryUsage().arrayBuffers;
}

for (const [name, type] of CODECS) {
  test(`${name} round-trips empty, small, 1 MB mixed and 1 MB random inputs`, () => {
    for (const input of [Buffer.alloc(0), Buffer.from('x'), mixedBytes(MB), pseudoRandomBytes(MB, 99)]) {
      const packed = compress(type, input);
      const unpacked = decompress(type, packed, input.length);
      assert.ok(unpacked.equals(input), `${name} round trip of ${input.length} bytes`);
    }
  });

  test(`${name} refuses output one byte over the limit`, () => {
    const input = mixedBytes(64 * 1024);
    assertCorrupt(() => decompress(type, compress(type, input), input.length - 1), /limit/);
  });
}

test('compressing actually shrinks compressible data for every codec', () => {
  const input = Buffer.from('abcdefgh'.repeat(64 * 1024));
  for (const [name, type] of CODECS.slice(1)) {
    assert.ok(compress(type, input).length < input.length / 4, `${name} compresses`);
  }
});

test('decompressAsync gives the same result as decompress', async () => {
  const input = mixedBytes(10_000);
  const out = await decompressAsync(CompressionType.Zstd, compress(CompressionType.Zstd, input), MB);
  assert.ok(out.equals(input));
});

test('decompressTransient gives what decompress gives, for every codec, across growing and shrinking outputs', () => {
  for (const [name, type] of CODECS) {
    for (const size of [10, 300_000, 3 * MB, 1000, 12 * MB, 5]) {
      const input = mixedBytes(size);
      const out = decompressTransient(type, compress(type, input), size);
      assert.ok(out.equals(input), `${name}, ${size} bytes`);
    }
    assertCorrupt(() => decompressTransient(type, compress(type, mixedBytes(5000)), 4999), /limit/);
  }
});

test('decompressTransient reuses its zstd output buffer: the previous result is overwritten', () => {
  const first = decompressTransient(CompressionType.Zstd, compress(CompressionType.Zstd, Buffer.alloc(1000, 1)), MB);
  assert.equal(first[0], 1);
  decompressTransient(CompressionType.Zstd, compress(CompressionType.Zstd, Buffer.alloc(1000, 2)), MB);
  assert.equal(first[0], 2, 'the second call wrote into the first result');
});

// --- lz4 frames ----------------------------------------------------------------------------

/** xxHash32 (seed 0) of a short input, for the header checksum of hand-built lz4 frames. */
function xxh32(input: Buffer): number {
  const P1 = 2654435761, P2 = 2246822519, P3 = 3266489917, P4 = 668265263, P5 = 374761393;
  const rotl = (x: number, r: number) => ((x << r) | (x >>> (32 - r))) >>> 0;
  assert.ok(input.length < 16);
  let h = (P5 + input.length) >>> 0;
  let i = 0;
  for (; i + 4 <= input.length; i += 4) h = Math.imul(rotl((h + Math.imul(input.readUInt32LE(i), P3)) >>> 0, 17), P4) >>> 0;
  for (; i < input.length; i++) h = Math.imul(rotl((h + Math.imul(input[i]!, P5)) >>> 0, 11), P1) >>> 0;
  h = Math.imul(h ^ (h >>> 15), P2) >>> 0;
  h = Math.imul(h ^ (h >>> 13), P3) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

test('lz4 decodes a frame of 64 KiB independent blocks built by hand (as the Java client writes them), stored blocks included', () => {
  const input = mixedBytes(200_000);
  const descriptor = Buffer.from([0x60, 0x40]); // version 1, independent blocks; 64 KiB maximum
  const parts: Buffer[] = [Buffer.from([0x04, 0x22, 0x4d, 0x18]), descriptor, Buffer.from([(xxh32(descriptor) >>> 8) & 0xff])];
  for (let pos = 0, n = 0; pos < input.length; pos += 64 * 1024, n++) {
    const chunk = input.subarray(pos, pos + 64 * 1024);
    // Blocks that do not shrink are stored uncompressed (the high bit of the size), as encoders do.
    const packed = lz4Block(chunk).subarray(4); // lz4-napi prefixes the size
    const stored = packed.length >= chunk.length;
    if (n === 0) assert.equal(stored, false);
    if (n === 3) assert.equal(stored, true);
    const block = stored ? chunk : packed;
    const size = Buffer.alloc(4);
    size.writeUInt32LE((block.length | (stored ? 0x80000000 : 0)) >>> 0);
    parts.push(size, block);
  }
  parts.push(Buffer.alloc(4)); // end mark
  const frame = Buffer.concat(parts);
  assert.ok(decompress(CompressionType.Lz4, frame, input.length).equals(input));
  assertCorrupt(() => decompress(CompressionType.Lz4, frame, input.length - 1), /limit/);
  // A compressed block cut short inside (its size word kept) does not decode.
  const damaged = Buffer.from(frame);
  damaged.fill(0xff, 20, 60);
  assertCorrupt(() => decompress(CompressionType.Lz4, damaged, MB));
});

test('lz4BlockOutputSize counts what a block inflates to from its sequences; a cut block does not count', () => {
  const repetitive = Buffer.concat(Array.from({ length: 1000 }, () => pseudoRandomBytes(1024, 5)));
  for (const input of [Buffer.alloc(0), Buffer.from('x'), mixedBytes(70_000), pseudoRandomBytes(5000), repetitive, Buffer.alloc(3 * MB)]) {
    const block = lz4Block(input).subarray(4);
    assert.equal(lz4BlockOutputSize(block), input.length, `${input.length} bytes`);
    for (const cut of [1, 2, Math.floor(block.length / 2)]) {
      if (cut <= 0 || cut >= block.length) continue;
      const size = lz4BlockOutputSize(block.subarray(0, block.length - cut));
      assert.ok(size === -1 || size < input.length, `cut by ${cut}: ${size}`);
    }
  }
});

test('lz4 inflates blocks far more compressible than usual (the exact size is counted first)', () => {
  const input = Buffer.alloc(3 * MB, 7); // about 250 output bytes per input byte
  const frame = compressFrameSync(input);
  assert.ok(input.length / frame.length > 100);
  assert.ok(decompress(CompressionType.Lz4, frame, input.length).equals(input));
});

test('lz4 frames with block and content checksums, and several 4 MiB blocks, round-trip', () => {
  const input = mixedBytes(9 * MB);
  for (const options of [{}, { blockChecksums: true }, { contentChecksum: true }, { blockChecksums: true, contentChecksum: true }]) {
    const frame = compressFrameSync(input, options);
    assert.ok(decompress(CompressionType.Lz4, frame, input.length).equals(input), JSON.stringify(options));
  }
});

// --- snappy framings -----------------------------------------------------------------------

test('snappy writes raw snappy by default: a varint of the length, no xerial magic', () => {
  const packed = compress(CompressionType.Snappy, Buffer.alloc(300, 1));
  assert.deepEqual([...packed.subarray(0, 2)], [0xac, 0x02]); // 300 as an unsigned varint
});

test('snappy decodes xerial framing built by hand from the Java format', () => {
  const part1 = mixedBytes(40_000);
  const part2 = Buffer.from('second block');
  const header = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]);
  const blocks = [rawSnappy(part1), rawSnappy(part2)].flatMap((b) => {
    const len = Buffer.alloc(4);
    len.writeInt32BE(b.length);
    return [len, b];
  });
  const framed = Buffer.concat([header, ...blocks]);
  const out = decompress(CompressionType.Snappy, framed, MB);
  assert.ok(out.equals(Buffer.concat([part1, part2])));
});

test('snappy xerial encoding writes the magic and 32 KiB blocks, and round-trips', () => {
  const input = mixedBytes(100_000);
  const framed = compress(CompressionType.Snappy, input, { snappyFraming: 'xerial' });
  assert.equal(framed.subarray(0, 8).toString('latin1'), '\x82SNAPPY\x00');
  assert.equal(framed.readInt32BE(8), 1);
  const firstBlockLength = framed.readInt32BE(16);
  // The first block's raw snappy preamble declares 32768 bytes.
  assert.deepEqual([...framed.subarray(20, 23)], [0x80, 0x80, 0x02]);
  assert.ok(firstBlockLength > 0);
  assert.ok(decompress(CompressionType.Snappy, framed, input.length).equals(input));
});

test('snappy xerial with a block length past the end is corrupt', () => {
  const framed = compress(CompressionType.Snappy, mixedBytes(1000), { snappyFraming: 'xerial' });
  framed.writeInt32BE(1_000_000, 16);
  assertCorrupt(() => decompress(CompressionType.Snappy, framed, MB), /block length/);
});

// --- decompression bombs -------------------------------------------------------------------

test('gzip bomb: 200 MB of zeros is refused at a 1 MB limit without materialising it', () => {
  // 200 concatenated gzip members of 1 MB zeros each: a 200 MB stream built from ~200 KB.
  const member = gzipSync(Buffer.alloc(MB));
  const bomb = Buffer.concat(Array.from({ length: 200 }, () => member));
  assert.ok(bomb.length < 300 * 1024);
  const before = externalBytes();
  assertCorrupt(() => decompress(CompressionType.Gzip, bomb, MB), /limit of 1048576/);
  assert.ok(externalBytes() - before < 64 * MB, 'gzip bomb allocated more than 64 MB');
});

test('snappy bomb: a raw header declaring 200 MB is refused before inflating', () => {
  const header = Buffer.alloc(5);
  let v = 200 * MB;
  let i = 0;
  while (v >= 0x80) {
    header[i++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  header[i++] = v;
  const bomb = Buffer.concat([header.subarray(0, i), Buffer.alloc(100)]);
  assertCorrupt(() => decompress(CompressionType.Snappy, bomb, MB), /209715200 bytes/);
});

test('snappy bomb: xerial blocks summing past the limit are refused before inflating', () => {
  const framed = compress(CompressionType.Snappy, Buffer.alloc(2 * MB), { snappyFraming: 'xerial' });
  const before = externalBytes();
  assertCorrupt(() => decompress(CompressionType.Snappy, framed, MB), /limit/);
  assert.ok(externalBytes() - before < 16 * MB);
});

test('lz4 bomb: a frame of many full blocks is refused from its block headers', () => {
  // One lz4-napi frame of 4 MB zeros, its single block repeated 50 times: a 200 MB frame.
  const one = compressFrameSync(Buffer.alloc(4 * MB));
  const flags = one[4]!;
  assert.equal(flags & 0x08, 0, 'lz4-napi frames carry no content size');
  const headerEnd = 7;
  const blockSize = one.readUInt32LE(headerEnd) & 0x7fffffff;
  const block = one.subarray(headerEnd, headerEnd + 4 + blockSize);
  const bomb = Buffer.concat([one.subarray(0, headerEnd), ...Array.from({ length: 50 }, () => block), Buffer.alloc(4)]);
  const before = externalBytes();
  assertCorrupt(() => decompress(CompressionType.Lz4, bomb, MB), /limit/);
  assert.ok(externalBytes() - before < 32 * MB, 'lz4 bomb allocated more than 32 MB');
  // The blocks are valid: a two-block frame built the same way inflates within a larger limit.
  const small = Buffer.concat([one.subarray(0, headerEnd), block, block, Buffer.alloc(4)]);
  assert.ok(decompress(CompressionType.Lz4, small, 8 * MB).equals(Buffer.alloc(8 * MB)));
});

test('lz4 bomb: a frame declaring a 200 MB content size is refused before inflating', () => {
  const frame = Buffer.alloc(4 + 2 + 8 + 1 + 4);
  frame.writeUInt32LE(0x184d2204, 0);
  frame[4] = 0x68; // version 01, independent blocks, content size present
  frame[5] = 0x70; // 4 MB blocks
  frame.writeBigUInt64LE(BigInt(200 * MB), 6);
  assertCorrupt(() => decompress(CompressionType.Lz4, frame, MB), /at least 209715200/);
});

test('zstd bomb: a frame declaring 2 MB is refused from its header at a 1 MB limit', () => {
  assertCorrupt(() => decompress(CompressionType.Zstd, zstdCompress(Buffer.alloc(2 * MB)), MB), /at least 2097152/);
});

test('zstd bomb: a streamed 200 MB frame with no declared size is refused while inflating', () => {
  const cctx = new zstdBinding.CCtx();
  const zeros = Buffer.alloc(MB);
  const out = Buffer.alloc(zstdBinding.cStreamOutSize());
  const parts: Buffer[] = [];
  for (let i = 0; i < 200; i++) {
    let src = zeros;
    const end = i === 199 ? zstdBinding.EndDirective.end : zstdBinding.EndDirective.continue;
    for (;;) {
      const [remaining, produced, consumed] = cctx.compressStream2(out, src, end);
      parts.push(Buffer.from(out.subarray(0, produced)));
      src = src.subarray(consumed);
      if (src.length === 0 && (end === zstdBinding.EndDirective.continue || remaining === 0)) break;
    }
  }
  const bomb = Buffer.concat(parts);
  assert.equal(zstdBinding.getFrameContentSize(bomb), null);
  const before = externalBytes();
  assertCorrupt(() => decompress(CompressionType.Zstd, bomb, MB), /limit/);
  assert.ok(externalBytes() - before < 32 * MB, 'zstd bomb allocated more than 32 MB');
  // The decoder is reusable after a refusal.
  assert.equal(decompress(CompressionType.Zstd, zstdCompress(Buffer.from('ok')), 10).toString(), 'ok');
});

test('zstd: concatenated frames decode in order, and their sum is bounded', () => {
  const a = zstdCompress(Buffer.from('first-'));
  const b = zstdCompress(Buffer.from('second'));
  assert.equal(decompress(CompressionType.Zstd, Buffer.concat([a, b]), 100).toString(), 'first-second');
  assertCorrupt(() => decompress(CompressionType.Zstd, Buffer.concat([a, b]), 8), /limit/);
});

test('lz4: concatenated frames decode in order (lz4-napi alone would drop the second)', () => {
  const a = compressFrameSync(Buffer.from('first-'));
  const b = compressFrameSync(Buffer.from('second'));
  assert.equal(decompress(CompressionType.Lz4, Buffer.concat([a, b]), 100).toString(), 'first-second');
});

// --- corrupt input -------------------------------------------------------------------------

test('corrupt and truncated input to every codec raises only CorruptRecordError', () => {
  const input = mixedBytes(20_000);
  for (const [name, type] of CODECS.slice(1)) {
    const packed = compress(type, input);
    const candidates: Buffer[] = [Buffer.alloc(0), pseudoRandomBytes(64, 7), packed.subarray(0, packed.length >> 1)];
    for (let seed = 1; seed <= 100; seed++) {
      const mutated = Buffer.from(packed);
      const noise = pseudoRandomBytes(4, seed);
      mutated[noise.readUInt16LE(0) % mutated.length] ^= noise[2]! | 1;
      candidates.push(mutated, pseudoRandomBytes(1 + (seed % 50), seed + 1000));
    }
    for (const candidate of candidates) {
      try {
        const out = decompress(type, candidate, MB);
        // Some mutations stay decodable (e.g. a flipped literal); they must still honour the bound.
        assert.ok(out.length <= MB);
      } catch (err) {
        assert.ok(err instanceof CorruptRecordError, `${name}: ${String(err)}`);
      }
    }
    assertCorrupt(() => decompress(type, packed.subarray(0, packed.length - 3), MB));
  }
});

test('an unbounded limit (Infinity) is accepted by every codec', () => {
  const input = mixedBytes(5000);
  for (const [name, type] of CODECS) {
    assert.ok(decompress(type, compress(type, input), Infinity).equals(input), name);
  }
});

test('unknown compression type is corrupt', () => {
  assertCorrupt(() => decompress(6 as CompressionType, Buffer.from('x'), 10), /unknown compression type 6/);
});
