// Our producer and consumer against an in-process broker, and against librdkafka (kcat) both
// ways: every codec, headers, keyed partitioning equal to librdkafka's murmur2_random,
// idempotent sends without duplicates, back-pressure, seek/pause/resume, read_committed flags,
// the callback API and request pipelining.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Broker } from '../../src/node/broker.js';
import { Admin, Consumer, Producer, partitionForKey, type ConsumerRecord, type CompressionName } from '../../src/client/index.js';
import { kcat } from '../helpers/clients.js';

const CODECS: CompressionName[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

async function consumeAll(bootstrap: string, topic: string, partitions: number[], expected: number, opts: { isolation?: 'read_committed' } = {}): Promise<ConsumerRecord[]> {
  const consumer = new Consumer({ bootstrapServers: bootstrap, autoOffsetReset: 'earliest', maxWaitMs: 100, ...(opts.isolation === undefined ? {} : { isolationLevel: opts.isolation }) });
  consumer.assign(partitions.map((partition) => ({ topic, partition })));
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 20_000;
  try {
    while (out.length < expected && Date.now() < deadline) {
      for (const b of await consumer.poll({ timeoutMs: 500 })) out.push(...b.records);
    }
  } finally {
    await consumer.close();
  }
  return out;
}

describe('client produce and consume', () => {
  let broker: Broker;
  let bootstrap: string;
  let admin: Admin;
  before(async () => {
    broker = await Broker.start({ inMemory: true });
    bootstrap = broker.bootstrapServers;
    admin = new Admin({ bootstrapServers: bootstrap });
  });
  after(async () => {
    await admin?.close();
    await broker?.stop();
  });

  it('an embedded broker starts groups at once unless told otherwise', async () => {
    assert.equal(broker.config.int('group.initial.rebalance.delay.ms'), 0);
    const kafkaLike = await Broker.start({ inMemory: true, overrides: { 'group.initial.rebalance.delay.ms': '3000' } });
    try {
      assert.equal(kafkaLike.config.int('group.initial.rebalance.delay.ms'), 3000);
    } finally {
      await kafkaLike.stop();
    }
  });

  for (const codec of CODECS) {
    it(`round-trips ${codec} batches with keys, nulls and headers, read by kcat and by our consumer`, async () => {
      const topic = `codec-${codec}`;
      await admin.createTopics([{ topic, numPartitions: 1 }]);
      const producer = new Producer({ bootstrapServers: bootstrap, compression: codec, lingerMs: 20 });
      const sends = Array.from({ length: 50 }, (_, i) =>
        producer.send({ topic, key: i % 5 === 0 ? null : `k${i}`, value: `v${i}-${'y'.repeat(i)}`, headers: { h: `hv${i}`, empty: null } }),
      );
      const metas = await Promise.all(sends);
      assert.deepEqual(metas.map((m) => m.offset), metas.map((_, i) => BigInt(i)), 'offsets are 0..49 in send order');
      await producer.close();

      const got = await consumeAll(bootstrap, topic, [0], 50);
      assert.equal(got.length, 50);
      got.forEach((r, i) => {
        assert.equal(r.offset, BigInt(i));
        assert.equal(r.key?.toString() ?? null, i % 5 === 0 ? null : `k${i}`);
        assert.equal(r.value?.toString(), `v${i}-${'y'.repeat(i)}`);
        assert.deepEqual(r.headers.map((h) => [h.key, h.value?.toString() ?? null]), [['h', `hv${i}`], ['empty', null]]);
      });

      const k = await kcat(['-b', bootstrap, '-C', '-t', topic, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%o|%k|%s|%h\n']);
      assert.equal(k.code, 0, k.stderr);
      const lines = k.stdout.trim().split('\n');
      assert.equal(lines.length, 50);
      assert.equal(lines[7], `7|k7|v7-${'y'.repeat(7)}|h=hv7,empty=NULL`);
    });
  }

  it('reads what librdkafka produced with every codec', async () => {
    for (const codec of CODECS) {
      const topic = `from-kcat-${codec}`;
      await admin.createTopics([{ topic, numPartitions: 1 }]);
      const input = Array.from({ length: 30 }, (_, i) => `key${i}:value-${codec}-${i}`).join('\n') + '\n';
      const r = await kcat(['-b', bootstrap, '-P', '-t', topic, '-p', '0', '-z', codec, '-K', ':', '-X', 'linger.ms=50'], { input });
      assert.equal(r.code, 0, r.stderr);
      const got = await consumeAll(bootstrap, topic, [0], 30);
      assert.deepEqual(
        got.map((x) => `${x.key?.toString()}:${x.value?.toString()}`),
        Array.from({ length: 30 }, (_, i) => `key${i}:value-${codec}-${i}`),
        codec,
      );
    }
  });

  it('puts keyed records on the partition librdkafka (murmur2_random) and the Java client pick', async () => {
    const topic = 'keyed';
    await admin.createTopics([{ topic, numPartitions: 6 }]);
    const producer = new Producer({ bootstrapServers: bootstrap });
    const keys = Array.from({ length: 60 }, (_, i) => `user-${i}`);
    const metas = await Promise.all(keys.map((key) => producer.send({ topic, key, value: 'ours' })));
    await producer.close();
    metas.forEach((m, i) => assert.equal(m.partition, partitionForKey(Buffer.from(keys[i]!), 6)));
    const input = keys.map((k) => `${k}:theirs`).join('\n') + '\n';
    const r = await kcat(['-b', bootstrap, '-P', '-t', topic, '-K', ':', '-X', 'partitioner=murmur2_random'], { input });
    assert.equal(r.code, 0, r.stderr);
    const got = await consumeAll(bootstrap, topic, [0, 1, 2, 3, 4, 5], 120);
    const partitionsByKey = new Map<string, Set<number>>();
    for (const rec of got) {
      const k = rec.key!.toString();
      if (!partitionsByKey.has(k)) partitionsByKey.set(k, new Set());
      partitionsByKey.get(k)!.add(rec.partition);
    }
    assert.equal(partitionsByKey.size, 60);
    for (const [k, parts] of partitionsByKey) assert.equal(parts.size, 1, `key ${k} landed on partitions ${[...parts].join(',')}`);
  });

  it('sticks unkeyed records to a partition per batch and spreads across batches', async () => {
    const topic = 'sticky';
    await admin.createTopics([{ topic, numPartitions: 4 }]);
    const producer = new Producer({ bootstrapServers: bootstrap, batchSize: 2048, lingerMs: 50 });
    const value = Buffer.alloc(100, 1);
    for (let i = 0; i < 400; i++) producer.produce({ topic, value });
    await producer.flush();
    await producer.close();
    const ends = await admin.listOffsets([0, 1, 2, 3].map((partition) => ({ topic, partition, spec: 'latest' as const })));
    const total = ends.reduce((s, e) => s + e.offset, 0n);
    assert.equal(total, 400n);
    assert.ok(ends.filter((e) => e.offset > 0n).length >= 2, `records spread: ${ends.map((e) => e.offset).join(',')}`);
  });

  it('idempotent producer: many batches in flight, no duplicates, no gaps', async () => {
    const topic = 'idempotent';
    await admin.createTopics([{ topic, numPartitions: 2 }]);
    const producer = new Producer({ bootstrapServers: bootstrap, batchSize: 1024, lingerMs: 0 });
    assert.equal(producer.idempotent, true);
    const n = 5000;
    let acked = 0;
    for (let i = 0; i < n; i++) {
      const wait = producer.produce({ topic, key: String(i % 2), value: String(i) }, (err) => {
        assert.equal(err, null);
        acked++;
      });
      if (wait !== undefined) await wait;
    }
    await producer.flush();
    await producer.close();
    assert.equal(acked, n);
    const got = await consumeAll(bootstrap, topic, [0, 1], n);
    assert.equal(got.length, n);
    assert.equal(new Set(got.map((r) => r.value!.toString())).size, n);
    // Per key (one partition each) the order is the send order.
    for (const key of ['0', '1']) {
      const values = got.filter((r) => r.key!.toString() === key).map((r) => Number(r.value!.toString()));
      assert.deepEqual(values, [...values].sort((a, b) => a - b));
    }
  });

  it('applies back-pressure when buffered bytes exceed bufferMemory', async () => {
    const producer = new Producer({ bootstrapServers: bootstrap, bufferMemory: 64 * 1024, batchSize: 16 * 1024, lingerMs: 1000 });
    await producer.send({ topic: 'pressure', value: 'warm-up' }).catch(() => undefined);
    let waited = 0;
    const value = Buffer.alloc(1000, 2);
    for (let i = 0; i < 500; i++) {
      const wait = producer.produce({ topic: 'pressure', value });
      if (wait !== undefined) {
        waited++;
        assert.ok(producer.bufferedBytesNow >= 64 * 1024);
        await wait;
      }
      assert.ok(producer.bufferedBytesNow < 64 * 1024 + 2 * 16 * 1024 + 2000, `buffered ${producer.bufferedBytesNow}`);
    }
    await producer.close();
    assert.ok(waited > 0, 'produce() asked the caller to wait at least once');
  });

  it('seeks, pauses and resumes; the callback API and the iterator see the same records', async () => {
    const topic = 'seek';
    await admin.createTopics([{ topic, numPartitions: 1 }]);
    const producer = new Producer({ bootstrapServers: bootstrap });
    await producer.sendBatch(Array.from({ length: 100 }, (_, i) => ({ topic, value: String(i) })));
    await producer.close();
    const consumer = new Consumer({ bootstrapServers: bootstrap, maxWaitMs: 50 });
    const tp = { topic, partition: 0 };
    consumer.assign([tp]);
    consumer.seek(tp, 90n);
    const seen: string[] = [];
    for await (const b of consumer) {
      seen.push(...b.records.map((r) => r.value!.toString()));
      if (seen.length >= 10) break;
    }
    assert.deepEqual(seen, Array.from({ length: 10 }, (_, i) => String(90 + i)));
    assert.equal(consumer.position(tp), 100n);
    consumer.seek(tp, 'earliest');
    consumer.pause([tp]);
    assert.deepEqual(await consumer.poll({ timeoutMs: 300 }), [], 'a paused partition yields nothing');
    consumer.resume([tp]);
    const viaCallback: bigint[] = [];
    const ac = new AbortController();
    await consumer.run({
      signal: ac.signal,
      eachMessage: (r) => {
        viaCallback.push(r.offset);
        if (viaCallback.length === 100) ac.abort();
      },
    });
    assert.deepEqual(viaCallback, Array.from({ length: 100 }, (_, i) => BigInt(i)));
    await consumer.close();
  });

  it('poll honours an AbortSignal while waiting', async () => {
    const consumer = new Consumer({ bootstrapServers: bootstrap });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await assert.rejects(consumer.poll({ timeoutMs: 10_000, signal: ac.signal }), { name: 'AbortError' });
    await consumer.close();
  });

  it('reports an unknown topic as a typed, retriable error after retries', async () => {
    const producer = new Producer({ bootstrapServers: bootstrap, allowAutoTopicCreation: false, maxBlockMs: 500 });
    await assert.rejects(producer.send({ topic: 'does-not-exist', value: 'x' }), (err: unknown) => {
      assert.equal((err as { code?: number }).code, 3);
      assert.equal((err as { retriable?: boolean }).retriable, true);
      return true;
    });
    await producer.close({ force: true });
  });
});
