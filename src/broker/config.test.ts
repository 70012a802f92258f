import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerConfig, ConfigError, parseProperties } from './config.js';
import { makeCertificates } from '../../test/helpers/tls-certificates.js';

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
  const cfg = BrokerConfig.fromProperties(props({ 'num.network.threads': '3', 'socket.send.buffer.bytes': '102400', 'listener.name.plaintext.max.connections': '100' }));
  assert.equal(cfg.int('num.partitions'), 1);
});

test('SASL settings and TLS settings without an effect are refused as unknown keys, also per listener; TLS settings are checked per listener', () => {
  for (const key of ['sasl.jaas.config', 'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config', 'sasl.kerberos.service.name', 'ssl.engine.factory.class', 'listener.name.ssl.ssl.engine.factory.class']) {
    assert.throws(() => BrokerConfig.fromProperties(props({ [key]: 'x' })), (e: unknown) => e instanceof ConfigError && e.message.includes(`Unknown configuration '${key}'`), key);
  }
  assert.throws(() => BrokerConfig.fromProperties(props({ 'listener.name.ssl.ssl.client.auth': 'x' })), /Invalid value 'x' for configuration 'listener\.name\.ssl\.ssl\.client\.auth'/);
  // Accepted (an SSL listener would use them).
  BrokerConfig.fromProperties(props({ 'ssl.keystore.location': '/x', 'listener.name.client.ssl.keystore.location': '/y', 'ssl.client.auth': 'required' }));
});

test('a SASL listener needs mechanisms Tributary has, and PLAIN its users, naming the key; an SSL listener needs a loadable key store', () => {
  for (const name of ['SASL_PLAINTEXT', 'SASL_SSL']) {
    // Kafka's default mechanism is GSSAPI, which Tributary does not have.
    assert.throws(() => BrokerConfig.fromProperties(props({ listeners: `PLAINTEXT://:9092,${name}://:9093` })), new RegExp(`'sasl\\.enabled\\.mechanisms' \\(SASL listener ${name}\\): Tributary supports PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 so far \\(GSSAPI not implemented\\)`));
  }
  // The protocol comes from listener.security.protocol.map, not from the name.
  assert.throws(
    () => BrokerConfig.fromProperties(props({ listeners: 'CLIENT://:9092', 'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT', 'listener.name.client.sasl.enabled.mechanisms': 'PLAIN,OAUTHBEARER' })),
    /'listener\.name\.client\.sasl\.enabled\.mechanisms' \(SASL listener CLIENT\).*OAUTHBEARER not implemented/,
  );
  // SCRAM alone needs no JAAS config: its credentials are in the cluster metadata.
  const scram = BrokerConfig.fromProperties(props({ listeners: 'CLIENT://:9092', 'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT', 'sasl.enabled.mechanisms': 'scram-sha-256,SCRAM-SHA-512' }));
  assert.deepEqual(scram.listenerSpecs[0]!.sasl?.mechanisms, ['SCRAM-SHA-256', 'SCRAM-SHA-512']);
  assert.throws(() => BrokerConfig.fromProperties(props({ listeners: 'CLIENT://:9092', 'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT', 'sasl.enabled.mechanisms': 'PLAIN' })), /needs 'listener\.name\.client\.plain\.sasl\.jaas\.config'/);
  assert.throws(
    () => BrokerConfig.fromProperties(props({ listeners: 'CLIENT://:9092', 'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT', 'sasl.enabled.mechanisms': 'PLAIN', 'listener.name.client.plain.sasl.jaas.config': 'com.example.Other required;' })),
    /Invalid value for configuration 'listener\.name\.client\.plain\.sasl\.jaas\.config': login module com\.example\.Other/,
  );
  const sasl = BrokerConfig.fromProperties(
    props({ listeners: 'CLIENT://:9092', 'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT', 'sasl.enabled.mechanisms': 'plain', 'listener.name.client.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required username="a" password="x" user_a="x" user_b="p\\"q";' }),
  );
  const spec = sasl.listenerSpecs[0]!;
  assert.deepEqual(spec.sasl?.mechanisms, ['PLAIN']);
  assert.deepEqual([...spec.sasl!.plainUsers], [['a', 'x'], ['b', 'p"q']]);
  assert.equal(spec.tls, undefined);
  assert.throws(() => BrokerConfig.fromProperties(props({ listeners: 'CLIENT://:9092', 'listener.security.protocol.map': 'CLIENT:SSL' })), /'ssl\.keystore\.location' for SSL listener CLIENT: an SSL listener needs a key store/);
  assert.throws(
    () => BrokerConfig.fromProperties(props({ listeners: 'SSL://:9093', 'listener.name.ssl.ssl.keystore.type': 'PEM', 'listener.name.ssl.ssl.keystore.location': '/nonexistent.pem' })),
    /'listener\.name\.ssl\.ssl\.keystore\.location' for SSL listener SSL: cannot read '\/nonexistent\.pem': ENOENT/,
  );
  const plain = BrokerConfig.fromProperties(props({ listeners: 'CLIENT://:9092,INTERNAL://:9093', 'listener.security.protocol.map': 'client:plaintext,INTERNAL:PLAINTEXT' }));
  assert.deepEqual(plain.listenerSpecs.map((l) => l.name), ['CLIENT', 'INTERNAL']);
  assert.equal(plain.listenerSpecs[0]!.tls, undefined);
});

test('a listener missing from listener.security.protocol.map is an error naming it, as in Kafka', () => {
  assert.throws(() => BrokerConfig.fromProperties(props({ listeners: 'CLIENT://:9092' })), /'listeners': No security protocol defined for listener CLIENT/);
  // An explicit map replaces the default one, CONTROLLER included.
  assert.throws(
    () => BrokerConfig.fromProperties(props({ listeners: 'PLAINTEXT://:9092,CONTROLLER://:9093', 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT' })),
    /No security protocol defined for listener CONTROLLER/,
  );
  // Without an explicit map, the controller listener names are PLAINTEXT (KRaft's default).
  const cfg = BrokerConfig.fromProperties(props({ listeners: 'PLAINTEXT://:9092,CTL://:9093', 'controller.listener.names': 'CTL' }));
  assert.equal(cfg.listenerSpecs.length, 2);
  assert.throws(() => BrokerConfig.fromProperties(props({ 'listener.security.protocol.map': 'PLAINTEXT' })), /'listener.security.protocol.map': malformed entry/);
  assert.throws(() => BrokerConfig.fromProperties(props({ 'listener.security.protocol.map': 'PLAINTEXT:TLS' })), /unknown security protocol 'TLS'/);
  assert.throws(() => BrokerConfig.fromProperties(props({ listeners: 'A://:1' })), /listener A/);
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

test('queued.max.request.bytes: bounded by default, at least socket.request.max.bytes, <= 0 unbounded as in Kafka', () => {
  assert.equal(BrokerConfig.fromProperties(props({})).queuedMaxRequestBytes, 256 * 1024 * 1024);
  // Raising only the largest request keeps a valid configuration: the default follows it.
  assert.equal(BrokerConfig.fromProperties(props({ 'socket.request.max.bytes': String(512 * 1024 * 1024) })).queuedMaxRequestBytes, 512 * 1024 * 1024);
  assert.equal(BrokerConfig.fromProperties(props({ 'queued.max.request.bytes': '104857600' })).queuedMaxRequestBytes, 104857600);
  assert.equal(BrokerConfig.fromProperties(props({ 'queued.max.request.bytes': '-1' })).queuedMaxRequestBytes, Infinity);
  assert.equal(BrokerConfig.fromProperties(props({ 'queued.max.request.bytes': '0' })).queuedMaxRequestBytes, Infinity);
  assert.throws(() => BrokerConfig.fromProperties(props({ 'queued.max.request.bytes': '1000' })), /'queued.max.request.bytes': must be at least socket.request.max.bytes \(104857600\)/);
  assert.throws(() => BrokerConfig.fromProperties(props({ 'queued.max.request.bytes': '-2' })), /queued.max.request.bytes/);
});

test('connections.max.idle.ms and socket.request.read.timeout.ms: defaults, -1 for never, 0 refused', () => {
  const defaults = BrokerConfig.fromProperties(props({}));
  assert.equal(defaults.msOrNever('connections.max.idle.ms'), 600_000);
  assert.equal(defaults.msOrNever('socket.request.read.timeout.ms'), 30_000);
  const never = BrokerConfig.fromProperties(props({ 'connections.max.idle.ms': '-1', 'socket.request.read.timeout.ms': '-1' }));
  assert.equal(never.msOrNever('connections.max.idle.ms'), Infinity);
  assert.equal(never.msOrNever('socket.request.read.timeout.ms'), Infinity);
  for (const key of ['connections.max.idle.ms', 'socket.request.read.timeout.ms']) {
    assert.throws(() => BrokerConfig.fromProperties(props({ [key]: '0' })), new RegExp(`'${key.replace(/\./g, '\\.')}': must be -1 \\(never\\) or at least 1`));
  }
});

test('ssl.principal.mapping.rules: an invalid rule stops start-up naming the key, also per listener', () => {
  for (const key of ['ssl.principal.mapping.rules', 'listener.name.mtls.ssl.principal.mapping.rules']) {
    for (const value of ['RULE:^CN=(.*)$/$1', 'DEFAULT/L', 'RULE:^CN=(.*$/$1/', 'rule:x/y/']) {
      assert.throws(() => BrokerConfig.fromProperties(props({ [key]: value })), (e: unknown) => e instanceof ConfigError && e.message.startsWith(`Invalid value '${value}' for configuration '${key}': Invalid rule: '`), `${key}=${value}`);
    }
  }
  BrokerConfig.fromProperties(props({ 'ssl.principal.mapping.rules': 'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,DEFAULT' }));
});

test('an SSL listener maps certificate principals with its own rules, else the broker-wide ones; SASL_SSL and PLAINTEXT do not', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tributary-config-'));
  try {
    const certs = makeCertificates(dir);
    const cfg = BrokerConfig.fromProperties(
      props({
        listeners: 'PLAIN://:9092,SSL://:9093,MTLS://:9094,SECURE://:9095',
        'listener.security.protocol.map': 'PLAIN:PLAINTEXT,SSL:SSL,MTLS:SSL,SECURE:SASL_SSL,CONTROLLER:PLAINTEXT',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': certs['serverPem']!,
        'sasl.enabled.mechanisms': 'SCRAM-SHA-256',
        'ssl.principal.mapping.rules': 'RULE:^CN=([^,]+).*$/$1/U',
        'listener.name.mtls.ssl.principal.mapping.rules': 'RULE:^CN=([^,]+),O=(.*)$/$1@$2/L',
      }),
    );
    const spec = (name: string) => cfg.listenerSpecs.find((l) => l.name === name)!;
    assert.equal(spec('PLAIN').sslPrincipalMapper, undefined);
    assert.equal(spec('SECURE').sslPrincipalMapper, undefined);
    assert.equal(spec('SSL').sslPrincipalMapper?.map('CN=alice,O=Acme'), 'ALICE');
    assert.equal(spec('MTLS').sslPrincipalMapper?.map('CN=Alice,O=Acme'), 'alice@acme');
    // Kafka's default: the name unchanged.
    const plainDefault = BrokerConfig.fromProperties(props({ listeners: 'SSL://:9093', 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': certs['serverPem']! }));
    assert.equal(plainDefault.listenerSpecs[0]!.sslPrincipalMapper?.map('CN=alice,O=Acme'), 'CN=alice,O=Acme');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('connections.max.reauth.ms: broker-wide, per listener, per listener and mechanism (which wins)', () => {
  const base = { listeners: 'CLIENT://:9092,OTHER://:9093', 'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT,OTHER:SASL_PLAINTEXT', 'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512' };
  const off = BrokerConfig.fromProperties(props(base));
  assert.deepEqual([...off.listenerSpecs[0]!.sasl!.maxReauthMsByMechanism!], [['SCRAM-SHA-256', 0], ['SCRAM-SHA-512', 0]]);
  const cfg = BrokerConfig.fromProperties(props({ ...base, 'connections.max.reauth.ms': '60000', 'listener.name.client.scram-sha-256.connections.max.reauth.ms': '2000', 'listener.name.other.connections.max.reauth.ms': '5000' }));
  const byListener = new Map(cfg.listenerSpecs.map((l) => [l.name, [...l.sasl!.maxReauthMsByMechanism!]]));
  assert.deepEqual(byListener.get('CLIENT'), [['SCRAM-SHA-256', 2000], ['SCRAM-SHA-512', 60000]]);
  assert.deepEqual(byListener.get('OTHER'), [['SCRAM-SHA-256', 5000], ['SCRAM-SHA-512', 5000]]);
  assert.throws(() => BrokerConfig.fromProperties(props({ ...base, 'listener.name.client.scram-sha-256.connections.max.reauth.ms': 'soon' })), /Invalid value 'soon' for configuration 'listener\.name\.client\.scram-sha-256\.connections\.max\.reauth\.ms'/);
});
