import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ATTR_COMPRESSION_MASK, CompressionType } from './batch-header.js';
import { compress } from './compression.js';
import { CorruptRecordError } from './errors.js';
import {
  InvalidLegacyMessageError,
  downConvertBatches,
  encodeLegacyMessageSet,
  isLegacyMessageSet,
  legacyMessageSize,
  upConvertMessageSet,
  wrapLegacyMessageSet,
  type LegacyMagic,
} from './legacy-messages.js';
import { decodeRecordBatch, encodeControlBatch, encodeRecordBatch, NO_TIMESTAMP } from './record-batch.js';

const LIMITS = { maxMessages: 1000, maxUncompressedBytes: 1 << 20 };

/** Seeded generator (no Math.random in tests either: a failure reproduces). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomMessages(next: () => number, magic: LegacyMagic) {
  const n = 1 + Math.floor(next() * 20);
  return Array.from({ length: n }, (_, i) => ({
    key: next() < 0.3 ? null : Buffer.from(`k${i}-${Math.floor(next() * 1e6)}`),
    value: next() < 0.1 ? null : Buffer.alloc(Math.floor(next() * 300), i),
    timestamp: magic === 1 ? 1_700_000_000_000n + BigInt(i) : NO_TIMESTAMP,
  }));
}

const plain = (rs: readonly { key: Buffer | null; value: Buffer | null; timestamp: bigint }[]) => rs.map((r) => [r.key?.toString('hex') ?? null, r.value?.toString('hex') ?? null, r.timestamp]);

test('v0 and v1 message sets, plain and compressed, convert to one v2 batch with the same messages', () => {
  const next = rng(42);
  for (let round = 0; round < 200; round++) {
    const magic: LegacyMagic = round % 2 === 0 ? 0 : 1;
    const messages = randomMessages(next, magic);
    const codec = [CompressionType.None, CompressionType.Gzip, CompressionType.Snappy, CompressionType.Lz4][round % 4]!;
    const inner = encodeLegacyMessageSet(magic, messages);
    const set = codec === CompressionType.None ? inner : wrapLegacyMessageSet(magic, codec, compress(codec, inner), BigInt(messages.length - 1), magic === 1 ? 1_700_000_000_000n : NO_TIMESTAMP);
    assert.equal(isLegacyMessageSet(set), true);
    const batch = upConvertMessageSet(set, LIMITS);
    assert.equal(isLegacyMessageSet(batch), false);
    const decoded = decodeRecordBatch(batch);
    assert.equal(decoded.header.attributes & ATTR_COMPRESSION_MASK, codec, `round ${round}`);
    assert.deepEqual(plain(decoded.records), plain(messages), `round ${round}`);
    assert.deepEqual(decoded.records.map((r) => r.offset), messages.map((_, i) => BigInt(i)));
  }
});

test('stored batches convert down to v0/v1 message sets and back to the same records', () => {
  const next = rng(7);
  for (let round = 0; round < 100; round++) {
    const magic: LegacyMagic = round % 2 === 0 ? 0 : 1;
    const first = randomMessages(next, 1);
    const second = randomMessages(next, 1);
    const codec = [CompressionType.None, CompressionType.Gzip, CompressionType.Zstd, CompressionType.Lz4][round % 4]!;
    const stored = Buffer.concat([
      encodeRecordBatch({ records: first, baseOffset: 100n, compression: codec }),
      encodeControlBatch({ type: 'COMMIT', producerId: 5n, producerEpoch: 0, coordinatorEpoch: 0, baseOffset: BigInt(100 + first.length), timestamp: 1n }),
      encodeRecordBatch({ records: second, baseOffset: BigInt(101 + first.length), compression: codec }),
    ]);
    // A partial batch at the end (as a fetch may read) is dropped.
    const withPartial = Buffer.concat([stored, stored.subarray(0, 30)]);
    const set = downConvertBatches(withPartial, magic, 100n, 1 << 20, LIMITS);
    const back = decodeRecordBatch(upConvertMessageSet(set, LIMITS)).records;
    const expected = [...first, ...second].map((m) => ({ ...m, timestamp: magic === 0 ? NO_TIMESTAMP : m.timestamp }));
    assert.deepEqual(plain(back), plain(expected), `round ${round}`);
    // Offsets in the set are the stored ones, the marker's offset skipped.
    const offsets: bigint[] = [];
    for (let pos = 0; pos < set.length; pos += 12 + set.readInt32BE(pos + 8)) offsets.push(set.readBigInt64BE(pos));
    assert.deepEqual(offsets, [...first.map((_, i) => BigInt(100 + i)), ...second.map((_, i) => BigInt(101 + first.length + i))]);
  }
});

test('down-conversion starts at the fetch offset and stops at maxBytes, but always returns one message', () => {
  const records = Array.from({ length: 10 }, (_, i) => ({ key: null, value: Buffer.alloc(100, i), timestamp: 1n }));
  const stored = encodeRecordBatch({ records, baseOffset: 0n });
  const one = legacyMessageSize(1, null, Buffer.alloc(100));
  const set = downConvertBatches(stored, 1, 4n, one * 3 + 5, LIMITS);
  assert.equal(set.length, one * 3);
  assert.equal(set.readBigInt64BE(0), 4n);
  assert.equal(downConvertBatches(stored, 1, 0n, 10, LIMITS).length, one);
  assert.equal(downConvertBatches(stored, 1, 10n, 1 << 20, LIMITS).length, 0);
});

test('bad message sets: CRC, truncation, nesting, codecs, message count', () => {
  const set = encodeLegacyMessageSet(1, [{ key: null, value: Buffer.from('hello') }]);
  const flipped = Buffer.from(set);
  flipped[flipped.length - 1]! ^= 1;
  assert.throws(() => upConvertMessageSet(flipped, LIMITS), (e: unknown) => e instanceof CorruptRecordError && /CRC/.test(e.message));
  assert.throws(() => upConvertMessageSet(set.subarray(0, set.length - 2), LIMITS), CorruptRecordError);
  const wrapped = wrapLegacyMessageSet(1, CompressionType.Gzip, compress(CompressionType.Gzip, set), 0n);
  const nested = wrapLegacyMessageSet(1, CompressionType.Gzip, compress(CompressionType.Gzip, wrapped), 0n);
  assert.throws(() => upConvertMessageSet(nested, LIMITS), (e: unknown) => e instanceof InvalidLegacyMessageError && e.errorCode === 87);
  const zstd = wrapLegacyMessageSet(1, CompressionType.Zstd, compress(CompressionType.Zstd, set), 0n);
  assert.throws(() => upConvertMessageSet(zstd, LIMITS), /not allowed in message format v1/);
  const many = encodeLegacyMessageSet(0, Array.from({ length: 11 }, () => ({ key: null, value: null })));
  assert.throws(() => upConvertMessageSet(many, { ...LIMITS, maxMessages: 10 }), /more than 10 messages/);
  const bomb = wrapLegacyMessageSet(1, CompressionType.Gzip, compress(CompressionType.Gzip, encodeLegacyMessageSet(1, [{ key: null, value: Buffer.alloc(1 << 16) }])), 0n);
  assert.throws(() => upConvertMessageSet(bomb, { ...LIMITS, maxUncompressedBytes: 1024 }), CorruptRecordError);
});
