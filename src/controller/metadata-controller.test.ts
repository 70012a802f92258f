import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { MetadataController, type ControllerOptions } from './metadata-controller.js';
import { MetadataLog, type MetadataLogStore } from './metadata-log.js';

class MemoryStore implements MetadataLogStore {
  readonly batches: Buffer[] = [];
  constructor(readonly maxBatchBytes = 1024 * 1024) {}
  append(batch: Buffer): number {
    this.batches.push(Buffer.from(batch));
    return this.batches.length - 1;
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
  c.createTopic(topic('dry'), true);
  assert.equal(c.image.topicsByName.size, 0);
  assert.equal(store.batches.length, 0);
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
  assert.equal(codeOf(() => c.createPartitions(grows, 1, null, false)), ErrorCode.INVALID_PARTITIONS);
  c.createPartitions(grows, 4, null, false);
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
