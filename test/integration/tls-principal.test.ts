// Principals from TLS client certificates on SSL listeners, as Kafka's default principal
// builder: `User:` + the subject's RFC 2253 name mapped by ssl.principal.mapping.rules (broker-
// wide or per listener). kcat and confluent-kafka connect with client certificates to a broker
// with the StandardAuthorizer: the certificate whose mapped principal has WRITE produces, another
// is refused TOPIC_AUTHORIZATION_FAILED, and the audit log names the mapped principal. A super
// user is named by a full, escaped subject. A certificate no rule maps, or an untrusted one on
// an ssl.client.auth=requested listener, is refused; no certificate there is User:ANONYMOUS. On
// SASL_SSL the SASL user is the principal even with a certificate. A bad rule stops start-up.
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Admin, clientOptionsFromProperties } from '../../src/client/index.js';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../src/protocol/acls.js';
import { BrokerProcess, freePort, tempDir } from '../helpers/broker-process.js';
import { kcat, python } from '../helpers/clients.js';
import { makeCertificates, makeClientCertificate } from '../helpers/tls-certificates.js';
import { assertOk } from './support.js';

const TOPIC = 'cert-orders';
const RULES = 'RULE:^CN=(.*?),OU=ServiceUsers.*$/$1/,RULE:^CN=(.*?),OU=(.*?),O=(.*?),L=(.*?),ST=(.*?),C=(.*?)$/$1@$2/L,DEFAULT';
// The values of a multi-valued RDN are in DER order (a SET sorts by encoding: the shorter CN
// first here); Java's X500Principal.getName() keeps it and escapes , and ".
const OPS_DN = 'CN=Ops \\"Root\\"+UID=ops,O=Acme\\, Inc.,C=US';

describe('TLS client certificate principals', () => {
  const dirs: string[] = [];
  let broker: BrokerProcess;
  let ca = '';
  let writer: { cert: string; key: string };
  let reader: { cert: string; key: string };
  let ops: { cert: string; key: string };
  let rogue: { cert: string; key: string };
  const ports = { mtls: 0, strict: 0, requested: 0, saslSsl: 0 };
  const at = (port: number) => `127.0.0.1:${port}`;
  const tls = (who?: { cert: string; key: string }) => ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${ca}`, ...(who === undefined ? [] : ['-X', `ssl.certificate.location=${who.cert}`, '-X', `ssl.key.location=${who.key}`])];
  const produce = (port: number, who: { cert: string; key: string } | undefined, value: string) =>
    kcat(['-P', '-b', at(port), ...tls(who), '-t', TOPIC, '-p', '0', '-X', 'message.timeout.ms=8000'], { input: `${value}\n`, timeoutMs: 30_000 });

  before(async () => {
    const dir = tempDir();
    dirs.push(dir);
    const certs = makeCertificates(dir);
    ca = certs['ca']!;
    rogue = { cert: certs['rogueCert']!, key: certs['rogueKey']! };
    writer = makeClientCertificate(dir, 'writer', '/C=US/O=Acme/OU=ServiceUsers/CN=writer');
    reader = makeClientCertificate(dir, 'reader', '/C=US/ST=CA/L=SF/O=Acme/OU=Eng/CN=Reader');
    ops = makeClientCertificate(dir, 'ops', '/C=US/O=Acme\\, Inc./CN=Ops "Root"+UID=ops');
    const plainPort = await freePort();
    ports.mtls = await freePort();
    ports.strict = await freePort();
    ports.requested = await freePort();
    ports.saslSsl = await freePort();
    const listeners = `PLAINTEXT://127.0.0.1:${plainPort},MTLS://127.0.0.1:${ports.mtls},STRICT://127.0.0.1:${ports.strict},REQUESTED://127.0.0.1:${ports.requested},SECURE://127.0.0.1:${ports.saslSsl}`;
    broker = new BrokerProcess({
      port: plainPort,
      overrides: {
        listeners,
        'advertised.listeners': listeners,
        'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,MTLS:SSL,STRICT:SSL,REQUESTED:SSL,SECURE:SASL_SSL,CONTROLLER:PLAINTEXT',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.secure.plain.sasl.jaas.config': 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";',
        'ssl.keystore.type': 'PEM',
        'ssl.keystore.location': certs['serverPem']!,
        'ssl.truststore.type': 'PEM',
        'ssl.truststore.location': ca,
        'ssl.client.auth': 'required',
        'listener.name.requested.ssl.client.auth': 'requested',
        'ssl.principal.mapping.rules': RULES,
        // No DEFAULT: a certificate no rule maps fails authentication.
        'listener.name.strict.ssl.principal.mapping.rules': 'RULE:^CN=(.*?),OU=ServiceUsers.*$/svc-$1/',
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': `User:${OPS_DN}`,
        'num.partitions': '1',
      },
    });
    await broker.start();
    // The super user, known only by its certificate, creates the topic and grants the writer.
    const admin = new Admin({
      ...clientOptionsFromProperties(
        new Map([
          ['security.protocol', 'SSL'],
          ['ssl.truststore.type', 'PEM'],
          ['ssl.truststore.location', ca],
          ['ssl.keystore.type', 'PEM'],
          ['ssl.keystore.certificate.chain', readFileSync(ops.cert, 'utf8')],
          ['ssl.keystore.key', readFileSync(ops.key, 'utf8')],
        ]),
      ),
      bootstrapServers: at(ports.mtls),
    });
    try {
      await admin.createTopics([{ topic: TOPIC, numPartitions: 1 }]);
      // The reader may see and read the topic, so its produce is denied on WRITE itself.
      const grants: [string, number][] = [['User:writer', AclOperation.WRITE], ['User:writer', AclOperation.DESCRIBE], ['User:reader@eng', AclOperation.READ], ['User:reader@eng', AclOperation.DESCRIBE]];
      const errors = await admin.createAcls(grants.map(([principal, operation]) => ({ resourceType: ResourceType.TOPIC, resourceName: TOPIC, patternType: PatternType.LITERAL, principal, host: '*', operation, permission: AclPermission.ALLOW })));
      assert.deepEqual(errors, grants.map(() => null));
    } finally {
      await admin.close();
    }
  });
  after(async () => {
    await broker?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('kcat: the certificate mapped to User:writer produces; the one mapped to User:reader@eng is refused, and the log names it', async () => {
    assertOk(await produce(ports.mtls, writer, 'from-writer'), 'kcat -P as User:writer');
    const denied = await produce(ports.mtls, reader, 'from-reader');
    assert.notEqual(denied.code, 0, 'User:reader@eng produced without WRITE');
    assert.match(denied.stderr + denied.stdout, /Topic authorization failed/i);
    assert.match(broker.logs, /Principal = User:reader@eng is Denied operation = WRITE from host = 127\.0\.0\.1 on resource = Topic:LITERAL:cert-orders/);
    assert.doesNotMatch(broker.logs, /Principal = User:writer is Denied/);
    const read = await kcat(['-C', '-b', at(ports.mtls), ...tls(ops), '-t', TOPIC, '-o', 'beginning', '-e', '-q'], { timeoutMs: 30_000 });
    assertOk(read, 'kcat -C as the super user');
    assert.equal(read.stdout.trim(), 'from-writer');
  });

  it('confluent-kafka: the writer certificate produces, the reader one gets TOPIC_AUTHORIZATION_FAILED', async () => {
    const out = await python<{ writer: string; reader: string }>(
      String.raw`
import json, sys
from confluent_kafka import Producer
b, ca, wc, wk, rc, rk, topic = sys.argv[1:8]
def send(cert, key):
    result = []
    p = Producer({'bootstrap.servers': b, 'security.protocol': 'SSL', 'ssl.ca.location': ca, 'ssl.certificate.location': cert, 'ssl.key.location': key, 'message.timeout.ms': 8000})
    p.produce(topic, value=b'py', partition=0, on_delivery=lambda err, msg: result.append('ok' if err is None else err.name()))
    p.flush(20)
    return result[0] if result else 'no report'
print(json.dumps({'writer': send(wc, wk), 'reader': send(rc, rk)}))
`,
      [at(ports.mtls), ca, writer.cert, writer.key, reader.cert, reader.key, TOPIC],
      90_000,
    );
    assert.deepEqual(out, { writer: 'ok', reader: 'TOPIC_AUTHORIZATION_FAILED' });
  });

  it('per-listener rules: the writer is User:svc-writer there (denied); a certificate no rule maps is refused with a log line', async () => {
    const svc = await produce(ports.strict, writer, 'svc');
    assert.notEqual(svc.code, 0);
    assert.match(broker.logs, /Principal = User:svc-writer is Denied operation = DESCRIBE from host = 127\.0\.0\.1 on resource = Topic:LITERAL:cert-orders/);
    const unmapped = await produce(ports.strict, reader, 'unmapped');
    assert.notEqual(unmapped.code, 0);
    assert.match(broker.logs, /"listener":"STRICT".*"reason":"no rule of ssl\.principal\.mapping\.rules applies to CN=Reader,OU=Eng,O=Acme,L=SF,ST=CA,C=US.*"msg":"SSL authentication failed; connection closed"/);
  });

  it('ssl.client.auth=requested: no certificate is User:ANONYMOUS (denied); an untrusted one is refused', async () => {
    const anonymous = await produce(ports.requested, undefined, 'anon');
    assert.notEqual(anonymous.code, 0);
    assert.match(anonymous.stderr + anonymous.stdout, /Topic authorization failed/i);
    assert.match(broker.logs, /Principal = User:ANONYMOUS is Denied operation = DESCRIBE from host = 127\.0\.0\.1 on resource = Topic:LITERAL:cert-orders/);
    const untrusted = await produce(ports.requested, rogue, 'rogue');
    assert.notEqual(untrusted.code, 0);
    assert.match(broker.logs, /"listener":"REQUESTED".*"reason":"client certificate not trusted.*"msg":"SSL authentication failed; connection closed"/);
    // The writer's certificate is mapped there too.
    assertOk(await produce(ports.requested, writer, 'requested-writer'), 'kcat -P as User:writer on the requested listener');
  });

  it('SASL_SSL: the SASL user is the principal, not the client certificate', async () => {
    const sasl = ['-X', 'sasl.mechanism=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret'];
    const p = await kcat(['-P', '-b', at(ports.saslSsl), '-X', 'security.protocol=sasl_ssl', '-X', `ssl.ca.location=${ca}`, '-X', `ssl.certificate.location=${writer.cert}`, '-X', `ssl.key.location=${writer.key}`, ...sasl, '-t', TOPIC, '-p', '0', '-X', 'message.timeout.ms=8000'], { input: 'sasl\n', timeoutMs: 30_000 });
    assert.notEqual(p.code, 0, 'User:alice has no ACL, whatever the certificate says');
    assert.match(broker.logs, /Principal = User:alice is Denied operation = DESCRIBE from host = 127\.0\.0\.1 on resource = Topic:LITERAL:cert-orders/);
  });

  it('an invalid ssl.principal.mapping.rules stops start-up with one line naming the key', async () => {
    for (const [key, value] of [['ssl.principal.mapping.rules', 'RULE:^CN=(.*)$/$1'], ['listener.name.ssl.ssl.principal.mapping.rules', 'DEFAULT/L']] as const) {
      const port = await freePort();
      const b = new BrokerProcess({ port, overrides: { listeners: `PLAINTEXT://127.0.0.1:${port}`, 'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`, [key]: value } });
      try {
        const outcome = await b.startOrExit();
        assert.equal(outcome.started, false, `started with ${key}=${value}`);
        if (outcome.started) continue;
        assert.equal(outcome.code, 1);
        const lines = outcome.output.trim().split('\n');
        assert.equal(lines.length, 1, outcome.output);
        assert.match(lines[0]!, new RegExp(`Invalid value '.*' for configuration '${key.replace(/\./g, '\\.')}': Invalid rule: '`));
      } finally {
        await b.destroy();
      }
    }
  });
});
