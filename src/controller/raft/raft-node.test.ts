// Scripted scenarios for the KRaft core, each named after the rule it checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MemoryRaftStorage } from './memory-raft-storage.js';
import { RaftInvariantError } from './raft-log.js';
import { RaftNode, type Ready } from './raft-node.js';
import { TestCluster } from './raft-test-cluster.js';
import { checkTransition } from './roles.js';
import type { EndQuorumEpochRequest, FetchResponse, RaftBatch, RaftMessage, VoteRequest, VoteResponse } from './types.js';

function batch(baseOffset: number, recordCount: number, epoch: number, text = `b${baseOffset}`): RaftBatch {
  return { baseOffset, lastOffset: baseOffset + recordCount - 1, epoch, appendTimeMs: 0, data: Buffer.from(JSON.stringify({ id: text, k: baseOffset % 4, v: epoch })) };
}

/** Storage holding `batches` and a quorum-state, all synced. */
function storageWith(batches: readonly RaftBatch[], election?: { epoch: number; votedId: number; leaderId: number }): MemoryRaftStorage {
  const s = new MemoryRaftStorage();
  for (const b of batches) s.write({ type: 'append', batch: b });
  if (election !== undefined) s.write({ type: 'electionState', state: election });
  s.sync();
  return s;
}

function voteRequest(from: number, to: number, epoch: number, lastEpoch: number, endOffset: number, preVote = false): VoteRequest {
  return { type: 'voteRequest', from, to, correlationId: 7, candidateEpoch: epoch, candidateId: from, lastOffsetEpoch: lastEpoch, lastOffset: endOffset, preVote };
}

/** Steps a message into a lone node and returns its Ready. */
function stepAlone(node: RaftNode, m: RaftMessage, nowMs = 0): Ready {
  node.step(m, nowMs);
  const r = node.ready();
  assert.ok(r !== undefined);
  node.persisted(r.seq);
  return r;
}

function voteResponses(r: Ready): VoteResponse[] {
  return r.messages.filter((m): m is VoteResponse => m.type === 'voteResponse');
}

function sentOf<T extends RaftMessage['type']>(c: TestCluster, type: T): Array<Extract<RaftMessage, { type: T }>> {
  return c.sent.filter((m): m is Extract<RaftMessage, { type: T }> => m.type === type);
}

test('a single voter elects itself at start-up and commits an entry only once its own write is durable', () => {
  const storage = new MemoryRaftStorage();
  const raft = new RaftNode({ nodeId: 1, voters: [1], log: storage, random: () => 0, nowMs: 0 });
  assert.deepEqual({ role: raft.status().role, epoch: raft.status().epoch }, { role: 'leader', epoch: 1 });
  const r1 = raft.ready()!;
  assert.deepEqual(r1.electionState, { epoch: 1, votedId: 1, leaderId: 1 });
  assert.equal(r1.logOps.length, 1);
  const op = r1.logOps[0]!;
  assert.ok(op.type === 'append' && op.batch.baseOffset === 0 && op.batch.epoch === 1 && op.batch.control?.type === 'leaderChange');
  for (const o of r1.logOps) storage.write(o);

  const p = raft.propose({ data: Buffer.from('{"id":"a","k":1,"v":1}'), recordCount: 2 }, 5);
  assert.deepEqual(p, { status: 'appended', baseOffset: 1, lastOffset: 2, epoch: 1 });
  const r2 = raft.ready()!;
  for (const o of r2.logOps) storage.write(o);
  assert.equal(raft.status().highWatermark, 0, 'nothing is durable yet');
  storage.sync();
  raft.persisted(r1.seq);
  assert.equal(raft.status().highWatermark, 1, 'the LeaderChange is durable on the only voter');
  raft.persisted(r2.seq);
  assert.equal(raft.status().highWatermark, 3);
  const r3 = raft.ready()!;
  assert.deepEqual(r3.committed.map((c) => (c.type === 'batch' ? c.batch.baseOffset : -1)), [0, 1]);
});

test('pre-vote does not bump the epoch and persists no vote; the real vote is persisted with the response that grants it', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1000); // node 1 (random 0) times out at exactly T
  const n1 = c.node(1);
  const preVoteReady = n1.readys.find((r) => r.messages.some((m) => m.type === 'voteRequest' && m.preVote))!;
  assert.equal(preVoteReady.electionState, undefined, 'a pre-vote persists nothing');
  const preVotes = preVoteReady.messages.filter((m): m is VoteRequest => m.type === 'voteRequest');
  assert.deepEqual(preVotes.map((m) => [m.to, m.candidateEpoch, m.preVote]), [[2, 0, true], [3, 0, true]]);

  const n2 = c.node(2);
  const grantPre = n2.readys.find((r) => voteResponses(r).some((m) => m.preVote))!;
  assert.equal(grantPre.electionState, undefined, 'granting a pre-vote persists nothing');
  assert.equal(voteResponses(grantPre)[0]!.voteGranted, true);

  const voteReady = n1.readys.find((r) => r.messages.some((m) => m.type === 'voteRequest' && !m.preVote))!;
  assert.deepEqual(voteReady.electionState, { epoch: 1, votedId: 1, leaderId: -1 }, 'the candidacy is persisted with its vote requests');
  const grant = n2.readys.find((r) => voteResponses(r).some((m) => !m.preVote && m.voteGranted))!;
  assert.deepEqual(grant.electionState, { epoch: 1, votedId: 1, leaderId: -1 }, 'the vote is persisted with the response that grants it');
  assert.deepEqual({ role: n1.raft.status().role, epoch: n1.raft.status().epoch }, { role: 'leader', epoch: 1 });
});

test('a follower that fetched from its leader rejects pre-votes; one that has not fetched since it started grants them', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  assert.equal(c.leader()?.id, 1);
  const end = c.node(1).raft.status().logEndOffset;
  const rejected = stepAlone(c.node(2).raft, voteRequest(3, 2, 1, 1, end, true), c.now);
  assert.equal(voteResponses(rejected)[0]!.voteGranted, false);

  c.filter = (m) => m.from !== 1; // node 2's fetches get no answer after its restart
  c.stop(2);
  const n2 = c.start(2);
  assert.equal(n2.raft.status().role, 'follower');
  const granted = stepAlone(n2.raft, voteRequest(3, 2, 1, 1, end, true), c.now);
  assert.equal(voteResponses(granted)[0]!.voteGranted, true);
  assert.equal(n2.raft.status().epoch, 1, 'a pre-vote leaves the epoch alone');
});

test('a vote goes only to a log at least as up to date: the last epoch first, then the end offset', () => {
  const log = [batch(0, 5, 1), batch(5, 2, 2)]; // end 7, last epoch 2
  const cases: Array<[number, number, boolean]> = [
    [1, 100, false],
    [2, 6, false],
    [2, 7, true],
    [2, 9, true],
    [3, 0, true],
  ];
  for (const [lastEpoch, endOffset, expected] of cases) {
    const node = new RaftNode({ nodeId: 1, voters: [1, 2, 3], log: storageWith(log, { epoch: 2, votedId: -1, leaderId: -1 }), electionState: { epoch: 2, votedId: -1, leaderId: -1 }, random: () => 0, nowMs: 0 });
    const r = stepAlone(node, voteRequest(2, 1, 3, lastEpoch, endOffset));
    assert.equal(voteResponses(r)[0]!.voteGranted, expected, `candidate log ${endOffset}@${lastEpoch}`);
    assert.equal(r.electionState?.votedId ?? -1, expected ? 2 : -1);
  }
});

test('one vote per epoch: a second candidate of the same epoch is refused, the same candidate asking again is not', () => {
  const node = new RaftNode({ nodeId: 1, voters: [1, 2, 3], log: new MemoryRaftStorage(), random: () => 0, nowMs: 0 });
  node.ready();
  assert.equal(voteResponses(stepAlone(node, voteRequest(2, 1, 1, 0, 0)))[0]!.voteGranted, true);
  assert.equal(voteResponses(stepAlone(node, voteRequest(3, 1, 1, 0, 5)))[0]!.voteGranted, false);
  assert.equal(voteResponses(stepAlone(node, voteRequest(2, 1, 1, 0, 0)))[0]!.voteGranted, true);
  assert.equal(voteResponses(stepAlone(node, voteRequest(3, 1, 2, 0, 5)))[0]!.voteGranted, true, 'a new epoch, a new vote');
});

test('a follower with a diverging tail truncates to the end of the leader\'s epoch, then takes the leader\'s entries', () => {
  const c = new TestCluster([1, 2, 3]);
  c.start(1);
  c.start(2, { randomValue: 0.5 });
  c.start(3);
  c.advance(1100);
  assert.equal(c.leader()?.id, 1);
  for (let i = 0; i < 3; i++) c.propose(1, i, i);
  c.advance(10);
  const committed = c.node(1).raft.status().highWatermark;
  c.filter = (m) => m.from !== 1 && m.to !== 1; // node 1 keeps writing, alone
  for (let i = 0; i < 3; i++) c.propose(1, 10 + i, i);
  const staleEnd = c.node(1).raft.status().logEndOffset;
  c.advance(5000);
  const leader = [2, 3].map((id) => c.node(id)).find((n) => n.raft.status().role === 'leader')!;
  assert.ok(leader !== undefined && leader.raft.status().epoch > 1);
  c.propose(leader.id, 20, 20);
  const epoch1End = leader.storage.batches().find((b) => b.epoch > 1)!.baseOffset;
  assert.ok(epoch1End < staleEnd);

  c.filter = () => true;
  c.advance(3000);
  const truncations = c.node(1).readys.flatMap((r) => r.logOps).filter((o) => o.type === 'truncate');
  assert.deepEqual(truncations, [{ type: 'truncate', toOffset: epoch1End }]);
  assert.ok(epoch1End >= committed);
  const shape = (bs: readonly RaftBatch[]) => bs.map((b) => `${b.baseOffset}-${b.lastOffset}@${b.epoch}`);
  assert.deepEqual(shape(c.node(1).storage.batches()), shape(leader.storage.batches()));
  assert.deepEqual(c.node(1).sm.snapshot(), leader.sm.snapshot());
});

test('a replica behind the leader\'s log start fetches the snapshot in chunks, installs it and catches up', () => {
  const c = new TestCluster([1, 2, 3], { snapshotMinBytes: 60, fetchMaxBytes: 40 });
  c.start(1);
  c.start(2);
  c.advance(1100);
  for (let i = 0; i < 12; i++) {
    c.propose(1, i % 5, i);
    c.advance(5);
  }
  const leader = c.node(1);
  assert.ok(leader.storage.logStart().offset > 0, 'the leader snapshotted and dropped its log prefix');
  const n3 = c.start(3);
  c.advance(2500); // the leader sends BeginQuorumEpoch again to the voter that never answered
  const ops = n3.readys.flatMap((r) => r.logOps);
  const chunks = ops.filter((o) => o.type === 'snapshotChunk');
  assert.ok(chunks.length > 1, `the snapshot came in ${chunks.length} chunks`);
  assert.ok(chunks.every((o) => o.type === 'snapshotChunk' && o.bytes.length <= 40));
  assert.equal(ops.filter((o) => o.type === 'installSnapshot').length, 1);
  assert.ok(n3.readys.some((r) => r.committed.some((x) => x.type === 'snapshot')));
  assert.equal(n3.sm.applied, leader.sm.applied);
  assert.deepEqual(n3.sm.snapshot(), leader.sm.snapshot());
});

test('the high watermark waits for an entry of the leader\'s own epoch, even when older entries are on a majority', () => {
  const old = [batch(0, 1, 1), batch(1, 4, 1), batch(5, 5, 1)]; // offsets 0..9 of epoch 1, never committed
  const c = new TestCluster([1, 2, 3]);
  c.start(2, { storage: storageWith(old, { epoch: 1, votedId: 1, leaderId: 1 }) });
  c.advance(50); // fetch timeouts are not random: stagger the starts so that one election wins
  c.start(3, { storage: storageWith(old, { epoch: 1, votedId: 1, leaderId: 1 }) });
  c.filter = (m) => !(m.type === 'fetchRequest' && m.fetchOffset > 10);
  c.advance(2000); // node 1 is gone: node 2's fetch timeout expires first, it wins epoch 2
  const n2 = c.node(2);
  assert.deepEqual({ role: n2.raft.status().role, epoch: n2.raft.status().epoch }, { role: 'leader', epoch: 2 });
  const quorum = n2.raft.describeQuorum(c.now);
  assert.ok('currentVoters' in quorum);
  assert.deepEqual(quorum.currentVoters.map((v) => v.logEndOffset), [-1, 11, 10], 'node 3 has everything up to the LeaderChange at 10');
  assert.equal(n2.raft.status().highWatermark, 0, 'offsets 0..9 are on nodes 2 and 3, but no entry of epoch 2 is');
  c.filter = () => true;
  c.advance(2100); // node 3 fetches again after the request timeout
  assert.equal(n2.raft.status().highWatermark, 11);
  assert.equal(c.node(3).raft.status().highWatermark, 11);
});

test('a leader that hears no fetches from a majority for 1.5 fetch timeouts resigns (check quorum)', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  assert.equal(c.leader()?.id, 1);
  c.filter = (m) => m.to !== 1;
  c.advance(2400);
  assert.equal(c.node(1).raft.status().role, 'leader', 'still within 3000 ms of the last fetch');
  c.advance(700);
  assert.equal(c.node(1).raft.status().role, 'resigned');
  assert.equal(c.node(1).raft.propose({ data: Buffer.from('x'), recordCount: 1 }, c.now).status, 'notLeader');
});

test('a follower without a successful fetch for controller.quorum.fetch.timeout.ms becomes prospective in the same epoch', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  c.filter = (m) => m.from !== 1;
  const cutAt = c.now;
  c.advance(1499);
  assert.equal(c.node(2).raft.status().role, 'follower');
  c.advance(501);
  const preVotes = c.sent.filter((m): m is VoteRequest => m.type === 'voteRequest' && m.from === 2 && m.preVote);
  assert.ok(preVotes.length > 0);
  assert.equal(preVotes[0]!.candidateEpoch, 1);
  assert.ok(c.now - cutAt <= 2000);
});

test('election timeouts are drawn from [T, 2T) by the injected random source', () => {
  for (const [r, expected] of [[0, 1000], [0.5, 1500], [0.9999, 1999]] as const) {
    const node = new RaftNode({ nodeId: 1, voters: [1, 2, 3], log: new MemoryRaftStorage(), random: () => r, nowMs: 100, config: { electionTimeoutMs: 1000 } });
    assert.equal(node.nextDeadlineMs(), 100 + expected);
    node.tick(100 + expected - 1);
    assert.equal(node.status().role, 'unattached');
    node.tick(100 + expected);
    assert.equal(node.status().role, 'prospective');
  }
});

test('a lost election backs off before the next pre-vote, never longer than controller.quorum.election.backoff.max.ms', () => {
  let r = 0;
  const node = new RaftNode({ nodeId: 1, voters: [1, 2, 3], log: new MemoryRaftStorage(), random: () => r, nowMs: 0, config: { electionBackoffMaxMs: 1000 } });
  let now = 1000;
  const backoffs: number[] = [];
  for (let round = 0; round < 5; round++) {
    node.tick(now);
    assert.equal(node.status().role, 'prospective');
    const epoch = node.status().epoch;
    const reply = (from: number, preVote: boolean, granted: boolean, e: number): VoteResponse => ({
      type: 'voteResponse', from, to: 1, correlationId: 0, errorCode: 0, leaderId: -1, leaderEpoch: e, voteGranted: granted, candidateEpoch: e, preVote,
    });
    node.step(reply(2, true, true, epoch), now);
    assert.deepEqual({ role: node.status().role, epoch: node.status().epoch }, { role: 'candidate', epoch: epoch + 1 });
    r = 0.99;
    node.step(reply(2, false, false, epoch + 1), now);
    node.step(reply(3, false, false, epoch + 1), now);
    assert.equal(node.status().role, 'candidate');
    backoffs.push(node.nextDeadlineMs() - now);
    now = node.nextDeadlineMs();
    r = 0;
  }
  assert.deepEqual(backoffs, [198, 396, 792, 990, 990]);
});

test('graceful resignation sends EndQuorumEpoch with the most caught-up voter first, and that voter takes over at once', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  c.filter = (m) => !(m.from === 3 && m.type === 'fetchRequest'); // node 3 falls behind
  c.advance(3000);
  c.propose(1, 1, 1);
  c.advance(10);
  c.filter = () => true;
  assert.equal(c.node(1).raft.resign(c.now), true);
  c.handle(c.node(1));
  const ends = c.sent.filter((m): m is EndQuorumEpochRequest => m.type === 'endQuorumEpochRequest');
  assert.deepEqual(ends.map((m) => [m.to, m.preferredSuccessors]), [[2, [2, 3]], [3, [2, 3]]]);
  const at = c.now;
  c.advance(0);
  assert.equal(c.now, at);
  assert.deepEqual({ role: c.node(2).raft.status().role, epoch: c.node(2).raft.status().epoch }, { role: 'leader', epoch: 2 });
});

test('an illegal transition throws', () => {
  const p = (role: Parameters<typeof checkTransition>[0]['role'], epoch: number, leaderId = -1) => ({ role, epoch, leaderId });
  assert.doesNotThrow(() => checkTransition(p('prospective', 3), p('candidate', 4), true));
  assert.doesNotThrow(() => checkTransition(p('candidate', 4), p('leader', 4, 1), true));
  assert.doesNotThrow(() => checkTransition(p('leader', 4, 1), p('follower', 5, 2), true));
  assert.throws(() => checkTransition(p('follower', 3, 2), p('leader', 3, 1), true), RaftInvariantError);
  assert.throws(() => checkTransition(p('unattached', 3), p('candidate', 4), true), RaftInvariantError, 'only a prospective becomes candidate');
  assert.throws(() => checkTransition(p('prospective', 3), p('candidate', 5), true), RaftInvariantError);
  assert.throws(() => checkTransition(p('follower', 3, 2), p('follower', 3, 4), true), RaftInvariantError);
  assert.throws(() => checkTransition(p('candidate', 3), p('unattached', 3), true), RaftInvariantError, 'a candidate leaves only for a higher epoch');
  assert.throws(() => checkTransition(p('leader', 3, 1), p('unattached', 2), true), RaftInvariantError, 'epochs never go back');
  assert.throws(() => checkTransition(p('unattached', 3), p('prospective', 3), false), RaftInvariantError, 'observers do not vote');

  // A leader told of another leader of its own epoch stops rather than carry on.
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  assert.throws(
    () => c.node(1).raft.step({ type: 'beginQuorumEpochRequest', from: 2, to: 1, correlationId: 1, leaderId: 2, leaderEpoch: 1 }, c.now),
    /two leaders in epoch 1/,
  );
});

test('a snapshot is requested once metadata.log.max.record.bytes.between.snapshots bytes are applied, and the log before it goes once it exists', () => {
  const c = new TestCluster([1], { snapshotMinBytes: 40, snapshotIntervalMs: 0 });
  const n = c.start(1);
  c.propose(1, 1, 1); // ~22 bytes
  assert.ok(!n.readys.some((r) => r.snapshotRequest !== undefined));
  c.propose(1, 2, 2);
  const requested = n.readys.filter((r) => r.snapshotRequest !== undefined).map((r) => r.snapshotRequest);
  assert.deepEqual(requested, [{ endOffset: 3, epoch: 1 }]);
  assert.ok(n.readys.some((r) => r.logOps.some((o) => o.type === 'truncatePrefix' && o.snapshotId.endOffset === 3)));
  assert.deepEqual(n.storage.logStart(), { offset: 3, epoch: 1 });
  // A restart loads the snapshot first.
  const restarted = c.start(1);
  assert.deepEqual(restarted.readys[0]!.committed[0], { type: 'snapshot', snapshotId: { endOffset: 3, epoch: 1 } });
  assert.equal(restarted.sm.contentDigest(), n.sm.contentDigest());
});

test('a replica that is not the leader refuses proposals and names the leader it knows; the leader bounds batch size and backlog', () => {
  const c = new TestCluster([1, 2, 3], { maxBatchBytes: 100, maxUncommittedBytes: 150 });
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  assert.deepEqual(c.propose(2, 1, 1), { status: 'notLeader', leader: { leaderId: 1, epoch: 1 } });
  assert.deepEqual(c.node(1).raft.propose({ data: Buffer.alloc(101), recordCount: 1 }, c.now, 1), { status: 'batchTooLarge', maxBatchBytes: 100 });
  assert.equal(c.node(1).raft.propose({ data: Buffer.alloc(10), recordCount: 1 }, c.now, 2).status, 'notLeader', 'another epoch than expected');
  c.filter = () => false; // nothing commits
  assert.equal(c.node(1).raft.propose({ data: Buffer.alloc(100), recordCount: 1 }, c.now).status, 'appended');
  assert.deepEqual(c.node(1).raft.propose({ data: Buffer.alloc(60), recordCount: 1 }, c.now), { status: 'backlogFull', maxUncommittedBytes: 150 });
});

test('a restarted leader comes back resigned, and a restarted voter keeps the vote it persisted', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  c.stop(1);
  c.stop(2);
  assert.deepEqual(c.start(1).raft.status().role, 'resigned');
  const n2 = c.start(2);
  assert.equal(n2.raft.status().votedId, 1);
  const r = stepAlone(n2.raft, voteRequest(3, 2, 1, 1, 100), c.now);
  assert.equal(voteResponses(r)[0]!.voteGranted, false);
});

test('DescribeQuorum reports every voter\'s log end offset and the high watermark, from the leader only', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  c.propose(1, 1, 1);
  c.advance(10);
  const d = c.node(1).raft.describeQuorum(c.now);
  assert.ok('currentVoters' in d);
  assert.equal(d.leaderId, 1);
  assert.equal(d.highWatermark, 2);
  assert.deepEqual(d.currentVoters.map((v) => [v.replicaId, v.logEndOffset]), [[1, 2], [2, 2], [3, 2]]);
  assert.deepEqual(d.currentVoters.map((v) => v.lastFetchTimestamp > 1000), [false, true, true], 'the leader reports -1, followers their last fetch');
  assert.equal(d.currentVoters[0]!.lastFetchTimestamp, -1);
  assert.deepEqual(c.node(2).raft.describeQuorum(c.now), { notLeader: { leaderId: 1, epoch: 1 } });
});

test('a duplicated fetch response changes nothing the second time', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(1100);
  c.propose(1, 1, 1);
  c.advance(10);
  const withRecords = sentOf(c, 'fetchResponse').filter((m: FetchResponse) => m.to === 2 && m.records.length > 0);
  const n2 = c.node(2);
  const before = n2.storage.endOffset();
  for (const m of withRecords) n2.raft.step(m, c.now);
  const r = n2.raft.ready();
  assert.ok(r === undefined || r.logOps.length === 0);
  assert.equal(n2.raft.status().logEndOffset, before);
});

test('a follower that never had the leader\'s diverging epoch truncates to the end of its own last epoch before it, then further', () => {
  // Follower: epoch 1 at [0, 13) in batches 0, 1-2, 3, 4-6, 7-12; epoch 4 at [13, 16).
  const log = [batch(0, 1, 1), batch(1, 2, 1), batch(3, 1, 1), batch(4, 3, 1), batch(7, 6, 1), batch(13, 3, 4)];
  const election = { epoch: 5, votedId: -1, leaderId: 3 };
  const node = new RaftNode({ nodeId: 2, voters: [1, 2, 3], log: storageWith(log, election), electionState: election, random: () => 0, nowMs: 0 });
  const first = node.ready()!;
  const fetch = first.messages[0]!;
  assert.ok(fetch.type === 'fetchRequest' && fetch.fetchOffset === 16 && fetch.lastFetchedEpoch === 4);
  const answer = (correlationId: number, fetchOffset: number, lastFetchedEpoch: number, diverging: { epoch: number; offset: number }): FetchResponse => ({
    type: 'fetchResponse', from: 3, to: 2, correlationId, errorCode: 0, currentLeader: { leaderId: 3, epoch: 5 }, highWatermark: 0, logStartOffset: 0,
    records: [], divergingEpoch: diverging, fetchOffset, lastFetchedEpoch,
  });
  // The leader's log has epoch 2 up to 5 and nothing of epochs 3 and 4: offset 5 is inside our
  // batch 4-6, so we cut where our epoch 1 ends instead.
  const r1 = stepAlone(node, answer(fetch.correlationId, 16, 4, { epoch: 2, offset: 5 }));
  assert.deepEqual(r1.logOps, [{ type: 'truncate', toOffset: 13 }]);
  const next = r1.messages[0]!;
  assert.ok(next.type === 'fetchRequest' && next.fetchOffset === 13 && next.lastFetchedEpoch === 1);
  const r2 = stepAlone(node, answer(next.correlationId, 13, 1, { epoch: 1, offset: 1 }));
  assert.deepEqual(r2.logOps, [{ type: 'truncate', toOffset: 1 }]);
});

test('every voter learns a new high watermark without waiting for its parked fetch to time out, including the one whose fetch did not advance it', () => {
  const c = new TestCluster([1, 2, 3]);
  for (const id of [1, 2, 3]) c.start(id);
  c.advance(5000);
  const leader = c.leader()!;
  const hw = leader.raft.status().highWatermark;
  assert.ok(c.nodes.size === 3 && hw > 0);
  // Delivery only, no time passes: parked fetches stay parked unless something answers them.
  const p = c.propose(leader.id, 1, 1);
  assert.equal(p.status, 'appended');
  c.deliverAll();
  const want = leader.raft.status().highWatermark;
  assert.ok(want > hw, 'the proposal committed');
  for (const n of c.nodes.values()) assert.equal(n.raft.status().highWatermark, want, `node ${n.id} knows the high watermark`);
});
