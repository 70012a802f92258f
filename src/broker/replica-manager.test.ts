import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loggerFor } from '../logger.js';
import { ErrorCode } from '../protocol/errors.js';
import { defaultLogConfig } from '../storage/config.js';
import { LogManager } from '../storage/log-manager.js';
import { makeBatch } from '../storage/test-helpers.js';
import type { PartitionImage } from '../metadata/image.js';
import { partitionStates } from './handlers/partition-state.js';
import { ReplicaManager, type HostedPartition, type LogWorkScheduler, type PartitionAssignment } from './replica-manager.js';

/** A scheduler driven by the test: deferred work runs only when asked; each job costs 1 ms. */
function manualScheduler(): LogWorkScheduler & { runDeferred(): number; clock: number } {
  const deferred: (() => void)[] = [];
  const s = {
    clock: 0,
    nowMs: () => (s.clock += 1),
    defer: (fn: () => void) => void deferred.push(fn),
    runDeferred(): number {
      const fns = deferred.splice(0);
      for (const fn of fns) fn();
      return fns.length;
    },
  };
  return s;
}

function setup() {
  const logs = LogManager.open({ logDirs: [], inMemory: true, defaultConfig: defaultLogConfig() });
  const scheduler = manualScheduler();
  const replicas = new ReplicaManager(logs, loggerFor('test'), 100, scheduler);
  const assignment = (topic: string, partition: number): PartitionAssignment => ({
    topic, topicId: `${topic}-id`, partition, leaderEpoch: 0, config: defaultLogConfig(), minInsyncReplicas: 1, isrSize: 1, recordRules: null,
  });
  return { logs, scheduler, replicas, assignment };
}

test('thousands of new partitions get their logs in bounded slices, not in one go', () => {
  const { scheduler, replicas, assignment } = setup();
  for (let p = 0; p < 1000; p++) replicas.assign(assignment('many', p));
  assert.equal(replicas.get('many', 0), undefined, 'nothing is created inside the change itself');
  assert.equal(replicas.pendingLogWork, 1000);
  let slices = 0;
  while (scheduler.runDeferred() > 0) slices++;
  assert.ok(slices >= 100, `a 5 ms budget at 1 ms a job takes many slices (${slices})`);
  assert.equal(replicas.pendingLogWork, 0);
  assert.notEqual(replicas.get('many', 999), undefined);
});

test('Metadata answers LEADER_NOT_AVAILABLE with no leader for a partition led here until its log exists', () => {
  const { scheduler, replicas, assignment } = setup();
  for (let p = 0; p < 3; p++) replicas.assign(assignment('slow', p));
  const image: PartitionImage[] = [0, 1, 2].map((partitionId) => ({ partitionId, leader: 1, leaderEpoch: 0, partitionEpoch: 0, replicas: [1], isr: [1] }));
  // Led by another node: nothing is known here about its log, so the image is answered as it is.
  const elsewhere = partitionStates({ nodeId: 2, replicas }, 'slow', image);
  assert.deepEqual(elsewhere.map((p) => [p.errorCode, p.leaderId]), [[ErrorCode.NONE, 1], [ErrorCode.NONE, 1], [ErrorCode.NONE, 1]]);
  const before = partitionStates({ nodeId: 1, replicas }, 'slow', image);
  assert.deepEqual(before.map((p) => [p.errorCode, p.leaderId]), [[ErrorCode.LEADER_NOT_AVAILABLE, -1], [ErrorCode.LEADER_NOT_AVAILABLE, -1], [ErrorCode.LEADER_NOT_AVAILABLE, -1]]);
  assert.equal(before[0]!.leaderEpoch, 0);
  while (scheduler.runDeferred() > 0);
  const after = partitionStates({ nodeId: 1, replicas }, 'slow', image);
  assert.deepEqual(after.map((p) => [p.errorCode, p.leaderId]), [[ErrorCode.NONE, 1], [ErrorCode.NONE, 1], [ErrorCode.NONE, 1]]);
});

test('a deleted topic stops being served at once; its data never comes back under the same name', async () => {
  const { logs, scheduler, replicas, assignment } = setup();
  replicas.assign(assignment('t', 0), { now: true });
  const hosted = replicas.get('t', 0)!;
  assert.equal(replicas.append('t', 0, makeBatch(), 1, true).errorCode, ErrorCode.NONE);
  let woken = false;
  const parked = replicas.waitForData([hosted], 1_000_000, 60_000).then(() => (woken = true));
  replicas.unassignTopic('t');
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(woken, true, 'a fetch parked on the partition is woken by the deletion, not by its 60 s timer');
  await parked;
  assert.equal(replicas.read(hosted, 0, 1 << 20, false, true).errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  assert.equal(replicas.get('t', 0), undefined);
  assert.notEqual(logs.get('t', 0), undefined, 'the data is deleted by the queue, later');
  // Created again before the queue ran: the old data goes first.
  replicas.assign({ ...assignment('t', 0), topicId: 'new-id' }, { now: true });
  const again = replicas.get('t', 0)!;
  assert.equal(again.store.logEndOffset, 0);
  assert.equal(replicas.read(again, 0, 1 << 20, false, true).result!.records.length, 0);
  while (scheduler.runDeferred() > 0);
  assert.equal(replicas.get('t', 0), again, 'the queued deletion did not touch the new log');
});

test('a log closed under a reader answers a retriable error instead of throwing', () => {
  const { logs, replicas, assignment } = setup();
  replicas.assign(assignment('c', 0), { now: true });
  const hosted = replicas.get('c', 0)!;
  logs.close();
  assert.equal(replicas.read(hosted, 0, 1 << 20, false, true).errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
});

test('the replica manager moves the high watermark after the append; acks=all on a single node is committed at once', async () => {
  const { replicas, assignment } = setup();
  replicas.assign(assignment('h', 0), { now: true });
  const hosted = replicas.get('h', 0)!;
  const moves: number[] = [];
  const leaders: number[] = [];
  replicas.watchTopic('h', {
    becameLeader: (p) => leaders.push(p.partition),
    resigned: () => assert.fail('not resigned'),
    highWatermark: (p, hwm) => {
      assert.equal(p, hosted);
      moves.push(hwm);
    },
  });
  assert.deepEqual(leaders, [0], 'a partition hosted before the watch is announced');
  const batch = makeBatch();
  const r = replicas.append('h', 0, batch, -1, true);
  assert.equal(r.errorCode, ErrorCode.NONE);
  assert.equal(r.commitOffset, hosted.store.logEndOffset);
  assert.equal(hosted.store.highWatermark, hosted.store.logEndOffset);
  assert.deepEqual(moves, [hosted.store.logEndOffset]);
  assert.equal(replicas.isCommitted(r), true);
  assert.deepEqual(await replicas.awaitCommitted([r], 1_000), [ErrorCode.NONE]);
  assert.equal(replicas.delayedProduceCount, 0);
});

test('a parked fetch wakes when the high watermark passes enough bytes', async () => {
  const { replicas, assignment } = setup();
  replicas.assign(assignment('w', 0), { now: true });
  const hosted = replicas.get('w', 0)!;
  const batch = makeBatch();
  let woken = false;
  const parked = replicas.waitForData([hosted], batch.length * 2, 60_000).then(() => (woken = true));
  replicas.append('w', 0, makeBatch(), 1, true);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(woken, false, 'one batch is fewer than MinBytes');
  replicas.append('w', 0, makeBatch(), 1, true);
  await parked;
  assert.equal(woken, true);
});

/** A replica manager whose ISR has a follower that the test moves (the replication seam). */
class WithFollower extends ReplicaManager {
  followerLogEnd = 0;
  protected override isrMinimumLogEnd(hosted: HostedPartition): number {
    return Math.min(hosted.store.logEndOffset, this.followerLogEnd);
  }
}

function setupWithFollower() {
  const logs = LogManager.open({ logDirs: [], inMemory: true, defaultConfig: defaultLogConfig() });
  let now = 0;
  const timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const delayScheduler = {
    nowMs: () => now,
    setTimer(delayMs: number, fn: () => void) {
      const t = { at: now + delayMs, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
  };
  const advance = (ms: number) => {
    now += ms;
    for (const t of timers) {
      if (t.cancelled || t.at > now) continue;
      t.cancelled = true;
      t.fn();
    }
  };
  const replicas = new WithFollower(logs, loggerFor('test'), 100, manualScheduler(), Date.now, 100, delayScheduler);
  replicas.assign({ topic: 'r', topicId: 'r-id', partition: 0, leaderEpoch: 0, config: defaultLogConfig(), minInsyncReplicas: 1, isrSize: 2, recordRules: null }, { now: true });
  return { replicas, hosted: replicas.get('r', 0)!, advance };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('with a lagging follower, acks=all waits for the high watermark; acks=1 does not', async () => {
  const { replicas, hosted } = setupWithFollower();
  const one = replicas.append('r', 0, makeBatch(), 1, true);
  assert.equal(one.errorCode, ErrorCode.NONE, 'acks=1 is answered after the leader append');
  assert.equal(hosted.store.highWatermark, 0, 'the follower has nothing yet');
  const all = replicas.append('r', 0, makeBatch(), -1, true);
  assert.equal(replicas.isCommitted(all), false);
  let codes: number[] | null = null;
  void replicas.awaitCommitted([all], 30_000).then((c) => (codes = c));
  await turn();
  assert.equal(codes, null);
  assert.equal(replicas.delayedProduceCount, 1);
  replicas.followerLogEnd = one.commitOffset;
  replicas.updateHighWatermark(hosted);
  await turn();
  assert.equal(codes, null, 'the follower has the first batch only');
  replicas.followerLogEnd = all.commitOffset;
  replicas.updateHighWatermark(hosted);
  await turn();
  assert.deepEqual(codes, [ErrorCode.NONE]);
  assert.equal(replicas.delayedProduceCount, 0);
});

test('with a lagging follower, acks=all times out with REQUEST_TIMED_OUT', async () => {
  const { replicas, advance } = setupWithFollower();
  const all = replicas.append('r', 0, makeBatch(), -1, true);
  const parked = replicas.awaitCommitted([all], 1_000);
  advance(1_000);
  assert.deepEqual(await parked, [ErrorCode.REQUEST_TIMED_OUT]);
});

test('a parked fetch is not woken by an append the high watermark has not reached', async () => {
  const { replicas, hosted } = setupWithFollower();
  let woken = false;
  const parked = replicas.waitForData([hosted], 1, 60_000).then(() => (woken = true));
  const r = replicas.append('r', 0, makeBatch(), 1, true);
  await turn();
  assert.equal(woken, false, 'appended, not committed: nothing a consumer may read yet');
  replicas.followerLogEnd = r.commitOffset;
  replicas.updateHighWatermark(hosted);
  await parked;
  assert.equal(woken, true);
});

test('writeMarkers: one code per marker, the listener told of each committed one, fencing as Kafka answers', async () => {
  const { replicas, assignment } = setup();
  replicas.assign(assignment('t', 0), { now: true });
  replicas.assign(assignment('__consumer_offsets', 3), { now: true });
  const txnBatch = makeBatch({ producerId: 5n, producerEpoch: 1, baseSequence: 0, transactional: true });
  assert.equal(replicas.append('t', 0, txnBatch, -1, true).errorCode, ErrorCode.NONE);
  const hosted = replicas.get('t', 0)!;
  assert.equal(hosted.store.lastStableOffset, 0);
  const heard: string[] = [];
  replicas.onTxnMarkerWritten((w) => heard.push(`${w.topic}-${w.partition}:${w.producerId}:${w.committed ? 'commit' : 'abort'}@${w.offset}`));
  const m = { producerId: 5n, producerEpoch: 1, coordinatorEpoch: 2, committed: true };
  const codes = await replicas.writeMarkers([
    { topic: 't', partition: 0, ...m },
    { topic: '__consumer_offsets', partition: 3, ...m },
    { topic: 'missing', partition: 0, ...m },
  ]);
  assert.deepEqual(codes, [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]);
  assert.deepEqual(heard, ['t-0:5:commit@1', '__consumer_offsets-3:5:commit@0']);
  assert.equal(hosted.store.lastStableOffset, 2, 'the transaction is closed');
  assert.equal(hosted.store.highWatermark, 2);
  const fenced = await replicas.writeMarkers([
    { topic: 't', partition: 0, ...m, coordinatorEpoch: 1 },
    { topic: 't', partition: 0, ...m, producerEpoch: 0 },
  ]);
  assert.deepEqual(fenced, [ErrorCode.TRANSACTION_COORDINATOR_FENCED, ErrorCode.INVALID_PRODUCER_EPOCH]);
  assert.equal(heard.length, 2, 'refused markers are not announced');
  assert.equal(hosted.store.logEndOffset, 2, 'nor written');
});

test('read_committed reads stop at the last stable offset and name the aborted transactions they overlap', async () => {
  const { replicas, assignment } = setup();
  replicas.assign(assignment('t', 0), { now: true });
  const hosted = replicas.get('t', 0)!;
  const txn = (pid: bigint, seq: number) => makeBatch({ producerId: pid, producerEpoch: 0, baseSequence: seq, transactional: true });
  const abort = (pid: bigint) => replicas.writeMarkers([{ topic: 't', partition: 0, producerId: pid, producerEpoch: 0, coordinatorEpoch: 0, committed: false }]);
  replicas.append('t', 0, txn(1n, 0), 1, true); // 0
  replicas.append('t', 0, txn(2n, 0), 1, true); // 1
  assert.deepEqual(await abort(1n), [ErrorCode.NONE]); // 2
  replicas.append('t', 0, makeBatch(), 1, true); // 3
  const uncommitted = replicas.read(hosted, 0, 1 << 20, false, true);
  assert.equal(uncommitted.abortedTransactions, null);
  const committed = replicas.read(hosted, 0, 1 << 20, true, true);
  assert.equal(committed.result!.lastStableOffset, 1, 'producer 2 is still open');
  assert.equal(committed.result!.records.readInt32BE(8) + 12, committed.result!.records.length, 'one batch only: the one at 0');
  assert.deepEqual(committed.abortedTransactions!.map((a) => [a.producerId, a.firstOffset]), [[1n, 0]], 'its abort marker lies above, but the index knows it');
  assert.deepEqual(await abort(2n), [ErrorCode.NONE]); // 4
  const all = replicas.read(hosted, 0, 1 << 20, true, true);
  assert.equal(all.result!.lastStableOffset, 5);
  assert.deepEqual(all.abortedTransactions!.map((a) => [a.producerId, a.firstOffset]), [[1n, 0], [2n, 1]]);
  assert.deepEqual(replicas.read(hosted, 3, 1 << 20, true, true).abortedTransactions!.map((a) => a.producerId), [2n], 'from 3 on, only the abort at 4');
  const firstOnly = replicas.read(hosted, 0, 1, true, true);
  assert.deepEqual(firstOnly.abortedTransactions!.map((a) => a.producerId), [1n], 'a read of one batch only names what it overlaps');
});

test('a parked read_committed fetch is not woken by records an open transaction holds back, and is by their marker', async () => {
  const { replicas, assignment } = setup();
  replicas.assign(assignment('t', 0), { now: true });
  const hosted = replicas.get('t', 0)!;
  const tick = () => new Promise((resolve) => setImmediate(resolve));
  let committedWoken = false;
  let uncommittedWoken = false;
  const committed = replicas.waitForData([hosted], 1, 60_000, true).then(() => (committedWoken = true));
  const uncommitted = replicas.waitForData([hosted], 1, 60_000, false).then(() => (uncommittedWoken = true));
  replicas.append('t', 0, makeBatch({ producerId: 3n, producerEpoch: 0, baseSequence: 0, transactional: true }), 1, true);
  await tick();
  assert.equal(uncommittedWoken, true);
  assert.equal(committedWoken, false, 'nothing readable for read_committed yet');
  await uncommitted;
  await replicas.writeMarkers([{ topic: 't', partition: 0, producerId: 3n, producerEpoch: 0, coordinatorEpoch: 0, committed: true }]);
  await tick();
  assert.equal(committedWoken, true);
  await committed;
  let plainWoken = false;
  const plain = replicas.waitForData([hosted], 1, 60_000, true).then(() => (plainWoken = true));
  replicas.append('t', 0, makeBatch(), 1, true);
  await tick();
  assert.equal(plainWoken, true, 'records outside transactions count at once');
  await plain;
});

test('a marker for a partition short of min.insync.replicas is NOT_ENOUGH_REPLICAS and is not written', async () => {
  const { replicas, assignment } = setup();
  replicas.assign({ ...assignment('t', 0), minInsyncReplicas: 2 }, { now: true });
  const codes = await replicas.writeMarkers([{ topic: 't', partition: 0, producerId: 1n, producerEpoch: 0, coordinatorEpoch: 0, committed: true }]);
  assert.deepEqual(codes, [ErrorCode.NOT_ENOUGH_REPLICAS]);
  assert.equal(replicas.get('t', 0)!.store.logEndOffset, 0);
});

test('a partition that becomes leader starts its leader epoch at the log end, before any data (OffsetForLeaderEpoch knows it)', () => {
  const { replicas, assignment } = setup();
  replicas.assign(assignment('t', 0), { now: true });
  const store = replicas.get('t', 0)!.store;
  assert.deepEqual(store.endOffsetForEpoch(0), { epoch: 0, endOffset: 0 });
  assert.equal(replicas.append('t', 0, makeBatch(), 1, true).errorCode, ErrorCode.NONE);
  assert.equal(replicas.append('t', 0, makeBatch(), 1, true).errorCode, ErrorCode.NONE);
  replicas.assign({ ...assignment('t', 0), leaderEpoch: 3 });
  assert.deepEqual(store.leaderEpochEntries(), [{ epoch: 0, startOffset: 0 }, { epoch: 3, startOffset: 2 }]);
  assert.deepEqual(store.endOffsetForEpoch(0), { epoch: 0, endOffset: 2 });
  assert.deepEqual(store.endOffsetForEpoch(2), { epoch: 0, endOffset: 2 });
  assert.deepEqual(store.endOffsetForEpoch(3), { epoch: 3, endOffset: 2 });
  assert.equal(replicas.append('t', 0, makeBatch(), 1, true).errorCode, ErrorCode.NONE);
  assert.deepEqual(store.endOffsetForEpoch(3), { epoch: 3, endOffset: 3 });
  assert.deepEqual(store.leaderEpochEntries().length, 2);
});
