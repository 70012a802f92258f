// The authorized-operations bit fields, as a broker without an authorizer answers them: every
// operation of the resource type when the request asks for them (Metadata v8+, DescribeCluster,
// DescribeGroups v3+, ConsumerGroupDescribe), INT32_MIN when it does not. librdkafka's 0081 test
// expects 8 topic operations and 7 cluster operations.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CreateTopicsRequest } from '../../src/protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/messages/CreateTopicsResponse.js';
import { DescribeClusterRequest } from '../../src/protocol/messages/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../../src/protocol/messages/DescribeClusterResponse.js';
import { DescribeGroupsRequest } from '../../src/protocol/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../src/protocol/messages/DescribeGroupsResponse.js';
import { MetadataRequest } from '../../src/protocol/messages/MetadataRequest.js';
import { MetadataResponse } from '../../src/protocol/messages/MetadataResponse.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { WireClient } from './admin-wire.js';

// Kafka's AclOperation codes, written out here rather than taken from the broker's module.
const ops = (...codes: number[]) => codes.reduce((bits, c) => bits | (1 << c), 0);
const TOPIC = ops(3, 4, 5, 6, 7, 8, 10, 11); // READ WRITE CREATE DELETE ALTER DESCRIBE DESCRIBE_CONFIGS ALTER_CONFIGS
const CLUSTER = ops(5, 7, 8, 9, 10, 11, 12); // CREATE ALTER DESCRIBE CLUSTER_ACTION DESCRIBE_CONFIGS ALTER_CONFIGS IDEMPOTENT_WRITE
const GROUP = ops(3, 6, 8, 10, 11); // READ DELETE DESCRIBE DESCRIBE_CONFIGS ALTER_CONFIGS
const OMITTED = -2147483648;

describe('authorized operations without an authorizer', () => {
  let broker: BrokerProcess;
  let w: WireClient;

  before(async () => {
    broker = await startBroker();
    w = await WireClient.open(broker.bootstrap);
    const created = await w.send(CreateTopicsRequest, CreateTopicsResponse, 5, {
      ...CreateTopicsRequest.defaults(),
      timeoutMs: 10_000,
      topics: [{ name: 'ops', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
  });
  after(async () => {
    w?.close();
    await broker?.destroy();
  });

  it('Metadata v8-v10 reports topic and cluster operations when asked, v11+ topic operations', async () => {
    const metadata = (version: number, include: boolean) =>
      w.send(MetadataRequest, MetadataResponse, version, {
        ...MetadataRequest.defaults(),
        topics: [{ name: 'ops', topicId: ZERO_UUID }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: include && version <= 10,
        includeTopicAuthorizedOperations: include,
      });
    const asked = await metadata(9, true);
    assert.equal(asked.topics[0]!.topicAuthorizedOperations, TOPIC);
    assert.equal(asked.clusterAuthorizedOperations, CLUSTER);
    const notAsked = await metadata(9, false);
    assert.equal(notAsked.topics[0]!.topicAuthorizedOperations, OMITTED);
    assert.equal(notAsked.clusterAuthorizedOperations, OMITTED);
    const v12 = await metadata(12, true);
    assert.equal(v12.topics[0]!.topicAuthorizedOperations, TOPIC);
  });

  it('DescribeCluster and DescribeGroups report cluster and group operations when asked', async () => {
    const cluster = await w.send(DescribeClusterRequest, DescribeClusterResponse, 1, { ...DescribeClusterRequest.defaults(), includeClusterAuthorizedOperations: true });
    assert.equal(cluster.clusterAuthorizedOperations, CLUSTER);
    const groups = (include: boolean) =>
      w.send(DescribeGroupsRequest, DescribeGroupsResponse, 5, { ...DescribeGroupsRequest.defaults(), groups: ['g-ops'], includeAuthorizedOperations: include });
    assert.equal((await groups(true)).groups[0]!.authorizedOperations, GROUP);
    assert.equal((await groups(false)).groups[0]!.authorizedOperations, OMITTED);
  });
});
