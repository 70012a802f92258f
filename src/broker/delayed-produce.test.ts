import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../protocol/errors.js';
import { DelayedProducePurgatory, type DelayScheduler } from './delayed-produce.js';

/** A clock and timers moved by the test; counts the timers armed so "one timer" is checkable. */
function manualTimers(): DelayScheduler & { advance(ms: number): void; armed: number; live: number } {
  let now = 0;
  let timers: { at: number; fn: () => void; cancelled: boolean }[] = [];
  const s = {
    armed: 0,
    get live() {
      return timers.filter((t) => !t.cancelled).length;
    },
    nowMs: () => now,
    setTimer(delayMs: number, fn: () => void) {
      s.armed++;
      const t = { at: now + delayMs, fn, cancelled: false };
      timers.push(t);
      return { cancel: () => void (t.cancelled = true) };
    },
    advance(ms: number) {
      now += ms;
      const due = timers.filter((t) => !t.cancelled && t.at <= now);
      timers = timers.filter((t) => !due.includes(t) && !t.cancelled);
      for (const t of due) t.fn();
    },
  };
  return s;
}

interface FakePartition {
  name: string;
  hwm: number;
}

function setup(maxParked = 100) {
  const timers = manualTimers();
  const purgatory = new DelayedProducePurgatory<FakePartition>(timers, maxParked, (p) => p.hwm);
  const a: FakePartition = { name: 'a', hwm: 0 };
  const b: FakePartition = { name: 'b', hwm: 0 };
  const advance = (p: FakePartition, hwm: number) => {
    p.hwm = hwm;
    purgatory.onHighWatermark(p, hwm);
  };
  return { timers, purgatory, a, b, advance };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

test('a parked acks=all request completes only once every partition\'s high watermark passes its batch', async () => {
  const { purgatory, a, b, advance } = setup();
  let codes: number[] | null = null;
  void purgatory.park([{ partition: a, offset: 5 }, { partition: b, offset: 3 }], 30_000)!.then((c) => (codes = c));
  advance(a, 4);
  advance(b, 3);
  await tick();
  assert.equal(codes, null, 'a is still one offset short');
  advance(a, 5);
  await tick();
  assert.deepEqual(codes, [ErrorCode.NONE, ErrorCode.NONE]);
  assert.equal(purgatory.size, 0);
  assert.equal(purgatory.hasWaiters(a), false);
});

test('the timeout answers REQUEST_TIMED_OUT for the partitions still short, NONE for the others', async () => {
  const { timers, purgatory, a, b, advance } = setup();
  let codes: number[] | null = null;
  void purgatory.park([{ partition: a, offset: 1 }, { partition: b, offset: 1 }], 1_000)!.then((c) => (codes = c));
  advance(b, 1);
  timers.advance(999);
  await tick();
  assert.equal(codes, null);
  timers.advance(1);
  await tick();
  assert.deepEqual(codes, [ErrorCode.REQUEST_TIMED_OUT, ErrorCode.NONE]);
  assert.equal(purgatory.hasWaiters(a), false, 'the expired wait left the partition');
});

test('one timer serves all parked requests: it is re-armed for the earliest deadline, not one per request', async () => {
  const { timers, purgatory, a } = setup();
  const done: number[] = [];
  for (let i = 0; i < 50; i++) void purgatory.park([{ partition: a, offset: 1 }], 10_000 + (i % 5) * 1_000)!.then(() => done.push(i));
  assert.equal(timers.live, 1, 'one live timer for 50 parked requests');
  assert.equal(timers.armed, 1, 'later deadlines do not re-arm it');
  timers.advance(10_000);
  await tick();
  assert.equal(done.length, 10, 'the ten requests with the earliest deadline expired');
  assert.equal(timers.live, 1);
  timers.advance(4_000);
  await tick();
  assert.equal(done.length, 50);
  assert.equal(timers.live, 0);
});

test('an earlier deadline re-arms the timer; completing every request cancels it', async () => {
  const { timers, purgatory, a, advance } = setup();
  void purgatory.park([{ partition: a, offset: 1 }], 10_000);
  let early: number[] | null = null;
  void purgatory.park([{ partition: a, offset: 2 }], 100)!.then((c) => (early = c));
  timers.advance(100);
  await tick();
  assert.deepEqual(early, [ErrorCode.REQUEST_TIMED_OUT]);
  advance(a, 1);
  await tick();
  assert.equal(purgatory.size, 0);
  assert.equal(timers.live, 0, 'no timer left once nothing is parked');
});

test('the purgatory is bounded: past maxParked a request is not parked', () => {
  const { purgatory, a } = setup(2);
  assert.notEqual(purgatory.park([{ partition: a, offset: 1 }], 1_000), null);
  assert.notEqual(purgatory.park([{ partition: a, offset: 1 }], 1_000), null);
  assert.equal(purgatory.park([{ partition: a, offset: 1 }], 1_000), null);
  assert.equal(purgatory.size, 2);
});

test('an already committed request is answered without parking, even when full', async () => {
  const { purgatory, a } = setup(0);
  a.hwm = 10;
  assert.deepEqual(await purgatory.park([{ partition: a, offset: 10 }], 1_000)!, [ErrorCode.NONE]);
});

test('losing the partition answers NOT_LEADER_OR_FOLLOWER', async () => {
  const { purgatory, a, b, advance } = setup();
  const parked = purgatory.park([{ partition: a, offset: 1 }, { partition: b, offset: 1 }], 1_000)!;
  advance(b, 1);
  purgatory.onPartitionLost(a);
  assert.deepEqual(await parked, [ErrorCode.NOT_LEADER_OR_FOLLOWER, ErrorCode.NONE]);
  assert.equal(purgatory.size, 0);
});
