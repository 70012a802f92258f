import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientOptionsFromProperties, parseProperties } from './properties.js';

test('Kafka property files map to camelCase client options', () => {
  const props = parseProperties('# comment\nbootstrap.servers=h:1\nlinger.ms = 20\nbatch.size: 1000\ncompression.type=zstd\nacks=all\nenable.idempotence=false\ngroup.id=g\ntransactional.id=t1\ntransaction.timeout.ms=30000\nisolation.level=read_committed\n');
  assert.deepEqual(clientOptionsFromProperties(props), {
    bootstrapServers: 'h:1',
    lingerMs: 20,
    batchSize: 1000,
    compression: 'zstd',
    acks: -1,
    idempotent: false,
    groupId: 'g',
    transactionalId: 't1',
    transactionTimeoutMs: 30000,
    isolationLevel: 'read_committed',
  });
});

test('unknown keys and bad values are refused with the key named', () => {
  assert.throws(() => clientOptionsFromProperties(new Map([['no.such', '1']])), /no\.such/);
  assert.throws(() => clientOptionsFromProperties(new Map([['linger.ms', 'soon']])), /linger\.ms/);
  assert.throws(() => clientOptionsFromProperties(new Map([['security.protocol', 'SASL_GSS']])), /expected PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL/);
  assert.throws(() => clientOptionsFromProperties(new Map([['security.protocol', 'SASL_PLAINTEXT']])), /'GSSAPI' for sasl\.mechanism: PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512 are supported/);
  const jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="al ice" password="p\\"w";';
  assert.deepEqual(clientOptionsFromProperties(new Map([['security.protocol', 'SASL_PLAINTEXT'], ['sasl.mechanism', 'PLAIN'], ['sasl.jaas.config', jaas]])).sasl, { mechanism: 'PLAIN', username: 'al ice', password: 'p"w' });
  assert.throws(() => clientOptionsFromProperties(new Map([['sasl.mechanism', 'PLAIN']])), /needs security\.protocol=SASL_PLAINTEXT or SASL_SSL/);
  const saslWith = (config: string) => clientOptionsFromProperties(new Map([['security.protocol', 'SASL_PLAINTEXT'], ['sasl.mechanism', 'PLAIN'], ['sasl.jaas.config', config]]));
  assert.throws(() => saslWith('org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";'), /ScramLoginModule is not org\.apache\.kafka\.common\.security\.plain\.PlainLoginModule/);
  assert.throws(() => saslWith('org.apache.kafka.common.security.plain.PlainLoginModule required username="u";'), /invalid value for sasl\.jaas\.config: expected/);
  const scram = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";';
  assert.deepEqual(clientOptionsFromProperties(new Map([['security.protocol', 'SASL_SSL'], ['sasl.mechanism', 'scram-sha-512'], ['sasl.jaas.config', scram]])).sasl, { mechanism: 'SCRAM-SHA-512', username: 'u', password: 'p' });
  assert.throws(() => clientOptionsFromProperties(new Map([['security.protocol', 'SASL_SSL'], ['sasl.mechanism', 'SCRAM-SHA-256'], ['sasl.jaas.config', jaas]])), /PlainLoginModule is not org\.apache\.kafka\.common\.security\.scram\.ScramLoginModule/);
  assert.deepEqual(clientOptionsFromProperties(new Map([['security.protocol', 'SSL']])).ssl, { minVersion: 'TLSv1.2', maxVersion: 'TLSv1.3' });
  assert.throws(() => clientOptionsFromProperties(new Map([['ssl.truststore.location', '/x']])), /needs security\.protocol=SSL/);
  assert.throws(() => clientOptionsFromProperties(new Map([['security.protocol', 'SSL'], ['ssl.keystore.location', '/x.jks']])), /JKS key stores cannot be read/);
});
