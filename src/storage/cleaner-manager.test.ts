import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { encodeRecordBatch } from '../protocol/records/record-batch.js';
import { readOffsetCheckpoint, partitionKey } from './checkpoint.js';
import { CLEANER_OFFSET_CHECKPOINT_FILE, type CleanerSettings } from './cleaner-manager.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig, type LogConfig } from './config.js';
import { LogManager } from './log-manager.js';
import type { PartitionStore } from './partition-store.js';
import { appendCommitted, cleanerTestSettings, cleanup, tmpLogDir } from './test-helpers.js';

const opts = { leaderEpoch: 0, assignOffsets: true } as const;
const settings = cleanerTestSettings;

function fill(store: PartitionStore, clock: ManualClock, count: number, keys: number): void {
  for (let i = 0; i < count; i++) {
    appendCommitted(store, encodeRecordBatch({ records: [{ key: Buffer.from(`k${i % keys}`), value: Buffer.from(`value-${i}`), timestamp: clock.nowMs() }] }), opts);
    clock.advance(1);
  }
}

/** Records in the log (below `endOffset`, the whole log by default). */
function recordCount(store: PartitionStore, endOffset = store.logEndOffset): number {
  let n = 0;
  let offset = store.logStartOffset;
  for (;;) {
    const r = store.read(offset, 1 << 20, endOffset, true);
    if (r.records.length === 0) return n;
    let pos = 0;
    while (pos < r.records.length) {
      n += r.records.readInt32BE(pos + 57);
      offset = Number(r.records.readBigInt64BE(pos)) + r.records.readInt32BE(pos + 23) + 1;
      pos += r.records.readInt32BE(pos + 8) + 12;
    }
  }
}

describe('CleanerManager', () => {
  const topics: Record<string, Partial<LogConfig>> = {
    changelog: { cleanupPolicy: 'compact', segmentBytes: 2048 },
    events: { cleanupPolicy: 'delete', segmentBytes: 2048 },
    both: { cleanupPolicy: 'compact,delete', segmentBytes: 2048, retentionMs: 1_000_000 },
    lazy: { cleanupPolicy: 'compact', segmentBytes: 2048, minCleanableDirtyRatio: 1 },
  };
  const open = (dir: string, clock: ManualClock, o: Partial<CleanerSettings> = {}) =>
    LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), configFor: (t) => defaultLogConfig(topics[t]), clock, cleaner: settings(o) });

  test('cleans the dirtiest compacted log first, never a delete-only one, and checkpoints how far', () => {
    const dir = tmpLogDir();
    const clock = new ManualClock(1_000_000);
    const logs = open(dir, clock);
    try {
      const changelog = logs.getOrCreate('changelog', 0);
      const events = logs.getOrCreate('events', 0);
      const lazy = logs.getOrCreate('lazy', 0);
      fill(changelog, clock, 300, 3);
      fill(events, clock, 300, 3);
      fill(lazy, clock, 300, 3);
      const view = logs.cleaner!.view();
      assert.deepEqual(view.map((v) => v.topic).sort(), ['changelog', 'lazy']);
      assert.equal(view.find((v) => v.topic === 'changelog')!.dirtyRatio, 1);
      const stats = logs.cleaner!.cleanOnce();
      assert.ok(stats !== null);
      assert.equal(recordCount(changelog), 3 + (300 - stats.endOffset), 'the active segment stays dirty');
      assert.equal(recordCount(events), 300);
      assert.equal(recordCount(lazy), 300, 'min.cleanable.dirty.ratio=1 is never reached while anything is clean... or dirty below it');
      const cp = readOffsetCheckpoint(path.join(dir, CLEANER_OFFSET_CHECKPOINT_FILE));
      assert.equal(cp.get(partitionKey('changelog', 0)), stats.endOffset);
      // The lazy log (ratio 1 >= 1) is next; then nothing is dirty enough.
      assert.ok(logs.cleaner!.cleanOnce() !== null);
      assert.equal(recordCount(lazy) < 300, true);
      assert.equal(logs.cleaner!.cleanOnce(), null);
      assert.ok(logs.cleaner!.view().every((v) => v.dirtyRatio === 0));
      // A little more dirt is below the 0.5 ratio of a log that is mostly clean... once it is clean.
      logs.close();
      const again = open(dir, clock);
      try {
        assert.equal(again.cleaner!.checkpointOf(dir, 'changelog', 0), stats.endOffset, 'the checkpoint survives a restart');
        assert.equal(again.cleaner!.cleanOnce(), null);
      } finally {
        again.close();
      }
    } finally {
      logs.close();
      cleanup(dir);
    }
  });

  test('compact,delete applies both retention and compaction', () => {
    const dir = tmpLogDir();
    // Near the files' mtimes: an emptied first segment's retention goes by its mtime, as in Kafka.
    const clock = new ManualClock(Math.floor(fs.statSync(dir).mtimeMs));
    const logs = open(dir, clock);
    try {
      const both = logs.getOrCreate('both', 0);
      fill(both, clock, 300, 3);
      assert.ok(logs.cleaner!.cleanOnce() !== null);
      const compacted = recordCount(both);
      assert.ok(compacted < 50, `${compacted} records after compaction`);
      clock.advance(2_000_000);
      logs.enforceRetention();
      assert.ok(both.logStartOffset > 0, 'retention deleted old segments too');
    } finally {
      logs.close();
      cleanup(dir);
    }
  });

  test('a kept tombstone makes the log due again at its delete horizon, whatever the ratio', () => {
    const dir = tmpLogDir();
    const clock = new ManualClock(1_000_000);
    topics['tombs'] = { cleanupPolicy: 'compact', segmentBytes: 2048, deleteRetentionMs: 5_000 };
    const logs = open(dir, clock);
    try {
      const log = logs.getOrCreate('tombs', 0);
      fill(log, clock, 100, 2);
      appendCommitted(log, encodeRecordBatch({ records: [{ key: Buffer.from('k1'), value: null, timestamp: clock.nowMs() }] }), opts);
      fill(log, clock, 60, 1);
      (log as unknown as { roll(): void }).roll();
      assert.ok(logs.cleaner!.cleanOnce() !== null);
      const withTombstone = recordCount(log);
      assert.equal(logs.cleaner!.cleanOnce(), null, 'nothing dirty, horizon not reached');
      clock.advance(5_000);
      assert.ok(logs.cleaner!.cleanOnce() !== null, 'due at the horizon');
      assert.equal(recordCount(log), withTombstone - 1);
    } finally {
      logs.close();
      cleanup(dir);
    }
  });

  test('in the background, the cleaner cleans a dirty log between appends', async () => {
    const dir = tmpLogDir();
    const clock = new ManualClock(1_000_000);
    const logs = open(dir, clock, { ioBufferBytes: 1024 });
    try {
      const log = logs.getOrCreate('changelog', 0);
      fill(log, clock, 500, 4);
      logs.startTimers();
      // Poll, bounded: the worker thread starts, then cleans while appends go on here.
      for (let i = 0; i < 2500 && logs.cleaner!.totals.rounds === 0; i++) {
        fill(log, clock, 1, 4); // appends interleave with the worker's round
        await new Promise((r) => setTimeout(r, 2));
      }
      assert.ok(logs.cleaner!.totals.rounds > 0, 'a round finished');
      const round = logs.cleaner!.view().find((v) => v.topic === 'changelog')!.lastRound!;
      assert.ok(round.endOffset > 400, `the round covered most of the first fill (not its active segment): ${round.endOffset}`);
      assert.equal(recordCount(log, round.endOffset), 4, 'below its end, the latest record of each of the 4 keys');
    } finally {
      logs.close();
      cleanup(dir);
    }
  });

  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  /** Polls `done` every 5 ms, at most `tries` times. */
  const until = async (done: () => boolean, tries = 2000) => {
    for (let i = 0; i < tries && !done(); i++) await sleep(5);
    return done();
  };

  test('reconfigure resizes the workers at run time: 0 -> 2 starts rounds, 2 -> 0 stops them, 0 -> 1 resumes', async () => {
    const dir = tmpLogDir();
    const clock = new ManualClock(1_000_000);
    const logs = open(dir, clock, { threads: 0 });
    const cleaner = logs.cleaner!;
    try {
      const log = logs.getOrCreate('changelog', 0);
      fill(log, clock, 500, 4);
      logs.startTimers();
      await sleep(50);
      assert.equal(cleaner.totals.rounds, 0, 'no workers, no rounds');
      assert.equal(cleaner.workerThreads.length, 0);
      assert.equal(cleaner.reconfigure({ ...cleaner.tuning, threads: 2 }), true);
      assert.equal(cleaner.workerThreads.length, 2);
      assert.ok(await until(() => cleaner.totals.rounds > 0), 'a round ran once there were workers');
      assert.equal(cleaner.reconfigure({ ...cleaner.tuning }), false, 'same settings: nothing to do');
      assert.equal(cleaner.reconfigure({ ...cleaner.tuning, threads: 0 }), true);
      assert.equal(cleaner.workerThreads.length, 0);
      assert.ok(await until(() => !cleaner.busy));
      const rounds = cleaner.totals.rounds;
      fill(log, clock, 500, 4);
      await sleep(50);
      assert.equal(cleaner.totals.rounds, rounds, 'threads=0: no new round');
      cleaner.reconfigure({ ...cleaner.tuning, threads: 1 });
      assert.ok(await until(() => cleaner.totals.rounds > rounds), 'threads=1 again: the dirty log is cleaned');
      assert.equal(recordCount(log, cleaner.view()[0]!.lastRound!.endOffset), 4);
    } finally {
      await logs.shutdown();
      cleanup(dir);
    }
  });

  test('reconfigure before start only records the settings; start() then uses them', async () => {
    const dir = tmpLogDir();
    const clock = new ManualClock(1_000_000);
    const logs = open(dir, clock, { threads: 0 });
    const cleaner = logs.cleaner!;
    try {
      fill(logs.getOrCreate('changelog', 0), clock, 500, 4);
      cleaner.reconfigure({ ...cleaner.tuning, threads: 1, backoffMs: 5 });
      await sleep(30);
      assert.equal(cleaner.totals.rounds, 0, 'not started');
      assert.equal(cleaner.workerThreads[0]!.running, false);
      logs.startTimers();
      assert.ok(await until(() => cleaner.totals.rounds > 0));
      assert.equal(cleaner.tuning.backoffMs, 5);
    } finally {
      await logs.shutdown();
      cleanup(dir);
    }
  });

  test('a busy worker of the old settings finishes its round and ends; no new worker takes that log meanwhile', async () => {
    const dir = tmpLogDir();
    const clock = new ManualClock(1_000_000);
    // Throttled so the round lasts: ~75 KB to read at 40 KB/s.
    const logs = open(dir, clock, { threads: 1, ioBufferBytes: 1024, ioMaxBytesPerSecond: 40_000 });
    const cleaner = logs.cleaner!;
    try {
      const log = logs.getOrCreate('changelog', 0);
      fill(log, clock, 500, 4);
      logs.startTimers();
      assert.ok(await until(() => cleaner.busy));
      const old = cleaner.workerThreads[0]!;
      cleaner.reconfigure({ ...cleaner.tuning, threads: 2, ioMaxBytesPerSecond: Number.POSITIVE_INFINITY });
      assert.equal(cleaner.workerThreads.length, 2);
      assert.ok(!cleaner.workerThreads.includes(old), 'the old worker is not reused');
      await sleep(50);
      assert.ok(cleaner.busy && old.running, 'the old round goes on');
      assert.equal(cleaner.totals.rounds, 0);
      assert.ok(cleaner.workerThreads.every((t) => !t.running), 'no new worker started a round on the log in progress');
      assert.ok(await until(() => !cleaner.busy && !old.running), 'the old worker ended after its round');
      assert.equal(cleaner.totals.rounds, 1, 'one round, the old worker\'s');
      assert.equal(recordCount(log, cleaner.view()[0]!.lastRound!.endOffset), 4);
    } finally {
      await logs.shutdown();
      cleanup(dir);
    }
  });
});
