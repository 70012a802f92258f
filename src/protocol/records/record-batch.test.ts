import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import {
  ATTR_CONTROL,
  ATTR_TIMESTAMP_TYPE_LOG_APPEND,
  ATTR_TRANSACTIONAL,
  ATTRIBUTES_OFFSET,
  CompressionType,
  CRC_OFFSET,
  LAST_OFFSET_DELTA_OFFSET,
  MAGIC_OFFSET,
  RECORD_BATCH_OVERHEAD,
  RECORDS_COUNT_OFFSET,
} from './batch-header.js';
import { crc32c } from './crc32c.js';
import { CorruptRecordError, UnsupportedMagicError } from './errors.js';
import {
  type BatchRecord,
  ControlRecordType,
  decodeControlRecordKey,
  decodeEndTxnMarker,
  decodeRecordBatch,
  decodeRecordBatches,
  encodeControlBatch,
  encodeRecordBatch,
  forEachBatch,
  iterateBatches,
  setBaseOffset,
  setMaxTimestampAndLogAppendTime,
  setPartitionLeaderEpoch,
  updateBatchCrc,
  validateBatch,
} from './record-batch.js';

const CODECS: [string, CompressionType][] = [
  ['none', CompressionType.None],
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
];

function assertCorrupt(fn: () => unknown, pattern?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof CorruptRecordError, `expected CorruptRecordError, got ${String(err)}`);
    if (pattern !== undefined) assert.match(err.message, pattern);
    return true;
  });
}

function hex(s: string): Buffer {
  return Buffer.from(s.replace(/\s+/g, ''), 'hex');
}

const SAMPLE_RECORDS: BatchRecord[] = [
  { key: null, value: Buffer.from('value only'), timestamp: 1_700_000_000_000n },
  { key: Buffer.from('key only'), value: null, timestamp: 1_700_000_000_005n },
  { key: null, value: null, timestamp: 1_699_999_999_990n }, // earlier than the base: negative delta
  {
    key: Buffer.from('k'),
    value: Buffer.from('v'.repeat(300)),
    timestamp: 1_700_000_000_002n,
    headers: [
      { key: 'trace-id', value: Buffer.from('abc') },
      { key: 'null-valued', value: null },
      { key: 'ключ', value: Buffer.alloc(0) },
    ],
  },
  { key: Buffer.alloc(0), value: Buffer.alloc(0), timestamp: 1_700_000_000_001n },
];

// --- golden bytes built by hand from the spec --------------------------------------------------

// baseOffset 5, two records, base timestamp 1000, built field by field from implementation.html.
//   record 0: attributes 0, timestampDelta 0, offsetDelta 0, key null, value "a", no headers
//   record 1: timestampDelta 5, offsetDelta 1, key "k", value "vv", header "h" -> "x"
const GOLDEN_RECORDS = hex(`
  0e 00 00 00 01 02 61 00
  1a 00 0a 02 02 6b 04 76 76 02 02 68 02 78
`);
const GOLDEN_HEADER_BEFORE_CRC = hex(`
  00 00 00 00 00 00 00 05
  00 00 00 47
  00 00 00 00
  02
`);
const GOLDEN_AFTER_CRC = Buffer.concat([
  hex(`
    00 00
    00 00 00 01
    00 00 00 00 00 00 03 e8
    00 00 00 00 00 00 03 ed
    ff ff ff ff ff ff ff ff
    ff ff
    ff ff ff ff
    00 00 00 02
  `),
  GOLDEN_RECORDS,
]);

function goldenBatch(): Buffer {
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32c(GOLDEN_AFTER_CRC));
  return Buffer.concat([GOLDEN_HEADER_BEFORE_CRC, crc, GOLDEN_AFTER_CRC]);
}

test('golden: decodes a batch built by hand from the spec', () => {
  const buf = goldenBatch();
  assert.equal(buf.length, 0x47 + 12);
  const { header, records } = decodeRecordBatch(buf);
  assert.equal(header.baseOffset, 5n);
  assert.equal(header.lastOffsetDelta, 1);
  assert.equal(header.baseTimestamp, 1000n);
  assert.equal(header.maxTimestamp, 1005n);
  assert.equal(header.producerId, -1n);
  assert.equal(header.recordsCount, 2);
  assert.equal(records.length, 2);
  assert.equal(records[0]!.offset, 5n);
  assert.equal(records[0]!.timestamp, 1000n);
  assert.equal(records[0]!.key, null);
  assert.equal(records[0]!.value?.toString(), 'a');
  assert.deepEqual(records[0]!.headers, []);
  assert.equal(records[1]!.offset, 6n);
  assert.equal(records[1]!.timestamp, 1005n);
  assert.equal(records[1]!.key?.toString(), 'k');
  assert.equal(records[1]!.value?.toString(), 'vv');
  assert.deepEqual(records[1]!.headers, [{ key: 'h', value: Buffer.from('x') }]);
});

test('golden: the encoder produces exactly the hand-built bytes', () => {
  const encoded = encodeRecordBatch({
    baseOffset: 5n,
    partitionLeaderEpoch: 0,
    baseTimestamp: 1000n,
    records: [
      { key: null, value: Buffer.from('a'), timestamp: 1000n },
      { key: Buffer.from('k'), value: Buffer.from('vv'), timestamp: 1005n, headers: [{ key: 'h', value: Buffer.from('x') }] },
    ],
  });
  assert.equal(encoded.toString('hex'), goldenBatch().toString('hex'));
});

// --- kafkajs as an independent implementation ---------------------------------------------------

interface KafkajsEncoder {
  buffer: Buffer;
}
interface KafkajsDecodedRecord {
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: { [key: string]: Buffer };
}
const requireCjs = createRequire(import.meta.url);
const kafkajsBatch = requireCjs('kafkajs/src/protocol/recordBatch/v0/index.js') as {
  RecordBatch: (opts: object) => Promise<KafkajsEncoder>;
};
const kafkajsRecord = requireCjs('kafkajs/src/protocol/recordBatch/record/v0/index.js') as (opts: object) => KafkajsEncoder;
const kafkajsBatchDecoder = requireCjs('kafkajs/src/protocol/recordBatch/v0/decoder.js') as (
  decoder: object,
) => Promise<{ firstOffset: string; records: KafkajsDecodedRecord[] }>;
const KafkajsDecoder = requireCjs('kafkajs/src/protocol/decoder.js') as new (buf: Buffer) => object;
const KafkajsLong = requireCjs('kafkajs/src/utils/long') as { fromString: (s: string) => object };

for (const [name, type] of [CODECS[0]!, CODECS[1]!]) {
  test(`kafkajs-encoded ${name} batches decode here`, async () => {
    const encoded = await kafkajsBatch.RecordBatch({
      compression: type,
      firstOffset: KafkajsLong.fromString('42'),
      firstTimestamp: 1000,
      maxTimestamp: 1010,
      lastOffsetDelta: 1,
      records: [
        kafkajsRecord({ offsetDelta: 0, timestampDelta: 0, key: null, value: Buffer.from('a') }),
        kafkajsRecord({ offsetDelta: 1, timestampDelta: 10, key: Buffer.from('k'), value: Buffer.from('v'), headers: { h: Buffer.from('x') } }),
      ],
    });
    const header = validateBatch(encoded.buffer, 0);
    assert.equal(header.attributes & 0x07, type);
    const { records } = decodeRecordBatch(encoded.buffer);
    assert.deepEqual(
      records.map((r) => [r.offset, r.timestamp, r.key?.toString() ?? null, r.value?.toString() ?? null, r.headers]),
      [
        [42n, 1000n, null, 'a', []],
        [43n, 1010n, 'k', 'v', [{ key: 'h', value: Buffer.from('x') }]],
      ],
    );
  });

  test(`${name} batches encoded here decode in kafkajs`, async () => {
    const buf = encodeRecordBatch({ baseOffset: 9n, compression: type, records: SAMPLE_RECORDS });
    const decoded = await kafkajsBatchDecoder(new KafkajsDecoder(buf));
    assert.equal(decoded.firstOffset, '9');
    assert.equal(decoded.records.length, SAMPLE_RECORDS.length);
    decoded.records.forEach((r, i) => {
      const expected = SAMPLE_RECORDS[i]!;
      assert.equal(r.offset, String(9 + i));
      assert.equal(r.timestamp, String(expected.timestamp));
      assert.deepEqual(r.key, expected.key);
      assert.deepEqual(r.value, expected.value);
    });
    assert.deepEqual(decoded.records[3]!.headers['trace-id'], Buffer.from('abc'));
  });
}

// --- round trips ------------------------------------------------------------------------------

for (const [name, type] of CODECS) {
  test(`${name}: batches round-trip with null keys/values, headers and negative deltas`, () => {
    const buf = encodeRecordBatch({
      baseOffset: 1000n,
      compression: type,
      records: SAMPLE_RECORDS,
      producerId: 77n,
      producerEpoch: 3,
      baseSequence: 10,
      partitionLeaderEpoch: 4,
      transactional: true,
    });
    const { header, records } = decodeRecordBatch(buf);
    assert.equal(header.attributes & 0x07, type);
    assert.equal(header.attributes & ATTR_TRANSACTIONAL, ATTR_TRANSACTIONAL);
    assert.equal(header.producerId, 77n);
    assert.equal(header.producerEpoch, 3);
    assert.equal(header.baseSequence, 10);
    assert.equal(header.partitionLeaderEpoch, 4);
    assert.equal(header.lastOffsetDelta, SAMPLE_RECORDS.length - 1);
    assert.equal(header.baseTimestamp, 1_700_000_000_000n);
    assert.equal(header.maxTimestamp, 1_700_000_000_005n);
    assert.equal(records.length, SAMPLE_RECORDS.length);
    records.forEach((r, i) => {
      const expected = SAMPLE_RECORDS[i]!;
      assert.equal(r.offset, 1000n + BigInt(i));
      assert.equal(r.timestamp, expected.timestamp);
      assert.deepEqual(r.key, expected.key);
      assert.deepEqual(r.value, expected.value);
      assert.deepEqual(r.headers, expected.headers ?? []);
    });
  });

  test(`${name}: an empty batch and a 1 MB record round-trip`, () => {
    const empty = decodeRecordBatch(encodeRecordBatch({ compression: type, records: [], lastOffsetDelta: 3 }));
    assert.equal(empty.header.recordsCount, 0);
    assert.equal(empty.header.lastOffsetDelta, 3);
    assert.deepEqual(empty.records, []);
    const big = Buffer.alloc(1024 * 1024, 'x');
    const decoded = decodeRecordBatch(encodeRecordBatch({ compression: type, records: [{ key: null, value: big }] }), 0, {
      maxUncompressedBytes: 2 * 1024 * 1024,
    });
    assert.ok(decoded.records[0]!.value?.equals(big));
  });
}

test('explicit offsetDelta and timestampDelta are kept; lastOffsetDelta follows the largest', () => {
  const buf = encodeRecordBatch({
    baseOffset: 100n,
    baseTimestamp: 50n,
    records: [
      { key: null, value: Buffer.from('a'), offsetDelta: 0, timestampDelta: 1 },
      { key: null, value: Buffer.from('b'), offsetDelta: 7, timestampDelta: -2 },
    ],
  });
  const { header, records } = decodeRecordBatch(buf);
  assert.equal(header.lastOffsetDelta, 7);
  assert.equal(header.maxTimestamp, 51n);
  assert.deepEqual(records.map((r) => [r.offset, r.timestamp]), [[100n, 51n], [107n, 48n]]);
  assert.throws(() => encodeRecordBatch({ records: [{ key: null, value: null, offsetDelta: 5 }], lastOffsetDelta: 2 }), RangeError);
});

test('a compressed batch over maxUncompressedBytes is refused as corrupt', () => {
  const buf = encodeRecordBatch({ compression: CompressionType.Zstd, records: [{ key: null, value: Buffer.alloc(100_000) }] });
  assertCorrupt(() => decodeRecordBatch(buf, 0, { maxUncompressedBytes: 50_000 }), /baseOffset 0.*limit/);
});

test('logAppendTime: the batch carries the attribute and every record reports maxTimestamp', () => {
  const buf = encodeRecordBatch({ records: SAMPLE_RECORDS, logAppendTime: 5555n });
  const { header, records } = decodeRecordBatch(buf);
  assert.equal(header.attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND, ATTR_TIMESTAMP_TYPE_LOG_APPEND);
  assert.equal(header.maxTimestamp, 5555n);
  assert.ok(records.every((r) => r.timestamp === 5555n));
});

// --- control batches ----------------------------------------------------------------------------

for (const type of ['COMMIT', 'ABORT'] as const) {
  test(`control batch ${type} has Kafka's layout and decodes`, () => {
    const buf = encodeControlBatch({ type, producerId: 12n, producerEpoch: 2, coordinatorEpoch: 9, timestamp: 1234n, baseOffset: 50n });
    const { header, records } = decodeRecordBatch(buf);
    assert.equal(header.attributes, ATTR_TRANSACTIONAL | ATTR_CONTROL);
    assert.equal(header.producerId, 12n);
    assert.equal(header.producerEpoch, 2);
    assert.equal(header.baseSequence, -1);
    assert.equal(header.recordsCount, 1);
    assert.equal(records[0]!.offset, 50n);
    assert.equal(records[0]!.timestamp, 1234n);
    // Key and value bytes from the spec: version int16 0, type int16; version int16 0, epoch int32.
    assert.equal(records[0]!.key?.toString('hex'), type === 'COMMIT' ? '00000001' : '00000000');
    assert.equal(records[0]!.value?.toString('hex'), '000000000009');
    const key = decodeControlRecordKey(records[0]!.key);
    assert.equal(key.type, type === 'COMMIT' ? ControlRecordType.Commit : ControlRecordType.Abort);
    assert.deepEqual(decodeEndTxnMarker(records[0]!.value), { version: 0, coordinatorEpoch: 9 });
  });
}

test('control record keys from newer versions keep their type; short keys are corrupt', () => {
  assert.deepEqual(decodeControlRecordKey(hex('0001 0001 ffff')), { version: 1, type: 1 });
  assertCorrupt(() => decodeControlRecordKey(hex('0000 01')));
  assertCorrupt(() => decodeControlRecordKey(null));
  assertCorrupt(() => decodeEndTxnMarker(hex('0000 0000')));
});

// --- validation ------------------------------------------------------------------------------

test('validateBatch accepts a good batch and returns its header', () => {
  const buf = encodeRecordBatch({ baseOffset: 3n, records: SAMPLE_RECORDS });
  const header = validateBatch(Buffer.concat([Buffer.alloc(7), buf]), 7);
  assert.equal(header.baseOffset, 3n);
  assert.equal(header.sizeInBytes, buf.length);
});

test('a flipped bit anywhere under the CRC is detected', () => {
  const buf = encodeRecordBatch({ records: SAMPLE_RECORDS, compression: CompressionType.Lz4 });
  for (let i = ATTRIBUTES_OFFSET; i < buf.length; i += 7) {
    const bad = Buffer.from(buf);
    bad[i] ^= 0x10;
    assertCorrupt(() => validateBatch(bad, 0), /CRC/);
    assertCorrupt(() => decodeRecordBatch(bad), /CRC/);
  }
});

test('truncation is detected at every length', () => {
  const buf = encodeRecordBatch({ records: SAMPLE_RECORDS });
  for (let len = 0; len < buf.length; len++) {
    assertCorrupt(() => validateBatch(buf.subarray(0, len), 0), /truncated|present/);
  }
});

test('magic 0 and 1 get UnsupportedMagicError; other magics are corrupt', () => {
  const buf = encodeRecordBatch({ records: SAMPLE_RECORDS });
  for (const magic of [0, 1]) {
    const old = Buffer.from(buf);
    old[MAGIC_OFFSET] = magic;
    assert.throws(() => validateBatch(old, 0), (err: unknown) => err instanceof UnsupportedMagicError && err.magic === magic);
  }
  const future = Buffer.from(buf);
  future[MAGIC_OFFSET] = 3;
  assertCorrupt(() => validateBatch(future, 0), /magic 3/);
});

/** Rewrites a header field and fixes the CRC, so the check under test is not the CRC. */
function patched(buf: Buffer, write: (b: Buffer) => void): Buffer {
  const copy = Buffer.from(buf);
  write(copy);
  updateBatchCrc(copy, 0);
  return copy;
}

test('header sanity: batchLength, recordsCount, lastOffsetDelta, compression type', () => {
  const buf = encodeRecordBatch({ records: SAMPLE_RECORDS });
  assertCorrupt(() => validateBatch(patched(buf, (b) => b.writeInt32BE(10, 8)), 0));
  assertCorrupt(() => validateBatch(patched(buf, (b) => b.writeInt32BE(-1, RECORDS_COUNT_OFFSET)), 0), /negative recordsCount/);
  assertCorrupt(() => validateBatch(patched(buf, (b) => b.writeInt32BE(1_000_000, RECORDS_COUNT_OFFSET)), 0), /claims 1000000 records/);
  assertCorrupt(() => validateBatch(patched(buf, (b) => b.writeInt32BE(-5, LAST_OFFSET_DELTA_OFFSET)), 0), /lastOffsetDelta/);
  assertCorrupt(() => validateBatch(patched(buf, (b) => b.writeInt16BE(7, ATTRIBUTES_OFFSET)), 0), /compression type 7/);
  // lastOffsetDelta may exceed recordsCount - 1 (compaction keeps it): not an error.
  assert.equal(validateBatch(patched(buf, (b) => b.writeInt32BE(40, LAST_OFFSET_DELTA_OFFSET)), 0).lastOffsetDelta, 40);
});

test('a huge recordsCount in a compressed batch is refused after decompression, before allocating', () => {
  const buf = encodeRecordBatch({ records: SAMPLE_RECORDS, compression: CompressionType.Gzip });
  const bad = patched(buf, (b) => b.writeInt32BE(2_000_000_000, RECORDS_COUNT_OFFSET));
  validateBatch(bad, 0); // cannot be judged without decompressing
  assertCorrupt(() => decodeRecordBatch(bad), /recordsCount 2000000000/);
});

test('record-level corruption with a valid CRC is reported, never thrown as another error', () => {
  const buf = goldenBatch();
  const firstRecord = RECORD_BATCH_OVERHEAD;
  // Record 0 claims a longer body than it has.
  assertCorrupt(() => decodeRecordBatch(patched(buf, (b) => (b[firstRecord] = 0x10))), /record 0/);
  // Record 0's value length -2 (zig-zag 3).
  assertCorrupt(() => decodeRecordBatch(patched(buf, (b) => (b[firstRecord + 5] = 0x03))), /value length out of range/);
  // Record 1's header key null (-1 = zig-zag 1).
  assertCorrupt(() => decodeRecordBatch(patched(buf, (b) => (b[firstRecord + 8 + 10] = 0x01))), /null header key/);
  // recordsCount 1: bytes left over after the last record.
  assertCorrupt(() => decodeRecordBatch(patched(buf, (b) => b.writeInt32BE(1, RECORDS_COUNT_OFFSET))), /left after/);
});

test('fuzz: random mutations with a recomputed CRC decode or raise CorruptRecordError', () => {
  const sources = CODECS.map(([, type]) => encodeRecordBatch({ records: SAMPLE_RECORDS, compression: type }));
  let seed = 2024;
  const next = (): number => {
    seed = (seed * 1103515245 + 12345) >>> 0;
    return seed;
  };
  let decodedCount = 0;
  for (const source of sources) {
    for (let round = 0; round < 300; round++) {
      const bad = Buffer.from(source);
      const flips = 1 + (next() % 4);
      for (let f = 0; f < flips; f++) {
        const at = RECORDS_COUNT_OFFSET + (next() % (bad.length - RECORDS_COUNT_OFFSET));
        bad[at] = next() & 0xff;
      }
      updateBatchCrc(bad, 0);
      try {
        decodeRecordBatch(bad, 0, { maxUncompressedBytes: 1 << 20 });
        decodedCount++;
      } catch (err) {
        assert.ok(err instanceof CorruptRecordError, `unexpected ${String(err)}`);
      }
    }
  }
  assert.ok(decodedCount < sources.length * 300, 'mutations must produce some corrupt batches');
});

// --- scanning ------------------------------------------------------------------------------

test('forEachBatch walks concatenated batches and stops at a partial trailing one', () => {
  const batches = [0n, 5n, 10n].map((base) => encodeRecordBatch({ baseOffset: base, records: SAMPLE_RECORDS }));
  const partial = batches[0]!.subarray(0, 30);
  const buf = Buffer.concat([...batches, partial]);
  const seen: [bigint, number][] = [];
  const result = forEachBatch(buf, (header, pos) => {
    seen.push([header.baseOffset, pos]);
  });
  const size = batches[0]!.length;
  assert.deepEqual(seen, [[0n, 0], [5n, size], [10n, 2 * size]]);
  assert.deepEqual(result, { endPosition: 3 * size, trailingBytes: 30, stoppedEarly: false });
  // A fragment shorter than the length field is partial too.
  assert.equal(forEachBatch(Buffer.concat([batches[0]!, partial.subarray(0, 5)]), () => {}).trailingBytes, 5);
  assert.equal(decodeRecordBatches(buf).length, 3);
});

test('forEachBatch stops early when asked, and iterateBatches yields the same batches', () => {
  const buf = Buffer.concat([1n, 2n, 3n].map((base) => encodeRecordBatch({ baseOffset: base, records: SAMPLE_RECORDS })));
  let calls = 0;
  const result = forEachBatch(buf, () => ++calls < 2);
  assert.equal(calls, 2);
  assert.equal(result.stoppedEarly, true);
  assert.equal(result.endPosition, (2 * buf.length) / 3);
  assert.deepEqual([...iterateBatches(buf)].map((b) => b.header.baseOffset), [1n, 2n, 3n]);
});

test('forEachBatch reports a batch declaring a length below the header as corrupt', () => {
  const buf = encodeRecordBatch({ records: SAMPLE_RECORDS });
  buf.writeInt32BE(20, 8);
  assertCorrupt(() => forEachBatch(buf, () => {}), /less than its header/);
});

// --- in-place patchers -----------------------------------------------------------------------

test('setBaseOffset and setPartitionLeaderEpoch keep the CRC valid without recomputing it', () => {
  const buf = encodeRecordBatch({ records: SAMPLE_RECORDS, compression: CompressionType.Snappy });
  const crcBefore = buf.readUInt32BE(CRC_OFFSET);
  setBaseOffset(buf, 0, 1_000_000_000_000n);
  setPartitionLeaderEpoch(buf, 0, 17);
  assert.equal(buf.readUInt32BE(CRC_OFFSET), crcBefore);
  const header = validateBatch(buf, 0);
  assert.equal(header.baseOffset, 1_000_000_000_000n);
  assert.equal(header.partitionLeaderEpoch, 17);
  assert.equal(decodeRecordBatch(buf).records[2]!.offset, 1_000_000_000_002n);
});

test('setMaxTimestampAndLogAppendTime sets the attribute and timestamp and recomputes the CRC', () => {
  const buf = Buffer.concat([Buffer.alloc(3), encodeRecordBatch({ records: SAMPLE_RECORDS, compression: CompressionType.Gzip })]);
  setMaxTimestampAndLogAppendTime(buf, 3, 9_999n);
  const header = validateBatch(buf, 3);
  assert.equal(header.attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND, ATTR_TIMESTAMP_TYPE_LOG_APPEND);
  assert.equal(header.attributes & 0x07, CompressionType.Gzip);
  assert.equal(header.maxTimestamp, 9_999n);
  assert.ok(decodeRecordBatch(buf, 3).records.every((r) => r.timestamp === 9_999n));
});
