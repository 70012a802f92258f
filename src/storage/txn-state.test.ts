// Transactions in the partition log: markers, open transactions, the last stable offset and
// their recovery, for the disk log and the memory log alike.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { encodeControlBatch } from '../protocol/records/record-batch.js';
import { encodeTxnMarkerBatch, readTxnMarker } from './batches.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig } from './config.js';
import { InvalidProducerEpochError, InvalidRecordError, InvalidTxnStateError, TransactionCoordinatorFencedError } from './errors.js';
import { PartitionLog } from './partition-log.js';
import type { PartitionStore } from './partition-store.js';
import { bothStores, cleanup, makeBatch, tmpLogDir } from './test-helpers.js';

const opts = { leaderEpoch: 0, assignOffsets: true } as const;
const PID = 7n;

function txn(baseSequence: number, count = 1, producerId = PID, producerEpoch = 0): Buffer {
  return makeBatch({ producerId, producerEpoch, baseSequence, transactional: true, timestamps: Array.from({ length: count }, (_, i) => 1000 + i) });
}

function marker(committed: boolean, producerId = PID, producerEpoch = 0, coordinatorEpoch = 0) {
  return { producerId, producerEpoch, coordinatorEpoch, committed };
}

/** Appends and moves the high watermark to the log end, as a single-node replica manager does. */
function put(log: PartitionStore, records: Buffer): void {
  log.append(records, opts);
  log.highWatermark = log.logEndOffset;
}

function endTxn(log: PartitionStore, m: ReturnType<typeof marker>) {
  const r = log.appendTxnMarker(m, 0);
  log.highWatermark = log.logEndOffset;
  return r;
}

test('the marker batch built by storage is byte for byte the protocol codec\'s control batch', () => {
  for (const committed of [true, false]) {
    const ours = encodeTxnMarkerBatch(12345678901n, 3, 17, committed, 42, 5, 1_700_000_000_123);
    const codec = encodeControlBatch({ type: committed ? 'COMMIT' : 'ABORT', producerId: 12345678901n, producerEpoch: 3, coordinatorEpoch: 17, timestamp: 1_700_000_000_123, baseOffset: 42, partitionLeaderEpoch: 5 });
    assert.deepEqual(ours, codec);
    assert.deepEqual(readTxnMarker(ours), { committed, coordinatorEpoch: 17 });
  }
  assert.equal(readTxnMarker(makeBatch()), null, 'a data batch is no marker');
});

const stores = bothStores(5000);

for (const [name, make] of stores) {
  describe(`transactions in the log (${name})`, () => {
    test('the last stable offset stops at the oldest open transaction and moves on with its marker', () => {
      const { log, done } = make();
      try {
        put(log, makeBatch({ timestamps: [1, 2] })); // 0-1, plain
        put(log, txn(0, 3)); // 2-4, producer 7
        put(log, txn(0, 1, 8n)); // 5, producer 8
        assert.equal(log.highWatermark, 6);
        assert.equal(log.lastStableOffset, 2);
        const first = endTxn(log, marker(true)); // 6
        assert.equal(first.offset, 6);
        assert.deepEqual(first.completedTxn, { producerId: PID, firstOffset: 2, lastOffset: 6, aborted: false });
        assert.equal(log.lastStableOffset, 5, 'now bounded by producer 8');
        const second = endTxn(log, marker(false, 8n));
        assert.deepEqual(second.completedTxn, { producerId: 8n, firstOffset: 5, lastOffset: 7, aborted: true });
        assert.equal(log.lastStableOffset, 8);
        assert.equal(log.read(0, 1 << 20, log.lastStableOffset, false).records.length > 0, true);
      } finally {
        done();
      }
    });

    test('the last stable offset never passes the high watermark', () => {
      const { log, done } = make();
      try {
        log.append(makeBatch(), opts);
        log.append(makeBatch(), opts);
        log.highWatermark = 1;
        assert.equal(log.lastStableOffset, 1);
      } finally {
        done();
      }
    });

    test('a marker for a producer with nothing open here completes no transaction', () => {
      const { log, done } = make();
      try {
        const r = endTxn(log, marker(false, 99n, 2, 4));
        assert.equal(r.completedTxn, null);
        assert.equal(log.logEndOffset, 1, 'the marker is written all the same');
        assert.equal(log.lastStableOffset, 1);
      } finally {
        done();
      }
    });

    test('a marker with an older producer epoch is INVALID_PRODUCER_EPOCH and writes nothing', () => {
      const { log, done } = make();
      try {
        put(log, txn(0, 1, PID, 3));
        assert.throws(() => log.appendTxnMarker(marker(true, PID, 2), 0), InvalidProducerEpochError);
        assert.equal(log.logEndOffset, 1);
        assert.equal(log.lastStableOffset, 0, 'the transaction is still open');
        endTxn(log, marker(true, PID, 3));
        assert.equal(log.lastStableOffset, 2);
      } finally {
        done();
      }
    });

    test('a marker from an older coordinator epoch is TRANSACTION_COORDINATOR_FENCED', () => {
      const { log, done } = make();
      try {
        put(log, txn(0));
        endTxn(log, marker(true, PID, 0, 5));
        put(log, txn(1));
        assert.throws(() => log.appendTxnMarker(marker(false, PID, 0, 4), 0), TransactionCoordinatorFencedError);
        assert.equal(log.lastStableOffset, 2);
        assert.equal(endTxn(log, marker(false, PID, 0, 5)).completedTxn?.aborted, true, 'the same epoch is accepted');
      } finally {
        done();
      }
    });

    test('clients may not write control batches; a plain batch inside an open transaction is INVALID_TXN_STATE', () => {
      const { log, done } = make();
      try {
        const control = encodeControlBatch({ type: 'COMMIT', producerId: PID, producerEpoch: 0, coordinatorEpoch: 0, timestamp: 1 });
        assert.throws(() => log.append(control, opts), InvalidRecordError);
        put(log, txn(0));
        assert.throws(() => log.append(makeBatch({ producerId: PID, producerEpoch: 0, baseSequence: 1 }), opts), InvalidTxnStateError);
        assert.equal(log.logEndOffset, 1);
      } finally {
        done();
      }
    });

    test('a transaction reopened after its marker starts at its new first offset', () => {
      const { log, done } = make();
      try {
        put(log, txn(0));
        endTxn(log, marker(true));
        put(log, makeBatch({ timestamps: [1] }));
        put(log, txn(1, 2));
        assert.equal(log.lastStableOffset, 3);
      } finally {
        done();
      }
    });
  });
}

describe('open transactions survive a restart (PartitionLog)', () => {
  function reopen(dir: string, clean: boolean): PartitionLog {
    return PartitionLog.open(dir, 't', 0, defaultLogConfig(), new ManualClock(9000), { hadCleanShutdown: clean, recoveryPointOffset: 0 });
  }

  for (const [how, prepare] of [
    ['from the snapshot of a clean close', (log: PartitionLog) => log.close()],
    ['by replaying the log after a crash (no snapshot)', (log: PartitionLog) => {
      log.flush();
      for (const f of fs.readdirSync(log.dir)) if (f.endsWith('.snapshot')) fs.rmSync(`${log.dir}/${f}`);
    }],
  ] as const) {
    test(`rebuilt ${how}: open transactions, closed ones and coordinator epochs`, () => {
      const dir = tmpLogDir();
      try {
        const log = PartitionLog.open(dir, 't', 0, defaultLogConfig(), new ManualClock(5000));
        put(log, txn(0, 2)); // 0-1 producer 7
        put(log, txn(0, 1, 8n)); // 2 producer 8
        endTxn(log, marker(false, PID, 0, 3)); // 3
        put(log, txn(0, 1, 9n)); // 4 producer 9
        prepare(log);
        const again = reopen(dir, how.startsWith('from'));
        try {
          assert.equal(again.logEndOffset, 5);
          assert.equal(again.lastStableOffset, 2, 'producer 8 is still open');
          assert.deepEqual([...again.producerState.ongoingTxns()], [[8n, 2], [9n, 4]]);
          assert.equal(again.producerState.entry(PID)?.coordinatorEpoch, 3);
          assert.throws(() => again.appendTxnMarker(marker(true, PID, 0, 2), 0), TransactionCoordinatorFencedError);
          endTxn(again, marker(true, 8n));
          assert.equal(again.lastStableOffset, 4);
        } finally {
          again.close();
        }
      } finally {
        cleanup(dir);
      }
    });
  }
});

test('an open transaction whose start was deleted holds the last stable offset at the log start, not below it', () => {
  for (const [, make] of stores) {
    const { log, done } = make();
    try {
      put(log, txn(0)); // 0
      put(log, makeBatch()); // 1
      put(log, makeBatch()); // 2
      log.deleteRecordsBefore(2);
      assert.equal(log.logStartOffset, 2);
      assert.equal(log.lastStableOffset, 2);
    } finally {
      done();
    }
  }
});
