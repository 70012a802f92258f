// Committed offsets and group administration against a broker process: commits survive a clean
// restart and a kill -9 (consumers resume from them), and bad requests (unknown generations and
// groups, stale member ids, fenced static members, bad session timeouts) get Kafka's error codes
// while the real group keeps working. Group APIs that librdkafka 2.0.2 does not expose are sent
// with the generated codecs over a socket.
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { DeleteGroupsRequest } from '../../src/protocol/messages/DeleteGroupsRequest.js';
import { DeleteGroupsResponse } from '../../src/protocol/messages/DeleteGroupsResponse.js';
import { DescribeGroupsRequest } from '../../src/protocol/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../src/protocol/messages/DescribeGroupsResponse.js';
import { FindCoordinatorRequest } from '../../src/protocol/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../src/protocol/messages/FindCoordinatorResponse.js';
import { HeartbeatRequest } from '../../src/protocol/messages/HeartbeatRequest.js';
import { HeartbeatResponse } from '../../src/protocol/messages/HeartbeatResponse.js';
import { JoinGroupRequest } from '../../src/protocol/messages/JoinGroupRequest.js';
import { JoinGroupResponse } from '../../src/protocol/messages/JoinGroupResponse.js';
import { ListGroupsRequest } from '../../src/protocol/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../../src/protocol/messages/ListGroupsResponse.js';
import { OffsetCommitRequest } from '../../src/protocol/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../src/protocol/messages/OffsetCommitResponse.js';
import { OffsetDeleteRequest } from '../../src/protocol/messages/OffsetDeleteRequest.js';
import { OffsetDeleteResponse } from '../../src/protocol/messages/OffsetDeleteResponse.js';
import { OffsetFetchRequest } from '../../src/protocol/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../../src/protocol/messages/OffsetFetchResponse.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { WireClient } from './admin-wire.js';
import { isCompleteSplit, PyConsumer } from './groups-support.js';
import { kcatProduce } from './support.js';

const PARTITIONS = 3;

describe('committed offsets and group errors', () => {
  let broker: BrokerProcess;
  const consumers: PyConsumer[] = [];
  const wires: WireClient[] = [];
  const consumer = (name: string, group: string, topic: string, extra: Record<string, string | number | boolean> = {}) => {
    const c = new PyConsumer(name, broker.bootstrap, group, topic, extra);
    consumers.push(c);
    return c;
  };
  const wire = async () => {
    const w = await WireClient.open(broker.bootstrap);
    wires.push(w);
    return w;
  };

  before(async () => {
    broker = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': String(PARTITIONS) } });
  });
  after(async () => {
    for (const w of wires) w.close();
    await Promise.all(consumers.map((c) => c.kill()));
    await broker.destroy();
  });

  /** Starts a consumer, reads `values`, commits, closes; returns the values it read. */
  const consumeAndCommit = async (name: string, group: string, topic: string, expected: number): Promise<string[]> => {
    const c = consumer(name, group, topic);
    await c.until(`${name} read ${expected} records`, () => c.messages().length >= expected, 30_000);
    c.send('commit');
    await c.waitFor('commit', (e) => e.ev === 'committed' || e.ev === 'commit-failed');
    assert.ok(c.events.some((e) => e.ev === 'committed'), c.log);
    await c.close();
    return c.messages().map((m) => m.value!);
  };

  it('commits survive a clean restart and a kill -9, and consumers resume from them', async () => {
    const topic = 'durable';
    const batch = (from: number, n: number) => Array.from({ length: n }, (_, i) => `k${from + i}:v${from + i}`);
    await kcatProduce(broker.bootstrap, topic, batch(0, 10));
    const first = await consumeAndCommit('c1', 'g-durable', topic, 10);
    assert.equal(first.length, 10);

    await broker.stop();
    await broker.start();
    await kcatProduce(broker.bootstrap, topic, batch(10, 5));
    const second = await consumeAndCommit('c2', 'g-durable', topic, 5);
    assert.deepEqual(second.sort(), ['v10', 'v11', 'v12', 'v13', 'v14'], 'resumed after the commit, nothing re-read');

    await broker.kill();
    await broker.start();
    await kcatProduce(broker.bootstrap, topic, batch(15, 5));
    const third = await consumeAndCommit('c3', 'g-durable', topic, 5);
    assert.deepEqual(third.sort(), ['v15', 'v16', 'v17', 'v18', 'v19'], 'resumed after kill -9 from the committed offsets');

    const w = await wire();
    const fetched = await w.send(OffsetFetchRequest, OffsetFetchResponse, 8, {
      ...OffsetFetchRequest.defaults(),
      groups: [
        { groupId: 'g-durable', memberId: null, memberEpoch: -1, topics: null },
        { groupId: 'no-such-group', memberId: null, memberEpoch: -1, topics: [{ name: topic, topicId: ZERO_UUID, partitionIndexes: [0] }] },
      ],
    });
    const committed = fetched.groups[0]!.topics.find((t) => t.name === topic)!.partitions.reduce((sum, p) => sum + Number(p.committedOffset), 0);
    assert.equal(committed, 20, 'committed offsets of all partitions add up to the 20 records');
    assert.equal(fetched.groups[1]!.topics[0]!.partitions[0]!.committedOffset, -1n, 'an unknown group has no offsets');
  });

  it('bad commits, heartbeats and joins get Kafka error codes and the group keeps working', async () => {
    const topic = 'errors';
    await kcatProduce(broker.bootstrap, topic, ['a:1']);
    const c = consumer('static', 'g-errors', topic, { 'group.instance.id': 'instance-a' });
    await c.until('owns every partition', () => isCompleteSplit([c], PARTITIONS), 30_000);
    const w = await wire();

    const coordinator = await w.send(FindCoordinatorRequest, FindCoordinatorResponse, 4, { ...FindCoordinatorRequest.defaults(), keyType: 0, coordinatorKeys: ['g-errors'] });
    assert.equal(coordinator.coordinators[0]!.errorCode, ErrorCode.NONE);
    assert.equal(coordinator.coordinators[0]!.port, broker.port);
    const txn = await w.send(FindCoordinatorRequest, FindCoordinatorResponse, 3, { ...FindCoordinatorRequest.defaults(), keyType: 1, key: 'tx' });
    // The transaction coordinator: this broker, once __transaction_state is created.
    assert.equal(txn.errorCode, ErrorCode.NONE);
    assert.equal(txn.port, broker.port);

    const described = await w.send(DescribeGroupsRequest, DescribeGroupsResponse, 5, { groups: ['g-errors'], includeAuthorizedOperations: false });
    const group = described.groups[0]!;
    assert.equal(group.groupState, 'Stable');
    assert.equal(group.protocolType, 'consumer');
    assert.equal(group.members.length, 1);
    const member = group.members[0]!;
    assert.equal(member.groupInstanceId, 'instance-a');

    const commit = async (version: number, over: Partial<ReturnType<typeof OffsetCommitRequest.defaults>>) => {
      const res = await w.send(OffsetCommitRequest, OffsetCommitResponse, version, {
        ...OffsetCommitRequest.defaults(),
        groupId: 'g-errors',
        topics: [{ name: topic, partitions: [{ partitionIndex: 0, committedOffset: 0n, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: null }] }],
        ...over,
      });
      return res.topics[0]!.partitions[0]!.errorCode;
    };
    assert.equal(await commit(8, { generationIdOrMemberEpoch: 9999, memberId: member.memberId }), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await commit(8, { generationIdOrMemberEpoch: 1, memberId: 'stale-member' }), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await commit(8, { generationIdOrMemberEpoch: -1, memberId: '' }), ErrorCode.UNKNOWN_MEMBER_ID, 'a simple commit to a group with members');
    assert.equal(await commit(8, { generationIdOrMemberEpoch: 1, memberId: 'stale-member', groupInstanceId: 'instance-a' }), ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(await commit(8, { groupId: 'never-joined', generationIdOrMemberEpoch: 3, memberId: 'm' }), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await commit(9, { groupId: 'never-joined', generationIdOrMemberEpoch: 3, memberId: 'm' }), ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(await commit(8, { groupId: 'simple-group', generationIdOrMemberEpoch: -1, memberId: '' }), ErrorCode.NONE, 'a simple commit to a group without members');

    const heartbeat = async (memberId: string, generationId: number, groupInstanceId: string | null) =>
      (await w.send(HeartbeatRequest, HeartbeatResponse, 4, { groupId: 'g-errors', generationId, memberId, groupInstanceId })).errorCode;
    assert.equal(await heartbeat('stale-member', 1, null), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await heartbeat('stale-member', 1, 'instance-a'), ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(await heartbeat(member.memberId, 9999, 'instance-a'), ErrorCode.ILLEGAL_GENERATION);

    const join = async (over: Partial<ReturnType<typeof JoinGroupRequest.defaults>>) =>
      w.send(JoinGroupRequest, JoinGroupResponse, 9, {
        ...JoinGroupRequest.defaults(),
        groupId: 'g-errors',
        sessionTimeoutMs: 10_000,
        rebalanceTimeoutMs: 10_000,
        protocolType: 'consumer',
        protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
        ...over,
      });
    assert.equal((await join({ memberId: 'stale-member', groupInstanceId: 'instance-a' })).errorCode, ErrorCode.FENCED_INSTANCE_ID);
    assert.equal((await join({ sessionTimeoutMs: 1000 })).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await join({ memberId: 'stale-member' })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await join({ protocolType: 'connect' })).errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const required = await join({ groupId: 'two-step' });
    assert.equal(required.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.notEqual(required.memberId, '');

    const offsetDelete = await w.send(OffsetDeleteRequest, OffsetDeleteResponse, 0, { groupId: 'g-errors', topics: [{ name: topic, partitions: [{ partitionIndex: 0 }] }] });
    assert.equal(offsetDelete.topics[0]!.partitions[0]!.errorCode, ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC);
    const deleteBusy = await w.send(DeleteGroupsRequest, DeleteGroupsResponse, 2, { groupsNames: ['g-errors', 'no-such-group'] });
    assert.deepEqual(
      deleteBusy.results.map((r) => r.errorCode),
      [ErrorCode.NON_EMPTY_GROUP, ErrorCode.GROUP_ID_NOT_FOUND],
    );

    // The real member is untouched: same member, still Stable, still consuming and committing.
    await kcatProduce(broker.bootstrap, topic, ['b:after-errors']);
    await c.waitFor('the record produced after the errors', (e) => e.ev === 'msg' && e.value === 'after-errors');
    c.send('commit');
    await c.waitFor('commit', (e) => e.ev === 'committed' || e.ev === 'commit-failed');
    assert.ok(c.events.some((e) => e.ev === 'committed'), c.log);
    const again = await w.send(DescribeGroupsRequest, DescribeGroupsResponse, 5, { groups: ['g-errors'], includeAuthorizedOperations: false });
    assert.equal(again.groups[0]!.groupState, 'Stable');
    assert.equal(again.groups[0]!.members[0]!.memberId, member.memberId);

    const listed = await w.send(ListGroupsRequest, ListGroupsResponse, 5, { statesFilter: ['stable'], typesFilter: [] });
    assert.deepEqual(
      listed.groups.map((g) => g.groupId),
      ['g-errors'],
    );

    // Once the group is empty it can be deleted, and its offsets go with it.
    await c.close();
    const deleteStatic = async () => (await w.send(DeleteGroupsRequest, DeleteGroupsResponse, 2, { groupsNames: ['simple-group'] })).results[0]!.errorCode;
    assert.equal(await deleteStatic(), ErrorCode.NONE);
    const gone = await w.send(OffsetFetchRequest, OffsetFetchResponse, 7, { ...OffsetFetchRequest.defaults(), groupId: 'simple-group', topics: null });
    assert.deepEqual(gone.topics, []);
  });
});
