// Consumer groups with kafkajs (two consumers split a topic, consume and commit; the admin API
// sees the group and its offsets) and with kcat's balanced consumer (-G), against a broker process.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';
import { assertOk, CONSUME_FORMAT, eventually, kcatProduce, parseConsumed } from './support.js';

const { Kafka, logLevel } = kafkajs;

describe('consumer groups with kafkajs and kcat', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': '4' } });
  });
  after(async () => {
    await broker.destroy();
  });

  it('kafkajs consumers split a topic, consume every record once and commit', async () => {
    const kafka = new Kafka({ clientId: 'groups-test', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'kjs', numPartitions: 4 }] });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'kjs', messages: Array.from({ length: 40 }, (_, i) => ({ key: `k${i}`, value: `v${i}` })) });
    await producer.disconnect();

    const received = new Map<string, Set<number>>();
    const consumers = ['a', 'b'].map((name) => {
      const c = kafka.consumer({ groupId: 'kjs-group', sessionTimeout: 10_000, heartbeatInterval: 500, rebalanceTimeout: 10_000 });
      return { name, c };
    });
    try {
      for (const { name, c } of consumers) {
        received.set(name, new Set());
        await c.connect();
        await c.subscribe({ topic: 'kjs', fromBeginning: true });
        await c.run({
          eachMessage: async ({ partition, message }) => {
            received.get(name)!.add(partition);
            received.set(`${name}:values`, (received.get(`${name}:values`) ?? new Set()).add(Number(message.value!.toString().slice(1))));
          },
        });
      }
      await eventually('both members see the group stable with 2 partitions each', async () => {
        const d = await admin.describeGroups(['kjs-group']);
        const g = d.groups[0]!;
        return g.state === 'Stable' && g.members.length === 2 ? g : undefined;
      });
      await eventually('committed offsets cover all 40 records', async () => {
        const offsets = await admin.fetchOffsets({ groupId: 'kjs-group', topics: ['kjs'] });
        const sum = offsets[0]!.partitions.reduce((s, p) => s + Math.max(Number(p.offset), 0), 0);
        return sum === 40 ? true : undefined;
      });
      const values = new Set([...(received.get('a:values') ?? []), ...(received.get('b:values') ?? [])]);
      assert.equal(values.size, 40);
      const listed = await admin.listGroups();
      assert.ok(listed.groups.some((g) => g.groupId === 'kjs-group' && g.protocolType === 'consumer'));
    } finally {
      for (const { c } of consumers) await c.disconnect();
    }
    const after = await admin.describeGroups(['kjs-group']);
    assert.equal(after.groups[0]!.state, 'Empty', 'both members left');
    await admin.deleteGroups(['kjs-group']);
    const gone = await admin.describeGroups(['kjs-group']);
    assert.equal(gone.groups[0]!.state, 'Dead');
    await admin.disconnect();
  });

  it('kcat -G consumes as a group member and commits, so a second run reads only new records', async () => {
    await kcatProduce(broker.bootstrap, 'kc', Array.from({ length: 10 }, (_, i) => `k${i}:first${i}`));
    const consume = () =>
      kcat(['-b', broker.bootstrap, '-G', 'kcat-group', '-X', 'auto.offset.reset=earliest', '-e', '-q', '-f', CONSUME_FORMAT, '-X', 'enable.auto.commit=true', '-X', 'auto.commit.interval.ms=100', 'kc'], {
        timeoutMs: 30_000,
      });
    const first = await consume();
    assertOk(first, 'kcat -G');
    assert.equal(parseConsumed(first.stdout).length, 10);
    await kcatProduce(broker.bootstrap, 'kc', ['x:second']);
    const second = await consume();
    assertOk(second, 'kcat -G (second run)');
    assert.deepEqual(
      parseConsumed(second.stdout).map((r) => r.value),
      ['second'],
    );
  });
});
