import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BatchBuilder, setProducerFields } from './batch-builder.js';
import { CompressionType } from '../protocol/records/batch-header.js';
import { decodeRecordBatch, encodeRecordBatch, validateBatch } from '../protocol/records/record-batch.js';

const producer = { producerId: 42n, producerEpoch: 3, baseSequence: 7, transactional: false };

test('a built batch is byte-identical to the protocol encoder for the same records', () => {
  const b = new BatchBuilder(1024, 0);
  const t0 = 1_700_000_000_000;
  assert.ok(b.tryAppend('k1', 'v1', [{ key: 'h', value: 'x' }], t0, 1024));
  assert.ok(b.tryAppend(null, Buffer.from([1, 2, 3]), undefined, t0 + 5, 1024));
  assert.ok(b.tryAppend(Buffer.from('k3'), null, [{ key: 'n', value: null }], t0 - 2, 1024));
  const ours = b.seal({ compression: CompressionType.None, ...producer });
  const reference = encodeRecordBatch({
    records: [
      { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }], timestamp: t0 },
      { key: null, value: Buffer.from([1, 2, 3]), timestamp: t0 + 5 },
      { key: Buffer.from('k3'), value: null, headers: [{ key: 'n', value: null }], timestamp: t0 - 2 },
    ],
    producerId: 42n,
    producerEpoch: 3,
    baseSequence: 7,
  });
  assert.deepEqual(ours, reference);
});

for (const [name, codec] of [
  ['gzip', CompressionType.Gzip],
  ['snappy', CompressionType.Snappy],
  ['lz4', CompressionType.Lz4],
  ['zstd', CompressionType.Zstd],
] as const) {
  test(`a ${name} batch decodes to the appended records`, () => {
    const b = new BatchBuilder(16384, 0);
    for (let i = 0; i < 100; i++) assert.ok(b.tryAppend(`k${i}`, `value-${i}-${'z'.repeat(i)}`, undefined, 1000 + i, 16384));
    const batch = b.seal({ compression: codec, ...producer });
    validateBatch(batch, 0);
    const decoded = decodeRecordBatch(batch, 0);
    assert.equal(decoded.header.attributes & 7, codec);
    assert.equal(decoded.records.length, 100);
    assert.equal(decoded.records[99]!.value!.toString(), `value-99-${'z'.repeat(99)}`);
    assert.equal(decoded.records[99]!.timestamp, 1099n);
    assert.equal(decoded.header.maxTimestamp, 1099n);
  });
}

test('tryAppend refuses a record past the limit unless the batch is empty', () => {
  const b = new BatchBuilder(100, 0);
  assert.ok(b.tryAppend(null, 'x'.repeat(500), undefined, 0, 100), 'an oversized first record grows the buffer');
  assert.equal(b.tryAppend(null, 'y', undefined, 0, 100), false);
  assert.equal(b.count, 1);
});

test('setProducerFields renumbers a sealed batch and keeps its CRC valid', () => {
  const b = new BatchBuilder(256, 0);
  b.tryAppend(null, 'v', undefined, 1, 256);
  const batch = b.seal({ compression: CompressionType.None, ...producer });
  setProducerFields(batch, 99n, 1, 123);
  const h = validateBatch(batch, 0);
  assert.equal(h.producerId, 99n);
  assert.equal(h.baseSequence, 123);
});
