// SASL/PLAIN listeners: kcat and kafkajs over SASL_PLAINTEXT, confluent-kafka over SASL_SSL, with
// the users of the listener's PlainLoginModule JAAS config. A wrong password is refused with
// SASL_AUTHENTICATION_FAILED and an INFO line; nothing but ApiVersions and the SASL exchange is
// served before authentication (a Metadata request closes the connection), and a frame above
// sasl.server.max.receive.size from an unauthenticated peer closes it without being buffered.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { BrokerProcess, freePort, tempDir } from '../helpers/broker-process.js';
import { confluentRoundTrip, kcat, run } from '../helpers/clients.js';
import { tributaryBin } from '../helpers/broker-process.js';
import { Producer, clientOptionsFromProperties, parseProperties } from '../../src/client/index.js';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { makeCertificates } from '../helpers/tls-certificates.js';
import { API_METADATA, exchange, header, int32, sized } from './raw-frames.js';
import { assertOk } from './support.js';

const { Kafka, logLevel } = kafkajs;

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";';

describe('SASL/PLAIN listeners', () => {
  const dirs: string[] = [];
  let broker: BrokerProcess;
  let saslPort = 0;
  let saslSslPort = 0;
  let ca = '';

  before(async () => {
    const dir = tempDir();
    dirs.push(dir);
    const certs = makeCertificates(dir);
    ca = certs['ca']!;
    const plainPort = await freePort();
    saslPort = await freePort();
    saslSslPort = await freePort();
    const listeners = `PLAINTEXT://127.0.0.1:${plainPort},SASL_PLAINTEXT://127.0.0.1:${saslPort},SASL_SSL://127.0.0.1:${saslSslPort}`;
    broker = new BrokerProcess({
      port: plainPort,
      overrides: {
        listeners,
        'advertised.listeners': listeners,
        'num.partitions': '1',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        'listener.name.sasl_ssl.plain.sasl.jaas.config': JAAS,
        'listener.name.sasl_ssl.ssl.keystore.type': 'PKCS12',
        'listener.name.sasl_ssl.ssl.keystore.location': certs['serverP12']!,
        'listener.name.sasl_ssl.ssl.keystore.password': 'secret-p12',
      },
    });
    await broker.start();
  });
  after(async () => {
    await broker?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const sasl = (user: string, password: string) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`];

  it('kcat produces and consumes as alice; a wrong password is refused with a log line', async () => {
    const bootstrap = `127.0.0.1:${saslPort}`;
    const p = await kcat(['-P', '-b', bootstrap, ...sasl('alice', 'alice-secret'), '-t', 'sasl-kcat', '-p', '0'], { input: 'a1\na2\n' });
    assertOk(p, 'kcat -P over SASL_PLAINTEXT');
    const c = await kcat(['-C', '-b', bootstrap, ...sasl('alice', 'alice-secret'), '-t', 'sasl-kcat', '-p', '0', '-o', 'beginning', '-e', '-q']);
    assertOk(c, 'kcat -C over SASL_PLAINTEXT');
    assert.equal(c.stdout.trim(), 'a1\na2');
    const l = await kcat(['-L', '-b', bootstrap, ...sasl('alice', 'alice-secret'), '-t', 'sasl-kcat']);
    assert.match(l.stdout, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${saslPort}`), 'Metadata advertises the SASL listener to its clients');

    const bad = await kcat(['-L', '-b', bootstrap, ...sasl('alice', 'wrong'), '-m', '5'], { timeoutMs: 30_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Authentication failed: Invalid username or password/);
    assert.match(broker.logs, /"listener":"SASL_PLAINTEXT".*"reason":"Authentication failed: Invalid username or password".*"msg":"failed authentication"/);
  });

  it('kafkajs authenticates with PLAIN and produces; kcat reads it back', async () => {
    const kafka = new Kafka({ clientId: 'sasl-kafkajs', brokers: [`127.0.0.1:${saslPort}`], sasl: { mechanism: 'plain', username: 'admin', password: 'admin-secret' }, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'sasl-kafkajs', messages: [{ value: 'j1' }] });
    await producer.disconnect();
    const c = await kcat(['-C', '-b', `127.0.0.1:${saslPort}`, ...sasl('admin', 'admin-secret'), '-t', 'sasl-kafkajs', '-o', 'beginning', '-e', '-q']);
    assert.equal(c.stdout.trim(), 'j1');
  });

  it('confluent-kafka produces and consumes over SASL_SSL', async () => {
    const read = await confluentRoundTrip(
      { 'bootstrap.servers': `127.0.0.1:${saslSslPort}`, 'security.protocol': 'SASL_SSL', 'ssl.ca.location': ca, 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': 'alice-secret' },
      'sasl-ssl',
      3,
      'sasl-g',
      's',
    );
    assert.deepEqual(read, ['s0', 's1', 's2']);
  });

  it('our client (SASL_SSL, from Kafka client properties) and our tools (--command-config, SASL_PLAINTEXT) authenticate', async () => {
    const jaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="alice" password="alice-secret";';
    const props = parseProperties(`security.protocol=SASL_SSL\nsasl.mechanism=PLAIN\nsasl.jaas.config=${jaas}\nssl.truststore.type=PEM\nssl.truststore.location=${ca}\n`);
    const producer = new Producer({ ...clientOptionsFromProperties(props), bootstrapServers: `127.0.0.1:${saslSslPort}` });
    try {
      assert.equal((await producer.send({ topic: 'sasl-ours', value: 'o1' })).offset, 0n);
    } finally {
      await producer.close();
    }
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'client.properties');
    writeFileSync(file, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=${jaas}\n`);
    const list = await run(process.execPath, [tributaryBin, 'topics', '--bootstrap-server', `127.0.0.1:${saslPort}`, '--command-config', file, '--list'], { timeoutMs: 30_000 });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^sasl-ours$/m);
    writeFileSync(file, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=${jaas.replace('alice-secret', 'wrong')}\nrequest.timeout.ms=5000\n`);
    const refused = await run(process.execPath, [tributaryBin, 'topics', '--bootstrap-server', `127.0.0.1:${saslPort}`, '--command-config', file, '--list'], { timeoutMs: 60_000 });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /Invalid username or password/);
  });

  it('serves nothing but ApiVersions and SASL before authentication, and reads no large frame', async () => {
    const metadata = sized(Buffer.concat([header(API_METADATA, 1, 7), int32(-1)]));
    const early = await exchange(saslPort, metadata, 3000);
    assert.equal(early.closed, true, 'a Metadata request before authentication was not refused');
    assert.equal(early.received.length, 0, 'a Metadata request before authentication was answered');
    assert.match(broker.logs, /unexpected Kafka request of type MetadataRequest during SASL authentication on listener SASL_PLAINTEXT/);
    const big = await exchange(saslPort, int32(600_000), 3000);
    assert.equal(big.closed, true);
    assert.match(broker.logs, /request size 600000 before authentication is above 524288 \(sasl\.server\.max\.receive\.size\)/);
  });
});
