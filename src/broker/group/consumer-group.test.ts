// Consumer groups (KIP-848) driven directly with a manual clock and scheduler and an in-memory
// __consumer_offsets: the assignors, the reconciliation rules, heartbeats of simulated members
// converging without a partition owned twice, leaving, session expiry, fencing, static members,
// offsets with member epochs, replay of the records, and the interplay with classic groups.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { rangeAssignor, uniformAssignor, type AssignorMember, type TopicPartitionSet } from './consumer-assignors.js';
import { ConsumerGroupState, MemberState, reconcileMember, type ConsumerGroupMember } from './consumer-group.js';
import type { ConsumerHeartbeatRequest, ConsumerHeartbeatResponse } from './consumer-group-coordinator.js';
import { GroupCoordinator, type GroupCoordinatorConfig } from './group-coordinator.js';
import { ManualScheduler, MemoryOffsetsTopic as MemoryStore, capturingLogger, rebalanceLines } from './test-support.js';
import type { Logger } from '../../logger.js';

const CONFIG: GroupCoordinatorConfig = {
  minSessionTimeoutMs: 6000,
  maxSessionTimeoutMs: 300_000,
  initialRebalanceDelayMs: 0,
  maxGroupSize: 100,
  offsetsRetentionMs: 60_000,
  offsetsRetentionCheckIntervalMs: 3_600_000,
  offsetMetadataMaxBytes: 4096,
  consumer: { sessionTimeoutMs: 45_000, heartbeatIntervalMs: 5_000, maxSize: 3, assignors: [uniformAssignor, rangeAssignor] },
};

function setup(store = new MemoryStore(), scheduler = new ManualScheduler(), config = CONFIG, log: Logger = pino({ level: 'silent' })) {
  const coordinator = new GroupCoordinator({ store, config, scheduler, nowMs: () => scheduler.now, log });
  coordinator.load();
  return { coordinator, store, scheduler };
}

function set(entries: [string, number[]][]): TopicPartitionSet {
  return new Map(entries.map(([t, ps]) => [t, new Set(ps)]));
}

function count(s: TopicPartitionSet): number {
  let n = 0;
  for (const ps of s.values()) n += ps.size;
  return n;
}

/** A client of the protocol: it adopts every assignment it receives at once (revoking first). */
class SimMember {
  memberId = '';
  epoch = 0;
  owned: TopicPartitionSet = new Map();
  constructor(
    private readonly coordinator: GroupCoordinator,
    readonly groupId: string,
    private readonly topics: string[],
    private readonly extra: Partial<ConsumerHeartbeatRequest> = {},
  ) {}

  async heartbeat(over: Partial<ConsumerHeartbeatRequest> = {}): Promise<ConsumerHeartbeatResponse> {
    const joining = this.epoch === 0;
    const res = await this.coordinator.consumerGroupHeartbeat({
      apiVersion: 0,
      groupId: this.groupId,
      memberId: this.memberId,
      memberEpoch: this.epoch,
      instanceId: null,
      rackId: null,
      rebalanceTimeoutMs: joining ? 60_000 : -1,
      subscribedTopicNames: joining ? this.topics : null,
      subscribedTopicRegex: null,
      serverAssignor: null,
      topicPartitions: joining ? [] : [...this.owned].map(([topicId, ps]) => ({ topicId, partitions: [...ps] })),
      clientId: 'sim',
      clientHost: '/127.0.0.1',
      ...this.extra,
      ...over,
    });
    if (res.errorCode === ErrorCode.NONE) {
      if (res.memberId !== null) this.memberId = res.memberId;
      this.epoch = res.memberEpoch;
      if (res.assignment !== null) this.owned = new Map(res.assignment.map((t) => [t.topicId, new Set(t.partitions)]));
    }
    return res;
  }
}

function assertDisjoint(members: readonly SimMember[]): void {
  const seen = new Map<string, string>();
  for (const m of members) {
    for (const [t, ps] of m.owned) {
      for (const p of ps) {
        const key = `${t}:${p}`;
        assert.equal(seen.get(key), undefined, `partition ${key} owned by ${seen.get(key)} and ${m.memberId}`);
        seen.set(key, m.memberId);
      }
    }
  }
}

/** Heartbeats every member in turn until nothing changes; asserts disjoint ownership after every step. */
async function converge(members: readonly SimMember[], rounds = 10): Promise<void> {
  for (let r = 0; r < rounds; r++) {
    for (const m of members) {
      const res = await m.heartbeat();
      assert.equal(res.errorCode, ErrorCode.NONE, `heartbeat of ${m.memberId}: ${res.errorMessage}`);
      assertDisjoint(members);
    }
  }
}

describe('server assignors', () => {
  const member = (memberId: string, topics: string[], previous: TopicPartitionSet = new Map()): AssignorMember => ({ memberId, instanceId: null, subscribedTopicIds: new Set(topics), previous });

  it('uniform: balances a homogeneous group to within one partition', async () => {
    const out = uniformAssignor.assign({ members: [member('a', ['t']), member('b', ['t']), member('c', ['t'])], partitionCounts: new Map([['t', 7]]) });
    const counts = [...out.values()].map(count).sort();
    assert.deepEqual(counts, [2, 2, 3]);
    const all = [...out.values()].flatMap((s) => [...(s.get('t') ?? [])]).sort((a, b) => a - b);
    assert.deepEqual(all, [0, 1, 2, 3, 4, 5, 6]);
  });

  it('uniform: sticky, a new member takes partitions without moving others between old members', async () => {
    const before = uniformAssignor.assign({ members: [member('a', ['t']), member('b', ['t'])], partitionCounts: new Map([['t', 6]]) });
    const after = uniformAssignor.assign({
      members: [member('a', ['t'], before.get('a')), member('b', ['t'], before.get('b')), member('c', ['t'])],
      partitionCounts: new Map([['t', 6]]),
    });
    for (const id of ['a', 'b']) {
      for (const p of after.get(id)!.get('t') ?? []) assert.ok(before.get(id)!.get('t')!.has(p), `${id} gained partition ${p} it did not have`);
    }
    assert.deepEqual([...after.values()].map(count), [2, 2, 2]);
  });

  it('uniform: heterogeneous subscriptions give each topic only to its subscribers', async () => {
    const out = uniformAssignor.assign({ members: [member('a', ['x', 'y']), member('b', ['y'])], partitionCounts: new Map([['x', 2], ['y', 2]]) });
    assert.equal(out.get('b')!.get('x'), undefined);
    assert.equal(count(out.get('a')!) + count(out.get('b')!), 4);
    assert.ok(count(out.get('b')!) >= 1);
  });

  it('range: consecutive ranges per topic, the first members one extra', async () => {
    const out = rangeAssignor.assign({ members: [member('b', ['t']), member('a', ['t'])], partitionCounts: new Map([['t', 5]]) });
    assert.deepEqual([...out.get('a')!.get('t')!], [0, 1, 2]);
    assert.deepEqual([...out.get('b')!.get('t')!], [3, 4]);
  });
});

describe('reconciliation', () => {
  const base: ConsumerGroupMember = {
    memberId: 'm',
    instanceId: null,
    rackId: null,
    clientId: 'c',
    clientHost: 'h',
    subscribedTopicNames: ['t'],
    subscribedTopicRegex: null,
    rebalanceTimeoutMs: 1000,
    serverAssignor: null,
    memberEpoch: 1,
    previousMemberEpoch: 0,
    state: MemberState.Stable,
    assigned: set([['t', [0, 1, 2]]]),
    pendingRevocation: new Map(),
  };
  const free = () => -1;

  it('revokes before moving to the new epoch, and stays until the member reports the partitions gone', async () => {
    const step1 = reconcileMember(base, 2, set([['t', [0]]]), set([['t', [0, 1, 2]]]), free);
    assert.equal(step1.state, MemberState.UnrevokedPartitions);
    assert.equal(step1.memberEpoch, 1);
    assert.deepEqual([...step1.assigned.get('t')!], [0]);
    assert.deepEqual([...step1.pendingRevocation.get('t')!].sort(), [1, 2]);
    const still = reconcileMember(step1, 2, set([['t', [0]]]), set([['t', [0, 1]]]), free);
    assert.equal(still, step1);
    const notReported = reconcileMember(step1, 2, set([['t', [0]]]), null, free);
    assert.equal(notReported, step1);
    const done = reconcileMember(step1, 2, set([['t', [0]]]), set([['t', [0]]]), free);
    assert.equal(done.state, MemberState.Stable);
    assert.equal(done.memberEpoch, 2);
    assert.equal(done.previousMemberEpoch, 1);
    assert.equal(done.pendingRevocation.size, 0);
  });

  it('does not assign a partition another member still holds (unreleased)', async () => {
    const heldByOther = (_t: string, p: number) => (p === 3 ? 1 : -1);
    const next = reconcileMember(base, 2, set([['t', [0, 1, 2, 3, 4]]]), set([['t', [0, 1, 2]]]), heldByOther);
    assert.equal(next.state, MemberState.UnreleasedPartitions);
    assert.equal(next.memberEpoch, 2);
    assert.deepEqual([...next.assigned.get('t')!].sort(), [0, 1, 2, 4]);
    const released = reconcileMember(next, 2, set([['t', [0, 1, 2, 3, 4]]]), set([['t', [0, 1, 2, 4]]]), free);
    assert.equal(released.state, MemberState.Stable);
    assert.deepEqual([...released.assigned.get('t')!].sort(), [0, 1, 2, 3, 4]);
  });

  it('a stable member at the target epoch is unchanged', async () => {
    assert.equal(reconcileMember(base, 1, set([['t', [0]]]), null, free), base);
  });
});

describe('consumer group heartbeats', () => {
  it('three members converge to a balanced assignment with no partition owned twice at any step', async () => {
    const { coordinator, store } = setup();
    const t = store.addTopic('orders', 8);
    const members = [new SimMember(coordinator, 'g', ['orders']), new SimMember(coordinator, 'g', ['orders']), new SimMember(coordinator, 'g', ['orders'])];
    const first = await members[0]!.heartbeat();
    assert.equal(first.errorCode, ErrorCode.NONE);
    assert.ok(first.memberId !== null && first.memberId.length === 22, 'a generated member id');
    assert.equal(first.memberEpoch, 1);
    assert.equal(first.heartbeatIntervalMs, 5000);
    assert.equal(count(members[0]!.owned), 8);
    await converge(members);
    const counts = members.map((m) => m.owned.get(t)?.size ?? 0).sort();
    assert.deepEqual(counts, [2, 3, 3]);
    const group = coordinator.consumer.group('g')!;
    assert.equal(group.state, ConsumerGroupState.Stable);
    assert.equal(group.groupEpoch, 3);
    assert.ok(members.every((m) => m.epoch === 3));
  });

  it('a leaving member (epoch -1) bumps the group epoch and its partitions move to the others', async () => {
    const { coordinator, store } = setup();
    const t = store.addTopic('orders', 4);
    const [a, b] = [new SimMember(coordinator, 'g', ['orders']), new SimMember(coordinator, 'g', ['orders'])];
    await converge([a, b]);
    assert.equal(a.owned.get(t)!.size, 2);
    const left = await a.heartbeat({ memberEpoch: -1 });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -1);
    a.owned = new Map();
    await converge([b]);
    assert.equal(b.owned.get(t)!.size, 4);
    assert.equal(coordinator.consumer.group('g')!.size, 1);
  });

  it('a silent member is removed after group.consumer.session.timeout.ms', async () => {
    const { coordinator, store, scheduler } = setup();
    const t = store.addTopic('orders', 4);
    const [a, b] = [new SimMember(coordinator, 'g', ['orders']), new SimMember(coordinator, 'g', ['orders'])];
    await converge([a, b]);
    for (let i = 0; i < 10; i++) {
      scheduler.advance(5_000);
      await b.heartbeat();
    }
    assert.equal(coordinator.consumer.group('g')!.members.has(a.memberId), false);
    await converge([b]);
    assert.equal(b.owned.get(t)!.size, 4);
    assert.equal((await a.heartbeat()).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it("a group's own configs (GROUP resource) set its session timeout and heartbeat interval", async () => {
    const overrides = new Map([['slow', { sessionTimeoutMs: 120_000, heartbeatIntervalMs: 9_000 }]]);
    const base = CONFIG.consumer!;
    const config: GroupCoordinatorConfig = { ...CONFIG, consumer: { ...base, timeoutsFor: (g: string) => overrides.get(g) ?? { sessionTimeoutMs: base.sessionTimeoutMs, heartbeatIntervalMs: base.heartbeatIntervalMs } } };
    const { coordinator, store, scheduler } = setup(new MemoryStore(), new ManualScheduler(), config);
    store.addTopic('orders', 2);
    const [slow, fast] = [new SimMember(coordinator, 'slow', ['orders']), new SimMember(coordinator, 'fast', ['orders'])];
    assert.equal((await slow.heartbeat()).heartbeatIntervalMs, 9_000);
    assert.equal((await fast.heartbeat()).heartbeatIntervalMs, base.heartbeatIntervalMs);
    // Past the broker's session timeout but within the group's own: only 'fast' is gone.
    scheduler.advance(base.sessionTimeoutMs + 1);
    assert.equal(coordinator.consumer.group('fast')!.members.size, 0);
    assert.equal(coordinator.consumer.group('slow')!.members.has(slow.memberId), true);
    scheduler.advance(120_000);
    assert.equal(coordinator.consumer.group('slow')!.members.size, 0);
  });

  it('a member that does not revoke within its rebalance timeout is removed', async () => {
    const { coordinator, store, scheduler } = setup();
    const t = store.addTopic('orders', 4);
    const a = new SimMember(coordinator, 'g', ['orders'], {});
    await a.heartbeat();
    const b = new SimMember(coordinator, 'g', ['orders']);
    await b.heartbeat();
    const res = await a.heartbeat({ topicPartitions: [{ topicId: t, partitions: [0, 1, 2, 3] }] });
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.equal(coordinator.consumer.group('g')!.members.get(a.memberId)!.state, MemberState.UnrevokedPartitions);
    // a keeps heartbeating but never gives up its partitions.
    for (let i = 0; i < 13; i++) {
      scheduler.advance(5_000);
      await b.heartbeat();
      if (coordinator.consumer.group('g')!.members.has(a.memberId)) await a.heartbeat({ topicPartitions: [{ topicId: t, partitions: [0, 1, 2, 3] }] });
    }
    assert.equal(coordinator.consumer.group('g')!.members.has(a.memberId), false);
  });

  it('fences epochs: greater, or smaller than the previous one, get FENCED_MEMBER_EPOCH; unknown member ids UNKNOWN_MEMBER_ID', async () => {
    const { coordinator, store } = setup();
    store.addTopic('orders', 2);
    const a = new SimMember(coordinator, 'g', ['orders']);
    const b = new SimMember(coordinator, 'g', ['orders']);
    await converge([a, b]);
    assert.equal(a.epoch, 2);
    assert.equal((await a.heartbeat({ memberEpoch: 5 })).errorCode, ErrorCode.FENCED_MEMBER_EPOCH);
    assert.equal((await a.heartbeat({ memberEpoch: 0, subscribedTopicNames: ['orders'], rebalanceTimeoutMs: 1000, topicPartitions: [] })).errorCode, ErrorCode.NONE);
    a.epoch = 2;
    // The previous epoch with a subset of the assignment is accepted (a lost response).
    assert.equal((await a.heartbeat({ memberEpoch: 1 })).errorCode, ErrorCode.NONE);
    assert.equal((await a.heartbeat({ memberEpoch: -3 })).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await new SimMember(coordinator, 'g', ['orders']).heartbeat({ memberId: 'nobody', memberEpoch: 3 })).errorCode, ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal((await new SimMember(coordinator, 'nope', ['orders']).heartbeat({ memberId: 'x', memberEpoch: 3 })).errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
  });

  it('rejects bad requests with Kafka codes: INVALID_REQUEST, UNSUPPORTED_ASSIGNOR, GROUP_MAX_SIZE_REACHED, INVALID_REGULAR_EXPRESSION', async () => {
    const { coordinator, store } = setup();
    store.addTopic('orders', 2);
    const m = new SimMember(coordinator, 'g', ['orders']);
    assert.equal((await m.heartbeat({ rebalanceTimeoutMs: -1 })).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await m.heartbeat({ topicPartitions: null })).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await m.heartbeat({ subscribedTopicNames: null })).errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal((await m.heartbeat({ serverAssignor: 'sticky' })).errorCode, ErrorCode.UNSUPPORTED_ASSIGNOR);
    assert.equal((await m.heartbeat({ subscribedTopicRegex: '(' })).errorCode, ErrorCode.INVALID_REGULAR_EXPRESSION);
    const members = [0, 1, 2].map(() => new SimMember(coordinator, 'g', ['orders']));
    for (const x of members) assert.equal((await x.heartbeat()).errorCode, ErrorCode.NONE);
    assert.equal((await new SimMember(coordinator, 'g', ['orders']).heartbeat()).errorCode, ErrorCode.GROUP_MAX_SIZE_REACHED);
  });

  it('range is selectable with ServerAssignor; a regex subscription follows topics created later', async () => {
    const { coordinator, store } = setup();
    store.addTopic('logs-a', 3);
    const m = new SimMember(coordinator, 'g', [], { subscribedTopicNames: null, subscribedTopicRegex: 'logs-.*', serverAssignor: 'range' });
    assert.equal((await m.heartbeat()).errorCode, ErrorCode.NONE);
    assert.equal(count(m.owned), 3);
    assert.equal(coordinator.describeConsumerGroup('g').assignorName, 'range');
    const before = coordinator.consumer.group('g')!.groupEpoch;
    store.addTopic('logs-b', 2);
    store.addTopic('other', 2);
    await m.heartbeat();
    assert.equal(coordinator.consumer.group('g')!.groupEpoch, before + 1);
    assert.equal(count(m.owned), 5);
  });

  it('v1 (KIP-1082): the member brings its own id, also to join; an empty one is INVALID_REQUEST', async () => {
    const { coordinator, store } = setup();
    store.addTopic('orders', 2);
    const empty = new SimMember(coordinator, 'g', ['orders'], { apiVersion: 1 });
    const refused = await empty.heartbeat();
    assert.equal(refused.errorCode, ErrorCode.INVALID_REQUEST);
    assert.equal(refused.errorMessage, "MemberId can't be empty.");
    assert.equal((await empty.heartbeat({ memberId: '  ' })).errorCode, ErrorCode.INVALID_REQUEST);
    const own = new SimMember(coordinator, 'g', ['orders'], { apiVersion: 1 });
    own.memberId = 'f3wHk2VvT4m3Q0a1b2c3dA';
    const joined = await own.heartbeat();
    assert.equal(joined.errorCode, ErrorCode.NONE);
    assert.equal(joined.memberId, 'f3wHk2VvT4m3Q0a1b2c3dA');
    assert.equal(count(own.owned), 2);
    assert.ok(coordinator.consumer.group('g')!.members.has('f3wHk2VvT4m3Q0a1b2c3dA'));
    // v0 still hands out an id to a member joining with ''.
    const old = new SimMember(coordinator, 'g', ['orders']);
    assert.equal((await old.heartbeat()).errorCode, ErrorCode.NONE);
    assert.notEqual(old.memberId, '');
  });

  it('regex subscriptions match whole names, drop deleted topics, and refuse patterns RE2 refuses', async () => {
    const { coordinator, store } = setup();
    store.addTopic('prefix-a', 2);
    store.addTopic('xprefix-b', 2);
    const m = new SimMember(coordinator, 'g', [], { apiVersion: 1, memberId: 'm-regex', subscribedTopicNames: null, subscribedTopicRegex: 'prefix-.*' });
    m.memberId = 'm-regex';
    assert.equal((await m.heartbeat()).errorCode, ErrorCode.NONE);
    assert.deepEqual([...coordinator.consumer.group('g')!.subscriptionMetadata.keys()], ['prefix-a']);
    store.addTopic('prefix-c', 1);
    await converge([m]);
    assert.equal(count(m.owned), 3);
    store.removeTopic('prefix-a');
    await converge([m]);
    assert.equal(count(m.owned), 1);
    assert.deepEqual([...coordinator.consumer.group('g')!.subscriptionMetadata.keys()], ['prefix-c']);
    const bad = new SimMember(coordinator, 'g2', [], { apiVersion: 1, memberId: 'b', subscribedTopicNames: null });
    bad.memberId = 'b';
    for (const pattern of ['(', '(a)\\1', 'a(?=b)', 'x'.repeat(20_000)]) {
      const res = await bad.heartbeat({ subscribedTopicRegex: pattern });
      assert.equal(res.errorCode, ErrorCode.INVALID_REGULAR_EXPRESSION, pattern);
      assert.match(res.errorMessage ?? '', /^SubscribedTopicRegex `.*` is not a valid regular expression: /s);
    }
    assert.equal(coordinator.consumer.group('g2'), undefined);
  });

  it('added partitions bump the group epoch and are assigned', async () => {
    const { coordinator, store } = setup();
    store.addTopic('orders', 2);
    const a = new SimMember(coordinator, 'g', ['orders']);
    await converge([a]);
    const epoch = a.epoch;
    store.addTopic('orders', 4);
    await converge([a]);
    assert.equal(a.epoch, epoch + 1);
    assert.equal(count(a.owned), 4);
  });

  it('a static member leaving with epoch -2 keeps its partitions; its successor gets them; a second holder gets UNRELEASED_INSTANCE_ID', async () => {
    const { coordinator, store } = setup();
    const t = store.addTopic('orders', 4);
    const a = new SimMember(coordinator, 'g', ['orders'], { instanceId: 'i-a' });
    const b = new SimMember(coordinator, 'g', ['orders']);
    await converge([a, b]);
    const owned = [...a.owned.get(t)!].sort();
    assert.equal((await new SimMember(coordinator, 'g', ['orders'], { instanceId: 'i-a' }).heartbeat()).errorCode, ErrorCode.UNRELEASED_INSTANCE_ID);
    const left = await a.heartbeat({ memberEpoch: -2 });
    assert.equal(left.errorCode, ErrorCode.NONE);
    assert.equal(left.memberEpoch, -2);
    const epochBefore = coordinator.consumer.group('g')!.groupEpoch;
    await converge([b]);
    assert.equal(b.owned.get(t)!.size, 2, 'no rebalance while the static member is away');
    const a2 = new SimMember(coordinator, 'g', ['orders'], { instanceId: 'i-a' });
    assert.equal((await a2.heartbeat()).errorCode, ErrorCode.NONE);
    assert.deepEqual([...a2.owned.get(t)!].sort(), owned);
    assert.equal(coordinator.consumer.group('g')!.groupEpoch, epochBefore);
    assert.equal(coordinator.consumer.group('g')!.members.has(a.memberId), false);
  });

  it('offset commits and fetches check the member epoch (STALE_MEMBER_EPOCH, UNKNOWN_MEMBER_ID, v9 only)', async () => {
    const { coordinator, store } = setup();
    store.addTopic('orders', 2);
    const a = new SimMember(coordinator, 'g', ['orders']);
    await converge([a]);
    const commit = async (memberId: string, epoch: number, apiVersion = 9) =>
      (await coordinator.commitOffsets({ groupId: 'g', generationId: epoch, memberId, groupInstanceId: null, retentionTimeMs: -1, apiVersion, topics: [{ name: 'orders', partitions: [{ partitionIndex: 0, committedOffset: 42n, committedLeaderEpoch: -1, committedMetadata: '' }] }] }))[0]!.partitions[0]!.errorCode;
    assert.equal(await commit(a.memberId, a.epoch), ErrorCode.NONE);
    assert.equal(await commit(a.memberId, a.epoch - 1), ErrorCode.STALE_MEMBER_EPOCH);
    assert.equal(await commit('stranger', a.epoch), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await commit(a.memberId, a.epoch, 8), ErrorCode.UNSUPPORTED_VERSION);
    assert.equal(await commit('', -1), ErrorCode.UNKNOWN_MEMBER_ID, 'an admin commit needs an empty group');
    assert.equal(coordinator.fetchOffsets('g', null, { memberId: a.memberId, memberEpoch: a.epoch + 1 }).errorCode, ErrorCode.STALE_MEMBER_EPOCH);
    const fetched = coordinator.fetchOffsets('g', [{ name: 'orders', partitionIndexes: [0] }], { memberId: a.memberId, memberEpoch: a.epoch });
    assert.equal(fetched.topics[0]!.partitions[0]!.committedOffset, 42n);
    await a.heartbeat({ memberEpoch: -1 });
    assert.equal(await commit('', -1), ErrorCode.NONE, 'an empty group takes admin commits');
  });

  it('state, offsets and assignments are replayed from __consumer_offsets', async () => {
    const store = new MemoryStore();
    const t = store.addTopic('orders', 4);
    const first = setup(store);
    const [a, b] = [new SimMember(first.coordinator, 'g', ['orders']), new SimMember(first.coordinator, 'g', ['orders'], { instanceId: 'static-b' })];
    await converge([a, b]);
    await first.coordinator.commitOffsets({ groupId: 'g', generationId: a.epoch, memberId: a.memberId, groupInstanceId: null, retentionTimeMs: -1, apiVersion: 9, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 7n, committedLeaderEpoch: -1, committedMetadata: 'm' }] }] });
    const before = first.coordinator.describeConsumerGroup('g');
    first.coordinator.shutdown();

    const second = setup(store);
    const after = second.coordinator.describeConsumerGroup('g');
    assert.equal(after.errorCode, ErrorCode.NONE);
    assert.equal(after.groupEpoch, before.groupEpoch);
    assert.equal(after.assignmentEpoch, before.assignmentEpoch);
    assert.equal(after.groupState, 'Stable');
    const norm = (d: typeof before) => d.members.map((m) => [m.memberId, m.memberEpoch, m.instanceId, JSON.stringify(m.assignment), JSON.stringify(m.targetAssignment)]).sort();
    assert.deepEqual(norm(after), norm(before));
    assert.equal(second.coordinator.fetchOffsets('g', null).topics[0]!.partitions[0]!.committedOffset, 7n);
    // The members carry on with their epochs after the restart.
    await a.heartbeat();
    const a2 = Object.assign(new SimMember(second.coordinator, 'g', ['orders']), { memberId: a.memberId, epoch: a.epoch, owned: a.owned });
    assert.equal((await a2.heartbeat()).errorCode, ErrorCode.NONE);
    assert.ok(a2.owned.get(t)!.size === 2);
    assert.equal(second.coordinator.listGroups([]).find((g) => g.groupId === 'g')?.type, 'consumer');
  });

  it('classic and consumer groups share one id space: INCONSISTENT_GROUP_PROTOCOL and GROUP_ID_NOT_FOUND', async () => {
    const { coordinator, store } = setup();
    store.addTopic('orders', 2);
    const a = new SimMember(coordinator, 'g', ['orders']);
    await a.heartbeat();
    const join = await coordinator.join({
      groupId: 'g',
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      clientId: 'classic',
      clientHost: '/127.0.0.1',
      requireKnownMemberId: true,
      reason: null,
    });
    assert.equal(join.errorCode, ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    assert.equal(coordinator.describeConsumerGroup('missing').errorCode, ErrorCode.GROUP_ID_NOT_FOUND);

    // A classic group with a member is not a consumer group.
    const pending = coordinator.join({
      groupId: 'classic',
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.alloc(0) }],
      sessionTimeoutMs: 10_000,
      rebalanceTimeoutMs: 10_000,
      clientId: 'classic',
      clientHost: '/127.0.0.1',
      requireKnownMemberId: false,
      reason: null,
    });
    void pending;
    const res = await new SimMember(coordinator, 'classic', ['orders']).heartbeat();
    assert.equal(res.errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.equal(coordinator.describeConsumerGroup('classic').errorCode, ErrorCode.GROUP_ID_NOT_FOUND);
    assert.match(coordinator.describeConsumerGroup('classic').errorMessage ?? '', /is not a consumer group/);
  });

  it('an empty consumer group can be deleted; a non-empty one cannot', async () => {
    const { coordinator, store } = setup();
    store.addTopic('orders', 2);
    const a = new SimMember(coordinator, 'g', ['orders']);
    await a.heartbeat();
    assert.deepEqual(await coordinator.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP }]);
    await a.heartbeat({ memberEpoch: -1 });
    assert.equal(coordinator.consumer.group('g')!.state, ConsumerGroupState.Empty);
    assert.deepEqual(await coordinator.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    assert.equal(coordinator.consumer.group('g'), undefined);
    const replayed = setup(store);
    assert.equal(replayed.coordinator.consumer.group('g'), undefined, 'the deletion survives a restart');
  });

  it('a heartbeat that writes records is answered once they commit', async () => {
    const { coordinator, store } = setup();
    store.addTopic('orders', 2);
    store.holdCommits = true;
    const a = new SimMember(coordinator, 'g', ['orders']);
    let answered = false;
    const joined = a.heartbeat().then((r) => {
      answered = true;
      return r;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(answered, false, 'the member\'s records are appended, not committed');
    store.commitAll();
    const res = await joined;
    assert.equal(res.errorCode, ErrorCode.NONE);
    assert.ok(res.memberEpoch > 0);
  });
});

describe('consumer group rebalances (group epoch bumps) are logged once with their reason and counted', () => {
  it('joined, joined, metadata changed, subscription changed, left, session timeout', async () => {
    const { log, lines } = capturingLogger();
    const scheduler = new ManualScheduler();
    const { coordinator, store } = setup(undefined, scheduler, CONFIG, log);
    store.addTopic('orders', 2);
    store.addTopic('audit', 1);
    const a = new SimMember(coordinator, 'g', ['orders']);
    const b = new SimMember(coordinator, 'g', ['orders']);
    await a.heartbeat();
    await b.heartbeat();
    const epochAfterJoins = coordinator.consumer.group('g')!.groupEpoch;
    // Steady heartbeats bump nothing.
    await a.heartbeat();
    await b.heartbeat();
    assert.equal(rebalanceLines(lines).length, 2);
    store.addTopic('orders', 4);
    await a.heartbeat();
    await b.heartbeat({ subscribedTopicNames: ['orders', 'audit'] });
    await a.heartbeat({ memberEpoch: -1 });
    scheduler.advance(45_001);
    const seen = rebalanceLines(lines);
    assert.deepEqual(seen.map((l) => l.reason), ['member_joined', 'member_joined', 'metadata_changed', 'subscription_changed', 'member_left', 'session_timeout']);
    assert.ok(seen.every((l) => l.level === 30 && l.groupId === 'g'));
    assert.equal(coordinator.consumer.group('g')!.groupEpoch, epochAfterJoins + 4, 'one line per epoch bump');
    assert.deepEqual(
      [...coordinator.rebalances.entries()].map((e) => `${e.reason}=${e.count}`).sort(),
      ['member_joined=2', 'member_left=1', 'metadata_changed=1', 'session_timeout=1', 'subscription_changed=1'],
    );
    assert.equal(lines.filter((l) => l['msg'] === 'computed target assignment').length, 0, 'the steps stay below INFO');
  });
});
