import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerMutationQuota, MAX_THROTTLE_DELAY_MS, throttledResponse } from './controller-mutation-quota.js';

function quotaAt(rate: number) {
  const clock = { now: 1_000_000 };
  const quota = new ControllerMutationQuota({ ratePerSecond: rate, windowNum: 11, windowSizeSeconds: 1 }, () => clock.now);
  return { clock, quota };
}

test('strict: admitted while the bucket is not negative, then refused with the time to refill', () => {
  const { clock, quota } = quotaAt(10); // burst 10 * 11 * 1 = 110
  const request = quota.forRequest(true);
  assert.equal(request.tryRecord(100), true);
  assert.equal(request.tryRecord(30), true, 'the bucket (10 left) may go negative for one topic');
  assert.equal(quota.available(), -20);
  assert.equal(request.throttleTimeMs(), 0, 'admitted topics are not throttled');
  assert.equal(request.tryRecord(1), false);
  assert.equal(request.throttleTimeMs(), 2000, '20 tokens at 10/s');
  clock.now += 500;
  assert.equal(request.throttleTimeMs(), 1500, 'the throttle time counts down from when it was recorded');
  clock.now += 1500;
  assert.equal(quota.forRequest(true).tryRecord(1), true, 'back at zero after 2 s');
  clock.now += 3_600_000;
  assert.equal(quota.available(), 110, 'never more than the burst');
});

test('permissive (older versions): always admitted, the throttle time says how far below zero', () => {
  const { quota } = quotaAt(100); // burst 1100
  const request = quota.forRequest(false);
  assert.equal(request.tryRecord(1000), true);
  assert.equal(request.throttleTimeMs(), 0);
  assert.equal(request.tryRecord(300), true);
  assert.equal(request.throttleTimeMs(), 2000, '200 tokens short at 100/s');
  assert.equal(quota.forRequest(true).tryRecord(1), false, 'a strict request after it is refused');
});

test('older versions get their response after the throttle time (bounded); strict ones at once', async () => {
  const { quota } = quotaAt(1); // burst 11
  const slept: number[] = [];
  const broker = { sleep: async (ms: number) => void slept.push(ms) };
  const strict = quota.forRequest(true);
  strict.tryRecord(12);
  strict.tryRecord(1);
  const res = await throttledResponse(broker, true, true, strict, { throttleTimeMs: 0 });
  assert.equal(res.throttleTimeMs, 1000);
  assert.deepEqual(slept, []);
  const old = quota.forRequest(false);
  old.tryRecord(100);
  const late = await throttledResponse(broker, false, false, old, { throttleTimeMs: 0 });
  assert.equal(late.throttleTimeMs, 0, 'no throttle field in that version');
  assert.deepEqual(slept, [MAX_THROTTLE_DELAY_MS]);
});
