import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MetadataDelta, applyRecords } from './delta.js';
import { MetadataImage } from './image.js';
import { ConfigResourceType, MetadataRecordType, type MetadataRecord } from './records.js';

const topicRecord = (name: string, topicId: string): MetadataRecord => ({ type: MetadataRecordType.TopicRecord, version: 0, data: { name, topicId } });
const partitionRecord = (topicId: string, partitionId: number): MetadataRecord => ({
  type: MetadataRecordType.PartitionRecord,
  version: 0,
  data: { partitionId, topicId, replicas: [1], isr: [1], removingReplicas: [], addingReplicas: [], leader: 1, leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0, directories: [], eligibleLeaderReplicas: null, lastKnownElr: null },
});
const topicConfig = (topic: string, name: string, value: string | null): MetadataRecord => ({
  type: MetadataRecordType.ConfigRecord,
  version: 0,
  data: { resourceType: ConfigResourceType.TOPIC, resourceName: topic, name, value },
});

test('applying a delta builds a new image and leaves the base image as it was', () => {
  const base = applyRecords(MetadataImage.EMPTY, [topicRecord('a', 'id-a'), partitionRecord('id-a', 0), topicConfig('a', 'retention.ms', '1')]);
  const next = applyRecords(base, [
    partitionRecord('id-a', 1),
    topicConfig('a', 'retention.ms', '2'),
    { type: MetadataRecordType.PartitionChangeRecord, version: 0, data: { topicId: 'id-a', partitionId: 0, isr: [], leader: -1, replicas: null, removingReplicas: null, addingReplicas: null, leaderRecoveryState: -1, directories: null, eligibleLeaderReplicas: null, lastKnownElr: null } },
    topicRecord('b.c', 'id-b'),
  ]);
  const a = base.topicsByName.get('a')!;
  assert.equal(a.partitions.length, 1);
  assert.equal(a.configs.get('retention.ms'), '1');
  assert.equal(a.partitions[0]!.leader, 1);
  assert.equal(base.topicsByName.has('b.c'), false);
  assert.equal(base.topicCollidingWith('b_c'), undefined);
  const a2 = next.topicsByName.get('a')!;
  assert.equal(a2.partitions.length, 2);
  assert.equal(a2.configs.get('retention.ms'), '2');
  assert.deepEqual([a2.partitions[0]!.leader, a2.partitions[0]!.leaderEpoch, a2.partitions[0]!.partitionEpoch], [-1, 1, 1]);
  assert.equal(next.topicCollidingWith('b_c'), 'b.c');
  assert.equal(MetadataImage.EMPTY.topicsByName.size, 0);
});

test('unchanged topics are shared between images; a delta with no records is the base itself', () => {
  const base = applyRecords(MetadataImage.EMPTY, [topicRecord('a', 'id-a'), topicRecord('b', 'id-b')]);
  const next = applyRecords(base, [partitionRecord('id-b', 0)]);
  assert.equal(next.topicsByName.get('a'), base.topicsByName.get('a'));
  assert.notEqual(next.topicsByName.get('b'), base.topicsByName.get('b'));
  assert.equal(new MetadataDelta(base).apply(), base);
});

test('a topic deleted and created again under its name in one delta is the new one', () => {
  const base = applyRecords(MetadataImage.EMPTY, [topicRecord('t', 'old'), partitionRecord('old', 0)]);
  const next = applyRecords(base, [{ type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId: 'old' } }, topicRecord('t', 'new')]);
  assert.equal(next.topicsByName.get('t')!.topicId, 'new');
  assert.equal(next.topicsById.has('old'), false);
  assert.equal(next.topicCollidingWith('t'), 't');
  const gone = applyRecords(next, [{ type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId: 'new' } }]);
  assert.equal(gone.topicsByName.size, 0);
  assert.equal(gone.topicCollidingWith('t'), undefined);
  assert.equal(base.topicsByName.get('t')!.topicId, 'old');
});

test('replaying records one delta at a time gives the same image as one delta for all', () => {
  const records = [topicRecord('x', 'id-x'), partitionRecord('id-x', 0), topicConfig('x', 'k', 'v'), topicConfig('x', 'k', null), topicRecord('y', 'id-y'), { type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId: 'id-x' } } as MetadataRecord];
  const whole = applyRecords(MetadataImage.EMPTY, records);
  let stepwise = MetadataImage.EMPTY;
  for (const r of records) stepwise = applyRecords(stepwise, [r]);
  assert.deepEqual([...stepwise.topicsByName.keys()], [...whole.topicsByName.keys()]);
  assert.deepEqual(stepwise.topicsByName.get('y'), whole.topicsByName.get('y'));
  assert.equal(whole.topicsById.has('id-x'), false);
});
