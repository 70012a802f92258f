// The request versions Kafka 4.x clients send, against a broker process, with raw requests built
// from the generated codecs (our client caps itself below some of them): what ApiVersions lists,
// Produce v0-2 refusing record batches v2 (they carry message sets: old-clients.test.ts), Produce v12 and v13 (topic ids), Fetch v18,
// ListOffsets v11, Metadata v13, OffsetCommit/OffsetFetch v10 (topic ids), DescribeGroups v6
// and DescribeCluster v2.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ApiVersionsRequest } from '../../src/protocol/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../../src/protocol/messages/ApiVersionsResponse.js';
import { CreateTopicsRequest } from '../../src/protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/messages/CreateTopicsResponse.js';
import { DescribeClusterRequest } from '../../src/protocol/messages/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../../src/protocol/messages/DescribeClusterResponse.js';
import { DescribeGroupsRequest } from '../../src/protocol/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../src/protocol/messages/DescribeGroupsResponse.js';
import { FetchRequest } from '../../src/protocol/messages/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/messages/FetchResponse.js';
import { FindCoordinatorRequest } from '../../src/protocol/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../src/protocol/messages/FindCoordinatorResponse.js';
import { ListOffsetsRequest } from '../../src/protocol/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../src/protocol/messages/ListOffsetsResponse.js';
import { MetadataRequest } from '../../src/protocol/messages/MetadataRequest.js';
import { MetadataResponse } from '../../src/protocol/messages/MetadataResponse.js';
import { OffsetCommitRequest } from '../../src/protocol/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../src/protocol/messages/OffsetCommitResponse.js';
import { OffsetFetchRequest } from '../../src/protocol/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../../src/protocol/messages/OffsetFetchResponse.js';
import { ProduceRequest } from '../../src/protocol/messages/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/messages/ProduceResponse.js';
import { decodeRecordBatches, encodeRecordBatch } from '../../src/protocol/records/record-batch.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { WireClient } from './admin-wire.js';

/** A topic id no topic has: the zero id's neighbour. */
const UNKNOWN_ID = 'AAAAAAAAAAAAAAAAAAAAAQ';

describe('Kafka 4.x request versions', () => {
  let broker: BrokerProcess;
  let w: WireClient;
  let topicId: string;
  const wires: WireClient[] = [];

  const batch = (value: string) => encodeRecordBatch({ records: [{ key: null, value: Buffer.from(value), timestamp: 1_700_000_000_000n }] });
  const produce = (version: number, topic: { name?: string; topicId?: string }, value: string) =>
    w.send(ProduceRequest, ProduceResponse, version, {
      ...ProduceRequest.defaults(),
      acks: -1,
      timeoutMs: 5000,
      topicData: [{ name: topic.name ?? '', topicId: topic.topicId ?? ZERO_UUID, partitionData: [{ index: 0, records: batch(value) }] }],
    });

  before(async () => {
    broker = await startBroker();
    w = await WireClient.open(broker.bootstrap);
    const created = await w.send(CreateTopicsRequest, CreateTopicsResponse, 7, {
      ...CreateTopicsRequest.defaults(),
      timeoutMs: 10_000,
      topics: [{ name: 'kafka4', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
    topicId = created.topics[0]!.topicId;
  });
  after(async () => {
    w.close();
    for (const x of wires) x.close();
    await broker.destroy();
  });

  it('ApiVersions lists the new versions, and Produce from v0 as Kafka 4 does', async () => {
    const res = await w.send(ApiVersionsRequest, ApiVersionsResponse, 3, { clientSoftwareName: 'test', clientSoftwareVersion: '1' });
    const range = (key: number) => {
      const k = res.apiKeys.find((a) => a.apiKey === key);
      return k === undefined ? undefined : [k.minVersion, k.maxVersion];
    };
    assert.deepEqual(range(0), [0, 13], 'Produce');
    assert.deepEqual(range(1), [0, 18], 'Fetch');
    assert.deepEqual(range(2), [0, 11], 'ListOffsets');
    assert.deepEqual(range(3), [0, 13], 'Metadata');
    assert.deepEqual(range(8), [0, 10], 'OffsetCommit');
    assert.deepEqual(range(9), [0, 10], 'OffsetFetch');
    assert.deepEqual(range(15), [0, 6], 'DescribeGroups');
    assert.deepEqual(range(60), [0, 2], 'DescribeCluster');
    assert.deepEqual(range(69), [0, 1], 'ConsumerGroupDescribe');
    assert.deepEqual(range(68), [0, 1], 'ConsumerGroupHeartbeat v0-1 (v1: KIP-1082 member ids, regex subscriptions)');
  });

  it('Produce v2 with a record batch v2 is INVALID_RECORD and stores nothing (v0-2 carry message sets)', async () => {
    const res = await w.send(ProduceRequest, ProduceResponse, 2, { ...ProduceRequest.defaults(), acks: 1, timeoutMs: 1000, topicData: [{ name: 'kafka4', topicId: ZERO_UUID, partitionData: [{ index: 0, records: batch('v2') }] }] });
    const p = res.responses[0]!.partitionResponses[0]!;
    assert.deepEqual([p.errorCode, p.baseOffset], [ErrorCode.INVALID_RECORD, -1n]);
  });

  it('Produce v12 (names) and v13 (topic ids) append; an unknown id is UNKNOWN_TOPIC_ID; Fetch v18 reads both', async () => {
    const v12 = await produce(12, { name: 'kafka4' }, 'twelve');
    assert.deepEqual([v12.responses[0]!.name, v12.responses[0]!.partitionResponses[0]!.errorCode, v12.responses[0]!.partitionResponses[0]!.baseOffset], ['kafka4', 0, 0n]);
    const v13 = await produce(13, { topicId }, 'thirteen');
    const r13 = v13.responses[0]!;
    assert.deepEqual([r13.name, r13.topicId, r13.partitionResponses[0]!.errorCode, r13.partitionResponses[0]!.baseOffset], ['', topicId, 0, 1n]);
    const unknown = await produce(13, { topicId: UNKNOWN_ID }, 'lost');
    assert.deepEqual([unknown.responses[0]!.topicId, unknown.responses[0]!.partitionResponses[0]!.errorCode], [UNKNOWN_ID, ErrorCode.UNKNOWN_TOPIC_ID]);

    const fetched = await w.send(FetchRequest, FetchResponse, 18, {
      ...FetchRequest.defaults(),
      maxWaitMs: 0,
      minBytes: 1,
      maxBytes: 1 << 20,
      topics: [{ topic: '', topicId, partitions: [{ ...FetchRequest.newStruct('FetchPartition'), partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
    });
    const p = fetched.responses[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    assert.equal(p.highWatermark, 2n);
    const values = decodeRecordBatches(p.records!).flatMap((b) => b.records.map((r) => r.value!.toString()));
    assert.deepEqual(values, ['twelve', 'thirteen']);
  });

  it('ListOffsets v11: -6 (earliest pending upload) has no offset without tiered storage; -1 still works', async () => {
    const ask = (timestamp: bigint) =>
      w.send(ListOffsetsRequest, ListOffsetsResponse, 11, {
        ...ListOffsetsRequest.defaults(),
        replicaId: -1,
        timeoutMs: 1000,
        topics: [{ name: 'kafka4', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 }] }],
      });
    const pending = (await ask(-6n)).topics[0]!.partitions[0]!;
    assert.deepEqual([pending.errorCode, pending.offset, pending.timestamp], [ErrorCode.NONE, -1n, -1n]);
    const latest = (await ask(-1n)).topics[0]!.partitions[0]!;
    assert.deepEqual([latest.errorCode, latest.offset], [ErrorCode.NONE, 2n]);
  });

  it('Metadata v13: no top-level error, topics by name and by id', async () => {
    const res = await w.send(MetadataRequest, MetadataResponse, 13, {
      ...MetadataRequest.defaults(),
      topics: [{ name: 'kafka4', topicId: ZERO_UUID }, { name: null, topicId }, { name: null, topicId: UNKNOWN_ID }],
      allowAutoTopicCreation: false,
    });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.deepEqual(res.topics.map((t) => [t.errorCode, t.name, t.topicId]), [
      [ErrorCode.NONE, 'kafka4', topicId],
      [ErrorCode.NONE, 'kafka4', topicId],
      [ErrorCode.UNKNOWN_TOPIC_ID, null, UNKNOWN_ID],
    ]);
  });

  it('OffsetCommit v10 and OffsetFetch v10 name topics by id; unknown ids fail alone; v9 sees the same offsets by name', async () => {
    const found = await w.send(FindCoordinatorRequest, FindCoordinatorResponse, 4, { ...FindCoordinatorRequest.defaults(), keyType: 0, coordinatorKeys: ['g10'] });
    assert.equal(found.coordinators[0]!.errorCode, ErrorCode.NONE);
    const partition = (committedOffset: bigint) => ({ ...OffsetCommitRequest.newStruct('OffsetCommitRequestPartition'), partitionIndex: 0, committedOffset, committedMetadata: 'm' });
    const committed = await w.send(OffsetCommitRequest, OffsetCommitResponse, 10, {
      ...OffsetCommitRequest.defaults(),
      groupId: 'g10',
      topics: [
        { name: '', topicId: UNKNOWN_ID, partitions: [partition(1n)] },
        { name: '', topicId, partitions: [partition(2n)] },
      ],
    });
    assert.deepEqual(
      committed.topics.map((t) => [t.name, t.topicId, t.partitions.map((p) => p.errorCode)]),
      [
        ['', UNKNOWN_ID, [ErrorCode.UNKNOWN_TOPIC_ID]],
        ['', topicId, [ErrorCode.NONE]],
      ],
    );

    const byId = await w.send(OffsetFetchRequest, OffsetFetchResponse, 10, {
      ...OffsetFetchRequest.defaults(),
      groups: [{ groupId: 'g10', memberId: null, memberEpoch: -1, topics: [{ name: '', topicId: UNKNOWN_ID, partitionIndexes: [0] }, { name: '', topicId, partitionIndexes: [0, 1] }] }],
    });
    const g = byId.groups[0]!;
    assert.equal(g.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      g.topics.map((t) => [t.topicId, t.partitions.map((p) => [p.partitionIndex, p.committedOffset, p.errorCode])]),
      [
        [UNKNOWN_ID, [[0, -1n, ErrorCode.UNKNOWN_TOPIC_ID]]],
        [topicId, [[0, 2n, ErrorCode.NONE], [1, -1n, ErrorCode.NONE]]],
      ],
    );
    const all = await w.send(OffsetFetchRequest, OffsetFetchResponse, 10, { ...OffsetFetchRequest.defaults(), groups: [{ groupId: 'g10', memberId: null, memberEpoch: -1, topics: null }] });
    assert.deepEqual(all.groups[0]!.topics.map((t) => [t.name, t.topicId, t.partitions.map((p) => p.committedOffset)]), [['', topicId, [2n]]]);
    const byName = await w.send(OffsetFetchRequest, OffsetFetchResponse, 9, { ...OffsetFetchRequest.defaults(), groups: [{ groupId: 'g10', memberId: null, memberEpoch: -1, topics: null }] });
    assert.deepEqual(byName.groups[0]!.topics.map((t) => [t.name, t.partitions.map((p) => p.committedOffset)]), [['kafka4', [2n]]]);
  });

  it('DescribeGroups v6 answers an unknown group with GROUP_ID_NOT_FOUND; v5 describes it as Dead', async () => {
    const v6 = await w.send(DescribeGroupsRequest, DescribeGroupsResponse, 6, { ...DescribeGroupsRequest.defaults(), groups: ['nobody'] });
    assert.deepEqual([v6.groups[0]!.errorCode, v6.groups[0]!.errorMessage, v6.groups[0]!.groupState], [ErrorCode.GROUP_ID_NOT_FOUND, 'Group nobody not found.', 'Dead']);
    const v5 = await w.send(DescribeGroupsRequest, DescribeGroupsResponse, 5, { ...DescribeGroupsRequest.defaults(), groups: ['nobody'] });
    assert.deepEqual([v5.groups[0]!.errorCode, v5.groups[0]!.groupState], [ErrorCode.NONE, 'Dead']);
  });

  it('DescribeCluster v2: fenced brokers asked for, none fenced', async () => {
    const res = await w.send(DescribeClusterRequest, DescribeClusterResponse, 2, { includeClusterAuthorizedOperations: false, endpointType: 1, includeFencedBrokers: true });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.deepEqual(res.brokers.map((b) => b.isFenced), [false]);
  });
});
