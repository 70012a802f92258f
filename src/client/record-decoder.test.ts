import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressionType } from '../protocol/records/batch-header.js';
import { CorruptRecordError } from '../protocol/records/errors.js';
import { decodeRecordBatch, encodeRecordBatch, updateBatchCrc, type BatchRecord } from '../protocol/records/record-batch.js';
import type { ConsumerRecord } from './consumer.js';
import { decodeBatchInto } from './record-decoder.js';

const t0 = 1_700_000_000_000n;
const records: BatchRecord[] = [
  { key: Buffer.from('k1'), value: Buffer.from('v1'), headers: [{ key: 'h', value: Buffer.from('x') }, { key: 'n', value: null }], timestamp: t0 },
  { key: null, value: Buffer.alloc(300, 7), timestamp: t0 - 5n }, // negative delta, 2-byte value length
  { key: Buffer.alloc(0), value: null, timestamp: t0 + 2n ** 52n }, // delta beyond 7 varlong bytes: the bigint path
  { key: null, value: Buffer.from('last'), timestamp: t0 + 1n },
];

/** What the protocol's decoder says, in ConsumerRecord form. */
function reference(buf: Buffer, minOffset: bigint): ConsumerRecord[] {
  return decodeRecordBatch(buf)
    .records.filter((r) => r.offset >= minOffset)
    .map((r) => ({ topic: 't', partition: 3, offset: r.offset, timestamp: r.timestamp, key: r.key, value: r.value, headers: r.headers }));
}

for (const [name, compression] of [
  ['none', CompressionType.None],
  ['gzip', CompressionType.Gzip],
  ['zstd', CompressionType.Zstd],
] as const) {
  test(`decodes a ${name} batch as the protocol decoder does, skipping offsets below the fetch offset`, () => {
    const buf = encodeRecordBatch({ records, baseOffset: 100n, compression });
    for (const minOffset of [0n, 101n, 103n, 104n]) {
      const out: ConsumerRecord[] = [];
      decodeBatchInto(buf, 0, 't', 3, minOffset, out);
      assert.deepEqual(out, reference(buf, minOffset));
    }
    const out: ConsumerRecord[] = [];
    decodeBatchInto(buf, 0, 't', 3, 0n, out);
    assert.equal(out.length, 4);
    assert.equal(out[2]!.timestamp, t0 + 2n ** 52n);
    assert.equal(out[1]!.timestamp, t0 - 5n);
  });
}

test('decodes a batch at a position inside a larger buffer and appends to what is there', () => {
  const first = encodeRecordBatch({ records: records.slice(0, 1), baseOffset: 0n });
  const second = encodeRecordBatch({ records: records.slice(1), baseOffset: 1n });
  const out: ConsumerRecord[] = [];
  decodeBatchInto(Buffer.concat([first, second]), 0, 't', 3, 0n, out);
  decodeBatchInto(Buffer.concat([first, second]), first.length, 't', 3, 0n, out);
  assert.deepEqual(out.map((r) => r.offset), [0n, 1n, 2n, 3n]);
});

test('refuses a batch whose CRC or record lengths are wrong', () => {
  const buf = encodeRecordBatch({ records, baseOffset: 0n });
  const flipped = Buffer.from(buf);
  flipped[flipped.length - 2] ^= 0xff; // inside the last record's value: the CRC no longer matches
  assert.throws(() => decodeBatchInto(flipped, 0, 't', 0, 0n, []), CorruptRecordError);
  const longer = Buffer.from(buf);
  longer[61] = longer[61]! + 2; // the first record's length varint (right after the 61-byte header), CRC fixed up
  updateBatchCrc(longer, 0);
  assert.throws(() => decodeBatchInto(longer, 0, 't', 0, 0n, []), CorruptRecordError);
});
