// Our client across leader changes. The broker is single-node, so a proxy (LeaderSwitchProxy)
// poses as brokers 1 and 2 in front of one in-process broker and moves the leadership of every
// partition between them; the node that does not lead answers NOT_LEADER_OR_FOLLOWER. Records
// are read back from the real broker directly, so the proxy cannot hide a loss or duplicate.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Broker } from '../../src/node/broker.js';
import { Admin, Consumer, Producer, type ConsumerRecord } from '../../src/client/index.js';
import { Connection } from '../../src/client/connection.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { FetchRequest } from '../../src/protocol/messages/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/messages/FetchResponse.js';
import { ListOffsetsRequest } from '../../src/protocol/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../src/protocol/messages/ListOffsetsResponse.js';
import { MetadataRequest } from '../../src/protocol/messages/MetadataRequest.js';
import { MetadataResponse } from '../../src/protocol/messages/MetadataResponse.js';
import { LeaderSwitchProxy, type NodeId } from '../helpers/leader-switch-proxy.js';

const API_PRODUCE = 0;
const API_FETCH = 1;
const API_LIST_OFFSETS = 2;
const API_METADATA = 3;
const API_INIT_PRODUCER_ID = 22;
/** Bound on each test, so a client that hangs fails the test instead of the whole run. */
const TEST_TIMEOUT_MS = 45_000;
const FAST_RETRIES = { retryBackoffMs: 20, retryBackoffMaxMs: 200, requestTimeoutMs: 5000 } as const;

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Stops a reader loop and closes clients, each bounded; a failure here must not hide the test's
 * own failure nor leave a client running. */
async function shutDown(reader: Promise<void> | null, ...clients: { close(): Promise<void> }[]): Promise<void> {
  if (reader !== null) await within(5000, 'reader stops', reader).catch(() => undefined);
  for (const c of clients) await within(5000, 'close', c.close()).catch(() => undefined);
}

/** `done`, unless the reader loop failed: then its error fails the wait at once. */
function readerDone(readerError: unknown, done: boolean): boolean {
  if (readerError !== null) throw readerError;
  return done;
}

async function until(ms: number, what: string, cond: () => boolean): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`${what}: not reached within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Switches the leader `times` times, `everyMs` apart; resolves after the last switch. */
async function switchRepeatedly(proxy: LeaderSwitchProxy, times: number, everyMs: number): Promise<NodeId[]> {
  const path: NodeId[] = [proxy.leader];
  for (let i = 0; i < times; i++) {
    await new Promise((r) => setTimeout(r, everyMs));
    proxy.switchLeader();
    path.push(proxy.leader);
  }
  return path;
}

/** Like switchRepeatedly, but each switch cuts the old leader right after it answered a request
 * of `apiKey` (the answer is lost). */
async function failOverRepeatedly(proxy: LeaderSwitchProxy, times: number, everyMs: number, apiKey: number): Promise<NodeId[]> {
  const path: NodeId[] = [proxy.leader];
  for (let i = 0; i < times; i++) {
    await new Promise((r) => setTimeout(r, everyMs));
    await proxy.switchAfterNext(apiKey, 10_000);
    path.push(proxy.leader);
  }
  return path;
}

/** Every record of a topic, read straight from the real broker (not through the proxy). */
async function readAllDirect(bootstrap: string, topic: string, partitions: number, expected: number): Promise<ConsumerRecord[][]> {
  const consumer = new Consumer({ bootstrapServers: bootstrap, autoOffsetReset: 'earliest', maxWaitMs: 100 });
  consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
  const out: ConsumerRecord[][] = Array.from({ length: partitions }, () => []);
  let n = 0;
  try {
    const deadline = Date.now() + 15_000;
    while (n < expected && Date.now() < deadline) {
      for (const b of await consumer.poll({ timeoutMs: 200 })) {
        out[b.partition]!.push(...b.records);
        n += b.records.length;
      }
    }
  } finally {
    await consumer.close();
  }
  return out;
}

describe('client across leader changes (two-node proxy over one broker)', () => {
  let broker: Broker;
  let proxy: LeaderSwitchProxy;
  before(async () => {
    broker = await Broker.start({ inMemory: true, overrides: { 'group.initial.rebalance.delay.ms': '0' } });
    proxy = await LeaderSwitchProxy.start(broker.bootstrapServers);
  });
  after(async () => {
    await proxy?.close();
    await broker?.stop();
  });

  it('the proxy poses as two brokers: metadata names the leader and epoch, the other node refuses, stale epochs are fenced', { timeout: TEST_TIMEOUT_MS }, async () => {
    const admin = new Admin({ bootstrapServers: proxy.bootstrapServers, ...FAST_RETRIES });
    await admin.createTopics([{ topic: 'proxy-check', numPartitions: 1 }]);
    await admin.close();
    const follower: NodeId = proxy.leader === 1 ? 2 : 1;
    const conns = new Map<NodeId, Connection>();
    for (const node of [1, 2] as const) {
      const [host, port] = proxy.addressOf(node).split(':');
      conns.set(node, await Connection.connect({ host: host!, port: Number(port), nodeId: node }));
    }
    try {
      const md = await conns.get(follower)!.request({ request: MetadataRequest, response: MetadataResponse }, () => {
        const req = MetadataRequest.defaults();
        req.topics = [{ topicId: MetadataRequest.newStruct('MetadataRequestTopic').topicId, name: 'proxy-check' }];
        return req;
      });
      assert.deepEqual(md.brokers.map((b) => `${b.nodeId}@${b.host}:${b.port}`), [`1@${proxy.addressOf(1)}`, `2@${proxy.addressOf(2)}`]);
      const p = md.topics[0]!.partitions[0]!;
      assert.equal(p.leaderId, proxy.leader);
      assert.equal(p.leaderEpoch, proxy.leaderEpoch);

      const listOffsets = (node: NodeId, currentLeaderEpoch: number) =>
        conns.get(node)!.request({ request: ListOffsetsRequest, response: ListOffsetsResponse }, () => {
          const req = ListOffsetsRequest.defaults();
          req.topics = [{ name: 'proxy-check', partitions: [{ partitionIndex: 0, currentLeaderEpoch, timestamp: -1n, maxNumOffsets: 1 }] }];
          return req;
        });
      assert.equal((await listOffsets(follower, -1)).topics[0]!.partitions[0]!.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.equal((await listOffsets(proxy.leader, -1)).topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
      // The current epoch passes (the proxy clears it before the real broker sees it).
      assert.equal((await listOffsets(proxy.leader, proxy.leaderEpoch)).topics[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
      assert.equal((await listOffsets(proxy.leader, proxy.leaderEpoch - 1)).topics[0]!.partitions[0]!.errorCode, ErrorCode.FENCED_LEADER_EPOCH);
      assert.equal((await listOffsets(proxy.leader, proxy.leaderEpoch + 1)).topics[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_LEADER_EPOCH);

      const fetch = (node: NodeId) =>
        conns.get(node)!.request({ request: FetchRequest, response: FetchResponse }, (v) => {
          assert.ok(v >= 13, `fetch v${v}`);
          const req = FetchRequest.defaults();
          req.maxWaitMs = 0;
          const t = FetchRequest.newStruct('FetchTopic');
          t.topicId = md.topics[0]!.topicId;
          const fp = FetchRequest.newStruct('FetchPartition');
          fp.partition = 0;
          fp.fetchOffset = 0n;
          fp.partitionMaxBytes = 1 << 20;
          t.partitions = [fp];
          req.topics = [t];
          return req;
        });
      const refused = (await fetch(follower)).responses[0]!.partitions[0]!;
      assert.equal(refused.errorCode, ErrorCode.NOT_LEADER_OR_FOLLOWER);
      assert.deepEqual(refused.currentLeader, { leaderId: proxy.leader, leaderEpoch: proxy.leaderEpoch });
      assert.equal((await fetch(proxy.leader)).responses[0]!.partitions[0]!.errorCode, ErrorCode.NONE);
    } finally {
      for (const c of conns.values()) c.close();
    }
  });

  /** Steady sends while the leader moves; checks every send resolves and is stored once, in order. */
  async function produceThroughSwitches(topic: string, dropConnections: boolean): Promise<void> {
    const partitions = 3;
    const admin = new Admin({ bootstrapServers: proxy.bootstrapServers, ...FAST_RETRIES });
    await admin.createTopics([{ topic, numPartitions: partitions }]);
    await admin.close();

    const producer = new Producer({ bootstrapServers: proxy.bootstrapServers, acks: 'all', idempotent: true, lingerMs: 2, ...FAST_RETRIES });
    const metadataBefore = proxy.requests(API_METADATA);
    const initBefore = proxy.requests(API_INIT_PRODUCER_ID);
    const refusedBefore = proxy.answeredWith(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const produceOnBefore = [proxy.requests(API_PRODUCE, 1), proxy.requests(API_PRODUCE, 2)];
    const sends: Promise<{ partition: number; offset: bigint; value: string }>[] = [];
    let switching = true;
    const lostBefore = proxy.lostAnswers;
    const switches = (dropConnections ? failOverRepeatedly(proxy, 6, 150, API_PRODUCE) : switchRepeatedly(proxy, 6, 250)).finally(() => (switching = false));
    let i = 0;
    try {
      // Steady traffic before, during and after the switches.
      while (switching || i < 2000) {
        const value = String(i);
        sends.push(producer.send({ topic, key: `k${i % 7}`, value }).then((m) => ({ partition: m.partition, offset: m.offset, value })));
        i++;
        if (i % 25 === 0) await new Promise((r) => setTimeout(r, 5));
      }
      const path = await switches;
      assert.deepEqual(path.slice(0, 3).sort(), [1, 1, 2].sort());
      const acked = await within(30_000, 'every send() resolves', Promise.all(sends));
      assert.equal(acked.length, i);
    } finally {
      await within(5000, 'producer closes', producer.close({ force: true })).catch(() => undefined);
    }
    // The producer followed the switches: it was refused by the old leader, refreshed its
    // metadata, and sent to both nodes.
    assert.ok(proxy.answeredWith(ErrorCode.NOT_LEADER_OR_FOLLOWER) > refusedBefore, 'some produce was refused by a non-leader');
    assert.ok(proxy.requests(API_METADATA) - metadataBefore >= 4, `metadata refreshed after switches (${proxy.requests(API_METADATA) - metadataBefore})`);
    if (dropConnections) assert.ok(proxy.lostAnswers - lostBefore >= 6, `produce answers lost (${proxy.lostAnswers - lostBefore})`);
    assert.ok(proxy.requests(API_PRODUCE, 1) > produceOnBefore[0]! && proxy.requests(API_PRODUCE, 2) > produceOnBefore[1]!, 'produced to both nodes');

    // One producer id throughout: refusals and lost answers are retried with the same id and
    // sequence numbers, which is what lets the broker drop the duplicates; a new id would not.
    assert.equal(proxy.requests(API_INIT_PRODUCER_ID) - initBefore, 1, 'InitProducerId requests');

    const acked = await Promise.all(sends);
    const stored = await readAllDirect(broker.bootstrapServers, topic, partitions, acked.length);
    const total = stored.reduce((n, p) => n + p.length, 0);
    assert.equal(total, acked.length, 'every acknowledged record stored exactly once');
    for (let p = 0; p < partitions; p++) {
      const records = stored[p]!;
      // Offsets contiguous from 0, and each acknowledged offset holds the value sent.
      assert.deepEqual(records.map((r) => r.offset), records.map((_, j) => BigInt(j)), `partition ${p} offsets contiguous`);
      const values = records.map((r) => Number(r.value!.toString()));
      assert.deepEqual(values, [...values].sort((a, b) => a - b), `partition ${p} in send order`);
      const byOffset = new Map(records.map((r) => [r.offset, r.value!.toString()]));
      for (const a of acked.filter((x) => x.partition === p)) assert.equal(byOffset.get(a.offset), a.value, `${topic}-${p}@${a.offset}`);
    }
  }

  it('an idempotent producer sending through switches 1->2->1->... resolves every send, and every record is stored once, in order', { timeout: TEST_TIMEOUT_MS }, async () => {
    await produceThroughSwitches('leader-change-produce', false);
  });

  it('the same when each switch cuts the old leader right after it wrote a Produce (answer lost): retries are deduplicated', { timeout: TEST_TIMEOUT_MS }, async () => {
    await produceThroughSwitches('leader-change-produce-drop', true);
  });

  for (const code of [ErrorCode.UNKNOWN_PRODUCER_ID, ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER]) {
    it(`KIP-360: ${code === ErrorCode.UNKNOWN_PRODUCER_ID ? 'UNKNOWN_PRODUCER_ID' : 'OUT_OF_ORDER_SEQUENCE_NUMBER'} for the batch after the last acknowledged one bumps the epoch, keeps the producer id, and stores every record once`, { timeout: TEST_TIMEOUT_MS }, async () => {
      const topic = `kip360-${code}`;
      const admin = new Admin({ bootstrapServers: proxy.bootstrapServers, ...FAST_RETRIES });
      await admin.createTopics([{ topic, numPartitions: 1 }]);
      await admin.close();
      const producer = new Producer({ bootstrapServers: proxy.bootstrapServers, lingerMs: 1, maxInFlightPerPartition: 1, ...FAST_RETRIES });
      const initBefore = proxy.requests(API_INIT_PRODUCER_ID);
      const faultsBefore = proxy.answeredWith(code);
      const values: string[] = [];
      try {
        const send = (n: number) =>
          Promise.all(
            Array.from({ length: n }, () => {
              const value = String(values.length);
              values.push(value);
              return producer.send({ topic, partition: 0, value });
            }),
          );
        await send(30);
        const before = producer.producerIdAndEpoch;
        proxy.failNextProduce(code);
        await within(20_000, 'sends after the fault resolve', send(30));
        await send(10);
        assert.equal(proxy.answeredWith(code) - faultsBefore, 1, 'the fault was injected once');
        const afterFault = producer.producerIdAndEpoch;
        assert.equal(afterFault.producerId, before.producerId, 'same producer id');
        assert.equal(afterFault.producerEpoch, before.producerEpoch + 1, 'epoch bumped');
        assert.equal(proxy.requests(API_INIT_PRODUCER_ID) - initBefore, 1, 'no InitProducerId for the bump');
      } finally {
        await within(5000, 'producer closes', producer.close({ force: true })).catch(() => undefined);
      }
      const [stored] = await readAllDirect(broker.bootstrapServers, topic, 1, values.length);
      assert.deepEqual(stored!.map((r) => r.value!.toString()), values, 'every record once, in order');
    });
  }

  it('a transactional send refused with OUT_OF_ORDER_SEQUENCE_NUMBER makes the transaction abortable; the abort bumps the epoch and the next transaction commits', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = 'txn-lost-state';
    const admin = new Admin({ bootstrapServers: proxy.bootstrapServers, ...FAST_RETRIES });
    await admin.createTopics([{ topic, numPartitions: 1 }]);
    await admin.close();
    const producer = new Producer({ bootstrapServers: proxy.bootstrapServers, transactionalId: 'txn-lost-state', lingerMs: 1, ...FAST_RETRIES });
    const initBefore = proxy.requests(API_INIT_PRODUCER_ID);
    try {
      await producer.initTransactions();
      producer.beginTransaction();
      await producer.send({ topic, partition: 0, value: 'committed-1' });
      await producer.commitTransaction();
      const before = producer.producerIdAndEpoch;
      producer.beginTransaction();
      proxy.failNextProduce(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER);
      await assert.rejects(producer.send({ topic, partition: 0, value: 'lost' }), (err: Error) => err.message.includes('OUT_OF_ORDER_SEQUENCE_NUMBER'));
      await assert.rejects(producer.commitTransaction(), (err: Error) => err.message.includes('abort it'));
      await producer.abortTransaction();
      const after = producer.producerIdAndEpoch;
      assert.equal(after.producerId, before.producerId);
      assert.equal(after.producerEpoch, before.producerEpoch + 1, 'the abort bumped the epoch');
      assert.equal(proxy.requests(API_INIT_PRODUCER_ID) - initBefore, 2, 'initTransactions and the bump');
      producer.beginTransaction();
      await producer.send({ topic, partition: 0, value: 'committed-2' });
      await producer.commitTransaction();
    } finally {
      await within(5000, 'producer closes', producer.close({ force: true })).catch(() => undefined);
    }
    const consumer = new Consumer({ bootstrapServers: broker.bootstrapServers, autoOffsetReset: 'earliest', maxWaitMs: 100, isolationLevel: 'read_committed' });
    consumer.assign([{ topic, partition: 0 }]);
    const seen: string[] = [];
    const deadline = Date.now() + 10_000;
    try {
      while (seen.length < 2 && Date.now() < deadline) for (const b of await consumer.poll({ timeoutMs: 200 })) seen.push(...b.records.map((r) => r.value!.toString()));
      for (const b of await consumer.poll({ timeoutMs: 300 })) seen.push(...b.records.map((r) => r.value!.toString())); // nothing more
    } finally {
      await consumer.close();
    }
    assert.deepEqual(seen, ['committed-1', 'committed-2']);
  });

  async function consumeThroughSwitches(topic: string, failOver: boolean): Promise<void> {
    const partitions = 2;
    const admin = new Admin({ bootstrapServers: proxy.bootstrapServers, ...FAST_RETRIES });
    await admin.createTopics([{ topic, numPartitions: partitions }]);
    await admin.close();
    // Written straight to the broker, so only the consumer goes through the switches.
    const producer = new Producer({ bootstrapServers: broker.bootstrapServers, lingerMs: 1 });
    const consumer = new Consumer({ bootstrapServers: proxy.bootstrapServers, autoOffsetReset: 'earliest', maxWaitMs: 100, ...FAST_RETRIES });
    consumer.assign(Array.from({ length: partitions }, (_, partition) => ({ topic, partition })));
    const seen: ConsumerRecord[] = [];
    let consuming = true;
    const reader = (async () => {
      while (consuming) for (const b of await consumer.poll({ timeoutMs: 100 })) seen.push(...b.records);
    })();
    let readerError: unknown = null;
    reader.catch((err: unknown) => (readerError = err));
    const fetchFencedBefore = proxy.answeredWith(ErrorCode.FENCED_LEADER_EPOCH);
    const fetchOnBefore = [proxy.requests(API_FETCH, 1), proxy.requests(API_FETCH, 2)];
    let total = 0;
    try {
      let switching = true;
      const lostBefore = proxy.lostAnswers;
      const switches = (failOver ? failOverRepeatedly(proxy, 5, 200, API_FETCH) : switchRepeatedly(proxy, 5, 300)).finally(() => (switching = false));
      while (switching || total < 1500) {
        await producer.sendBatch(Array.from({ length: 20 }, (_, j) => ({ topic, partition: (total + j) % partitions, value: String(total + j) })));
        total += 20;
        await new Promise((r) => setTimeout(r, 10));
      }
      await switches;
      if (failOver) assert.ok(proxy.lostAnswers - lostBefore >= 5, 'fetch answers lost');
      await until(20_000, `consumer reads ${total} records`, () => readerDone(readerError, seen.length >= total));
      // A little longer: duplicates would arrive after the count is reached.
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      consuming = false;
      await shutDown(reader, consumer, producer);
    }
    assert.equal(seen.length, total, 'no duplicates');
    for (let p = 0; p < partitions; p++) {
      const offsets = seen.filter((r) => r.partition === p).map((r) => r.offset);
      assert.deepEqual(offsets, offsets.map((_, j) => BigInt(j)), `partition ${p}: every offset once, in order`);
    }
    // The consumer sends the leader epoch of its metadata (KIP-320), so the old leader fences it
    // rather than answering NOT_LEADER_OR_FOLLOWER. With cut connections the consumer refreshes
    // metadata before it asks again, so a fenced fetch is not guaranteed there.
    if (!failOver) assert.ok(proxy.answeredWith(ErrorCode.FENCED_LEADER_EPOCH) > fetchFencedBefore, 'some fetch with a stale leader epoch was fenced');
    assert.ok(proxy.requests(API_FETCH, 1) > fetchOnBefore[0]! && proxy.requests(API_FETCH, 2) > fetchOnBefore[1]!, 'fetched from both nodes');
  }

  it('a consumer with assigned partitions reads across switches without skipping or repeating offsets', { timeout: TEST_TIMEOUT_MS }, async () => {
    await consumeThroughSwitches('leader-change-assign', false);
  });

  it('the same when each switch cuts the old leader right after it answered a Fetch (answer lost)', { timeout: TEST_TIMEOUT_MS }, async () => {
    await consumeThroughSwitches('leader-change-assign-drop', true);
  });

  /** A group member reads while the leader moves and commits after each poll. */
  async function groupThroughSwitches(topic: string, failOver: boolean): Promise<void> {
    const groupId = topic;
    const partitions = 2;
    const admin = new Admin({ bootstrapServers: proxy.bootstrapServers, ...FAST_RETRIES });
    await admin.createTopics([{ topic, numPartitions: partitions }]);
    // Without fail-over the coordinator stays on the node that does not lead at first; with it,
    // the coordinator is node 1, whose connections are cut at every other switch.
    proxy.coordinatorNode = failOver ? 1 : proxy.leader === 1 ? 2 : 1;
    const producer = new Producer({ bootstrapServers: broker.bootstrapServers, lingerMs: 1 });
    const consumer = new Consumer({
      bootstrapServers: proxy.bootstrapServers,
      groupId,
      autoOffsetReset: 'earliest',
      autoCommit: false,
      maxWaitMs: 100,
      heartbeatIntervalMs: 200,
      sessionTimeoutMs: 10_000,
      ...FAST_RETRIES,
    });
    consumer.subscribe([topic]);
    const seen: ConsumerRecord[] = [];
    let consuming = true;
    const reader = (async () => {
      while (consuming) {
        const batches = await consumer.poll({ timeoutMs: 100 });
        for (const b of batches) seen.push(...b.records);
        if (batches.length > 0) await consumer.commitSync();
      }
    })();
    let readerError: unknown = null;
    reader.catch((err: unknown) => (readerError = err));
    let total = 0;
    try {
      await within(15_000, 'assignment', consumer.waitForAssignment({ timeoutMs: 15_000 }));
      let switching = true;
      const switches = (failOver ? failOverRepeatedly(proxy, 4, 200, API_FETCH) : switchRepeatedly(proxy, 4, 300)).finally(() => (switching = false));
      while (switching || total < 800) {
        await producer.sendBatch(Array.from({ length: 20 }, (_, j) => ({ topic, partition: (total + j) % partitions, value: String(total + j) })));
        total += 20;
        await new Promise((r) => setTimeout(r, 10));
      }
      await switches;
      await until(20_000, `group consumer reads ${total} records`, () => readerDone(readerError, seen.length >= total));
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(seen.length, total, 'no duplicates');
      for (let p = 0; p < partitions; p++) {
        const offsets = seen.filter((r) => r.partition === p).map((r) => r.offset);
        assert.deepEqual(offsets, offsets.map((_, j) => BigInt(j)), `partition ${p}: every offset once, in order`);
      }
      const committed = await within(10_000, 'committed', consumer.committed(Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))));
      assert.deepEqual(committed.map((c) => c.offset), Array.from({ length: partitions }, () => BigInt(total / partitions)));
    } finally {
      consuming = false;
      await shutDown(reader, consumer, producer, admin);
      proxy.coordinatorNode = 1;
    }
  }

  it('a group consumer reads across switches (coordinator on the other node) and commits what it read', { timeout: TEST_TIMEOUT_MS }, async () => {
    await groupThroughSwitches('leader-change-group', false);
  });

  it('the same when each switch cuts the old leader (and every other time the coordinator) right after a Fetch', { timeout: TEST_TIMEOUT_MS }, async () => {
    await groupThroughSwitches('leader-change-group-drop', true);
  });

  it("a consumer's offset lookup (ListOffsets after seek) with a stale leader epoch is fenced, refreshes and reads every offset once", { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = 'leader-change-fenced-reset';
    const partitions = 2;
    const perPartition = 50;
    const admin = new Admin({ bootstrapServers: proxy.bootstrapServers, ...FAST_RETRIES });
    const producer = new Producer({ bootstrapServers: broker.bootstrapServers, lingerMs: 1 });
    const consumer = new Consumer({ bootstrapServers: proxy.bootstrapServers, autoOffsetReset: 'earliest', maxWaitMs: 100, ...FAST_RETRIES });
    const tps = Array.from({ length: partitions }, (_, partition) => ({ topic, partition }));
    try {
      await admin.createTopics([{ topic, numPartitions: partitions }]);
      await producer.sendBatch(Array.from({ length: partitions * perPartition }, (_, j) => ({ topic, partition: j % partitions, value: String(j) })));
      consumer.assign(tps);
      const readAll = async (what: string): Promise<ConsumerRecord[]> => {
        const seen: ConsumerRecord[] = [];
        const deadline = Date.now() + 15_000;
        while (seen.length < partitions * perPartition) {
          if (Date.now() > deadline) throw new Error(`${what}: read ${seen.length} records`);
          for (const b of await consumer.poll({ timeoutMs: 100 })) seen.push(...b.records);
        }
        // Duplicates would arrive after the count is reached.
        for (const b of await consumer.poll({ timeoutMs: 300 })) seen.push(...b.records);
        return seen;
      };
      const checkOnce = (seen: ConsumerRecord[], what: string): void => {
        assert.equal(seen.length, partitions * perPartition, `${what}: no duplicates`);
        for (let p = 0; p < partitions; p++) {
          const offsets = seen.filter((r) => r.partition === p).map((r) => r.offset);
          assert.deepEqual(offsets, offsets.map((_, j) => BigInt(j)), `${what}: partition ${p} every offset once, in order`);
        }
      };
      checkOnce(await readAll('first read'), 'first read');
      // No Fetch may go out between the switch and the lookup, so the lookup is the first
      // request to meet the new epoch: pause, let the running fetch loop go idle, switch, seek.
      consumer.pause(tps);
      await consumer.poll({ timeoutMs: 300 });
      const oldLeader = proxy.leader;
      const fencedBefore = proxy.answeredWith(ErrorCode.FENCED_LEADER_EPOCH);
      const lookupsOnOldBefore = proxy.requests(API_LIST_OFFSETS, oldLeader);
      proxy.switchLeader();
      for (const tp of tps) consumer.seek(tp, 'earliest');
      consumer.resume(tps);
      const again = await readAll('read after seek');
      checkOnce(again, 'read after seek');
      assert.ok(proxy.requests(API_LIST_OFFSETS, oldLeader) > lookupsOnOldBefore, 'the lookup went to the old leader first');
      assert.ok(proxy.answeredWith(ErrorCode.FENCED_LEADER_EPOCH) > fencedBefore, 'the old leader fenced the stale epoch');
      assert.ok(proxy.requests(API_LIST_OFFSETS, proxy.leader) > 0, 'the lookup was retried at the new leader');
    } finally {
      await shutDown(null, consumer, producer, admin);
    }
  });

  it('Admin.listOffsets follows the leader', { timeout: TEST_TIMEOUT_MS }, async () => {
    const topic = 'leader-change-offsets';
    const admin = new Admin({ bootstrapServers: proxy.bootstrapServers, ...FAST_RETRIES });
    const producer = new Producer({ bootstrapServers: broker.bootstrapServers, lingerMs: 1 });
    try {
      await admin.createTopics([{ topic, numPartitions: 2 }]);
      let written = 0;
      for (let round = 0; round < 4; round++) {
        await producer.sendBatch(Array.from({ length: 10 }, (_, j) => ({ topic, partition: 0, value: String(j) })));
        written += 10;
        // Switch after the admin has cached the old leader, so its next request goes there first.
        proxy.switchLeader();
        const onLeaderBefore = proxy.requests(API_LIST_OFFSETS, proxy.leader);
        const fencedBefore = proxy.answeredWith(ErrorCode.FENCED_LEADER_EPOCH);
        const [latest, earliest] = await within(10_000, 'listOffsets', admin.listOffsets([
          { topic, partition: 0, spec: 'latest' },
          { topic, partition: 1, spec: 'earliest' },
        ]));
        assert.equal(latest!.offset, BigInt(written));
        assert.equal(earliest!.offset, 0n);
        assert.ok(proxy.requests(API_LIST_OFFSETS, proxy.leader) > onLeaderBefore, `round ${round}: asked the new leader ${proxy.leader}`);
        // From round 1 on the admin's cached epoch is the old one: the old leader fences it.
        if (round > 0) assert.ok(proxy.answeredWith(ErrorCode.FENCED_LEADER_EPOCH) > fencedBefore, `round ${round}: stale epoch fenced`);
      }
    } finally {
      await producer.close();
      await admin.close();
    }
  });
});
