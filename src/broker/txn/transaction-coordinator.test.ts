import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, type ErrorCodeValue } from '../../protocol/errors.js';
import { ManualScheduler, MemoryOffsetsTopic, capturingLogger } from '../group/test-support.js';
import { TransactionCoordinator, DEFAULT_TXN_LIMITS, type TxnCoordinatorConfig } from './transaction-coordinator.js';
import type { TxnMarker, TxnMarkerWriter } from './txn-markers.js';
import { TxnState, isValidTransition, prepareFenceAndAbort, newTxnMetadata, type TxnStateValue } from './txn-state.js';
import { decodeTxnLogRecords, txnMetadataRecord, encodeTxnBatch } from './txn-log.js';

class FakeMarkers implements TxnMarkerWriter {
  calls: TxnMarker[][] = [];
  /** Answers for the next calls (one code for every marker of a call); NONE once used up. */
  answers: ErrorCodeValue[] = [];
  /** While set, calls wait until release() (markers in flight). */
  hold = false;
  private held: (() => void)[] = [];
  writeMarkers(markers: readonly TxnMarker[]): Promise<ErrorCodeValue[]> {
    this.calls.push([...markers]);
    const code = this.answers.shift() ?? ErrorCode.NONE;
    const answer = markers.map(() => code);
    if (!this.hold) return Promise.resolve(answer);
    return new Promise((resolve) => this.held.push(() => resolve(answer)));
  }
  release(): void {
    this.hold = false;
    for (const fn of this.held.splice(0)) fn();
  }
}

const CONFIG: TxnCoordinatorConfig = {
  maxTimeoutMs: 900_000,
  transactionalIdExpirationMs: 604_800_000,
  abortTimedOutIntervalMs: 10_000,
  removeExpiredIntervalMs: 3_600_000,
  ...DEFAULT_TXN_LIMITS,
};

function setup(config: Partial<TxnCoordinatorConfig> = {}, store = new MemoryOffsetsTopic()) {
  const scheduler = new ManualScheduler();
  const markers = new FakeMarkers();
  let nextId = 1000n;
  const { log, lines } = capturingLogger();
  const coordinator = new TransactionCoordinator({
    store,
    markers,
    allocateProducerId: async () => ({ value: nextId++, errorCode: ErrorCode.NONE }),
    partitionExists: (topic: string) => topic !== 'deleted',
    config: { ...CONFIG, ...config },
    scheduler,
    nowMs: () => scheduler.now,
    log,
  });
  coordinator.load();
  return { coordinator, scheduler, markers, store, lines };
}

/** Lets pending promise callbacks and deferred runtime events run. */
async function settle(scheduler: ManualScheduler): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setImmediate(r));
    scheduler.advance(0);
  }
}

const TP = (topic: string, partition: number) => ({ topic, partition });

test('transition table: Kafka\'s valid previous states, illegal ones throw', () => {
  assert.ok(isValidTransition(TxnState.Ongoing, TxnState.PrepareCommit));
  assert.ok(!isValidTransition(TxnState.Empty, TxnState.PrepareCommit));
  assert.ok(!isValidTransition(TxnState.PrepareCommit, TxnState.CompleteAbort));
  assert.ok(isValidTransition(TxnState.PrepareEpochFence, TxnState.PrepareAbort));
  const empty = newTxnMetadata('t', 1n, 60_000, 0);
  assert.throws(() => prepareFenceAndAbort(empty, false, 1), /illegal transition Empty -> PrepareEpochFence/);
});

test('__transaction_state records round-trip in Kafka\'s format (key version 0, value version 0)', () => {
  const m = { ...newTxnMetadata('tx-1', 42n, 60_000, 5), producerEpoch: 3, state: TxnState.Ongoing as TxnStateValue, partitions: new Set(['b\u00001', 'a\u00002', 'a\u00000']), txnStartTimestampMs: 7 };
  const rec = txnMetadataRecord(m, 9);
  // key: int16 version 0, string length 4, "tx-1"
  assert.deepEqual([...rec.key!], [0, 0, 0, 4, ...Buffer.from('tx-1')]);
  assert.equal(rec.value!.readInt16BE(0), 0);
  assert.equal(rec.value!.readBigInt64BE(2), 42n);
  const [back] = [...decodeTxnLogRecords(encodeTxnBatch([rec]))];
  assert.equal(back!.value!.state, TxnState.Ongoing);
  assert.equal(back!.value!.producerEpoch, 3);
  assert.deepEqual([...back!.value!.partitions].sort(), ['a\u00000', 'a\u00002', 'b\u00001']);
  assert.equal(back!.value!.txnStartTimestampMs, 7);
});

test('InitProducerId: a new id gets epoch 0, again gets epoch 1, a bad timeout is refused', async () => {
  const { coordinator } = setup();
  const a = await coordinator.initProducerId('tx', 60_000, null);
  assert.deepEqual(a, { errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 0 });
  const b = await coordinator.initProducerId('tx', 60_000, null);
  assert.deepEqual(b, { errorCode: ErrorCode.NONE, producerId: 1000n, producerEpoch: 1 });
  assert.equal((await coordinator.initProducerId('tx', 900_001, null)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
  assert.equal((await coordinator.initProducerId('tx', 0, null)).errorCode, ErrorCode.INVALID_TRANSACTION_TIMEOUT);
});

test('KIP-360: InitProducerId with the current id bumps; with a stranger\'s id is fenced; a retry of a lost bump gets the same epoch', async () => {
  const { coordinator } = setup();
  await coordinator.initProducerId('tx', 60_000, null); // epoch 0
  const bumped = await coordinator.initProducerId('tx', 60_000, { producerId: 1000n, producerEpoch: 0 });
  assert.equal(bumped.producerEpoch, 1);
  const retry = await coordinator.initProducerId('tx', 60_000, { producerId: 1000n, producerEpoch: 0 });
  assert.equal(retry.producerEpoch, 1, 'expected epoch equals the last epoch: the same bump again');
  const stranger = await coordinator.initProducerId('tx', 60_000, { producerId: 5n, producerEpoch: 0 });
  assert.equal(stranger.errorCode, ErrorCode.PRODUCER_FENCED);
});

test('commit: AddPartitions, EndTxn answered after PrepareCommit, markers to each partition, then CompleteCommit', async () => {
  const { coordinator, markers, scheduler } = setup();
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 60_000, null);
  assert.equal(await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 0), TP('b', 1)]), ErrorCode.NONE);
  assert.equal(coordinator.metadata('tx')!.state, TxnState.Ongoing);
  markers.hold = true;
  assert.equal(await coordinator.endTxn('tx', producerId, producerEpoch, true), ErrorCode.NONE);
  assert.equal(coordinator.metadata('tx')!.state, TxnState.PrepareCommit);
  // While the markers are out: a retry of the commit and a new AddPartitions wait.
  assert.equal(await coordinator.endTxn('tx', producerId, producerEpoch, true), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal(await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 0)]), ErrorCode.CONCURRENT_TRANSACTIONS);
  assert.equal((await coordinator.initProducerId('tx', 60_000, null)).errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  await settle(scheduler);
  assert.equal(markers.calls.length, 1);
  assert.deepEqual(
    markers.calls[0]!.map((m) => `${m.topic}-${m.partition}:${m.committed}:${m.producerId}:${m.producerEpoch}`).sort(),
    ['a-0:true:1000:0', 'b-1:true:1000:0'],
  );
  markers.release();
  await settle(scheduler);
  const m = coordinator.metadata('tx')!;
  assert.equal(m.state, TxnState.CompleteCommit);
  assert.equal(m.partitions.size, 0);
  // A retried commit of a completed commit succeeds; an abort of it is an invalid state.
  assert.equal(await coordinator.endTxn('tx', producerId, producerEpoch, true), ErrorCode.NONE);
  assert.equal(await coordinator.endTxn('tx', producerId, producerEpoch, false), ErrorCode.INVALID_TXN_STATE);
});

test('EndTxn errors: unknown producer id, wrong epoch, nothing to end', async () => {
  const { coordinator } = setup();
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 60_000, null);
  assert.equal(await coordinator.endTxn('tx', producerId + 1n, producerEpoch, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(await coordinator.endTxn('nope', producerId, producerEpoch, true), ErrorCode.INVALID_PRODUCER_ID_MAPPING);
  assert.equal(await coordinator.endTxn('tx', producerId, producerEpoch + 1, true), ErrorCode.PRODUCER_FENCED);
  assert.equal(await coordinator.endTxn('tx', producerId, producerEpoch, true), ErrorCode.INVALID_TXN_STATE);
});

test('markers are retried on retriable errors and the transaction completes', async () => {
  const { coordinator, markers, scheduler } = setup();
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 60_000, null);
  await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 0)]);
  markers.answers = [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NOT_ENOUGH_REPLICAS];
  assert.equal(await coordinator.endTxn('tx', producerId, producerEpoch, false), ErrorCode.NONE);
  await settle(scheduler);
  assert.equal(coordinator.metadata('tx')!.state, TxnState.PrepareAbort);
  scheduler.advance(100);
  await settle(scheduler);
  scheduler.advance(100);
  await settle(scheduler);
  assert.equal(markers.calls.length, 3);
  assert.ok(markers.calls.every((c) => c[0]!.committed === false));
  assert.equal(coordinator.metadata('tx')!.state, TxnState.CompleteAbort);
});

test('a second producer with the same id fences the first: its transaction is aborted with a bumped epoch', async () => {
  const { coordinator, markers, scheduler } = setup();
  const first = await coordinator.initProducerId('tx', 60_000, null);
  await coordinator.addPartitions('tx', first.producerId, first.producerEpoch, [TP('a', 0)]);
  const attempt = await coordinator.initProducerId('tx', 60_000, null);
  assert.equal(attempt.errorCode, ErrorCode.CONCURRENT_TRANSACTIONS);
  await settle(scheduler);
  assert.equal(markers.calls.length, 1);
  assert.equal(markers.calls[0]![0]!.committed, false);
  assert.equal(markers.calls[0]![0]!.producerEpoch, 1, 'the abort marker carries the fencing epoch');
  const second = await coordinator.initProducerId('tx', 60_000, null);
  assert.deepEqual(second, { errorCode: ErrorCode.NONE, producerId: first.producerId, producerEpoch: 2 });
  assert.equal(await coordinator.addPartitions('tx', first.producerId, first.producerEpoch, [TP('a', 0)]), ErrorCode.PRODUCER_FENCED);
  assert.equal(await coordinator.endTxn('tx', first.producerId, first.producerEpoch, true), ErrorCode.PRODUCER_FENCED);
});

test('epoch exhaustion: the next InitProducerId rotates to a new producer id at epoch 0', async () => {
  const store = new MemoryOffsetsTopic();
  const { coordinator: c0 } = setup({}, store);
  await c0.initProducerId('tx', 60_000, null);
  // Write a metadata at epoch 32766 to the log and reload from it.
  const p = c0.partitionFor('tx');
  const exhausted = { ...c0.metadata('tx')!, producerId: 7n, producerEpoch: 32766 };
  store.append(p, encodeTxnBatch([txnMetadataRecord(exhausted, 0)]));
  c0.shutdown();
  const { coordinator } = setup({}, store);
  const r = await coordinator.initProducerId('tx', 60_000, null);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.notEqual(r.producerId, exhausted.producerId);
  assert.equal(r.producerEpoch, 0);
  assert.equal(coordinator.metadata('tx')!.lastProducerId, exhausted.producerId);
});

test('a transaction open past its timeout is fenced and aborted by the periodic check', async () => {
  const { coordinator, markers, scheduler, lines } = setup();
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 15_000, null);
  await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 0)]);
  scheduler.advance(10_000);
  await settle(scheduler);
  assert.equal(markers.calls.length, 0, 'not yet timed out at 10 s');
  scheduler.advance(10_000);
  await settle(scheduler);
  assert.equal(markers.calls.length, 1);
  assert.equal(coordinator.metadata('tx')!.state, TxnState.CompleteAbort);
  assert.equal(coordinator.metadata('tx')!.producerEpoch, producerEpoch + 1);
  assert.ok(lines.some((l) => l['msg'] === 'aborting a transaction that timed out'));
  assert.equal(await coordinator.endTxn('tx', producerId, producerEpoch, true), ErrorCode.PRODUCER_FENCED);
});

test('recovery: a partition loaded with a PrepareCommit writes its markers and completes', async () => {
  const store = new MemoryOffsetsTopic();
  const first = setup({}, store);
  const { producerId, producerEpoch } = await first.coordinator.initProducerId('tx', 60_000, null);
  await first.coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 3)]);
  first.markers.hold = true; // the coordinator "dies" between the decision and the markers
  assert.equal(await first.coordinator.endTxn('tx', producerId, producerEpoch, true), ErrorCode.NONE);
  first.coordinator.shutdown();
  const second = setup({}, store);
  await settle(second.scheduler);
  assert.equal(second.markers.calls.length, 1);
  assert.deepEqual(second.markers.calls[0]!.map((m) => [m.topic, m.partition, m.committed]), [['a', 3, true]]);
  assert.equal(second.coordinator.metadata('tx')!.state, TxnState.CompleteCommit);
});

test('coordinator epoch: markers carry the leader epoch of the __transaction_state partition', async () => {
  const { coordinator, markers, store, scheduler } = setup();
  const p = coordinator.partitionFor('tx');
  store.resign(p);
  store.lead(p, 7);
  await settle(scheduler);
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 60_000, null);
  await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 0)]);
  await coordinator.endTxn('tx', producerId, producerEpoch, true);
  await settle(scheduler);
  assert.equal(markers.calls[0]![0]!.coordinatorEpoch, 7);
});

test('verifyOnly: NONE for partitions in the open transaction, INVALID_TXN_STATE otherwise', async () => {
  const { coordinator } = setup();
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 60_000, null);
  await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 0)]);
  assert.deepEqual(await coordinator.verifyPartitions('tx', producerId, producerEpoch, [TP('a', 0), TP('a', 1)]), [ErrorCode.NONE, ErrorCode.INVALID_TXN_STATE]);
  assert.deepEqual(await coordinator.verifyPartitions('tx', producerId, producerEpoch + 1, [TP('a', 0)]), [ErrorCode.PRODUCER_FENCED]);
});

test('limits: partitions per transaction and transactional ids per coordinator', async () => {
  const { coordinator } = setup({ maxPartitionsPerTransaction: 2, maxTransactionalIds: 1 });
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 60_000, null);
  assert.equal(await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 0), TP('a', 1), TP('a', 2)]), ErrorCode.INVALID_TXN_STATE);
  assert.equal((await coordinator.initProducerId('other', 60_000, null)).errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
});

test('transactional.id.expiration.ms: an idle id is tombstoned and gone after reload', async () => {
  const store = new MemoryOffsetsTopic();
  const { coordinator, scheduler } = setup({ transactionalIdExpirationMs: 60_000, removeExpiredIntervalMs: 30_000 }, store);
  await coordinator.initProducerId('tx', 60_000, null);
  scheduler.advance(30_000);
  await settle(scheduler);
  assert.ok(coordinator.metadata('tx') !== undefined);
  scheduler.advance(60_000);
  await settle(scheduler);
  assert.equal(coordinator.metadata('tx'), undefined);
  coordinator.shutdown();
  assert.equal(setup({}, store).coordinator.metadata('tx'), undefined);
});

test('Describe and List: state, partitions, filters', async () => {
  const { coordinator } = setup();
  const a = await coordinator.initProducerId('a', 60_000, null);
  await coordinator.initProducerId('b', 60_000, null);
  await coordinator.addPartitions('a', a.producerId, a.producerEpoch, [TP('t', 1), TP('t', 0)]);
  const d = coordinator.describe('a');
  assert.equal(d.state, 'Ongoing');
  assert.deepEqual(d.topics, [{ topic: 't', partitions: [0, 1] }]);
  assert.equal(coordinator.describe('zzz').errorCode, ErrorCode.TRANSACTIONAL_ID_NOT_FOUND);
  const all = coordinator.list({ states: [], producerIds: [], durationFilterMs: -1, idPattern: null }, 100);
  assert.deepEqual(all.transactions.map((t) => t.transactionalId).sort(), ['a', 'b']);
  const ongoing = coordinator.list({ states: ['Ongoing'], producerIds: [], durationFilterMs: -1, idPattern: null }, 100);
  assert.deepEqual(ongoing.transactions.map((t) => t.transactionalId), ['a']);
  const pattern = coordinator.list({ states: [], producerIds: [], durationFilterMs: -1, idPattern: /^b/ }, 100);
  assert.deepEqual(pattern.transactions.map((t) => t.transactionalId), ['b']);
});

test('markers for a partition whose topic was deleted are dropped and the transaction completes', async () => {
  const { coordinator, markers, scheduler } = setup();
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 60_000, null);
  await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('deleted', 0)]);
  markers.answers = [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION];
  await coordinator.endTxn('tx', producerId, producerEpoch, true);
  await settle(scheduler);
  assert.equal(markers.calls.length, 1);
  assert.equal(coordinator.metadata('tx')!.state, TxnState.CompleteCommit);
});

test('a marker refused as fenced stops the completion (a newer coordinator owns it)', async () => {
  const { coordinator, markers, scheduler, lines } = setup();
  const { producerId, producerEpoch } = await coordinator.initProducerId('tx', 60_000, null);
  await coordinator.addPartitions('tx', producerId, producerEpoch, [TP('a', 0)]);
  markers.answers = [ErrorCode.TRANSACTION_COORDINATOR_FENCED];
  await coordinator.endTxn('tx', producerId, producerEpoch, true);
  await settle(scheduler);
  scheduler.advance(1_000);
  await settle(scheduler);
  assert.equal(markers.calls.length, 1, 'not retried');
  assert.equal(coordinator.metadata('tx')!.state, TxnState.PrepareCommit);
  assert.ok(lines.some((l) => l['msg'] === 'transaction marker refused; not completing the transaction here'));
});
