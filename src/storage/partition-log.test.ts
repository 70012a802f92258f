import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ATTR_TIMESTAMP_TYPE_LOG_APPEND, ATTRIBUTES_OFFSET, CRC_OFFSET, PARTITION_LEADER_EPOCH_OFFSET, readBatchHeader } from '../protocol/records/batch-header.js';
import { crc32c } from '../protocol/records/crc32c.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig, type LogConfig } from './config.js';
import { CorruptRecordError, OffsetOutOfRangeError, RecordTooLargeError } from './errors.js';
import { MemoryPartitionLog } from './memory-partition-log.js';
import { PartitionLog } from './partition-log.js';
import type { PartitionStore } from './partition-store.js';
import { appendCommitted, batchBaseOffsets, cleanup, makeBatch, segmentFiles, tmpLogDir } from './test-helpers.js';

const opts = { leaderEpoch: 3, assignOffsets: true } as const;

interface Harness {
  log: PartitionStore;
  clock: ManualClock;
  done(): void;
}

const implementations: [string, (config: LogConfig) => Harness][] = [
  ['PartitionLog', (config) => {
    const dir = tmpLogDir();
    const clock = new ManualClock(1_000_000);
    const log = PartitionLog.open(dir, 'orders', 0, config, clock);
    return { log, clock, done: () => { if (!(log as PartitionLog).isClosed) log.close(); cleanup(dir); } };
  }],
  ['MemoryPartitionLog', (config) => {
    const clock = new ManualClock(1_000_000);
    return { log: new MemoryPartitionLog('orders', 0, config, clock), clock, done: () => {} };
  }],
];

for (const [name, make] of implementations) {
  describe(`${name} (PartitionStore contract)`, () => {
    test('append assigns consecutive offsets and patches base offset and leader epoch in place', () => {
      const h = make(defaultLogConfig());
      try {
        const a = makeBatch({ timestamps: [10, 11, 12] });
        const r1 = h.log.append(a, opts);
        assert.equal(h.log.highWatermark, 0, 'an append does not move the high watermark: the replica manager does');
        h.log.highWatermark = h.log.logEndOffset;
        assert.deepEqual([r1.firstOffset, r1.lastOffset, r1.duplicate, r1.logAppendTimeMs], [0, 2, false, -1]);
        const b = makeBatch({ timestamps: [13] });
        const r2 = appendCommitted(h.log, b, opts);
        assert.deepEqual([r2.firstOffset, r2.lastOffset, r2.maxTimestamp], [3, 3, 13]);
        assert.equal(Number(b.readBigInt64BE(0)), 3);
        assert.equal(b.readInt32BE(PARTITION_LEADER_EPOCH_OFFSET), 3);
        assert.equal(h.log.logEndOffset, 4);
        assert.equal(h.log.highWatermark, 4);
        const read = h.log.read(0, 1 << 20, h.log.highWatermark, false);
        assert.deepEqual(batchBaseOffsets(read.records), [0, 3]);
        assert.deepEqual(read.records, Buffer.concat([a, b]));
      } finally {
        h.done();
      }
    });

    test('several batches in one append get consecutive offsets', () => {
      const h = make(defaultLogConfig());
      try {
        const r = appendCommitted(h.log, Buffer.concat([makeBatch({ timestamps: [1, 2] }), makeBatch({ timestamps: [3, 4, 5] })]), opts);
        assert.deepEqual([r.firstOffset, r.lastOffset], [0, 4]);
        assert.deepEqual(batchBaseOffsets(h.log.read(0, 1 << 20, 5, false).records), [0, 2]);
      } finally {
        h.done();
      }
    });

    test('read starts at the batch holding fetchOffset and respects maxBytes, maxOffset and minOneMessage', () => {
      const h = make(defaultLogConfig());
      try {
        const size = makeBatch({ timestamps: [1, 2] }).length;
        for (let i = 0; i < 5; i++) appendCommitted(h.log, makeBatch({ timestamps: [1, 2] }), opts);
        // offset 3 lives in the batch at 2
        let r = h.log.read(3, 1 << 20, 10, false);
        assert.equal(r.firstBatchOffset, 2);
        assert.deepEqual(batchBaseOffsets(r.records), [2, 4, 6, 8]);
        // whole batches only
        r = h.log.read(0, size * 2 + 5, 10, false);
        assert.deepEqual(batchBaseOffsets(r.records), [0, 2]);
        assert.equal(r.records.length, size * 2);
        // never a batch whose base offset is >= maxOffset (the high watermark)
        r = h.log.read(0, 1 << 20, 4, false);
        assert.deepEqual(batchBaseOffsets(r.records), [0, 2]);
        // maxBytes smaller than the first batch: nothing, unless minOneMessage
        assert.equal(h.log.read(0, 10, 10, false).records.length, 0);
        r = h.log.read(0, 10, 10, true);
        assert.deepEqual(batchBaseOffsets(r.records), [0]);
        assert.equal(r.records.length, size);
        // at the log end: empty, no error
        assert.equal(h.log.read(10, 1000, 10, true).records.length, 0);
      } finally {
        h.done();
      }
    });

    test('read outside [logStartOffset, logEndOffset] is OffsetOutOfRange', () => {
      const h = make(defaultLogConfig());
      try {
        appendCommitted(h.log, makeBatch(), opts);
        assert.throws(() => h.log.read(2, 100, 2, true), OffsetOutOfRangeError);
        appendCommitted(h.log, makeBatch(), opts);
        h.log.deleteRecordsBefore(1);
        assert.throws(() => h.log.read(0, 100, 2, true), OffsetOutOfRangeError);
        assert.equal(h.log.read(1, 1000, 2, true).firstBatchOffset, 1);
      } finally {
        h.done();
      }
    });

    test('a batch that does not fit its length, or is too large, is refused and nothing is written', () => {
      const h = make(defaultLogConfig({ maxMessageBytes: 200 }));
      try {
        const batch = makeBatch();
        assert.throws(() => appendCommitted(h.log, batch.subarray(0, batch.length - 1), opts), CorruptRecordError);
        assert.throws(() => appendCommitted(h.log, Buffer.concat([batch, batch.subarray(0, 20)]), opts), CorruptRecordError);
        assert.throws(() => appendCommitted(h.log, makeBatch({ valueBytes: 300 }), opts), RecordTooLargeError);
        assert.equal(h.log.logEndOffset, 0);
      } finally {
        h.done();
      }
    });

    test('offsetForTimestamp finds the first record with timestamp >= target, inside a batch', () => {
      const h = make(defaultLogConfig());
      try {
        appendCommitted(h.log, makeBatch({ timestamps: [100, 200, 300] }), opts);
        appendCommitted(h.log, makeBatch({ timestamps: [400, 500] }), opts);
        assert.deepEqual(h.log.offsetForTimestamp(150), { offset: 1, timestamp: 200 });
        assert.deepEqual(h.log.offsetForTimestamp(200), { offset: 1, timestamp: 200 });
        assert.deepEqual(h.log.offsetForTimestamp(301), { offset: 3, timestamp: 400 });
        assert.deepEqual(h.log.offsetForTimestamp(0), { offset: 0, timestamp: 100 });
        assert.equal(h.log.offsetForTimestamp(501), null);
        assert.deepEqual(h.log.maxTimestampAndOffset(), { offset: 4, timestamp: 500 });
      } finally {
        h.done();
      }
    });

    test('firstRecordFrom gives the oldest record a consumer at an offset has not read (time lag)', () => {
      const h = make(defaultLogConfig());
      try {
        appendCommitted(h.log, makeBatch({ timestamps: [100, 200, 300] }), opts);
        appendCommitted(h.log, makeBatch({ timestamps: [400, 500] }), opts);
        assert.deepEqual(h.log.firstRecordFrom(0, 5), { offset: 0, timestamp: 100 });
        assert.deepEqual(h.log.firstRecordFrom(2, 5), { offset: 2, timestamp: 300 }, 'inside a batch');
        assert.deepEqual(h.log.firstRecordFrom(4, 5), { offset: 4, timestamp: 500 });
        assert.equal(h.log.firstRecordFrom(5, 5), null, 'caught up');
        assert.equal(h.log.firstRecordFrom(3, 3), null, 'nothing below maxOffset (the high watermark)');
        h.log.deleteRecordsBefore(3);
        assert.deepEqual(h.log.firstRecordFrom(1, 5), { offset: 3, timestamp: 400 }, 'from the log start when retention passed the offset');
      } finally {
        h.done();
      }
    });

    test('max timestamp reports the record holding it, not the batch end', () => {
      const h = make(defaultLogConfig());
      try {
        appendCommitted(h.log, makeBatch({ timestamps: [100, 900, 300] }), opts);
        appendCommitted(h.log, makeBatch({ timestamps: [400] }), opts);
        assert.deepEqual(h.log.maxTimestampAndOffset(), { offset: 1, timestamp: 900 });
      } finally {
        h.done();
      }
    });

    test('LogAppendTime stamps the batch, sets the attribute and keeps the CRC valid', () => {
      const h = make(defaultLogConfig({ messageTimestampType: 'LogAppendTime' }));
      try {
        const batch = makeBatch({ timestamps: [5, 6] });
        const r = appendCommitted(h.log, batch, opts);
        assert.equal(r.logAppendTimeMs, h.clock.nowMs());
        const stored = h.log.read(0, 1000, 2, true).records;
        const header = readBatchHeader(stored, 0);
        assert.equal(Number(header.maxTimestamp), h.clock.nowMs());
        assert.ok((header.attributes & ATTR_TIMESTAMP_TYPE_LOG_APPEND) !== 0);
        assert.equal(stored.readUInt32BE(CRC_OFFSET), crc32c(stored.subarray(ATTRIBUTES_OFFSET)));
        assert.deepEqual(h.log.offsetForTimestamp(0), { offset: 0, timestamp: h.clock.nowMs() });
      } finally {
        h.done();
      }
    });

    test('deleteRecordsBefore moves the log start offset, never above the high watermark', () => {
      const h = make(defaultLogConfig());
      try {
        for (let i = 0; i < 3; i++) appendCommitted(h.log, makeBatch(), opts);
        assert.equal(h.log.deleteRecordsBefore(2), 2);
        assert.equal(h.log.logStartOffset, 2);
        assert.equal(h.log.deleteRecordsBefore(1), 2, 'never moves backwards');
        assert.throws(() => h.log.deleteRecordsBefore(4), OffsetOutOfRangeError);
        assert.deepEqual(h.log.offsetForTimestamp(0), { offset: 2, timestamp: 1000 });
      } finally {
        h.done();
      }
    });

    test('truncateTo removes the batches at and after the offset; appends continue from there', () => {
      const h = make(defaultLogConfig());
      try {
        for (let i = 0; i < 4; i++) appendCommitted(h.log, makeBatch({ timestamps: [1, 2] }), opts);
        h.log.truncateTo(4);
        assert.equal(h.log.logEndOffset, 4);
        assert.equal(h.log.highWatermark, 4);
        assert.equal(appendCommitted(h.log, makeBatch(), opts).firstOffset, 4);
        assert.deepEqual(batchBaseOffsets(h.log.read(0, 1 << 20, 5, false).records), [0, 2, 4]);
      } finally {
        h.done();
      }
    });
  });
}

describe('PartitionLog on disk', () => {
  test('segments roll on segment.bytes and reads serve one segment at a time', () => {
    const dir = tmpLogDir();
    try {
      const batchSize = makeBatch({ valueBytes: 100 }).length;
      const config = defaultLogConfig({ segmentBytes: batchSize * 3 });
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      for (let i = 0; i < 10; i++) appendCommitted(log, makeBatch({ valueBytes: 100 }), opts);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 3, 6, 9]);
      const files = segmentFiles(path.join(dir, 't-0'));
      assert.deepEqual(files.map((f) => path.basename(f)), ['00000000000000000000.log', '00000000000000000003.log', '00000000000000000006.log', '00000000000000000009.log']);
      assert.equal(fs.statSync(files[0]!).size, batchSize * 3);
      // One segment per read, as Kafka: from 1, the rest of segment 0 only.
      assert.deepEqual(batchBaseOffsets(log.read(1, 1 << 20, 10, false).records), [1, 2]);
      assert.deepEqual(batchBaseOffsets(log.read(3, 1 << 20, 10, false).records), [3, 4, 5]);
      assert.deepEqual(batchBaseOffsets(log.read(9, 1 << 20, 10, false).records), [9]);
      // Inactive segments' indexes are trimmed to their entries.
      assert.equal(fs.statSync(path.join(dir, 't-0', '00000000000000000000.index')).size % 8, 0);
      assert.ok(fs.statSync(path.join(dir, 't-0', '00000000000000000000.index')).size < config.segmentIndexBytes);
      // Producer state snapshots are taken at rolls.
      assert.ok(fs.existsSync(path.join(dir, 't-0', '00000000000000000009.snapshot')));
      log.close();
      const reopened = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(reopened.logEndOffset, 10);
      assert.deepEqual(batchBaseOffsets(reopened.read(7, 1 << 20, 10, false).records), [7, 8]);
      assert.equal(appendCommitted(reopened, makeBatch({ valueBytes: 100 }), opts).firstOffset, 10);
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });

  test('the sparse index is used: lookups land on the right batch in a large segment', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig({ indexIntervalBytes: 256 });
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      for (let i = 0; i < 200; i++) appendCommitted(log, makeBatch({ timestamps: [i * 10, i * 10 + 5], valueBytes: 50 }), opts);
      const indexSize = fs.statSync(path.join(dir, 't-0', '00000000000000000000.index')).size;
      assert.equal(indexSize, config.segmentIndexBytes, 'active index is preallocated');
      for (const offset of [0, 1, 77, 150, 255, 398, 399]) {
        const r = log.read(offset, 1, 400, true);
        assert.equal(r.firstBatchOffset, offset - (offset % 2), `offset ${offset}`);
      }
      assert.deepEqual(log.offsetForTimestamp(1003), { offset: 201, timestamp: 1005 });
      log.close();
      const entries = fs.statSync(path.join(dir, 't-0', '00000000000000000000.index')).size / 8;
      assert.ok(entries > 20 && entries < 200, `index trimmed at close to its ${entries} entries`);
    } finally {
      cleanup(dir);
    }
  });

  test('segment.ms rolls a segment whose first batch is too old', () => {
    const dir = tmpLogDir();
    try {
      const clock = new ManualClock(10_000);
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentMs: 1000 }), clock);
      appendCommitted(log, makeBatch({ timestamps: [10_000] }), opts);
      clock.advance(500);
      appendCommitted(log, makeBatch({ timestamps: [10_500] }), opts);
      assert.equal(log.segmentCount, 1);
      clock.advance(600);
      appendCommitted(log, makeBatch({ timestamps: [11_100] }), opts);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('segment.ms is measured in record time: old timestamps do not roll every append', () => {
    const dir = tmpLogDir();
    try {
      const clock = new ManualClock(1_700_000_000_000);
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentMs: 1000 }), clock);
      for (let i = 0; i < 5; i++) appendCommitted(log, makeBatch({ timestamps: [i * 100] }), opts);
      assert.equal(log.segmentCount, 1);
      appendCommitted(log, makeBatch({ timestamps: [1200] }), opts);
      assert.equal(log.segmentCount, 2);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a full index rolls the segment', () => {
    const dir = tmpLogDir();
    try {
      // 4 offset index entries of 8 bytes; one entry per batch (interval 0)
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentIndexBytes: 32, indexIntervalBytes: 0 }), new ManualClock(0));
      for (let i = 0; i < 12; i++) appendCommitted(log, makeBatch({ timestamps: [i] }), opts);
      assert.ok(log.segmentCount >= 3, `rolled to ${log.segmentCount} segments`);
      for (let i = 0; i < 12; i++) assert.equal(log.read(i, 1, 12, true).firstBatchOffset, i);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('retention by time deletes whole old segments, rolling an expired active one first, and moves the log start', () => {
    const dir = tmpLogDir();
    try {
      const clock = new ManualClock(0);
      const batchSize = makeBatch().length;
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: batchSize * 2, retentionMs: 1000 }), clock);
      for (let i = 0; i < 6; i++) appendCommitted(log, makeBatch({ timestamps: [i < 4 ? 100 : 5000] }), opts);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 4]);
      assert.equal(log.enforceRetention(1000), 0, 'nothing is older than 1000 ms yet');
      assert.equal(log.enforceRetention(1101), 2);
      assert.deepEqual(log.segmentBaseOffsets(), [4]);
      assert.equal(log.logStartOffset, 4);
      assert.throws(() => log.read(0, 100, 6, true), OffsetOutOfRangeError);
      // Once everything has expired, the active segment is rolled and deleted too (as Kafka does):
      // the log is empty but keeps its offsets.
      assert.equal(log.enforceRetention(1_000_000), 1);
      assert.deepEqual(log.segmentBaseOffsets(), [6]);
      assert.equal(log.logStartOffset, 6);
      assert.equal(log.logEndOffset, 6);
      assert.equal(fs.existsSync(path.join(dir, 't-0', '00000000000000000000.log')), false);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('retention by size deletes the oldest segments until the log fits', () => {
    const dir = tmpLogDir();
    try {
      const batchSize = makeBatch().length;
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: batchSize * 2, retentionBytes: batchSize * 3, retentionMs: -1 }), new ManualClock(0));
      for (let i = 0; i < 7; i++) appendCommitted(log, makeBatch(), opts);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 4, 6]);
      assert.equal(log.enforceRetention(0), 2);
      assert.deepEqual(log.segmentBaseOffsets(), [4, 6]);
      assert.equal(log.sizeInBytes, batchSize * 3);
      assert.equal(log.logStartOffset, 4);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('deleteRecordsBefore deletes segments wholly below the new start, and it survives a restart', () => {
    const dir = tmpLogDir();
    try {
      const batchSize = makeBatch().length;
      const config = defaultLogConfig({ segmentBytes: batchSize * 2 });
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      for (let i = 0; i < 6; i++) appendCommitted(log, makeBatch(), opts);
      log.deleteRecordsBefore(3);
      assert.deepEqual(log.segmentBaseOffsets(), [2, 4]);
      assert.equal(log.logStartOffset, 3);
      log.close();
      const reopened = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(reopened.logStartOffset, 3);
      assert.throws(() => reopened.read(2, 100, 6, true), OffsetOutOfRangeError);
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });

  test('truncateTo across segments deletes later segments and reactivates the remaining one', () => {
    const dir = tmpLogDir();
    try {
      const batchSize = makeBatch().length;
      const config = defaultLogConfig({ segmentBytes: batchSize * 2 });
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      for (let i = 0; i < 7; i++) appendCommitted(log, makeBatch(), opts);
      log.truncateTo(3);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 2]);
      assert.equal(log.logEndOffset, 3);
      assert.equal(appendCommitted(log, makeBatch(), opts).firstOffset, 3);
      assert.equal(appendCommitted(log, makeBatch(), opts).firstOffset, 4);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 2, 4]);
      log.close();
      const reopened = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(reopened.logEndOffset, 5);
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });

  test('flush.messages fsyncs and advances the recovery point', () => {
    const dir = tmpLogDir();
    try {
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ flushMessages: 3 }), new ManualClock(0));
      appendCommitted(log, makeBatch({ timestamps: [1, 2] }), opts);
      assert.equal(log.recoveryPointOffset, 0);
      appendCommitted(log, makeBatch({ timestamps: [1] }), opts);
      assert.equal(log.recoveryPointOffset, 3);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('flush.ms flushes through flushIfDue once the interval has passed', () => {
    const dir = tmpLogDir();
    try {
      const clock = new ManualClock(0);
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ flushMs: 100 }), clock);
      appendCommitted(log, makeBatch(), opts);
      assert.equal(log.flushIfDue(50), false);
      assert.equal(log.flushIfDue(100), true);
      assert.equal(log.recoveryPointOffset, 1);
      assert.equal(log.flushIfDue(1000), false, 'nothing unflushed');
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('the .log file is a plain concatenation of the batches as produced', () => {
    const dir = tmpLogDir();
    try {
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig(), new ManualClock(0));
      const a = makeBatch({ timestamps: [1, 2] });
      const b = makeBatch({ timestamps: [3] });
      appendCommitted(log, a, opts);
      appendCommitted(log, b, opts);
      log.close();
      assert.deepEqual(fs.readFileSync(path.join(dir, 't-0', '00000000000000000000.log')), Buffer.concat([a, b]));
    } finally {
      cleanup(dir);
    }
  });
});

describe('PartitionLog truncation into a closed segment', () => {
  test("the segment's time index and max timestamp forget the batches cut off, before and after a reload", () => {
    const dir = tmpLogDir();
    try {
      // Three batches per segment; in the first segment the latest timestamp is in its last batch.
      const batches = [[1000], [2000], [9000], [3000], [4000], [5000]].map((timestamps) => makeBatch({ timestamps }));
      const config = defaultLogConfig({ segmentBytes: batches[0]!.length * 3 });
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      for (const b of batches) appendCommitted(log, b, opts);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 3]);
      assert.deepEqual(log.offsetForTimestamp(8000), { offset: 2, timestamp: 9000 });
      log.truncateTo(2); // into the closed first segment: offset 2 (timestamp 9000) goes
      assert.deepEqual(log.segmentBaseOffsets(), [0]);
      const check = (l: PartitionLog, when: string) => {
        assert.equal(l.offsetForTimestamp(8000), null, when);
        assert.deepEqual(l.offsetForTimestamp(1500), { offset: 1, timestamp: 2000 }, when);
        assert.deepEqual(l.maxTimestampAndOffset(), { offset: 1, timestamp: 2000 }, when);
      };
      check(log, 'after truncateTo');
      appendCommitted(log, makeBatch({ timestamps: [2500] }), opts);
      assert.deepEqual(log.maxTimestampAndOffset(), { offset: 2, timestamp: 2500 });
      log.roll();
      assert.equal(log.offsetForTimestamp(8000), null, 'after the segment is closed again');
      log.close();
      const reopened = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(reopened.offsetForTimestamp(8000), null, 'after a reload');
      assert.deepEqual(reopened.maxTimestampAndOffset(), { offset: 2, timestamp: 2500 });
      reopened.truncateTo(2);
      check(reopened, 'after a reload and truncateTo');
      reopened.close();
      const again = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      check(again, 'after a second reload');
      again.close();
    } finally {
      cleanup(dir);
    }
  });
});
