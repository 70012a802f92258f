import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../../protocol/errors.js';
import { CoordinatorRuntime, type CoordinatorLog, type CoordinatorShard } from './runtime.js';

/** A log whose high watermark moves only when the test says (a follower that lags). */
class ManualLog implements CoordinatorLog {
  readonly batches = new Map<number, Buffer[]>();
  readonly hwm = new Map<number, number>();
  failNext: number | null = null;
  append(partition: number, batch: Buffer) {
    if (this.failNext !== null) {
      const errorCode = this.failNext;
      this.failNext = null;
      return { errorCode, commitOffset: -1 };
    }
    const list = this.batches.get(partition) ?? [];
    list.push(batch);
    this.batches.set(partition, list);
    return { errorCode: ErrorCode.NONE, commitOffset: list.length };
  }
  highWatermark(partition: number) {
    return this.hwm.get(partition) ?? 0;
  }
  isEmpty(partition: number) {
    return (this.batches.get(partition) ?? []).length === 0;
  }
  readAll(partition: number) {
    return this.batches.get(partition) ?? [];
  }
}

/** A shard whose state is the list of strings replayed, per partition. */
class ListShard implements CoordinatorShard {
  readonly state = new Map<number, string[]>();
  readonly loading = new Map<number, string[]>();
  unloads = 0;
  replay(partition: number, batch: Buffer) {
    const l = this.loading.get(partition) ?? [];
    l.push(batch.toString());
    this.loading.set(partition, l);
  }
  loaded(partition: number) {
    this.state.set(partition, this.loading.get(partition) ?? []);
    this.loading.delete(partition);
  }
  unload(partition: number) {
    this.unloads++;
    this.state.delete(partition);
  }
}

function setup() {
  const log = new ManualLog();
  const shard = new ListShard();
  const deferred: (() => void)[] = [];
  const runtime = new CoordinatorRuntime(log, shard, { defer: (fn) => void deferred.push(fn) }, { maxQueuedEvents: 3, maxPendingWrites: 2 });
  const runDeferred = () => {
    let n = 0;
    while (deferred.length > 0) {
      deferred.shift()!();
      n++;
    }
    return n;
  };
  return { log, shard, runtime, runDeferred };
}

test('a write settles only when the high watermark passes it, in order', () => {
  const { log, runtime } = setup();
  runtime.becomeLeader(3, 0);
  const outcomes: string[] = [];
  const a = runtime.write(3, Buffer.from('a'));
  const b = runtime.write(3, Buffer.from('b'));
  a.onSettled((c) => outcomes.push(`a:${c}`));
  b.onSettled((c) => outcomes.push(`b:${c}`));
  assert.equal(a.appendError, ErrorCode.NONE);
  assert.deepEqual(outcomes, [], 'appended is not committed');
  log.hwm.set(3, 1);
  runtime.onHighWatermark(3, 1);
  assert.deepEqual(outcomes, ['a:0']);
  log.hwm.set(3, 2);
  runtime.onHighWatermark(3, 2);
  assert.deepEqual(outcomes, ['a:0', 'b:0']);
  assert.equal(runtime.pendingWrites, 0);
});

test('losing the partition fails the waiting writes with NOT_COORDINATOR and unloads its state', () => {
  const { runtime, shard } = setup();
  runtime.becomeLeader(1, 0);
  const t = runtime.write(1, Buffer.from('x'));
  runtime.resign(1);
  assert.equal(t.settled, true);
  assert.equal(t.errorCode, ErrorCode.NOT_COORDINATOR);
  assert.equal(shard.unloads, 1);
  assert.equal(runtime.errorFor(1), ErrorCode.NOT_COORDINATOR);
  assert.equal(runtime.write(1, Buffer.from('y')).errorCode, ErrorCode.NOT_COORDINATOR);
});

test('a refused append fails its ticket at once; too many waiting writes are refused before appending', () => {
  const { log, runtime } = setup();
  runtime.becomeLeader(0, 0);
  log.failNext = ErrorCode.KAFKA_STORAGE_ERROR;
  const failed = runtime.write(0, Buffer.from('a'));
  assert.equal(failed.appendError, ErrorCode.KAFKA_STORAGE_ERROR);
  runtime.write(0, Buffer.from('b'));
  runtime.write(0, Buffer.from('c'));
  const refused = runtime.write(0, Buffer.from('d'));
  assert.equal(refused.appendError, ErrorCode.COORDINATOR_NOT_AVAILABLE);
  assert.equal(log.batches.get(0)!.length, 2, 'the refused write was not appended');
});

test('loading replays the partition a chunk per turn; requests meanwhile get COORDINATOR_LOAD_IN_PROGRESS', () => {
  const { log, runtime, shard, runDeferred } = setup();
  for (const s of ['r1', 'r2', 'r3']) log.append(7, Buffer.from(s));
  runtime.becomeLeader(7, 1);
  assert.equal(runtime.isLeader(7), true, 'FindCoordinator answers from leadership, loaded or not');
  assert.equal(runtime.errorFor(7), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(runtime.submit(7, () => assert.fail('must not run while loading')), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.equal(runtime.write(7, Buffer.from('no')).appendError, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  assert.ok(runDeferred() >= 3, 'one chunk per turn');
  assert.equal(runtime.errorFor(7), ErrorCode.NONE);
  assert.deepEqual(shard.state.get(7), ['r1', 'r2', 'r3']);
});

test('unload then reload gives the same state', () => {
  const { log, runtime, shard, runDeferred } = setup();
  runtime.becomeLeader(2, 0);
  for (const s of ['a', 'b']) runtime.write(2, Buffer.from(s));
  runtime.resign(2);
  runtime.becomeLeader(2, 1);
  runDeferred();
  assert.deepEqual(shard.state.get(2), ['a', 'b']);
  // A new epoch reloads, and so does loadAllNow at start-up.
  runtime.becomeLeader(2, 2);
  runtime.loadAllNow();
  assert.deepEqual(shard.state.get(2), ['a', 'b']);
  assert.equal(log.batches.get(2)!.length, 2);
});

test('a resignation during the load stops it; the stale load never finishes', () => {
  const { log, runtime, shard, runDeferred } = setup();
  log.append(4, Buffer.from('old'));
  runtime.becomeLeader(4, 0);
  runtime.resign(4);
  runDeferred();
  assert.equal(shard.state.has(4), false);
  assert.equal(runtime.errorFor(4), ErrorCode.NOT_COORDINATOR);
});

test('events of a partition run one after the other: one submitted inside another waits its turn; the queue is bounded', () => {
  const { runtime } = setup();
  runtime.becomeLeader(5, 0);
  const order: string[] = [];
  runtime.submit(5, () => {
    order.push('first:start');
    assert.equal(runtime.submit(5, () => order.push('second')), ErrorCode.NONE);
    assert.equal(runtime.submit(5, () => order.push('third')), ErrorCode.NONE);
    assert.equal(runtime.submit(5, () => order.push('fourth')), ErrorCode.NONE);
    assert.equal(runtime.submit(5, () => order.push('fifth')), ErrorCode.COORDINATOR_NOT_AVAILABLE, 'three queued events is the bound');
    order.push('first:end');
  });
  assert.deepEqual(order, ['first:start', 'first:end', 'second', 'third', 'fourth']);
});
