// CreatePartitions, DeleteRecords, DescribeCluster and OffsetForLeaderEpoch against an
// in-process in-memory broker, driven by kafkajs, confluent-kafka (librdkafka), kcat and, where
// no installed client sends the request (OffsetForLeaderEpoch, DescribeCluster endpoint types,
// DeleteRecords error paths), raw requests through the generated codecs.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { Broker } from '../../src/node/broker.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { DeleteRecordsRequest } from '../../src/protocol/messages/DeleteRecordsRequest.js';
import { DeleteRecordsResponse } from '../../src/protocol/messages/DeleteRecordsResponse.js';
import { DescribeClusterRequest } from '../../src/protocol/messages/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../../src/protocol/messages/DescribeClusterResponse.js';
import { OffsetForLeaderEpochRequest } from '../../src/protocol/messages/OffsetForLeaderEpochRequest.js';
import { OffsetForLeaderEpochResponse } from '../../src/protocol/messages/OffsetForLeaderEpochResponse.js';
import { python } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';
import { kcatConsume } from './support.js';

const { Kafka, logLevel } = kafkajs;
type Admin = ReturnType<InstanceType<typeof Kafka>['admin']>;

describe('admin partitions, records, cluster, leader epochs', () => {
  let broker: Broker;
  let kafka: InstanceType<typeof Kafka>;
  let admin: Admin;
  let wire: WireClient;

  before(async () => {
    broker = await Broker.start({ inMemory: true, overrides: { 'auto.create.topics.enable': 'false' } });
    kafka = new Kafka({ clientId: 'admin-partitions', brokers: [broker.bootstrapServers], logLevel: logLevel.NOTHING, retry: { retries: 2 } });
    admin = kafka.admin();
    await admin.connect();
    wire = await WireClient.open(broker.bootstrapServers);
  });
  after(async () => {
    wire?.close();
    await admin?.disconnect().catch(() => {});
    await broker?.stop();
  });

  async function produce(topic: string, partition: number, count: number): Promise<void> {
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    try {
      await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ partition, value: `v${i}` })) });
    } finally {
      await producer.disconnect();
    }
  }

  it('kafkajs createPartitions grows a topic; the new partitions take records', async () => {
    await admin.createTopics({ topics: [{ topic: 'parts-a', numPartitions: 1 }] });
    await admin.createPartitions({ validateOnly: true, topicPartitions: [{ topic: 'parts-a', count: 5 }] });
    assert.equal((await admin.fetchTopicMetadata({ topics: ['parts-a'] })).topics[0]!.partitions.length, 1);
    await admin.createPartitions({ topicPartitions: [{ topic: 'parts-a', count: 3 }] });
    const meta = await admin.fetchTopicMetadata({ topics: ['parts-a'] });
    assert.deepEqual(meta.topics[0]!.partitions.map((p) => [p.partitionId, p.leader]).sort(), [[0, 1], [1, 1], [2, 1]]);
    await produce('parts-a', 2, 3);
    const offsets = await admin.fetchTopicOffsets('parts-a');
    assert.equal(offsets.find((o) => o.partition === 2)!.high, '3');
  });

  it('kafkajs createPartitions errors: too few -> INVALID_PARTITIONS, unknown topic', async () => {
    await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'parts-a', count: 2 }] }), (err: Error & { type?: string }) => err.type === 'INVALID_PARTITIONS');
    await assert.rejects(admin.createPartitions({ topicPartitions: [{ topic: 'parts-none', count: 2 }] }), (err: Error & { type?: string }) => err.type === 'UNKNOWN_TOPIC_OR_PARTITION');
  });

  it('confluent-kafka create_partitions: messages of Kafka, manual assignments', async () => {
    const script = `
import json, sys
from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient, NewPartitions
a = AdminClient({'bootstrap.servers': sys.argv[1]})
def attempt(p):
    try:
        for t, f in a.create_partitions([p]).items(): f.result(timeout=10)
        return None
    except KafkaException as e:
        return [e.args[0].code(), e.args[0].str()]
out = {
  'same': attempt(NewPartitions('parts-a', 3)),
  'fewer': attempt(NewPartitions('parts-a', 2)),
  'manual': attempt(NewPartitions('parts-a', 4, [[1]])),
  'bad_broker': attempt(NewPartitions('parts-a', 5, [[2]])),
  'count_mismatch': attempt(NewPartitions('parts-a', 6, [[1]])),
}
md = a.list_topics(timeout=10)
out['partitions'] = len(md.topics['parts-a'].partitions)
print(json.dumps(out))
`;
    const out = await python<Record<string, [number, string] | null | number>>(script, [broker.bootstrapServers]);
    assert.deepEqual(out.same, [ErrorCode.INVALID_PARTITIONS, 'Topic already has 3 partition(s).']);
    assert.deepEqual(out.fewer, [ErrorCode.INVALID_PARTITIONS, 'The topic parts-a currently has 3 partition(s); 2 would not be an increase.']);
    assert.equal(out.manual, null);
    assert.deepEqual(out.bad_broker, [ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'The manual partition assignment includes broker 2, but no such broker is registered.']);
    assert.deepEqual(out.count_mismatch, [ErrorCode.INVALID_REPLICA_ASSIGNMENT, 'Attempted to add 2 additional partition(s), but only 1 assignment(s) were specified.']);
    assert.equal(out.partitions, 4);
  });

  it('kafkajs deleteTopicRecords moves the log start offset; ListOffsets and Fetch follow', async () => {
    await admin.createTopics({ topics: [{ topic: 'records-a', numPartitions: 2 }] });
    await produce('records-a', 0, 10);
    await produce('records-a', 1, 6);
    // kafkajs looks the leaders up in its cached metadata, so it must know the topic first.
    await admin.fetchTopicMetadata({ topics: ['records-a'] });
    await admin.deleteTopicRecords({ topic: 'records-a', partitions: [{ partition: 0, offset: '4' }, { partition: 1, offset: '-1' }] });
    const offsets = await admin.fetchTopicOffsets('records-a');
    assert.deepEqual(offsets.map((o) => [o.partition, o.low, o.high]).sort(), [[0, '4', '10'], [1, '6', '6']]);
    const consumed = await kcatConsume(broker.bootstrapServers, 'records-a', 'beginning', ['-p', '0']);
    assert.deepEqual(consumed.map((r) => r.offset), [4, 5, 6, 7, 8, 9]);
    assert.equal(consumed[0]!.value, 'v4');
  });

  it('DeleteRecords: lowWatermark, offset above the high watermark, unknown partition, compacted topic', async () => {
    await admin.createTopics({ topics: [{ topic: 'records-compact', numPartitions: 1, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }] });
    const res = await wire.send(DeleteRecordsRequest, DeleteRecordsResponse, 2, {
      timeoutMs: 5000,
      topics: [
        { name: 'records-a', partitions: [{ partitionIndex: 0, offset: 7n }, { partitionIndex: 1, offset: 99n }, { partitionIndex: 9, offset: 1n }] },
        { name: 'records-compact', partitions: [{ partitionIndex: 0, offset: 0n }] },
        { name: '__consumer_offsets', partitions: [{ partitionIndex: 0, offset: 0n }] },
      ],
    });
    assert.deepEqual(
      res.topics.map((t) => [t.name, t.partitions.map((p) => [p.partitionIndex, p.errorCode, p.lowWatermark])]),
      [
        ['records-a', [[0, 0, 7n], [1, ErrorCode.OFFSET_OUT_OF_RANGE, -1n], [9, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1n]]],
        ['records-compact', [[0, ErrorCode.POLICY_VIOLATION, -1n]]],
        ['__consumer_offsets', [[0, ErrorCode.INVALID_TOPIC_EXCEPTION, -1n]]],
      ],
    );
    // An offset below the current start offset leaves it where it is.
    const again = await wire.send(DeleteRecordsRequest, DeleteRecordsResponse, 0, { timeoutMs: 5000, topics: [{ name: 'records-a', partitions: [{ partitionIndex: 0, offset: 2n }] }] });
    assert.equal(again.topics[0]!.partitions[0]!.lowWatermark, 7n);
  });

  it('kafkajs describeCluster: this broker on the request listener, cluster id, controller', async () => {
    const cluster = await admin.describeCluster();
    assert.equal(cluster.clusterId, broker.clusterId);
    assert.equal(cluster.controller, 1);
    assert.deepEqual(cluster.brokers.map((b) => [b.nodeId, `${b.host}:${b.port}`]), [[1, broker.bootstrapServers]]);
  });

  it('DescribeCluster v1: endpoint types, authorized operations', async () => {
    const ask = (endpointType: number, includeClusterAuthorizedOperations = false) =>
      wire.send(DescribeClusterRequest, DescribeClusterResponse, 1, { includeClusterAuthorizedOperations, endpointType, includeFencedBrokers: false });
    const brokers = await ask(1, true);
    assert.equal(brokers.errorCode, 0);
    assert.equal(brokers.endpointType, 1);
    assert.equal(brokers.brokers.length, 1);
    assert.equal(brokers.clusterAuthorizedOperations, 8096);
    const controllers = await ask(2);
    assert.deepEqual([controllers.errorCode, controllers.errorMessage], [ErrorCode.MISMATCHED_ENDPOINT_TYPE, 'The request was sent to an endpoint of type BROKER, but we wanted an endpoint of type CONTROLLER']);
    const unknown = await ask(7);
    assert.deepEqual([unknown.errorCode, unknown.errorMessage], [ErrorCode.UNSUPPORTED_ENDPOINT_TYPE, 'Unsupported endpoint type 7']);
    const v0 = await wire.send(DescribeClusterRequest, DescribeClusterResponse, 0, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: false });
    assert.equal(v0.clusterAuthorizedOperations, -2147483648);
    assert.equal(v0.brokers[0]!.port, broker.port);
  });

  it('OffsetForLeaderEpoch: end offset of the current epoch, unknown epochs, fencing', async () => {
    const ask = (version: number, partitions: { partition: number; currentLeaderEpoch: number; leaderEpoch: number }[], topic = 'records-a') =>
      wire.send(OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, version, { replicaId: -1, topics: [{ topic, partitions }] });
    const res = await ask(4, [
      { partition: 0, currentLeaderEpoch: 0, leaderEpoch: 0 },
      { partition: 1, currentLeaderEpoch: -1, leaderEpoch: 3 },
      { partition: 0, currentLeaderEpoch: 2, leaderEpoch: 0 },
      { partition: 5, currentLeaderEpoch: -1, leaderEpoch: 0 },
    ]);
    assert.deepEqual(
      res.topics[0]!.partitions.map((p) => [p.partition, p.errorCode, p.leaderEpoch, p.endOffset]),
      [
        [0, 0, 0, 10n],
        [1, 0, -1, -1n],
        [0, ErrorCode.UNKNOWN_LEADER_EPOCH, -1, -1n],
        [5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, -1, -1n],
      ],
    );
    const v0 = await ask(0, [{ partition: 1, currentLeaderEpoch: -1, leaderEpoch: 0 }]);
    assert.deepEqual([v0.topics[0]!.partitions[0]!.errorCode, v0.topics[0]!.partitions[0]!.endOffset], [0, 6n]);
  });
});
