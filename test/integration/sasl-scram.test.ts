// SASL/SCRAM-SHA-256 and SCRAM-SHA-512 listeners with credentials in the cluster metadata: created
// with `tributary configs --entity-type users` (AlterUserScramCredentials), described back with
// mechanism and iterations only, then used by kcat and confluent-kafka (librdkafka's SCRAM),
// kafkajs and our own client; a wrong password is refused with Kafka's wording, a deleted
// credential stops working, and credentials survive a restart (they are metadata records).
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { Admin, Producer } from '../../src/client/index.js';
import { BrokerProcess, freePort, tempDir, tributaryBin } from '../helpers/broker-process.js';
import { confluentRoundTrip, kcat, run } from '../helpers/clients.js';
import { assertOk } from './support.js';

const { Kafka, logLevel } = kafkajs;

describe('SASL/SCRAM listeners', () => {
  const dirs: string[] = [];
  let broker: BrokerProcess;
  let plainPort = 0;
  let scramPort = 0;

  const tool = (args: string[]) => run(process.execPath, [tributaryBin, 'configs', '--bootstrap-server', `127.0.0.1:${plainPort}`, ...args], { timeoutMs: 60_000 });
  const kcatScram = (mechanism: string, user: string, password: string) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', `sasl.mechanisms=${mechanism}`, '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`];

  before(async () => {
    const dir = tempDir();
    dirs.push(dir);
    plainPort = await freePort();
    scramPort = await freePort();
    const listeners = `PLAINTEXT://127.0.0.1:${plainPort},SASL_PLAINTEXT://127.0.0.1:${scramPort}`;
    broker = new BrokerProcess({
      port: plainPort,
      dataDir: dir,
      overrides: { listeners, 'advertised.listeners': listeners, 'num.partitions': '1', 'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512' },
    });
    await broker.start();
  });
  after(async () => {
    await broker?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('kafka-configs creates and describes credentials; bad requests get Kafka\'s errors', async () => {
    const add = await tool(['--alter', '--add-config', 'SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-512]', '--entity-type', 'users', '--entity-name', 'alice']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'Completed updating config for user alice.\n');
    assertOk(await tool(['--alter', '--add-config', 'SCRAM-SHA-512=[password=bob-secret]', '--entity-type', 'users', '--entity-name', 'bob']), 'add bob');
    const described = await tool(['--describe', '--entity-type', 'users', '--entity-name', 'alice']);
    assert.equal(described.stdout, "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096\n");
    const all = await tool(['--describe', '--entity-type', 'users']);
    assert.equal(all.stdout, "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096\nSCRAM credential configs for user-principal 'bob' are SCRAM-SHA-512=iterations=4096\n");
    const missing = await tool(['--describe', '--entity-type', 'users', '--entity-name', 'carol']);
    assert.equal(missing.code, 0);
    assert.equal(missing.stdout, '', 'as kafka-configs, a user without credentials prints nothing');
    const weak = await tool(['--alter', '--add-config', 'SCRAM-SHA-256=[iterations=100,password=x]', '--entity-type', 'users', '--entity-name', 'carol']);
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /Iterations 100 is less than the minimum 4096 required for SCRAM-SHA-256/);
    const gone = await tool(['--alter', '--delete-config', 'SCRAM-SHA-256', '--entity-type', 'users', '--entity-name', 'carol']);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /RESOURCE_NOT_FOUND: Attempt to delete a user credential that does not exist/);

    // The admin API refuses what Kafka's controller refuses, per user.
    const admin = new Admin({ bootstrapServers: `127.0.0.1:${plainPort}` });
    try {
      const r = await admin.alterUserScramCredentials([
        { user: 'dave', mechanism: 'SCRAM-SHA-256', password: 'p', iterations: 20000 },
        { user: '', mechanism: 'SCRAM-SHA-256', password: 'p' },
        { user: 'erin', mechanism: 'SCRAM-SHA-256', password: 'p' },
        { user: 'erin', mechanism: 'SCRAM-SHA-512', password: 'p' },
      ]);
      assert.match(String(r.get('dave')?.message), /UNACCEPTABLE_CREDENTIAL: Too many iterations/);
      assert.match(String(r.get('')?.message), /UNACCEPTABLE_CREDENTIAL: Username must not be empty/);
      assert.match(String(r.get('erin')?.message), /DUPLICATE_RESOURCE: A user credential cannot be altered twice in the same request/);
      assert.deepEqual((await admin.describeUserScramCredentials()).map((d) => d.user), ['alice', 'bob'], 'nothing of a refused change was written');
    } finally {
      await admin.close();
    }
  });

  it('kcat authenticates with SCRAM-SHA-256 and SCRAM-SHA-512; a wrong password is refused with Kafka\'s wording', async () => {
    const bootstrap = `127.0.0.1:${scramPort}`;
    const p = await kcat(['-P', '-b', bootstrap, ...kcatScram('SCRAM-SHA-256', 'alice', 'alice-secret'), '-t', 'scram-kcat', '-p', '0'], { input: 'k1\nk2\n' });
    assertOk(p, 'kcat -P with SCRAM-SHA-256');
    const c = await kcat(['-C', '-b', bootstrap, ...kcatScram('SCRAM-SHA-512', 'bob', 'bob-secret'), '-t', 'scram-kcat', '-p', '0', '-o', 'beginning', '-e', '-q']);
    assertOk(c, 'kcat -C with SCRAM-SHA-512');
    assert.equal(c.stdout.trim(), 'k1\nk2');
    const bad = await kcat(['-L', '-b', bootstrap, ...kcatScram('SCRAM-SHA-256', 'alice', 'wrong'), '-m', '5'], { timeoutMs: 30_000 });
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256/);
    assert.match(broker.logs, /"reason":"Authentication failed during authentication due to invalid credentials with SASL mechanism SCRAM-SHA-256","detail":"Invalid client credentials".*"msg":"failed authentication"/);
    const noCredential = await kcat(['-L', '-b', bootstrap, ...kcatScram('SCRAM-SHA-256', 'bob', 'bob-secret'), '-m', '5'], { timeoutMs: 30_000 });
    assert.notEqual(noCredential.code, 0, 'bob has only a SCRAM-SHA-512 credential');
  });

  it('confluent-kafka, kafkajs and our client authenticate with SCRAM', async () => {
    const read = await confluentRoundTrip(
      { 'bootstrap.servers': `127.0.0.1:${scramPort}`, 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'SCRAM-SHA-512', 'sasl.username': 'alice', 'sasl.password': 'alice-512' },
      'scram-ck',
      3,
      'scram-g',
      'c',
    );
    assert.deepEqual(read, ['c0', 'c1', 'c2']);

    const kafka = new Kafka({ clientId: 'scram-kafkajs', brokers: [`127.0.0.1:${scramPort}`], sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' }, logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'scram-ck', messages: [{ value: 'j1', partition: 0 }] });
    await producer.disconnect();

    const ours = new Producer({ bootstrapServers: `127.0.0.1:${scramPort}`, sasl: { mechanism: 'SCRAM-SHA-512', username: 'bob', password: 'bob-secret' } });
    try {
      assert.equal((await ours.send({ topic: 'scram-ck', value: 'o1', partition: 0 })).offset, 4n, 'after confluent-kafka\'s three and kafkajs\'s one');
    } finally {
      await ours.close();
    }
    const wrong = new Producer({ bootstrapServers: `127.0.0.1:${scramPort}`, sasl: { mechanism: 'SCRAM-SHA-512', username: 'bob', password: 'nope' }, retries: 0 });
    try {
      await assert.rejects(wrong.send({ topic: 'scram-ck', value: 'x', partition: 0 }), /SASL_AUTHENTICATION_FAILED/);
    } finally {
      await wrong.close();
    }
  });

  it('credentials survive a restart; a deleted one stops working; tools authenticate with SCRAM', async () => {
    await broker.stop();
    await broker.start();
    const dir = tempDir();
    dirs.push(dir);
    const file = join(dir, 'client.properties');
    writeFileSync(file, 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\nsasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="alice-secret";\n');
    const list = await run(process.execPath, [tributaryBin, 'topics', '--bootstrap-server', `127.0.0.1:${scramPort}`, '--command-config', file, '--list'], { timeoutMs: 30_000 });
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^scram-kcat$/m);
    assertOk(await tool(['--alter', '--delete-config', 'SCRAM-SHA-256', '--entity-type', 'users', '--entity-name', 'alice']), 'delete alice SCRAM-SHA-256');
    const described = await tool(['--describe', '--entity-type', 'users', '--entity-name', 'alice']);
    assert.equal(described.stdout, "SCRAM credential configs for user-principal 'alice' are SCRAM-SHA-512=iterations=4096\n");
    const refused = await kcat(['-L', '-b', `127.0.0.1:${scramPort}`, ...kcatScram('SCRAM-SHA-256', 'alice', 'alice-secret'), '-m', '5'], { timeoutMs: 30_000 });
    assert.notEqual(refused.code, 0, 'the deleted credential is refused');
    const still = await kcat(['-L', '-b', `127.0.0.1:${scramPort}`, ...kcatScram('SCRAM-SHA-512', 'alice', 'alice-512'), '-m', '10']);
    assertOk(still, 'the other mechanism still works');
  });
});
