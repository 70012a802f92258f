// Produce-side record validation (validateBatchRecords) on hand-built batches: Kafka's error code
// for every kind of damage, compressed batches of every codec (damaged payloads, garbage records
// inside a good payload, a bomb), control and transactional batches, the topic rules folded into
// the same walk; then a property test that every batch our encoder builds passes, and a fuzz test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { ErrorCode } from '../protocol/errors.js';
import { ATTR_CONTROL, ATTR_TIMESTAMP_TYPE_LOG_APPEND, ATTR_TRANSACTIONAL, CompressionType, CRC_OFFSET, ATTRIBUTES_OFFSET, RECORD_BATCH_OVERHEAD } from '../protocol/records/batch-header.js';
import { compress, type CompressOptions } from '../protocol/records/compression.js';
import { crc32c } from '../protocol/records/crc32c.js';
import { type BatchRecord, decodeRecordBatch, encodeControlBatch, encodeRecordBatch, validateBatch } from '../protocol/records/record-batch.js';
import { batch, body, type HandBatch, record, recordFields, records, zz } from '../protocol/records/test-helpers.js';
import { type RecordValidationFailure, validateBatchRecords } from './record-validation.js';
import type { RecordRules } from './topic-config.js';

const NOW = 1_700_000_000_000;
const MB = 1024 * 1024;
const NO_RULES = null;
const WHERE = 'orders-3';

function check(buf: Buffer, rules: RecordRules | null = NO_RULES, maxUncompressedBytes = 64 * MB): RecordValidationFailure | null {
  const header = validateBatch(buf, 0); // as the replica manager does first: framing and CRC
  return validateBatchRecords(buf, 0, header, rules, NOW, WHERE, maxUncompressedBytes);
}

function assertRefused(failure: RecordValidationFailure | null, errorCode: number, pattern: RegExp): RecordValidationFailure {
  assert.ok(failure !== null, 'batch accepted');
  assert.equal(failure.errorCode, errorCode, `error code for: ${failure.errorMessage}`);
  assert.match(failure.errorMessage, pattern);
  assert.match(failure.errorMessage, new RegExp(WHERE));
  return failure;
}

const CODECS: [string, CompressionType, CompressOptions][] = [
  ['gzip', CompressionType.Gzip, {}],
  ['snappy', CompressionType.Snappy, {}],
  ['snappy (xerial)', CompressionType.Snappy, { snappyFraming: 'xerial' }],
  ['lz4', CompressionType.Lz4, {}],
  ['zstd', CompressionType.Zstd, {}],
];

test('well-formed records pass, with or without rules', () => {
  const b = batch(records(5), { count: 5 });
  assert.equal(check(b), null);
  assert.equal(check(b, { requireKeys: true, timestampBeforeMaxMs: 60_000, timestampAfterMaxMs: 60_000 }), null);
});

test('garbage records behind a valid CRC are INVALID_RECORD, naming the record and byte', () => {
  // A record length promising 64 bytes where only garbage follows: what wedged librdkafka.
  const garbage = [0x80, 0x01, ...Buffer.from('not a record at all, just text')];
  const f = assertRefused(check(batch(garbage, { count: 1 })), ErrorCode.INVALID_RECORD, /record 0: record length out of range at byte 0/);
  assert.deepEqual(f.recordErrors.map((e) => e.batchIndex), [0]);
  assertRefused(check(batch(Buffer.alloc(40, 0xff), { count: 3 })), ErrorCode.INVALID_RECORD, /record 0: truncated or overlong length varint/);
});

test('recordsCount must match the records present', () => {
  // Three claimed (lastOffsetDelta 2 agrees), two present.
  const f = assertRefused(check(batch(records(2), { count: 3 })), ErrorCode.INVALID_RECORD, /recordsCount is 3 but the records section ends after 2 records/);
  assert.deepEqual(f.recordErrors, []);
  // One claimed, two present.
  assertRefused(check(batch(records(2), { count: 1 })), ErrorCode.INVALID_RECORD, /bytes are left after the last of 1 records/);
});

test('lastOffsetDelta must be recordsCount - 1, and recordsCount at least 1', () => {
  assertRefused(check(batch(records(3), { count: 3, lastOffsetDelta: 5 })), ErrorCode.INVALID_RECORD, /Inconsistent batch offset range \[0, 5\] and count of records 3/);
  assertRefused(check(batch([], { count: 0, lastOffsetDelta: -1 })), ErrorCode.INVALID_RECORD, /Invalid reported count for record batch: 0/);
});

test('inner offset deltas must run 0, 1, 2...', () => {
  const section = [...record(body(recordFields({ offsetDelta: 0 }))), ...record(body(recordFields({ offsetDelta: 2 }))), ...record(body(recordFields({ offsetDelta: 3 })))];
  const f = assertRefused(check(batch(section, { count: 3 })), ErrorCode.INVALID_RECORD, /Inner record offsets must be sequential: record 1 has offset delta 2, expected 1/);
  assert.deepEqual(f.recordErrors.map((e) => e.batchIndex), [1]);
  const backwards = [...record(body(recordFields({ offsetDelta: 1 }))), ...record(body(recordFields({ offsetDelta: 0 })))];
  assertRefused(check(batch(backwards, { count: 2 })), ErrorCode.INVALID_RECORD, /record 0 has offset delta 1, expected 0/);
});

test('trailing bytes after the last record are INVALID_RECORD', () => {
  assertRefused(check(batch([...records(2), 0, 0, 0], { count: 2 })), ErrorCode.INVALID_RECORD, /3 bytes are left after the last of 2 records/);
});

test('damage inside one record (header count, header key, key length) is INVALID_RECORD for that record', () => {
  const bad = recordFields({ offsetDelta: 1, headers: [] });
  bad[5] = { name: /header count/, bytes: zz(-1) };
  const f = assertRefused(check(batch([...records(1), ...record(body(bad))], { count: 2 })), ErrorCode.INVALID_RECORD, /record 1: header count out of range/);
  assert.deepEqual(f.recordErrors.map((e) => e.batchIndex), [1]);
  const nullHeaderKey = recordFields({ headers: [] });
  nullHeaderKey[5] = { name: /header count/, bytes: [...zz(1), ...zz(-1), ...zz(-1)] };
  assertRefused(check(batch(record(body(nullHeaderKey)), { count: 1 })), ErrorCode.INVALID_RECORD, /record 0: null header key/);
  const key = recordFields();
  key[3] = { name: /key/, bytes: zz(-7) };
  assertRefused(check(batch(record(body(key)), { count: 1 })), ErrorCode.INVALID_RECORD, /record 0: key length out of range/);
});

for (const [name, codec, options] of CODECS) {
  test(`${name}: good records pass; garbage records inside are INVALID_RECORD; a damaged payload is CORRUPT_MESSAGE`, () => {
    const good = Buffer.from(records(20));
    assert.equal(check(batch(compress(codec, good, options), { count: 20, attributes: codec })), null);

    const misframed = Buffer.from([...records(19), 0x7f]); // a 20th record that is one stray byte
    assertRefused(check(batch(compress(codec, misframed, options), { count: 20, attributes: codec })), ErrorCode.INVALID_RECORD, /record 19/);
    const nonSequential = Buffer.from([...records(1), ...record(body(recordFields({ offsetDelta: 5 })))]);
    assertRefused(check(batch(compress(codec, nonSequential, options), { count: 2, attributes: codec })), ErrorCode.INVALID_RECORD, /Inner record offsets must be sequential/);

    const payload = compress(codec, good, options);
    const truncated = payload.subarray(0, Math.floor(payload.length / 2));
    assertRefused(check(batch(truncated, { count: 20, attributes: codec })), ErrorCode.CORRUPT_MESSAGE, new RegExp(`${name.split(' ')[0]}`));
    const notCompressed = Buffer.from('this payload was never compressed with anything at all');
    assertRefused(check(batch(notCompressed, { count: 20, attributes: codec })), ErrorCode.CORRUPT_MESSAGE, /corrupt|limit/);
  });

  test(`${name}: a bomb past the bound is CORRUPT_MESSAGE, and the bound is the caller's`, () => {
    const zeros = Buffer.alloc(4 * MB);
    const bomb = compress(codec, zeros, options);
    assert.ok(bomb.length < MB);
    assertRefused(check(batch(bomb, { count: 1000, attributes: codec }), NO_RULES, MB), ErrorCode.CORRUPT_MESSAGE, /limit of 1048576/);
  });
}

test('a gzip bomb of 256 MiB is refused without inflating it all', () => {
  const member = gzipSync(Buffer.alloc(16 * MB), { level: 9 });
  const bomb = Buffer.concat(Array.from({ length: 16 }, () => member));
  const before = process.memoryUsage().arrayBuffers;
  assertRefused(check(batch(bomb, { count: 1000, attributes: CompressionType.Gzip }), NO_RULES, 8 * MB), ErrorCode.CORRUPT_MESSAGE, /gzip records decompress to more than 8388608/);
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 * MB, 'the bomb was inflated past the bound');
});

test('the stored bytes of a compressed batch are left as they arrived', () => {
  const b = batch(compress(CompressionType.Lz4, Buffer.from(records(10))), { count: 10, attributes: CompressionType.Lz4 });
  const copy = Buffer.from(b);
  assert.equal(check(b), null);
  assert.ok(b.equals(copy));
});

test('control batches (transaction markers) pass, and record rules do not apply to them', () => {
  const strict: RecordRules = { requireKeys: true, timestampBeforeMaxMs: 0, timestampAfterMaxMs: 0 };
  const marker = encodeControlBatch({ type: 'COMMIT', producerId: 7, producerEpoch: 1, coordinatorEpoch: 3, timestamp: 5 });
  assert.equal(check(marker), null);
  assert.equal(check(marker, strict), null);
  // By hand: one control record, key version 0 type ABORT, value version 0 coordinator epoch 9.
  const controlRecord = record([0, ...zz(0), ...zz(0), ...zz(4), 0, 0, 0, 0, ...zz(6), 0, 0, 0, 0, 0, 9, ...zz(0)]);
  assert.equal(check(batch(controlRecord, { count: 1, attributes: ATTR_CONTROL | ATTR_TRANSACTIONAL, producerId: 7n }), strict), null);
  // A control batch's framing is checked all the same.
  assertRefused(check(batch([...controlRecord, 0], { count: 1, attributes: ATTR_CONTROL | ATTR_TRANSACTIONAL, producerId: 7n })), ErrorCode.INVALID_RECORD, /left after/);
});

test('transactional and idempotent batches pass', () => {
  const recs: BatchRecord[] = Array.from({ length: 4 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: Buffer.from('v'), timestamp: NOW }));
  const txn = encodeRecordBatch({ records: recs, producerId: 42, producerEpoch: 0, baseSequence: 0, transactional: true });
  assert.equal(check(txn), null);
  const idempotent = encodeRecordBatch({ records: recs, producerId: 42, producerEpoch: 0, baseSequence: 4, compression: CompressionType.Zstd });
  assert.equal(check(idempotent), null);
});

test('compacted topics: records without keys are INVALID_RECORD, one record error each', () => {
  const compacted: RecordRules = { requireKeys: true, timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER };
  const section = [0, 1, 2, 3].flatMap((i) => record(body(recordFields({ offsetDelta: i, key: i % 2 === 1 ? null : `k${i}` }))));
  const f = assertRefused(check(batch(section, { count: 4 }), compacted), ErrorCode.INVALID_RECORD, /2 record errors in total/);
  assert.deepEqual(f.recordErrors.map((e) => e.batchIndex), [1, 3]);
  assert.match(f.recordErrors[0]!.message ?? '', /Compacted topic cannot accept message without key in topic partition orders-3/);
  // The same inside a compressed batch.
  const gz = batch(compress(CompressionType.Gzip, Buffer.from(section)), { count: 4, attributes: CompressionType.Gzip });
  assert.deepEqual(check(gz, compacted)?.recordErrors.map((e) => e.batchIndex), [1, 3]);
});

test('timestamp bounds: records outside are INVALID_TIMESTAMP, and win over missing keys (as Kafka)', () => {
  const rules: RecordRules = { requireKeys: true, timestampBeforeMaxMs: 1000, timestampAfterMaxMs: 500 };
  const base = BigInt(NOW);
  const at = (offsetDelta: number, timestampDelta: number, key: string | null = 'k') => record(body(recordFields({ offsetDelta, timestampDelta, key })));
  // base = NOW: deltas -1001 (too old), 0, 501 (too new), -1000 and 500 (on the bounds).
  const section = [...at(0, -1001), ...at(1, 0), ...at(2, 501), ...at(3, -1000), ...at(4, 500)];
  const f = assertRefused(check(batch(section, { count: 5, baseTimestamp: base }), rules), ErrorCode.INVALID_TIMESTAMP, /One or more records have been rejected due to invalid timestamp/);
  assert.deepEqual(f.recordErrors.map((e) => e.batchIndex), [0, 2]);
  assert.match(f.recordErrors[0]!.message ?? '', new RegExp(`Timestamp ${NOW - 1001} of message with offset 0 is out of range. The timestamp should be within \\[${NOW - 1000}, ${NOW + 500}\\]`));
  const mixed = [...at(0, 0, null), ...at(1, 5000)];
  const m = assertRefused(check(batch(mixed, { count: 2, baseTimestamp: base }), rules), ErrorCode.INVALID_TIMESTAMP, /invalid timestamp/);
  assert.deepEqual(m.recordErrors.map((e) => e.batchIndex), [0, 1]);
});

test('records without a timestamp (-1) are not checked against the bounds, as Kafka', () => {
  const rules: RecordRules = { requireKeys: false, timestampBeforeMaxMs: 1000, timestampAfterMaxMs: 1000 };
  assert.equal(check(batch(records(3, { timestampDelta: 0 }), { count: 3, baseTimestamp: -1n }), rules), null);
});

test('a LogAppendTime batch is checked with its maxTimestamp for every record', () => {
  const rules: RecordRules = { requireKeys: false, timestampBeforeMaxMs: 1000, timestampAfterMaxMs: 1000 };
  const attributes = ATTR_TIMESTAMP_TYPE_LOG_APPEND;
  assert.equal(check(batch(records(2, { timestampDelta: -1_000_000 }), { count: 2, attributes, baseTimestamp: 0n, maxTimestamp: BigInt(NOW) }), rules), null);
  const old = check(batch(records(2), { count: 2, attributes, baseTimestamp: BigInt(NOW), maxTimestamp: BigInt(NOW - 5000) }), rules);
  assert.deepEqual(old?.recordErrors.map((e) => e.batchIndex), [0, 1]);
});

test('broken framing is reported even when earlier records broke a rule', () => {
  const rules: RecordRules = { requireKeys: true, timestampBeforeMaxMs: Number.MAX_SAFE_INTEGER, timestampAfterMaxMs: Number.MAX_SAFE_INTEGER };
  const section = [...record(body(recordFields({ key: null }))), 0x05, 0x00];
  const f = assertRefused(check(batch(section, { count: 2 }), rules), ErrorCode.INVALID_RECORD, /malformed: record 1/);
  assert.deepEqual(f.recordErrors.map((e) => e.batchIndex), [1]);
});

// ---------------------------------------------------------------------------------------------
// Property and fuzz tests (seeded, so a failure reproduces)

function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return s / 2 ** 32;
  };
}

test('property: every batch our encoder builds passes, whatever its records and codec', () => {
  const rand = lcg(7);
  const int = (n: number) => Math.floor(rand() * n);
  const bytesOrNull = (max: number): Buffer | null => (rand() < 0.15 ? null : Buffer.alloc(int(max), int(256)));
  const codecs: [CompressionType, CompressOptions][] = [[CompressionType.None, {}], ...CODECS.map(([, c, o]) => [c, o] as [CompressionType, CompressOptions])];
  for (let round = 0; round < 300; round++) {
    const count = 1 + int(rand() < 0.1 ? 500 : 20);
    const base = NOW - int(10_000);
    const recs: BatchRecord[] = Array.from({ length: count }, () => ({
      key: bytesOrNull(rand() < 0.05 ? 300 : 20),
      value: bytesOrNull(rand() < 0.05 ? 20_000 : 200),
      headers: Array.from({ length: int(4) }, (_, h) => ({ key: 'h'.repeat(int(3)) + String(h), value: bytesOrNull(10) })),
      timestamp: base + int(20_000) - 5_000,
    }));
    const [compression, compressOptions] = codecs[round % codecs.length]!;
    const idempotent = rand() < 0.3;
    const buf = encodeRecordBatch({
      records: recs,
      compression,
      compressOptions,
      ...(idempotent ? { producerId: int(1000), producerEpoch: 0, baseSequence: int(1000), transactional: rand() < 0.5 } : {}),
    });
    const failure = check(buf);
    assert.equal(failure, null, `round ${round} (codec ${compression}, ${count} records): ${failure?.errorMessage}`);
    // With every record keyed and inside generous bounds, the rules pass too.
    const keyed = encodeRecordBatch({ records: recs.map((r) => ({ ...r, key: r.key ?? Buffer.alloc(1) })), compression, compressOptions });
    const rules: RecordRules = { requireKeys: true, timestampBeforeMaxMs: 60_000, timestampAfterMaxMs: 60_000 };
    assert.equal(check(keyed, rules), null, `round ${round} with rules`);
  }
});

test('fuzz: random damage behind a recomputed CRC is refused with a code, never thrown; what passes decodes', () => {
  const rand = lcg(99);
  const int = (n: number) => Math.floor(rand() * n);
  const recs: BatchRecord[] = Array.from({ length: 8 }, (_, i) => ({
    key: i % 3 === 0 ? null : Buffer.from(`key-${i}`),
    value: Buffer.from(`value number ${i}`),
    headers: i % 2 === 0 ? [{ key: 'trace', value: Buffer.from([i]) }] : [],
    timestamp: NOW + i,
  }));
  const originals = [encodeRecordBatch({ records: recs }), encodeRecordBatch({ records: recs, compression: CompressionType.Gzip })];
  let refused = 0;
  for (let round = 0; round < 3000; round++) {
    const buf = Buffer.from(originals[round % 2]!);
    const flips = 1 + int(4);
    for (let i = 0; i < flips; i++) buf[RECORD_BATCH_OVERHEAD + int(buf.length - RECORD_BATCH_OVERHEAD)] = int(256);
    buf.writeUInt32BE(crc32c(buf.subarray(ATTRIBUTES_OFFSET)), CRC_OFFSET);
    const failure = check(buf);
    if (failure !== null) {
      refused++;
      assert.ok(failure.errorCode === ErrorCode.INVALID_RECORD || failure.errorCode === ErrorCode.CORRUPT_MESSAGE, failure.errorMessage);
      continue;
    }
    const decoded = decodeRecordBatch(buf);
    assert.equal(decoded.records.length, 8);
    decoded.records.forEach((r, i) => assert.equal(r.offsetDelta, i));
  }
  assert.ok(refused > 1000, `only ${refused} of 3000 damaged batches refused`);
});

test('hand-built batches are what validateBatch accepts (the helper writes a real header)', () => {
  const opts: HandBatch = { count: 2 };
  const b = batch(records(2), opts);
  assert.equal(validateBatch(b, 0).recordsCount, 2);
  assert.equal(decodeRecordBatch(b).records.length, 2);
});
