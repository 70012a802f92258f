// The group coordinator driven directly with a manual clock and scheduler and an in-memory
// __consumer_offsets: join phases, the two-step join, session and rebalance timeouts, static
// membership, offset commit validation, persistence and replay, and offset retention.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pino from 'pino';
import { ErrorCode } from '../../protocol/errors.js';
import { ClassicGroup, GroupState, type JoinOutcome } from './classic-group.js';
import { coordinatorPartitionFor, javaStringHashCode } from './coordinator-partition.js';
import { GroupCoordinator, type GroupCoordinatorConfig, type JoinRequest } from './group-coordinator.js';
import { ManualScheduler, MemoryOffsetsTopic as BaseOffsetsTopic, TEST_GROUP_CONFIG, capturingLogger, rebalanceLines } from './test-support.js';
import type { Logger } from '../../logger.js';
import { decodeGroupRecords } from './group-log.js';

/** The partitions the offset-commit tests treat as existing: 0-2 of every topic but 'missing'. */
class MemoryOffsetsTopic extends BaseOffsetsTopic {
  override partitionExists(topic: string, partition: number) {
    return topic !== 'missing' && partition >= 0 && partition < 3;
  }
}

const CONFIG = TEST_GROUP_CONFIG;

function setup(store = new MemoryOffsetsTopic(), scheduler = new ManualScheduler(), config: Partial<GroupCoordinatorConfig> = {}, log: Logger = pino({ level: 'silent' })) {
  const coordinator = new GroupCoordinator({ store, config: { ...CONFIG, ...config }, scheduler, nowMs: () => scheduler.now, log });
  coordinator.load();
  return { coordinator, store, scheduler };
}

function joinRequest(over: Partial<JoinRequest> = {}): JoinRequest {
  return {
    groupId: 'g',
    memberId: '',
    groupInstanceId: null,
    protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from('m') }],
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 30_000,
    clientId: 'client',
    clientHost: '/127.0.0.1',
    requireKnownMemberId: false,
    reason: null,
    ...over,
  };
}

/** Tracks a parked join: `settled` is set once the coordinator answers. */
function track(p: Promise<JoinOutcome>): { outcome: JoinOutcome | null; done: Promise<JoinOutcome> } {
  const t = { outcome: null as JoinOutcome | null, done: p };
  void p.then((o) => (t.outcome = o));
  return t;
}

const flush = () => new Promise((r) => setImmediate(r));

/** Joins one member and completes the first generation (initial delay elapsed, leader synced). */
async function stableGroupOfOne(coordinator: GroupCoordinator, scheduler: ManualScheduler, over: Partial<JoinRequest> = {}) {
  const join = track(coordinator.join(joinRequest(over)));
  scheduler.advance(CONFIG.initialRebalanceDelayMs);
  const joined = await join.done;
  const synced = await coordinator.sync({
    groupId: 'g',
    generationId: joined.generationId,
    memberId: joined.memberId,
    groupInstanceId: over.groupInstanceId ?? null,
    protocolType: 'consumer',
    protocolName: 'range',
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('all') }],
  });
  assert.equal(synced.errorCode, ErrorCode.NONE);
  return joined;
}

describe('coordinator partition', () => {
  it('uses Java String.hashCode and Kafka abs (MIN_VALUE maps to 0)', async () => {
    assert.equal(javaStringHashCode('hello'), 99162322);
    assert.equal(javaStringHashCode(''), 0);
    assert.equal(javaStringHashCode('Aa'), javaStringHashCode('BB'));
    assert.equal(javaStringHashCode('polygenelubricants'), -2147483648);
    assert.equal(coordinatorPartitionFor('polygenelubricants', 50), 0);
    assert.equal(coordinatorPartitionFor('hello', 50), 99162322 % 50);
    // A negative hash: Math.abs, not a sign-bit mask.
    assert.equal(javaStringHashCode('my-group'), -1906497762);
    assert.equal(coordinatorPartitionFor('my-group', 50), 12);
  });
});

describe('classic group state machine', () => {
  it('refuses transitions that are not in the table', async () => {
    const g = new ClassicGroup('g', GroupState.Empty, 0);
    assert.throws(() => g.transitionTo(GroupState.Stable, 1), /illegal transition Empty -> Stable/);
    g.transitionTo(GroupState.PreparingRebalance, 1);
    assert.throws(() => g.transitionTo(GroupState.Stable, 2), /illegal transition/);
  });

  it('selects the protocol most members prefer among those all support', async () => {
    const g = new ClassicGroup('g', GroupState.Empty, 0);
    const member = (id: string, names: string[]) => ({
      memberId: id,
      groupInstanceId: null,
      clientId: '',
      clientHost: '',
      rebalanceTimeoutMs: 1,
      sessionTimeoutMs: 1,
      protocolType: 'consumer',
      protocols: names.map((name) => ({ name, metadata: Buffer.alloc(0) })),
      assignment: Buffer.alloc(0),
      joinWaiter: null,
      syncWaiter: null,
      isNew: false,
    });
    g.add(member('a', ['roundrobin', 'range', 'sticky']));
    g.add(member('b', ['range', 'roundrobin']));
    g.add(member('c', ['range', 'roundrobin']));
    assert.equal(g.selectProtocol(), 'range');
    assert.equal(g.supportsProtocols('consumer', [{ name: 'sticky', metadata: Buffer.alloc(0) }]), false);
    assert.equal(g.supportsProtocols('connect', [{ name: 'range', metadata: Buffer.alloc(0) }]), false);
  });
});

describe('group coordinator', () => {
  it('two-step join: MEMBER_ID_REQUIRED, then the initial delay, then generation 1 with the leader', async () => {
    const { coordinator, scheduler } = setup();
    const first = await coordinator.join(joinRequest({ requireKnownMemberId: true }));
    assert.equal(first.errorCode, ErrorCode.MEMBER_ID_REQUIRED);
    assert.match(first.memberId, /^client-/);
    const a = track(coordinator.join(joinRequest({ requireKnownMemberId: true, memberId: first.memberId })));
    await flush();
    assert.equal(a.outcome, null, 'parked during group.initial.rebalance.delay.ms');
    scheduler.advance(1000);
    const b = track(coordinator.join(joinRequest({ clientId: 'other' })));
    scheduler.advance(2000);
    await flush();
    assert.equal(a.outcome, null, 'a new member extends the initial delay');
    scheduler.advance(3000);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    assert.equal(ra.errorCode, ErrorCode.NONE);
    assert.equal(ra.generationId, 1);
    assert.equal(ra.protocolName, 'range');
    assert.equal(ra.leaderId, first.memberId);
    assert.equal(ra.members.length, 2, 'the leader gets every member');
    assert.equal(rb.members.length, 0);
    assert.equal(coordinator.group('g')!.state, GroupState.CompletingRebalance);
  });

  it('rejects session timeouts outside group.min/max.session.timeout.ms', async () => {
    const { coordinator } = setup();
    assert.equal((await coordinator.join(joinRequest({ sessionTimeoutMs: 5999 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
    assert.equal((await coordinator.join(joinRequest({ sessionTimeoutMs: 300_001 }))).errorCode, ErrorCode.INVALID_SESSION_TIMEOUT);
  });

  it('expires a silent member after its session timeout and rebalances the rest', async () => {
    const { coordinator, scheduler } = setup();
    const a = track(coordinator.join(joinRequest()));
    const b = track(coordinator.join(joinRequest()));
    // The second member extended the initial delay once.
    scheduler.advance(6000);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    const assignments = [ra, rb].map((r) => ({ memberId: r.memberId, assignment: Buffer.from(r.memberId) }));
    const leader = ra.leaderId === ra.memberId ? ra : rb;
    const follower = leader === ra ? rb : ra;
    const followerSync = coordinator.sync({ groupId: 'g', generationId: 1, memberId: follower.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    await coordinator.sync({ groupId: 'g', generationId: 1, memberId: leader.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments });
    assert.deepEqual((await followerSync).assignment, Buffer.from(follower.memberId));
    assert.equal(coordinator.group('g')!.state, GroupState.Stable);

    // Only the leader heartbeats; the follower's session runs out.
    for (let i = 0; i < 4; i++) {
      scheduler.advance(3000);
      assert.equal(coordinator.heartbeat('g', 1, leader.memberId, null), i < 3 ? ErrorCode.NONE : ErrorCode.REBALANCE_IN_PROGRESS);
    }
    assert.equal(coordinator.group('g')!.has(follower.memberId), false);
    assert.equal(coordinator.heartbeat('g', 1, follower.memberId, null), ErrorCode.UNKNOWN_MEMBER_ID);
    const rejoin = await coordinator.join(joinRequest({ memberId: leader.memberId }));
    assert.equal(rejoin.generationId, 2);
    assert.equal(rejoin.members.length, 1);
  });

  it('removes members that do not rejoin within the rebalance timeout', async () => {
    const { coordinator, scheduler } = setup(undefined, undefined, { initialRebalanceDelayMs: 0 });
    const a = track(coordinator.join(joinRequest({ rebalanceTimeoutMs: 20_000 })));
    const b = track(coordinator.join(joinRequest({ rebalanceTimeoutMs: 20_000 })));
    scheduler.advance(0);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    await Promise.all(
      [ra, rb].map((r) => coordinator.sync({ groupId: 'g', generationId: 1, memberId: r.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] })),
    );
    const again = track(coordinator.join(joinRequest({ memberId: ra.memberId, rebalanceTimeoutMs: 20_000 })));
    // b keeps heartbeating (REBALANCE_IN_PROGRESS) but never rejoins.
    for (let t = 0; t < 20_000; t += 5000) {
      scheduler.advance(5000);
      if (t < 15_000) assert.equal(coordinator.heartbeat('g', 1, rb.memberId, null), ErrorCode.REBALANCE_IN_PROGRESS);
    }
    const r = await again.done;
    assert.equal(r.generationId, 2);
    assert.deepEqual(
      r.members.map((m) => m.memberId),
      [ra.memberId],
    );
  });

  it('a static member rejoining with a new member id replaces the old one without a rebalance; the old id is fenced', async () => {
    const { coordinator, scheduler } = setup();
    const old = await stableGroupOfOne(coordinator, scheduler, { groupInstanceId: 'i1' });
    const rejoined = await coordinator.join(joinRequest({ groupInstanceId: 'i1' }));
    assert.equal(rejoined.errorCode, ErrorCode.NONE);
    assert.equal(rejoined.generationId, old.generationId, 'no new generation');
    assert.notEqual(rejoined.memberId, old.memberId);
    assert.equal(rejoined.leaderId, old.memberId, 'the old leader id, so the new id does not assign');
    assert.equal(coordinator.group('g')!.state, GroupState.Stable);
    const sync = await coordinator.sync({ groupId: 'g', generationId: old.generationId, memberId: rejoined.memberId, groupInstanceId: 'i1', protocolType: null, protocolName: null, assignments: [] });
    assert.deepEqual(sync.assignment, Buffer.from('all'), 'the assignment is kept');
    assert.equal(coordinator.heartbeat('g', old.generationId, old.memberId, 'i1'), ErrorCode.FENCED_INSTANCE_ID);
    const commit = await coordinator.commitOffsets({
      groupId: 'g',
      generationId: old.generationId,
      memberId: old.memberId,
      groupInstanceId: 'i1',
      retentionTimeMs: -1,
      apiVersion: 8,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 5n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    assert.equal(commit[0]!.partitions[0]!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(coordinator.leave('g', [{ memberId: old.memberId, groupInstanceId: 'i1' }]).members[0]!.errorCode, ErrorCode.FENCED_INSTANCE_ID);
    assert.equal(coordinator.heartbeat('g', old.generationId, rejoined.memberId, 'i1'), ErrorCode.NONE);
  });

  it('validates commits against the generation and member, and stores them with metadata and leader epoch', async () => {
    const { coordinator, scheduler } = setup();
    const m = await stableGroupOfOne(coordinator, scheduler);
    const commit = async (generationId: number, memberId: string, partitions = [{ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: 7, committedMetadata: 'meta' }], topic = 't') =>
      (await coordinator.commitOffsets({ groupId: 'g', generationId, memberId, groupInstanceId: null, retentionTimeMs: -1, apiVersion: 8, topics: [{ name: topic, partitions }] }))[0]!.partitions[0]!.errorCode;
    assert.equal(await commit(m.generationId + 1, m.memberId), ErrorCode.ILLEGAL_GENERATION);
    assert.equal(await commit(m.generationId, 'nobody'), ErrorCode.UNKNOWN_MEMBER_ID);
    assert.equal(await commit(-1, ''), ErrorCode.UNKNOWN_MEMBER_ID, 'a simple commit while the group has members');
    assert.equal(await commit(m.generationId, m.memberId, undefined, 'missing'), ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    assert.equal(
      await commit(m.generationId, m.memberId, [{ partitionIndex: 0, committedOffset: 1n, committedLeaderEpoch: -1, committedMetadata: 'x'.repeat(4097) }]),
      ErrorCode.OFFSET_METADATA_TOO_LARGE,
    );
    assert.equal(await commit(m.generationId, m.memberId), ErrorCode.NONE);
    const fetched = coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [1, 2] }]);
    assert.deepEqual(fetched.topics[0]!.partitions, [
      { partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: 7, metadata: 'meta', errorCode: ErrorCode.NONE },
      { partitionIndex: 2, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE },
    ]);
  });

  it('a failed append to __consumer_offsets fails the commit and changes nothing', async () => {
    const { coordinator, store } = setup();
    store.failAppends = true;
    const r = await coordinator.commitOffsets({
      groupId: 'simple',
      generationId: -1,
      memberId: '',
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 3n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    assert.equal(r[0]!.partitions[0]!.errorCode, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    assert.equal(coordinator.fetchOffsets('simple', [{ name: 't', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset, -1n);
  });

  it('writes Kafka-format records to the group partition and a new coordinator replays them', async () => {
    const { coordinator, scheduler, store } = setup();
    const m = await stableGroupOfOne(coordinator, scheduler);
    await coordinator.commitOffsets({
      groupId: 'g',
      generationId: m.generationId,
      memberId: m.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      topics: [{ name: 't', partitions: [{ partitionIndex: 2, committedOffset: 99n, committedLeaderEpoch: 3, committedMetadata: 'md' }] }],
    });
    const partition = coordinatorPartitionFor('g', 50);
    assert.deepEqual([...store.batches.keys()], [partition]);
    const records = store.batches.get(partition)!.flatMap((b) => [...decodeGroupRecords(b)]);
    assert.deepEqual(
      records.map((r) => r.kind),
      ['group', 'offset'],
    );
    coordinator.shutdown();

    const reloaded = setup(store, scheduler).coordinator;
    const group = reloaded.group('g')!;
    assert.equal(group.state, GroupState.Stable);
    assert.equal(group.generationId, m.generationId);
    assert.equal(group.leaderId, m.memberId);
    assert.equal(reloaded.heartbeat('g', m.generationId, m.memberId, null), ErrorCode.NONE, 'the member carries on after the restart');
    assert.equal(reloaded.fetchOffsets('g', null).topics[0]!.partitions[0]!.committedOffset, 99n);
    const sync = await reloaded.sync({ groupId: 'g', generationId: m.generationId, memberId: m.memberId, groupInstanceId: null, protocolType: null, protocolName: null, assignments: [] });
    assert.deepEqual(sync.assignment, Buffer.from('all'));
  });

  it('expires the offsets of an empty group after offsets.retention.minutes and then removes the group', async () => {
    const { coordinator, scheduler, store } = setup();
    const m = await stableGroupOfOne(coordinator, scheduler);
    await coordinator.commitOffsets({
      groupId: 'g',
      generationId: m.generationId,
      memberId: m.memberId,
      groupInstanceId: null,
      retentionTimeMs: -1,
      apiVersion: 8,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 10n, committedLeaderEpoch: -1, committedMetadata: null }] }],
    });
    // Stable: the offsets stay however long it takes.
    for (let i = 0; i < 10; i++) {
      scheduler.advance(9000);
      coordinator.heartbeat('g', m.generationId, m.memberId, null);
    }
    assert.equal(coordinator.fetchOffsets('g', null).topics.length, 1);
    coordinator.leave('g', [{ memberId: m.memberId, groupInstanceId: null }]);
    assert.equal(coordinator.group('g')!.state, GroupState.Empty);
    scheduler.advance(50_000);
    assert.equal(coordinator.fetchOffsets('g', null).topics.length, 1, 'not yet: empty for less than the retention');
    scheduler.advance(20_000);
    assert.equal(coordinator.fetchOffsets('g', null).topics.length, 0);
    assert.equal(coordinator.group('g'), undefined, 'an empty group without offsets is removed');
    assert.equal(setup(store, scheduler).coordinator.group('g'), undefined, 'the tombstones are replayed too');
  });

  it('LeaveGroup in a batch, and DeleteGroups only for empty groups', async () => {
    const { coordinator, scheduler } = setup();
    const m = await stableGroupOfOne(coordinator, scheduler);
    assert.deepEqual(await coordinator.deleteGroups(['g', 'nope']), [
      { groupId: 'g', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'nope', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
    ]);
    const left = coordinator.leave('g', [
      { memberId: m.memberId, groupInstanceId: null },
      { memberId: 'ghost', groupInstanceId: null },
    ]);
    assert.deepEqual(
      left.members.map((x) => x.errorCode),
      [ErrorCode.NONE, ErrorCode.UNKNOWN_MEMBER_ID],
    );
    assert.deepEqual(coordinator.listGroups(['empty']).map((g) => g.groupId), ['g']);
    assert.deepEqual(await coordinator.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    assert.equal(coordinator.describeGroup('g').state, 'Dead');
  });
});

describe('answers wait for their records to commit (coordinator runtime)', () => {
  const offsetCommit = (generationId: number, memberId: string, offset: bigint) => ({
    groupId: 'g', generationId, memberId, groupInstanceId: null, retentionTimeMs: -1, apiVersion: 8,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  });
  const committedOffset = (coordinator: GroupCoordinator) => coordinator.fetchOffsets('g', [{ name: 't', partitionIndexes: [0] }]).topics[0]!.partitions[0]!.committedOffset;
  const tick = () => new Promise((resolve) => setImmediate(resolve));

  it('OffsetCommit is answered only once the high watermark passes its record; OffsetFetch sees it only then', async () => {
    const { coordinator, store } = setup();
    store.holdCommits = true;
    let answer: number | null = null;
    void coordinator.commitOffsets(offsetCommit(-1, '', 42n)).then((r) => (answer = r[0]!.partitions[0]!.errorCode));
    await tick();
    assert.equal(answer, null, 'appended, not committed: no answer yet');
    assert.equal(committedOffset(coordinator), -1n, 'an uncommitted offset is not served');
    store.commitAll();
    await tick();
    assert.equal(answer, ErrorCode.NONE);
    assert.equal(committedOffset(coordinator), 42n);
  });

  it('SyncGroup hands out the assignment, and the group becomes Stable, once the group record commits', async () => {
    const { coordinator, store, scheduler } = setup();
    const join = track(coordinator.join(joinRequest()));
    scheduler.advance(CONFIG.initialRebalanceDelayMs);
    const joined = await join.done;
    store.holdCommits = true;
    let synced: Buffer | null = null;
    void coordinator
      .sync({ groupId: 'g', generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [{ memberId: joined.memberId, assignment: Buffer.from('mine') }] })
      .then((o) => (synced = o.assignment));
    await tick();
    assert.equal(synced, null);
    assert.equal(coordinator.group('g')!.state, GroupState.CompletingRebalance);
    store.commitAll();
    await tick();
    assert.deepEqual(synced, Buffer.from('mine'));
    assert.equal(coordinator.group('g')!.state, GroupState.Stable);
  });

  it('a static member\'s JoinGroup that needs no rebalance is answered once the group record naming its new id commits', async () => {
    const { coordinator, store, scheduler } = setup();
    const old = await stableGroupOfOne(coordinator, scheduler, { groupInstanceId: 'i1' });
    store.holdCommits = true;
    let rejoined: JoinOutcome | null = null;
    void coordinator.join(joinRequest({ groupInstanceId: 'i1' })).then((o) => (rejoined = o));
    await tick();
    assert.equal(rejoined, null);
    store.commitAll();
    await tick();
    assert.equal(rejoined!.errorCode, ErrorCode.NONE);
    assert.notEqual(rejoined!.memberId, old.memberId);
  });

  it('losing the partition before the commit answers NOT_COORDINATOR; unload and reload give the same state', async () => {
    const { coordinator, store, scheduler } = setup();
    const m = await stableGroupOfOne(coordinator, scheduler);
    assert.equal((await coordinator.commitOffsets(offsetCommit(m.generationId, m.memberId, 7n)))[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    const before = coordinator.group('g')!;
    const snapshot = { generation: before.generationId, members: [...before.members.keys()], leader: before.leaderId, offsets: [...before.offsets] };
    store.holdCommits = true;
    const partition = coordinatorPartitionFor('g', 50);
    const held = coordinator.commitOffsets(offsetCommit(m.generationId, m.memberId, 8n));
    store.resign(partition);
    assert.equal((await held)[0]!.partitions[0]!.errorCode, ErrorCode.NOT_COORDINATOR);
    assert.equal(coordinator.group('g'), undefined, 'the partition\'s groups are unloaded');
    assert.equal(coordinator.heartbeat('g', m.generationId, m.memberId, null), ErrorCode.NOT_COORDINATOR);
    assert.equal(coordinator.coordinatorFor('g'), ErrorCode.COORDINATOR_NOT_AVAILABLE, 'no leader for the partition here');
    // The uncommitted batch is gone, as a new leader's truncation would drop it.
    store.batches.get(partition)!.pop();
    store.holdCommits = false;
    store.lead(partition, 1);
    assert.equal(coordinator.coordinatorFor('g'), ErrorCode.NONE, 'FindCoordinator answers from leadership, even while loading');
    assert.equal(coordinator.heartbeat('g', m.generationId, m.memberId, null), ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    assert.equal((await coordinator.join(joinRequest({ memberId: m.memberId }))).errorCode, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    scheduler.advance(0);
    const after = coordinator.group('g')!;
    assert.deepEqual({ generation: after.generationId, members: [...after.members.keys()], leader: after.leaderId, offsets: [...after.offsets] }, snapshot);
    assert.equal(coordinator.heartbeat('g', m.generationId, m.memberId, null), ErrorCode.NONE);
  });
});

describe('rebalances are logged once with their reason and counted', () => {
  const counts = (coordinator: GroupCoordinator) => [...coordinator.rebalances.entries()].map((e) => `${e.groupId}:${e.reason}=${e.count}`).sort();

  it('member joined, member joined, member left, session timeout: one INFO line and one count each', async () => {
    const { log, lines } = capturingLogger();
    const scheduler = new ManualScheduler();
    const { coordinator } = setup(undefined, scheduler, {}, log);
    const a = await stableGroupOfOne(coordinator, scheduler, { reason: 'first start' });
    assert.deepEqual(rebalanceLines(lines).map((l) => l.reason), ['member_joined']);
    assert.match(String(rebalanceLines(lines)[0]!.detail), /^new member client-.* joined; client reason: first start$/);
    assert.deepEqual(counts(coordinator), ['g:member_joined=1']);

    // B joins: one rebalance; A rejoins inside it (no second line), then both sync.
    const b = track(coordinator.join(joinRequest()));
    const aAgain = track(coordinator.join(joinRequest({ memberId: a.memberId })));
    const [bj, aj] = [await b.done, await aAgain.done];
    assert.equal(aj.generationId, 2);
    await Promise.all([
      coordinator.sync({ groupId: 'g', generationId: 2, memberId: aj.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] }),
      coordinator.sync({ groupId: 'g', generationId: 2, memberId: bj.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] }),
    ]);
    assert.deepEqual(rebalanceLines(lines).map((l) => l.reason), ['member_joined', 'member_joined']);

    // A leaves: B must rejoin.
    coordinator.leave('g', [{ memberId: aj.memberId, groupInstanceId: null }]);
    const bRejoin = await coordinator.join(joinRequest({ memberId: bj.memberId }));
    assert.equal(bRejoin.generationId, 3);
    await coordinator.sync({ groupId: 'g', generationId: 3, memberId: bj.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
    // B goes silent past its session timeout.
    scheduler.advance(10_001);
    const reasons = rebalanceLines(lines).map((l) => l.reason);
    assert.deepEqual(reasons, ['member_joined', 'member_joined', 'member_left', 'session_timeout']);
    assert.ok(rebalanceLines(lines).every((l) => l.level === 30 && l.groupId === 'g'), 'INFO, naming the group');
    assert.match(String(rebalanceLines(lines)[3]!.detail), /on heartbeat expiration/);
    assert.deepEqual(counts(coordinator), ['g:member_joined=2', 'g:member_left=1', 'g:session_timeout=1']);
    // The steps inside a rebalance stay below INFO.
    assert.equal(lines.filter((l) => l['msg'] === 'join phase complete' || l['msg'] === 'group stable').length, 0);
  });

  it('a leader rejoining (its client saw a metadata change) is member_rejoined with the client reason', async () => {
    const { log, lines } = capturingLogger();
    const scheduler = new ManualScheduler();
    const { coordinator } = setup(undefined, scheduler, {}, log);
    const a = await stableGroupOfOne(coordinator, scheduler);
    await coordinator.join(joinRequest({ memberId: a.memberId, reason: 'cached metadata has changed' }));
    const last = rebalanceLines(lines).at(-1)!;
    assert.equal(last.reason, 'member_rejoined');
    assert.match(String(last.detail), /leader .* rejoined during Stable; client reason: cached metadata has changed/);
    const changed = await coordinator.join(joinRequest({ memberId: a.memberId, protocols: [{ name: 'range', metadata: Buffer.from('other') }] }));
    await coordinator.sync({ groupId: 'g', generationId: changed.generationId, memberId: a.memberId, groupInstanceId: null, protocolType: 'consumer', protocolName: 'range', assignments: [] });
    assert.deepEqual(counts(coordinator), ['g:member_joined=1', 'g:member_rejoined=1', 'g:subscription_changed=1']);
  });

  it('the counts of a deleted group are dropped', async () => {
    const scheduler = new ManualScheduler();
    const { coordinator } = setup(undefined, scheduler);
    const a = await stableGroupOfOne(coordinator, scheduler);
    coordinator.leave('g', [{ memberId: a.memberId, groupInstanceId: null }]);
    assert.deepEqual(counts(coordinator), ['g:member_joined=1', 'g:member_left=1']);
    assert.deepEqual(await coordinator.deleteGroups(['g']), [{ groupId: 'g', errorCode: ErrorCode.NONE }]);
    assert.deepEqual(counts(coordinator), []);
  });
});
