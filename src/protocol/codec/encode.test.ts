// Encoding rules that are errors in Kafka too: dropping a non-ignorable field that holds a
// non-default value, null where the version does not allow it, values that do not fit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProtocolEncodeError } from './errors.js';
import { Writer, ZERO_COPY_MIN_BYTES } from './writer.js';
import { ProduceRequest } from '../messages/ProduceRequest.js';
import { FetchRequest } from '../messages/FetchRequest.js';
import { MetadataRequest } from '../messages/MetadataRequest.js';
import { ApiVersionsRequest } from '../messages/ApiVersionsRequest.js';
import { OffsetCommitValue } from '../messages/OffsetCommitValue.js';

const produce = (transactionalId: string | null) => ({ transactionalId, acks: 1, timeoutMs: 100, topicData: [] });

test('encoding a version that drops a non-ignorable field holding a non-default value is an error', () => {
  assert.throws(
    () => ProduceRequest.toBuffer(2, produce('tx-1')),
    (e: Error) => e instanceof ProtocolEncodeError && /ProduceRequest v2 transactionalId: .*version 2 does not have it/.test(e.message),
  );
  // At its default (null) the field is simply not written.
  assert.equal(ProduceRequest.toBuffer(2, produce(null)).length, 2 + 4 + 4);
  assert.equal(ProduceRequest.toBuffer(3, produce('tx-1')).length, 2 + 4 + 2 + 4 + 4);
});

test('the drop check reaches nested structs and tagged-only fields', () => {
  const fetch = FetchRequest.defaults();
  const partition = FetchRequest.newStruct('FetchPartition');
  partition.lastFetchedEpoch = 3; // v12+, not ignorable
  fetch.topics = [{ ...FetchRequest.newStruct('FetchTopic'), topic: 't', partitions: [partition] }];
  assert.throws(() => FetchRequest.toBuffer(11, fetch), /FetchRequest v11 topics.partitions.lastFetchedEpoch: /);
  // MetadataRequest's topicId (v10+) is ignorable: dropped without complaint.
  const v = MetadataRequest.defaults();
  v.topics = [{ topicId: 'AAECAwQFBgcICQoLDA0ODw', name: 'a' }];
  assert.equal(MetadataRequest.fromBuffer(MetadataRequest.toBuffer(9, v), 9).topics![0]!.topicId, 'AAAAAAAAAAAAAAAAAAAAAA');
  const f = FetchRequest.defaults();
  f.replicaState.replicaId = 5; // tagged field, v15+, not ignorable
  assert.throws(() => FetchRequest.toBuffer(14, f), /FetchRequest v14 replicaState: /);
  assert.ok(FetchRequest.toBuffer(15, f).length > 0);
});

test('ignorable fields are dropped silently and decode to their defaults', () => {
  const f = FetchRequest.defaults();
  f.maxBytes = 1000; // v3+, ignorable
  const decoded = FetchRequest.fromBuffer(FetchRequest.toBuffer(2, f), 2);
  assert.equal(decoded.maxBytes, 0x7fffffff);
  const o = { offset: 10n, leaderEpoch: 4, metadata: '', commitTimestamp: 1n, expireTimestamp: -1n };
  assert.equal(OffsetCommitValue.fromBuffer(OffsetCommitValue.toBuffer(1, o), 1).leaderEpoch, -1);
});

test('null in a field that is not nullable in that version is an error', () => {
  const v = MetadataRequest.defaults();
  v.topics = null; // nullable from v1
  assert.throws(() => MetadataRequest.toBuffer(0, v), /MetadataRequest v0 topics: null is not allowed/);
  assert.deepEqual(MetadataRequest.toBuffer(1, v), Buffer.from('ffffffff', 'hex'));
  assert.throws(() => ApiVersionsRequest.toBuffer(3, { clientSoftwareName: null as unknown as string, clientSoftwareVersion: '' }), ProtocolEncodeError);
});

test('values that do not fit the wire type are errors', () => {
  assert.throws(() => ProduceRequest.toBuffer(3, produce('x'.repeat(0x8000))), /exceeds 32767/);
  const v = MetadataRequest.defaults();
  v.topics = [{ topicId: 'not-a-uuid', name: 'a' }];
  assert.throws(() => MetadataRequest.toBuffer(12, v), /not a uuid/);
  v.topics = [{ topicId: 'AAAAAAAAAAAAAAAAAAAAAB', name: 'a' }]; // last character carries bits a uuid has not
  assert.throws(() => MetadataRequest.toBuffer(12, v), /not a uuid/);
  assert.throws(() => ProduceRequest.toBuffer(14, produce(null)), /unsupported version 14/);
  assert.throws(() => ProduceRequest.toBuffer(3, { ...produce(null), acks: 40000 }), RangeError);
});

test('fields left undefined are written as their defaults', () => {
  const partial = { acks: 1, timeoutMs: 5 } as unknown as Parameters<typeof ProduceRequest.toBuffer>[1];
  assert.deepEqual(ProduceRequest.fromBuffer(ProduceRequest.toBuffer(3, partial), 3), { transactionalId: null, acks: 1, timeoutMs: 5, topicData: [] });
});

test('the writer grows without copying and keeps large buffers as their own chunks', () => {
  const w = new Writer(4);
  for (let i = 0; i < 1000; i++) w.int32(i);
  const big = Buffer.alloc(ZERO_COPY_MIN_BYTES, 1);
  w.bytes(big);
  w.int8(-1);
  w.bytes(Buffer.from([1, 2, 3]));
  assert.equal(w.length, 4000 + big.length + 4);
  const chunks = w.chunks();
  assert.ok(chunks.includes(big));
  const all = w.toBuffer();
  assert.equal(all.length, w.length);
  assert.equal(all.readInt32BE(4 * 999), 999);
  assert.deepEqual(all.subarray(4000 + big.length), Buffer.from([0xff, 1, 2, 3]));
});
