import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerConfig } from './config.js';
import { cleanerTuningFor, logConfigFor } from './topic-config.js';

const props = (o: Record<string, string>) => new Map(Object.entries(o));
const NONE = new Map<string, string>();

test('cleanerTuningFor reads server.properties, then the cluster default, then the per-broker value', () => {
  const base = BrokerConfig.fromProperties(props({ 'log.cleaner.threads': '1', 'log.cleaner.backoff.ms': '500' }));
  assert.deepEqual(cleanerTuningFor(base), { threads: 1, dedupeBufferBytes: 128 * 1024 * 1024, ioBufferBytes: 512 * 1024, loadFactor: 0.9, ioMaxBytesPerSecond: 1.7976931348623157e308, backoffMs: 500 });
  const dynamic = base.withDynamic(props({ 'log.cleaner.threads': '3' }), props({ 'log.cleaner.threads': '2', 'log.cleaner.io.max.bytes.per.second': '1048576', 'log.cleaner.dedupe.buffer.size': '1000000', 'log.cleaner.io.buffer.size': '4096', 'log.cleaner.io.buffer.load.factor': '0.5', 'log.cleaner.backoff.ms': '20' }));
  assert.deepEqual(cleanerTuningFor(dynamic), { threads: 3, dedupeBufferBytes: 1000000, ioBufferBytes: 4096, loadFactor: 0.5, ioMaxBytesPerSecond: 1048576, backoffMs: 20 });
});

test('dynamic producer.id.expiration.ms and message.max.bytes reach the partition logs\' config', () => {
  const base = BrokerConfig.fromProperties(props({}));
  assert.equal(logConfigFor(base, NONE).producerIdExpirationMs, 86400000);
  const dynamic = base.withDynamic(undefined, props({ 'producer.id.expiration.ms': '60000', 'message.max.bytes': '2000' }));
  assert.equal(logConfigFor(dynamic, NONE).producerIdExpirationMs, 60000);
  assert.equal(logConfigFor(dynamic, NONE).maxMessageBytes, 2000);
  assert.equal(logConfigFor(dynamic, props({ 'max.message.bytes': '3000' })).maxMessageBytes, 3000, 'a topic override wins');
});
