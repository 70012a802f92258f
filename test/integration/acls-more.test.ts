// The ACL checks of the admin, offset, config, topic and transaction APIs beyond produce, fetch
// and the group protocol (acls.test.ts), as Kafka's KafkaApis makes them, each driven as a user
// principal over SASL/PLAIN (a raw wire client for exact fields, our Admin client and
// confluent-kafka's AdminClient): refused without the ACL, allowed with it. And the
// authorized-operations bit fields, computed from the principal's ACLs.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Admin, Consumer, Producer, TopicAuthorizationError } from '../../src/client/index.js';
import { AclOperation, AclPermission, PatternType, ResourceType } from '../../src/protocol/acls.js';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { AddOffsetsToTxnRequest } from '../../src/protocol/messages/AddOffsetsToTxnRequest.js';
import { AddOffsetsToTxnResponse } from '../../src/protocol/messages/AddOffsetsToTxnResponse.js';
import { AlterConfigsRequest } from '../../src/protocol/messages/AlterConfigsRequest.js';
import { AlterConfigsResponse } from '../../src/protocol/messages/AlterConfigsResponse.js';
import { ConsumerGroupDescribeRequest } from '../../src/protocol/messages/ConsumerGroupDescribeRequest.js';
import { ConsumerGroupDescribeResponse } from '../../src/protocol/messages/ConsumerGroupDescribeResponse.js';
import { CreatePartitionsRequest } from '../../src/protocol/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse } from '../../src/protocol/messages/CreatePartitionsResponse.js';
import { DeleteGroupsRequest } from '../../src/protocol/messages/DeleteGroupsRequest.js';
import { DeleteGroupsResponse } from '../../src/protocol/messages/DeleteGroupsResponse.js';
import { DeleteRecordsRequest } from '../../src/protocol/messages/DeleteRecordsRequest.js';
import { DeleteRecordsResponse } from '../../src/protocol/messages/DeleteRecordsResponse.js';
import { DescribeClusterRequest } from '../../src/protocol/messages/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../../src/protocol/messages/DescribeClusterResponse.js';
import { DescribeConfigsRequest } from '../../src/protocol/messages/DescribeConfigsRequest.js';
import { DescribeConfigsResponse } from '../../src/protocol/messages/DescribeConfigsResponse.js';
import { DescribeGroupsRequest } from '../../src/protocol/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../src/protocol/messages/DescribeGroupsResponse.js';
import { DescribeProducersRequest } from '../../src/protocol/messages/DescribeProducersRequest.js';
import { DescribeProducersResponse } from '../../src/protocol/messages/DescribeProducersResponse.js';
import { DescribeTopicPartitionsRequest } from '../../src/protocol/messages/DescribeTopicPartitionsRequest.js';
import { DescribeTopicPartitionsResponse } from '../../src/protocol/messages/DescribeTopicPartitionsResponse.js';
import { DescribeTransactionsRequest } from '../../src/protocol/messages/DescribeTransactionsRequest.js';
import { DescribeTransactionsResponse } from '../../src/protocol/messages/DescribeTransactionsResponse.js';
import { EndTxnRequest } from '../../src/protocol/messages/EndTxnRequest.js';
import { EndTxnResponse } from '../../src/protocol/messages/EndTxnResponse.js';
import { FindCoordinatorRequest } from '../../src/protocol/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../src/protocol/messages/FindCoordinatorResponse.js';
import { IncrementalAlterConfigsRequest } from '../../src/protocol/messages/IncrementalAlterConfigsRequest.js';
import { IncrementalAlterConfigsResponse } from '../../src/protocol/messages/IncrementalAlterConfigsResponse.js';
import { InitProducerIdRequest } from '../../src/protocol/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../../src/protocol/messages/InitProducerIdResponse.js';
import { ListGroupsRequest } from '../../src/protocol/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../../src/protocol/messages/ListGroupsResponse.js';
import { ListTransactionsRequest } from '../../src/protocol/messages/ListTransactionsRequest.js';
import { ListTransactionsResponse } from '../../src/protocol/messages/ListTransactionsResponse.js';
import { MetadataRequest } from '../../src/protocol/messages/MetadataRequest.js';
import { MetadataResponse } from '../../src/protocol/messages/MetadataResponse.js';
import { OffsetCommitRequest } from '../../src/protocol/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../src/protocol/messages/OffsetCommitResponse.js';
import { OffsetDeleteRequest } from '../../src/protocol/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../src/protocol/messages/OffsetDeleteResponse.js';
import { OffsetFetchRequest } from '../../src/protocol/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../../src/protocol/messages/OffsetFetchResponse.js';
import { OffsetForLeaderEpochRequest } from '../../src/protocol/messages/OffsetForLeaderEpochRequest.js';
import { OffsetForLeaderEpochResponse } from '../../src/protocol/messages/OffsetForLeaderEpochResponse.js';
import { TxnOffsetCommitRequest } from '../../src/protocol/messages/TxnOffsetCommitRequest.js';
import { TxnOffsetCommitResponse } from '../../src/protocol/messages/TxnOffsetCommitResponse.js';
import { UpdateFeaturesRequest } from '../../src/protocol/messages/UpdateFeaturesRequest.js';
import { UpdateFeaturesResponse } from '../../src/protocol/messages/UpdateFeaturesResponse.js';
import { WriteTxnMarkersRequest } from '../../src/protocol/messages/WriteTxnMarkersRequest.js';
import { WriteTxnMarkersResponse } from '../../src/protocol/messages/WriteTxnMarkersResponse.js';
import { BrokerProcess, freePort, tempDir } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';

const USERS = { admin: 'admin-secret', alice: 'alice-secret', bob: 'bob-secret', carol: 'carol-secret' } as const;
type User = keyof typeof USERS;
const JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required ${Object.entries(USERS)
  .map(([u, p]) => `user_${u}="${p}"`)
  .join(' ')};`;

// Kafka's AclOperation codes and config resource types, written out rather than taken from the
// broker's modules.
const bits = (...codes: number[]) => codes.reduce((field, c) => field | (1 << c), 0);
const [READ, WRITE, CREATE, DELETE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
const OMITTED = -2147483648;
const TOPIC_CONFIG = 2;
const BROKER_CONFIG = 4;
const GROUP_CONFIG = 32;

describe('ACLs on the admin, offset, config and transaction APIs', () => {
  const dirs: string[] = [];
  const wires: WireClient[] = [];
  let broker: BrokerProcess;
  let bs = '';
  let admin: Admin;

  const as = async (user: User): Promise<WireClient> => {
    const w = await WireClient.openPlain(bs, user, USERS[user]);
    wires.push(w);
    return w;
  };
  const grant = async (user: User, resourceType: number, resourceName: string, ...operations: number[]) => {
    const errors = await admin.createAcls(operations.map((operation) => ({ resourceType, resourceName, patternType: PatternType.LITERAL, principal: `User:${user}`, host: '*', operation, permission: AclPermission.ALLOW })));
    assert.deepEqual(errors, operations.map(() => null));
  };
  const adminAs = (user: User) => new Admin({ bootstrapServers: bs, sasl: { mechanism: 'PLAIN', username: user, password: USERS[user] } });

  before(async () => {
    const dir = tempDir();
    dirs.push(dir);
    const plainPort = await freePort();
    const saslPort = await freePort();
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
        'auto.create.topics.enable': 'false',
      },
    });
    await broker.start();
    bs = `127.0.0.1:${saslPort}`;
    admin = adminAs('admin');
    await admin.createTopics([
      { topic: 'orders', numPartitions: 1, replicationFactor: 1 },
      { topic: 'secret', numPartitions: 1, replicationFactor: 1 },
    ]);
    // Two groups with committed offsets on both topics (groups without members).
    for (const g of ['g-a', 'g-b']) {
      await admin.alterConsumerGroupOffsets(g, [
        { topic: 'orders', partition: 0, offset: 0n },
        { topic: 'secret', partition: 0, offset: 0n },
      ]);
    }
    // alice reads orders; the rest she gets test by test.
    await grant('alice', ResourceType.TOPIC, 'orders', AclOperation.READ);
  });
  after(async () => {
    for (const w of wires) w.close();
    await admin?.close();
    await broker?.destroy();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('OffsetCommit and OffsetFetch check READ / DESCRIBE on each topic besides the group', async () => {
    const alice = await as('alice');
    const commit = (names = ['orders', 'secret']) =>
      alice.send(OffsetCommitRequest, OffsetCommitResponse, 8, {
        ...OffsetCommitRequest.defaults(),
        groupId: 'g-a',
        generationIdOrMemberEpoch: -1,
        memberId: '',
        topics: names.map((name) => ({ name, topicId: ZERO_UUID, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: '' }] })),
      });
    const codes = (r: { topics: { name: string; partitions: { errorCode: number }[] }[] }) => Object.fromEntries(r.topics.map((t) => [t.name, t.partitions.map((p) => p.errorCode)]));
    assert.deepEqual(codes(await commit()), { orders: [ErrorCode.GROUP_AUTHORIZATION_FAILED], secret: [ErrorCode.GROUP_AUTHORIZATION_FAILED] }, 'no ACL on the group');
    await grant('alice', ResourceType.GROUP, 'g-a', AclOperation.READ);
    assert.deepEqual(codes(await commit()), { orders: [ErrorCode.NONE], secret: [ErrorCode.TOPIC_AUTHORIZATION_FAILED] }, 'READ on orders only');
    // The denial is in the broker's audit log at info, naming the principal and the resource.
    assert.match(broker.logs, /Principal = User:alice is Denied operation = READ from host = 127\.0\.0\.1 on resource = Topic:LITERAL:secret based on rule DefaultDeny/);
    // Filtering is not audited at info: Metadata for all topics leaves secret out without a denial line.
    const everything = await alice.send(MetadataRequest, MetadataResponse, 9, { ...MetadataRequest.defaults(), topics: null });
    assert.deepEqual(everything.topics.map((t) => t.name), ['orders']);
    assert.doesNotMatch(broker.logs, /User:alice is Denied operation = DESCRIBE .*Topic:LITERAL:secret/);
    // READ on a topic is checked before whether it exists: without it, an unknown topic is refused, not revealed.
    assert.deepEqual(codes(await commit(['ghost'])), { ghost: [ErrorCode.TOPIC_AUTHORIZATION_FAILED] });
    await grant('alice', ResourceType.TOPIC, 'ghost', AclOperation.READ);
    assert.deepEqual(codes(await commit(['ghost'])), { ghost: [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION] });

    const fetch = (topics: { name: string; partitionIndexes: number[] }[] | null) =>
      alice.send(OffsetFetchRequest, OffsetFetchResponse, 8, { ...OffsetFetchRequest.defaults(), groups: [{ groupId: 'g-a', memberId: null, memberEpoch: -1, topics: topics?.map((t) => ({ ...t, topicId: ZERO_UUID })) ?? null }] });
    const named = (await fetch([{ name: 'orders', partitionIndexes: [0] }, { name: 'secret', partitionIndexes: [0] }])).groups[0]!;
    assert.equal(named.errorCode, ErrorCode.NONE);
    assert.deepEqual(
      named.topics.map((t) => [t.name, t.partitions[0]!.committedOffset, t.partitions[0]!.errorCode]),
      [
        ['orders', 1n, ErrorCode.NONE],
        ['secret', -1n, ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ],
    );
    const all = (await fetch(null)).groups[0]!;
    assert.deepEqual(all.topics.map((t) => t.name), ['orders'], 'asked for everything, topics alice may not describe are left out');
    // The same through our admin client and an old OffsetFetch version.
    const aliceAdmin = adminAs('alice');
    try {
      const offsets = await aliceAdmin.listConsumerGroupOffsets('g-a');
      assert.deepEqual(offsets.map((o) => `${o.topic}-${o.partition}@${o.offset}`), ['orders-0@1']);
    } finally {
      await aliceAdmin.close();
    }
    const v1 = await alice.send(OffsetFetchRequest, OffsetFetchResponse, 1, { ...OffsetFetchRequest.defaults(), groupId: 'g-a', topics: [{ name: 'secret', partitionIndexes: [0] }] });
    assert.equal(v1.topics[0]!.partitions[0]!.errorCode, ErrorCode.TOPIC_AUTHORIZATION_FAILED);
  });

  it('OffsetDelete needs DELETE on the group and READ on each topic', async () => {
    const alice = await as('alice');
    const del = () => alice.send(OffsetDeleteRequest, OffsetDeleteResponse, 0, { groupId: 'g-a', topics: ['orders', 'secret'].map((name) => ({ name, partitions: [{ partitionIndex: 0 }] })) });
    const refused = await del();
    assert.equal(refused.errorCode, ErrorCode.GROUP_AUTHORIZATION_FAILED, 'READ on the group is not DELETE');
    assert.deepEqual(refused.topics, []);
    await grant('alice', ResourceType.GROUP, 'g-a', AclOperation.DELETE);
    const r = await del();
    assert.equal(r.errorCode, ErrorCode.NONE);
    assert.deepEqual(r.topics.map((t) => [t.name, t.partitions[0]!.errorCode]), [
      ['orders', ErrorCode.NONE],
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    const left = await admin.listConsumerGroupOffsets('g-a');
    assert.deepEqual(left.map((o) => o.topic), ['secret'], 'only the offset alice could delete is gone');
  });

  it('DescribeGroups, ConsumerGroupDescribe and ListGroups show only groups the principal may describe', async () => {
    const alice = await as('alice');
    const described = await alice.send(DescribeGroupsRequest, DescribeGroupsResponse, 5, { groups: ['g-a', 'g-b'], includeAuthorizedOperations: true });
    const [ga, gb] = described.groups;
    assert.equal(ga!.errorCode, ErrorCode.NONE);
    assert.equal(ga!.groupState, 'Empty');
    assert.equal(ga!.authorizedOperations, bits(READ, DELETE, DESCRIBE), 'READ and DELETE granted, DESCRIBE implied');
    assert.deepEqual([gb!.groupId, gb!.errorCode, gb!.groupState, gb!.authorizedOperations], ['g-b', ErrorCode.GROUP_AUTHORIZATION_FAILED, '', OMITTED]);
    const notAsked = await alice.send(DescribeGroupsRequest, DescribeGroupsResponse, 5, { groups: ['g-a'], includeAuthorizedOperations: false });
    assert.equal(notAsked.groups[0]!.authorizedOperations, OMITTED);

    const cgd = await alice.send(ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, 0, { groupIds: ['g-a', 'g-b'], includeAuthorizedOperations: true });
    assert.deepEqual(cgd.groups.map((g) => [g.groupId, g.errorCode]), [
      ['g-a', ErrorCode.GROUP_ID_NOT_FOUND],
      ['g-b', ErrorCode.GROUP_AUTHORIZATION_FAILED],
    ]);

    const list = async (w: WireClient) => (await w.send(ListGroupsRequest, ListGroupsResponse, 4, ListGroupsRequest.defaults())).groups.map((g) => g.groupId).sort();
    assert.deepEqual(await list(alice), ['g-a'], 'filtered, not refused');
    const bob = await as('bob');
    assert.deepEqual(await list(bob), []);
    await grant('bob', ResourceType.CLUSTER, 'kafka-cluster', AclOperation.DESCRIBE);
    assert.deepEqual(await list(bob), ['g-a', 'g-b'], 'DESCRIBE on the cluster lists every group');
  });

  it('DeleteGroups needs DELETE on each group', async () => {
    await admin.alterConsumerGroupOffsets('g-del', [{ topic: 'orders', partition: 0, offset: 0n }]);
    const carol = await as('carol');
    const del = () => carol.send(DeleteGroupsRequest, DeleteGroupsResponse, 2, { groupsNames: ['g-del', 'g-b'] });
    assert.deepEqual((await del()).results.map((r) => [r.groupId, r.errorCode]), [
      ['g-del', ErrorCode.GROUP_AUTHORIZATION_FAILED],
      ['g-b', ErrorCode.GROUP_AUTHORIZATION_FAILED],
    ]);
    await grant('carol', ResourceType.GROUP, 'g-del', AclOperation.DELETE);
    assert.deepEqual((await del()).results.map((r) => [r.groupId, r.errorCode]), [
      ['g-del', ErrorCode.NONE],
      ['g-b', ErrorCode.GROUP_AUTHORIZATION_FAILED],
    ]);
    assert.deepEqual((await admin.listGroups()).map((g) => g.groupId).filter((g) => g === 'g-del'), []);
  });

  it('DescribeConfigs, AlterConfigs and IncrementalAlterConfigs check DESCRIBE_CONFIGS / ALTER_CONFIGS per resource', async () => {
    const alice = await as('alice');
    const describeConfigs = async () =>
      (
        await alice.send(DescribeConfigsRequest, DescribeConfigsResponse, 4, {
          ...DescribeConfigsRequest.defaults(),
          resources: [
            { resourceType: TOPIC_CONFIG, resourceName: 'orders', configurationKeys: ['retention.ms'] },
            { resourceType: BROKER_CONFIG, resourceName: '1', configurationKeys: ['log.retention.ms'] },
            { resourceType: GROUP_CONFIG, resourceName: 'g-a', configurationKeys: null },
          ],
        })
      ).results.map((r) => [r.errorCode, r.errorCode === ErrorCode.NONE ? 'no error' : r.errorMessage, r.configs.length]);
    assert.deepEqual(await describeConfigs(), [
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.', 0],
      [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.', 0],
      [ErrorCode.GROUP_AUTHORIZATION_FAILED, 'Group authorization failed.', 0],
    ]);
    await grant('alice', ResourceType.TOPIC, 'orders', AclOperation.DESCRIBE_CONFIGS);
    await grant('alice', ResourceType.CLUSTER, 'kafka-cluster', AclOperation.DESCRIBE_CONFIGS);
    await grant('alice', ResourceType.GROUP, 'g-a', AclOperation.ALTER_CONFIGS);
    const allowed = await describeConfigs();
    assert.deepEqual(allowed.slice(0, 2), [
      [ErrorCode.NONE, 'no error', 1],
      [ErrorCode.NONE, 'no error', 1],
    ]);
    assert.equal(allowed[2]![0], ErrorCode.NONE, 'ALTER_CONFIGS implies DESCRIBE_CONFIGS');

    const alter = async () =>
      (
        await alice.send(AlterConfigsRequest, AlterConfigsResponse, 2, {
          validateOnly: true,
          resources: [
            { resourceType: TOPIC_CONFIG, resourceName: 'orders', configs: [{ name: 'retention.ms', value: '60000' }] },
            { resourceType: BROKER_CONFIG, resourceName: '', configs: [{ name: 'log.retention.ms', value: '60000' }] },
          ],
        })
      ).responses.map((r) => [r.errorCode, r.errorMessage]);
    assert.deepEqual(await alter(), [
      [ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
      [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, 'Cluster authorization failed.'],
    ]);
    const incremental = async () =>
      (
        await alice.send(IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, 1, {
          validateOnly: false,
          resources: [
            { resourceType: TOPIC_CONFIG, resourceName: 'orders', configs: [{ name: 'retention.ms', configOperation: 0, value: '60000' }] },
            { resourceType: TOPIC_CONFIG, resourceName: 'secret', configs: [{ name: 'retention.ms', configOperation: 0, value: '60000' }] },
            { resourceType: GROUP_CONFIG, resourceName: 'g-b', configs: [{ name: 'consumer.session.timeout.ms', configOperation: 0, value: '50000' }] },
          ],
        })
      ).responses.map((r) => r.errorCode);
    assert.deepEqual(await incremental(), [ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.GROUP_AUTHORIZATION_FAILED]);
    await grant('alice', ResourceType.TOPIC, 'orders', AclOperation.ALTER_CONFIGS);
    assert.deepEqual(await incremental(), [ErrorCode.NONE, ErrorCode.TOPIC_AUTHORIZATION_FAILED, ErrorCode.GROUP_AUTHORIZATION_FAILED]);
    assert.deepEqual((await alter())[0], [ErrorCode.NONE, null]);
    const [orders] = await admin.describeConfigs([{ type: 'topic', name: 'orders', keys: ['retention.ms'] }]);
    assert.equal(orders!.entries.find((e) => e.name === 'retention.ms')?.value, '60000', 'the allowed change was applied');
  });

  it('CreatePartitions needs ALTER, DeleteRecords DELETE, OffsetForLeaderEpoch DESCRIBE (or CLUSTER_ACTION), DescribeProducers READ', async () => {
    const alice = await as('alice');
    const grow = async () =>
      (
        await alice.send(CreatePartitionsRequest, CreatePartitionsResponse, 3, {
          timeoutMs: 10_000,
          validateOnly: false,
          topics: [
            { name: 'orders', count: 2, assignments: null },
            { name: 'nope', count: 2, assignments: null },
          ],
        })
      ).results.map((r) => [r.name, r.errorCode]);
    assert.deepEqual(await grow(), [
      ['orders', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
      ['nope', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ], 'an unknown topic is not revealed');
    await grant('alice', ResourceType.TOPIC, 'orders', AclOperation.ALTER);
    await grant('alice', ResourceType.TOPIC, 'nope', AclOperation.ALTER);
    assert.deepEqual(await grow(), [
      ['orders', ErrorCode.NONE],
      ['nope', ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);

    const deleteRecords = async () =>
      (await alice.send(DeleteRecordsRequest, DeleteRecordsResponse, 2, { timeoutMs: 10_000, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, offset: -1n }] }] })).topics[0]!.partitions[0]!;
    assert.deepEqual(await deleteRecords(), { partitionIndex: 0, lowWatermark: -1n, errorCode: ErrorCode.TOPIC_AUTHORIZATION_FAILED });
    await grant('alice', ResourceType.TOPIC, 'orders', AclOperation.DELETE);
    assert.equal((await deleteRecords()).errorCode, ErrorCode.NONE);

    const epochs = async (w: WireClient) =>
      (
        await w.send(OffsetForLeaderEpochRequest, OffsetForLeaderEpochResponse, 4, {
          replicaId: -1,
          topics: ['orders', 'secret'].map((topic) => ({ topic, partitions: [{ partition: 0, currentLeaderEpoch: -1, leaderEpoch: 0 }] })),
        })
      ).topics.map((t) => [t.topic, t.partitions[0]!.errorCode]);
    assert.deepEqual(await epochs(alice), [
      ['orders', ErrorCode.NONE],
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);
    const bob = await as('bob');
    await grant('bob', ResourceType.CLUSTER, 'kafka-cluster', AclOperation.CLUSTER_ACTION);
    assert.deepEqual(await epochs(bob), [
      ['orders', ErrorCode.NONE],
      ['secret', ErrorCode.NONE],
    ], 'CLUSTER_ACTION (replicas) allows every topic');

    const producers = await alice.send(DescribeProducersRequest, DescribeProducersResponse, 0, { topics: ['orders', 'secret'].map((name) => ({ name, partitionIndexes: [0] })) });
    assert.deepEqual(producers.topics.map((t) => [t.name, t.partitions[0]!.errorCode, t.partitions[0]!.errorMessage]), [
      ['orders', ErrorCode.NONE, null],
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, 'Topic authorization failed.'],
    ]);
  });

  it('authorized operations follow the ACLs: Metadata, DescribeCluster, DescribeTopicPartitions', async () => {
    const carol = await as('carol');
    await grant('carol', ResourceType.TOPIC, 'orders', AclOperation.WRITE, AclOperation.DESCRIBE_CONFIGS);
    const metadata = await carol.send(MetadataRequest, MetadataResponse, 9, {
      ...MetadataRequest.defaults(),
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: true,
      includeTopicAuthorizedOperations: true,
    });
    assert.deepEqual(metadata.topics.map((t) => [t.name, t.topicAuthorizedOperations]), [['orders', bits(WRITE, DESCRIBE, DESCRIBE_CONFIGS)]]);
    assert.equal(metadata.clusterAuthorizedOperations, 0, 'no DESCRIBE on the cluster: 0, as Kafka');

    const clusterOps = async (w: WireClient) => (await w.send(DescribeClusterRequest, DescribeClusterResponse, 1, { ...DescribeClusterRequest.defaults(), includeClusterAuthorizedOperations: true })).clusterAuthorizedOperations;
    assert.equal(await clusterOps(carol), 0);
    assert.equal(await clusterOps(await as('bob')), bits(DESCRIBE, CLUSTER_ACTION), 'bob was granted DESCRIBE and CLUSTER_ACTION');
    assert.equal(await clusterOps(await as('admin')), bits(CREATE, ALTER, DESCRIBE, CLUSTER_ACTION, DESCRIBE_CONFIGS, ALTER_CONFIGS, IDEMPOTENT_WRITE), 'a super user: every cluster operation');
    const notAsked = await carol.send(DescribeClusterRequest, DescribeClusterResponse, 1, { ...DescribeClusterRequest.defaults(), includeClusterAuthorizedOperations: false });
    assert.equal(notAsked.clusterAuthorizedOperations, OMITTED);

    const dtp = async (names: string[]) =>
      (await carol.send(DescribeTopicPartitionsRequest, DescribeTopicPartitionsResponse, 0, { topics: names.map((name) => ({ name })), responsePartitionLimit: 100, cursor: null })).topics.map((t) => [
        t.name,
        t.errorCode,
        t.topicId === ZERO_UUID,
        t.topicAuthorizedOperations,
      ]);
    assert.deepEqual(await dtp(['nope', 'orders', 'secret']), [
      ['orders', ErrorCode.NONE, false, bits(WRITE, DESCRIBE, DESCRIBE_CONFIGS)],
      ['nope', ErrorCode.TOPIC_AUTHORIZATION_FAILED, true, OMITTED],
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED, true, OMITTED],
    ]);
    assert.deepEqual((await dtp([])).map((t) => t[0]), ['orders'], 'all topics: only those carol may describe');
  });

  it('transactions: TxnOffsetCommit checks READ per topic; DescribeTransactions and ListTransactions need DESCRIBE on the id; WriteTxnMarkers CLUSTER_ACTION; UpdateFeatures ALTER', async () => {
    const txnId = 'tx-acl';
    await grant('alice', ResourceType.TRANSACTIONAL_ID, txnId, AclOperation.WRITE);
    const alice = await as('alice');
    // FindCoordinator creates __transaction_state; InitProducerId answers once it is loaded.
    const found = await alice.send(FindCoordinatorRequest, FindCoordinatorResponse, 4, { ...FindCoordinatorRequest.defaults(), keyType: 1, coordinatorKeys: [txnId] });
    assert.equal(found.coordinators[0]!.errorCode, ErrorCode.NONE);
    let init = await alice.send(InitProducerIdRequest, InitProducerIdResponse, 4, { transactionalId: txnId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    for (let attempt = 0; attempt < 100 && init.errorCode !== ErrorCode.NONE; attempt++) {
      const notReady: number[] = [ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_NOT_AVAILABLE, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS];
      assert.ok(notReady.includes(init.errorCode), `InitProducerId: ${init.errorCode}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
      init = await alice.send(InitProducerIdRequest, InitProducerIdResponse, 4, { transactionalId: txnId, transactionTimeoutMs: 60_000, producerId: -1n, producerEpoch: -1 });
    }
    assert.equal(init.errorCode, ErrorCode.NONE);
    const { producerId, producerEpoch } = init;
    const added = await alice.send(AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, 3, { transactionalId: txnId, producerId, producerEpoch, groupId: 'g-a' });
    assert.equal(added.errorCode, ErrorCode.NONE);
    const committed = await alice.send(TxnOffsetCommitRequest, TxnOffsetCommitResponse, 3, {
      transactionalId: txnId,
      groupId: 'g-a',
      producerId,
      producerEpoch,
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      topics: ['orders', 'secret'].map((name) => ({ name, partitions: [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: '' }] })),
    });
    assert.deepEqual(committed.topics.map((t) => [t.name, t.partitions[0]!.errorCode]), [
      ['orders', ErrorCode.NONE],
      ['secret', ErrorCode.TOPIC_AUTHORIZATION_FAILED],
    ]);

    const carol = await as('carol');
    const describe = async () => (await carol.send(DescribeTransactionsRequest, DescribeTransactionsResponse, 0, { transactionalIds: [txnId] })).transactionStates[0]!;
    assert.equal((await describe()).errorCode, ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED);
    const listed = async (w: WireClient) => (await w.send(ListTransactionsRequest, ListTransactionsResponse, 1, ListTransactionsRequest.defaults())).transactionStates.map((t) => t.transactionalId);
    assert.deepEqual(await listed(carol), [], 'filtered, not refused');
    assert.deepEqual(await listed(alice), [txnId], 'WRITE implies DESCRIBE');
    await grant('carol', ResourceType.TRANSACTIONAL_ID, txnId, AclOperation.DESCRIBE);
    const d = await describe();
    assert.equal(d.errorCode, ErrorCode.NONE);
    assert.equal(d.transactionState, 'Ongoing');
    assert.deepEqual(d.topics, [], 'the offsets partition is hidden: carol may not DESCRIBE __consumer_offsets');
    assert.deepEqual(await listed(carol), [txnId]);
    const ended = await alice.send(EndTxnRequest, EndTxnResponse, 3, { transactionalId: txnId, producerId, producerEpoch, committed: false });
    assert.equal(ended.errorCode, ErrorCode.NONE);

    const markers = async (w: WireClient) =>
      (
        await w.send(WriteTxnMarkersRequest, WriteTxnMarkersResponse, 1, {
          markers: [{ producerId: 999_999n, producerEpoch: 0, transactionResult: false, coordinatorEpoch: 0, transactionVersion: 0, topics: [{ name: 'no-such-topic', partitionIndexes: [0] }] }],
        })
      ).markers[0]!.topics[0]!.partitions[0]!.errorCode;
    assert.equal(await markers(carol), ErrorCode.CLUSTER_AUTHORIZATION_FAILED);
    assert.equal(await markers(await as('bob')), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'bob has CLUSTER_ACTION: the marker goes through');

    const features = async (w: WireClient) => w.send(UpdateFeaturesRequest, UpdateFeaturesResponse, 1, { timeoutMs: 10_000, featureUpdates: [], validateOnly: true });
    const refused = await features(carol);
    assert.deepEqual([refused.errorCode, refused.results], [ErrorCode.CLUSTER_AUTHORIZATION_FAILED, []]);
    await grant('carol', ResourceType.CLUSTER, 'kafka-cluster', AclOperation.ALTER);
    assert.equal((await features(carol)).errorCode, ErrorCode.NONE);
  });

  it('our clients report a topic they may not DESCRIBE as TopicAuthorizationError, not as an unknown topic', async () => {
    const sasl = { mechanism: 'PLAIN', username: 'bob', password: USERS.bob } as const;
    const refusedSecret = (e: unknown) => e instanceof TopicAuthorizationError && e.code === ErrorCode.TOPIC_AUTHORIZATION_FAILED && e.unauthorizedTopics.join() === 'secret';
    const bobAdmin = adminAs('bob');
    const producer = new Producer({ bootstrapServers: bs, sasl, maxBlockMs: 20_000 });
    const consumer = new Consumer({ bootstrapServers: bs, sasl, autoOffsetReset: 'earliest' });
    try {
      // Each looks the partition's leader up in Metadata, which answers TOPIC_AUTHORIZATION_FAILED.
      await assert.rejects(bobAdmin.deleteRecords([{ topic: 'secret', partition: 0, offset: 0n }]), refusedSecret);
      await assert.rejects(producer.send({ topic: 'secret', value: Buffer.from('v') }), refusedSecret);
      consumer.assign([{ topic: 'secret', partition: 0 }]);
      await assert.rejects(consumer.poll({ timeoutMs: 20_000 }), refusedSecret);
    } finally {
      await consumer.close();
      await producer.close();
      await bobAdmin.close();
    }
  });

  it('our Admin client and confluent-kafka AdminClient as a user see the same refusals', async () => {
    const bobAdmin = adminAs('bob');
    try {
      await assert.rejects(bobAdmin.createPartitions([{ topic: 'secret', count: 3 }]), /TOPIC_AUTHORIZATION_FAILED/);
      // Our client looks the partition's leader up first: bob must see the topic to get that far.
      await grant('bob', ResourceType.TOPIC, 'secret', AclOperation.DESCRIBE);
      await assert.rejects(bobAdmin.deleteRecords([{ topic: 'secret', partition: 0, offset: 0n }]), /TOPIC_AUTHORIZATION_FAILED/);
      await assert.rejects(bobAdmin.deleteGroups(['g-b']), /GROUP_AUTHORIZATION_FAILED/);
    } finally {
      await bobAdmin.close();
    }
    const out = await python<{ describe: string; partitions: string; groups: string[] }>(
      String.raw`
import json, sys
from confluent_kafka.admin import AdminClient, ConfigResource, NewPartitions
a = AdminClient({'bootstrap.servers': sys.argv[1], 'security.protocol': 'SASL_PLAINTEXT', 'sasl.mechanisms': 'PLAIN', 'sasl.username': 'alice', 'sasl.password': 'alice-secret'})
def outcome(f):
    try:
        f.result()
        return 'ok'
    except Exception as e:
        return e.args[0].name() if e.args and hasattr(e.args[0], 'name') else str(e)
r = a.describe_configs([ConfigResource('topic', 'secret')], request_timeout=15)
describe = outcome(list(r.values())[0])
p = a.create_partitions([NewPartitions('secret', 3)], request_timeout=15)
partitions = outcome(list(p.values())[0])
groups = sorted(g.id for g in a.list_groups(timeout=15))
print(json.dumps({'describe': describe, 'partitions': partitions, 'groups': groups}))
`,
      [bs],
      60_000,
    );
    assert.deepEqual(out, { describe: 'TOPIC_AUTHORIZATION_FAILED', partitions: 'TOPIC_AUTHORIZATION_FAILED', groups: ['g-a'] });
  });
});
