// confluent-kafka (Python over librdkafka) against a broker process: AdminClient create/delete,
// Producer with every compression.type and acks setting (idempotent where acks=all), a Consumer
// assigned to explicit partitions and offsets (no group), offsets_for_times, watermarks, and the
// murmur2 partitioner.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { murmur2Partition } from './support.js';

// Shared Python: a producer run that reports every delivery, and an assign()-based reader.
const PY_COMMON = String.raw`
import json, sys, time
from confluent_kafka import Producer, Consumer, TopicPartition, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

def produce(bootstrap, topic, records, conf):
    p = Producer(dict({'bootstrap.servers': bootstrap, 'linger.ms': 10}, **conf))
    delivered = []
    errors = []
    def cb(err, msg):
        if err is not None:
            errors.append(str(err))
        else:
            delivered.append({'partition': msg.partition(), 'offset': msg.offset(), 'key': msg.key().decode(), 'value': msg.value().decode()})
    for r in records:
        kw = {'key': r['key'], 'value': r['value'], 'on_delivery': cb}
        if 'partition' in r: kw['partition'] = r['partition']
        if 'timestamp' in r: kw['timestamp'] = r['timestamp']
        p.produce(topic, **kw)
        p.poll(0)
    remaining = p.flush(20)
    return delivered, errors, remaining

def read(bootstrap, topic, starts, expected):
    c = Consumer({'bootstrap.servers': bootstrap, 'group.id': 'unused-assign-only', 'enable.auto.commit': False, 'enable.partition.eof': True})
    c.assign([TopicPartition(topic, p, o) for p, o in starts])
    got, eof = [], set()
    deadline = time.time() + 20
    while time.time() < deadline and (len(eof) < len(starts) or len(got) < expected):
        m = c.poll(0.5)
        if m is None: continue
        if m.error():
            if m.error().code() == -191: eof.add(m.partition()); continue
            raise KafkaException(m.error())
        got.append({'partition': m.partition(), 'offset': m.offset(), 'key': m.key().decode() if m.key() is not None else None, 'value': m.value().decode(), 'timestamp': m.timestamp()[1]})
    c.close()
    return got
`;

interface Delivered {
  partition: number;
  offset: number;
  key: string;
  value: string;
}
interface Read extends Delivered {
  timestamp: number;
}

describe('confluent-kafka (Python, librdkafka)', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ overrides: { 'num.partitions': '1' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('AdminClient creates topics with configs, refuses a duplicate, deletes them', async () => {
    const out = await python<{ created: Record<string, string | null>; dup: string | null; listed: Record<string, number>; invalid: string | null; deleted: Record<string, string | null>; after: string[] }>(
      PY_COMMON +
        String.raw`
b = sys.argv[1]
a = AdminClient({'bootstrap.servers': b})
def outcome(fs):
    res = {}
    for t, f in fs.items():
        try:
            f.result(); res[t] = None
        except KafkaException as e:
            res[t] = e.args[0].name()
    return res
created = outcome(a.create_topics([NewTopic('ck-admin-a', 4, 1, config={'retention.ms': '3600000'}), NewTopic('ck-admin-b', 2, 1)], operation_timeout=10))
dup = outcome(a.create_topics([NewTopic('ck-admin-a', 1, 1)]))['ck-admin-a']
invalid = outcome(a.create_topics([NewTopic('bad/name', 1, 1)]))['bad/name']
md = a.list_topics(timeout=10)
listed = {t: len(md.topics[t].partitions) for t in ['ck-admin-a', 'ck-admin-b'] if t in md.topics}
deleted = outcome(a.delete_topics(['ck-admin-a', 'ck-admin-b', 'ck-admin-missing'], operation_timeout=10))
md = a.list_topics(timeout=10)
print(json.dumps({'created': created, 'dup': dup, 'listed': listed, 'invalid': invalid, 'deleted': deleted, 'after': sorted(t for t in md.topics if t.startswith('ck-admin'))}))
`,
      [broker.bootstrap],
    );
    assert.deepEqual(out.created, { 'ck-admin-a': null, 'ck-admin-b': null });
    assert.equal(out.dup, 'TOPIC_ALREADY_EXISTS');
    // librdkafka's name for INVALID_TOPIC_EXCEPTION (17).
    assert.equal(out.invalid, 'TOPIC_EXCEPTION');
    assert.deepEqual(out.listed, { 'ck-admin-a': 4, 'ck-admin-b': 2 });
    assert.deepEqual(out.deleted, { 'ck-admin-a': null, 'ck-admin-b': null, 'ck-admin-missing': 'UNKNOWN_TOPIC_OR_PART' });
    assert.deepEqual(out.after, []);
  });

  it('produces with every compression.type and acks setting and reads the records back by offset', async () => {
    const out = await python<{ runs: { codec: string; acks: string; delivered: Delivered[]; errors: string[]; remaining: number; read: Read[] }[] }>(
      PY_COMMON +
        String.raw`
b = sys.argv[1]
runs = []
for codec in ['none', 'gzip', 'snappy', 'lz4', 'zstd']:
    for acks in ['0', '1', 'all']:
        topic = 'ck-%s-acks-%s' % (codec, acks)
        records = [{'key': 'k%d' % (i % 5), 'value': '%s/%s/%d/%s' % (codec, acks, i, 'y' * (i * 11)), 'partition': 0} for i in range(40)]
        conf = {'compression.type': codec, 'acks': acks, 'enable.idempotence': acks == 'all'}
        delivered, errors, remaining = produce(b, topic, records, conf)
        runs.append({'codec': codec, 'acks': acks, 'delivered': delivered, 'errors': errors, 'remaining': remaining, 'read': read(b, topic, [(0, 0)], len(records))})
print(json.dumps({'runs': runs}))
`,
      [broker.bootstrap],
      120_000,
    );
    assert.equal(out.runs.length, 15);
    for (const run of out.runs) {
      const label = `${run.codec} acks=${run.acks}`;
      assert.deepEqual(run.errors, [], label);
      assert.equal(run.remaining, 0, label);
      assert.equal(run.delivered.length, 40, label);
      const expected = Array.from({ length: 40 }, (_, i) => `${run.codec}/${run.acks}/${i}/${'y'.repeat(i * 11)}`);
      assert.deepEqual(run.read.map((r) => r.value), expected, `${label}: values`);
      assert.deepEqual(run.read.map((r) => r.key), expected.map((_, i) => `k${i % 5}`), `${label}: keys`);
      assert.deepEqual(run.read.map((r) => r.offset), expected.map((_, i) => i), `${label}: offsets`);
      // acks=0 gets no response, so librdkafka reports offset -1001 (unknown); otherwise the real one.
      if (run.acks !== '0') assert.deepEqual(run.delivered.map((d) => d.offset), expected.map((_, i) => i), `${label}: delivery reports`);
    }
  });

  it('reads from an offset and finds offsets by timestamp (offsets_for_times), with watermarks', async () => {
    const base = Date.now() - 100_000;
    const out = await python<{ fromOffset: Read[]; byTime: number[]; watermarks: number[] }>(
      PY_COMMON +
        String.raw`
b, base = sys.argv[1], int(sys.argv[2])
topic = 'ck-times'
# Explicit CreateTime timestamps 1 s apart.
records = [{'key': 'k', 'value': str(i), 'partition': 0, 'timestamp': base + i * 1000} for i in range(20)]
delivered, errors, remaining = produce(b, topic, records, {'acks': 'all', 'enable.idempotence': True, 'compression.type': 'lz4'})
assert not errors and remaining == 0, errors
from_offset = read(b, topic, [(0, 13)], 7)
c = Consumer({'bootstrap.servers': b, 'group.id': 'unused'})
lookups = [base - 5000, base, base + 4500, base + 19000, base + 60000]
# One lookup per call: librdkafka keeps one entry per partition in a request.
found = [c.offsets_for_times([TopicPartition(topic, 0, t)], timeout=10)[0] for t in lookups]
watermarks = list(c.get_watermark_offsets(TopicPartition(topic, 0), timeout=10))
c.close()
print(json.dumps({'fromOffset': from_offset, 'byTime': [f.offset for f in found], 'watermarks': watermarks}))
`,
      [broker.bootstrap, String(base)],
    );
    assert.deepEqual(out.fromOffset.map((r) => r.offset), [13, 14, 15, 16, 17, 18, 19]);
    assert.deepEqual(out.fromOffset.map((r) => r.value), ['13', '14', '15', '16', '17', '18', '19']);
    assert.deepEqual(out.fromOffset.map((r) => r.timestamp), [13, 14, 15, 16, 17, 18, 19].map((i) => base + i * 1000));
    // First offset whose timestamp is >= the one asked; none after the last (-1).
    assert.deepEqual(out.byTime, [0, 0, 5, 19, -1]);
    assert.deepEqual(out.watermarks, [0, 20]);
  });

  it('auto-creates on first produce, and keyed records follow the murmur2 partitioner in order', async () => {
    const out = await python<{ partitions: number; delivered: Delivered[]; read: Read[] }>(
      PY_COMMON +
        String.raw`
b = sys.argv[1]
a = AdminClient({'bootstrap.servers': b})
fs = a.create_topics([NewTopic('ck-keyed', 4, 1)])
for f in fs.values(): f.result()
records = [{'key': 'account-%d' % (i % 9), 'value': str(i)} for i in range(180)]
delivered, errors, remaining = produce(b, 'ck-keyed', records, {'partitioner': 'murmur2_random', 'acks': 'all', 'enable.idempotence': True, 'compression.type': 'snappy'})
assert not errors and remaining == 0, errors
got = read(b, 'ck-keyed', [(p, 0) for p in range(4)], len(records))
# Auto-creation: the producer's metadata request creates the topic with num.partitions (1).
d2, e2, r2 = produce(b, 'ck-auto-created', [{'key': 'a', 'value': 'b'}], {'acks': 'all'})
assert not e2 and r2 == 0 and len(d2) == 1, e2
md = a.list_topics('ck-auto-created', timeout=10)
print(json.dumps({'partitions': len(md.topics['ck-auto-created'].partitions), 'delivered': delivered, 'read': got}))
`,
      [broker.bootstrap],
    );
    assert.equal(out.partitions, 1);
    assert.equal(out.read.length, 180);
    const used = new Set<number>();
    for (const r of out.read) {
      assert.equal(r.partition, murmur2Partition(r.key, 4), `key ${r.key}`);
      used.add(r.partition);
    }
    assert.ok(used.size > 1, 'every key hashed to one partition; the test proves nothing');
    for (const p of used) {
      const inP = out.read.filter((r) => r.partition === p);
      assert.deepEqual(inP.map((r) => r.offset), inP.map((_, i) => i), `partition ${p} offsets`);
      const seq = inP.map((r) => Number(r.value));
      assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `partition ${p} order`);
    }
    // Delivery reports name the same partition and offset the consumer found.
    const readAt = new Map(out.read.map((r) => [`${r.partition}/${r.offset}`, r.value]));
    for (const d of out.delivered) assert.equal(readAt.get(`${d.partition}/${d.offset}`), d.value);
  });

  it('an idempotent producer delivers many in-flight batches exactly once', async () => {
    const out = await python<{ delivered: Delivered[]; read: Read[] }>(
      PY_COMMON +
        String.raw`
b = sys.argv[1]
records = [{'key': 'k%d' % (i % 3), 'value': str(i), 'partition': i % 2} for i in range(3000)]
a = AdminClient({'bootstrap.servers': b})
for f in a.create_topics([NewTopic('ck-idempotent', 2, 1)]).values(): f.result()
delivered, errors, remaining = produce(b, 'ck-idempotent', records, {'enable.idempotence': True, 'acks': 'all', 'max.in.flight.requests.per.connection': 5, 'batch.num.messages': 50, 'linger.ms': 1})
assert not errors and remaining == 0, errors
print(json.dumps({'delivered': delivered, 'read': read(b, 'ck-idempotent', [(0, 0), (1, 0)], len(records))}))
`,
      [broker.bootstrap],
    );
    assert.equal(out.delivered.length, 3000);
    assert.equal(out.read.length, 3000, 'duplicates or losses');
    for (const p of [0, 1]) {
      const values = out.read.filter((r) => r.partition === p).map((r) => Number(r.value));
      assert.deepEqual(values, Array.from({ length: 1500 }, (_, i) => 2 * i + p), `partition ${p}`);
    }
  });
});
