import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManualClock } from './clock.js';
import { defaultLogConfig } from './config.js';
import { InvalidProducerEpochError, InvalidRecordError, OutOfOrderSequenceError } from './errors.js';
import { PartitionLog } from './partition-log.js';
import { lastSequence } from './producer-state.js';
import { bothStores, cleanup, makeBatch, tmpLogDir } from './test-helpers.js';

const opts = { leaderEpoch: 0, assignOffsets: true } as const;
const PID = 4242n;

/** A batch of `count` records from producer PID. */
function idem(baseSequence: number, count = 1, producerEpoch = 0, producerId = PID): Buffer {
  return makeBatch({ producerId, producerEpoch, baseSequence, timestamps: Array.from({ length: count }, (_, i) => 1000 + i) });
}

const stores = bothStores(0);

for (const [name, make] of stores) {
  describe(`idempotent producer rules (${name})`, () => {
    test('a retried batch is a duplicate: nothing written, original offsets returned', () => {
      const { log, done } = make();
      try {
        const first = log.append(idem(0, 3), opts);
        log.append(idem(3, 2), opts);
        const retry = log.append(idem(0, 3), opts);
        assert.deepEqual(retry, { ...first, duplicate: true, logStartOffset: 0 });
        assert.equal(retry.firstOffset, 0);
        assert.equal(retry.lastOffset, 2);
        assert.equal(log.logEndOffset, 5);
        assert.equal(log.append(idem(3, 2), opts).firstOffset, 3, 'the newest batch too');
      } finally {
        done();
      }
    });

    test('only the last 5 batches are remembered', () => {
      const { log, done } = make();
      try {
        for (let seq = 0; seq < 6; seq++) log.append(idem(seq), opts);
        assert.equal(log.append(idem(1), opts).duplicate, true);
        assert.throws(() => log.append(idem(0), opts), OutOfOrderSequenceError, 'batch 0 fell out of the window');
      } finally {
        done();
      }
    });

    test('a sequence gap is OutOfOrderSequence and is not written', () => {
      const { log, done } = make();
      try {
        log.append(idem(0, 2), opts);
        assert.throws(() => log.append(idem(3), opts), OutOfOrderSequenceError);
        assert.throws(() => log.append(idem(1), opts), OutOfOrderSequenceError, 'overlapping, not equal to a stored batch');
        assert.equal(log.logEndOffset, 2);
        assert.equal(log.append(idem(2), opts).firstOffset, 2);
      } finally {
        done();
      }
    });

    test('an older epoch is fenced; a newer epoch must start at sequence 0', () => {
      const { log, done } = make();
      try {
        log.append(idem(0, 1, 5), opts);
        assert.throws(() => log.append(idem(1, 1, 4), opts), InvalidProducerEpochError);
        assert.throws(() => log.append(idem(7, 1, 6), opts), OutOfOrderSequenceError);
        assert.equal(log.append(idem(0, 1, 6), opts).firstOffset, 1);
        assert.throws(() => log.append(idem(1, 1, 5), opts), InvalidProducerEpochError);
        assert.equal(log.logEndOffset, 2);
      } finally {
        done();
      }
    });

    test('an unknown producer may start at any sequence', () => {
      const { log, done } = make();
      try {
        assert.equal(log.append(idem(17, 1, 2, 99n), opts).firstOffset, 0);
        assert.equal(log.append(idem(18, 1, 2, 99n), opts).firstOffset, 1);
      } finally {
        done();
      }
    });

    test('sequences wrap from Int32.MAX to 0', () => {
      const { log, done } = make();
      try {
        const max = 0x7fffffff;
        log.append(idem(max - 1, 2), opts); // max-1, max
        assert.equal(log.append(idem(0, 1), opts).firstOffset, 2);
        assert.equal(log.append(idem(1, 1), opts).firstOffset, 3);
      } finally {
        done();
      }
    });

    test('a batch with a producer id but no sequence is invalid', () => {
      const { log, done } = make();
      try {
        assert.throws(() => log.append(makeBatch({ producerId: PID, producerEpoch: 0, baseSequence: -1 }), opts), InvalidRecordError);
      } finally {
        done();
      }
    });

    test('a refused batch in a multi-batch append writes nothing', () => {
      const { log, done } = make();
      try {
        assert.throws(() => log.append(Buffer.concat([idem(0), idem(5)]), opts), OutOfOrderSequenceError);
        assert.equal(log.logEndOffset, 0);
        assert.equal(log.append(idem(0), opts).firstOffset, 0, 'state untouched by the refused append');
      } finally {
        done();
      }
    });
  });
}

test('lastSequence wraps past Int32.MAX', () => {
  assert.equal(lastSequence(5, 3), 8);
  assert.equal(lastSequence(0x7fffffff, 0), 0x7fffffff);
  assert.equal(lastSequence(0x7fffffff, 1), 0);
  assert.equal(lastSequence(0x7ffffffe, 4), 2);
});

describe('producer state persistence', () => {
  test('dedup survives close and reopen (snapshot at the log end, nothing replayed)', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig();
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      log.append(idem(0, 2), opts);
      log.append(idem(2, 2), opts);
      log.close();
      assert.ok(fs.existsSync(path.join(dir, 't-0', '00000000000000000004.snapshot')));
      const reopened = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(reopened.loadStats.replayedProducerBatches, 0);
      const retry = reopened.append(idem(2, 2), opts);
      assert.deepEqual([retry.duplicate, retry.firstOffset, retry.lastOffset], [true, 2, 3]);
      assert.throws(() => reopened.append(idem(7), opts), OutOfOrderSequenceError);
      assert.equal(reopened.append(idem(4), opts).firstOffset, 4);
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });

  test('dedup survives an unclean stop with no snapshot: state is replayed from the log', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig();
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      log.append(idem(0, 2), opts);
      log.append(idem(2, 1), opts);
      // kill -9: no close
      void log;
      const recovered = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(recovered.loadStats.replayedProducerBatches, 2);
      assert.equal(recovered.append(idem(2, 1), opts).duplicate, true);
      assert.equal(recovered.append(idem(3, 1), opts).firstOffset, 3);
      recovered.close();
    } finally {
      cleanup(dir);
    }
  });

  test('dedup survives an unclean stop: newest snapshot plus replay of the batches after it', () => {
    const dir = tmpLogDir();
    try {
      const size = idem(0).length;
      const config = defaultLogConfig({ segmentBytes: size * 2 });
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      for (let seq = 0; seq < 5; seq++) log.append(idem(seq), opts);
      log.append(idem(0, 1, 0, 7n), opts); // a second producer, after the last snapshot
      assert.deepEqual(log.producerState.snapshotOffsets(), [2, 4]);
      const recovered = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(recovered.loadStats.replayedProducerBatches, 2, 'only batches after snapshot 4');
      assert.equal(recovered.append(idem(4), opts).duplicate, true);
      assert.equal(recovered.append(idem(0, 1, 0, 7n), opts).duplicate, true);
      assert.equal(recovered.append(idem(1, 1, 0, 7n), opts).firstOffset, 6);
      recovered.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a corrupt snapshot is ignored and an older one (or the log) is used', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig();
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      log.append(idem(0), opts);
      log.append(idem(1), opts);
      log.close();
      const snap = path.join(dir, 't-0', '00000000000000000002.snapshot');
      const bytes = fs.readFileSync(snap);
      bytes[bytes.length - 1] ^= 0xff;
      fs.writeFileSync(snap, bytes);
      const reopened = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(reopened.loadStats.replayedProducerBatches, 2);
      assert.equal(reopened.append(idem(1), opts).duplicate, true);
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });

  test('truncation forgets the producer batches it removed', () => {
    const dir = tmpLogDir();
    try {
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig(), new ManualClock(0));
      log.append(idem(0), opts);
      log.append(idem(1), opts);
      log.truncateTo(1);
      assert.equal(log.append(idem(1), opts).duplicate, false, 'seq 1 is no longer in the log');
      assert.equal(log.logEndOffset, 2);
      log.close();
    } finally {
      cleanup(dir);
    }
  });
});
