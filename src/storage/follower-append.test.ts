// Follower appends (batches as the leader wrote them) and the leader-epoch cache inside both
// PartitionStore implementations: replaying a leader's log gives the same bytes, producer state,
// transactions and epochs; appends that do not continue the log are refused with nothing written;
// the cache follows truncation, log start moves, restarts, crashes and damaged checkpoints.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BASE_OFFSET_OFFSET, CRC_OFFSET, PARTITION_LEADER_EPOCH_OFFSET } from '../protocol/records/batch-header.js';
import { ManualClock } from './clock.js';
import { defaultLogConfig, type LogConfig } from './config.js';
import { CorruptRecordError, FollowerAppendError } from './errors.js';
import { LEADER_EPOCH_CHECKPOINT_FILE } from './files.js';
import { MemoryPartitionLog } from './memory-partition-log.js';
import { PartitionLog } from './partition-log.js';
import type { PartitionStore } from './partition-store.js';
import { readWholeLog } from './read-whole-log.js';
import { appendCommitted, batchBaseOffsets, cleanup, makeBatch, tmpLogDir } from './test-helpers.js';

const follower = { assignOffsets: false } as const;
const leaderAt = (leaderEpoch: number) => ({ assignOffsets: true, leaderEpoch }) as const;

interface Pair {
  leader: PartitionStore;
  follower: PartitionStore;
  done(): void;
}

const implementations: [string, (config?: LogConfig) => Pair][] = [
  ['PartitionLog', (config = defaultLogConfig()) => {
    const dir = tmpLogDir();
    const leader = PartitionLog.open(path.join(dir, 'leader'), 't', 0, config, new ManualClock(1_000_000));
    const f = PartitionLog.open(path.join(dir, 'follower'), 't', 0, config, new ManualClock(5_000_000));
    return { leader, follower: f, done: () => { leader.close(); f.close(); cleanup(dir); } };
  }],
  ['MemoryPartitionLog', (config = defaultLogConfig()) => ({
    leader: new MemoryPartitionLog('t', 0, config, new ManualClock(1_000_000)),
    follower: new MemoryPartitionLog('t', 0, config, new ManualClock(5_000_000)),
    done: () => {},
  })],
];

/** Everything a leader's appends leave in the log, byte for byte and in state. */
function snapshot(store: PartitionStore) {
  return {
    bytes: Buffer.concat([...readWholeLog(store, 1 << 20)]).toString('hex'),
    logEndOffset: store.logEndOffset,
    producers: [...store.activeProducers()].map((p) => ({ ...p, batches: p.batches.map((b) => ({ ...b })) })),
    epochs: store.leaderEpochEntries().map((e) => ({ ...e })),
    aborted: store.abortedTransactions(0, store.logEndOffset),
  };
}

/** Copies the leader's log from `from` to the follower in reads of at most `maxBytes`, as a fetcher would. */
function replicate(leader: PartitionStore, f: PartitionStore, maxBytes: number): void {
  while (f.logEndOffset < leader.logEndOffset) {
    const r = leader.read(f.logEndOffset, maxBytes, leader.logEndOffset, true);
    f.append(Buffer.from(r.records), follower);
    r.release();
  }
}

/** A leader log with plain, idempotent and transactional batches, both markers and three epochs. */
function writeLeaderHistory(leader: PartitionStore): void {
  appendCommitted(leader, makeBatch({ timestamps: [10, 11] }), leaderAt(1));
  appendCommitted(leader, makeBatch({ producerId: 7n, producerEpoch: 0, baseSequence: 0, timestamps: [12] }), leaderAt(1));
  appendCommitted(leader, makeBatch({ producerId: 7n, producerEpoch: 0, baseSequence: 1, timestamps: [13, 14, 15] }), leaderAt(1));
  appendCommitted(leader, makeBatch({ producerId: 9n, producerEpoch: 2, baseSequence: 0, transactional: true, timestamps: [16] }), leaderAt(3));
  appendCommitted(leader, makeBatch({ producerId: 11n, producerEpoch: 0, baseSequence: 0, transactional: true, timestamps: [17, 18] }), leaderAt(3));
  leader.appendTxnMarker({ producerId: 9n, producerEpoch: 2, coordinatorEpoch: 4, committed: false }, 3);
  appendCommitted(leader, makeBatch({ producerId: 9n, producerEpoch: 2, baseSequence: 1, transactional: true, timestamps: [19] }), leaderAt(4));
  leader.appendTxnMarker({ producerId: 11n, producerEpoch: 0, coordinatorEpoch: 4, committed: true }, 4);
  // A marker for a producer with no open transaction here, and one still open at the end.
  leader.appendTxnMarker({ producerId: 12n, producerEpoch: 1, coordinatorEpoch: 5, committed: true }, 4);
  leader.highWatermark = leader.logEndOffset;
}

for (const [name, make] of implementations) {
  describe(`${name}: follower appends`, () => {
    test("replaying the leader's batches gives the same bytes, producer state, aborted transactions and epochs", () => {
      for (const maxBytes of [1, 200, 1 << 20]) {
        const { leader, follower: f, done } = make();
        try {
          writeLeaderHistory(leader);
          replicate(leader, f, maxBytes);
          const expected = snapshot(leader);
          assert.deepEqual(snapshot(f), expected, `reads of ${maxBytes} bytes`);
          assert.deepEqual(expected.epochs, [{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 6 }, { epoch: 4, startOffset: 10 }]);
          assert.equal(expected.aborted.length, 1);
          f.highWatermark = f.logEndOffset;
          assert.equal(f.lastStableOffset, leader.lastStableOffset);
          // Producer 9's transaction is open on both: a non-transactional write is refused alike.
          const nonTxn = () => makeBatch({ producerId: 9n, producerEpoch: 2, baseSequence: 2 });
          assert.throws(() => leader.append(nonTxn(), leaderAt(4)), { name: 'InvalidTxnStateError' });
          assert.throws(() => f.append(nonTxn(), leaderAt(4)), { name: 'InvalidTxnStateError' });
          // A retry of a batch the follower got from the leader is a duplicate once it leads.
          const retry = f.append(makeBatch({ producerId: 7n, producerEpoch: 0, baseSequence: 1, timestamps: [13, 14, 15] }), leaderAt(5));
          assert.deepEqual([retry.duplicate, retry.firstOffset, retry.lastOffset], [true, 3, 5]);
        } finally {
          done();
        }
      }
    });

    test('random leader histories replicated in random read sizes give the follower the leader\'s state (seeded)', () => {
      for (let seed = 1; seed <= 25; seed++) {
        let state = seed * 7919;
        const rand = (n: number): number => {
          state = (state * 1103515245 + 12345) % 2147483648;
          return state % n;
        };
        const { leader, follower: f, done } = make();
        try {
          let leaderEpoch = 0;
          const producers = [1n, 2n, 3n, 4n, 5n].map((id) => ({ id, epoch: 0, nextSeq: 0, transactional: id >= 4n, open: false }));
          for (let step = 0; step < 80; step++) {
            const op = rand(12);
            if (op === 0) leaderEpoch += 1 + rand(2);
            const p = producers[rand(producers.length)]!;
            const records = 1 + rand(4);
            const timestamps = Array.from({ length: records }, (_, i) => 1000 + step * 10 + i);
            if (op <= 5) {
              appendCommitted(leader, makeBatch({ timestamps }), leaderAt(leaderEpoch));
            } else if (op <= 8 || !p.transactional) {
              if (!p.open && rand(6) === 0) {
                p.epoch++; // a producer restart bumps its epoch; sequences start again
                p.nextSeq = 0;
              }
              appendCommitted(leader, makeBatch({ timestamps, producerId: p.id, producerEpoch: p.epoch, baseSequence: p.nextSeq, transactional: p.transactional }), leaderAt(leaderEpoch));
              p.nextSeq += records;
              if (p.transactional) p.open = true;
            } else {
              leader.appendTxnMarker({ producerId: p.id, producerEpoch: p.epoch, coordinatorEpoch: step >> 4, committed: rand(2) === 0 }, leaderEpoch);
              p.open = false;
            }
            // Now and then the follower catches up in the middle of the history.
            if (rand(10) === 0) replicate(leader, f, 1 + rand(600));
          }
          leader.highWatermark = leader.logEndOffset;
          replicate(leader, f, 1 + rand(2000));
          assert.deepEqual(snapshot(f), snapshot(leader), `seed ${seed}`);
        } finally {
          done();
        }
      }
    });

    test('the bytes stay as the leader wrote them: offsets, epochs and LogAppendTime are not patched', () => {
      const config = defaultLogConfig({ messageTimestampType: 'LogAppendTime' });
      const { leader, follower: f, done } = make(config);
      try {
        appendCommitted(leader, makeBatch({ timestamps: [1, 2] }), leaderAt(2));
        const r = leader.read(0, 1 << 20, leader.logEndOffset, true);
        const bytes = Buffer.from(r.records);
        const copy = Buffer.from(bytes);
        const result = f.append(bytes, follower);
        assert.deepEqual(bytes, copy, 'the caller buffer is untouched');
        assert.deepEqual([result.firstOffset, result.lastOffset, result.duplicate], [0, 1, false]);
        assert.deepEqual(f.read(0, 1 << 20, f.logEndOffset, true).records, copy);
        assert.equal(f.maxTimestampAndOffset()?.timestamp, 1_000_000); // the leader's clock, not the follower's
      } finally {
        done();
      }
    });

    test('an append below the log end, with offsets out of order, epochs going back or a bad CRC is refused; nothing is written', () => {
      const { leader, follower: f, done } = make();
      try {
        for (let i = 0; i < 3; i++) appendCommitted(leader, makeBatch(), leaderAt(i === 2 ? 5 : 4));
        const batches = [0, 1, 2].map((o) => Buffer.from(leader.read(o, 1, leader.logEndOffset, true).records));
        f.append(Buffer.from(batches[0]!), follower);
        const before = snapshot(f);
        const refused = (records: Buffer, reason: string) => {
          assert.throws(() => f.append(records, follower), (err: unknown) => err instanceof FollowerAppendError && err.reason === reason && err.logEndOffset === 1, reason);
          assert.deepEqual(snapshot(f), before, reason);
        };
        refused(Buffer.from(batches[0]!), 'unexpected-offset');
        refused(Buffer.concat([batches[2]!, batches[1]!]), 'offsets-out-of-order');
        const overlapping = Buffer.concat([batches[1]!, batches[1]!]);
        refused(overlapping, 'offsets-out-of-order');
        const olderEpoch = Buffer.concat([batches[1]!, batches[2]!]);
        olderEpoch.writeInt32BE(3, batches[1]!.length + PARTITION_LEADER_EPOCH_OFFSET); // 4 then 3
        refused(olderEpoch, 'epoch-out-of-order');
        const corrupt = Buffer.from(batches[1]!);
        corrupt.writeUInt32BE((corrupt.readUInt32BE(CRC_OFFSET) ^ 1) >>> 0, CRC_OFFSET);
        assert.throws(() => f.append(corrupt, follower), CorruptRecordError);
        assert.deepEqual(snapshot(f), before);
        f.append(Buffer.concat([batches[1]!, batches[2]!]), follower);
        assert.deepEqual(snapshot(f), snapshot(leader));
      } finally {
        done();
      }
    });

    test('a gap left by a compacted leader log is accepted: the log end follows the last batch', () => {
      const { follower: f, done } = make();
      try {
        const batch = makeBatch({ timestamps: [1, 2] });
        batch.writeBigInt64BE(10n, BASE_OFFSET_OFFSET);
        batch.writeInt32BE(2, PARTITION_LEADER_EPOCH_OFFSET);
        const r = f.append(batch, follower);
        assert.deepEqual([r.firstOffset, r.lastOffset, f.logEndOffset], [10, 11, 12]);
        assert.deepEqual(f.leaderEpochEntries(), [{ epoch: 2, startOffset: 10 }]);
        assert.deepEqual(batchBaseOffsets(f.read(10, 1 << 20, 12, true).records), [10]);
      } finally {
        done();
      }
    });
  });

  describe(`${name}: leader epoch cache`, () => {
    test('leader appends start epochs; truncateTo and deleteRecordsBefore cut the cache; endOffsetForEpoch answers from it', () => {
      const { leader: log, done } = make();
      try {
        log.assignLeaderEpoch(1);
        assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, endOffset: 0 });
        for (const epoch of [1, 1, 2, 2, 5]) appendCommitted(log, makeBatch({ timestamps: [1, 2] }), leaderAt(epoch));
        assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 4 }, { epoch: 5, startOffset: 8 }]);
        assert.deepEqual(log.endOffsetForEpoch(5), { epoch: 5, endOffset: 10 });
        assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 2, endOffset: 8 });
        assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 2, endOffset: 8 });
        assert.deepEqual(log.endOffsetForEpoch(0), { epoch: 0, endOffset: 0 });
        assert.deepEqual(log.endOffsetForEpoch(6), { epoch: -1, endOffset: -1 });
        assert.throws(() => log.append(makeBatch(), leaderAt(4)), /older than the latest epoch 5/);
        assert.equal(log.logEndOffset, 10);
        log.truncateTo(8);
        assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 4 }]);
        assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 2, endOffset: 8 });
        log.deleteRecordsBefore(5);
        assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 2, startOffset: 5 }]);
        appendCommitted(log, makeBatch(), leaderAt(6));
        log.assignLeaderEpoch(7);
        assert.deepEqual(log.leaderEpochEntries(), [{ epoch: 2, startOffset: 5 }, { epoch: 6, startOffset: 8 }, { epoch: 7, startOffset: 9 }]);
        log.appendTxnMarker({ producerId: 1n, producerEpoch: 0, coordinatorEpoch: 0, committed: true }, 8);
        assert.deepEqual(log.leaderEpochEntries().at(-1), { epoch: 8, startOffset: 9 }); // epoch 7 wrote nothing
        log.truncateTo(0);
        assert.deepEqual(log.leaderEpochEntries(), []);
      } finally {
        done();
      }
    });
  });
}

describe('PartitionLog: the leader-epoch-checkpoint file', () => {
  const config = defaultLogConfig({ segmentBytes: makeBatch({ timestamps: [1, 2] }).length * 2 });
  const open = (dir: string) => PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
  const checkpoint = (dir: string) => path.join(dir, 't-0', LEADER_EPOCH_CHECKPOINT_FILE);

  /** Epochs 1 (offsets 0-3), 2 (4-7), 5 (8-11), two records per batch, two batches per segment. */
  function writeEpochs(dir: string): PartitionLog {
    const log = open(dir);
    for (const epoch of [1, 1, 2, 2, 5, 5]) appendCommitted(log, makeBatch({ timestamps: [1, 2] }), leaderAt(epoch));
    return log;
  }
  const written = [{ epoch: 1, startOffset: 0 }, { epoch: 2, startOffset: 4 }, { epoch: 5, startOffset: 8 }];

  test('is written on change in Kafka format and read back at start-up; truncations and the log start persist', () => {
    const dir = tmpLogDir();
    try {
      const log = writeEpochs(dir);
      assert.equal(fs.readFileSync(checkpoint(dir), 'utf8'), '0\n3\n1 0\n2 4\n5 8\n');
      log.truncateTo(10);
      log.deleteRecordsBefore(5);
      log.close();
      const reopened = open(dir);
      assert.deepEqual(reopened.leaderEpochEntries(), [{ epoch: 2, startOffset: 5 }, { epoch: 5, startOffset: 8 }]);
      reopened.enforceRetention(0); // nothing expires; the cache is unchanged
      assert.deepEqual(reopened.leaderEpochEntries(), [{ epoch: 2, startOffset: 5 }, { epoch: 5, startOffset: 8 }]);
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });

  test('an epoch a new leader starts before any data is written to the file with the first data, not before', () => {
    const dir = tmpLogDir();
    try {
      const log = open(dir);
      log.assignLeaderEpoch(3);
      assert.equal(fs.existsSync(checkpoint(dir)), false, 'no fsync per partition when leadership arrives');
      assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 3, endOffset: 0 });
      appendCommitted(log, makeBatch(), leaderAt(3));
      assert.equal(fs.readFileSync(checkpoint(dir), 'utf8'), '0\n1\n3 0\n');
      log.assignLeaderEpoch(4);
      log.appendTxnMarker({ producerId: 1n, producerEpoch: 0, coordinatorEpoch: 0, committed: true }, 4);
      assert.equal(fs.readFileSync(checkpoint(dir), 'utf8'), '0\n2\n3 0\n4 1\n');
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  test('retention that deletes segments raises the first entry to the new log start', () => {
    const dir = tmpLogDir();
    try {
      const log = PartitionLog.open(dir, 't', 0, defaultLogConfig({ segmentBytes: config.segmentBytes, retentionMs: 100 }), new ManualClock(0));
      for (const epoch of [1, 1, 2, 2, 5, 5]) appendCommitted(log, makeBatch({ timestamps: [1, 2] }), leaderAt(epoch));
      log.enforceRetention(1000);
      assert.ok(log.logStartOffset > 0);
      assert.deepEqual(log.leaderEpochEntries()[0]!.startOffset, log.logStartOffset);
      assert.equal(fs.readFileSync(checkpoint(dir), 'utf8').split('\n')[2], `${log.leaderEpochEntries()[0]!.epoch} ${log.logStartOffset}`);
      log.close();
    } finally {
      cleanup(dir);
    }
  });

  for (const [what, damage] of [
    ['missing', (file: string) => fs.rmSync(file)],
    ['truncated', (file: string) => fs.truncateSync(file, 7)],
    ['garbage', (file: string) => fs.writeFileSync(file, Buffer.from([0xde, 0xad, 0xbe, 0xef, 0x0a, 0x00]))],
    ['wrong count', (file: string) => fs.writeFileSync(file, '0\n5\n1 0\n')],
  ] as const) {
    test(`a ${what} checkpoint is rebuilt from the batches' leader epochs at start-up, and rewritten`, () => {
      const dir = tmpLogDir();
      try {
        writeEpochs(dir).close();
        damage(checkpoint(dir));
        const reopened = open(dir);
        assert.deepEqual(reopened.leaderEpochEntries(), written);
        assert.equal(reopened.logEndOffset, 12);
        assert.equal(fs.readFileSync(checkpoint(dir), 'utf8'), '0\n3\n1 0\n2 4\n5 8\n');
        appendCommitted(reopened, makeBatch(), leaderAt(6));
        reopened.close();
      } finally {
        cleanup(dir);
      }
    });
  }

  test('after a crash that tore the tail, the cache never points past the recovered log end', () => {
    const dir = tmpLogDir();
    try {
      writeEpochs(dir); // no close: a kill -9
      // The last segment (offsets 8-11, epoch 5) loses everything but 20 bytes of its first batch.
      const last = path.join(dir, 't-0', `${String(8).padStart(20, '0')}.log`);
      fs.truncateSync(last, 20);
      const reopened = open(dir);
      assert.equal(reopened.logEndOffset, 8);
      assert.deepEqual(reopened.leaderEpochEntries(), written.slice(0, 2));
      assert.deepEqual(reopened.endOffsetForEpoch(2), { epoch: 2, endOffset: 8 });
      assert.deepEqual(reopened.endOffsetForEpoch(5), { epoch: -1, endOffset: -1 });
      // The crash also tore into epoch 2: a second kill -9 and a cut inside the segment at 4.
      const middle = path.join(dir, 't-0', `${String(4).padStart(20, '0')}.log`);
      fs.truncateSync(middle, 10);
      const again = open(dir);
      assert.equal(again.logEndOffset, 4);
      assert.deepEqual(again.leaderEpochEntries(), written.slice(0, 1));
      assert.equal(fs.readFileSync(checkpoint(dir), 'utf8'), '0\n1\n1 0\n');
      appendCommitted(again, makeBatch(), leaderAt(6));
      assert.deepEqual(again.leaderEpochEntries(), [{ epoch: 1, startOffset: 0 }, { epoch: 6, startOffset: 4 }]);
      again.close();
    } finally {
      cleanup(dir);
    }
  });

  test('follower-appended data reloads with the same epochs and producer state', () => {
    const dir = tmpLogDir();
    try {
      const leader = new MemoryPartitionLog('t', 0, config, new ManualClock(1_000));
      writeLeaderHistory(leader);
      const f = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      replicate(leader, f, 150);
      const expected = snapshot(leader);
      assert.deepEqual(snapshot(f), expected);
      f.close();
      const reopened = PartitionLog.open(dir, 't', 0, config, new ManualClock(0));
      assert.deepEqual(snapshot(reopened), expected);
      reopened.close();
    } finally {
      cleanup(dir);
    }
  });
});
