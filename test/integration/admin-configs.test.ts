// DescribeConfigs, AlterConfigs and IncrementalAlterConfigs against an in-process broker with a
// data dir, driven by kafkajs, confluent-kafka (librdkafka) and, for IncrementalAlterConfigs
// (which neither installed client sends), raw requests through the generated codecs. Checks
// values and sources, Kafka's error codes and messages, persistence across a restart, and that
// segment.bytes / retention.bytes changes reach the partition logs.
import assert from 'node:assert/strict';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { Broker } from '../../src/node/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ConsumerGroupHeartbeatRequest } from '../../src/protocol/messages/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse } from '../../src/protocol/messages/ConsumerGroupHeartbeatResponse.js';
import { DescribeConfigsRequest } from '../../src/protocol/messages/DescribeConfigsRequest.js';
import { DescribeConfigsResponse } from '../../src/protocol/messages/DescribeConfigsResponse.js';
import { IncrementalAlterConfigsRequest } from '../../src/protocol/messages/IncrementalAlterConfigsRequest.js';
import { IncrementalAlterConfigsResponse } from '../../src/protocol/messages/IncrementalAlterConfigsResponse.js';
import { tempDir } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';

const { Kafka, ConfigResourceTypes, logLevel } = kafkajs;
type Admin = ReturnType<InstanceType<typeof Kafka>['admin']>;

const TOPIC = 2;
const BROKER = 4;
const GROUP = 32;
const SET = 0;
const DELETE = 1;
const APPEND = 2;
const SUBTRACT = 3;

describe('admin configs', () => {
  const dataDir = tempDir('tributary-admin-configs-');
  let broker: Broker;
  let admin: Admin;
  let kafka: InstanceType<typeof Kafka>;
  const overrides = { 'log.retention.check.interval.ms': '100', 'log.segment.delete.delay.ms': '0' };

  async function connectAdmin(): Promise<void> {
    kafka = new Kafka({ clientId: 'admin-configs', brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    admin = kafka.admin();
    await admin.connect();
  }

  before(async () => {
    broker = await Broker.start({ dataDir, overrides });
    await connectAdmin();
  });
  after(async () => {
    await admin?.disconnect().catch(() => {});
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function topicConfig(topic: string, name: string) {
    const res = await admin.describeConfigs({ includeSynonyms: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: topic, configNames: [name] }] });
    assert.equal(res.resources.length, 1);
    assert.equal(res.resources[0]!.configEntries.length, 1);
    return res.resources[0]!.configEntries[0]!;
  }

  async function incremental(resources: { resourceType: number; resourceName: string; configs: { name: string; configOperation: number; value: string | null }[] }[], validateOnly = false) {
    const wire = await WireClient.open(broker.bootstrapServers);
    try {
      const res = await wire.send(IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, 1, { resources, validateOnly });
      return res.responses;
    } finally {
      wire.close();
    }
  }

  it('kafkajs describeConfigs reports topic values with sources, synonyms and the configurationKeys filter', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-a', numPartitions: 1, configEntries: [{ name: 'retention.ms', value: '7200000' }] }] });
    const retention = await topicConfig('cfg-a', 'retention.ms');
    assert.equal(retention.configValue, '7200000');
    assert.equal(retention.configSource, 1); // DYNAMIC_TOPIC_CONFIG
    assert.equal(retention.readOnly, false);
    assert.equal(retention.isSensitive, false);
    assert.equal(retention.configSynonyms[0]!.configName, 'retention.ms');
    assert.ok(retention.configSynonyms.some((s) => s.configSource === 5)); // the broker default follows
    const cleanup = await topicConfig('cfg-a', 'cleanup.policy');
    assert.equal(cleanup.configValue, 'delete');
    assert.equal(cleanup.configSource, 5); // DEFAULT_CONFIG
    const all = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-a' }] });
    const names = all.resources[0]!.configEntries.map((e) => e.configName);
    for (const n of ['cleanup.policy', 'retention.bytes', 'segment.bytes', 'max.message.bytes', 'min.insync.replicas']) assert.ok(names.includes(n), n);
  });

  it('describes an unknown topic as UNKNOWN_TOPIC_OR_PARTITION and a wrong broker id as INVALID_REQUEST', async () => {
    await assert.rejects(
      admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-missing' }] }),
      (err: Error & { type?: string }) => err.type === 'UNKNOWN_TOPIC_OR_PARTITION',
    );
    const wire = await WireClient.open(broker.bootstrapServers);
    try {
      const res = await wire.send(DescribeConfigsRequest, DescribeConfigsResponse, 4, {
        resources: [
          { resourceType: BROKER, resourceName: '7', configurationKeys: null },
          { resourceType: BROKER, resourceName: 'x', configurationKeys: null },
          { resourceType: TOPIC, resourceName: 'cfg-missing', configurationKeys: null },
        ],
        includeSynonyms: true,
        includeDocumentation: false,
      });
      assert.deepEqual(
        res.results.map((r) => [r.errorCode, r.errorMessage]),
        [
          [ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1 or empty string, but received 7'],
          [ErrorCode.INVALID_REQUEST, 'Broker id must be an integer, but it is: x'],
          [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, null],
        ],
      );
    } finally {
      wire.close();
    }
  });

  it('describes the broker: static and default sources, read-only flags, config types (v4)', async () => {
    const wire = await WireClient.open(broker.bootstrapServers);
    try {
      const res = await wire.send(DescribeConfigsRequest, DescribeConfigsResponse, 4, {
        resources: [{ resourceType: BROKER, resourceName: '1', configurationKeys: ['log.retention.check.interval.ms', 'log.retention.hours', 'log.segment.bytes', 'num.partitions'] }],
        includeSynonyms: true,
        includeDocumentation: false,
      });
      const byName = new Map(res.results[0]!.configs.map((c) => [c.name, c]));
      assert.equal(byName.size, 4);
      assert.equal(byName.get('log.retention.check.interval.ms')!.value, '100');
      assert.equal(byName.get('log.retention.check.interval.ms')!.configSource, 4); // STATIC_BROKER_CONFIG
      assert.equal(byName.get('log.retention.hours')!.value, '168');
      assert.equal(byName.get('log.retention.hours')!.configSource, 5);
      assert.equal(byName.get('log.retention.hours')!.readOnly, true);
      assert.equal(byName.get('log.segment.bytes')!.readOnly, false);
      assert.equal(byName.get('log.segment.bytes')!.configType, 3); // INT
      assert.equal(byName.get('num.partitions')!.readOnly, true);
    } finally {
      wire.close();
    }
  });

  it('kafkajs alterConfigs replaces the whole set of overrides; validateOnly changes nothing', async () => {
    await admin.alterConfigs({ validateOnly: true, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-a', configEntries: [{ name: 'segment.bytes', value: '1048576' }] }] });
    assert.equal((await topicConfig('cfg-a', 'retention.ms')).configValue, '7200000');
    assert.equal((await topicConfig('cfg-a', 'segment.bytes')).configSource, 5);
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-a', configEntries: [{ name: 'segment.bytes', value: '1048576' }] }] });
    const segment = await topicConfig('cfg-a', 'segment.bytes');
    assert.equal(segment.configValue, '1048576');
    assert.equal(segment.configSource, 1);
    const retention = await topicConfig('cfg-a', 'retention.ms');
    assert.equal(retention.configValue, '604800000'); // the override is gone
    assert.notEqual(retention.configSource, 1);
  });

  it('kafkajs alterConfigs errors: invalid value -> INVALID_CONFIG with message, unknown topic, unknown key', async () => {
    const attempt = (name: string, key: string, value: string) =>
      admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name, configEntries: [{ name: key, value }] }] });
    // kafkajs keeps only the error code (the message is checked with librdkafka below).
    await assert.rejects(attempt('cfg-a', 'retention.ms', '-5'), (err: Error & { type?: string }) => err.type === 'INVALID_CONFIG');
    await assert.rejects(attempt('cfg-a', 'no.such.config', '1'), (err: Error & { type?: string }) => err.type === 'INVALID_CONFIG');
    await assert.rejects(attempt('cfg-nope', 'retention.ms', '1000'), (err: Error & { type?: string }) => err.type === 'UNKNOWN_TOPIC_OR_PARTITION');
    assert.equal((await topicConfig('cfg-a', 'segment.bytes')).configValue, '1048576');
  });

  it('confluent-kafka describe_configs and alter_configs (librdkafka)', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-py', numPartitions: 1 }] });
    const script = `
import json, sys
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({'bootstrap.servers': sys.argv[1]})
out = {}
f = a.alter_configs([ConfigResource('topic', 'cfg-py', set_config={'retention.ms': '3600000', 'cleanup.policy': 'compact'})])
for r, fut in f.items(): fut.result(timeout=10)
d = a.describe_configs([ConfigResource('topic', 'cfg-py')])
for r, fut in d.items():
    entries = fut.result(timeout=10)
    out['retention'] = [entries['retention.ms'].value, entries['retention.ms'].source]
    out['cleanup'] = entries['cleanup.policy'].value
    out['segment_default'] = entries['segment.bytes'].is_default
try:
    for r, fut in a.alter_configs([ConfigResource('topic', 'cfg-py', set_config={'segment.bytes': 'abc'})]).items(): fut.result(timeout=10)
    out['bad'] = None
except KafkaException as e:
    out['bad'] = [e.args[0].code(), e.args[0].str()]
try:
    for r, fut in a.describe_configs([ConfigResource('topic', 'cfg-py-missing')]).items(): fut.result(timeout=10)
    out['missing'] = None
except KafkaException as e:
    out['missing'] = e.args[0].code()
b = a.describe_configs([ConfigResource('broker', '1')])
for r, fut in b.items():
    entries = fut.result(timeout=10)
    out['broker_ro'] = [entries['log.retention.hours'].is_read_only, entries['log.retention.ms'].is_read_only]
print(json.dumps(out))
`;
    const out = await python<{ retention: [string, number]; cleanup: string; segment_default: boolean; bad: [number, string]; missing: number; broker_ro: [boolean, boolean] }>(script, [broker.bootstrapServers]);
    assert.deepEqual(out.retention, ['3600000', 1]);
    assert.equal(out.cleanup, 'compact');
    assert.equal(out.segment_default, true);
    assert.equal(out.bad[0], ErrorCode.INVALID_CONFIG);
    assert.match(out.bad[1], /Invalid value abc for configuration segment.bytes/);
    assert.equal(out.missing, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.deepEqual(out.broker_ro, [true, false]);
  });

  it('IncrementalAlterConfigs: APPEND / SUBTRACT on list configs, SET, DELETE, and Kafka errors', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-inc', numPartitions: 1 }] });
    let r = await incremental([{ resourceType: TOPIC, resourceName: 'cfg-inc', configs: [{ name: 'cleanup.policy', configOperation: APPEND, value: 'compact' }, { name: 'retention.ms', configOperation: SET, value: '1000000' }] }]);
    assert.deepEqual(r.map((x) => [x.errorCode, x.errorMessage]), [[0, null]]);
    assert.equal((await topicConfig('cfg-inc', 'cleanup.policy')).configValue, 'delete,compact');
    r = await incremental([{ resourceType: TOPIC, resourceName: 'cfg-inc', configs: [{ name: 'cleanup.policy', configOperation: SUBTRACT, value: 'delete' }, { name: 'retention.ms', configOperation: DELETE, value: null }] }]);
    assert.equal(r[0]!.errorCode, 0);
    assert.equal((await topicConfig('cfg-inc', 'cleanup.policy')).configValue, 'compact');
    assert.equal((await topicConfig('cfg-inc', 'retention.ms')).configSource, 5);

    r = await incremental([
      { resourceType: TOPIC, resourceName: 'cfg-inc', configs: [{ name: 'retention.ms', configOperation: APPEND, value: '5' }] },
      { resourceType: TOPIC, resourceName: 'cfg-missing', configs: [{ name: 'retention.ms', configOperation: SET, value: '5000' }] },
      { resourceType: TOPIC, resourceName: 'cfg-a', configs: [{ name: 'retention.ms', configOperation: SET, value: '1' }, { name: 'retention.ms', configOperation: DELETE, value: null }] },
      { resourceType: TOPIC, resourceName: 'cfg-py', configs: [{ name: 'retention.ms', configOperation: SET, value: null }] },
      { resourceType: TOPIC, resourceName: 'cfg-py', configs: [{ name: 'min.insync.replicas', configOperation: SET, value: '0' }] },
    ]);
    assert.deepEqual(
      r.map((x) => [x.resourceName, x.errorCode, x.errorMessage]),
      [
        ['cfg-inc', ErrorCode.INVALID_CONFIG, "Can't APPEND to key retention.ms because its type is not LIST."],
        ['cfg-missing', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, "The topic 'cfg-missing' does not exist."],
        ['cfg-a', ErrorCode.INVALID_REQUEST, 'Error due to duplicate config keys'],
        ['cfg-py', ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
        ['cfg-py', ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'],
      ],
    );
    // validateOnly checks and changes nothing.
    r = await incremental([{ resourceType: TOPIC, resourceName: 'cfg-inc', configs: [{ name: 'retention.ms', configOperation: SET, value: '99000' }] }], true);
    assert.equal(r[0]!.errorCode, 0);
    assert.equal((await topicConfig('cfg-inc', 'retention.ms')).configSource, 5);
  });

  it('dynamic broker configs: cluster default log.retention.ms reaches topics; read-only keys are refused', async () => {
    let r = await incremental([{ resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '5400000' }] }]);
    assert.deepEqual(r.map((x) => [x.errorCode, x.errorMessage]), [[0, null]]);
    const retention = await topicConfig('cfg-inc', 'retention.ms');
    assert.equal(retention.configValue, '5400000');
    assert.equal(retention.configSource, 3); // DYNAMIC_DEFAULT_BROKER_CONFIG
    assert.equal(broker.replicas.get('cfg-inc', 0)!.store.config.retentionMs, 5400000);
    r = [
      ...(await incremental([
        { resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.retention.hours', configOperation: SET, value: '1' }] },
        { resourceType: BROKER, resourceName: '2', configs: [{ name: 'log.retention.ms', configOperation: SET, value: '1' }] },
      ])),
      ...(await incremental([{ resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.segment.bytes', configOperation: SET, value: 'big' }] }])),
    ];
    assert.deepEqual(
      r.map((x) => [x.errorCode, x.errorMessage]),
      [
        [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(log.retention.hours)'],
        [ErrorCode.INVALID_REQUEST, 'Unexpected broker id, expected 1, but received 2'],
        [ErrorCode.INVALID_REQUEST, 'Invalid value big for configuration log.segment.bytes: expected an integer'],
      ],
    );
    // The cluster-default resource lists exactly the dynamic defaults.
    // (kafkajs refuses an empty resource name, so this one goes over the wire directly.)
    const wire = await WireClient.open(broker.bootstrapServers);
    try {
      const d = await wire.send(DescribeConfigsRequest, DescribeConfigsResponse, 2, {
        resources: [{ resourceType: BROKER, resourceName: '', configurationKeys: null }],
        includeSynonyms: true,
        includeDocumentation: false,
      });
      assert.deepEqual(
        d.results[0]!.configs.map((e) => [e.name, e.value, e.configSource, e.synonyms.map((s) => s.source)]),
        [['log.retention.ms', '5400000', 3, [3]]],
      );
    } finally {
      wire.close();
    }
  });

  it("dynamic broker configs: Kafka's per-broker listener, SSL and SASL keys (librdkafka 0081), and where they may be set", async () => {
    // librdkafka's own AlterConfigs test sets a SASL key on a broker; Kafka stores such keys per
    // broker, describes them back with their dynamic source, and hides passwords.
    const script = `
import json, sys
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, ConfigResource
a = AdminClient({'bootstrap.servers': sys.argv[1]})
out = {}
def alter(name, configs):
    try:
        for r, fut in a.alter_configs([ConfigResource('broker', name, set_config=configs)]).items(): fut.result(timeout=10)
        return None
    except KafkaException as e:
        return [e.args[0].code(), e.args[0].str()]
out['ok'] = alter('1', {'sasl.kerberos.min.time.before.relogin': '58000', 'listener.name.plaintext.ssl.keystore.password': 'secret', 'num.io.threads': '4'})
out['unprefixed_ssl'] = alter('1', {'ssl.keystore.location': '/tmp/ks.jks'})
out['bad_type'] = alter('1', {'sasl.kerberos.min.time.before.relogin': 'soon'})
out['fixed'] = alter('1', {'node.id': '5'})
for r, fut in a.describe_configs([ConfigResource('broker', '1')]).items():
    e = fut.result(timeout=10)
    out['relogin'] = [e['sasl.kerberos.min.time.before.relogin'].value, e['sasl.kerberos.min.time.before.relogin'].source, e['sasl.kerberos.min.time.before.relogin'].is_read_only]
    pw = e['listener.name.plaintext.ssl.keystore.password']
    out['password'] = [pw.value, pw.is_sensitive, pw.source]
    out['io_threads'] = [e['num.io.threads'].value, e['num.io.threads'].source]
print(json.dumps(out))
`;
    type Outcome = [number, string] | null;
    const out = await python<{ ok: Outcome; unprefixed_ssl: Outcome; bad_type: Outcome; fixed: Outcome; relogin: [string, number, boolean]; password: [string | null, boolean, number]; io_threads: [string, number] }>(script, [broker.bootstrapServers]);
    assert.equal(out.ok, null);
    // (confluent-kafka 1.7 refuses an empty resource name: the cluster default goes over the wire.)
    const atDefault = await incremental([{ resourceType: BROKER, resourceName: '', configs: [{ name: 'listener.name.plaintext.sasl.kerberos.min.time.before.relogin', configOperation: SET, value: '58000' }, { name: 'max.connections', configOperation: SET, value: '1000' }] }]);
    assert.deepEqual(atDefault.map((x) => [x.errorCode, x.errorMessage]), [[ErrorCode.INVALID_REQUEST, 'Cannot update these configs at default cluster level, broker id must be specified: Set(listener.name.plaintext.sasl.kerberos.min.time.before.relogin)']]);
    assert.deepEqual(out.unprefixed_ssl, [ErrorCode.INVALID_REQUEST, 'These security configs can be dynamically updated only per-listener using the listener prefix: Set(ssl.keystore.location)']);
    assert.deepEqual(out.bad_type, [ErrorCode.INVALID_REQUEST, 'Invalid value soon for configuration sasl.kerberos.min.time.before.relogin: Not a number of type LONG']);
    assert.deepEqual(out.fixed, [ErrorCode.INVALID_REQUEST, 'Cannot update these configs dynamically: Set(node.id)']);
    assert.deepEqual(out.relogin, ['58000', 2, false]); // DYNAMIC_BROKER_CONFIG, changeable
    assert.deepEqual(out.password, [null, true, 2]);
    assert.deepEqual(out.io_threads, ['4', 2]);
  });

  it('segment.bytes and retention.bytes set with AlterConfigs take effect on the partition log', async () => {
    await admin.createTopics({ topics: [{ topic: 'cfg-retention', numPartitions: 1 }] });
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-retention', configEntries: [{ name: 'segment.bytes', value: '16384' }] }] });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      for (let i = 0; i < 50; i++) {
        await producer.send({ topic: 'cfg-retention', acks: -1, messages: Array.from({ length: 10 }, (_, j) => ({ value: `record-${i}-${j}-`.padEnd(200, 'x') })) });
      }
    } finally {
      await producer.disconnect();
    }
    const segments = () => readdirSync(join(dataDir, 'cfg-retention-0')).filter((f) => f.endsWith('.log')).length;
    assert.ok(segments() > 4, `expected several segments, got ${segments()}`);
    await admin.alterConfigs({
      validateOnly: false,
      resources: [{ type: ConfigResourceTypes.TOPIC, name: 'cfg-retention', configEntries: [{ name: 'segment.bytes', value: '16384' }, { name: 'retention.bytes', value: '20000' }] }],
    });
    // Retention runs on its timer (100 ms here): wait for the log start offset to move.
    let low = 0;
    for (let i = 0; i < 100 && low === 0; i++) {
      const offsets = await admin.fetchTopicOffsets('cfg-retention');
      low = Number(offsets[0]!.low);
      if (low === 0) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(low > 0, 'retention.bytes deleted old segments');
    assert.ok(segments() <= 3, `segments left: ${segments()}`);
  });

  it('GROUP configs (type 32): set before the group exists, bounded by the broker, described, and used by KIP-848 heartbeats', async () => {
    const set = (name: string, value: string) => ({ name, configOperation: SET, value });
    let r = await incremental([{ resourceType: GROUP, resourceName: 'cfg-group', configs: [set('consumer.heartbeat.interval.ms', '6000'), set('consumer.session.timeout.ms', '50000')] }]);
    assert.deepEqual(r.map((x) => [x.errorCode, x.errorMessage]), [[0, null]]);
    r = await incremental([
      { resourceType: GROUP, resourceName: 'g1', configs: [set('consumer.heartbeat.interval.ms', '1000')] },
      { resourceType: GROUP, resourceName: 'g2', configs: [set('consumer.session.timeout.ms', '90000')] },
      { resourceType: GROUP, resourceName: 'g3', configs: [set('consumer.session.timeout.ms', 'soon')] },
      { resourceType: GROUP, resourceName: 'g4', configs: [set('session.timeout.ms', '50000')] },
      { resourceType: GROUP, resourceName: '', configs: [set('consumer.session.timeout.ms', '50000')] },
    ]);
    assert.deepEqual(
      r.map((x) => [x.errorCode, x.errorMessage]),
      [
        [ErrorCode.INVALID_CONFIG, 'consumer.heartbeat.interval.ms must be greater than or equal to group.consumer.min.heartbeat.interval.ms'],
        [ErrorCode.INVALID_CONFIG, 'consumer.session.timeout.ms must be less than or equal to group.consumer.max.session.timeout.ms'],
        [ErrorCode.INVALID_CONFIG, 'Invalid value soon for configuration consumer.session.timeout.ms: Not a number of type INT'],
        [ErrorCode.INVALID_CONFIG, 'Unknown group config name: session.timeout.ms'],
        [ErrorCode.INVALID_REQUEST, 'Default group resources are not allowed.'],
      ],
    );
    const wire = await WireClient.open(broker.bootstrapServers);
    try {
      const d = await wire.send(DescribeConfigsRequest, DescribeConfigsResponse, 4, {
        resources: [{ resourceType: GROUP, resourceName: 'cfg-group', configurationKeys: ['consumer.heartbeat.interval.ms', 'consumer.session.timeout.ms', 'share.record.lock.duration.ms'] }],
        includeSynonyms: true,
        includeDocumentation: false,
      });
      assert.equal(d.results[0]!.errorCode, 0);
      assert.deepEqual(
        d.results[0]!.configs.map((e) => [e.name, e.value, e.configSource, e.configType, e.synonyms.map((s) => [s.name, s.value, s.source])]),
        [
          ['consumer.session.timeout.ms', '50000', 8, 3, [['consumer.session.timeout.ms', '50000', 8], ['group.consumer.session.timeout.ms', '45000', 5]]],
          ['consumer.heartbeat.interval.ms', '6000', 8, 3, [['consumer.heartbeat.interval.ms', '6000', 8], ['group.consumer.heartbeat.interval.ms', '5000', 5]]],
          ['share.record.lock.duration.ms', '30000', 5, 3, [['group.share.record.lock.duration.ms', '30000', 5]]],
        ],
      );
      // The group's override reaches its members; another group keeps the broker's interval.
      const join = async (groupId: string) => {
        // The first heartbeat may find __consumer_offsets still being created (NOT_COORDINATOR).
        for (let attempt = 0; ; attempt++) {
          const res = await wire.send(ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, 0, {
            groupId, memberId: '', memberEpoch: 0, instanceId: null, rackId: null, rebalanceTimeoutMs: 30000,
            subscribedTopicNames: ['cfg-inc'], subscribedTopicRegex: null, serverAssignor: null, topicPartitions: [],
          });
          if ((res.errorCode !== ErrorCode.NOT_COORDINATOR && res.errorCode !== ErrorCode.COORDINATOR_NOT_AVAILABLE && res.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS) || attempt === 100) return res;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      };
      const [ours, other] = [await join('cfg-group'), await join('cfg-other')];
      assert.deepEqual([ours.errorCode, ours.heartbeatIntervalMs], [0, 6000]);
      assert.deepEqual([other.errorCode, other.heartbeatIntervalMs], [0, 5000]);
    } finally {
      wire.close();
    }
  });

  it('config changes survive a restart (topic overrides, dynamic broker configs, group configs)', async () => {
    await admin.disconnect();
    await broker.stop();
    broker = await Broker.start({ dataDir, overrides });
    await connectAdmin();
    assert.equal((await topicConfig('cfg-a', 'segment.bytes')).configValue, '1048576');
    assert.equal((await topicConfig('cfg-py', 'cleanup.policy')).configValue, 'compact');
    assert.equal((await topicConfig('cfg-inc', 'cleanup.policy')).configValue, 'compact');
    const retention = await topicConfig('cfg-inc', 'retention.ms');
    assert.deepEqual([retention.configValue, retention.configSource], ['5400000', 3]);
    assert.equal(broker.replicas.get('cfg-a', 0)!.store.config.segmentBytes, 1048576);
    assert.equal(broker.replicas.get('cfg-inc', 0)!.store.config.retentionMs, 5400000);
    const res = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: ConfigResourceTypes.BROKER, name: '1', configNames: ['sasl.kerberos.min.time.before.relogin', 'listener.name.plaintext.ssl.keystore.password'] }] });
    assert.deepEqual(
      res.resources[0]!.configEntries.map((e) => [e.configName, e.configValue, e.isSensitive]),
      [['listener.name.plaintext.ssl.keystore.password', null, true], ['sasl.kerberos.min.time.before.relogin', '58000', false]],
    );
    const wire = await WireClient.open(broker.bootstrapServers);
    try {
      const d = await wire.send(DescribeConfigsRequest, DescribeConfigsResponse, 4, {
        resources: [{ resourceType: GROUP, resourceName: 'cfg-group', configurationKeys: ['consumer.heartbeat.interval.ms'] }],
        includeSynonyms: false,
        includeDocumentation: false,
      });
      assert.deepEqual(d.results[0]!.configs.map((e) => [e.name, e.value, e.configSource]), [['consumer.heartbeat.interval.ms', '6000', 8]]);
    } finally {
      wire.close();
    }
  });
});
