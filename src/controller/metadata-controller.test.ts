import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../protocol/errors.js';
import { MetadataController, type ControllerOptions } from './metadata-controller.js';
import { MetadataLog } from './metadata-log.js';
import { MemoryStore } from './test-memory-metadata-store.js';
import { LocalMetadataLogClient } from './metadata-log-client.js';
import { LATEST_METADATA_VERSION, UpgradeType } from '../metadata/features.js';
import { MetadataRecordType, type MetadataRecord } from '../metadata/records.js';
import type { CreatedTopic, ItemResult, NewTopic } from '../metadata/controller-channel.js';

const options: ControllerOptions = {
  nodeId: 1,
  brokerIds: () => [1],
  defaultNumPartitions: () => 3,
  defaultReplicationFactor: () => 1,
  topicConfigProblem: (name, value) => (name === 'retention.ms' && value !== null && /^-?\d+$/.test(value) ? null : `bad ${name}`),
  nowMs: () => 1_700_000_000_000,
};

async function controllerOn(store: MemoryStore, pause: () => Promise<void> = async () => {}): Promise<MetadataController> {
  const c = new MetadataController(new LocalMetadataLogClient(new MetadataLog(store), pause), options);
  await c.load();
  return c;
}

const topic = (name: string, extra: Partial<NewTopic> = {}): NewTopic => ({
  name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [], ...extra,
});

/** Creates one topic; its result. */
async function create(c: MetadataController, t: NewTopic, validateOnly = false): Promise<ItemResult<CreatedTopic>> {
  const [result] = await c.createTopics([t], validateOnly);
  return result!;
}

async function created(c: MetadataController, t: NewTopic): Promise<CreatedTopic> {
  const result = await create(c, t);
  assert.equal(result.errorCode, ErrorCode.NONE, result.errorMessage ?? '');
  return result.value!;
}

async function codeOf(result: Promise<ItemResult<unknown>>): Promise<number> {
  return (await result).errorCode;
}

test('a created topic survives replay of the metadata log with its id, partitions and configs', async () => {
  const store = new MemoryStore();
  const c = await controllerOn(store);
  const orders = await created(c, topic('orders', { configs: [{ name: 'retention.ms', value: '1000' }] }));
  assert.equal(orders.partitions, 3);
  const replayed = await controllerOn(store);
  const t = replayed.image.topicsByName.get('orders')!;
  assert.equal(t.topicId, orders.topicId);
  assert.equal(t.partitions.length, 3);
  assert.deepEqual(t.partitions[2]!.replicas, [1]);
  assert.equal(t.configs.get('retention.ms'), '1000');
});

test('validateOnly creates nothing and writes nothing', async () => {
  const store = new MemoryStore();
  const c = await controllerOn(store);
  const written = store.batches.length;
  assert.equal(await codeOf(create(c, topic('dry'), true)), ErrorCode.NONE);
  assert.equal(c.image.topicsByName.size, 0);
  assert.equal(store.batches.length, written);
});

test('creation errors use Kafka codes', async () => {
  const c = await controllerOn(new MemoryStore());
  await created(c, topic('a.b'));
  assert.equal(await codeOf(create(c, topic('a.b'))), ErrorCode.TOPIC_ALREADY_EXISTS);
  assert.equal(await codeOf(create(c, topic('a_b'))), ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal(await codeOf(create(c, topic('bad name'))), ErrorCode.INVALID_TOPIC_EXCEPTION);
  assert.equal(await codeOf(create(c, topic('x', { numPartitions: 0 }))), ErrorCode.INVALID_PARTITIONS);
  assert.equal(await codeOf(create(c, topic('x', { replicationFactor: 3 }))), ErrorCode.INVALID_REPLICATION_FACTOR);
  assert.equal(await codeOf(create(c, topic('x', { configs: [{ name: 'retention.ms', value: 'soon' }] }))), ErrorCode.INVALID_CONFIG);
  assert.equal(
    await codeOf(create(c, topic('x', { assignments: [{ partitionIndex: 0, brokerIds: [2] }] }))),
    ErrorCode.INVALID_REPLICA_ASSIGNMENT,
  );
});

test('deleted topics stay deleted after replay; partitions only grow', async () => {
  const store = new MemoryStore();
  const c = await controllerOn(store);
  const gone = await created(c, topic('gone'));
  await created(c, topic('grows', { numPartitions: 1 }));
  assert.equal((await c.deleteTopics([{ name: 'gone', topicId: gone.topicId }]))[0]!.errorCode, ErrorCode.NONE);
  assert.equal((await c.deleteTopics([{ name: 'gone', topicId: gone.topicId }]))[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_ID);
  assert.equal((await c.createPartitions([{ topic: 'grows', count: 1, assignments: null }], false))[0]!.errorCode, ErrorCode.INVALID_PARTITIONS);
  assert.equal((await c.createPartitions([{ topic: 'grows', count: 4, assignments: null }], false))[0]!.errorCode, ErrorCode.NONE);
  assert.equal((await c.createPartitions([{ topic: 'nope', count: 4, assignments: null }], false))[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  const replayed = await controllerOn(store);
  assert.equal(replayed.image.topicsByName.has('gone'), false);
  assert.equal(replayed.image.topicsByName.get('grows')!.partitions.length, 4);
});

test('producer ids are never handed out twice, across restarts', async () => {
  const store = new MemoryStore();
  const first = await controllerOn(store);
  const [a, b] = (await Promise.all([first.allocateProducerId(), first.allocateProducerId()])).map((r) => r.value!);
  assert.notEqual(a, b);
  const second = await controllerOn(store);
  const c = (await second.allocateProducerId()).value!;
  assert.ok(c > b, `${c} should be above ${b}`);
});

test('many topics in one request are one append; more than 10,000 records are refused whole', async () => {
  const store = new MemoryStore();
  const c = await controllerOn(store);
  const bootstrap = store.batches.length; // the feature levels a new log starts with
  const results = await c.createTopics([topic('m1'), topic('m2'), topic('m.3'), topic('m_3')], false);
  assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.NONE, ErrorCode.INVALID_TOPIC_EXCEPTION], 'names colliding within one request are refused too');
  assert.equal(store.batches.length, bootstrap + 1);
  const huge = await c.createTopics([topic('ok'), topic('huge', { numPartitions: 20_000 })], false);
  assert.deepEqual(huge.map((r) => [r.errorCode, r.errorMessage]), [
    [ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
    [ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
  ]);
  const split = await c.createTopics(Array.from({ length: 2_600 }, (_, i) => topic(`s${i}`)), false);
  assert.ok(split.every((r) => r.errorCode === ErrorCode.POLICY_VIOLATION), '2,600 topics of 3 partitions are 10,400 records');
  assert.equal(c.image.topicsByName.has('ok'), false);
  assert.equal(store.batches.length, bootstrap + 1, 'nothing written for refused requests');
  assert.equal((await c.createPartitions([{ topic: 'm1', count: 10_004, assignments: null }], false))[0]!.errorCode, ErrorCode.POLICY_VIOLATION);
});

test('the mutation quota refuses topics once it says no, charging each topic its partitions', async () => {
  const c = await controllerOn(new MemoryStore());
  const asked: number[] = [];
  let budget = 3;
  const quota = { tryRecord: (n: number) => { asked.push(n); if (budget < 0) return false; budget -= n; return true; } };
  const results = await c.createTopics([topic('q1'), topic('q2', { numPartitions: 1 }), topic('q3')], false, quota);
  assert.deepEqual(results.map((r) => r.errorCode), [ErrorCode.NONE, ErrorCode.NONE, ErrorCode.THROTTLING_QUOTA_EXCEEDED]);
  assert.equal(results[2]!.errorMessage, 'The throttling quota has been exceeded.');
  assert.deepEqual(asked, [3, 1, 3]);
  assert.equal(c.image.topicsByName.has('q3'), false);
  const q1 = c.image.topicsByName.get('q1')!;
  assert.deepEqual((await c.deleteTopics([{ name: q1.name, topicId: q1.topicId }], quota)).map((r) => r.errorCode), [ErrorCode.THROTTLING_QUOTA_EXCEEDED]);
  assert.equal(c.image.topicsByName.has('q1'), true);
  await c.createTopics([topic('dry')], true, { tryRecord: () => assert.fail('validateOnly charges nothing') });
});

test('a transaction left unfinished by a crash is not in the image after a restart', async () => {
  const store = new MemoryStore(16 * 1024);
  const c = await controllerOn(store);
  await created(c, topic('kept'));
  await created(c, topic('big', { numPartitions: 2_000 }));
  const batches = store.batches.length;
  assert.ok(batches > 3, `2,000 partitions in 16 KiB batches are a multi-batch transaction (${batches} batches)`);
  store.batches.splice(batches - 1); // the crash lost the last batch, with the EndTransactionRecord
  const restarted = await controllerOn(store);
  assert.deepEqual([...restarted.image.topicsByName.keys()], ['kept']);
  await created(restarted, topic('later'));
  assert.deepEqual([...(await controllerOn(store)).image.topicsByName.keys()], ['kept', 'later']);
});

test('a creation of a name while a large creation of it is being encoded in slices: exactly one wins', async () => {
  const store = new MemoryStore();
  let small: Promise<ItemResult<CreatedTopic>> | null = null;
  let pauses = 0;
  const c: MetadataController = await controllerOn(store, async () => {
    pauses++;
    // While the big topic is being encoded, another request creates the same name.
    small ??= create(c, topic('contested', { numPartitions: 1 }));
  });
  const big = await create(c, topic('contested', { numPartitions: 5000 }));
  const other = await small!;
  assert.ok(pauses > 0);
  const codes = [big.errorCode, other.errorCode].sort((x, y) => x - y);
  assert.deepEqual(codes, [ErrorCode.NONE, ErrorCode.TOPIC_ALREADY_EXISTS].sort((x, y) => x - y));
  const winner = big.errorCode === ErrorCode.NONE ? 5000 : 1;
  assert.equal((await controllerOn(store)).image.topicsByName.get('contested')!.partitions.length, winner, 'the winner stands, alone');
  assert.equal(c.image.topicsByName.get('contested')!.partitions.length, winner);
});

const features = (c: MetadataController) => Object.fromEntries(c.image.finalizedFeatures);
const update = (feature: string, level: number, upgradeType: number = UpgradeType.UPGRADE) => ({ feature, level, upgradeType });
async function messageOf(result: Promise<ItemResult>): Promise<string> {
  const r = await result;
  return r.errorCode === ErrorCode.NONE ? 'none' : `${r.errorCode} ${r.errorMessage}`;
}

test('a new metadata log starts with metadata.version 4.2-IV1 and group.version 1 as FeatureLevelRecords; the epoch is the last offset', async () => {
  const store = new MemoryStore();
  const c = await controllerOn(store);
  assert.deepEqual(features(c), { 'metadata.version': LATEST_METADATA_VERSION, 'group.version': 1 });
  assert.equal(LATEST_METADATA_VERSION, 29);
  assert.equal(c.finalizedFeaturesEpoch, 1n, 'two records at offsets 0 and 1');
  const records: { record: MetadataRecord; offset: bigint }[] = [];
  new MetadataLog(store).replay((record, offset) => records.push({ record, offset }));
  assert.deepEqual(records.map((r) => [r.record.type, r.offset]), [[MetadataRecordType.FeatureLevelRecord, 0n], [MetadataRecordType.FeatureLevelRecord, 1n]]);
  await created(c, topic('t'));
  assert.equal(c.finalizedFeaturesEpoch, 5n, 'topic record and three partitions');
  const again = await controllerOn(store);
  assert.deepEqual(features(again), features(c));
  assert.equal(again.finalizedFeaturesEpoch, 5n);
  assert.equal(store.batches.length, 2, 'a log that has the levels is not bootstrapped again');
});

test('a log from before feature levels gets the bootstrap levels on load, keeping its records', async () => {
  const store = new MemoryStore();
  new MetadataLog(store).append([{ type: MetadataRecordType.TopicRecord, version: 0, data: { name: 'old', topicId: 'AAAAAAAAAAAAAAAAAAAAAQ' } }], 0);
  const c = await controllerOn(store);
  assert.ok(c.image.topicsByName.has('old'));
  assert.deepEqual(features(c), { 'metadata.version': 29, 'group.version': 1 });
  assert.equal(c.finalizedFeaturesEpoch, 2n);
});

test('feature updates within the supported range are recorded and survive replay; level 0 removes the feature', async () => {
  const store = new MemoryStore();
  const c = await controllerOn(store);
  await c.updateFeatures([update('group.version', 0, UpgradeType.SAFE_DOWNGRADE), update('metadata.version', 25, UpgradeType.SAFE_DOWNGRADE)], false);
  assert.deepEqual(features(c), { 'metadata.version': 25 });
  assert.deepEqual(features(await controllerOn(store)), { 'metadata.version': 25 });
  await c.updateFeatures([update('group.version', 1), update('metadata.version', 29)], false);
  assert.deepEqual(features(await controllerOn(store)), { 'metadata.version': 29, 'group.version': 1 });
  const written = store.batches.length;
  await c.updateFeatures([update('group.version', 0, UpgradeType.SAFE_DOWNGRADE)], true);
  assert.equal(store.batches.length, written, 'validateOnly writes nothing');
  assert.deepEqual(features(c), { 'metadata.version': 29, 'group.version': 1 });
});

test('feature updates outside the rules are refused whole, with Kafka\'s INVALID_UPDATE_VERSION messages', async () => {
  const store = new MemoryStore();
  const c = await controllerOn(store);
  const written = store.batches.length;
  const E = ErrorCode.INVALID_UPDATE_VERSION;
  assert.equal(await messageOf(c.updateFeatures([update('transaction.version', 2)], false)), `${E} Invalid update version 2 for feature transaction.version. Local controller 1 does not support this feature.`);
  assert.equal(await messageOf(c.updateFeatures([update('share.version', 1)], false)), `${E} Invalid update version 1 for feature share.version. Local controller 1 does not support this feature.`);
  assert.equal(await messageOf(c.updateFeatures([update('no.such.feature', 1)], false)), `${E} Invalid update version 1 for feature no.such.feature. Local controller 1 does not support this feature.`);
  assert.equal(await messageOf(c.updateFeatures([update('metadata.version', 30)], false)), `${E} Invalid update version 30 for feature metadata.version. Local controller 1 only supports versions 7-29.`);
  assert.equal(await messageOf(c.updateFeatures([update('group.version', 0)], false)), `${E} Invalid update version 0 for feature group.version. Can't downgrade the version of this feature without setting the upgrade type to either safe or unsafe downgrade.`);
  assert.equal(await messageOf(c.updateFeatures([update('group.version', 2, UpgradeType.SAFE_DOWNGRADE)], false)), `${E} Invalid update version 2 for feature group.version. Local controller 1 only supports versions 0-1.`);
  assert.equal(await messageOf(c.updateFeatures([update('metadata.version', 21, UpgradeType.SAFE_DOWNGRADE)], false)), `${E} Invalid update version 21 for feature metadata.version. Refusing to perform the requested downgrade because it might delete metadata information.`);
  assert.equal(await messageOf(c.updateFeatures([update('metadata.version', 21, UpgradeType.UNSAFE_DOWNGRADE)], false)), `${E} Invalid update version 21 for feature metadata.version. Unsafe metadata downgrade is not supported in this version.`);
  assert.equal(await messageOf(c.updateFeatures([update('group.version', 1, 7)], false)), `${E} Invalid update version 1 for feature group.version. The controller does not support the given upgrade type.`);
  // All or nothing: the valid first update is not applied when the second fails.
  assert.equal(await codeOf(c.updateFeatures([update('group.version', 0, UpgradeType.SAFE_DOWNGRADE), update('kraft.version', 1)], false)), E);
  assert.deepEqual(features(c), { 'metadata.version': 29, 'group.version': 1 });
  assert.equal(store.batches.length, written);
});
