// kcat (librdkafka) against a broker process: every compression codec with every acks setting,
// consuming from an offset and from a timestamp, auto-creation on first use, and keyed records
// landing on the partition librdkafka's default partitioner picks, in order per partition.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';
import { assertOk, clockPast, kcatConsume, kcatProduce, librdkafkaConsistentPartition } from './support.js';

const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;
const ACKS = ['0', '1', 'all'] as const;

describe('kcat produce and consume', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ overrides: { 'num.partitions': '3' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('round-trips keyed records with every codec and acks setting, offsets in order', async () => {
    await Promise.all(
      CODECS.flatMap((codec) =>
        ACKS.map(async (acks) => {
          const topic = `kcat-${codec}-acks-${acks}`;
          const lines = Array.from({ length: 25 }, (_, i) => `key-${i % 4}:${codec}-${acks}-value-${i}-${'x'.repeat(i * 7)}`);
          // One partition, so the whole sequence is ordered; linger so several records share a (compressed) batch.
          await kcatProduce(broker.bootstrap, topic, lines, ['-p', '0', '-z', codec, '-X', `acks=${acks}`, '-X', 'linger.ms=20']);
          let got = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-p', '0']);
          // acks=0 is never acknowledged: kcat is done once the records are sent, possibly before
          // the broker has appended them, so read again until they are there (or 10 s pass).
          for (let tries = 0; acks === '0' && got.length < lines.length && tries < 100; tries++) {
            await new Promise((resolve) => setTimeout(resolve, 100));
            got = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-p', '0']);
          }
          assert.deepEqual(
            got.map((r) => `${r.key}:${r.value}`),
            lines,
            `${topic}: records differ`,
          );
          assert.deepEqual(
            got.map((r) => r.offset),
            lines.map((_, i) => i),
            `${topic}: offsets are not 0..n-1`,
          );
        }),
      ),
    );
  });

  it('auto-creates a topic on first produce with num.partitions partitions', async () => {
    const topic = 'kcat-auto-created';
    const before = await kcat(['-L', '-b', broker.bootstrap, '-J', '-t', topic]);
    // librdkafka's metadata request for one topic already auto-creates it, as with Kafka.
    assertOk(before, 'kcat -L');
    await kcatProduce(broker.bootstrap, topic, ['a:1']);
    const meta = await kcat(['-L', '-b', broker.bootstrap, '-J', '-t', topic]);
    assertOk(meta, 'kcat -L');
    const parsed = JSON.parse(meta.stdout) as { topics: { topic: string; partitions: { partition: number; leader: number }[]; error?: string }[] };
    const t = parsed.topics.find((x) => x.topic === topic);
    assert.ok(t !== undefined, meta.stdout);
    assert.equal(t.error, undefined, meta.stdout);
    assert.equal(t.partitions.length, 3);
    for (const p of t.partitions) assert.equal(p.leader, 1);
  });

  it('consumes from an explicit offset and from a relative end offset', async () => {
    const topic = 'kcat-from-offset';
    const lines = Array.from({ length: 30 }, (_, i) => `k:${i}`);
    await kcatProduce(broker.bootstrap, topic, lines, ['-p', '0']);
    const from12 = await kcatConsume(broker.bootstrap, topic, '12', ['-p', '0']);
    assert.deepEqual(from12.map((r) => r.offset), Array.from({ length: 18 }, (_, i) => 12 + i));
    assert.deepEqual(from12.map((r) => r.value), lines.slice(12).map((l) => l.slice(2)));
    const last5 = await kcatConsume(broker.bootstrap, topic, '-5', ['-p', '0']);
    assert.deepEqual(last5.map((r) => r.offset), [25, 26, 27, 28, 29]);
  });

  it('consumes from a timestamp (kcat -o s@ts) and answers offset queries by time (kcat -Q)', async () => {
    const topic = 'kcat-from-timestamp';
    await kcatProduce(broker.bootstrap, topic, ['k:early-0', 'k:early-1', 'k:early-2'], ['-p', '0']);
    const firstBatchDone = Date.now();
    await clockPast(firstBatchDone + 5);
    const boundary = Date.now();
    await clockPast(boundary);
    await kcatProduce(broker.bootstrap, topic, ['k:late-0', 'k:late-1'], ['-p', '0']);
    const late = await kcatConsume(broker.bootstrap, topic, `s@${boundary}`, ['-p', '0']);
    assert.deepEqual(late.map((r) => r.value), ['late-0', 'late-1']);
    assert.deepEqual(late.map((r) => r.offset), [3, 4]);
    for (const r of late) assert.ok(r.timestamp >= boundary, `timestamp ${r.timestamp} before ${boundary}`);

    const q = await kcat(['-Q', '-b', broker.bootstrap, '-t', `${topic}:0:${boundary}`]);
    assertOk(q, 'kcat -Q');
    assert.match(q.stdout, /\[0\] offset 3\b/, q.stdout);
    // A timestamp after every record: no offset (-1 from the broker, shown by kcat as the end).
    const future = await kcat(['-Q', '-b', broker.bootstrap, '-t', `${topic}:0:${Date.now() + 3_600_000}`]);
    assertOk(future, 'kcat -Q');
    assert.match(future.stdout, /offset -1\b/, future.stdout);
  });

  it('sends keyed records to the partition of the default (consistent) partitioner, in order per partition', async () => {
    const topic = 'kcat-keyed';
    const keys = Array.from({ length: 12 }, (_, i) => `user-${i}`);
    const lines: string[] = [];
    for (let i = 0; i < 120; i++) lines.push(`${keys[i % keys.length]}:${i}`);
    await kcatProduce(broker.bootstrap, topic, lines, ['-X', 'linger.ms=10']);
    const got = await kcatConsume(broker.bootstrap, topic);
    assert.equal(got.length, lines.length);
    const partitionsUsed = new Set<number>();
    for (const r of got) {
      assert.equal(r.partition, librdkafkaConsistentPartition(r.key, 3), `key ${r.key} on partition ${r.partition}`);
      partitionsUsed.add(r.partition);
    }
    assert.ok(partitionsUsed.size > 1, 'all keys hashed to one partition; the test proves nothing');
    for (const p of partitionsUsed) {
      const inPartition = got.filter((r) => r.partition === p).sort((a, b) => a.offset - b.offset);
      assert.deepEqual(inPartition.map((r) => r.offset), inPartition.map((_, i) => i), `partition ${p} offsets`);
      const seq = inPartition.map((r) => Number(r.value));
      assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `partition ${p} out of produce order`);
    }
  });
});
