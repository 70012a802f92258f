import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from './clock.js';
import { defaultLogConfig } from './config.js';
import { PartitionLog } from './partition-log.js';
import { readWholeLog } from './read-whole-log.js';
import { appendCommitted, batchBaseOffsets, cleanup, makeBatch, tmpLogDir } from './test-helpers.js';

test('readWholeLog returns every batch once, across segments and small read sizes', () => {
  const dir = tmpLogDir();
  try {
    const batchSize = makeBatch().length;
    const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: batchSize * 3 }), new ManualClock(0));
    for (let i = 0; i < 10; i++) appendCommitted(log, makeBatch(), { leaderEpoch: 0, assignOffsets: true });
    log.deleteRecordsBefore(3);
    // A read size below one batch still makes progress (minOneMessage); one of two batches splits reads.
    for (const maxBytes of [1, batchSize * 2, 1 << 20]) {
      const offsets = [...readWholeLog(log, maxBytes)].flatMap((chunk) => batchBaseOffsets(chunk));
      assert.deepEqual(offsets, [3, 4, 5, 6, 7, 8, 9], `maxBytes ${maxBytes}`);
    }
    log.close();
  } finally {
    cleanup(dir);
  }
});
