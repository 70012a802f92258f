// Client telemetry without subscriptions (KIP-714): ids for new clients, nothing requested, and
// pushes checked as Kafka checks them, on an injected clock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ZERO_UUID } from '../protocol/codec/reader.js';
import { ErrorCode } from '../protocol/errors.js';
import { ClientTelemetry, DEFAULT_PUSH_INTERVAL_MS } from './client-telemetry.js';

function setup(maxBytes = 100) {
  let now = 1_000_000;
  let n = 0;
  const t = new ClientTelemetry({ nowMs: () => now, newInstanceId: () => `id-${++n}`, maxBytes: () => maxBytes });
  return { t, advance: (ms: number) => void (now += ms) };
}

const push = (clientInstanceId: string, subscriptionId: number, over: Partial<{ terminating: boolean; compressionType: number; metrics: Buffer }> = {}) => ({
  clientInstanceId,
  subscriptionId,
  terminating: false,
  compressionType: 0,
  metrics: Buffer.alloc(10),
  ...over,
});

test('a new client gets an instance id, no requested metrics and the default push interval; a known id is kept', () => {
  const { t } = setup();
  const s = t.subscribe(ZERO_UUID);
  assert.equal(s.clientInstanceId, 'id-1');
  assert.deepEqual([s.requestedMetrics, s.pushIntervalMs, s.deltaTemporality, s.acceptedCompressionTypes, s.telemetryMaxBytes], [[], 300_000, true, [4, 3, 1, 2], 100]);
  const again = t.subscribe('id-1');
  assert.deepEqual([again.clientInstanceId, again.subscriptionId], ['id-1', s.subscriptionId]);
  assert.equal(t.size, 1);
});

test('pushes: too early is throttled, on time is accepted, a terminating push once, then refused', () => {
  const { t, advance } = setup();
  const s = t.subscribe(ZERO_UUID);
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId)), ErrorCode.THROTTLING_QUOTA_EXCEEDED);
  advance(DEFAULT_PUSH_INTERVAL_MS);
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId)), ErrorCode.NONE);
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId, { terminating: true })), ErrorCode.NONE, 'terminating pushes need not wait');
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId, { terminating: true })), ErrorCode.INVALID_REQUEST);
});

test('pushes with a bad id, subscription, compression or size get Kafka\'s errors', () => {
  const { t } = setup(100);
  const s = t.subscribe(ZERO_UUID);
  assert.equal(t.push(push(ZERO_UUID, s.subscriptionId)), ErrorCode.INVALID_REQUEST);
  assert.equal(t.push(push('someone-else', s.subscriptionId)), ErrorCode.UNKNOWN_SUBSCRIPTION_ID);
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId + 1, { terminating: true })), ErrorCode.UNKNOWN_SUBSCRIPTION_ID);
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId, { terminating: true, compressionType: 9 })), ErrorCode.UNSUPPORTED_COMPRESSION_TYPE);
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId, { terminating: true, metrics: Buffer.alloc(101) })), ErrorCode.TELEMETRY_TOO_LARGE);
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId, { terminating: true, compressionType: 4, metrics: Buffer.alloc(100) })), ErrorCode.NONE);
});

test('an instance silent for three push intervals is forgotten, and the map is bounded', () => {
  const { t, advance } = setup();
  const s = t.subscribe(ZERO_UUID);
  advance(3 * DEFAULT_PUSH_INTERVAL_MS + 1);
  assert.equal(t.push(push(s.clientInstanceId, s.subscriptionId)), ErrorCode.UNKNOWN_SUBSCRIPTION_ID);
  for (let i = 0; i < 20_000; i++) t.subscribe(ZERO_UUID);
  assert.equal(t.size, 16_384);
});
