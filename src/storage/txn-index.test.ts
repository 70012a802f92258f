// The aborted-transaction index: Kafka's file format, what the log writes into it, and how it
// follows its segments through recovery, truncation, retention and the cleaner's swap.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { decodeRecordBatches, encodeRecordBatch } from '../protocol/records/record-batch.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig, type LogConfig } from './config.js';
import { LogCleaner } from './log-cleaner.js';
import { PartitionLog } from './partition-log.js';
import { TXN_INDEX_ENTRY_BYTES, TransactionIndex, decodeEntries, type AbortedTxn } from './txn-index.js';
import { cleanup, makeBatch, tmpLogDir } from './test-helpers.js';

const opts = { leaderEpoch: 0, assignOffsets: true } as const;

function txnBatch(producerId: bigint, baseSequence: number, count = 1): Buffer {
  return makeBatch({ producerId, producerEpoch: 0, baseSequence, transactional: true, timestamps: Array.from({ length: count }, (_, i) => 1000 + i) });
}

function put(log: PartitionLog, records: Buffer): void {
  log.append(records, opts);
  log.highWatermark = log.logEndOffset;
}

function end(log: PartitionLog, producerId: bigint, committed: boolean): number {
  const r = log.appendTxnMarker({ producerId, producerEpoch: 0, coordinatorEpoch: 0, committed }, 0);
  log.highWatermark = log.logEndOffset;
  return r.offset;
}

function txnIndexFiles(dir: string): string[] {
  return fs.readdirSync(dir).filter((n) => n.endsWith('.txnindex')).sort();
}

describe('TransactionIndex file', () => {
  test("entries are Kafka's 34-byte layout; a torn last entry is cut on read", () => {
    const dir = tmpLogDir();
    try {
      const file = path.join(dir, '00000000000000000000.txnindex');
      const idx = new TransactionIndex(file);
      assert.equal(fs.existsSync(file), false, 'no file before the first entry');
      idx.append({ producerId: 0x0102030405060708n, firstOffset: 3, lastOffset: 9, lastStableOffset: 10 });
      idx.append({ producerId: 2n, firstOffset: 11, lastOffset: 12, lastStableOffset: 13 });
      const bytes = fs.readFileSync(file);
      assert.equal(bytes.length, 2 * TXN_INDEX_ENTRY_BYTES);
      assert.equal(bytes.subarray(0, TXN_INDEX_ENTRY_BYTES).toString('hex'), '0000' + '0102030405060708' + '0000000000000003' + '0000000000000009' + '000000000000000a');
      fs.appendFileSync(file, Buffer.alloc(20, 1));
      const again = new TransactionIndex(file);
      assert.deepEqual(again.entries().map((e) => e.lastOffset), [9, 12]);
      assert.equal(fs.statSync(file).size, 2 * TXN_INDEX_ENTRY_BYTES, 'the torn bytes are gone');
      assert.throws(() => again.append({ producerId: 3n, firstOffset: 1, lastOffset: 12, lastStableOffset: 13 }), /does not follow/);
      again.truncateTo(10);
      assert.deepEqual(decodeEntries(fs.readFileSync(file)).entries.map((e) => e.lastOffset), [9]);
      again.truncateTo(0);
      assert.equal(fs.existsSync(file), false);
    } finally {
      cleanup(dir);
    }
  });

  test("a new segment's index replaces a stale file of its name with its first entry", () => {
    const dir = tmpLogDir();
    try {
      const file = path.join(dir, '00000000000000000007.txnindex');
      new TransactionIndex(file).append({ producerId: 1n, firstOffset: 0, lastOffset: 50, lastStableOffset: 51 });
      const fresh = new TransactionIndex(file);
      fresh.startEmpty();
      assert.deepEqual(fresh.entries(), [], 'the stale entry is not read');
      fresh.append({ producerId: 2n, firstOffset: 7, lastOffset: 8, lastStableOffset: 9 });
      assert.deepEqual(new TransactionIndex(file).entries().map((e) => e.producerId), [2n]);
    } finally {
      cleanup(dir);
    }
  });

  test('collect stops at the first entry whose last stable offset reaches the bound', () => {
    const dir = tmpLogDir();
    try {
      const idx = new TransactionIndex(path.join(dir, 'x.txnindex'));
      const e = (firstOffset: number, lastOffset: number, lastStableOffset: number): AbortedTxn => ({ producerId: 1n, firstOffset, lastOffset, lastStableOffset });
      for (const x of [e(0, 5, 6), e(2, 8, 9), e(9, 12, 20), e(21, 25, 26)]) idx.append(x);
      const out: AbortedTxn[] = [];
      assert.equal(idx.collect(6, 10, out), true);
      assert.deepEqual(out.map((x) => x.lastOffset), [8, 12], 'the one ending before 6 and the one starting at 21 are left out');
    } finally {
      cleanup(dir);
    }
  });
});

describe('PartitionLog aborted transactions', () => {
  function open(dir: string, config: LogConfig = defaultLogConfig(), o: { clean?: boolean } = {}): PartitionLog {
    return PartitionLog.open(dir, 't', 0, config, new ManualClock(5000), o.clean === undefined ? {} : { hadCleanShutdown: o.clean, recoveryPointOffset: 0 });
  }

  test('an ABORT marker writes an entry into the segment holding it; COMMIT and empty transactions write none', () => {
    const dir = tmpLogDir();
    try {
      const log = open(dir);
      put(log, txnBatch(1n, 0, 2)); // 0-1
      put(log, txnBatch(2n, 0)); // 2
      log.roll();
      assert.equal(end(log, 1n, false), 3);
      end(log, 2n, true); // 4
      end(log, 3n, false); // 5: producer 3 had nothing open here
      assert.deepEqual(log.abortedTransactions(0, log.logEndOffset), [{ producerId: 1n, firstOffset: 0, lastOffset: 3, lastStableOffset: 2 }]);
      assert.deepEqual(txnIndexFiles(log.dir), ['00000000000000000003.txnindex']);
      assert.deepEqual(log.abortedTransactions(4, log.logEndOffset), [], 'a fetch from after the marker needs none');
      assert.deepEqual(log.abortedTransactions(0, 0), [], 'nor one that ends before the transaction starts');
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  for (const [how, damage] of [
    ['the index file lost', (dir: string) => { for (const f of txnIndexFiles(dir)) fs.rmSync(path.join(dir, f)); }],
    ['the last entry torn', (dir: string) => { for (const f of txnIndexFiles(dir)) fs.truncateSync(path.join(dir, f), TXN_INDEX_ENTRY_BYTES + 5); }],
  ] as const) {
    test(`recovery after a crash rebuilds the index (${how})`, () => {
      const dir = tmpLogDir();
      try {
        const log = open(dir);
        put(log, txnBatch(1n, 0)); // 0
        end(log, 1n, false); // 1
        put(log, txnBatch(2n, 0)); // 2
        put(log, txnBatch(1n, 1)); // 3
        end(log, 1n, false); // 4
        put(log, txnBatch(3n, 0)); // 5, left open
        const expected = log.abortedTransactions(0, log.logEndOffset);
        assert.deepEqual(expected.map((e) => [e.firstOffset, e.lastOffset, e.lastStableOffset]), [[0, 1, 2], [3, 4, 2]]);
        log.flush();
        for (const f of fs.readdirSync(log.dir)) if (f.endsWith('.snapshot')) fs.rmSync(path.join(log.dir, f));
        damage(log.dir);
        const again = open(dir, defaultLogConfig(), { clean: false });
        try {
          assert.deepEqual(again.abortedTransactions(0, again.logEndOffset), expected);
          assert.equal(again.lastStableOffset, 2);
          assert.equal(decodeEntries(fs.readFileSync(path.join(again.dir, '00000000000000000000.txnindex'))).entries.length, 2);
        } finally {
          again.close();
        }
      } finally {
        cleanup(dir);
      }
    });
  }

  test('truncation drops the entries of markers it removes; retention and DeleteRecords delete the files with their segments', () => {
    const dir = tmpLogDir();
    try {
      const log = open(dir);
      put(log, txnBatch(1n, 0)); // 0
      end(log, 1n, false); // 1
      log.roll();
      put(log, txnBatch(1n, 1)); // 2
      end(log, 1n, false); // 3
      assert.deepEqual(txnIndexFiles(log.dir), ['00000000000000000000.txnindex', '00000000000000000002.txnindex']);
      log.truncateTo(3);
      assert.deepEqual(log.abortedTransactions(0, 10).map((e) => e.lastOffset), [1]);
      assert.equal(log.lastStableOffset, 2, 'the transaction whose marker is gone is open again');
      assert.deepEqual(txnIndexFiles(log.dir), ['00000000000000000000.txnindex']);
      end(log, 1n, false); // 3 again
      log.roll();
      log.deleteRecordsBefore(2);
      assert.deepEqual(txnIndexFiles(log.dir), ['00000000000000000002.txnindex']);
      assert.deepEqual(log.abortedTransactions(2, 10).map((e) => e.lastOffset), [3]);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test("the cleaner's swap keeps the old segments' entries under the new segment, across a restart", () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig({ cleanupPolicy: 'compact' });
      const clock = new ManualClock(1_000_000);
      const log = PartitionLog.open(dir, 't', 0, config, clock);
      const keyed = (producerId: bigint, seq: number, key: string) =>
        encodeRecordBatch({ records: [{ key: Buffer.from(key), value: Buffer.from('v'), timestamp: 1 }], producerId, producerEpoch: 0, baseSequence: seq, transactional: true });
      put(log, keyed(1n, 0, 'a')); // 0
      end(log, 1n, false); // 1
      log.roll();
      put(log, keyed(2n, 0, 'a')); // 2
      end(log, 2n, false); // 3
      log.roll();
      put(log, makeBatch()); // 4, active
      const before = log.abortedTransactions(0, 10);
      const cleaner = new LogCleaner({ dedupeBufferBytes: 1 << 20, clock, codec: { decompress: (_t, d) => d, compress: (_t, d) => d } });
      cleaner.clean(log, null);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 4], 'the two old segments are one now');
      assert.deepEqual(txnIndexFiles(log.dir), ['00000000000000000000.txnindex']);
      assert.deepEqual(log.abortedTransactions(0, 10), before);
      log.close();
      const again = PartitionLog.open(dir, 't', 0, config, clock);
      assert.deepEqual(again.abortedTransactions(0, 10), before);
      again.close();
    } finally {
      cleanup(dir);
    }
  });

  test('the cleaner never lets an aborted or still open record supersede a committed one of its key', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig({ cleanupPolicy: 'compact' });
      const clock = new ManualClock(1_000_000);
      const log = PartitionLog.open(dir, 't', 0, config, clock);
      const rec = (value: string) => ({ key: Buffer.from('k'), value: Buffer.from(value), timestamp: 1 });
      const txnKeyed = (producerId: bigint, value: string) => encodeRecordBatch({ records: [rec(value)], producerId, producerEpoch: 0, baseSequence: 0, transactional: true });
      put(log, encodeRecordBatch({ records: [rec('committed')] })); // 0
      log.roll();
      put(log, txnKeyed(1n, 'aborted')); // 1
      end(log, 1n, false); // 2
      log.roll();
      put(log, txnKeyed(2n, 'open')); // 3, never ended
      log.roll();
      put(log, makeBatch()); // 4, active
      const cleaner = new LogCleaner({ dedupeBufferBytes: 1 << 20, clock, codec: { decompress: (_t, d) => d, compress: (_t, d) => d } });
      const stats = cleaner.clean(log, null);
      assert.equal(stats.endOffset, 3, 'the dirty section ends at the open transaction (the LSO)');
      const values: string[] = [];
      for (let offset = 0; offset < log.logEndOffset; ) {
        const r = log.read(offset, 1 << 20, log.logEndOffset, true);
        for (const b of decodeRecordBatches(r.records)) {
          if ((b.header.attributes & 0x20) === 0) for (const x of b.records) values.push(x.value!.toString());
          offset = Number(b.header.baseOffset) + b.header.lastOffsetDelta + 1;
        }
      }
      // The aborted record itself goes (its batch stays, emptied, as its producer's last).
      assert.deepEqual(values, ['committed', 'open', 'aaaaaaaaaa']);
      log.close();
    } finally {
      cleanup(dir);
    }
  });
});
