// The consumer group protocol (KIP-848, group.protocol=consumer) against a broker process. No
// installed client speaks it (librdkafka 2.0.2 is too old, kafkajs never did), so members are
// driven with real ConsumerGroupHeartbeat requests built with the generated codecs, each on its
// own connection: members converge with no partition owned twice at any step, a leaving member's
// partitions move, a silent member expires, offsets need the current member epoch, the group
// and its offsets survive a restart, and describe/list show consumer groups.
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ConsumerGroupDescribeRequest } from '../../src/protocol/messages/ConsumerGroupDescribeRequest.js';
import { ConsumerGroupDescribeResponse } from '../../src/protocol/messages/ConsumerGroupDescribeResponse.js';
import { ConsumerGroupHeartbeatRequest } from '../../src/protocol/messages/ConsumerGroupHeartbeatRequest.js';
import { ConsumerGroupHeartbeatResponse, type ConsumerGroupHeartbeatResponseData } from '../../src/protocol/messages/ConsumerGroupHeartbeatResponse.js';
import { CreatePartitionsRequest } from '../../src/protocol/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse } from '../../src/protocol/messages/CreatePartitionsResponse.js';
import { CreateTopicsRequest } from '../../src/protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/messages/CreateTopicsResponse.js';
import { DescribeGroupsRequest } from '../../src/protocol/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../../src/protocol/messages/DescribeGroupsResponse.js';
import { FindCoordinatorRequest } from '../../src/protocol/messages/FindCoordinatorRequest.js';
import { FindCoordinatorResponse } from '../../src/protocol/messages/FindCoordinatorResponse.js';
import { ListGroupsRequest } from '../../src/protocol/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../../src/protocol/messages/ListGroupsResponse.js';
import { OffsetCommitRequest } from '../../src/protocol/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../../src/protocol/messages/OffsetCommitResponse.js';
import { OffsetFetchRequest } from '../../src/protocol/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../../src/protocol/messages/OffsetFetchResponse.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { WireClient, wirePool } from './admin-wire.js';

const SESSION_TIMEOUT_MS = 3000;

/** A member of a consumer group: adopts each assignment it receives at once, as a consumer does after revoking. */
class Member {
  memberId = '';
  epoch = 0;
  owned = new Map<string, Set<number>>();
  constructor(
    readonly wire: WireClient,
    readonly groupId: string,
    readonly topics: string[],
  ) {}

  async heartbeat(over: Partial<{ memberEpoch: number; serverAssignor: string | null }> = {}): Promise<ConsumerGroupHeartbeatResponseData> {
    const joining = this.epoch === 0;
    const res = await this.wire.send(ConsumerGroupHeartbeatRequest, ConsumerGroupHeartbeatResponse, 0, {
      ...ConsumerGroupHeartbeatRequest.defaults(),
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      rebalanceTimeoutMs: joining ? 30_000 : -1,
      subscribedTopicNames: joining ? this.topics : null,
      topicPartitions: joining ? [] : [...this.owned].map(([topicId, parts]) => ({ topicId, partitions: [...parts] })),
      ...over,
    });
    if (res.errorCode === ErrorCode.NONE) {
      if (res.memberId !== null) this.memberId = res.memberId;
      this.epoch = res.memberEpoch;
      if (res.assignment !== null) this.owned = new Map(res.assignment.topicPartitions.map((t) => [t.topicId, new Set(t.partitions)]));
    }
    return res;
  }

  count(): number {
    let n = 0;
    for (const parts of this.owned.values()) n += parts.size;
    return n;
  }
}

function assertDisjoint(members: readonly Member[]): void {
  const owner = new Map<string, string>();
  for (const m of members) {
    for (const [t, parts] of m.owned) {
      for (const p of parts) {
        const key = `${t}:${p}`;
        assert.equal(owner.get(key), undefined, `partition ${key} owned by ${owner.get(key)} and ${m.memberId}`);
        owner.set(key, m.memberId);
      }
    }
  }
}

/** Heartbeats every member in turn until the assignment stops changing (bounded); checks ownership after each step. */
async function converge(members: readonly Member[], totalPartitions: number): Promise<void> {
  for (let round = 0; round < 20; round++) {
    for (const m of members) {
      const res = await m.heartbeat();
      assert.equal(res.errorCode, ErrorCode.NONE, `heartbeat: ${res.errorMessage}`);
      assertDisjoint(members);
    }
    const counts = members.map((m) => m.count());
    const epochs = new Set(members.map((m) => m.epoch));
    if (counts.reduce((a, b) => a + b, 0) === totalPartitions && Math.max(...counts) - Math.min(...counts) <= 1 && epochs.size === 1) return;
  }
  assert.fail(`no convergence: ${members.map((m) => `${m.memberId}@${m.epoch}=${m.count()}`).join(' ')}`);
}

describe('consumer group protocol (KIP-848) over the wire', () => {
  let broker: BrokerProcess;
  const wires = wirePool(() => broker.bootstrap);
  const wire = () => wires.open();
  const createTopic = async (name: string, numPartitions: number): Promise<string> => {
    const w = await wire();
    const res = await w.send(CreateTopicsRequest, CreateTopicsResponse, 7, {
      ...CreateTopicsRequest.defaults(),
      timeoutMs: 10_000,
      topics: [{ name, numPartitions, replicationFactor: 1, assignments: [], configs: [] }],
    });
    assert.equal(res.topics[0]!.errorCode, ErrorCode.NONE, res.topics[0]!.errorMessage ?? '');
    return res.topics[0]!.topicId;
  };
  const describeGroup = async (groupId: string, version = 0) => {
    const w = await wire();
    const res = await w.send(ConsumerGroupDescribeRequest, ConsumerGroupDescribeResponse, version, { groupIds: [groupId], includeAuthorizedOperations: false });
    return res.groups[0]!;
  };

  before(async () => {
    broker = await startBroker({ overrides: { 'group.consumer.session.timeout.ms': String(SESSION_TIMEOUT_MS), 'group.consumer.min.session.timeout.ms': String(SESSION_TIMEOUT_MS), 'group.consumer.heartbeat.interval.ms': '500', 'group.consumer.min.heartbeat.interval.ms': '500' } });
    const w = await wire();
    const found = await w.send(FindCoordinatorRequest, FindCoordinatorResponse, 4, { ...FindCoordinatorRequest.defaults(), keyType: 0, coordinatorKeys: ['any'] });
    assert.equal(found.coordinators[0]!.errorCode, ErrorCode.NONE);
  });
  after(async () => {
    wires.closeAll();
    await broker.destroy();
  });

  it('three members converge with no partition owned twice; a leaving member\'s partitions move; added partitions are assigned', async () => {
    const topicId = await createTopic('kip848-a', 7);
    const members = [new Member(await wire(), 'g-a', ['kip848-a']), new Member(await wire(), 'g-a', ['kip848-a']), new Member(await wire(), 'g-a', ['kip848-a'])];
    const first = await members[0]!.heartbeat();
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.equal(first.heartbeatIntervalMs, 500);
    assert.equal(members[0]!.count(), 7, 'a lone member gets every partition');
    await converge(members, 7);
    assert.deepEqual(members.map((m) => m.owned.get(topicId)?.size ?? 0).sort(), [2, 2, 3]);

    const described = await describeGroup('g-a');
    assert.equal(described.errorCode, ErrorCode.NONE);
    assert.equal(described.groupState, 'Stable');
    assert.equal(described.assignorName, 'uniform');
    assert.equal(described.members.length, 3);
    assert.ok(described.members.every((m) => m.assignment.topicPartitions.every((t) => t.topicName === 'kip848-a')));
    assert.deepEqual(described.members.map((m) => m.memberType), [-1, -1, -1], 'v0 has no member type');
    const v1 = await describeGroup('g-a', 1);
    assert.deepEqual(v1.members.map((m) => m.memberType), [1, 1, 1], 'v1 (KIP-1099): every member is a consumer member');

    const leaving = members[2]!;
    const left = await leaving.heartbeat({ memberEpoch: -1 });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -1);
    await converge(members.slice(0, 2), 7);
    assert.deepEqual(members.slice(0, 2).map((m) => m.count()).sort(), [3, 4]);

    const w = await wire();
    const grown = await w.send(CreatePartitionsRequest, CreatePartitionsResponse, 3, { ...CreatePartitionsRequest.defaults(), timeoutMs: 10_000, topics: [{ name: 'kip848-a', count: 9, assignments: null }] });
    assert.equal(grown.results[0]!.errorCode, ErrorCode.NONE);
    const epochBefore = members[0]!.epoch;
    await converge(members.slice(0, 2), 9);
    assert.ok(members[0]!.epoch > epochBefore, 'added partitions start a new group epoch');
  });

  it('a member that stops heartbeating is removed after the session timeout and its partitions move', async () => {
    await createTopic('kip848-b', 4);
    const [alive, silent] = [new Member(await wire(), 'g-b', ['kip848-b']), new Member(await wire(), 'g-b', ['kip848-b'])];
    await converge([alive, silent], 4);
    const deadline = Date.now() + SESSION_TIMEOUT_MS * 4;
    while (alive.count() < 4 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await alive.heartbeat()).errorCode, ErrorCode.NONE);
    }
    assert.equal(alive.count(), 4, 'the survivor owns every partition');
    assert.equal((await silent.heartbeat()).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('offset commits need the current member epoch; group and offsets survive a restart; list and describe show the type', async () => {
    await createTopic('kip848-c', 2);
    const m = new Member(await wire(), 'g-c', ['kip848-c']);
    await converge([m], 2);
    const commit = async (w: WireClient, epoch: number, memberId = m.memberId, offset = 5n) => {
      const res = await w.send(OffsetCommitRequest, OffsetCommitResponse, 9, {
        ...OffsetCommitRequest.defaults(),
        groupId: 'g-c',
        generationIdOrMemberEpoch: epoch,
        memberId,
        topics: [{ name: 'kip848-c', topicId: ZERO_UUID, partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, commitTimestamp: -1n, committedMetadata: 'meta' }] }],
      });
      return res.topics[0]!.partitions[0]!.errorCode;
    };
    const w = await wire();
    assert.equal(await commit(w, m.epoch), ErrorCode.NONE);
    assert.equal(await commit(w, m.epoch - 1, m.memberId, 99n), ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal(await commit(w, m.epoch, 'not-a-member', 99n), ErrorCode.UNKNOWN_MEMBER_ID);
    const staleFetch = await w.send(OffsetFetchRequest, OffsetFetchResponse, 9, { ...OffsetFetchRequest.defaults(), groups: [{ groupId: 'g-c', memberId: m.memberId, memberEpoch: m.epoch + 5, topics: null }] });
    assert.equal(staleFetch.groups[0]!.errorCode, ErrorCode.STALE_MEMBER_EPOCH);

    const listed = await w.send(ListGroupsRequest, ListGroupsResponse, 5, { statesFilter: [], typesFilter: ['consumer'] });
    const entry = listed.groups.find((g) => g.groupId === 'g-c');
    assert.equal(entry?.groupType, 'consumer');
    assert.equal(entry?.protocolType, 'consumer');
    const classicOnly = await w.send(ListGroupsRequest, ListGroupsResponse, 5, { statesFilter: [], typesFilter: ['classic'] });
    assert.equal(classicOnly.groups.find((g) => g.groupId === 'g-c'), undefined);
    const old = await w.send(DescribeGroupsRequest, DescribeGroupsResponse, 5, { ...DescribeGroupsRequest.defaults(), groups: ['g-c'] });
    assert.equal(old.groups[0]!.groupState, 'Dead', 'DescribeGroups (classic) does not describe consumer groups, as Kafka up to v5');
    assert.equal(old.groups[0]!.errorCode, ErrorCode.NONE);
    const v6 = await w.send(DescribeGroupsRequest, DescribeGroupsResponse, 6, { ...DescribeGroupsRequest.defaults(), groups: ['g-c'] });
    assert.deepEqual([v6.groups[0]!.errorCode, v6.groups[0]!.errorMessage], [ErrorCode.GROUP_ID_NOT_FOUND, 'Group g-c is not a classic group.'], 'v6 (KIP-1043)');

    const before = await describeGroup('g-c');
    await broker.stop();
    await broker.start();
    const after = await describeGroup('g-c');
    assert.equal(after.errorCode, ErrorCode.NONE);
    assert.equal(after.groupEpoch, before.groupEpoch);
    assert.deepEqual(after.members.map((x) => [x.memberId, x.memberEpoch, JSON.stringify(x.assignment)]), before.members.map((x) => [x.memberId, x.memberEpoch, JSON.stringify(x.assignment)]));

    // The member carries on with its epoch on a new connection; the offset is still there.
    const again = new Member(await wire(), 'g-c', ['kip848-c']);
    Object.assign(again, { memberId: m.memberId, epoch: m.epoch, owned: m.owned });
    assert.equal((await again.heartbeat()).errorCode, ErrorCode.NONE);
    const w2 = await wire();
    const fetched = await w2.send(OffsetFetchRequest, OffsetFetchResponse, 9, {
      ...OffsetFetchRequest.defaults(),
      groups: [{ groupId: 'g-c', memberId: again.memberId, memberEpoch: again.epoch, topics: [{ name: 'kip848-c', topicId: ZERO_UUID, partitionIndexes: [0] }] }],
    });
    assert.equal(fetched.groups[0]!.errorCode, ErrorCode.NONE);
    assert.equal(fetched.groups[0]!.topics[0]!.partitions[0]!.committedOffset, 5n);
    assert.equal(fetched.groups[0]!.topics[0]!.partitions[0]!.metadata, 'meta');

    const unsupported = await new Member(await wire(), 'g-c', ['kip848-c']).heartbeat({ serverAssignor: 'sticky' });
    assert.equal(unsupported.errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
    const missing = await describeGroup('no-such-group');
    assert.equal(missing.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });
});
