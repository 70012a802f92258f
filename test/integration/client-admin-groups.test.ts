// Admin operations and consumer groups with our client against an in-process broker: topics,
// partitions, configs, offsets, records deletion, cluster; group membership with the range and
// cooperative-sticky assignors, rebalance callbacks, commits and their admin view.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Broker } from '../../src/node/broker.js';
import { Admin, Consumer, KafkaClientError, Producer, type TopicPartition } from '../../src/client/index.js';

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('admin client and consumer groups', () => {
  let broker: Broker;
  let bootstrap: string;
  let admin: Admin;
  before(async () => {
    broker = await Broker.start({ inMemory: true, overrides: { 'group.initial.rebalance.delay.ms': '0' } });
    bootstrap = broker.bootstrapServers;
    admin = new Admin({ bootstrapServers: bootstrap });
  });
  after(async () => {
    await admin?.close();
    await broker?.stop();
  });

  it('creates, describes, lists, grows and deletes topics with typed errors', async () => {
    const [created] = await admin.createTopics([{ topic: 'adm', numPartitions: 2, configs: { 'retention.ms': '86400000' } }]);
    assert.equal(created!.numPartitions, 2);
    await assert.rejects(admin.createTopics([{ topic: 'adm' }]), (e: unknown) => e instanceof KafkaClientError && e.code === 36 && !e.retriable && /adm/.test(e.message));
    assert.ok((await admin.listTopics()).includes('adm'));
    await admin.createPartitions([{ topic: 'adm', count: 4 }]);
    const [desc] = await admin.describeTopics(['adm']);
    assert.equal(desc!.partitions.length, 4);
    assert.equal(desc!.topicId, created!.topicId);
    await admin.deleteTopics(['adm']);
    await until('topic gone', async () => !(await admin.listTopics()).includes('adm'));
    await assert.rejects(admin.describeTopics(['adm']), (e: unknown) => e instanceof KafkaClientError && e.code === 3);
  });

  it('describes and alters configs (incremental set and delete, legacy replace)', async () => {
    await admin.createTopics([{ topic: 'cfg', numPartitions: 1 }]);
    await admin.incrementalAlterConfigs([{ type: 'topic', name: 'cfg', changes: [{ name: 'retention.ms', op: 'set', value: '1234' }, { name: 'cleanup.policy', op: 'set', value: 'compact' }] }]);
    let [cfg] = await admin.describeConfigs([{ type: 'topic', name: 'cfg' }], { includeSynonyms: true });
    const retention = cfg!.entries.find((e) => e.name === 'retention.ms')!;
    assert.equal(retention.value, '1234');
    assert.equal(retention.source, 'DYNAMIC_TOPIC_CONFIG');
    assert.ok(retention.synonyms.some((s) => s.source === 'DEFAULT_CONFIG'));
    // As Kafka lists it: the default is the broker key's own, in its unit.
    const def = retention.synonyms.find((s) => s.source === 'DEFAULT_CONFIG')!;
    assert.deepEqual([def.name, def.value], ['log.retention.hours', '168']);
    await assert.rejects(
      admin.incrementalAlterConfigs([{ type: 'topic', name: 'cfg', changes: [{ name: 'retention.ms', op: 'set', value: 'soon' }] }]),
      (e: unknown) => e instanceof KafkaClientError && e.code === 40 && /Not a number of type LONG/.test(e.message),
    );
    await admin.incrementalAlterConfigs([{ type: 'topic', name: 'cfg', changes: [{ name: 'retention.ms', op: 'delete' }] }]);
    [cfg] = await admin.describeConfigs([{ type: 'topic', name: 'cfg', keys: ['retention.ms', 'cleanup.policy'] }]);
    assert.equal(cfg!.entries.find((e) => e.name === 'retention.ms')!.source, 'DEFAULT_CONFIG');
    assert.equal(cfg!.entries.find((e) => e.name === 'cleanup.policy')!.value, 'compact');
    await admin.alterConfigs([{ type: 'topic', name: 'cfg', configs: { 'segment.ms': '60000' } }]);
    [cfg] = await admin.describeConfigs([{ type: 'topic', name: 'cfg' }]);
    assert.equal(cfg!.entries.find((e) => e.name === 'cleanup.policy')!.source, 'DEFAULT_CONFIG', 'legacy AlterConfigs replaces the set');
    await assert.rejects(admin.incrementalAlterConfigs([{ type: 'topic', name: 'cfg', changes: [{ name: 'no.such.config', op: 'set', value: '1' }] }]), KafkaClientError);
  });

  it('lists offsets by earliest, latest and time; deletes records; describes the cluster', async () => {
    await admin.createTopics([{ topic: 'offs', numPartitions: 1 }]);
    const producer = new Producer({ bootstrapServers: bootstrap });
    const base = Date.now() - 100_000;
    await producer.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic: 'offs', value: String(i), timestamp: base + i * 1000 })));
    await producer.close();
    const tp = { topic: 'offs', partition: 0 };
    const [earliest, latest, byTime] = await admin.listOffsets([
      { ...tp, spec: 'earliest' },
      { ...tp, spec: 'latest' },
      { ...tp, spec: base + 4500 },
    ]);
    assert.equal(earliest!.offset, 0n);
    assert.equal(latest!.offset, 10n);
    assert.equal(byTime!.offset, 5n);
    const [deleted] = await admin.deleteRecords([{ ...tp, offset: 3n }]);
    assert.equal(deleted!.lowWatermark, 3n);
    const [after] = await admin.listOffsets([{ ...tp, spec: 'earliest' }]);
    assert.equal(after!.offset, 3n);
    const cluster = await admin.describeCluster();
    assert.equal(cluster.brokers.length, 1);
    assert.equal(cluster.brokers[0]!.port, Number(bootstrap.split(':')[1]));
    assert.ok(cluster.clusterId !== null && cluster.clusterId.length > 0);
  });

  it('group members share partitions (range), commit, and the admin sees offsets and members', async () => {
    const topic = 'grp';
    await admin.createTopics([{ topic, numPartitions: 4 }]);
    const producer = new Producer({ bootstrapServers: bootstrap });
    await producer.sendBatch(Array.from({ length: 400 }, (_, i) => ({ topic, key: `k${i}`, value: String(i) })));
    await producer.close();
    const assigned: TopicPartition[][] = [[], []];
    const make = (i: number): Consumer =>
      new Consumer({
        bootstrapServers: bootstrap,
        groupId: 'g-range',
        autoOffsetReset: 'earliest',
        assignors: ['range'],
        heartbeatIntervalMs: 200,
        sessionTimeoutMs: 6000,
        rebalanceTimeoutMs: 10_000,
        maxWaitMs: 100,
        autoCommit: false,
        rebalanceListener: {
          onPartitionsAssigned: (tps) => void assigned[i]!.push(...tps),
        },
      });
    const c1 = make(0);
    const c2 = make(1);
    c1.subscribe([topic]);
    c2.subscribe([topic]);
    const seen = new Map<string, number>();
    await until('both members assigned and all records read', async () => {
      for (const c of [c1, c2]) for (const b of await c.poll({ timeoutMs: 50 })) for (const r of b.records) seen.set(r.value!.toString(), (seen.get(r.value!.toString()) ?? 0) + 1);
      return c1.assignment().length === 2 && c2.assignment().length === 2 && seen.size === 400;
    });
    const all = [...c1.assignment(), ...c2.assignment()].map((tp) => tp.partition).sort();
    assert.deepEqual(all, [0, 1, 2, 3]);
    await c1.commitSync();
    await c2.commitSync();
    const committed = await admin.listConsumerGroupOffsets('g-range');
    const total = committed.reduce((s, c) => s + c.offset, 0n);
    assert.equal(total, 400n);
    const [group] = await admin.describeGroups(['g-range']);
    assert.equal(group!.state, 'Stable');
    assert.equal(group!.protocol, 'range');
    assert.equal(group!.members.length, 2);
    assert.deepEqual(group!.members.flatMap((m) => m.assignment.map((tp) => tp.partition)).sort(), [0, 1, 2, 3]);
    assert.ok((await admin.listGroups()).some((g) => g.groupId === 'g-range'));
    await c1.close();
    await c2.close();
    // Offsets survive the members; a reset moves them.
    await admin.alterConsumerGroupOffsets('g-range', [{ topic, partition: 0, offset: 0n }]);
    const after = await admin.listConsumerGroupOffsets('g-range', [{ topic, partition: 0 }]);
    assert.equal(after[0]!.offset, 0n);
    // A new member resumes from the committed offsets: only partition 0 is re-read.
    const c3 = make(0);
    c3.subscribe([topic]);
    const reread: ConsumerRecordLike[] = [];
    await until('partition 0 re-read', async () => {
      for (const b of await c3.poll({ timeoutMs: 100 })) reread.push(...b.records);
      return reread.length > 0 && reread.every((r) => r.partition === 0) && c3.assignment().length === 4 && reread.length >= Number(committed.find((c) => c.partition === 0)!.offset);
    });
    assert.ok(reread.every((r) => r.partition === 0), 'only the reset partition is consumed again');
    await c3.close();
    await admin.deleteGroups(['g-range']);
    assert.ok(!(await admin.listGroups()).some((g) => g.groupId === 'g-range'));
  });

  it('cooperative-sticky moves only some partitions when a member joins, revoking before reassigning', async () => {
    const topic = 'coop';
    await admin.createTopics([{ topic, numPartitions: 6 }]);
    const events: string[] = [];
    const make = (name: string): Consumer =>
      new Consumer({
        bootstrapServers: bootstrap,
        groupId: 'g-coop',
        assignors: ['cooperative-sticky'],
        heartbeatIntervalMs: 100,
        sessionTimeoutMs: 6000,
        rebalanceTimeoutMs: 10_000,
        autoCommit: false,
        rebalanceListener: {
          onPartitionsAssigned: (tps) => void events.push(`${name}+${tps.map((t) => t.partition).join(',')}`),
          onPartitionsRevoked: (tps) => void events.push(`${name}-${tps.map((t) => t.partition).join(',')}`),
        },
      });
    const a = make('a');
    a.subscribe([topic]);
    await until('a owns all', () => a.assignment().length === 6);
    const before = a.assignment().map((tp) => tp.partition);
    const b = make('b');
    b.subscribe([topic]);
    await until('balanced', () => a.assignment().length === 3 && b.assignment().length === 3);
    // a kept three of its partitions and was never told to give up everything.
    assert.ok(a.assignment().every((tp) => before.includes(tp.partition)));
    assert.ok(!events.includes('a-0,1,2,3,4,5'), `events: ${events.join(' ')}`);
    const revokeIdx = events.findIndex((e) => e.startsWith('a-'));
    const bIdx = events.findIndex((e) => e.startsWith('b+'));
    assert.ok(revokeIdx >= 0 && bIdx > revokeIdx, `a revokes before b gets them: ${events.join(' ')}`);
    await b.close();
    await until('a owns all again', () => a.assignment().length === 6);
    await a.close();
  });
});

interface ConsumerRecordLike {
  partition: number;
}
