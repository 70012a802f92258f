// OffsetCommit, TxnOffsetCommit and OffsetDelete for topics the broker does not know, as Kafka's
// KafkaApis answers them: each partition of an unknown topic, and each partition past an existing
// topic's partition count, is UNKNOWN_TOPIC_OR_PARTITION, decided before the group coordinator sees
// the request; nothing is stored and no group is created for them, and the known partitions of
// the same request go ahead. Driven over the wire, with our admin client, confluent-kafka and kafkajs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { Admin } from '../../src/client/index.js';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ListGroupsRequest } from '../../src/protocol/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../../src/protocol/messages/ListGroupsResponse.js';
import { OffsetCommitRequest } from '../../src/protocol/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../src/protocol/messages/OffsetCommitResponse.js';
import { OffsetDeleteRequest } from '../../src/protocol/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../src/protocol/messages/OffsetDeleteResponse.js';
import { TxnOffsetCommitRequest } from '../../src/protocol/messages/TxnOffsetCommitRequest.js';
import { TxnOffsetCommitResponse } from '../../src/protocol/messages/TxnOffsetCommitResponse.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';
import { eventually } from './support.js';

/** topic -> partition -> error code, from any of the three responses. */
const codes = (r: { topics: { name: string; partitions: { partitionIndex: number; errorCode: number }[] }[] }) =>
  Object.fromEntries(r.topics.map((t) => [t.name, Object.fromEntries(t.partitions.map((p) => [p.partitionIndex, p.errorCode]))]));

describe('offsets of unknown topics and partitions', () => {
  let broker: BrokerProcess;
  let admin: Admin;
  let w: WireClient;

  before(async () => {
    broker = await startBroker({ overrides: { 'auto.create.topics.enable': 'false', 'group.initial.rebalance.delay.ms': '0' } });
    admin = new Admin({ bootstrapServers: broker.bootstrap });
    await admin.createTopics([{ topic: 'present', numPartitions: 2, replicationFactor: 1 }]);
    w = await WireClient.open(broker.bootstrap);
    // The group coordinator is ready once __consumer_offsets is (NOT_COORDINATOR until then).
    await eventually('the group coordinator', async () => ((await commit('g-warm-up', [['present', [0]]])).topics[0]!.partitions[0]!.errorCode === ErrorCode.NONE ? true : undefined));
  });
  after(async () => {
    w?.close();
    await admin?.close();
    await broker?.destroy();
  });

  const commit = (groupId: string, topics: [string, number[]][], generation = -1, memberId = '') =>
    w.send(OffsetCommitRequest, OffsetCommitResponse, 8, {
      ...OffsetCommitRequest.defaults(),
      groupId,
      generationIdOrMemberEpoch: generation,
      memberId,
      topics: topics.map(([name, partitions]) => ({
        name,
        topicId: ZERO_UUID,
        partitions: partitions.map((partitionIndex) => ({ partitionIndex, committedOffset: 5n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' })),
      })),
    });
  const groups = async () => (await w.send(ListGroupsRequest, ListGroupsResponse, 4, ListGroupsRequest.defaults())).groups.map((g) => g.groupId).sort();

  it('OffsetCommit: an unknown topic and a partition past the count fail alone and are not stored', async () => {
    const r = await commit('g-mixed', [
      ['present', [0, 2, 1]],
      ['no-such-topic', [0, 1]],
    ]);
    assert.deepEqual(codes(r), {
      present: { 0: ErrorCode.NONE, 2: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 1: ErrorCode.NONE },
      'no-such-topic': { 0: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 1: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION },
    });
    assert.deepEqual(r.topics.map((t) => [t.name, t.partitions.map((p) => p.partitionIndex)]), [
      ['present', [0, 2, 1]],
      ['no-such-topic', [0, 1]],
    ], 'answered in request order');
    const stored = await admin.listConsumerGroupOffsets('g-mixed');
    assert.deepEqual(stored.map((o) => `${o.topic}-${o.partition}@${o.offset}`).sort(), ['present-0@5', 'present-1@5']);
  });

  it('OffsetCommit of unknown topics only: answered before the coordinator, so no group is created and the generation is not checked', async () => {
    const before = await groups();
    assert.deepEqual(codes(await commit('g-ghost', [['no-such-topic', [0]]])), { 'no-such-topic': { 0: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } });
    assert.deepEqual(codes(await commit('g-ghost', [['present', [7]]], 3, 'm')), { present: { 7: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } }, 'not ILLEGAL_GENERATION');
    assert.deepEqual(await groups(), before, 'no simple group g-ghost');
    assert.ok(!before.includes('g-ghost'));
  });

  it('TxnOffsetCommit of unknown topics and partitions: UNKNOWN_TOPIC_OR_PARTITION before the coordinator checks the member', async () => {
    const r = await w.send(TxnOffsetCommitRequest, TxnOffsetCommitResponse, 3, {
      transactionalId: 'tx-ghost',
      groupId: 'g-ghost-txn',
      producerId: 4242n,
      producerEpoch: 0,
      generationId: 3,
      memberId: 'm',
      groupInstanceId: null,
      topics: [
        { name: 'no-such-topic', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: '' }] },
        { name: 'present', partitions: [{ partitionIndex: 2, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: '' }] },
      ],
    });
    assert.deepEqual(codes(r), { 'no-such-topic': { 0: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION }, present: { 2: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } }, 'not ILLEGAL_GENERATION');
  });

  it('OffsetDelete: unknown topics and partitions are UNKNOWN_TOPIC_OR_PARTITION, known ones deleted; a group error still wins', async () => {
    assert.deepEqual(codes(await commit('g-del', [['present', [0, 1]]])), { present: { 0: ErrorCode.NONE, 1: ErrorCode.NONE } });
    const del = (groupId: string, topics: [string, number[]][]) =>
      w.send(OffsetDeleteRequest, OffsetDeleteResponse, 0, { groupId, topics: topics.map(([name, ps]) => ({ name, partitions: ps.map((partitionIndex) => ({ partitionIndex })) })) });
    const r = await del('g-del', [
      ['present', [5, 0]],
      ['no-such-topic', [0]],
    ]);
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.deepEqual(codes(r), { present: { 5: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 0: ErrorCode.NONE }, 'no-such-topic': { 0: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION } });
    assert.deepEqual((await admin.listConsumerGroupOffsets('g-del')).map((o) => `${o.topic}-${o.partition}`), ['present-1']);
    const noGroup = await del('g-never', [['no-such-topic', [0]]]);
    assert.equal(noGroup.errorCode, ErrorCode.GROUP_ID_NOT_FOUND, 'the coordinator is still asked about the group');
    assert.deepEqual(noGroup.topics, []);
  });

  it('confluent-kafka: a synchronous commit to a topic that does not exist reports UNKNOWN_TOPIC_OR_PART', async () => {
    const out = await python<{ raised: string | null; partitions: [string, number, string | null][] }>(
      String.raw`
import json, sys
from confluent_kafka import Consumer, TopicPartition, KafkaException
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'g-confluent', 'enable.auto.commit': False})
raised, partitions = None, []
try:
    res = c.commit(offsets=[TopicPartition('no-such-topic', 0, 5), TopicPartition('present', 0, 3)], asynchronous=False)
    partitions = [[tp.topic, tp.partition, tp.error.name() if tp.error else None] for tp in res]
except KafkaException as e:
    raised = e.args[0].name()
c.close()
print(json.dumps({'raised': raised, 'partitions': partitions}))
`,
      [broker.bootstrap],
    );
    // librdkafka reports the partition's error, whether as the commit's error or on the partition.
    const unknown = out.partitions.find((p) => p[0] === 'no-such-topic');
    assert.ok(out.raised === 'UNKNOWN_TOPIC_OR_PART' || unknown?.[2] === 'UNKNOWN_TOPIC_OR_PART', JSON.stringify(out));
    assert.deepEqual((await admin.listConsumerGroupOffsets('g-confluent')).map((o) => `${o.topic}-${o.partition}@${o.offset}`), ['present-0@3']);
  });

  it('kafkajs: a group member committing a topic that does not exist gets UNKNOWN_TOPIC_OR_PARTITION', async () => {
    const kafka = new kafkajs.Kafka({ clientId: 'unknown-topic-commit', brokers: [broker.bootstrap], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 50 } });
    const consumer = kafka.consumer({ groupId: 'g-kafkajs', sessionTimeout: 10_000, heartbeatInterval: 500 });
    try {
      const joined = new Promise<void>((resolve) => consumer.on(consumer.events.GROUP_JOIN, () => resolve()));
      await consumer.connect();
      await consumer.subscribe({ topic: 'present', fromBeginning: true });
      await consumer.run({ eachMessage: async () => {} });
      await joined;
      const failed = await consumer.commitOffsets([{ topic: 'no-such-topic', partition: 0, offset: '5' }]).then(
        () => null,
        (e: unknown) => e as Error,
      );
      assert.ok(failed !== null, 'the commit must fail');
      // kafkajs's text for UNKNOWN_TOPIC_OR_PARTITION (after its retries).
      assert.match(failed.message, /This server does not host this topic-partition/);
    } finally {
      await consumer.disconnect();
    }
    assert.deepEqual((await admin.listConsumerGroupOffsets('g-kafkajs')).filter((o) => o.topic === 'no-such-topic'), []);
  });
});
