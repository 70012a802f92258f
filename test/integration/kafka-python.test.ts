// kafka-python 2.0.x (Debian's python3-kafka, the pure-Python client) against a broker process:
// api_version auto-detection, KafkaAdminClient topics/configs/partitions, KafkaProducer with acks
// 0/1/all and every codec (batches checked on disk), the murmur2 default partitioner, a
// KafkaConsumer with assign()+seek, offsets_for_times and watermarks, and a consumer group of two
// members that split the partitions, commit, and resume from the committed offsets after a
// broker restart.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ATTR_COMPRESSION_MASK, RECORD_BATCH_OVERHEAD, readBatchHeader } from '../../src/protocol/records/batch-header.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { murmur2Partition } from './support.js';

// Shared Python: JSON output, a reader over assign()+seek that stops at the end offsets.
const PY_COMMON = String.raw`
import json, sys, time, threading
from kafka import KafkaProducer, KafkaConsumer, KafkaAdminClient, TopicPartition
from kafka.admin import NewTopic, NewPartitions, ConfigResource, ConfigResourceType
from kafka import errors as Errors
b = sys.argv[1]

def read_all(topic, partitions, start=0):
    c = KafkaConsumer(bootstrap_servers=b, enable_auto_commit=False, consumer_timeout_ms=500)
    tps = [TopicPartition(topic, p) for p in partitions]
    c.assign(tps)
    for tp in tps: c.seek(tp, start)
    end = c.end_offsets(tps)
    got = []
    deadline = time.time() + 20
    while time.time() < deadline and any(c.position(tp) < end[tp] for tp in tps):
        for tp, ms in c.poll(200).items():
            for m in ms:
                got.append({'partition': m.partition, 'offset': m.offset, 'key': m.key.decode() if m.key is not None else None,
                            'value': m.value.decode(), 'timestamp': m.timestamp,
                            'headers': [[k, v.decode()] for k, v in (m.headers or [])]})
    c.close()
    return got
`;

/** Compression codec and magic of every batch in a partition's first segment, read from disk. */
function batchesOnDisk(dataDir: string, topic: string, partition: number): { codec: number; magic: number; records: number }[] {
  const buf = readFileSync(join(dataDir, `${topic}-${partition}`, '00000000000000000000.log'));
  const out: { codec: number; magic: number; records: number }[] = [];
  for (let pos = 0; pos + RECORD_BATCH_OVERHEAD <= buf.length; ) {
    const h = readBatchHeader(buf, pos);
    if (h.sizeInBytes <= RECORD_BATCH_OVERHEAD) break; // preallocated tail, if any
    out.push({ codec: h.attributes & ATTR_COMPRESSION_MASK, magic: h.magic, records: h.recordsCount });
    pos += h.sizeInBytes;
  }
  return out;
}

// Kafka's codec ids in batch attributes. All four are available from Debian: gzip (stdlib),
// python3-snappy, python3-lz4, python3-zstandard.
const CODEC_IDS: Record<string, number> = { none: 0, gzip: 1, snappy: 2, lz4: 3, zstd: 4 };

interface Read {
  partition: number;
  offset: number;
  key: string | null;
  value: string;
  timestamp: number;
  headers: [string, string][];
}

describe('kafka-python (pure-Python client)', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ overrides: { 'num.partitions': '1', 'group.initial.rebalance.delay.ms': '0' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('auto-detects a modern api_version from ApiVersions, so v2 record batches are used', async () => {
    const out = await python<{ admin: number[]; producer: number[]; consumer: number[]; checksum: unknown; codecs: boolean[] }>(
      PY_COMMON +
        String.raw`
import kafka.codec as codec
a = KafkaAdminClient(bootstrap_servers=b)
p = KafkaProducer(bootstrap_servers=b, acks='all')
md = p.send('kp-detect', key=b'k', value=b'v').get(20)
c = KafkaConsumer(bootstrap_servers=b)
print(json.dumps({'admin': list(a.config['api_version']), 'producer': list(p.config['api_version']),
                  'consumer': list(c.config['api_version']), 'checksum': md.checksum,
                  'codecs': [codec.has_gzip(), codec.has_snappy(), codec.has_lz4(), codec.has_zstd()]}))
p.close(); c.close(); a.close()
`,
      [broker.bootstrap],
    );
    // kafka-python 2.0.2 maps ApiVersions ranges to a release; its newest marker is DescribeAcls v2
    // (2.5), which this broker serves (ACLs), so it is 2.5.
    for (const [who, v] of Object.entries({ admin: out.admin, producer: out.producer, consumer: out.consumer })) {
      assert.ok(v[0]! > 0 || v[1]! >= 11, `${who} api_version ${v.join('.')} must be >= 0.11 (v2 record batches)`);
      assert.deepEqual(v, [2, 5, 0], `${who} api_version`);
    }
    assert.equal(out.checksum, null, 'RecordMetadata.checksum is None only for v2 batches');
    assert.deepEqual(out.codecs, [true, true, true, true], 'gzip, snappy, lz4 and zstd are importable');
    const batches = batchesOnDisk(broker.dataDir, 'kp-detect', 0);
    assert.deepEqual(batches, [{ codec: 0, magic: 2, records: 1 }]);
  });

  it('KafkaAdminClient creates topics with configs, lists, describes configs, adds partitions, deletes', async () => {
    const out = await python<{
      dupError: string | null;
      listed: boolean;
      retention: [string, number] | null;
      cleanup: [string, number] | null;
      synonyms: [string, string, number][];
      partitionsBefore: number[];
      partitionsAfter: number[];
      tooFew: string | null;
      deleted: number[];
      listedAfter: boolean;
    }>(
      PY_COMMON +
        String.raw`
a = KafkaAdminClient(bootstrap_servers=b)
r = a.create_topics([NewTopic('kp-admin', 2, 1, topic_configs={'retention.ms': '123456', 'cleanup.policy': 'compact'})])
assert all(e[1] == 0 for e in r.topic_errors), r
dup = None
try:
    a.create_topics([NewTopic('kp-admin', 2, 1)])
except Errors.TopicAlreadyExistsError as e:
    dup = type(e).__name__
listed = 'kp-admin' in a.list_topics()
res = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, 'kp-admin')])
entries = {e[0]: (e[1], e[3]) for e in res[0].resources[0][4]}
res = a.describe_configs([ConfigResource(ConfigResourceType.TOPIC, 'kp-admin', {'retention.ms': None})], include_synonyms=True)
synonyms = [[s[0], s[1], s[2]] for e in res[0].resources[0][4] for s in e[5]]
c = KafkaConsumer(bootstrap_servers=b)
before = sorted(c.partitions_for_topic('kp-admin'))
r = a.create_partitions({'kp-admin': NewPartitions(4)})
assert r.topic_errors[0][1] == 0, r
too_few = None
try:
    a.create_partitions({'kp-admin': NewPartitions(3)})
except Errors.InvalidPartitionsError as e:
    too_few = type(e).__name__
deadline = time.time() + 10
while True:
    c._client.cluster.request_update(); c.poll(0); c.topics()
    after = sorted(c.partitions_for_topic('kp-admin') or [])
    if len(after) == 4 or time.time() > deadline: break
    time.sleep(0.1)
d = a.delete_topics(['kp-admin'])
print(json.dumps({'dupError': dup, 'listed': listed, 'retention': entries.get('retention.ms'), 'cleanup': entries.get('cleanup.policy'), 'synonyms': synonyms,
                  'partitionsBefore': before, 'partitionsAfter': after, 'tooFew': too_few,
                  'deleted': [e[1] for e in d.topic_error_codes], 'listedAfter': 'kp-admin' in a.list_topics()}))
c.close(); a.close()
`,
      [broker.bootstrap],
    );
    assert.equal(out.dupError, 'TopicAlreadyExistsError');
    assert.equal(out.listed, true);
    // Source 1 = DYNAMIC_TOPIC_CONFIG (set at creation).
    assert.deepEqual(out.retention, ['123456', 1]);
    assert.deepEqual(out.cleanup, ['compact', 1]);
    // With synonyms: the topic's own value first (source 1), then broker-level log.retention.* keys,
    // ending with the default (source 5).
    assert.deepEqual(out.synonyms[0], ['retention.ms', '123456', 1]);
    assert.ok(out.synonyms.length >= 2, JSON.stringify(out.synonyms));
    assert.ok(out.synonyms.slice(1).every(([name]) => name.startsWith('log.retention.')), JSON.stringify(out.synonyms));
    assert.equal(out.synonyms[out.synonyms.length - 1]![2], 5, JSON.stringify(out.synonyms));
    assert.deepEqual(out.partitionsBefore, [0, 1]);
    assert.deepEqual(out.partitionsAfter, [0, 1, 2, 3]);
    assert.equal(out.tooFew, 'InvalidPartitionsError');
    assert.deepEqual(out.deleted, [0]);
    assert.equal(out.listedAfter, false);
  });

  it('KafkaProducer with acks 0/1/all and every codec: records read back, batches compressed on disk', async () => {
    const codecs = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];
    const acksList = ['0', '1', 'all'];
    const out = await python<Record<string, { offsets: number[]; read: Read[] }>>(
      PY_COMMON +
        String.raw`
codecs = json.loads(sys.argv[2]); acks_list = json.loads(sys.argv[3])
res = {}
for acks in acks_list:
    for codec in codecs:
        topic = 'kp-%s-%s' % ('all' if acks == 'all' else acks, codec)
        p = KafkaProducer(bootstrap_servers=b, acks=acks if acks == 'all' else int(acks), linger_ms=50,
                          compression_type=None if codec == 'none' else codec)
        futures = [p.send(topic, key=('k%d' % i).encode(), value=(('value %d ' % i) * 20).encode(),
                          headers=[('h', ('x%d' % i).encode())]) for i in range(20)]
        p.flush(20)
        offsets = [f.get(20).offset for f in futures]
        p.close()
        res[topic] = {'offsets': offsets, 'read': read_all(topic, [0])}
print(json.dumps(res))
`,
      [broker.bootstrap, JSON.stringify(codecs), JSON.stringify(acksList)],
    );
    for (const acks of acksList) {
      for (const codec of codecs) {
        const topic = `kp-${acks}-${codec}`;
        const r = out[topic]!;
        // acks=0 gets no response, so kafka-python reports offset -1.
        const expectedOffsets = acks === '0' ? Array.from({ length: 20 }, () => -1) : Array.from({ length: 20 }, (_, i) => i);
        assert.deepEqual(r.offsets, expectedOffsets, `${topic} delivery offsets`);
        assert.deepEqual(
          r.read.map((m) => [m.offset, m.key, m.value, m.headers]),
          Array.from({ length: 20 }, (_, i) => [i, `k${i}`, `value ${i} `.repeat(20), [['h', `x${i}`]]]),
          `${topic} records`,
        );
        const batches = batchesOnDisk(broker.dataDir, topic, 0);
        assert.ok(batches.length >= 1, topic);
        assert.equal(batches.reduce((s, x) => s + x.records, 0), 20, `${topic} records on disk`);
        for (const batch of batches) {
          assert.equal(batch.magic, 2, `${topic} magic`);
          assert.equal(batch.codec, CODEC_IDS[codec], `${topic} codec on disk`);
        }
      }
    }
  });

  it('keyed records land on the partition murmur2 picks (the Java default partitioner)', async () => {
    const out = await python<{ key: string; partition: number; offset: number }[]>(
      PY_COMMON +
        String.raw`
a = KafkaAdminClient(bootstrap_servers=b)
a.create_topics([NewTopic('kp-keyed', 5, 1)])
p = KafkaProducer(bootstrap_servers=b, acks='all')
keys = ['key-%d' % i for i in range(60)] + ['', 'é-unicode', 'a' * 100]
fs = [(k, p.send('kp-keyed', key=k.encode(), value=b'v')) for k in keys]
p.flush(20)
print(json.dumps([{'key': k, 'partition': f.get(20).partition, 'offset': f.get(20).offset} for k, f in fs]))
p.close(); a.close()
`,
      [broker.bootstrap],
    );
    assert.equal(out.length, 63);
    for (const r of out) assert.equal(r.partition, murmur2Partition(r.key, 5), `key ${JSON.stringify(r.key)}`);
    assert.ok(new Set(out.map((r) => r.partition)).size === 5, 'keys spread over every partition');
    // Offsets per partition are dense and in send order.
    const perPartition = new Map<number, number[]>();
    for (const r of out) perPartition.set(r.partition, [...(perPartition.get(r.partition) ?? []), r.offset]);
    for (const [p, offs] of perPartition) assert.deepEqual(offs, offs.map((_, i) => i), `partition ${p}`);
  });

  it('KafkaConsumer: assign()+seek, offsets_for_times, beginning_offsets/end_offsets', async () => {
    const base = Date.now() - 60_000;
    const out = await python<{ begin: number; end: number; byTime: (number | null)[]; fromSeek: Read[]; past: null | number }>(
      PY_COMMON +
        String.raw`
base = int(sys.argv[2])
p = KafkaProducer(bootstrap_servers=b, acks='all')
for i in range(10):
    p.send('kp-times', key=b'k%d' % i, value=b'v%d' % i, timestamp_ms=base + i * 1000, partition=0)
p.flush(20); p.close()
c = KafkaConsumer(bootstrap_servers=b, enable_auto_commit=False)
tp = TopicPartition('kp-times', 0)
begin = c.beginning_offsets([tp])[tp]; end = c.end_offsets([tp])[tp]
by_time = []
for ts in [base - 5000, base + 3500, base + 9000]:
    r = c.offsets_for_times({tp: ts})[tp]
    by_time.append(None if r is None else r.offset)
past = c.offsets_for_times({tp: base + 60000})[tp]
c.close()
print(json.dumps({'begin': begin, 'end': end, 'byTime': by_time, 'fromSeek': read_all('kp-times', [0], by_time[1]), 'past': past}))
`,
      [broker.bootstrap, String(base)],
    );
    assert.equal(out.begin, 0);
    assert.equal(out.end, 10);
    // The first offset whose timestamp is >= the one asked for.
    assert.deepEqual(out.byTime, [0, 4, 9]);
    assert.equal(out.past, null, 'no record at or after a later timestamp');
    assert.deepEqual(
      out.fromSeek.map((m) => [m.offset, m.value, m.timestamp]),
      [4, 5, 6, 7, 8, 9].map((i) => [i, `v${i}`, base + i * 1000]),
    );
  });

  it('a group of two members splits the partitions, commits, and resumes from the commits after a broker restart', async () => {
    const PARTITIONS = 4;
    const split = await python<{ members: Record<string, { assigned: number[]; committed: Record<string, number> }>; seen: number; timedOut: boolean }>(
      PY_COMMON +
        String.raw`
a = KafkaAdminClient(bootstrap_servers=b)
a.create_topics([NewTopic('kp-group', 4, 1)]); a.close()
p = KafkaProducer(bootstrap_servers=b, acks='all')
for i in range(40): p.send('kp-group', key=b'k%d' % i, value=b'v%d' % i, partition=i % 4)
p.flush(20); p.close()
all_tps = [TopicPartition('kp-group', i) for i in range(4)]
end = {tp.partition: 10 for tp in all_tps}
state = {}; seen = set()
done = threading.Event(); committed = threading.Barrier(2, timeout=30)
timed_out = [False]
def member(name):
    c = KafkaConsumer('kp-group', bootstrap_servers=b, group_id='kp-g', enable_auto_commit=False, auto_offset_reset='earliest',
                      heartbeat_interval_ms=300, session_timeout_ms=6000)
    deadline = time.time() + 30
    while not done.is_set():
        if time.time() > deadline: timed_out[0] = True; done.set(); break
        for tp, ms in c.poll(200).items():
            for m in ms: seen.add((m.partition, m.offset))
        assigned = sorted(tp.partition for tp in c.assignment())
        caught_up = all(c.position(TopicPartition('kp-group', p)) == end[p] for p in assigned)
        state[name] = {'assigned': assigned, 'caught_up': caught_up}
        if len(state) == 2 and all(s['assigned'] and s['caught_up'] for s in state.values()):
            owned = [p for s in state.values() for p in s['assigned']]
            if sorted(owned) == [0, 1, 2, 3]: done.set()
    # Both commit while the group is still stable, then leave.
    c.commit()
    state[name]['committed'] = {str(tp.partition): c.committed(tp) for tp in c.assignment()}
    committed.wait()
    c.close()
ts = [threading.Thread(target=member, args=(n,)) for n in ('m1', 'm2')]
for t in ts: t.start()
for t in ts: t.join()
print(json.dumps({'members': {n: {'assigned': s['assigned'], 'committed': s.get('committed', {})} for n, s in state.items()}, 'seen': len(seen), 'timedOut': timed_out[0]}))
`,
      [broker.bootstrap],
    );
    assert.equal(split.timedOut, false, JSON.stringify(split));
    const [m1, m2] = [split.members['m1']!, split.members['m2']!];
    assert.ok(m1.assigned.length > 0 && m2.assigned.length > 0, JSON.stringify(split));
    assert.deepEqual([...m1.assigned, ...m2.assigned].sort(), [0, 1, 2, 3], 'a complete split, no partition owned twice');
    assert.equal(split.seen, 40, 'every record consumed');
    const committed = { ...m1.committed, ...m2.committed };
    assert.deepEqual(committed, Object.fromEntries(Array.from({ length: PARTITIONS }, (_, p) => [String(p), 10])));

    await broker.stop();
    await broker.start();

    const resumed = await python<{ got: [number, number, string][]; committed: Record<string, number | null> }>(
      PY_COMMON +
        String.raw`
p = KafkaProducer(bootstrap_servers=b, acks='all')
for i in range(8): p.send('kp-group', key=b'n%d' % i, value=b'new%d' % i, partition=i % 4)
p.flush(20); p.close()
c = KafkaConsumer('kp-group', bootstrap_servers=b, group_id='kp-g', enable_auto_commit=False, auto_offset_reset='earliest')
got = []
deadline = time.time() + 20
while time.time() < deadline and len(got) < 8:
    for tp, ms in c.poll(200).items():
        got += [[m.partition, m.offset, m.value.decode()] for m in ms]
committed = {str(i): c.committed(TopicPartition('kp-group', i)) for i in range(4)}
c.close()
print(json.dumps({'got': sorted(got), 'committed': committed}))
`,
      [broker.bootstrap],
    );
    assert.deepEqual(resumed.committed, { '0': 10, '1': 10, '2': 10, '3': 10 }, 'commits survived the restart');
    assert.deepEqual(
      resumed.got,
      Array.from({ length: 8 }, (_, i): [number, number, string] => [i % 4, 10 + Math.floor(i / 4), `new${i}`]).sort((x, y) => x[0] - y[0] || x[1] - y[1]),
      'only records after the committed offsets',
    );
  });
});
