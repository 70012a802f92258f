// ACLs in the cluster metadata with authorizer.class.name=StandardAuthorizer: `tributary acls`
// (kafka-acls.sh's flags and output) adds, lists and removes them as a super user over SASL;
// kafkajs's admin client describes and creates them, and a user without DESCRIBE on the cluster is
// refused CLUSTER_AUTHORIZATION_FAILED; they survive a restart. A broker without an authorizer
// answers SECURITY_DISABLED, as Kafka does.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Admin } from '../../src/client/index.js';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../src/protocol/acls.js';
import { BrokerProcess, freePort, tempDir, tributaryBin } from '../helpers/broker-process.js';
import kafkajs from 'kafkajs';
import { kcat, python, run } from '../helpers/clients.js';
import { assertOk } from './support.js';

const { Kafka, logLevel, AclResourceTypes, AclOperationTypes, AclPermissionTypes, ResourcePatternTypes } = kafkajs;

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_alice="alice-secret";';

describe('ACLs (StandardAuthorizer)', () => {
  const dirs: string[] = [];
  let broker: BrokerProcess;
  let saslPort = 0;
  let adminConfig = '';

  const acls = (args: string[]) => run(process.execPath, [tributaryBin, 'acls', '--bootstrap-server', `127.0.0.1:${saslPort}`, '--command-config', adminConfig, ...args], { timeoutMs: 60_000 });

  before(async () => {
    const dir = tempDir();
    dirs.push(dir);
    adminConfig = join(dir, 'admin.properties');
    writeFileSync(adminConfig, 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";\n');
    const plainPort = await freePort();
    saslPort = await freePort();
    const listeners = `PLAINTEXT://127.0.0.1:${plainPort},SASL_PLAINTEXT://127.0.0.1:${saslPort}`;
    broker = new BrokerProcess({
      port: plainPort,
      dataDir: join(dir, 'data'),
      overrides: {
        listeners,
        'advertised.listeners': listeners,
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
        'super.users': 'User:admin',
      },
    });
    await broker.start();
  });
  after(async () => {
    await broker?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('kafka-acls adds and lists with Kafka\'s output', async () => {
    const add = await acls(['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--operation', 'Describe', '--topic', 'orders']);
    assert.equal(add.code, 0, add.stderr);
    assert.equal(
      add.stdout,
      'Adding ACLs for resource `ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)`: \n \t(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)\n\t(principal=User:alice, host=*, operation=DESCRIBE, permissionType=ALLOW) \n\n',
    );
    const producer = await acls(['--add', '--producer', '--topic', 'pay-', '--resource-pattern-type', 'prefixed', '--allow-principal', 'User:bob', '--deny-principal', 'User:mallory', '--deny-host', '10.0.0.66']);
    assert.equal(producer.code, 0, producer.stderr);
    const again = await acls(['--add', '--allow-principal', 'User:alice', '--operation', 'Read', '--topic', 'orders']);
    assert.equal(again.code, 0, 'adding an existing binding succeeds and writes nothing');
    const list = await acls(['--list']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /Current ACLs for resource `ResourcePattern\(resourceType=TOPIC, name=orders, patternType=LITERAL\)`: \n \t\(principal=User:alice, host=\*, operation=READ, permissionType=ALLOW\)\n\t\(principal=User:alice, host=\*, operation=DESCRIBE, permissionType=ALLOW\) \n\n/);
    for (const op of ['WRITE', 'DESCRIBE', 'CREATE']) {
      assert.match(list.stdout, new RegExp(`\\(principal=User:bob, host=\\*, operation=${op}, permissionType=ALLOW\\)`));
      assert.match(list.stdout, new RegExp(`\\(principal=User:mallory, host=10\\.0\\.0\\.66, operation=${op}, permissionType=DENY\\)`));
    }
    assert.match(list.stdout, /ResourcePattern\(resourceType=TOPIC, name=pay-, patternType=PREFIXED\)/);
    const admin = new Admin({ bootstrapServers: `127.0.0.1:${saslPort}`, sasl: { mechanism: 'PLAIN', username: 'admin', password: 'admin-secret' } });
    try {
      const all = await admin.describeAcls({ resourceType: ResourceType.ANY, resourceName: null, patternType: PatternType.ANY, principal: null, host: null, operation: AclOperation.ANY, permission: AclPermission.ANY });
      assert.equal(all.length, 8, '2 for alice, 3 for bob, 3 for mallory: the repeated add wrote nothing');
      const applying = await admin.describeAcls({ resourceType: ResourceType.TOPIC, resourceName: 'pay-eu', patternType: PatternType.MATCH, principal: null, host: null, operation: AclOperation.ANY, permission: AclPermission.ANY });
      assert.equal(applying.length, 6, 'MATCH: the prefixed bindings that apply to pay-eu');
      const refused = await admin.createAcls([{ resourceType: ResourceType.CLUSTER, resourceName: 'x', patternType: PatternType.LITERAL, principal: 'User:a', host: '*', operation: AclOperation.ALTER, permission: AclPermission.ALLOW }]);
      assert.match(String(refused[0]?.message), /INVALID_REQUEST: The only valid name for the CLUSTER resource is kafka-cluster/);
    } finally {
      await admin.close();
    }
  });

  it('kafkajs describes and creates ACLs as a super user; alice is refused CLUSTER_AUTHORIZATION_FAILED', async () => {
    const client = (username: string, password: string) => new Kafka({ clientId: 'acl-kafkajs', brokers: [`127.0.0.1:${saslPort}`], sasl: { mechanism: 'plain', username, password }, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    const admin = client('admin', 'admin-secret');
    await admin.connect();
    try {
      const filter = { resourceType: AclResourceTypes.TOPIC, resourceName: 'orders', resourcePatternType: ResourcePatternTypes.LITERAL, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY };
      const described = await admin.describeAcls(filter);
      const entries = described.resources.flatMap((r) => r.acls.map((a) => `${a.principal} ${a.operation} ${a.permissionType}`)).sort();
      assert.deepEqual(entries, [`User:alice ${AclOperationTypes.READ} ${AclPermissionTypes.ALLOW}`, `User:alice ${AclOperationTypes.DESCRIBE} ${AclPermissionTypes.ALLOW}`].sort());
      await admin.createAcls({ acl: [{ resourceType: AclResourceTypes.GROUP, resourceName: 'g1', resourcePatternType: ResourcePatternTypes.LITERAL, principal: 'User:alice', host: '*', operation: AclOperationTypes.READ, permissionType: AclPermissionTypes.ALLOW }] });
      const groups = await admin.describeAcls({ ...filter, resourceType: AclResourceTypes.GROUP, resourceName: 'g1' });
      assert.equal(groups.resources.length, 1);
    } finally {
      await admin.disconnect();
    }
    const alice = client('alice', 'alice-secret');
    await alice.connect();
    try {
      await assert.rejects(
        alice.describeAcls({ resourceType: AclResourceTypes.ANY, resourcePatternType: ResourcePatternTypes.ANY, operation: AclOperationTypes.ANY, permissionType: AclPermissionTypes.ANY }),
        (e: unknown) => e instanceof Error && /CLUSTER_AUTHORIZATION_FAILED|Cluster authorization failed/.test(`${(e as { type?: string }).type} ${e.message}`),
      );
    } finally {
      await alice.disconnect();
    }
  });

  it('the data and group APIs apply the ACLs: kcat and confluent-kafka as alice', async () => {
    const bs = `127.0.0.1:${saslPort}`;
    const as = (user: string, password: string) => ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', `sasl.username=${user}`, '-X', `sasl.password=${password}`];
    for (const topic of ['orders', 'secret']) assertOk(await kcat(['-P', '-b', bs, ...as('admin', 'admin-secret'), '-t', topic, '-p', '0'], { input: `${topic}-1\n` }), `admin produces to ${topic}`);
    const listed = await kcat(['-L', '-b', bs, ...as('alice', 'alice-secret')]);
    assertOk(listed, 'alice lists topics');
    assert.match(listed.stdout, /topic "orders"/);
    assert.doesNotMatch(listed.stdout, /topic "secret"/, 'Metadata leaves out what alice may not DESCRIBE');
    const refused = await kcat(['-P', '-b', bs, ...as('alice', 'alice-secret'), '-t', 'orders', '-p', '0'], { input: 'a1\n' });
    assert.match(refused.stderr, /Topic authorization failed/i, 'READ and DESCRIBE do not allow WRITE');
    assert.equal((await acls(['--add', '--allow-principal', 'User:alice', '--operation', 'Write', '--topic', 'orders'])).code, 0);
    assertOk(await kcat(['-P', '-b', bs, ...as('alice', 'alice-secret'), '-t', 'orders', '-p', '0'], { input: 'a1\n' }), 'alice produces once allowed WRITE');
    const read = await kcat(['-C', '-b', bs, ...as('alice', 'alice-secret'), '-t', 'orders', '-p', '0', '-o', 'beginning', '-e', '-q']);
    assert.equal(read.stdout.trim(), 'orders-1\na1');
    const noRead = await kcat(['-C', '-b', bs, ...as('alice', 'alice-secret'), '-t', 'secret', '-p', '0', '-o', 'beginning', '-e', '-q'], { timeoutMs: 30_000 });
    assert.match(noRead.stderr, /Topic authorization failed/i);
    const groups = await python<{ g1: string[]; g2: string }>(
      String.raw`
import json, sys
from confluent_kafka import Consumer
def consume(group):
    errors = []
    c = Consumer({'bootstrap.servers': sys.argv[1], 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': 'alice-secret', 'group.id': group, 'auto.offset.reset': 'earliest', 'error_cb': lambda e: errors.append(e.str())})
    c.subscribe(['orders'])
    got = []
    for _ in range(20):
        m = c.poll(1)
        if m is None:
            if errors or len(got) >= 2: break
            continue
        if m.error():
            errors.append(m.error().str()); break
        got.append(m.value().decode())
        if len(got) >= 2: break
    c.close()
    return got, errors
g1, _ = consume('g1')
_, e2 = consume('g2')
print(json.dumps({'g1': g1, 'g2': ' '.join(e2)}))
`,
      [bs],
      90_000,
    );
    assert.deepEqual(groups.g1, ['orders-1', 'a1'], 'group g1: alice has READ on it (granted through kafkajs above)');
    assert.match(groups.g2, /Group authorization failed/i, 'group g2: no ACL');

    // Transactions: WRITE on the transactional id (kafka-acls --producer --transactional-id).
    const txn = String.raw`
import json, sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': 'alice-secret', 'transactional.id': 'tx-alice'})
try:
    p.init_transactions(15)
    p.begin_transaction()
    p.produce('orders', value=b't1', partition=0)
    p.commit_transaction(15)
    print(json.dumps({'result': 'committed'}))
except Exception as e:
    print(json.dumps({'result': str(e)}))
`;
    const before = await python<{ result: string }>(txn, [bs], 60_000);
    assert.match(before.result, /Transactional Id authorization failed|TRANSACTIONAL_ID_AUTHORIZATION_FAILED/i);
    assert.equal((await acls(['--add', '--producer', '--transactional-id', 'tx-alice', '--topic', 'orders', '--allow-principal', 'User:alice'])).code, 0);
    const after = await python<{ result: string }>(txn, [bs], 60_000);
    assert.equal(after.result, 'committed');
  });

  it('kafka-acls removes with --force; ACLs survive a restart', async () => {
    const removed = await acls(['--remove', '--force', '--topic', 'orders']);
    assert.equal(removed.code, 0, removed.stderr);
    await broker.stop();
    await broker.start();
    const list = await acls(['--list']);
    assert.doesNotMatch(list.stdout, /name=orders/);
    assert.match(list.stdout, /name=pay-, patternType=PREFIXED/);
    const bob = await acls(['--list', '--principal', 'User:bob']);
    assert.match(bob.stdout, /^ACLs for principal `User:bob`\n/);
    assert.doesNotMatch(bob.stdout, /mallory/);
  });

  it('a broker without an authorizer answers SECURITY_DISABLED', async () => {
    const plain = new BrokerProcess({});
    await plain.start();
    try {
      const list = await run(process.execPath, [tributaryBin, 'acls', '--bootstrap-server', plain.bootstrap, '--list'], { timeoutMs: 30_000 });
      assert.equal(list.code, 1);
      assert.match(list.stderr, /Error while executing ACL command: No Authorizer is configured on the broker/);
    } finally {
      await plain.destroy();
    }
  });
});
