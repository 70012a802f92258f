import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerConfig, ConfigError, parseProperties } from './config.js';

const props = (o: Record<string, string>) => new Map(Object.entries(o));

test('properties files parse comments, separators and continuations', () => {
  const p = parseProperties('# comment\n! also\nnode.id=3\nlisteners : PLAINTEXT://:9092\nlog.dirs /a,\\\n  /b\n\nempty=\n');
  assert.equal(p.get('node.id'), '3');
  assert.equal(p.get('listeners'), 'PLAINTEXT://:9092');
  assert.equal(p.get('log.dirs'), '/a,/b');
  assert.equal(p.get('empty'), '');
  assert.equal(p.size, 4);
});

test('an unknown key stops start-up with a message naming it', () => {
  assert.throws(() => BrokerConfig.fromProperties(props({ 'log.retention.hourz': '1' })), (e: unknown) => {
    return e instanceof ConfigError && e.message.includes("'log.retention.hourz'");
  });
});

test('an invalid value names the key and the problem', () => {
  assert.throws(() => BrokerConfig.fromProperties(props({ 'num.partitions': 'abc' })), /num.partitions.*integer/);
  assert.throws(() => BrokerConfig.fromProperties(props({ 'num.partitions': '0' })), /num.partitions.*at least 1/);
  assert.throws(() => BrokerConfig.fromProperties(props({ 'auto.create.topics.enable': 'yes' })), /auto.create.topics.enable/);
  assert.throws(() => BrokerConfig.fromProperties(props({ 'process.roles': 'broker,zookeeper' })), /process.roles/);
});

test('Kafka keys without effect here are accepted, so a stock server.properties starts', () => {
  const cfg = BrokerConfig.fromProperties(props({ 'num.network.threads': '3', 'socket.send.buffer.bytes': '102400', 'ssl.keystore.location': '/x' }));
  assert.equal(cfg.int('num.partitions'), 1);
});

test('retention resolves ms over minutes over hours, as Kafka does', () => {
  assert.equal(BrokerConfig.fromProperties(props({})).retentionMs, 168 * 3_600_000);
  assert.equal(BrokerConfig.fromProperties(props({ 'log.retention.hours': '1', 'log.retention.minutes': '5' })).retentionMs, 300_000);
  assert.equal(BrokerConfig.fromProperties(props({ 'log.retention.minutes': '5', 'log.retention.ms': '42' })).retentionMs, 42);
  assert.equal(BrokerConfig.fromProperties(props({ 'log.retention.hours': '-1' })).retentionMs, -1);
});

test('node.id and broker.id must agree; log.dirs falls back to log.dir', () => {
  assert.throws(() => BrokerConfig.fromProperties(props({ 'node.id': '1', 'broker.id': '2' })), /broker.id/);
  assert.equal(BrokerConfig.fromProperties(props({ 'broker.id': '7' })).nodeId, 7);
  assert.deepEqual(BrokerConfig.fromProperties(props({ 'log.dir': '/d' })).logDirs, ['/d']);
  assert.deepEqual(BrokerConfig.fromProperties(props({ 'log.dirs': '/a, /b' })).logDirs, ['/a', '/b']);
});
