// The core's copy of the log shape: the leader-epoch cache lookups that divergence detection
// relies on, reads across written and pending batches, and truncation at both ends.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRaftStorage } from './memory-raft-storage.js';
import { LocalLog, RaftInvariantError } from './raft-log.js';
import type { RaftBatch } from './types.js';

function batch(baseOffset: number, recordCount: number, epoch: number, bytes = 10): RaftBatch {
  return { baseOffset, lastOffset: baseOffset + recordCount - 1, epoch, appendTimeMs: 0, data: Buffer.alloc(bytes) };
}

function storage(batches: RaftBatch[]): MemoryRaftStorage {
  const s = new MemoryRaftStorage();
  for (const b of batches) s.write({ type: 'append', batch: b });
  s.sync();
  return s;
}

// Epochs: 1 at [0, 5), 3 at [5, 8), 4 at [8, 10).
const shape = () => [batch(0, 2, 1), batch(2, 3, 1), batch(5, 3, 3), batch(8, 2, 4)];

test('the end offset of an epoch is the start of the next larger epoch, for the largest epoch not above it', () => {
  const log = new LocalLog(storage(shape()));
  assert.deepEqual(log.endOffsetForEpoch(0), { epoch: 0, offset: 0 });
  assert.deepEqual(log.endOffsetForEpoch(1), { epoch: 1, offset: 5 });
  assert.deepEqual(log.endOffsetForEpoch(2), { epoch: 1, offset: 5 }, 'epoch 2 never wrote here: the last epoch before it');
  assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 3, offset: 8 });
  assert.deepEqual(log.endOffsetForEpoch(9), { epoch: 4, offset: 10 });
  assert.deepEqual([log.epochAt(0), log.epochAt(4), log.epochAt(5), log.epochAt(9)], [1, 1, 3, 4]);
  assert.equal(log.lastEpoch(), 4);
});

test('after a snapshot the epochs below the log start are unknown, and the start epoch answers for the rest', () => {
  const s = storage(shape());
  const log = new LocalLog(s);
  s.writeSnapshot({ endOffset: 8, epoch: 3 }, Buffer.from('state at 8')); // the driver writes it first
  log.truncatePrefix({ endOffset: 8, epoch: 3 });
  for (const op of log.takeOps()) s.write(op);
  log.assertMatches(s);
  assert.deepEqual(s.logStart(), { offset: 8, epoch: 3 });
  assert.deepEqual(s.epochStarts(), [{ epoch: 4, startOffset: 8 }]);
  assert.equal(log.endOffsetForEpoch(1), undefined);
  assert.deepEqual(log.endOffsetForEpoch(3), { epoch: 3, offset: 8 });
  assert.deepEqual(log.endOffsetForEpoch(4), { epoch: 4, offset: 10 });
  assert.equal(log.epochAt(7), 3);
  assert.deepEqual(log.read(8, 100).map((b) => b.baseOffset), [8]);
  assert.throws(() => log.read(5, 100), RaftInvariantError, 'below the log start');
});

test('reads join written batches and batches appended since the last Ready, honouring truncation in between', () => {
  const s = storage(shape());
  const log = new LocalLog(s);
  log.truncateTo(5);
  log.append(batch(5, 1, 6, 30));
  log.append(batch(6, 1, 6, 30));
  assert.deepEqual(log.read(2, 1000).map((b) => [b.baseOffset, b.epoch]), [[2, 1], [5, 6], [6, 6]]);
  assert.deepEqual(log.read(0, 15).map((b) => b.baseOffset), [0], 'maxBytes stops before the batch that would pass it');
  assert.deepEqual(log.read(5, 1).map((b) => b.baseOffset), [5], 'but one batch always comes');
  assert.deepEqual(log.endOffsetForEpoch(4), { epoch: 1, offset: 5 });
  for (const op of log.takeOps()) s.write(op);
  log.assertMatches(s);
  assert.deepEqual(log.read(5, 1000).map((b) => b.baseOffset), [5, 6]);
});

test('appends and truncations that break the log shape throw', () => {
  const log = new LocalLog(storage(shape()));
  assert.throws(() => log.append(batch(11, 1, 4)), RaftInvariantError, 'a gap');
  assert.throws(() => log.append(batch(10, 1, 3)), RaftInvariantError, 'an older epoch after a newer one');
  assert.throws(() => log.truncateTo(11), RaftInvariantError, 'past the end');
  log.append(batch(10, 3, 4));
  assert.throws(() => log.truncateTo(11), RaftInvariantError, 'inside a pending batch');
});
