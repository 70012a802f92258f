// Transactional offset commits in the group coordinator: pending until the producer's marker,
// visible on COMMIT, dropped on ABORT, UNSTABLE_OFFSET_COMMIT for RequireStable meanwhile, and
// rebuilt from the log (transactional batches, then markers) when the partition is loaded.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { readBatchHeader } from '../../protocol/records/batch-header.js';
import { encodeControlBatch } from '../../protocol/records/record-batch.js';
import { GroupCoordinator, type TxnOffsetCommitRequestIn } from './group-coordinator.js';
import { ManualScheduler, MemoryOffsetsTopic, TEST_GROUP_CONFIG } from './test-support.js';

const CONFIG = TEST_GROUP_CONFIG;

function setup(store = new MemoryOffsetsTopic()) {
  store.addTopic('in', 2);
  const scheduler = new ManualScheduler();
  const coordinator = new GroupCoordinator({ store, config: CONFIG, scheduler, nowMs: () => scheduler.now, log: pino({ level: 'silent' }) });
  coordinator.load();
  return { coordinator, store, scheduler };
}

function txnCommit(over: Partial<TxnOffsetCommitRequestIn> = {}): TxnOffsetCommitRequestIn {
  return {
    transactionalId: 'tx',
    groupId: 'g',
    producerId: 77n,
    producerEpoch: 3,
    generationId: -1,
    memberId: '',
    groupInstanceId: null,
    topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: 'm' }] }],
    ...over,
  };
}

const fetch = (c: GroupCoordinator, requireStable: boolean) => c.fetchOffsets('g', [{ name: 'in', partitionIndexes: [0] }], undefined, requireStable).topics[0]!.partitions[0]!;

test('offsets committed in a transaction are invisible until COMMIT, unstable for RequireStable meanwhile', async () => {
  const { coordinator, store } = setup();
  const r = await coordinator.commitTxnOffsets(txnCommit());
  assert.equal(r[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
  assert.equal(fetch(coordinator, false).committedOffset, -1n);
  assert.equal(fetch(coordinator, true).errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT);
  // The batch is the producer's transactional batch, sequence 0.
  const p = coordinator.offsetsPartitionFor('g');
  const h = readBatchHeader(store.batches.get(p)!.at(-1)!, 0);
  assert.equal(h.producerId, 77n);
  assert.equal(h.producerEpoch, 3);
  assert.equal(h.baseSequence, 0);
  assert.ok((h.attributes & 0x10) !== 0);
  // A second commit in the same transaction continues the sequence.
  await coordinator.commitTxnOffsets(txnCommit({ topics: [{ name: 'in', partitions: [{ partitionIndex: 1, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: null }] }] }));
  assert.equal(readBatchHeader(store.batches.get(p)!.at(-1)!, 0).baseSequence, 1);
  coordinator.onTxnMarker('__consumer_offsets', p, 77n, true);
  assert.equal(fetch(coordinator, true).committedOffset, 42n);
  assert.equal(fetch(coordinator, false).metadata, 'm');
  assert.equal(coordinator.pendingTxnProducers('g'), 0);
});

test('ABORT drops the pending offsets; the committed offset before stays', async () => {
  const { coordinator } = setup();
  await coordinator.commitOffsets({ groupId: 'g', generationId: -1, memberId: '', groupInstanceId: null, retentionTimeMs: -1, apiVersion: 8, topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: -1, committedMetadata: '' }] }] });
  await coordinator.commitTxnOffsets(txnCommit());
  coordinator.onTxnMarker('__consumer_offsets', coordinator.offsetsPartitionFor('g'), 77n, false);
  assert.equal(fetch(coordinator, true).committedOffset, 10n);
  // A marker of another producer or another topic changes nothing.
  coordinator.onTxnMarker('other', 0, 77n, true);
  assert.equal(fetch(coordinator, true).errorCode, ErrorCode.NONE);
});

test('replay: committed transactions apply in log order, aborted ones vanish, open ones stay pending', async () => {
  const store = new MemoryOffsetsTopic();
  const first = setup(store);
  const p = first.coordinator.offsetsPartitionFor('g');
  const marker = (producerId: bigint, committed: boolean) =>
    store.append(p, encodeControlBatch({ type: committed ? 'COMMIT' : 'ABORT', producerId, producerEpoch: 3, coordinatorEpoch: 0, timestamp: 0 }));
  await first.coordinator.commitTxnOffsets(txnCommit({ producerId: 1n }));
  marker(1n, true);
  await first.coordinator.commitTxnOffsets(txnCommit({ producerId: 2n, topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: 99n, committedLeaderEpoch: -1, committedMetadata: null }] }] }));
  marker(2n, false);
  await first.coordinator.commitTxnOffsets(txnCommit({ producerId: 3n, topics: [{ name: 'in', partitions: [{ partitionIndex: 0, committedOffset: 50n, committedLeaderEpoch: -1, committedMetadata: null }] }] }));
  first.coordinator.shutdown();
  const { coordinator } = setup(store);
  assert.equal(fetch(coordinator, false).committedOffset, 42n);
  assert.equal(fetch(coordinator, true).errorCode, ErrorCode.UNSTABLE_OFFSET_COMMIT, 'producer 3 is still open');
  // Its sequence carries on from the log.
  await coordinator.commitTxnOffsets(txnCommit({ producerId: 3n }));
  assert.equal(readBatchHeader(store.batches.get(p)!.at(-1)!, 0).baseSequence, 1);
  coordinator.onTxnMarker('__consumer_offsets', p, 3n, true);
  assert.equal(fetch(coordinator, true).committedOffset, 42n, 'the later commit of producer 3 (offset 42) wins over its first (50)');
});

test('member checks: an unknown member or a wrong generation of a live group is refused', async () => {
  const { coordinator } = setup();
  assert.equal((await coordinator.commitTxnOffsets(txnCommit({ memberId: 'nobody', generationId: 1 })))[0]!.partitions[0]!.errorCode, ErrorCode.ILLEGAL_GENERATION);
  assert.equal((await coordinator.commitTxnOffsets(txnCommit({ topics: [{ name: 'missing', partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: null }] }] })))[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
});
