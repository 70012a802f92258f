// The files the KRaft driver writes, in Kafka's formats: `.checkpoint` snapshots, the
// LeaderChangeMessage control batch and `quorum-state`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LeaderChangeMessage } from '../../protocol/messages/LeaderChangeMessage.js';
import { ATTR_CONTROL } from '../../protocol/records/batch-header.js';
import { decodeControlRecordKey, decodeRecordBatches } from '../../protocol/records/record-batch.js';
import { decodeQuorumStateFile, encodeQuorumStateFile } from './quorum-state-file.js';
import { decodeSnapshot, encodeLeaderChangeBatch, encodeSnapshot, KRaftControlRecordType, parseSnapshotFileName, snapshotFileName, SnapshotFormatError } from './snapshot-file.js';

test('snapshot files are named <endOffset:20>-<epoch:10>.checkpoint, as Kafka names them', () => {
  assert.equal(snapshotFileName({ endOffset: 1234, epoch: 7 }), '00000000000000001234-0000000007.checkpoint');
  assert.deepEqual(parseSnapshotFileName('00000000000000001234-0000000007.checkpoint'), { endOffset: 1234, epoch: 7 });
  assert.equal(parseSnapshotFileName('00000000000000001234-0000000007.checkpoint.part'), undefined);
  assert.equal(parseSnapshotFileName('00000000000000001234.log'), undefined);
});

test('a snapshot is a header control batch, the state\'s batches and a footer control batch, with offsets from 0 and the snapshot epoch', () => {
  const values = [[Buffer.from('a'), Buffer.from('b')], [Buffer.from('c')]];
  const bytes = encodeSnapshot({ id: { endOffset: 500, epoch: 9 }, lastContainedLogTimestampMs: 1_700_000_000_000, timestampMs: 1_700_000_000_500, batches: values });
  const batches = decodeRecordBatches(bytes);
  assert.deepEqual(batches.map((b) => [Number(b.header.baseOffset), b.header.partitionLeaderEpoch, (b.header.attributes & ATTR_CONTROL) !== 0, b.records.length]), [
    [0, 9, true, 1],
    [1, 9, false, 2],
    [3, 9, false, 1],
    [4, 9, true, 1],
  ]);
  assert.equal(decodeControlRecordKey(batches[0]!.records[0]!.key).type, KRaftControlRecordType.SnapshotHeader);
  assert.equal(decodeControlRecordKey(batches[3]!.records[0]!.key).type, KRaftControlRecordType.SnapshotFooter);
  const decoded = decodeSnapshot(bytes);
  assert.equal(decoded.lastContainedLogTimestampMs, 1_700_000_000_000n);
  assert.deepEqual(decoded.records.map((r) => r.toString()), ['a', 'b', 'c']);
});

test('a snapshot without its footer or header is refused, naming the file', () => {
  const bytes = encodeSnapshot({ id: { endOffset: 5, epoch: 1 }, lastContainedLogTimestampMs: 0, timestampMs: 0, batches: [[Buffer.from('x')]] });
  const batches = decodeRecordBatches(bytes);
  const withoutFooter = bytes.subarray(0, bytes.length - batches[2]!.header.sizeInBytes);
  assert.throws(() => decodeSnapshot(withoutFooter, 'x.checkpoint'), (e: unknown) => e instanceof SnapshotFormatError && /x.checkpoint: does not end with a SnapshotFooterRecord/.test(e.message));
  const withoutHeader = bytes.subarray(batches[0]!.header.sizeInBytes);
  assert.throws(() => decodeSnapshot(withoutHeader), /does not start with a SnapshotHeaderRecord/);
});

test('a new leader\'s control batch carries LeaderChangeMessage v0 with the voters and who voted for it', () => {
  const bytes = encodeLeaderChangeBatch(42, 3, 1000, { type: 'leaderChange', leaderId: 2, voters: [1, 2, 3], grantingVoters: [2, 3] });
  const [b] = decodeRecordBatches(bytes);
  assert.deepEqual([Number(b!.header.baseOffset), b!.header.partitionLeaderEpoch, (b!.header.attributes & ATTR_CONTROL) !== 0], [42, 3, true]);
  assert.equal(decodeControlRecordKey(b!.records[0]!.key).type, KRaftControlRecordType.LeaderChange);
  const msg = LeaderChangeMessage.fromBuffer(b!.records[0]!.value!, 0);
  assert.deepEqual([msg.leaderId, msg.voters.map((v) => v.voterId), msg.grantingVoters.map((v) => v.voterId)], [2, [1, 2, 3], [2, 3]]);
});

test('quorum-state round-trips in Kafka\'s version 0 JSON, reads version 1, and a malformed file names the field', () => {
  const text = encodeQuorumStateFile({ epoch: 4, votedId: 2, leaderId: 3 }, [1, 2, 3]);
  assert.deepEqual(JSON.parse(text), { clusterId: '', leaderId: 3, leaderEpoch: 4, votedId: 2, appliedOffset: 0, currentVoters: [{ voterId: 1 }, { voterId: 2 }, { voterId: 3 }], data_version: 0 });
  assert.deepEqual(decodeQuorumStateFile(text), { epoch: 4, votedId: 2, leaderId: 3 });
  assert.deepEqual(decodeQuorumStateFile('{"leaderId":-1,"leaderEpoch":2,"votedId":1,"votedDirectoryId":"J8aAPcfLQt2bqs1JT_rMgQ","data_version":1}'), { epoch: 2, votedId: 1, leaderId: -1 });
  assert.throws(() => decodeQuorumStateFile('{"leaderEpoch":"two","data_version":0}'), /quorum-state: leaderEpoch is "two"/);
  assert.throws(() => decodeQuorumStateFile('{"leaderEpoch":1,"data_version":7}'), /unsupported data_version 7/);
  assert.throws(() => decodeQuorumStateFile('{"leaderEp'), /quorum-state: not JSON/);
});
