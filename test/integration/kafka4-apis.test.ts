// APIs Kafka 4.x clients use that the 3.9 client line did not, against a broker process with raw
// requests: DescribeTopicPartitions (KIP-966, the Java 4.x admin's describeTopics) paged by
// cursor, GetTelemetrySubscriptions / PushTelemetry (KIP-714) with no subscriptions, and
// ListConfigResources (KIP-1000 / KIP-1142).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CreateTopicsRequest } from '../../src/protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/messages/CreateTopicsResponse.js';
import { DescribeTopicPartitionsRequest } from '../../src/protocol/messages/DescribeTopicPartitionsRequest.js';
import { DescribeTopicPartitionsResponse, type DescribeTopicPartitionsResponseData } from '../../src/protocol/messages/DescribeTopicPartitionsResponse.js';
import { GetTelemetrySubscriptionsRequest } from '../../src/protocol/messages/GetTelemetrySubscriptionsRequest.js';
import { GetTelemetrySubscriptionsResponse } from '../../src/protocol/messages/GetTelemetrySubscriptionsResponse.js';
import { ListConfigResourcesRequest } from '../../src/protocol/messages/ListConfigResourcesRequest.js';
import { ListConfigResourcesResponse } from '../../src/protocol/messages/ListConfigResourcesResponse.js';
import { PushTelemetryRequest } from '../../src/protocol/messages/PushTelemetryRequest.js';
import { PushTelemetryResponse } from '../../src/protocol/messages/PushTelemetryResponse.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { wirePool, type WireClient } from './admin-wire.js';

describe('Kafka 4.x client APIs', () => {
  let broker: BrokerProcess;
  let w: WireClient;
  const wires = wirePool(() => broker.bootstrap);
  const topics: Record<string, number> = { 'dtp-a': 3, 'dtp-b': 1, 'dtp-c': 4 };

  before(async () => {
    // A small page limit on the broker side too: min(request, broker) decides.
    broker = await startBroker({ overrides: { 'max.request.partition.size.limit': '5', 'telemetry.max.bytes': '64' } });
    w = await wires.open();
    const res = await w.send(CreateTopicsRequest, CreateTopicsResponse, 7, {
      ...CreateTopicsRequest.defaults(),
      timeoutMs: 10_000,
      topics: Object.entries(topics).map(([name, numPartitions]) => ({ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] })),
    });
    assert.deepEqual(res.topics.map((t) => t.errorCode), [0, 0, 0]);
  });
  after(async () => {
    wires.closeAll();
    await broker.destroy();
  });

  const describeTopics = (names: string[], limit: number, cursor: { topicName: string; partitionIndex: number } | null): Promise<DescribeTopicPartitionsResponseData> =>
    w.send(DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse, 0, { topics: names.map((name) => ({ name })), responsePartitionLimit: limit, cursor });

  it('DescribeTopicPartitions pages every partition exactly once in name order, by the smaller of the request and broker limits', async () => {
    const seen: string[] = [];
    const pages: number[] = [];
    let cursor: { topicName: string; partitionIndex: number } | null = null;
    for (let round = 0; round < 10; round++) {
      const res = await describeTopics([], 2, cursor);
      pages.push(res.topics.reduce((n, t) => n + t.partitions.length, 0));
      for (const t of res.topics) {
        assert.equal(t.errorCode, ErrorCode.NONE);
        assert.match(t.topicId, /^[A-Za-z0-9_-]{22}$/);
        for (const p of t.partitions) {
          assert.deepEqual([p.leaderId, p.replicaNodes, p.isrNodes, p.eligibleLeaderReplicas, p.lastKnownElr], [1, [1], [1], [], []]);
          seen.push(`${t.name}-${p.partitionIndex}`);
        }
      }
      cursor = res.nextCursor;
      if (cursor === null) break;
    }
    assert.deepEqual(seen, ['dtp-a-0', 'dtp-a-1', 'dtp-a-2', 'dtp-b-0', 'dtp-c-0', 'dtp-c-1', 'dtp-c-2', 'dtp-c-3']);
    assert.deepEqual(pages, [2, 2, 2, 2]);

    // The broker's limit (5) caps a larger request limit; a page that ends with a topic points at the next one.
    const big = await describeTopics([], 100, null);
    assert.deepEqual(big.topics.map((t) => [t.name, t.partitions.length]), [['dtp-a', 3], ['dtp-b', 1], ['dtp-c', 1]]);
    assert.deepEqual(big.nextCursor, { topicName: 'dtp-c', partitionIndex: 1 });
    const exact = await describeTopics(['dtp-b', 'dtp-a'], 4, null);
    assert.deepEqual([exact.topics.map((t) => t.name), exact.nextCursor], [['dtp-a', 'dtp-b'], null]);
    const boundary = await describeTopics(['dtp-a', 'dtp-c'], 3, null);
    assert.deepEqual(boundary.nextCursor, { topicName: 'dtp-c', partitionIndex: 0 });
  });

  it('DescribeTopicPartitions: named unknown topics, bad cursors', async () => {
    const named = await describeTopics(['nope', 'dtp-b'], 10, null);
    assert.deepEqual(named.topics.map((t) => [t.name, t.errorCode, t.topicId]), [
      ['dtp-b', ErrorCode.NONE, named.topics[0]!.topicId],
      ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ZERO_UUID],
    ]);
    const notListed = await describeTopics(['dtp-a'], 10, { topicName: 'dtp-b', partitionIndex: 0 });
    assert.deepEqual(notListed.topics.map((t) => [t.name, t.errorCode]), [['dtp-a', ErrorCode.INVALID_REQUEST]]);
    const negative = await describeTopics(['dtp-a'], 10, { topicName: 'dtp-a', partitionIndex: -1 });
    assert.deepEqual(negative.topics.map((t) => t.errorCode), [ErrorCode.INVALID_REQUEST]);
    const past = await describeTopics(['dtp-b'], 10, { topicName: 'dtp-b', partitionIndex: 7 });
    assert.deepEqual([past.topics.map((t) => [t.name, t.partitions.length]), past.nextCursor], [[['dtp-b', 0]], null]);
  });

  it('GetTelemetrySubscriptions asks for no metrics; PushTelemetry is validated as Kafka validates it', async () => {
    const sub = await w.send(GetTelemetrySubscriptionsRequest, GetTelemetrySubscriptionsResponse, 0, { clientInstanceId: ZERO_UUID });
    assert.equal(sub.errorCode, ErrorCode.NONE);
    assert.match(sub.clientInstanceId, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(sub.clientInstanceId, ZERO_UUID);
    assert.deepEqual([sub.requestedMetrics, sub.pushIntervalMs, sub.telemetryMaxBytes, sub.deltaTemporality, sub.acceptedCompressionTypes], [[], 300_000, 64, true, [4, 3, 1, 2]]);
    const pushed = (over: Partial<{ clientInstanceId: string; subscriptionId: number; terminating: boolean; compressionType: number; metrics: Buffer }>) =>
      w.send(PushTelemetryRequest, PushTelemetryResponse, 0, {
        clientInstanceId: sub.clientInstanceId,
        subscriptionId: sub.subscriptionId,
        terminating: false,
        compressionType: 0,
        metrics: Buffer.alloc(8),
        ...over,
      });
    assert.equal((await pushed({})).errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED, 'before the push interval');
    assert.equal((await pushed({ subscriptionId: sub.subscriptionId ^ 1 })).errorCode, ErrorCode.UNKNOWN_SUBSCRIPTION_ID);
    assert.equal((await pushed({ clientInstanceId: ZERO_UUID })).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await pushed({ terminating: true, metrics: Buffer.alloc(65) })).errorCode, ErrorCode.TELEMETRY_TOO_LARGE);
    assert.equal((await pushed({ terminating: true })).errorCode, ErrorCode.NONE, 'a terminating client may push at once');
  });

  it('ListConfigResources: v0 lists client-metrics resources (none), v1 topics and brokers by type', async () => {
    const v0 = await w.send(ListConfigResourcesRequest, ListConfigResourcesResponse, 0, { resourceTypes: [] });
    assert.deepEqual([v0.errorCode, v0.configResources], [ErrorCode.NONE, []]);
    const all = await w.send(ListConfigResourcesRequest, ListConfigResourcesResponse, 1, { resourceTypes: [] });
    assert.deepEqual(all.configResources.map((r) => [r.resourceType, r.resourceName]), [[2, 'dtp-a'], [2, 'dtp-b'], [2, 'dtp-c'], [4, '1']]);
    const brokers = await w.send(ListConfigResourcesRequest, ListConfigResourcesResponse, 1, { resourceTypes: [4, 16, 32] });
    assert.deepEqual(brokers.configResources.map((r) => [r.resourceType, r.resourceName]), [[4, '1']]);
    const bad = await w.send(ListConfigResourcesRequest, ListConfigResourcesResponse, 1, { resourceTypes: [3] });
    assert.equal(bad.errorCode, ErrorCode.INVALID_REQUEST);
  });
});
