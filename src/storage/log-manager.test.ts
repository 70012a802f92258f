import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readOffsetCheckpoint, partitionKey } from './checkpoint.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig } from './config.js';
import { StorageStartupError } from './errors.js';
import { CLEAN_SHUTDOWN_FILE } from './files.js';
import { LogManager } from './log-manager.js';
import { MemoryPartitionLog } from './memory-partition-log.js';
import { PartitionLog } from './partition-log.js';
import { appendCommitted, cleanup, makeBatch, tmpLogDir } from './test-helpers.js';

const opts = { leaderEpoch: 0, assignOffsets: true } as const;

describe('LogManager', () => {
  test('shutdown (the fsyncs run together) leaves what close leaves: snapshots, trimmed indexes, checkpoints, the marker', async () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig({ indexIntervalBytes: 1 });
      const first = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0) });
      for (let p = 0; p < 50; p++) {
        const log = first.getOrCreate('t', p);
        for (let i = 0; i < 3; i++) appendCommitted(log, makeBatch({ timestamps: [i * 10], producerId: 7n, producerEpoch: 0, baseSequence: i }), opts);
      }
      await first.shutdown(4);
      assert.ok(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)));
      assert.equal(readOffsetCheckpoint(path.join(dir, 'recovery-point-offset-checkpoint')).get(partitionKey('t', 49)), 3);
      const partitionDir = path.join(dir, 't-49');
      assert.ok(fs.existsSync(path.join(partitionDir, '00000000000000000003.snapshot')), 'the producer snapshot was written');
      assert.deepEqual(fs.readdirSync(partitionDir).filter((f) => f.endsWith('.tmp')), [], 'and renamed into place');
      // An entry per batch after the first; not the preallocated segment.index.bytes.
      assert.equal(fs.statSync(path.join(partitionDir, '00000000000000000000.index')).size, 2 * 8, 'the index trimmed to its entries');
      let validated = 0;
      const second = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: { onBatchValidated: () => validated++ } });
      assert.equal(validated, 0);
      assert.deepEqual(second.startup, [{ logDir: dir, partitions: 50, hadCleanShutdown: true }]);
      const reopened = second.get('t', 49)!;
      assert.equal(reopened.logEndOffset, 3);
      // The producer state came back from the snapshot: the next sequence is accepted, a repeat is a duplicate.
      assert.equal(appendCommitted(reopened, makeBatch({ producerId: 7n, producerEpoch: 0, baseSequence: 2 }), opts).duplicate, true);
      second.close();
    } finally {
      cleanup(dir);
    }
  });

  test('reopens every partition after a clean shutdown without validating segments', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig();
      const first = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0) });
      for (let p = 0; p < 200; p++) {
        const log = first.getOrCreate('my-topic', p);
        appendCommitted(log, makeBatch({ timestamps: [p, p + 1] }), opts);
      }
      first.close();
      assert.ok(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)));
      const checkpoint = fs.readFileSync(path.join(dir, 'recovery-point-offset-checkpoint'), 'utf8').split('\n');
      assert.equal(checkpoint[0], '0');
      assert.equal(checkpoint[1], '200');
      assert.match(checkpoint[2]!, /^my-topic \d+ 2$/);

      let validated = 0;
      const second = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: { onBatchValidated: () => validated++ } });
      assert.equal(validated, 0);
      assert.deepEqual(second.startup, [{ logDir: dir, partitions: 200, hadCleanShutdown: true }]);
      assert.equal(fs.existsSync(path.join(dir, CLEAN_SHUTDOWN_FILE)), false);
      assert.equal(second.get('my-topic', 199)!.logEndOffset, 2);
      assert.equal(appendCommitted(second.get('my-topic', 7)!, makeBatch(), opts).firstOffset, 2);
      second.close();
    } finally {
      cleanup(dir);
    }
  });

  test('checkpoint() writes recovery points and log start offsets in Kafka format', () => {
    const dir = tmpLogDir();
    try {
      const manager = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      const a = manager.getOrCreate('a', 0);
      for (let i = 0; i < 3; i++) appendCommitted(a, makeBatch(), opts);
      a.flush();
      a.deleteRecordsBefore(2);
      manager.getOrCreate('b-with-dash', 3);
      manager.checkpoint();
      const recovery = readOffsetCheckpoint(path.join(dir, 'recovery-point-offset-checkpoint'));
      const start = readOffsetCheckpoint(path.join(dir, 'log-start-offset-checkpoint'));
      assert.equal(recovery.get(partitionKey('a', 0)), 3);
      assert.equal(start.get(partitionKey('a', 0)), 2);
      assert.equal(start.get(partitionKey('b-with-dash', 3)), 0);
      assert.equal(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')).length, 0);
      manager.close();
      const reopened = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      assert.equal(reopened.get('a', 0)!.logStartOffset, 2);
      assert.ok(reopened.get('b-with-dash', 3) !== undefined, 'topic names with dashes parse');
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });

  test('deletePartition removes the directory; updateConfig reaches every partition of the topic', () => {
    const dir = tmpLogDir();
    try {
      const manager = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      appendCommitted(manager.getOrCreate('t', 0), makeBatch(), opts);
      manager.getOrCreate('t', 1);
      manager.updateConfig('t', defaultLogConfig({ retentionMs: 5 }));
      assert.equal(manager.get('t', 1)!.config.retentionMs, 5);
      assert.equal(manager.deletePartition('t', 0), true);
      assert.equal(fs.existsSync(path.join(dir, 't-0')), false);
      assert.equal(manager.get('t', 0), undefined);
      assert.equal(manager.deletePartition('t', 0), false);
      manager.close();
    } finally {
      cleanup(dir);
    }
  });

  test('enforceRetention runs over every partition with the injected clock', () => {
    const dir = tmpLogDir();
    try {
      const size = makeBatch().length;
      const config = defaultLogConfig({ segmentBytes: size, retentionMs: 100 });
      const clock = new ManualClock(0);
      const manager = LogManager.open({ logDirs: [dir], defaultConfig: config, clock });
      for (const p of [0, 1]) for (let i = 0; i < 3; i++) appendCommitted(manager.getOrCreate('t', p), makeBatch({ timestamps: [50] }), opts);
      clock.set(151);
      // Every segment has expired, the active ones included (rolled, then deleted).
      assert.equal(manager.enforceRetention(), 6);
      assert.equal(manager.get('t', 1)!.logStartOffset, 3);
      assert.equal(manager.get('t', 1)!.logEndOffset, 3);
      manager.close();
    } finally {
      cleanup(dir);
    }
  });

  test('spreads partitions over several log dirs and finds them again', () => {
    const a = tmpLogDir();
    const b = tmpLogDir();
    try {
      const manager = LogManager.open({ logDirs: [a, b], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      for (let p = 0; p < 4; p++) appendCommitted(manager.getOrCreate('t', p), makeBatch(), opts);
      manager.close();
      assert.equal(fs.readdirSync(a).filter((n) => n.startsWith('t-')).length, 2);
      assert.equal(fs.readdirSync(b).filter((n) => n.startsWith('t-')).length, 2);
      const reopened = LogManager.open({ logDirs: [a, b], defaultConfig: defaultLogConfig(), clock: new ManualClock(0) });
      for (let p = 0; p < 4; p++) assert.equal(reopened.get('t', p)!.logEndOffset, 1);
      reopened.close();
    } finally {
      cleanup(a);
      cleanup(b);
    }
  });

  test('inMemory keeps logs in memory and touches no disk', () => {
    const manager = LogManager.open({ logDirs: ['/nonexistent/should-not-be-created'], defaultConfig: defaultLogConfig(), inMemory: true });
    const log = manager.getOrCreate('t', 0);
    assert.ok(log instanceof MemoryPartitionLog);
    assert.equal(appendCommitted(log, makeBatch(), opts).firstOffset, 0);
    manager.startTimers();
    manager.close();
    assert.equal(fs.existsSync('/nonexistent/should-not-be-created'), false);
  });

  test('disk mode hands out PartitionLog instances', () => {
    const dir = tmpLogDir();
    try {
      const manager = LogManager.open({ logDirs: [dir], defaultConfig: defaultLogConfig() });
      assert.ok(manager.getOrCreate('t', 0) instanceof PartitionLog);
      manager.startTimers();
      manager.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a damaged recovery-point checkpoint makes every partition of the dir be validated; a damaged log-start checkpoint refuses to open', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig();
      const first = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0) });
      for (let p = 0; p < 3; p++) appendCommitted(first.getOrCreate('t', p), makeBatch({ timestamps: [p, p + 1] }), opts);
      first.deletePartition('t', 2);
      first.getOrCreate('t', 0).deleteRecordsBefore(1);
      first.close();
      const recoveryPoints = path.join(dir, 'recovery-point-offset-checkpoint');
      fs.writeFileSync(recoveryPoints, '0\n2\nt 0 2\nt 1 \u0000\u0007\n');
      let validated = 0;
      const second = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0), recoveryHooks: { onBatchValidated: () => validated++ } });
      assert.equal(validated, 2, 'both partitions validated');
      assert.equal(second.get('t', 0)!.logStartOffset, 1, 'log start offsets still apply');
      second.close();

      const startOffsets = path.join(dir, 'log-start-offset-checkpoint');
      fs.writeFileSync(startOffsets, '0\n2\nt 0 1\n');
      assert.throws(
        () => LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0) }),
        (err: unknown) => err instanceof StorageStartupError && err.path === startOffsets && err.message.startsWith(`${startOffsets} is damaged (checkpoint ${startOffsets}: expected 2 entries, found 1)`),
      );
    } finally {
      cleanup(dir);
    }
  });
});

describe('replication-offset-checkpoint (high watermarks)', () => {
  test('a LogManager writes each log\'s high watermark with its checkpoints and opens logs at min(it, log end)', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig();
      const first = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0) });
      const a = first.getOrCreate('t', 0);
      const b = first.getOrCreate('t', 1);
      for (let i = 0; i < 5; i++) a.append(makeBatch({ timestamps: [1, 2] }), opts);
      for (let i = 0; i < 3; i++) b.append(makeBatch(), opts);
      a.highWatermark = 6; // a cluster leader whose followers have 6 of 10
      b.highWatermark = 3;
      first.checkpoint();
      assert.equal(fs.readFileSync(path.join(dir, 'replication-offset-checkpoint'), 'utf8'), '0\n2\nt 0 6\nt 1 3\n');
      first.close();
      // A log end below the checkpointed HW (a torn tail cut at recovery) caps it.
      const file = path.join(dir, 'replication-offset-checkpoint');
      fs.writeFileSync(file, '0\n2\nt 0 6\nt 1 99\n');
      const second = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0) });
      assert.deepEqual([second.get('t', 0)!.highWatermark, second.get('t', 1)!.highWatermark], [6, 3]);
      assert.equal(second.getOrCreate('t', 2).highWatermark, 0);
      second.close();
      // A damaged file: every log opens with its HW at its log end, as without a checkpoint.
      fs.writeFileSync(file, '0\n7\ngarbage');
      const third = LogManager.open({ logDirs: [dir], defaultConfig: config, clock: new ManualClock(0) });
      assert.deepEqual([third.get('t', 0)!.highWatermark, third.get('t', 1)!.highWatermark], [10, 3]);
      third.close();
    } finally {
      cleanup(dir);
    }
  });

  test('a standalone log checkpoints its high watermark at close; without a checkpoint the HW is the log end (single node)', () => {
    const dir = tmpLogDir();
    try {
      const config = defaultLogConfig();
      const log = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      for (let i = 0; i < 4; i++) log.append(makeBatch(), opts);
      assert.equal(log.highWatermark, 0, 'appends never move the HW');
      log.highWatermark = 2;
      log.close();
      assert.equal(readOffsetCheckpoint(path.join(dir, 'replication-offset-checkpoint')).get(partitionKey('t', 0)), 2);
      const reopened = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(reopened.highWatermark, 2);
      reopened.close();
      fs.rmSync(path.join(dir, 'replication-offset-checkpoint'));
      const again = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.equal(again.highWatermark, 4);
      again.close();
    } finally {
      cleanup(dir);
    }
  });
});
