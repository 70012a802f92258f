import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { MetadataController, UNLIMITED_MUTATIONS, type ControllerOptions } from './metadata-controller.js';
import { readBatchHeader } from '../protocol/records/batch-header.js';
import { MetadataLog, type MetadataLogStore } from './metadata-log.js';
import { LATEST_METADATA_VERSION, UpgradeType } from './features.js';
import { MetadataRecordType, type MetadataRecord } from './metadata-image.js';

/** Batches in memory, with offsets assigned as a partition log assigns them. */
class MemoryStore implements MetadataLogStore {
  readonly batches: Buffer[] = [];
  constructor(readonly maxBatchBytes = 1024 * 1024) {}
  private nextOffset = 0;
  append(batches: readonly Buffer[]): number {
    for (const batch of batches) {
      const copy = Buffer.from(batch);
      copy.writeBigInt64BE(BigInt(this.nextOffset), 0); // the base offset, outside the CRC
      this.nextOffset += readBatchHeader(copy, 0).lastOffsetDelta + 1;
      this.batches.push(copy);
    }
    return this.nextOffset;
  }
  readAll(): Iterable<Buffer> {
    return this.batches;
  }
}

const options: ControllerOptions = {
  nodeId: 1,
  brokerIds: () => [1],
  defaultNumPartitions: () => 3,
  defaultReplicationFactor: () => 1,
  topicConfigProblem: (name, value) => (name === 'retention.ms' && value !== null && /^-?\d+$/.test(value) ? null : `bad ${name}`),
  nowMs: () => 1_700_000_000_000,
};

function controllerOn(store: MemoryStore): MetadataController {
  const c = new MetadataController(new MetadataLog(store), options);
  c.load();
  return c;
}

function codeOf(fn: () => unknown): number {
  try {
    fn();
  } catch (e) {
    if (e instanceof KafkaError) return e.code;
    throw e;
  }
  return ErrorCode.NONE;
}

const topic = (name: string, extra: Partial<Parameters<MetadataController['createTopic']>[0]> = {}) => ({
  name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [], ...extra,
});

test('a created topic survives replay of the metadata log with its id, partitions and configs', () => {
  const store = new MemoryStore();
  const c = controllerOn(store);
  const created = c.createTopic(topic('orders', { configs: [{ name: 'retention.ms', value: '1000' }] }), false);
  assert.equal(created.partitions, 3);
  const replayed = controllerOn(store);
  const t = replayed.image.topicsByName.get('orders')!;
  assert.equal(t.topicId, created.topicId);
  assert.equal(t.partitions.length, 3);
  assert.deepEqual(t.partitions[2]!.replicas, [1]);
  assert.equal(t.configs.get('retention.ms'), '1000');
});

test('validateOnly creates nothing and writes nothing', () => {
  const store = new MemoryStore();
  const c = controllerOn(store);
  const written = store.batches.length;
  c.createTopic(topic('dry'), true);
  assert.equal(c.image.topicsByName.size, 0);
  assert.equal(store.batches.length, written);
});

test('creation errors use Kafka codes', () => {
  const c = controllerOn(new MemoryStore());
  c.createTopic(topic('a.b'), false);
  assert.equal(codeOf(() => c.createTopic(topic('a.b'), false)), ErrorCode.TOPIC_ALREADY_EXISTS);
  assert.equal(codeOf(() => c.createTopic(topic('a_b'), false)), ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal(codeOf(() => c.createTopic(topic('bad name'), false)), ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal(codeOf(() => c.createTopic(topic('x', { numPartitions: 0 }), false)), ErrorCode.INVALID_PARTITIONS);
  assert.equal(codeOf(() => c.createTopic(topic('x', { replicationFactor: 3 }), false)), ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.equal(codeOf(() => c.createTopic(topic('x', { configs: [{ name: 'retention.ms', value: 'soon' }] }), false)), ErrorCode.INVALID_CONFIG);
  assert.equal(
    codeOf(() => c.createTopic(topic('x', { assignments: [{ partitionIndex: 0, brokerIds: [2] }] }), false)),
    ErrorCode.INVALID_REPLICA_ASSIGNMENT,
  );
});

test('deleted topics stay deleted after replay; partitions only grow', () => {
  const store = new MemoryStore();
  const c = controllerOn(store);
  c.createTopic(topic('gone'), false);
  c.createTopic(topic('grows', { numPartitions: 1 }), false);
  c.deleteTopic(c.image.topicsByName.get('gone')!);
  const grows = c.image.topicsByName.get('grows')!;
  assert.equal(c.createPartitions([{ topic: grows, count: 1, assignments: null }], false)[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.equal(c.createPartitions([{ topic: grows, count: 4, assignments: null }], false)[0]!.errorCode, ErrorCode.NONE);
  const replayed = controllerOn(store);
  assert.equal(replayed.image.topicsByName.has('gone'), false);
  assert.equal(replayed.image.topicsByName.get('grows')!.partitions.length, 4);
});

test('producer ids are never handed out twice, across restarts', () => {
  const store = new MemoryStore();
  const first = controllerOn(store);
  const a = first.allocateProducerId();
  const b = first.allocateProducerId();
  assert.notEqual(a, b);
  const second = controllerOn(store);
  const c = second.allocateProducerId();
  assert.ok(c > b, `${c} should be above ${b}`);
});

test('many topics in one request are one append; more than 10,000 records are refused whole', () => {
  const store = new MemoryStore();
  const c = controllerOn(store);
  const bootstrap = store.batches.length; // the feature levels a new log starts with
  const results = c.createTopics([topic('m1'), topic('m2'), topic('m.3'), topic('m_3')], false);
  assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE, ErrorCode.INVALID_TOPIC_EXCEPTION], 'names colliding within one request are refused too');
  assert.equal(store.batches.length, bootstrap + 1);
  const huge = c.createTopics([topic('ok'), topic('huge', { numPartitions: 20_000 })], false);
  assert.deepEqual(huge.map((r) => [r.errorCode, r.errorMessage]), [
    [ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
    [ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
  ]);
  const split = c.createTopics(Array.from({ length: 2_600 }, (_, i) => topic(`s${i}`)), false);
  assert.ok(split.every((r) => r.errorCode === ErrorCode.POLICY_VIOLATION), '2,600 topics of 3 partitions are 10,400 records');
  assert.equal(c.image.topicsByName.has('ok'), false);
  assert.equal(store.batches.length, bootstrap + 1, 'nothing written for refused requests');
  const grows = c.image.topicsByName.get('m1')!;
  assert.equal(c.createPartitions([{ topic: grows, count: 10_004, assignments: null }], false)[0]!.errorCode, ErrorCode.POLICY_VIOLATION);
});

test('the mutation quota refuses topics once it says no, charging each topic its partitions', () => {
  const c = controllerOn(new MemoryStore());
  const asked: number[] = [];
  let budget = 3;
  const quota = { tryRecord: (n: number) => { asked.push(n); if (budget < 0) return false; budget -= n; return true; } };
  const results = c.createTopics([topic('q1'), topic('q2', { numPartitions: 1 }), topic('q3')], false, quota);
  assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.THROTTLING_QUOTA_EXCEEDED]);
  assert.equal(results[2]!.errorMessage, 'The throttling quota has been exceeded.');
  assert.deepEqual(asked, [3, 1, 3]);
  assert.equal(c.image.topicsByName.has('q3'), false);
  assert.deepEqual(c.deleteTopics([c.image.topicsByName.get('q1')!], quota).map((r) => r.errorCode), [ErrorCode.THROTTLING_QUOTA_EXCEEDED]);
  assert.equal(c.image.topicsByName.has('q1'), true);
  c.createTopics([topic('dry')], true, { tryRecord: () => assert.fail('validateOnly charges nothing') });
});

test('a transaction left unfinished by a crash is not in the image after a restart', () => {
  const store = new MemoryStore(16 * 1024);
  const c = controllerOn(store);
  c.createTopic(topic('kept'), false);
  c.createTopic(topic('big', { numPartitions: 2_000 }), false);
  const batches = store.batches.length;
  assert.ok(batches > 3, `2,000 partitions in 16 KiB batches are a multi-batch transaction (${batches} batches)`);
  store.batches.splice(batches - 1); // the crash lost the last batch, with the EndTransactionRecord
  const restarted = controllerOn(store);
  assert.deepEqual([...restarted.image.topicsByName.keys()], ['kept']);
  restarted.createTopic(topic('later'), false);
  assert.deepEqual([...controllerOn(store).image.topicsByName.keys()], ['kept', 'later']);
});

test('a large change encoded in slices is planned again when another change took its name meanwhile', async () => {
  const store = new MemoryStore();
  const c = controllerOn(store);
  let pauses = 0;
  let raced = false;
  const pause = async () => {
    pauses++;
    // While the big topic is being encoded, another request creates the same name.
    if (!raced) {
      raced = true;
      c.createTopic(topic('contested', { numPartitions: 1 }), false);
    }
  };
  const [result] = await c.createTopicsInSlices([topic('contested', { numPartitions: 5000 })], false, UNLIMITED_MUTATIONS, pause);
  assert.ok(pauses > 0);
  assert.equal(result!.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
  assert.equal(controllerOn(store).image.topicsByName.get('contested')!.partitions.length, 1, 'the first creation stands, alone');
  const [grown] = await c.createTopicsInSlices([topic('uncontested', { numPartitions: 5000 })], false, UNLIMITED_MUTATIONS, async () => {});
  assert.equal(grown!.errorCode, ErrorCode.NONE);
  assert.equal(controllerOn(store).image.topicsByName.get('uncontested')!.partitions.length, 5000);
});

const features = (c: MetadataController) => Object.fromEntries(c.image.finalizedFeatures);
const update = (feature: string, level: number, upgradeType: number = UpgradeType.UPGRADE) => ({ feature, level, upgradeType });
function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof KafkaError) return `${e.code} ${e.detail}`;
    throw e;
  }
  return 'none';
}

test('a new metadata log starts with metadata.version 4.2-IV1 and group.version 1 as FeatureLevelRecords; the epoch is the last offset', () => {
  const store = new MemoryStore();
  const c = controllerOn(store);
  assert.deepEqual(features(c), { 'metadata.version': LATEST_METADATA_VERSION, 'group.version': 1 });
  assert.equal(LATEST_METADATA_VERSION, 29);
  assert.equal(c.finalizedFeaturesEpoch, 1n, 'two records at offsets 0 and 1');
  const records: { record: MetadataRecord; offset: bigint }[] = [];
  new MetadataLog(store).replay((record, offset) => records.push({ record, offset }));
  assert.deepEqual(records.map((r) => [r.record.type, r.offset]), [[MetadataRecordType.FeatureLevelRecord, 0n], [MetadataRecordType.FeatureLevelRecord, 1n]]);
  c.createTopic(topic('t'), false);
  assert.equal(c.finalizedFeaturesEpoch, 5n, 'topic record and three partitions');
  const again = controllerOn(store);
  assert.deepEqual(features(again), features(c));
  assert.equal(again.finalizedFeaturesEpoch, 5n);
  assert.equal(store.batches.length, 2, 'a log that has the levels is not bootstrapped again');
});

test('a log from before feature levels gets the bootstrap levels on load, keeping its records', () => {
  const store = new MemoryStore();
  new MetadataLog(store).append([{ type: MetadataRecordType.TopicRecord, version: 0, data: { name: 'old', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' } }], 0);
  const c = controllerOn(store);
  assert.ok(c.image.topicsByName.has('old'));
  assert.deepEqual(features(c), { 'metadata.version': 29, 'group.version': 1 });
  assert.equal(c.finalizedFeaturesEpoch, 2n);
});

test('feature updates within the supported range are recorded and survive replay; level 0 removes the feature', () => {
  const store = new MemoryStore();
  const c = controllerOn(store);
  c.updateFeatures([update('group.version', 0, UpgradeType.SAFE_DOWNGRADE), update('metadata.version', 25, UpgradeType.SAFE_DOWNGRADE)], false);
  assert.deepEqual(features(c), { 'metadata.version': 25 });
  assert.deepEqual(features(controllerOn(store)), { 'metadata.version': 25 });
  c.updateFeatures([update('group.version', 1), update('metadata.version', 29)], false);
  assert.deepEqual(features(controllerOn(store)), { 'metadata.version': 29, 'group.version': 1 });
  const written = store.batches.length;
  c.updateFeatures([update('group.version', 0, UpgradeType.SAFE_DOWNGRADE)], true);
  assert.equal(store.batches.length, written, 'validateOnly writes nothing');
  assert.deepEqual(features(c), { 'metadata.version': 29, 'group.version': 1 });
});

test('feature updates outside the rules are refused whole, with Kafka\'s INVALID_UPDATE_VERSION messages', () => {
  const store = new MemoryStore();
  const c = controllerOn(store);
  const written = store.batches.length;
  const E = ErrorCode.INVALID_UPDATE_VERSION;
  assert.equal(messageOf(() => c.updateFeatures([update('transaction.version', 2)], false)), `${E} Invalid update version 2 for feature transaction.version. Local controller 1 does not support this feature.`);
  assert.equal(messageOf(() => c.updateFeatures([update('share.version', 1)], false)), `${E} Invalid update version 1 for feature share.version. Local controller 1 does not support this feature.`);
  assert.equal(messageOf(() => c.updateFeatures([update('no.such.feature', 1)], false)), `${E} Invalid update version 1 for feature no.such.feature. Local controller 1 does not support this feature.`);
  assert.equal(messageOf(() => c.updateFeatures([update('metadata.version', 30)], false)), `${E} Invalid update version 30 for feature metadata.version. Local controller 1 only supports versions 7-29.`);
  assert.equal(messageOf(() => c.updateFeatures([update('group.version', 0)], false)), `${E} Invalid update version 0 for feature group.version. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.`);
  assert.equal(messageOf(() => c.updateFeatures([update('group.version', 2, UpgradeType.SAFE_DOWNGRADE)], false)), `${E} Invalid update version 2 for feature group.version. Local controller 1 only supports versions 0-1.`);
  assert.equal(messageOf(() => c.updateFeatures([update('metadata.version', 21, UpgradeType.SAFE_DOWNGRADE)], false)), `${E} Invalid update version 21 for feature metadata.version. Refusing to perform the requested downgrade because it might delete metadata information.`);
  assert.equal(messageOf(() => c.updateFeatures([update('metadata.version', 21, UpgradeType.UNSAFE_DOWNGRADE)], false)), `${E} Invalid update version 21 for feature metadata.version. Unsafe metadata downgrade is not supported in this version.`);
  assert.equal(messageOf(() => c.updateFeatures([update('group.version', 1, 7)], false)), `${E} Invalid update version 1 for feature group.version. The controller does not support the given upgrade type.`);
  // All or nothing: the valid first update is not applied when the second fails.
  assert.equal(codeOf(() => c.updateFeatures([update('group.version', 0, UpgradeType.SAFE_DOWNGRADE), update('kraft.version', 1)], false)), E);
  assert.deepEqual(features(c), { 'metadata.version': 29, 'group.version': 1 });
  assert.equal(store.batches.length, written);
});
