// SSL listeners: kcat, confluent-kafka and kafkajs produce and consume over TLS, with a PKCS12
// key store on one listener and a PEM key store plus required client certificates (mTLS, set
// per listener with listener.name.<name>.ssl.*) on another. A plaintext client on a TLS port, a
// client without a certificate where one is required, and one with an untrusted certificate
// are refused with a log line; bad TLS settings stop start-up naming the key.
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { BrokerProcess, freePort, tempDir } from '../helpers/broker-process.js';
import { kcat, python, run } from '../helpers/clients.js';
import { tributaryBin } from '../helpers/broker-process.js';
import { Admin, Producer, clientOptionsFromProperties } from '../../src/client/index.js';
import { assertOk } from './support.js';
import { makeCertificates } from '../helpers/tls-certificates.js';

const { Kafka, logLevel } = kafkajs;

describe('SSL listeners', () => {
  const dirs: string[] = [];
  let certs: Record<string, string>;
  let broker: BrokerProcess;
  let sslPort = 0;
  let mtlsPort = 0;
  const sslBootstrap = () => `127.0.0.1:${sslPort}`;
  const mtlsBootstrap = () => `127.0.0.1:${mtlsPort}`;

  before(async () => {
    const dir = tempDir();
    dirs.push(dir);
    certs = makeCertificates(dir);
    const plainPort = await freePort();
    sslPort = await freePort();
    mtlsPort = await freePort();
    const listeners = `PLAINTEXT://127.0.0.1:${plainPort},SSL://127.0.0.1:${sslPort},MTLS://127.0.0.1:${mtlsPort}`;
    broker = new BrokerProcess({
      port: plainPort,
      overrides: {
        listeners,
        'advertised.listeners': listeners,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,SSL:SSL,MTLS:SSL,CONTROLLER:PLAINTEXT',
        'num.partitions': '1',
        'ssl.keystore.type': 'PKCS12',
        'ssl.keystore.location': certs['serverP12']!,
        'ssl.keystore.password': 'secret-p12',
        'listener.name.mtls.ssl.keystore.type': 'PEM',
        'listener.name.mtls.ssl.keystore.location': certs['serverPem']!,
        'listener.name.mtls.ssl.truststore.type': 'PEM',
        'listener.name.mtls.ssl.truststore.location': certs['ca']!,
        'listener.name.mtls.ssl.client.auth': 'required',
      },
    });
    await broker.start();
  });
  after(async () => {
    await broker?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('kcat produces and consumes over SSL, and Metadata advertises the SSL listener to SSL clients', async () => {
    const tls = ['-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs['ca']}`];
    const p = await kcat(['-P', '-b', sslBootstrap(), ...tls, '-t', 'tls-kcat', '-p', '0'], { input: 'one\ntwo\n' });
    assertOk(p, 'kcat -P over SSL');
    const c = await kcat(['-C', '-b', sslBootstrap(), ...tls, '-t', 'tls-kcat', '-p', '0', '-o', 'beginning', '-e', '-q']);
    assertOk(c, 'kcat -C over SSL');
    assert.equal(c.stdout.trim(), 'one\ntwo');
    const l = await kcat(['-L', '-b', sslBootstrap(), ...tls, '-t', 'tls-kcat']);
    assertOk(l, 'kcat -L over SSL');
    assert.match(l.stdout, new RegExp(`broker 1 at 127\\.0\\.0\\.1:${sslPort}`));
  });

  it('confluent-kafka uses mTLS with a trusted client certificate; none or an untrusted one is refused', async () => {
    const out = await python<{ read: string[]; noCert: string; rogue: string }>(
      String.raw`
import json, sys
from confluent_kafka import Producer, Consumer
b, ca, cert, key, rcert, rkey = sys.argv[1:7]
base = {'bootstrap.servers': b, 'security.protocol': 'SSL', 'ssl.ca.location': ca}
p = Producer({**base, 'ssl.certificate.location': cert, 'ssl.key.location': key})
for i in range(3): p.produce('tls-mtls', value=('m%d' % i).encode(), partition=0)
assert p.flush(20) == 0
c = Consumer({**base, 'ssl.certificate.location': cert, 'ssl.key.location': key, 'group.id': 'tls-g', 'auto.offset.reset': 'earliest'})
c.subscribe(['tls-mtls'])
read = []
while len(read) < 3:
    m = c.poll(15)
    if m is None: break
    if m.error(): continue
    read.append(m.value().decode())
c.close()
def refused(extra):
    errors = []
    q = Producer({**base, **extra, 'error_cb': lambda e: errors.append(e.str()), 'message.timeout.ms': 3000})
    q.produce('tls-mtls', value=b'x', partition=0)
    left = q.flush(10)
    return 'refused' if left == 1 or errors else 'delivered'
print(json.dumps({'read': read, 'noCert': refused({}), 'rogue': refused({'ssl.certificate.location': rcert, 'ssl.key.location': rkey})}))
`,
      [mtlsBootstrap(), certs['ca']!, certs['clientCert']!, certs['clientKey']!, certs['rogueCert']!, certs['rogueKey']!],
      90_000,
    );
    assert.deepEqual(out.read, ['m0', 'm1', 'm2']);
    assert.equal(out.noCert, 'refused');
    assert.equal(out.rogue, 'refused');
    assert.match(broker.logs, /"listener":"MTLS".*"msg":"SSL handshake failed; connection closed"/);
  });

  it('kafkajs produces over SSL and reads back; a plaintext client on the SSL port is refused with a log line', async () => {
    const kafka = new Kafka({ clientId: 'tls-kafkajs', brokers: [sslBootstrap()], ssl: { ca: [readFileSync(certs['ca']!, 'utf8')] }, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'tls-kafkajs', messages: [{ value: 'k1' }, { value: 'k2' }] });
    await producer.disconnect();
    const c = await kcat(['-C', '-b', sslBootstrap(), '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs['ca']}`, '-t', 'tls-kafkajs', '-o', 'beginning', '-e', '-q']);
    assertOk(c, 'kcat -C over SSL');
    assert.equal(c.stdout.trim(), 'k1\nk2');

    const before = broker.logs.length;
    const plain = await kcat(['-L', '-b', sslBootstrap(), '-m', '3'], { timeoutMs: 20_000 });
    assert.notEqual(plain.code, 0, 'a plaintext client got metadata from the SSL listener');
    assert.match(broker.logs.slice(before), /"listener":"SSL".*"msg":"SSL handshake failed; connection closed"/);
  });

  it('our client (mTLS, from Kafka client properties) and our tools (--command-config) work over SSL', async () => {
    const props = new Map([
      ['security.protocol', 'SSL'],
      ['ssl.truststore.type', 'PEM'],
      ['ssl.truststore.location', certs['ca']!],
      ['ssl.keystore.type', 'PEM'],
      ['ssl.keystore.certificate.chain', readFileSync(certs['clientCert']!, 'utf8')],
      ['ssl.keystore.key', readFileSync(certs['clientKey']!, 'utf8')],
    ]);
    const options = { ...clientOptionsFromProperties(props), bootstrapServers: mtlsBootstrap() };
    const admin = new Admin(options);
    const producer = new Producer(options);
    try {
      await admin.createTopics([{ topic: 'tls-ours', numPartitions: 1 }]);
      const meta = await producer.send({ topic: 'tls-ours', value: 'ours-1' });
      assert.equal(meta.offset, 0n);
    } finally {
      await producer.close();
      await admin.close();
    }
    const c = await kcat(['-C', '-b', sslBootstrap(), '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${certs['ca']}`, '-t', 'tls-ours', '-o', 'beginning', '-e', '-q']);
    assert.equal(c.stdout.trim(), 'ours-1');

    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'client-ssl.properties');
    writeFileSync(file, `security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=${certs['ca']}\n`);
    const list = await run(process.execPath, [tributaryBin, 'topics', '--bootstrap-server', sslBootstrap(), '--command-config', file, '--list'], { timeoutMs: 30_000 });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^tls-ours$/m);
    // Without the CA the broker's certificate is not trusted: the tool fails instead of hanging.
    writeFileSync(file, `security.protocol=SSL\nrequest.timeout.ms=3000\nsocket.connection.setup.timeout.ms=3000\n`);
    const untrusted = await run(process.execPath, [tributaryBin, 'topics', '--bootstrap-server', sslBootstrap(), '--command-config', file, '--list'], { timeoutMs: 60_000 });
    assert.notEqual(untrusted.code, 0);
    assert.match(untrusted.stderr, /certificate/i);
  });

  it('rotates the SSL listener\'s certificate through a dynamic broker config; a store that does not load is refused', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const next = makeCertificates(dir);
    const configs = (config: string) =>
      run(process.execPath, [tributaryBin, 'configs', '--bootstrap-server', broker.bootstrap, '--entity-type', 'brokers', '--entity-name', '1', '--alter', '--add-config', config], { timeoutMs: 30_000 });
    const bad = await configs('listener.name.ssl.ssl.keystore.location=/nonexistent/new.p12');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr + bad.stdout, /Validation of dynamic config update of SSLFactory failed: .*'listener\.name\.ssl\.ssl\.keystore\.location' for SSL listener SSL: cannot read '\/nonexistent\/new\.p12': ENOENT/);
    const listWith = (caFile: string) => kcat(['-L', '-b', sslBootstrap(), '-X', 'security.protocol=SSL', '-X', `ssl.ca.location=${caFile}`, '-m', '5'], { timeoutMs: 20_000 });
    assertOk(await listWith(certs['ca']!), 'kcat with the first CA before the rotation');
    const ok = await configs(`listener.name.ssl.ssl.keystore.location=${next['serverP12']}`);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(broker.logs, /"listener":"SSL".*"msg":"SSL key and trust stores reloaded"/);
    assertOk(await listWith(next['ca']!), 'kcat with the new CA after the rotation');
    const old = await listWith(certs['ca']!);
    assert.notEqual(old.code, 0, 'the old certificate is still served');
  });

  it('bad TLS settings stop start-up with one line naming the key', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{}, /'ssl\.keystore\.location' for SSL listener SSL: an SSL listener needs a key store/],
      [{ 'ssl.keystore.location': certs['serverP12']! }, /'ssl\.keystore\.type' for SSL listener SSL: JKS key stores cannot be read by Tributary.*keytool -importkeystore/],
      [{ 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.location': certs['serverP12']!, 'ssl.keystore.password': 'wrong' }, /'ssl\.keystore\.location' for SSL listener SSL: wrong password/],
      [{ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': '/nonexistent/ks.pem' }, /'ssl\.keystore\.location' for SSL listener SSL: cannot read '\/nonexistent\/ks\.pem': ENOENT/],
      [{ 'ssl.keystore.type': 'PEM', 'ssl.keystore.location': certs['serverPem']!, 'ssl.client.auth': 'required' }, /'ssl\.truststore\.location'.*needs a trust store/],
    ];
    for (const [settings, pattern] of cases) {
      const port = await freePort();
      const b = new BrokerProcess({ port, overrides: { listeners: `SSL://127.0.0.1:${port}`, 'advertised.listeners': `SSL://127.0.0.1:${port}`, ...settings } });
      try {
        const outcome = await b.startOrExit();
        assert.equal(outcome.started, false, `started with ${JSON.stringify(settings)}`);
        if (outcome.started) continue;
        assert.equal(outcome.code, 1);
        const lines = outcome.output.trim().split('\n');
        assert.equal(lines.length, 1, outcome.output);
        assert.match(lines[0]!, pattern);
      } finally {
        await b.destroy();
      }
    }
  });
});
