import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ManualClock } from './clock.js';
import { defaultLogConfig } from './config.js';
import { StorageStartupError } from './errors.js';
import { CLEAN_SHUTDOWN_FILE } from './files.js';
import { LogManager } from './log-manager.js';
import { PartitionLog } from './partition-log.js';
import { appendCommitted, batchBaseOffsets, cleanup, makeBatch, segmentFiles, tmpLogDir } from './test-helpers.js';

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

  test('a corrupted CRC in the last batch cuts the log at that batch', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 4);
      const fourth = sizes[0]! + sizes[1]! + sizes[2]!;
      const fd = fs.openSync(segmentPath(dir), 'r+');
      fs.writeSync(fd, Buffer.from([0xff]), 0, 1, fourth + 70); // inside the records of batch 4
      fs.closeSync(fd);
      const log = reopen(dir);
      assert.equal(log.logEndOffset, 6);
      assert.equal(fs.statSync(segmentPath(dir)).size, fourth);
      assert.deepEqual(log.loadStats.truncations.map((t) => [t.position, t.bytes, t.firstOffset]), [[fourth, sizes[3]!, 6]]);
      assert.match(log.loadStats.truncations[0]!.reason, /CRC mismatch/);
      assert.equal(log.read(6, 100, 6, true).records.length, 0);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a damaged batch with valid batches behind it refuses to open, naming the file and position, and cuts nothing', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 4);
      const third = sizes[0]! + sizes[1]!;
      const fd = fs.openSync(segmentPath(dir), 'r+');
      fs.writeSync(fd, Buffer.from([0xff]), 0, 1, third + 70); // inside the records of batch 3
      fs.closeSync(fd);
      const before = fs.readFileSync(segmentPath(dir));
      assert.throws(
        () => reopen(dir),
        (err: unknown) =>
          err instanceof StorageStartupError &&
          err.path === segmentPath(dir) &&
          err.message.includes(`${segmentPath(dir)}: the bytes at position ${third} (offset 4 on)`) &&
          err.message.includes(`a valid batch follows at position ${third + sizes[2]!}`),
      );
      assert.deepEqual(fs.readFileSync(segmentPath(dir)), before, 'nothing may be cut');
    } finally {
      cleanup(dir);
    }
  });

  test('garbage in the middle of a batch header is found behind, whatever its length', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 3);
      const fd = fs.openSync(segmentPath(dir), 'r+');
      // From the end of batch 1 to the last byte of batch 2, in bytes that look like magic bytes.
      fs.writeSync(fd, Buffer.alloc(sizes[1]! + 2, 0x02), 0, sizes[1]! + 2, sizes[0]! - 3);
      fs.closeSync(fd);
      assert.throws(() => reopen(dir), new RegExp(`position 0 \\(offset 0 on\\) are not a valid record batch \\(CRC mismatch.*a valid batch follows at position ${sizes[0]! + sizes[1]!}\\.`));
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

  test('corruption in an older segment with later segments behind it refuses to open and deletes nothing', () => {
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
      assert.throws(
        () => PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: size * 2 }), new ManualClock(0), { recoveryPointOffset: 0, hadCleanShutdown: false }),
        new RegExp(`${segmentPath(dir, 4)}: the bytes at position ${size} \\(offset 6 on\\).*valid batches follow in ${segmentPath(dir, 8)}`),
      );
      assert.equal(fs.statSync(segmentPath(dir, 4)).size, size * 2);
      assert.equal(fs.statSync(segmentPath(dir, 8)).size, size * 2);
    } finally {
      cleanup(dir);
    }
  });

  test('a torn tail of the last segment with an empty segment after it is cut and the empty one dropped', () => {
    const dir = tmpLogDir();
    try {
      const size = makeBatch({ timestamps: [0, 1], valueBytes: 20 }).length;
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: size * 2 }), new ManualClock(0));
      for (let i = 0; i < 4; i++) log.append(makeBatch({ timestamps: [0, 1], valueBytes: 20 }), opts);
      log.roll();
      assert.deepEqual(log.segmentBaseOffsets(), [0, 4, 8]);
      fs.truncateSync(segmentPath(dir, 4), size + 20);
      const recovered = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: size * 2 }), new ManualClock(0), { recoveryPointOffset: 0, hadCleanShutdown: false });
      assert.equal(recovered.logEndOffset, 6);
      assert.deepEqual(recovered.segmentBaseOffsets(), [0, 4]);
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
      // Corrupt a byte in the records of the last batch, which only validation would catch.
      const file = segmentFiles(path.join(dir, 't-0'))[0]!;
      const fd = fs.openSync(file, 'r+');
      const size = makeBatch({ timestamps: [0, 1] }).length;
      fs.writeSync(fd, Buffer.from([0x7f]), 0, 1, size * 3 + 70); // inside the fourth batch
      fs.closeSync(fd);

      counter = { n: 0 };
      const clean = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: { onBatchValidated: () => counter.n++ } });
      assert.equal(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)), false, 'marker removed at open');
      assert.equal(counter.n, 0);
      assert.equal(clean.get('t', 0)!.logEndOffset, 8, 'trusted as is');
      assert.deepEqual(clean.startup, [{ logDir: dir, partitions: 1, hadCleanShutdown: true }]);
      // Crash now: no close, so no marker. The next start validates and finds the corruption.
      fs.writeFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), '0\n1\nt 0 0\n');
      const unclean = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: { onBatchValidated: () => counter.n++ } });
      assert.equal(counter.n, 3, 'the three batches before the corrupt one were validated');
      assert.equal(unclean.get('t', 0)!.logEndOffset, 6);
      unclean.close();
    } finally {
      cleanup(dir);
    }
  });
});

describe('start-up after a clean shutdown checks what it can cheaply', () => {
  const config = defaultLogConfig({ indexIntervalBytes: 100 });
  /** 20 batches of 2 records (timestamps 1000+i, 1001+i), closed cleanly by a LogManager. */
  function cleanlyClosed(dir: string): number[] {
    const manager = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0) });
    const log = manager.getOrCreate('t', 0);
    const sizes: number[] = [];
    for (let i = 0; i < 20; i++) {
      const b = makeBatch({ timestamps: [1000 + i, 1001 + i], valueBytes: 30 });
      sizes.push(b.length);
      // As a single node's broker does: the HW follows each append, and is checkpointed at close.
      appendCommitted(log, b, opts);
    }
    manager.close();
    return sizes;
  }
  const open = (dir: string, counter?: { n: number }) =>
    LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: { onBatchValidated: () => { if (counter) counter.n++; } } });

  test('an untouched log is trusted: no batch is validated', () => {
    const dir = tmpLogDir();
    try {
      cleanlyClosed(dir);
      const counter = { n: 0 };
      const manager = open(dir, counter);
      const log = manager.get('t', 0) as PartitionLog;
      assert.equal(counter.n, 0);
      assert.equal(log.logEndOffset, 40);
      assert.equal(log.loadStats.startupCheckFailure, null);
      manager.close();
    } finally {
      cleanup(dir);
    }
  });

  test('an active segment cut shorter than the checkpoint says is recovered to its last whole batch; new records get the next offsets and are readable', () => {
    const dir = tmpLogDir();
    try {
      const sizes = cleanlyClosed(dir);
      const whole = sizes.slice(0, 12).reduce((a, b) => a + b, 0);
      fs.truncateSync(segmentPath(dir), whole + 25); // 12 whole batches and part of the 13th
      const manager = open(dir);
      const log = manager.get('t', 0) as PartitionLog;
      assert.match(log.loadStats.startupCheckFailure ?? '', /recorded at shutdown is 40|past the end/);
      assert.equal(log.logEndOffset, 24);
      assert.deepEqual(log.loadStats.truncations.map((t) => [t.position, t.bytes, t.firstOffset, t.previousLogEndOffset]), [[whole, 25, 24, 40]]);
      assert.equal(log.append(makeBatch({ timestamps: [5000, 5001] }), opts).firstOffset, 24);
      assert.deepEqual(batchBaseOffsets(log.read(20, 1 << 20, 26, false).records), [20, 22, 24]);
      manager.close();
      // And it stays right across the next restart.
      const again = open(dir);
      assert.equal(again.get('t', 0)!.logEndOffset, 26);
      again.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a stray segment file past the log end does not move the log end offset to its name', () => {
    const dir = tmpLogDir();
    try {
      cleanlyClosed(dir);
      const stray = segmentPath(dir, 99999);
      fs.writeFileSync(stray, Buffer.alloc(100, 0x5a));
      const manager = open(dir);
      const log = manager.get('t', 0) as PartitionLog;
      assert.equal(log.logEndOffset, 40);
      assert.equal(log.highWatermark, 40);
      assert.match(log.loadStats.startupCheckFailure ?? '', /00000000000000099999\.log \(100 bytes\) starts at offset 99999/);
      assert.deepEqual(log.loadStats.truncations.map((t) => [t.file, t.bytes, t.firstOffset]), [[stray, 100, 99999]]);
      assert.equal(fs.existsSync(stray), false);
      assert.equal(log.append(makeBatch(), opts).firstOffset, 40);
      manager.close();
    } finally {
      cleanup(dir);
    }
  });

  test('an offset index whose last entry points into the middle of a batch is rebuilt; reads find every batch', () => {
    const dir = tmpLogDir();
    try {
      cleanlyClosed(dir);
      const indexPath = path.join(dir, 't-0', '00000000000000000000.index');
      const index = fs.readFileSync(indexPath);
      assert.ok(index.length >= 16, 'the test needs a few index entries');
      index.writeInt32BE(index.readInt32BE(index.length - 4) + 9, index.length - 4); // still increasing, wrong place
      fs.writeFileSync(indexPath, index);
      const manager = open(dir);
      const log = manager.get('t', 0) as PartitionLog;
      assert.match(log.loadStats.startupCheckFailure ?? '', /names offset \d+ at position \d+/);
      assert.deepEqual(log.loadStats.truncations, []);
      assert.equal(log.logEndOffset, 40);
      for (let offset = 0; offset < 40; offset += 3) assert.equal(log.read(offset, 1, 40, true).firstBatchOffset, offset - (offset % 2));
      manager.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a time index whose last entry does not match its batch is rebuilt; the largest timestamp is right', () => {
    const dir = tmpLogDir();
    try {
      cleanlyClosed(dir);
      const timeIndexPath = path.join(dir, 't-0', '00000000000000000000.timeindex');
      const index = fs.readFileSync(timeIndexPath);
      index.writeBigInt64BE(BigInt(9_999_999), index.length - 12); // a later "largest timestamp"
      fs.writeFileSync(timeIndexPath, index);
      const manager = open(dir);
      const log = manager.get('t', 0) as PartitionLog;
      assert.match(log.loadStats.startupCheckFailure ?? '', /timeindex .* does not match the batch/);
      assert.deepEqual(log.maxTimestampAndOffset(), { timestamp: 1020, offset: 39 });
      assert.deepEqual(log.offsetForTimestamp(1010), { timestamp: 1010, offset: 19 });
      manager.close();
    } finally {
      cleanup(dir);
    }
  });

  test('an older segment whose index entry points at the wrong batch has its indexes rebuilt when first read', () => {
    const dir = tmpLogDir();
    try {
      const size = makeBatch({ timestamps: [0, 1], valueBytes: 30 }).length;
      const cfg = defaultLogConfig({ indexIntervalBytes: 1, segmentBytes: size * 10 });
      const manager = LogManager.open({ logDirs: [dir], defaultConfig: cfg, clock: new ManualClock(0) });
      const log = manager.getOrCreate('t', 0);
      for (let i = 0; i < 15; i++) log.append(makeBatch({ timestamps: [i, i + 1], valueBytes: 30 }), opts);
      manager.close();
      const indexPath = path.join(dir, 't-0', '00000000000000000000.index');
      const index = fs.readFileSync(indexPath);
      index.writeInt32BE(index.readInt32BE(12) + 1, 12); // the second entry's position, one byte off
      fs.writeFileSync(indexPath, index);
      const reopened = LogManager.open({ logDirs: [dir], defaultConfig: cfg, clock: new ManualClock(0) });
      const again = reopened.get('t', 0)!;
      for (let offset = 0; offset < 30; offset++) assert.equal(again.read(offset, 1, 30, true).firstBatchOffset, offset - (offset % 2), `offset ${offset}`);
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });
});

describe('strict recovery (the metadata log)', () => {
  const strict = (dir: string, recoveryPointOffset: number, hadCleanShutdown = false) =>
    PartitionLog.open(dir, 't', 0, defaultLogConfig(), new ManualClock(0), { strictRecovery: true, recoveryPointOffset, hadCleanShutdown });

  test('a torn last batch above the recovery point after a crash is cut', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 3);
      fs.truncateSync(segmentPath(dir), sizes[0]! + sizes[1]! + 20);
      const log = strict(dir, 4);
      assert.equal(log.logEndOffset, 4);
      assert.equal(log.loadStats.truncations.length, 1);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a last batch whose pages never reached the disk (zeros) above the recovery point is cut', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 3);
      const third = sizes[0]! + sizes[1]!;
      const fd = fs.openSync(segmentPath(dir), 'r+');
      fs.writeSync(fd, Buffer.alloc(sizes[2]! - 61), 0, sizes[2]! - 61, third + 61); // header written, records not
      fs.closeSync(fd);
      const log = strict(dir, 4);
      assert.equal(log.logEndOffset, 4);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('damage below the recovery point, after a clean shutdown, or garbage that is no torn write refuses to open and cuts nothing', () => {
    const dir = tmpLogDir();
    try {
      const sizes = crashAfterAppends(dir, 3);
      const third = sizes[0]! + sizes[1]!;
      fs.truncateSync(segmentPath(dir), third + 20);
      const size = fs.statSync(segmentPath(dir)).size;
      assert.throws(() => strict(dir, 6), /\(offset 4 on\).*it lies below the recovery point 6, in data that was flushed/);
      assert.throws(() => strict(dir, 6, true), /after a clean shutdown nothing in it can be torn/);
      fs.appendFileSync(segmentPath(dir), Buffer.alloc(200, 0x41)); // not a batch, not zeros
      assert.throws(() => strict(dir, 4), /it does not look like a write cut short by a crash/);
      assert.equal(fs.statSync(segmentPath(dir)).size, size + 200, 'nothing may be cut');
    } finally {
      cleanup(dir);
    }
  });
});

describe('clean shutdown writes only what changed', () => {
  test('an empty partition reopens without recovery, and its time index stays empty', () => {
    const dir = tmpLogDir();
    try {
      const first = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      first.getOrCreate('t', 0);
      first.close();
      assert.equal(fs.statSync(path.join(dir, 't-0', '00000000000000000000.timeindex')).size, 0);
      const second = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      assert.equal((second.get('t', 0) as PartitionLog).loadStats.startupCheckFailure, null);
      second.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a producer snapshot identical to the one on disk is not rewritten at close', () => {
    const dir = tmpLogDir();
    try {
      const first = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      first.getOrCreate('t', 0).append(makeBatch({ producerId: 7n, producerEpoch: 0, baseSequence: 0 }), opts);
      first.close();
      const snapshot = path.join(dir, 't-0', '00000000000000000001.snapshot');
      const written = fs.statSync(snapshot);
      fs.utimesSync(snapshot, new Date(1_000_000), new Date(1_000_000));
      const second = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      second.close();
      assert.equal(fs.statSync(snapshot).mtimeMs, 1_000_000, 'rewritten without a change');
      assert.equal(fs.statSync(snapshot).ino, written.ino);
      const third = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      third.get('t', 0)!.append(makeBatch({ producerId: 7n, producerEpoch: 0, baseSequence: 1 }), opts);
      third.close();
      assert.ok(fs.existsSync(path.join(dir, 't-0', '00000000000000000002.snapshot')), 'a changed state is written');
    } finally {
      cleanup(dir);
    }
  });
});
