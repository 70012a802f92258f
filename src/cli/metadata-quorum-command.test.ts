// The output of `metadata-quorum describe` as kafka-metadata-quorum.sh prints it: the status
// summary (lag of the voter furthest behind, its lag in time from the caught-up timestamps,
// voters with endpoints, a null directory id for the zero uuid) and the replication table
// (columns padded to the widest value, each followed by a tab; the leader first).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { QuorumInfo } from '../client/index.js';
import { replicationTable, statusText } from './metadata-quorum-command.js';

const ZERO = 'AAAAAAAAAAAAAAAAAAAAAA';

function quorum(): QuorumInfo {
  return {
    leaderId: 2,
    leaderEpoch: 4,
    highWatermark: 120n,
    voters: [
      { replicaId: 1, replicaDirectoryId: ZERO, logEndOffset: 100n, lastFetchTimestamp: 1_700_000_000_900n, lastCaughtUpTimestamp: 1_700_000_000_500n },
      { replicaId: 2, replicaDirectoryId: ZERO, logEndOffset: 120n, lastFetchTimestamp: -1n, lastCaughtUpTimestamp: 1_700_000_001_000n },
      { replicaId: 3, replicaDirectoryId: 'g42deArWBTRM5A1yuVpMCg', logEndOffset: 120n, lastFetchTimestamp: 1_700_000_000_990n, lastCaughtUpTimestamp: 1_700_000_000_990n },
    ],
    observers: [],
    nodes: new Map([
      [1, ['CONTROLLER://localhost:9093']],
      [2, ['CONTROLLER://localhost:9094']],
    ]),
  };
}

test('describe --status reports the voter furthest behind in offsets and caught-up time, and voters with their endpoints', () => {
  assert.equal(
    statusText('fMCL8kv1SWm87L_Md-I2hg', quorum()),
    'ClusterId:              fMCL8kv1SWm87L_Md-I2hg\n' +
      'LeaderId:               2\n' +
      'LeaderEpoch:            4\n' +
      'HighWatermark:          120\n' +
      'MaxFollowerLag:         20\n' +
      'MaxFollowerLagTimeMs:   500\n' +
      'CurrentVoters:          [{"id": 1, "directoryId": null, "endpoints": ["CONTROLLER://localhost:9093"]}, {"id": 2, "directoryId": null, "endpoints": ["CONTROLLER://localhost:9094"]}, {"id": 3, "directoryId": "g42deArWBTRM5A1yuVpMCg"}]\n' +
      'CurrentObservers:       []\n',
  );
});

test('describe --replication prints the leader first, lags from its end offset, and pads every column', () => {
  const lines = replicationTable(quorum(), false, 0).split('\n');
  assert.equal(lines[0], 'NodeId\tDirectoryId           \tLogEndOffset\tLag\tLastFetchTimestamp\tLastCaughtUpTimestamp\tStatus  \t');
  assert.equal(lines[1], '2     \tAAAAAAAAAAAAAAAAAAAAAA\t120         \t0  \t-1                \t1700000001000        \tLeader  \t');
  assert.equal(lines[2], '1     \tAAAAAAAAAAAAAAAAAAAAAA\t100         \t20 \t1700000000900     \t1700000000500        \tFollower\t');
  assert.equal(lines[3], '3     \tg42deArWBTRM5A1yuVpMCg\t120         \t0  \t1700000000990     \t1700000000990        \tFollower\t');
  const human = replicationTable(quorum(), true, 1_700_000_002_000).split('\n');
  assert.match(human[2]!, /\t1100 ms ago\s*\t1500 ms ago\s*\tFollower\t$/);
  assert.match(human[1]!, /\t-1 +\t1000 ms ago/);
});
