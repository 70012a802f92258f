// The driver with real storage (DiskRaftStorage on temp dirs), real timers and an in-memory
// network: three voters elect one leader, commit, fail over when the leader goes, and a restarted
// or wiped voter catches up (from the log, or from the leader's snapshot).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import type { RaftConfig } from './quorum-config.js';
import { batchOf, FAST_RAFT_CONFIG, InMemoryRaftNetwork, TestVoter, waitFor, waitForLeader } from './raft-driver-test-support.js';

function cluster(config: Partial<RaftConfig> = FAST_RAFT_CONFIG): { net: InMemoryRaftNetwork; voters: TestVoter[] } {
  const net = new InMemoryRaftNetwork();
  const ids = [1, 2, 3];
  const voters = ids.map((id) => new TestVoter(id, ids, fs.mkdtempSync(path.join(os.tmpdir(), `raft-driver-${id}-`)), (n) => net.transport(n), config));
  for (const v of voters) v.start();
  return { net, voters };
}

test('three drivers elect one leader, commit proposals on all voters in order, and a follower refuses proposals with NOT_CONTROLLER', async () => {
  const { voters } = cluster();
  try {
    const leader = await waitForLeader(voters);
    const outcomes = await Promise.all([leader.driver.propose(batchOf('a', 'b'), 2), leader.driver.propose(batchOf('c'), 1), leader.driver.propose(batchOf('d', 'e', 'f'), 3)]);
    assert.deepEqual(outcomes.map((o) => o.lastOffset - o.baseOffset + 1), [2, 1, 3]);
    assert.ok(outcomes[0]!.lastOffset < outcomes[1]!.baseOffset && outcomes[1]!.lastOffset < outcomes[2]!.baseOffset, 'in proposal order');
    await waitFor('every voter applied the six values', () => voters.every((v) => v.values.join() === 'a,b,c,d,e,f'));
    const follower = voters.find((v) => v !== leader)!;
    await assert.rejects(follower.driver.propose(batchOf('x'), 1), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER && new RegExp(`leader is node ${leader.id}`).test(e.message));
    await assert.rejects(leader.driver.propose(batchOf('x'), 1, { expectedEpoch: leader.driver.status().epoch - 1 }), (e: unknown) => e instanceof KafkaError && e.code === ErrorCode.NOT_CONTROLLER);
    const d = await leader.driver.describeQuorum();
    assert.ok(!('notLeader' in d));
    assert.equal(d.leaderId, leader.id);
    assert.deepEqual(d.currentVoters.map((r) => r.replicaId), [1, 2, 3]);
    assert.ok(d.highWatermark >= outcomes[2]!.lastOffset + 1);
    const notLeader = await follower.driver.describeQuorum();
    assert.deepEqual(notLeader, { notLeader: { leaderId: leader.id, epoch: leader.driver.status().epoch } });
  } finally {
    for (const v of voters) v.stop();
  }
});

test('when the leader crashes the others elect a new one in a later epoch; the old leader restarts from disk and catches up', async () => {
  const { net, voters } = cluster();
  try {
    const first = await waitForLeader(voters);
    const firstEpoch = first.driver.status().epoch;
    await first.driver.propose(batchOf('1', '2'), 2);
    first.stop();
    net.remove(first.id);
    const rest = voters.filter((v) => v !== first);
    const second = await waitForLeader(rest);
    assert.ok(second.driver.status().epoch > firstEpoch);
    await second.driver.propose(batchOf('3'), 1);
    await waitFor('the survivors applied 1,2,3', () => rest.every((v) => v.values.join() === '1,2,3'));
    // Everything the old leader committed before it went is still there (leader completeness).
    first.start();
    await waitFor('the restarted voter caught up', () => first.values.join() === '1,2,3' && first.driver.leaderAndEpoch().leaderId === second.id);
    assert.equal(first.driver.status().role, 'follower');
    await second.driver.propose(batchOf('4'), 1);
    await waitFor('all three applied 4', () => voters.every((v) => v.values.join() === '1,2,3,4'));
  } finally {
    for (const v of voters) if (!v.driver.failed) v.stop();
  }
});

test('resign() hands leadership over at once; proposals pending at the old leader are rejected with NOT_CONTROLLER or commit', async () => {
  const { voters } = cluster();
  try {
    const first = await waitForLeader(voters);
    const pending = first.driver.propose(batchOf('p'), 1).then(
      () => 'committed',
      (e: KafkaError) => (e.code === ErrorCode.NOT_CONTROLLER ? 'not-controller' : `other: ${e.message}`),
    );
    assert.equal(await first.driver.resign(), true);
    assert.match(await pending, /^(committed|not-controller)$/);
    const second = await waitForLeader(voters, first.id);
    assert.notEqual(second.id, first.id);
    await second.driver.propose(batchOf('q'), 1);
    await waitFor('all applied q', () => voters.every((v) => v.values.at(-1) === 'q'));
    assert.ok(first.leaderChanges.some((l) => l.leaderId === second.id), 'the old leader heard of the new one');
  } finally {
    for (const v of voters) v.stop();
  }
});

test('with snapshots every few bytes, a voter whose directory was wiped catches up from the leader\'s snapshot', async () => {
  const { net, voters } = cluster({ ...FAST_RAFT_CONFIG, snapshotMinBytes: 2000 });
  try {
    const leader = await waitForLeader(voters);
    const expected: string[] = [];
    for (let i = 0; i < 60; i++) {
      const vs = [`v${i}-a-${'x'.repeat(40)}`, `v${i}-b`];
      expected.push(...vs);
      await leader.driver.propose(batchOf(...vs), 2);
    }
    await waitFor('a snapshot on the leader', () => leader.storage.latestSnapshot() !== undefined && leader.storage.logStart().offset > 0);
    const wiped = voters.find((v) => v !== leader)!;
    wiped.stop();
    net.remove(wiped.id);
    fs.rmSync(wiped.dir, { recursive: true, force: true });
    fs.mkdirSync(wiped.dir);
    wiped.start();
    await waitFor('the wiped voter has every value', () => wiped.values.join() === expected.join());
    assert.ok(wiped.snapshotsLoaded >= 1, 'it loaded a snapshot');
    assert.ok(wiped.storage.logStart().offset > 0, 'its log starts at the snapshot');
  } finally {
    for (const v of voters) v.stop();
  }
});
