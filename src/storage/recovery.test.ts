import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManualClock } from './clock.js';
import { defaultLogConfig } from './config.js';
import { CLEAN_SHUTDOWN_FILE } from './files.js';
import { LogManager } from './log-manager.js';
import { PartitionLog } from './partition-log.js';
import { batchBaseOffsets, cleanup, makeBatch, segmentFiles, tmpLogDir } from './test-helpers.js';

const opts = { leaderEpoch: 0, assignOffsets: true } as const;

/** Writes `count` batches of 2 records and leaves the log as a crash would: no close, no marker. */
function crashAfterAppends(dir: string, count: number, segmentBytes?: number): number[] {
  const log = PartitionLog.open(dir, 't', 0, defaultLogConfig(segmentBytes ? { segmentBytes } : {}), new ManualClock(0));
  const sizes: number[] = [];
  for (let i = 0; i < count; i++) {
    const b = makeBatch({ timestamps: [i, i + 1], valueBytes: 20 + i });
    sizes.push(b.length);
    log.append(b, opts);
  }
  // Simulated kill -9: the process vanishes; descriptors and page cache are what they are.
  return sizes;
}

function reopen(dir: string, counter?: { n: number }, segmentBytes?: number): PartitionLog {
  return PartitionLog.open(dir, 't', 0, defaultLogConfig(segmentBytes ? { segmentBytes } : {}), new ManualClock(0), {
    recoveryHooks: { onBatchValidated: () => { if (counter) counter.n++; } },
  });
}

const segmentPath = (dir: string, base = 0): string => path.join(dir, 't-0', `${String(base).padStart(20, '0')}.log`);

describe('recovery after an unclean stop', () => {
  test('a segment truncated mid-batch recovers to the last whole batch and appends continue there', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 5);
      const whole = sizes.slice(0, 4).reduce((a, b) => a + b, 0);
      fs.truncateSync(segmentPath(dir), whole + 30); // power loss in the middle of the 5th batch
      const log = reopen(dir);
      assert.equal(log.logEndOffset, 8);
      assert.equal(fs.statSync(segmentPath(dir)).size, whole);
      assert.equal(log.loadStats.truncatedBytes, 30);
      assert.equal(log.append(makeBatch(), opts).firstOffset, 8);
      assert.deepEqual(batchBaseOffsets(log.read(0, 1 << 20, 9, false).records), [0, 2, 4, 6, 8]);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a corrupted CRC in the tail cuts the log at that batch', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 4);
      const third = sizes[0]! + sizes[1]!;
      const fd = fs.openSync(segmentPath(dir), 'r+');
      fs.writeSync(fd, Buffer.from([0xff]), 0, 1, third + 70); // inside the records of batch 3
      fs.closeSync(fd);
      const log = reopen(dir);
      assert.equal(log.logEndOffset, 4);
      assert.equal(fs.statSync(segmentPath(dir)).size, third);
      assert.equal(log.read(4, 100, 4, true).records.length, 0);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a torn write of half a batch header is dropped', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 2);
      const half = makeBatch().subarray(0, 30);
      fs.appendFileSync(segmentPath(dir), half);
      const log = reopen(dir);
      assert.equal(log.logEndOffset, 4);
      assert.equal(fs.statSync(segmentPath(dir)).size, sizes[0]! + sizes[1]!);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a batch length running past the end of the file is dropped', () => {
    const dir = tmpLogDir();
    try {
      crashAfterAppends(dir, 2);
      const big = makeBatch({ valueBytes: 500 });
      fs.appendFileSync(segmentPath(dir), big.subarray(0, big.length - 1));
      const log = reopen(dir);
      assert.equal(log.logEndOffset, 4);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('corruption in an older segment drops every later segment', () => {
    const dir = tmpLogDir();
    try {
      const size = makeBatch({ timestamps: [0, 1], valueBytes: 20 }).length;
      // fixed-size batches so every segment holds two of them
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: size * 2 }), new ManualClock(0));
      for (let i = 0; i < 6; i++) log.append(makeBatch({ timestamps: [0, 1], valueBytes: 20 }), opts);
      assert.deepEqual(log.segmentBaseOffsets(), [0, 4, 8]);
      // Unclean stop, with the recovery point forced back to 0 so every segment is checked.
      const fd = fs.openSync(segmentPath(dir, 4), 'r+');
      fs.writeSync(fd, Buffer.from([0x00, 0x00]), 0, 2, size + 65);
      fs.closeSync(fd);
      const recovered = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: size * 2 }), new ManualClock(0), { recoveryPointOffset: 0, hadCleanShutdown: false });
      assert.equal(recovered.logEndOffset, 6);
      assert.deepEqual(recovered.segmentBaseOffsets(), [0, 4]);
      assert.equal(fs.existsSync(segmentPath(dir, 8)), false);
      recovered.close();
    } finally {
      cleanup(dir);
    }
  });

  test('recovery rebuilds a missing or garbage index', () => {
    const dir = tmpLogDir();
    try {
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ indexIntervalBytes: 100 }), new ManualClock(0));
      for (let i = 0; i < 50; i++) log.append(makeBatch({ timestamps: [i] }), opts);
      const indexPath = path.join(dir, 't-0', '00000000000000000000.index');
      fs.writeFileSync(indexPath, Buffer.alloc(64, 0xee)); // nonsense entries
      const recovered = PartitionLog.open(dir, 't', 0, defaultLogConfig({ indexIntervalBytes: 100 }), new ManualClock(0));
      assert.equal(recovered.loadStats.validatedBatches, 50);
      for (const offset of [0, 13, 49]) assert.equal(recovered.read(offset, 1, 50, true).firstBatchOffset, offset);
      recovered.close();
      assert.ok(fs.statSync(indexPath).size > 8, 'index rebuilt and trimmed');
    } finally {
      cleanup(dir);
    }
  });

  test('segments below the recovery point are not validated', () => {
    const dir = tmpLogDir();
    try {
      const size = makeBatch({ timestamps: [0, 1], valueBytes: 20 }).length;
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: size * 2 }), new ManualClock(0));
      for (let i = 0; i < 5; i++) log.append(makeBatch({ timestamps: [0, 1], valueBytes: 20 }), opts);
      assert.equal(log.recoveryPointOffset, 8, 'rolls flush and advance the recovery point');
      const counter = { n: 0 };
      const recovered = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: size * 2 }), new ManualClock(0), {
        recoveryPointOffset: 8,
        hadCleanShutdown: false,
        recoveryHooks: { onBatchValidated: () => counter.n++ },
      });
      assert.equal(counter.n, 1, 'only the active segment (one batch) was validated');
      assert.equal(recovered.logEndOffset, 10);
      recovered.close();
    } finally {
      cleanup(dir);
    }
  });
});

describe('clean shutdown', () => {
  test('with the marker present no segment is validated; without it the same corruption is found', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig();
      let counter = { n: 0 };
      const hooks = { onBatchValidated: () => counter.n++ };
      const manager = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: hooks });
      const log = manager.getOrCreate('t', 0);
      for (let i = 0; i < 4; i++) log.append(makeBatch({ timestamps: [i, i + 1] }), opts);
      manager.close();
      assert.ok(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)));
      // Corrupt a byte validation would catch, and pretend nothing was ever flushed.
      const file = segmentFiles(path.join(dir, 't-0'))[0]!;
      const fd = fs.openSync(file, 'r+');
      const size = makeBatch({ timestamps: [0, 1] }).length;
      fs.writeSync(fd, Buffer.from([0x7f]), 0, 1, size * 2 + 70); // inside the third batch
      fs.closeSync(fd);
      fs.writeFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), '0\n1\nt 0 0\n');

      counter = { n: 0 };
      const clean = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: { onBatchValidated: () => counter.n++ } });
      assert.equal(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)), false, 'marker removed at open');
      assert.equal(counter.n, 0);
      assert.equal(clean.get('t', 0)!.logEndOffset, 8, 'trusted as is');
      assert.deepEqual(clean.startup, [{ logDir: dir, partitions: 1, hadCleanShutdown: true }]);
      // Crash now: no close, so no marker. The next start validates and finds the corruption.
      fs.writeFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), '0\n1\nt 0 0\n');
      const unclean = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: { onBatchValidated: () => counter.n++ } });
      assert.equal(counter.n, 2, 'the two batches before the corrupt one were validated');
      assert.equal(unclean.get('t', 0)!.logEndOffset, 4);
      unclean.close();
    } finally {
      cleanup(dir);
    }
  });
});
