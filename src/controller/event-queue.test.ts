import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../protocol/errors.js';
import { readBatchHeader } from '../protocol/records/batch-header.js';
import type { NewTopic } from '../metadata/controller-channel.js';
import { applyRecords } from '../metadata/delta.js';
import { MetadataImage } from '../metadata/image.js';
import type { MetadataRecord } from '../metadata/records.js';
import { newTopicId } from '../metadata/topic-names.js';
import { MetadataController, type ControllerOptions } from './metadata-controller.js';
import { LocalMetadataLogClient, type MetadataLogClient } from './metadata-log-client.js';
import { MetadataLog, type MetadataLogStore, type MetadataReplayEnd } from './metadata-log.js';
import { planCreatePartitions, planCreateTopics, type PlannerContext } from './planner.js';
import { ControllerEventQueue, type ControllerOperation } from './event-queue.js';

const topic = (name: string, extra: Partial<NewTopic> = {}): NewTopic => ({ name, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [], ...extra });

/** Topic ids from a counter: the same sequence for every context made by it. */
function contextWithIds(): PlannerContext {
  let next = 0;
  return {
    nodeId: 1,
    brokerIds: [1],
    defaultNumPartitions: () => 3,
    defaultReplicationFactor: () => 1,
    topicConfigProblem: (name) => (name === 'retention.ms' ? null : `unknown ${name}`),
    newTopicId: () => `topic-id-${next++}`,
  };
}

test('the planner is pure: the same image and request give the same records, and the image is left alone', () => {
  const image = applyRecords(MetadataImage.EMPTY, [{ type: 2, version: 0, data: { name: 'existing', topicId: 'e' } }]);
  const request = [topic('a', { configs: [{ name: 'retention.ms', value: '5' }] }), topic('existing'), topic('b')];
  const first = planCreateTopics(image, request, contextWithIds());
  const second = planCreateTopics(image, request, contextWithIds());
  assert.deepEqual(first, second);
  assert.ok('items' in first);
  assert.equal((first.items[1] as { code: number }).code, ErrorCode.TOPIC_ALREADY_EXISTS);
  assert.deepEqual([...image.topicsByName.keys()], ['existing'], 'planning applies nothing');
  const grow = [{ topic: 'existing', count: 3, assignments: null }];
  assert.deepEqual(planCreatePartitions(image, grow, contextWithIds()), planCreatePartitions(image, grow, contextWithIds()));
});

/** A log client whose commits the test releases (or fails) one by one. */
class ManualLogClient implements MetadataLogClient {
  readonly proposals: { epoch: number; records: readonly MetadataRecord[]; commit: () => void; fail: (err: Error) => void }[] = [];
  readonly committed: MetadataRecord[] = [];
  private offset = -1n;

  replay(apply: (record: MetadataRecord) => void): MetadataReplayEnd {
    for (const r of this.committed) apply(r);
    return { applied: this.committed.length, unfinishedTransaction: false, lastOffset: this.offset };
  }

  propose(epoch: number, records: readonly MetadataRecord[]): Promise<bigint> {
    return new Promise<bigint>((resolve, reject) => {
      this.proposals.push({
        epoch,
        records,
        commit: () => {
          this.committed.push(...records);
          this.offset += BigInt(records.length);
          resolve(this.offset);
        },
        fail: reject,
      });
    });
  }

  /** The oldest proposal not yet released. */
  next() {
    const p = this.proposals.shift();
    assert.ok(p !== undefined, 'a proposal is waiting');
    return p;
  }
}

const options: ControllerOptions = {
  nodeId: 1,
  brokerIds: () => [1],
  defaultNumPartitions: () => 3,
  defaultReplicationFactor: () => 1,
  topicConfigProblem: () => null,
  nowMs: () => 0,
};

/** Lets every pending promise callback run. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

async function loaded(client: ManualLogClient): Promise<MetadataController> {
  const c = new MetadataController(client, options);
  const loading = c.load();
  await settle();
  client.next().commit(); // the bootstrap feature levels
  await loading;
  return c;
}

/** Whether `p` has settled by now. */
async function isSettled(p: Promise<unknown>): Promise<boolean> {
  let done = false;
  void p.then(() => (done = true), () => (done = true));
  await settle();
  return done;
}

test('two concurrent creations of one topic with delayed commits: exactly one succeeds, the other gets TOPIC_ALREADY_EXISTS', async () => {
  const client = new ManualLogClient();
  const c = await loaded(client);
  const first = c.createTopics([topic('same')], false);
  const second = c.createTopics([topic('same', { numPartitions: 5 })], false);
  await settle();
  assert.equal(client.proposals.length, 1, 'the second was planned against the pending image and writes nothing');
  assert.equal(await isSettled(second), false, 'the refusal waits for the change it refers to');
  client.next().commit();
  const [a, b] = [(await first)[0]!, (await second)[0]!];
  assert.equal(a.errorCode, ErrorCode.NONE);
  assert.equal(b.errorCode, ErrorCode.TOPIC_ALREADY_EXISTS);
  assert.equal(c.image.topicsByName.get('same')!.partitions.length, 2);
});

test('a change is neither answered nor published before its commit, and published before its answer', async () => {
  const client = new ManualLogClient();
  const c = await loaded(client);
  const seen: string[] = [];
  c.publisher.subscribe(({ image }) => seen.push(`published:${image.topicsByName.has('t')}`));
  const answer = c.createTopics([topic('t')], false).then((r) => {
    seen.push(`answered:${r[0]!.errorCode}`);
    return r;
  });
  await settle();
  assert.equal(await isSettled(answer), false);
  assert.equal(c.image.topicsByName.has('t'), false, 'the committed image does not have it yet');
  assert.deepEqual(seen, []);
  client.next().commit();
  await answer;
  assert.deepEqual(seen, ['published:true', `answered:${ErrorCode.NONE}`]);
  assert.equal(c.finalizedFeaturesEpoch, c.publisher.offset);
});

test('a failed append answers KAFKA_STORAGE_ERROR, applies nothing, fails the changes planned on top of it, and the next change succeeds', async () => {
  const client = new ManualLogClient();
  const c = await loaded(client);
  const offsetBefore = c.publisher.offset;
  const failing = c.createTopics([topic('lost')], false);
  const dependent = c.createPartitions([{ topic: 'lost', count: 4, assignments: null }], false);
  await settle();
  assert.equal(client.proposals.length, 2, 'the growth was planned against the pending image, which has the topic');
  client.next().fail(new Error('EIO: i/o error, write'));
  const [lost] = await failing;
  assert.equal(lost!.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  assert.match(lost!.errorMessage ?? '', /EIO/);
  assert.equal((await dependent)[0]!.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  const stale = client.next();
  assert.equal(c.image.topicsByName.has('lost'), false);
  assert.equal(c.publisher.offset, offsetBefore);
  stale.commit(); // a client that wrote it anyway: the queue has already failed it and ignores it
  await settle();
  assert.equal(c.image.topicsByName.has('lost'), false);

  const next = c.createTopics([topic('lost', { numPartitions: 1 })], false);
  await settle();
  const proposal = client.next();
  assert.ok(proposal.epoch > stale.epoch, 'a failure starts a new epoch');
  proposal.commit();
  assert.equal((await next)[0]!.errorCode, ErrorCode.NONE);
  assert.equal(c.image.topicsByName.get('lost')!.partitions.length, 1, 'planned without the failed records');
});

/** Batches in memory, with offsets assigned as a partition log assigns them; appends can be made to fail. */
class MemoryStore implements MetadataLogStore {
  readonly batches: Buffer[] = [];
  readonly maxBatchBytes = 1024 * 1024;
  failNext = false;
  private nextOffset = 0;
  append(batches: readonly Buffer[]): number {
    if (this.failNext) {
      this.failNext = false;
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    }
    for (const batch of batches) {
      const copy = Buffer.from(batch);
      copy.writeBigInt64BE(BigInt(this.nextOffset), 0);
      this.nextOffset += readBatchHeader(copy, 0).lastOffsetDelta + 1;
      this.batches.push(copy);
    }
    return this.nextOffset;
  }
  readAll(): Iterable<Buffer> {
    return this.batches;
  }
}

async function onStore(store: MemoryStore): Promise<MetadataController> {
  const c = new MetadataController(new LocalMetadataLogClient(new MetadataLog(store), async () => {}), options);
  await c.load();
  return c;
}

test('on the local log: an append failure answers with an error and the next change succeeds', async () => {
  const store = new MemoryStore();
  const c = await onStore(store);
  store.failNext = true;
  const [failed] = await c.createTopics([topic('x')], false);
  assert.equal(failed!.errorCode, ErrorCode.KAFKA_STORAGE_ERROR);
  assert.match(failed!.errorMessage ?? '', /ENOSPC/);
  assert.equal(c.image.topicsByName.has('x'), false);
  const [ok] = await c.createTopics([topic('x')], false);
  assert.equal(ok!.errorCode, ErrorCode.NONE);
  assert.equal((await onStore(store)).image.topicsByName.get('x')!.partitions.length, 2);
});

test('a restart replays the log to the same image', async () => {
  const store = new MemoryStore();
  const c = await onStore(store);
  const changes = await Promise.all([
    c.createTopics([topic('a', { configs: [{ name: 'retention.ms', value: '9' }] }), topic('b')], false),
    c.createPartitions([{ topic: 'a', count: 5, assignments: null }], false),
    c.alterBrokerConfigs('', [{ name: 'log.retention.ms', value: '1000' }], false),
    c.allocateProducerId(),
    c.allocateProducerId(),
  ]);
  assert.ok(changes.flat().every((r) => r.errorCode === ErrorCode.NONE));
  const b = c.image.topicsByName.get('b')!;
  assert.equal((await c.deleteTopics([{ name: 'b', topicId: b.topicId }]))[0]!.errorCode, ErrorCode.NONE);
  const restarted = await onStore(store);
  const view = (image: MetadataImage) => ({
    topics: [...image.topicsByName.values()].map((t) => ({ ...t, configs: [...t.configs] })),
    ids: [...image.topicsById.keys()],
    brokerConfigs: [...image.brokerConfigs].map(([k, v]) => [k, [...v]]),
    features: [...image.finalizedFeatures],
    nextProducerId: image.nextProducerId,
  });
  assert.deepEqual(view(restarted.image), view(c.image));
  assert.equal(restarted.publisher.offset, c.publisher.offset);
  assert.equal(c.image.topicsByName.get('a')!.partitions.length, 5);
  const id = (await restarted.allocateProducerId()).value!;
  assert.ok(id >= 1000n, `a restarted controller reserves a new block (${id})`);
});

test('the queue is bounded: beyond maxInFlight changes wait unplanned, beyond maxQueued they are refused at once with REQUEST_TIMED_OUT', async () => {
  const client = new ManualLogClient();
  const published: bigint[] = [];
  const queue = new ControllerEventQueue({ log: client, nowMs: () => 0, onCommit: (_r, _i, offset) => published.push(offset), maxInFlight: 2, maxQueued: 1 }, MetadataImage.EMPTY, -1n);
  const op = (name: string): ControllerOperation<string> => ({
    plan: () => ({ records: [{ type: 2, version: 0, data: { name, topicId: `id-${name}` } }], answer: `created ${name}` }),
    failed: (err) => `failed ${name}: ${err.code}`,
  });
  const answers = [queue.submit(op('a')), queue.submit(op('b')), queue.submit(op('c')), queue.submit(op('d'))];
  await settle();
  assert.equal(client.proposals.length, 2, 'two in flight');
  assert.equal(await answers[3], `failed d: ${ErrorCode.REQUEST_TIMED_OUT}`, 'the fourth found the waiting room full');
  client.next().commit();
  await settle();
  assert.equal(client.proposals.length, 2, 'the third is proposed once the first is answered');
  client.next().commit();
  client.next().commit();
  assert.deepEqual(await Promise.all(answers.slice(0, 3)), ['created a', 'created b', 'created c']);
  assert.deepEqual(published, [0n, 1n, 2n]);
  assert.deepEqual([...queue.image.topicsByName.keys()], ['a', 'b', 'c']);
});

test('commits reported out of order are applied and answered in proposal order', async () => {
  const client = new ManualLogClient();
  const order: string[] = [];
  const queue = new ControllerEventQueue({ log: client, nowMs: () => 0, onCommit: (records) => order.push(`commit ${(records[0]!.data as { name: string }).name}`) }, MetadataImage.EMPTY, -1n);
  const op = (name: string): ControllerOperation<string> => ({
    plan: () => ({ records: [{ type: 2, version: 0, data: { name, topicId: `id-${name}` } }], answer: name }),
    failed: () => 'failed',
  });
  const first = queue.submit(op('first')).then((n) => order.push(`answer ${n}`));
  const second = queue.submit(op('second')).then((n) => order.push(`answer ${n}`));
  await settle();
  const [p1, p2] = [client.next(), client.next()];
  p2.commit();
  await settle();
  assert.equal(order.length, 0, 'the second waits for the first');
  p1.commit();
  await Promise.all([first, second]);
  assert.deepEqual(order.filter((e) => e.startsWith('commit')), ['commit first', 'commit second']);
  assert.deepEqual(order.filter((e) => e.startsWith('answer')), ['answer first', 'answer second']);
  for (const name of ['first', 'second']) assert.ok(order.indexOf(`commit ${name}`) < order.indexOf(`answer ${name}`), `${name} is published before it is answered`);
});

test('the local log client: after a failed append, the rest of that epoch is rejected unwritten and a new epoch writes again', async () => {
  const store = new MemoryStore();
  const client = new LocalMetadataLogClient(new MetadataLog(store), async () => {});
  const record = (name: string): MetadataRecord => ({ type: 2, version: 0, data: { name, topicId: newTopicId() } });
  store.failNext = true;
  const failed = client.propose(0, [record('a')], 0);
  const dependent = client.propose(0, [record('b')], 0);
  await assert.rejects(failed, /ENOSPC/);
  await assert.rejects(dependent, (err: { code?: number }) => err.code === ErrorCode.NOT_CONTROLLER);
  assert.equal(store.batches.length, 0, 'nothing of the epoch was written');
  assert.equal(await client.propose(1, [record('c')], 0), 0n);
  const replayed: string[] = [];
  client.replay((r) => replayed.push((r.data as { name: string }).name));
  assert.deepEqual(replayed, ['c']);
});
