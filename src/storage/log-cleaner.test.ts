import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { ATTR_COMPRESSION_MASK, ATTR_DELETE_HORIZON, CompressionType } from '../protocol/records/batch-header.js';
import { compress, decompress } from '../protocol/records/compression.js';
import { decodeRecordBatches, encodeRecordBatch, type BatchRecord } from '../protocol/records/record-batch.js';
import type { CleanerCodec } from './cleaner-batch.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig, type LogConfig } from './config.js';
import { LogCleaner } from './log-cleaner.js';
import { OffsetMap } from './offset-map.js';
import { PartitionLog } from './partition-log.js';
import { SWAP_MANIFEST_FILE, type SwapStep } from './segment-swap.js';
import { appendCommitted, cleanup, tmpLogDir } from './test-helpers.js';

const codec: CleanerCodec = {
  decompress: (type, data) => decompress(type, data, 64 * 1024 * 1024),
  compress: (type, data) => compress(type, data),
};
const opts = { leaderEpoch: 0, assignOffsets: true } as const;
const compactConfig = (o: Partial<LogConfig> = {}) => defaultLogConfig({ cleanupPolicy: 'compact', segmentBytes: 1024, ...o });

interface Rec {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

function readAll(log: PartitionLog): { records: Rec[]; batches: ReturnType<typeof decodeRecordBatches> } {
  const out: Rec[] = [];
  const batches: ReturnType<typeof decodeRecordBatches> = [];
  let offset = log.logStartOffset;
  while (offset < log.logEndOffset) {
    const r = log.read(offset, 1 << 20, log.logEndOffset, true);
    if (r.records.length === 0) break;
    const decoded = decodeRecordBatches(r.records);
    for (const b of decoded) {
      batches.push(b);
      for (const rec of b.records) {
        if (Number(rec.offset) < offset) continue;
        out.push({ offset: Number(rec.offset), key: rec.key?.toString() ?? null, value: rec.value?.toString() ?? null, timestamp: Number(rec.timestamp) });
      }
      offset = Number(b.header.baseOffset) + b.header.lastOffsetDelta + 1;
    }
  }
  return { records: out, batches };
}

/** The latest record per key among `records` (what a compacted log must hold). */
function latestPerKey(records: readonly Rec[]): Map<string, Rec> {
  const m = new Map<string, Rec>();
  for (const r of records) if (r.key !== null) m.set(r.key, r);
  return m;
}

function produce(log: PartitionLog, clock: ManualClock, count: number, keys: number, batchSize = 1, compression = CompressionType.None, tag = 'v'): void {
  for (let i = 0; i < count; i += batchSize) {
    const records: BatchRecord[] = [];
    for (let j = i; j < Math.min(count, i + batchSize); j++) {
      records.push({ key: Buffer.from(`k${j % keys}`), value: Buffer.from(`${tag}${j}`), timestamp: clock.nowMs() });
    }
    appendCommitted(log, encodeRecordBatch({ records, compression }), opts);
    clock.advance(1);
  }
}

function harness(config: LogConfig, cleanerOptions: { dedupeBufferBytes?: number; ioBufferBytes?: number; hooks?: { afterSwapStep?(s: SwapStep, b: number): void } } = {}) {
  const dir = tmpLogDir();
  const clock = new ManualClock(1_000_000);
  let log = PartitionLog.open(dir, 'changelog', 0, config, clock);
  const cleaner = new LogCleaner({ dedupeBufferBytes: cleanerOptions.dedupeBufferBytes ?? 1 << 20, ioBufferBytes: cleanerOptions.ioBufferBytes, codec, clock, hooks: cleanerOptions.hooks });
  return {
    dir,
    clock,
    cleaner,
    get log() {
      return log;
    },
    reopen(hadCleanShutdown: boolean) {
      if (!log.isClosed && hadCleanShutdown) log.close();
      log = PartitionLog.open(dir, 'changelog', 0, config, clock, { hadCleanShutdown, recoveryPointOffset: hadCleanShutdown ? log.logEndOffset : 0 });
      return log;
    },
    done() {
      if (!log.isClosed) log.close();
      cleanup(dir);
    },
  };
}

/** A restart after a crash with the producer snapshots gone: producer state comes from the log. */
function reopenWithoutSnapshots(h: ReturnType<typeof harness>): PartitionLog {
  for (const f of fs.readdirSync(h.log.dir)) if (f.endsWith('.snapshot')) fs.rmSync(`${h.log.dir}/${f}`);
  return h.reopen(false);
}

describe('OffsetMap', () => {
  test('keeps the latest offset per key and refuses new keys once full, within its buffer', () => {
    const map = new OffsetMap(24 * 100, 0.5);
    assert.equal(map.capacity, 50);
    map.clear();
    for (let i = 0; i < 50; i++) assert.equal(map.put(Buffer.from(`key-${i}`), i), true);
    assert.equal(map.put(Buffer.from('key-3'), 100), true, 'an existing key still updates when full');
    assert.equal(map.put(Buffer.from('another'), 101), false);
    assert.equal(map.get(Buffer.from('key-3')), 100);
    assert.equal(map.get(Buffer.from('key-4')), 4);
    assert.equal(map.get(Buffer.from('another')), -1);
    assert.equal(map.latestOffset, 100);
    map.clear();
    assert.equal(map.get(Buffer.from('key-3')), -1);
    assert.equal(map.size, 0);
  });
});

describe('LogCleaner', () => {
  test('keeps exactly the latest record per key at its original offset and groups small segments', () => {
    const h = harness(compactConfig());
    try {
      produce(h.log, h.clock, 300, 5);
      h.log.roll();
      const before = readAll(h.log).records;
      const segmentsBefore = h.log.segmentCount;
      assert.ok(segmentsBefore > 10, `small segments: ${segmentsBefore}`);
      const stats = h.cleaner.clean(h.log, null);
      assert.equal(stats.endOffset, 300);
      const after = readAll(h.log).records;
      assert.deepEqual(after, [...latestPerKey(before).values()].sort((a, b) => a.offset - b.offset));
      assert.ok(h.log.segmentCount < 4, `grouped: ${h.log.segmentCount} segments`);
      assert.equal(h.log.logStartOffset, 0);
      assert.equal(h.log.logEndOffset, 300);
      // A second round over a clean log changes nothing.
      h.cleaner.clean(h.log, stats.endOffset);
      assert.deepEqual(readAll(h.log).records, after);
      // Restart after a clean shutdown trusts the files (an empty first segment is allowed).
      h.reopen(true);
      assert.equal(h.log.loadStats.startupCheckFailure, null);
      assert.deepEqual(readAll(h.log).records, after);
    } finally {
      h.done();
    }
  });

  test('the active segment and records above the high watermark are never cleaned', () => {
    const h = harness(compactConfig({ segmentBytes: 1 << 20 }));
    try {
      produce(h.log, h.clock, 50, 2);
      const stats = h.cleaner.clean(h.log, null);
      assert.equal(stats.endOffset, 0, 'one active segment: nothing cleanable');
      assert.equal(readAll(h.log).records.length, 50);
      h.log.roll();
      h.log.highWatermark = 20;
      const partial = h.cleaner.clean(h.log, null);
      assert.equal(partial.endOffset, 20);
    } finally {
      h.done();
    }
  });

  test('batches larger than the I/O buffer are read whole and written whole, slice by slice', () => {
    // 100-byte I/O buffer: every batch of 10 records is larger, so each is read by a read of its
    // own and goes to the cleaned segment without the write buffer; kept ones stay byte-identical.
    const h = harness(compactConfig({ segmentBytes: 4096 }), { ioBufferBytes: 100 });
    try {
      produce(h.log, h.clock, 200, 30, 10);
      produce(h.log, h.clock, 20, 10, 10, CompressionType.None, 'w');
      h.log.roll();
      const before = readAll(h.log);
      const slices = h.cleaner.cleanInSlices(h.log, null);
      let steps = 0;
      let r = slices.next();
      for (; r.done !== true; r = slices.next()) steps++;
      assert.ok(steps > 20, `one slice per batch or so: ${steps}`);
      assert.equal(r.value.completed, true);
      const after = readAll(h.log);
      assert.deepEqual(after.records, [...latestPerKey(before.records).values()].sort((a, b) => a.offset - b.offset));
      const last = before.batches[before.batches.length - 1]!;
      const lastAfter = after.batches[after.batches.length - 1]!;
      assert.deepEqual(lastAfter.header, last.header, 'the newest batch, all latest values, is kept as it was');
    } finally {
      h.done();
    }
  });

  test('compressed batches lose their superseded records and keep their codec', () => {
    for (const compression of [CompressionType.Gzip, CompressionType.Lz4, CompressionType.Snappy, CompressionType.Zstd]) {
      const h = harness(compactConfig({ segmentBytes: 4096 }));
      try {
        produce(h.log, h.clock, 400, 7, 10, compression);
        h.log.roll();
        const before = readAll(h.log).records;
        h.cleaner.clean(h.log, null);
        const { records, batches } = readAll(h.log);
        assert.deepEqual(records, [...latestPerKey(before).values()].sort((a, b) => a.offset - b.offset), `codec ${compression}`);
        for (const b of batches) {
          if (b.header.recordsCount > 0) assert.equal(b.header.attributes & ATTR_COMPRESSION_MASK, compression);
          assert.equal(b.header.lastOffsetDelta, 9, 'a re-encoded batch keeps its offset range');
        }
      } finally {
        h.done();
      }
    }
  });

  test('a tombstone is kept with a delete horizon, then removed once delete.retention.ms has passed', () => {
    const h = harness(compactConfig({ deleteRetentionMs: 10_000 }));
    try {
      produce(h.log, h.clock, 100, 4);
      appendCommitted(h.log, encodeRecordBatch({ records: [{ key: Buffer.from('k1'), value: null, timestamp: h.clock.nowMs() }] }), opts);
      produce(h.log, h.clock, 20, 1, 1, CompressionType.None, 'x'); // pushes the tombstone out of the active segment
      h.log.roll();
      const first = h.cleaner.clean(h.log, null);
      let recs = readAll(h.log);
      const tomb = recs.records.find((r) => r.key === 'k1');
      assert.deepEqual(tomb && { offset: tomb.offset, value: tomb.value }, { offset: 100, value: null }, 'the tombstone stays for now');
      const tombBatch = recs.batches.find((b) => b.records.some((r) => Number(r.offset) === 100))!;
      assert.notEqual(tombBatch.header.attributes & ATTR_DELETE_HORIZON, 0);
      assert.equal(Number(tombBatch.header.baseTimestamp), h.clock.nowMs() + 10_000);
      assert.equal(tomb!.timestamp, 1_000_100, 'the record timestamp survives the new base timestamp');
      assert.equal(first.nextTombstoneHorizonMs, h.clock.nowMs() + 10_000);
      h.clock.advance(9_999);
      h.cleaner.clean(h.log, first.endOffset);
      assert.ok(readAll(h.log).records.some((r) => r.key === 'k1'), 'before the horizon');
      h.clock.advance(1);
      h.cleaner.clean(h.log, first.endOffset);
      recs = readAll(h.log);
      assert.equal(recs.records.some((r) => r.key === 'k1'), false, 'gone after the horizon');
      assert.deepEqual(recs.records.map((r) => r.key).sort(), ['k0', 'k2', 'k3']);
    } finally {
      h.done();
    }
  });

  test('min.compaction.lag.ms keeps young segments dirty', () => {
    const h = harness(compactConfig({ minCompactionLagMs: 1_000 }));
    try {
      produce(h.log, h.clock, 200, 3);
      h.log.roll();
      const young = h.cleaner.clean(h.log, null);
      assert.equal(young.endOffset, 0);
      assert.equal(readAll(h.log).records.length, 200);
      h.clock.advance(2_000);
      const old = h.cleaner.clean(h.log, null);
      assert.equal(old.endOffset, 200);
      assert.equal(readAll(h.log).records.length, 3);
    } finally {
      h.done();
    }
  });

  test('a small dedupe buffer cleans the dirty section over several rounds', () => {
    // 40 slots x 0.9 = 36 keys per round; 100 distinct keys.
    const h = harness(compactConfig(), { dedupeBufferBytes: 24 * 40 });
    try {
      produce(h.log, h.clock, 100, 100);
      produce(h.log, h.clock, 100, 100, 1, CompressionType.None, 'w');
      h.log.roll();
      const before = readAll(h.log).records;
      let checkpoint: number | null = null;
      let rounds = 0;
      while ((checkpoint ?? 0) < 200 && rounds < 20) {
        const s = h.cleaner.clean(h.log, checkpoint);
        assert.ok(s.endOffset > (checkpoint ?? 0), 'each round moves on');
        checkpoint = s.endOffset;
        rounds++;
      }
      assert.ok(rounds >= 3, `${rounds} rounds`);
      h.cleaner.clean(h.log, 0); // one more pass over what later rounds superseded
      const after = readAll(h.log).records;
      const latest = latestPerKey(before);
      for (const r of after) assert.deepEqual(latest.get(r.key!), r, 'only latest values remain... or older ones not yet cleaned');
    } finally {
      h.done();
    }
  });

  test("an idempotent producer's last batch stays, emptied, so its sequence state survives", () => {
    const h = harness(compactConfig());
    try {
      const batch = (seq: number, key: string) => encodeRecordBatch({ records: [{ key: Buffer.from(key), value: Buffer.from(`v${seq}`), timestamp: 1 }], producerId: 7n, producerEpoch: 0, baseSequence: seq });
      appendCommitted(h.log, batch(0, 'a'), opts);
      appendCommitted(h.log, batch(1, 'b'), opts);
      h.log.roll();
      appendCommitted(h.log, encodeRecordBatch({ records: [{ key: Buffer.from('a'), value: Buffer.from('z'), timestamp: 2 }, { key: Buffer.from('b'), value: Buffer.from('z'), timestamp: 2 }] }), opts);
      h.log.roll();
      h.cleaner.clean(h.log, null);
      const { batches, records } = readAll(h.log);
      assert.deepEqual(records.map((r) => [r.offset, r.key, r.value]), [[2, 'a', 'z'], [3, 'b', 'z']]);
      const empty = batches.find((b) => b.header.producerId === 7n);
      assert.ok(empty, 'the last batch of producer 7 is still there');
      assert.deepEqual([Number(empty.header.baseOffset), empty.header.recordsCount, empty.header.baseSequence], [1, 0, 1]);
      // After a restart without snapshots, the producer's state comes back from the empty batch.
      reopenWithoutSnapshots(h);
      assert.equal(h.log.producerState.entry(7n)?.batches.at(-1)?.lastSeq, 1);
    } finally {
      h.done();
    }
  });

  /** Transactional writes on `h.log`: data batches of one record per key, markers, sequences per producer. */
  function txnWriter(h: ReturnType<typeof harness>) {
    const seqs = new Map<bigint, number>();
    return {
      data(producerId: bigint, pairs: [string, string][]): void {
        const seq = seqs.get(producerId) ?? 0;
        seqs.set(producerId, seq + pairs.length);
        const records = pairs.map(([k, v]) => ({ key: Buffer.from(k), value: Buffer.from(v), timestamp: h.clock.nowMs() }));
        appendCommitted(h.log, encodeRecordBatch({ records, producerId, producerEpoch: 0, baseSequence: seq, transactional: true }), opts);
      },
      marker(producerId: bigint, committed: boolean): void {
        h.log.appendTxnMarker({ producerId, producerEpoch: 0, coordinatorEpoch: 0, committed }, 0);
        h.log.highWatermark = h.log.logEndOffset;
      },
      plain(key: string, value: string): void {
        appendCommitted(h.log, encodeRecordBatch({ records: [{ key: Buffer.from(key), value: Buffer.from(value), timestamp: h.clock.nowMs() }] }), opts);
      },
    };
  }

  /** The control batches of the log: [offset, has a delete horizon]. */
  const markers = (log: PartitionLog) =>
    readAll(log).batches.filter((b) => (b.header.attributes & 0x20) !== 0).map((b) => [Number(b.header.baseOffset), (b.header.attributes & ATTR_DELETE_HORIZON) !== 0]);
  /** The data records: [offset, key, value]. */
  const kv = (log: PartitionLog) =>
    readAll(log)
      .batches.filter((b) => (b.header.attributes & 0x20) === 0)
      .flatMap((b) => b.records.map((r) => [Number(r.offset), r.key?.toString() ?? null, r.value?.toString() ?? null]));

  test('aborted transactions lose their data whatever the keys; markers stay while their data does, then until delete.retention.ms has passed', () => {
    const h = harness(compactConfig({ segmentBytes: 64 * 1024, deleteRetentionMs: 10_000 }));
    try {
      const w = txnWriter(h);
      w.data(10n, [['a', 'c-a']]); // 0, committed, superseded at 10
      w.data(11n, [['a', 'x-a'], ['c', 'x-c']]); // 1-2, aborted: 'c' has no other value
      w.marker(10n, true); // 3
      w.marker(11n, false); // 4
      w.plain('d', 'plain-d'); // 5
      w.data(10n, [['e', 'c-e']]); // 6
      w.marker(10n, true); // 7
      w.data(11n, [['f', 'c-f']]); // 8
      w.marker(11n, true); // 9
      h.log.roll();
      w.plain('a', 'latest-a'); // 10
      h.log.roll();
      assert.equal(h.log.abortedTransactions(0, h.log.logEndOffset).length, 1);

      const first = h.cleaner.clean(h.log, null);
      const kept = [[5, 'd', 'plain-d'], [6, 'e', 'c-e'], [8, 'f', 'c-f'], [10, 'a', 'latest-a']];
      assert.deepEqual(kv(h.log), kept, 'no aborted record is left, committed ones keep their offsets');
      // Both transactions' data was there when this round began: their markers stay, untouched.
      assert.deepEqual(markers(h.log), [[3, false], [4, false], [7, false], [9, false]]);
      assert.deepEqual(h.log.abortedTransactions(0, h.log.logEndOffset).map((t) => [t.producerId, t.firstOffset, t.lastOffset]), [[11n, 1, 4]]);

      h.clock.advance(1);
      const second = h.cleaner.clean(h.log, first.endOffset);
      assert.deepEqual(kv(h.log), kept);
      // Now the first two transactions have no data left: their markers' delete horizon starts;
      // the aborted one needs no index entry any more.
      assert.deepEqual(markers(h.log), [[3, true], [4, true], [7, false], [9, false]]);
      assert.deepEqual(h.log.abortedTransactions(0, h.log.logEndOffset), []);
      assert.equal(second.nextTombstoneHorizonMs, h.clock.nowMs() + 10_000, 'the cleaner comes back at the markers\' horizon');

      h.clock.advance(9_998);
      h.cleaner.clean(h.log, second.endOffset);
      assert.deepEqual(markers(h.log), [[3, true], [4, true], [7, false], [9, false]], 'kept until the horizon');
      h.clock.advance(2);
      h.cleaner.clean(h.log, second.endOffset);
      assert.deepEqual(markers(h.log), [[7, false], [9, false]], 'gone after it');
      assert.deepEqual(kv(h.log), kept);
      assert.equal(h.log.logEndOffset, 11);
      // The cleaned log reopens to the same producers and records, without snapshots too.
      reopenWithoutSnapshots(h);
      assert.deepEqual(kv(h.log), kept);
      assert.equal(h.log.lastStableOffset, 11);
    } finally {
      h.done();
    }
  });

  test("a transaction still open is never cleaned; once aborted its data goes, but its producer's last batch stays, emptied", () => {
    const h = harness(compactConfig({ segmentBytes: 64 * 1024, deleteRetentionMs: 0 }));
    try {
      const w = txnWriter(h);
      w.plain('g', 'plain-g-0'); // 0
      w.data(12n, [['g', 'open-g']]); // 1: open
      w.plain('g', 'plain-g-2'); // 2
      w.plain('h', 'plain-h'); // 3
      h.log.roll();
      w.plain('g', 'plain-g-4'); // 4
      h.log.roll();
      assert.equal(h.log.lastStableOffset, 1);
      const open = h.cleaner.clean(h.log, null);
      assert.ok(open.endOffset <= 1, `the dirty section ends at the open transaction (${open.endOffset})`);
      assert.deepEqual(kv(h.log).map(([o]) => o), [0, 1, 2, 3, 4], 'nothing past the last stable offset is cleaned');

      w.marker(12n, false); // 5, in the active segment
      h.log.roll();
      const aborted = h.cleaner.clean(h.log, null);
      assert.equal(aborted.endOffset, 6);
      assert.deepEqual(kv(h.log), [[3, 'h', 'plain-h'], [4, 'g', 'plain-g-4']]);
      // Producer 12 has written nothing since: its last batch stays, emptied, for its sequence.
      const left = readAll(h.log).batches.filter((b) => b.header.producerId === 12n).map((b) => [Number(b.header.baseOffset), b.header.recordsCount]);
      assert.deepEqual(left, [[1, 0], [5, 1]]);
      assert.equal(h.log.abortedTransactions(0, h.log.logEndOffset).length, 1, 'the marker stays while the emptied batch is there');
      assert.equal(h.log.producerState.entry(12n)?.batches.at(-1)?.lastOffset, 1);
    } finally {
      h.done();
    }
  });

  test("a marker that is its producer's last write (a new epoch, no data batch left) stays, emptied, past its horizon", () => {
    const h = harness(compactConfig({ segmentBytes: 64 * 1024, deleteRetentionMs: 0 }));
    try {
      const w = txnWriter(h);
      w.data(13n, [['q', 'x-q']]); // 0
      h.log.appendTxnMarker({ producerId: 13n, producerEpoch: 1, coordinatorEpoch: 0, committed: false }, 0); // 1: the abort bumped the epoch
      h.log.highWatermark = h.log.logEndOffset;
      w.plain('r', 'plain-r'); // 2
      h.log.roll();
      assert.equal(h.log.producerState.entry(13n)?.batches.length, 0);
      for (let round = 0; round < 3; round++) h.cleaner.clean(h.log, null);
      const left = readAll(h.log).batches.filter((b) => b.header.producerId === 13n).map((b) => [Number(b.header.baseOffset), b.header.producerEpoch, b.header.recordsCount]);
      assert.deepEqual(left, [[1, 1, 0]], 'the emptied marker keeps the epoch');
      assert.deepEqual(kv(h.log), [[2, 'r', 'plain-r']]);
      reopenWithoutSnapshots(h);
      assert.equal(h.log.producerState.entry(13n)?.epoch, 1, 'a rebuilt producer state still fences epoch 0');
    } finally {
      h.done();
    }
  });

  test('an aborted transaction spanning two groups: its data goes from the first, its marker and index entry stay in the second', () => {
    const h = harness(compactConfig({ segmentBytes: 1024, deleteRetentionMs: 0 }));
    try {
      const w = txnWriter(h);
      w.data(20n, [['t0', 'x'.repeat(300)]]); // 0
      for (let i = 0; i < 2; i++) w.plain(`p${i}`, 'y'.repeat(200)); // 1-2
      h.log.roll();
      w.data(20n, [['t1', 'x'.repeat(300)]]); // 3
      w.plain('p2', 'y'.repeat(200)); // 4
      w.marker(20n, false); // 5
      w.plain('p3', 'y'.repeat(200)); // 6
      h.log.roll();
      w.plain('z', 'z'); // 7: not the producer's, so its batches may go
      h.log.roll();
      assert.equal(LogCleaner.planGroups(h.log, 7).length, 2, 'the two segments are cleaned as separate groups');
      h.cleaner.clean(h.log, null);
      assert.deepEqual(kv(h.log).map(([o, k]) => [o, k]), [[1, 'p0'], [2, 'p1'], [4, 'p2'], [6, 'p3'], [7, 'z']]);
      const txns = h.log.abortedTransactions(0, h.log.logEndOffset);
      assert.deepEqual(txns.map((t) => [t.firstOffset, t.lastOffset]), [[0, 5]]);
      assert.deepEqual(markers(h.log), [[5, false]]);
    } finally {
      h.done();
    }
  });

  const steps: SwapStep[] = ['cleaned', 'manifest', 'swap', 'old-deleted-partly', 'old-deleted', 'log-renamed', 'done'];
  for (const step of steps) {
    test(`a crash after swap step '${step}' recovers to a log with every key's latest value exactly once`, () => {
      let armed = true;
      const h = harness(compactConfig({ segmentBytes: 4096 }), {
        hooks: {
          afterSwapStep: (s) => {
            if (armed && s === step) {
              armed = false;
              throw new Error(`simulated crash after ${s}`);
            }
          },
        },
      });
      try {
        // Segments of about half segment.bytes, so groups hold two.
        for (let i = 0; i < 12; i++) {
          produce(h.log, h.clock, 25, 6);
          h.log.roll();
        }
        const original = readAll(h.log).records;
        const byOffset = new Map(original.map((r) => [r.offset, r]));
        assert.throws(() => h.cleaner.clean(h.log, null), /simulated crash/);
        const log = h.reopen(false);
        const names = fs.readdirSync(log.dir);
        assert.equal(names.some((n) => n.endsWith('.cleaned') || n.endsWith('.swap') || n === SWAP_MANIFEST_FILE), false, `leftovers: ${names.join(' ')}`);
        const recovered = readAll(log).records;
        // Strictly increasing offsets, each record as it was written, every latest value there.
        for (let i = 1; i < recovered.length; i++) assert.ok(recovered[i]!.offset > recovered[i - 1]!.offset, 'no offset twice');
        for (const r of recovered) assert.deepEqual(r, byOffset.get(r.offset));
        const latest = latestPerKey(original);
        for (const r of latest.values()) assert.deepEqual(recovered.find((x) => x.offset === r.offset), r, `key ${r.key}`);
        assert.equal(log.logEndOffset, 300);
        // And cleaning again finishes the job (recovery dropped the empty active segment: roll).
        log.roll();
        h.cleaner.clean(log, null);
        assert.deepEqual(readAll(log).records, [...latest.values()].sort((a, b) => a.offset - b.offset));
      } finally {
        h.done();
      }
    });
  }
});
