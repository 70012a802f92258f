// kafkajs (pure JavaScript client) against a broker process: admin createTopics / deleteTopics /
// listTopics / fetchTopicMetadata / fetchTopicOffsets / fetchTopicOffsetsByTimestamp, and the
// producer with gzip and no compression at every acks setting, idempotent, keyed with its
// default (murmur2) partitioner. Records are read back with kcat (kafkajs consumers need groups).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { kcatConsume, murmur2Partition } from './support.js';

const { Kafka, CompressionTypes, logLevel } = kafkajs;
type Admin = ReturnType<InstanceType<typeof Kafka>['admin']>;
type Producer = ReturnType<InstanceType<typeof Kafka>['producer']>;

describe('kafkajs', () => {
  let broker: BrokerProcess;
  let kafka: InstanceType<typeof Kafka>;
  let admin: Admin;
  const producers: Producer[] = [];

  before(async () => {
    broker = await startBroker({ overrides: { 'num.partitions': '2' } });
    kafka = new Kafka({ clientId: 'tributary-it', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 3 } });
    admin = kafka.admin();
    await admin.connect();
  });
  after(async () => {
    for (const p of producers) await p.disconnect().catch(() => {});
    await admin?.disconnect().catch(() => {});
    await broker?.destroy();
  });

  async function producer(opts: { idempotent?: boolean } = {}): Promise<Producer> {
    const p = kafka.producer({ idempotent: opts.idempotent ?? false, allowAutoTopicCreation: true, maxInFlightRequests: opts.idempotent === true ? 1 : 5 });
    await p.connect();
    producers.push(p);
    return p;
  }

  it('admin creates topics with configs, reports existing ones, lists and deletes them', async () => {
    const created = await admin.createTopics({
      waitForLeaders: true,
      topics: [
        { topic: 'kj-admin-a', numPartitions: 3, configEntries: [{ name: 'retention.ms', value: '7200000' }] },
        { topic: 'kj-admin-b', numPartitions: 1 },
      ],
    });
    assert.equal(created, true);
    // kafkajs answers false when every topic already exists.
    assert.equal(await admin.createTopics({ topics: [{ topic: 'kj-admin-a', numPartitions: 3 }] }), false);
    const meta = await admin.fetchTopicMetadata({ topics: ['kj-admin-a', 'kj-admin-b'] });
    assert.deepEqual(
      meta.topics.map((t) => [t.name, t.partitions.length]).sort(),
      [
        ['kj-admin-a', 3],
        ['kj-admin-b', 1],
      ],
    );
    for (const p of meta.topics[0]!.partitions) assert.equal(p.leader, 1);
    assert.ok((await admin.listTopics()).includes('kj-admin-a'));
    await admin.deleteTopics({ topics: ['kj-admin-a', 'kj-admin-b'] });
    const left = (await admin.listTopics()).filter((t) => t.startsWith('kj-admin'));
    assert.deepEqual(left, []);
    await assert.rejects(admin.deleteTopics({ topics: ['kj-admin-never-existed'] }), /does not host this topic-partition|UNKNOWN_TOPIC_OR_PARTITION/i);
  });

  for (const [codecName, codec] of [
    ['none', CompressionTypes.None],
    ['gzip', CompressionTypes.GZIP],
  ] as const) {
    for (const acks of [0, 1, -1]) {
      it(`produces keyed records with ${codecName} at acks=${acks}; kcat reads them back in order`, async () => {
        const topic = `kj-${codecName}-acks${acks < 0 ? 'all' : acks}`;
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
        const p = await producer({ idempotent: false });
        const sent: string[] = [];
        for (let round = 0; round < 3; round++) {
          const messages = Array.from({ length: 10 }, (_, i) => ({ key: `k${i % 3}`, value: `${codecName}-${acks}-${round * 10 + i}-${'z'.repeat(i * 13)}` }));
          const meta = await p.send({ topic, acks, compression: codec, messages });
          sent.push(...messages.map((m) => `${m.key}:${m.value}`));
          // acks=0 has no response, so kafkajs reports nothing; otherwise the base offset of each batch.
          if (acks !== 0) assert.equal(meta[0]!.baseOffset, String(round * 10));
        }
        const got = await kcatConsume(broker.bootstrap, topic);
        assert.deepEqual(got.map((r) => `${r.key}:${r.value}`), sent);
        assert.deepEqual(got.map((r) => r.offset), sent.map((_, i) => i));
      });
    }
  }

  it('auto-creates a topic on first send and places keys with its murmur2 partitioner', async () => {
    const p = await producer({ idempotent: true });
    const topic = 'kj-auto-keyed';
    const messages = Array.from({ length: 60 }, (_, i) => ({ key: `order-${i % 10}`, value: String(i) }));
    for (let i = 0; i < messages.length; i += 15) await p.send({ topic, acks: -1, compression: CompressionTypes.GZIP, messages: messages.slice(i, i + 15) });
    const meta = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(meta.topics[0]!.partitions.length, 2, 'num.partitions of the broker');
    const got = await kcatConsume(broker.bootstrap, topic);
    assert.equal(got.length, 60, 'exactly once from an idempotent producer');
    const used = new Set<number>();
    for (const r of got) {
      assert.equal(r.partition, murmur2Partition(r.key, 2), `key ${r.key}`);
      used.add(r.partition);
    }
    assert.equal(used.size, 2, 'keys should spread over both partitions');
    for (const part of used) {
      const seq = got.filter((r) => r.partition === part).sort((a, b) => a.offset - b.offset).map((r) => Number(r.value));
      assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `partition ${part} order`);
    }
  });

  it('fetchTopicOffsets and fetchTopicOffsetsByTimestamp answer earliest, latest and by time', async () => {
    const topic = 'kj-offsets';
    await admin.createTopics({ topics: [{ topic, numPartitions: 2 }] });
    const p = await producer();
    const base = Date.now() - 60_000;
    // Partition 0: ten records 1 s apart (explicit CreateTime); partition 1 stays empty.
    await p.send({ topic, acks: -1, messages: Array.from({ length: 10 }, (_, i) => ({ partition: 0, value: String(i), timestamp: String(base + i * 1000) })) });
    const offsets = (await admin.fetchTopicOffsets(topic)).sort((a, b) => a.partition - b.partition);
    assert.deepEqual(
      offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high })),
      [
        { partition: 0, low: '0', high: '10' },
        { partition: 1, low: '0', high: '0' },
      ],
    );
    const at = async (ts: number) => (await admin.fetchTopicOffsetsByTimestamp(topic, ts)).find((o) => o.partition === 0)!.offset;
    assert.equal(await at(base - 1), '0');
    assert.equal(await at(base + 3500), '4');
    assert.equal(await at(base + 9000), '9');
    // After the last record the broker answers -1; kafkajs turns that into the latest offset.
    assert.equal(await at(base + 30_000), '10');
  });
});
