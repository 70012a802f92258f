// The log cleaner's rounds on its worker thread (cleaner-thread.ts, cleaner-worker.ts): they leave
// the same bytes as a round on the event loop, a dead worker is replaced without harm to the log,
// and a shutdown in the middle of a round ends the worker at once and loses nothing.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CompressionType } from '../protocol/records/batch-header.js';
import { decodeRecordBatches, encodeRecordBatch, type BatchRecord } from '../protocol/records/record-batch.js';
import { CleanerManager } from './cleaner-manager.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig, type LogConfig } from './config.js';
import { LogCleaner } from './log-cleaner.js';
import { CleanerWork, emptyWorkStats } from './cleaner-work.js';
import { LogManager } from './log-manager.js';
import { PartitionLog } from './partition-log.js';
import { SWAP_MANIFEST_FILE, type SwapStep } from './segment-swap.js';
import { cleanerTestSettings, cleanup, tmpLogDir } from './test-helpers.js';

const opts = { leaderEpoch: 0, assignOffsets: true } as const;
const codec = cleanerTestSettings().codec;
const settings = cleanerTestSettings;
const config = (o: Partial<LogConfig> = {}) => defaultLogConfig({ cleanupPolicy: 'compact', segmentBytes: 2048, deleteRetentionMs: 10_000, ...o });

function put(log: PartitionLog, batch: Buffer): void {
  log.append(batch, opts);
  log.highWatermark = log.logEndOffset;
}

function updates(log: PartitionLog, clock: ManualClock, count: number, keys: number, tag: string, compression = CompressionType.None, batchSize = 1, keyPrefix = 'k'): void {
  for (let i = 0; i < count; i += batchSize) {
    const records: BatchRecord[] = [];
    for (let j = i; j < Math.min(count, i + batchSize); j++) records.push({ key: Buffer.from(`${keyPrefix}${j % keys}`), value: Buffer.from(`${tag}${j}-${'x'.repeat(20)}`), timestamp: clock.nowMs() });
    put(log, encodeRecordBatch({ records, compression }));
    clock.advance(1);
  }
}

/**
 * The same log each time: updates (plain and lz4), a tombstone, an aborted transaction on a key
 * whose committed value must survive, an idempotent producer's batches, then a transaction left
 * open (the last stable offset stops the dirty section there) and an active segment.
 */
function buildLog(dir: string, clock: ManualClock, cfg: LogConfig): PartitionLog {
  const log = PartitionLog.open(dir, 'changelog', 0, cfg, clock);
  const txn = (producerId: bigint, key: string, value: string) =>
    encodeRecordBatch({ records: [{ key: Buffer.from(key), value: Buffer.from(value), timestamp: clock.nowMs() }], producerId, producerEpoch: 0, baseSequence: 0, transactional: true });
  updates(log, clock, 120, 6, 'a');
  updates(log, clock, 200, 6, 'b', CompressionType.Lz4, 10);
  put(log, encodeRecordBatch({ records: [{ key: Buffer.from('k1'), value: null, timestamp: clock.nowMs() }] }));
  put(log, encodeRecordBatch({ records: [{ key: Buffer.from('k2'), value: Buffer.from('committed'), timestamp: clock.nowMs() }] }));
  put(log, txn(1n, 'k2', 'aborted'));
  log.appendTxnMarker({ producerId: 1n, producerEpoch: 0, coordinatorEpoch: 0, committed: false }, opts.leaderEpoch);
  log.highWatermark = log.logEndOffset;
  for (let seq = 0; seq < 3; seq++) put(log, encodeRecordBatch({ records: [{ key: Buffer.from('k3'), value: Buffer.from(`idem${seq}`), timestamp: clock.nowMs() }], producerId: 7n, producerEpoch: 0, baseSequence: seq }));
  updates(log, clock, 60, 6, 'c', CompressionType.None, 1, 'm'); // other keys: k1's tombstone stays the latest
  log.roll();
  put(log, txn(2n, 'k4', 'open')); // never ended
  updates(log, clock, 30, 6, 'd', CompressionType.None, 1, 'm');
  log.roll();
  updates(log, clock, 5, 6, 'e', CompressionType.None, 1, 'm'); // active
  return log;
}

/** Every batch of the log, as stored. */
function logBytes(log: PartitionLog): Buffer {
  const parts: Buffer[] = [];
  for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
    const r = log.read(offset, 1 << 20, log.logEndOffset, true);
    if (r.records.length === 0) break;
    parts.push(Buffer.from(r.records));
    const batches = decodeRecordBatches(r.records);
    const last = batches[batches.length - 1]!;
    offset = Number(last.header.baseOffset) + last.header.lastOffsetDelta + 1;
  }
  return Buffer.concat(parts);
}

/** key -> values in offset order (data records only). */
function valuesByKey(log: PartitionLog): Map<string, (string | null)[]> {
  const out = new Map<string, (string | null)[]>();
  for (const b of decodeRecordBatches(logBytes(log))) {
    if ((b.header.attributes & 0x20) !== 0) continue;
    for (const r of b.records) {
      const k = r.key!.toString();
      if (!out.has(k)) out.set(k, []);
      out.get(k)!.push(r.value === null ? null : r.value.toString());
    }
  }
  return out;
}

async function until(what: string, cond: () => boolean, boundMs = 20_000): Promise<void> {
  for (let waited = 0; !cond(); waited += 5) {
    if (waited > boundMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** 2000 updates of 10 keys (about 80 KB), all in closed segments. */
function updatedLog(dir: string, clock: ManualClock): PartitionLog {
  const log = PartitionLog.open(dir, 'changelog', 0, config(), clock);
  updates(log, clock, 2000, 10, 'v', CompressionType.None, 10);
  log.roll();
  return log;
}

const cleanedFiles = (dir: string) => fs.readdirSync(dir).filter((n) => n.endsWith('.cleaned'));

describe('log cleaner worker thread', () => {
  test("a round on the worker leaves the log byte for byte as a round on the event loop: latest per key, tombstone with its horizon, aborted and open transactions, the LSO bound", async () => {
    const inlineDir = tmpLogDir();
    const workerDir = tmpLogDir();
    try {
      const clockA = new ManualClock(1_000_000);
      const clockB = new ManualClock(1_000_000);
      const inline = buildLog(inlineDir, clockA, config());
      const viaWorker = buildLog(workerDir, clockB, config());
      assert.deepEqual(logBytes(viaWorker), logBytes(inline), 'the two logs start equal');
      const expected = new LogCleaner({ dedupeBufferBytes: 1 << 20, ioBufferBytes: 4096, codec, clock: clockA }).clean(inline, null);
      const manager = new CleanerManager(settings(), clockB, () => [{ log: viaWorker, logDir: workerDir }]);
      manager.start();
      try {
        await until('a round on the worker', () => manager.totals.rounds > 0);
      } finally {
        await manager.stop();
      }
      assert.equal(manager.workerThreads[0]!.running, false, 'stop() ended the worker');
      const got = manager.view()[0]!.lastRound!;
      assert.deepEqual(got, expected, 'the same round figures');
      assert.deepEqual(logBytes(viaWorker), logBytes(inline), 'the same bytes');
      assert.deepEqual(
        fs.readdirSync(viaWorker.dir).filter((n) => /\.(log|index|timeindex|txnindex)$/.test(n)).sort(),
        fs.readdirSync(inline.dir).filter((n) => /\.(log|index|timeindex|txnindex)$/.test(n)).sort(),
        'the same segment files',
      );
      // And what they hold is what compaction must leave.
      assert.ok(expected.segmentsAfter < expected.segmentsBefore, `grouped: ${expected.segmentsBefore} -> ${expected.segmentsAfter}`);
      const values = valuesByKey(viaWorker);
      assert.deepEqual(values.get('k1'), [null], 'the tombstone stays until its horizon');
      assert.deepEqual(values.get('k2'), ['committed'], 'the aborted record goes and does not supersede the committed one');
      assert.equal(viaWorker.abortedTransactions(0, viaWorker.logEndOffset).length, 1, 'the aborted transaction is still indexed: its marker stays this round');
      assert.deepEqual(values.get('k3'), ['idem2']);
      assert.ok(got.endOffset < viaWorker.logEndOffset && values.get('k4')!.includes('open'), 'the open transaction bounds the section');
      assert.equal(values.get('k0')!.length, 1);
      assert.ok(values.get('m0')!.length > 1, 'records past the last stable offset stay');
      assert.equal(got.nextTombstoneHorizonMs, clockB.nowMs() + 10_000);
      // The worker-cleaned log reopens after a crash as it was.
      viaWorker.close();
      const reopened = PartitionLog.open(workerDir, 'changelog', 0, config(), clockB, { hadCleanShutdown: false, recoveryPointOffset: 0 });
      assert.deepEqual(logBytes(reopened), logBytes(inline));
      reopened.close();
      inline.close();
    } finally {
      cleanup(inlineDir);
      cleanup(workerDir);
    }
  });

  test('a worker that dies mid-round is logged and replaced; the log is left as it was, then cleaned by the next worker', async () => {
    const dir = tmpLogDir();
    try {
      const clock = new ManualClock(1_000_000);
      const log = updatedLog(dir, clock);
      const before = logBytes(log);
      // Throttled: the first round lasts long enough to be killed in the middle of a group.
      const manager = new CleanerManager(settings({ ioMaxBytesPerSecond: 100_000 }), clock, () => [{ log, logDir: dir }]);
      manager.start();
      try {
        await until('the worker to write a cleaned segment', () => cleanedFiles(log.dir).length > 0);
        assert.equal(manager.totals.rounds, 0);
        await manager.workerThreads[0]!.crashForTest();
        await until('the crashed round to end', () => !manager.busy || manager.workerThreads[0]!.running);
        assert.equal(manager.uncleanablePartitions, 0, 'one crash: the partition is tried again');
        // Whatever was swapped before the crash is a valid cleaning; every latest value is there.
        const values = valuesByKey(log);
        for (let k = 0; k < 10; k++) assert.equal(values.get(`k${k}`)!.at(-1), `v${1990 + k}-${'x'.repeat(20)}`);
        assert.ok(logBytes(log).length <= before.length);
        await until('the next worker to finish a round', () => manager.totals.rounds > 0, 60_000);
      } finally {
        await manager.stop();
      }
      const values = valuesByKey(log);
      for (let k = 0; k < 10; k++) assert.deepEqual(values.get(`k${k}`), [`v${1990 + k}-${'x'.repeat(20)}`], `k${k} cleaned`);
      assert.deepEqual(cleanedFiles(log.dir), []);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a partition whose rounds kill the worker twice in a row is marked uncleanable and its log left untouched', async () => {
    const dir = tmpLogDir();
    try {
      const clock = new ManualClock(1_000_000);
      const log = updatedLog(dir, clock);
      const manager = new CleanerManager(settings({ ioMaxBytesPerSecond: 100_000 }), clock, () => (log.isClosed ? [] : [{ log, logDir: dir }]));
      manager.start();
      try {
        const thread = manager.workerThreads[0]!;
        for (let crash = 1; crash <= 2; crash++) {
          await until(`round ${crash} to be under way on a worker`, () => manager.busy && thread.running);
          assert.equal(manager.uncleanablePartitions, 0);
          await thread.crashForTest();
        }
        await until('the partition to be given up on', () => manager.uncleanablePartitions === 1);
        assert.equal(manager.view()[0]!.uncleanable, true);
        assert.equal(manager.busy, false, 'no round on it any more');
        assert.equal(manager.totals.rounds, 0);
      } finally {
        await manager.stop();
      }
      const values = valuesByKey(log);
      for (let k = 0; k < 10; k++) assert.equal(values.get(`k${k}`)!.at(-1), `v${1990 + k}-${'x'.repeat(20)}`);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a shutdown in the middle of a round ends the worker at once; after the restart nothing is lost', async () => {
    const dir = tmpLogDir();
    try {
      const clock = new ManualClock(1_000_000);
      const cfg = config();
      const open = () => LogManager.open({ logDirs: [dir], defaultConfig: cfg, configFor: () => cfg, clock, cleaner: settings({ ioMaxBytesPerSecond: 50_000 }) });
      let logs = open();
      const log = logs.getOrCreate('changelog', 0) as PartitionLog;
      updates(log, clock, 2000, 10, 'v', CompressionType.None, 10);
      log.roll();
      const before = logBytes(log);
      logs.startTimers();
      // At 50 KB/s the round over ~80 KB (read twice: map, then groups) takes about 3 s.
      await until('the worker to write a cleaned segment', () => cleanedFiles(log.dir).length > 0);
      const thread = logs.cleaner!.workerThreads[0]!;
      assert.equal(thread.running, true);
      const started = performance.now();
      await logs.shutdown();
      const shutdownMs = performance.now() - started;
      assert.equal(thread.running, false, 'the worker ended with the shutdown');
      assert.equal(logs.cleaner!.totals.rounds, 0, 'the round did not finish');
      assert.ok(shutdownMs < 1000, `shutdown took ${shutdownMs.toFixed(0)} ms, not the rest of the round`);
      logs = open();
      const reopened = logs.getOrCreate('changelog', 0) as PartitionLog;
      assert.deepEqual(cleanedFiles(reopened.dir), [], 'no .cleaned file left');
      assert.ok(fs.existsSync(path.join(dir, 'changelog-0')));
      const now = logBytes(reopened);
      assert.ok(now.length <= before.length);
      const values = valuesByKey(reopened);
      for (let k = 0; k < 10; k++) assert.equal(values.get(`k${k}`)!.at(-1), `v${1990 + k}-${'x'.repeat(20)}`, `latest k${k} kept`);
      logs.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a deferred swap serves the cleaned segment at once; its later steps run off the event loop, or first when the segment list changes', async () => {
    const dir = tmpLogDir();
    try {
      const clock = new ManualClock(1_000_000);
      const log = updatedLog(dir, clock);
      const expected = valuesByKey(log);
      const run = <T>(g: Generator<number, T>): T => {
        for (;;) {
          const r = g.next();
          if (r.done === true) return r.value;
        }
      };
      const work = new CleanerWork({ dedupeBufferBytes: 1 << 20, codec });
      const swapOne = (): boolean => {
        const plan = LogCleaner.planMap(log, null, clock.nowMs());
        const end = run(work.buildOffsetMap(plan.segments, plan.task, emptyWorkStats()));
        const group = LogCleaner.planGroups(log, end)[0]!;
        const cleaned = run(work.cleanGroup(log.dir, group, LogCleaner.groupTask(log, group, end, clock.nowMs()), emptyWorkStats()));
        return LogCleaner.swapGroup(log, group, cleaned, undefined, true);
      };
      const files = () => fs.readdirSync(log.dir).filter((n) => n.endsWith('.swap') || n === SWAP_MANIFEST_FILE);
      assert.equal(swapOne(), true);
      assert.ok(files().length > 0, 'committed, not finished: .swap files and the manifest');
      const latest = (m: Map<string, (string | null)[]>) => new Map([...m].map(([k, v]) => [k, v.at(-1)]));
      const count = (m: Map<string, (string | null)[]>) => [...m.values()].reduce((n, v) => n + v.length, 0);
      assert.ok(count(valuesByKey(log)) < count(expected), 'reads see the cleaned segment, from its .swap files');
      assert.deepEqual(latest(valuesByKey(log)), latest(expected));
      await log.finishSwap();
      assert.deepEqual(files(), [], 'finished off the event loop');
      // Again, and this time a truncation comes first: it runs the pending steps before its own.
      assert.equal(swapOne(), true);
      assert.ok(files().length > 0);
      log.truncateTo(log.logEndOffset - 10); // the last batch
      assert.deepEqual(files(), [], 'the truncation finished the swap first');
      await log.finishSwap(); // nothing left to do
      const before = valuesByKey(log);
      log.close();
      const reopened = PartitionLog.open(dir, 'changelog', 0, config(), clock, { hadCleanShutdown: false, recoveryPointOffset: 0 });
      assert.deepEqual(valuesByKey(reopened), before, 'the files hold what the log served');
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });

  const steps: SwapStep[] = ['cleaned', 'manifest', 'swap', 'old-deleted-partly', 'old-deleted', 'log-renamed', 'done'];
  for (const step of steps) {
    test(`a crash after swap step '${step}' of a worker round (its later steps off the event loop) recovers to every key's latest value exactly once`, async () => {
      const dir = tmpLogDir();
      try {
        const clock = new ManualClock(1_000_000);
        // Segments of about a third of segment.bytes, so groups hold three.
        const log = PartitionLog.open(dir, 'changelog', 0, config({ segmentBytes: 8192 }), clock);
        for (let i = 0; i < 12; i++) {
          updates(log, clock, 25, 6, `s${i}-`);
          log.roll();
        }
        const original = decodeRecordBatches(logBytes(log)).flatMap((b) => b.records.map((r) => ({ offset: Number(r.offset), key: r.key!.toString(), value: r.value!.toString() })));
        let armed = true;
        const hooks = {
          afterSwapStep: (s: SwapStep) => {
            if (armed && s === step) {
              armed = false;
              throw new Error(`simulated crash after ${s}`);
            }
          },
        };
        const manager = new CleanerManager(settings({ hooks }), clock, () => [{ log, logDir: dir }]);
        manager.start();
        try {
          await until('the round to fail', () => manager.uncleanablePartitions === 1);
        } finally {
          await manager.stop();
        }
        // The process "dies" here: the log is opened again from its files, without a close.
        const recovered = PartitionLog.open(dir, 'changelog', 0, config({ segmentBytes: 8192 }), clock, { hadCleanShutdown: false, recoveryPointOffset: 0 });
        try {
          const names = fs.readdirSync(recovered.dir);
          assert.equal(names.some((n) => n.endsWith('.cleaned') || n.endsWith('.swap') || n === SWAP_MANIFEST_FILE), false, `leftovers: ${names.join(' ')}`);
          const got = decodeRecordBatches(logBytes(recovered)).flatMap((b) => b.records.map((r) => ({ offset: Number(r.offset), key: r.key!.toString(), value: r.value!.toString() })));
          const byOffset = new Map(original.map((r) => [r.offset, r]));
          for (let i = 1; i < got.length; i++) assert.ok(got[i]!.offset > got[i - 1]!.offset, 'no offset twice');
          for (const r of got) assert.deepEqual(r, byOffset.get(r.offset));
          const latest = new Map(original.map((r) => [r.key, r]));
          for (const r of latest.values()) assert.deepEqual(got.find((x) => x.offset === r.offset), r, `key ${r.key}`);
          assert.equal(recovered.logEndOffset, 300);
        } finally {
          recovered.close();
        }
      } finally {
        cleanup(dir);
      }
    });
  }
});
