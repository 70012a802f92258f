import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_RAFT_CONFIG, parseQuorumVoters, raftConfigFromProperties } from './quorum-config.js';

test('controller.quorum.voters parses {id}@{host}:{port} entries, IPv6 hosts in brackets', () => {
  assert.deepEqual(parseQuorumVoters('1@localhost:9093, 2@10.0.0.2:9094,3@[::1]:9095'), [
    { id: 1, host: 'localhost', port: 9093 },
    { id: 2, host: '10.0.0.2', port: 9094 },
    { id: 3, host: '::1', port: 9095 },
  ]);
  assert.deepEqual(parseQuorumVoters(''), []);
});

test('a bad controller.quorum.voters entry stops start-up with a message naming the key and the entry', () => {
  assert.throws(() => parseQuorumVoters('1@localhost'), /'controller.quorum.voters': entry '1@localhost' is not \{id\}@\{host\}:\{port\}/);
  assert.throws(() => parseQuorumVoters('1@a:1,1@b:2'), /voter id 1 appears twice/);
  assert.throws(() => parseQuorumVoters('1@a:70000'), /port 70000 of voter 1 is out of range/);
  assert.throws(() => parseQuorumVoters('x@a:1'), /controller.quorum.voters/);
});

test('quorum timeouts and snapshot thresholds take Kafka\'s keys and defaults, and bad values name the key', () => {
  assert.deepEqual(raftConfigFromProperties(new Map()), DEFAULT_RAFT_CONFIG);
  assert.deepEqual(
    [DEFAULT_RAFT_CONFIG.electionTimeoutMs, DEFAULT_RAFT_CONFIG.fetchTimeoutMs, DEFAULT_RAFT_CONFIG.electionBackoffMaxMs, DEFAULT_RAFT_CONFIG.requestTimeoutMs, DEFAULT_RAFT_CONFIG.retryBackoffMs, DEFAULT_RAFT_CONFIG.snapshotMinBytes],
    [1000, 2000, 1000, 2000, 20, 20 * 1024 * 1024],
  );
  const cfg = raftConfigFromProperties(new Map([
    ['controller.quorum.election.timeout.ms', '500'],
    ['controller.quorum.fetch.timeout.ms', '900'],
    ['controller.quorum.election.backoff.max.ms', '300'],
    ['metadata.log.max.record.bytes.between.snapshots', '4096'],
  ]));
  assert.deepEqual([cfg.electionTimeoutMs, cfg.fetchTimeoutMs, cfg.electionBackoffMaxMs, cfg.snapshotMinBytes], [500, 900, 300, 4096]);
  assert.throws(() => raftConfigFromProperties(new Map([['controller.quorum.fetch.timeout.ms', '0']])), /Invalid value '0' for configuration 'controller.quorum.fetch.timeout.ms'/);
  assert.throws(() => raftConfigFromProperties(new Map([['controller.quorum.election.timeout.ms', 'soon']])), /controller.quorum.election.timeout.ms/);
});
