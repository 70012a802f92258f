// Log compaction against broker processes, driven by confluent-kafka (librdkafka) and kcat: a
// compacted topic with small segments gets many updates to few keys; once the cleaner has run, a
// consumer from offset 0 sees exactly the latest value per key at the offset it was written at;
// tombstones go after delete.retention.ms; committed and aborted transactions on a compacted topic
// leave only committed values, at their offsets, to read_committed and read_uncommitted alike;
// kill -9 in the middle of cleaning loses nothing; and __consumer_offsets stays bounded under
// continuous commits. Waits poll the topic with a bound.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { eventually, kcatConsume } from './support.js';

const PRODUCE = String.raw`
import json, sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
b, topic, configs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with open(sys.argv[4]) as f: records = json.load(f)
if configs is not None:
    a = AdminClient({'bootstrap.servers': b})
    for f in a.create_topics([NewTopic(topic, 1, 1, config=configs)], operation_timeout=10).values(): f.result()
p = Producer({'bootstrap.servers': b, 'acks': 'all', 'linger.ms': 0, 'batch.num.messages': 1, 'max.in.flight.requests.per.connection': 1})
offsets, errors = [], []
def done(e, m):
    if e: errors.append(str(e))
    else: offsets.append(m.offset())
for r in records:
    p.produce(topic, key=r['key'], value=r['value'], partition=0, on_delivery=done)
    p.poll(0)
p.flush(30)
print(json.dumps({'offsets': offsets, 'errors': errors}))
`;

/** Transactions, each {commit, records}: every record is flushed (so written) before the
 * transaction ends, aborted ones too. Prints the offsets of each transaction's records. */
const PRODUCE_TXNS = String.raw`
import json, sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
b, topic, configs = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with open(sys.argv[4]) as f: txns = json.load(f)
a = AdminClient({'bootstrap.servers': b})
for f in a.create_topics([NewTopic(topic, 1, 1, config=configs)], operation_timeout=10).values(): f.result()
p = Producer({'bootstrap.servers': b, 'transactional.id': 'compaction-txns', 'linger.ms': 0, 'batch.num.messages': 1})
p.init_transactions(30)
out, errors = [], []
for t in txns:
    offsets = []
    def done(e, m, offsets=offsets):
        if e: errors.append(str(e))
        else: offsets.append(m.offset())
    p.begin_transaction()
    for r in t['records']:
        p.produce(topic, key=r['key'], value=r['value'], partition=0, on_delivery=done)
        p.poll(0)
    p.flush(30)
    if t['commit']: p.commit_transaction(30)
    else: p.abort_transaction(30)
    out.append(offsets)
print(json.dumps({'offsets': out, 'errors': errors}))
`;

const CONSUME = String.raw`
import json, sys
from confluent_kafka import Consumer, TopicPartition, KafkaError
b, topic = sys.argv[1], sys.argv[2]
isolation = sys.argv[3] if len(sys.argv) > 3 else 'read_uncommitted'
c = Consumer({'bootstrap.servers': b, 'group.id': 'compaction-check', 'enable.partition.eof': True, 'enable.auto.commit': False, 'isolation.level': isolation})
c.assign([TopicPartition(topic, 0, 0)])
out = []
while True:
    m = c.poll(10)
    if m is None: break
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF: break
        raise Exception(str(m.error()))
    out.append({'offset': m.offset(), 'key': m.key().decode(), 'value': None if m.value() is None else m.value().decode()})
c.close()
print(json.dumps(out))
`;

const COMMIT = String.raw`
import json, sys
from confluent_kafka import Consumer, TopicPartition
b, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({'bootstrap.servers': b, 'group.id': 'committer', 'enable.auto.commit': False})
for i in range(n):
    c.commit(offsets=[TopicPartition(topic, 0, i % 1000)], asynchronous=False)
got = c.committed([TopicPartition(topic, 0)], timeout=10)[0].offset
c.close()
print(json.dumps({'committed': got}))
`;

interface Consumed {
  offset: number;
  key: string;
  value: string | null;
}

async function produce(bootstrap: string, topic: string, configs: Record<string, string> | null, records: { key: string; value: string | null }[]): Promise<number[]> {
  // Through a file: thousands of records would pass the argument size limit.
  const file = join(mkdtempSync(join(tmpdir(), 'compaction-')), 'records.json');
  writeFileSync(file, JSON.stringify(records));
  const out = await python<{ offsets: number[]; errors: string[] }>(PRODUCE, [bootstrap, topic, JSON.stringify(configs), file], 120_000);
  rmSync(dirname(file), { recursive: true, force: true });
  assert.deepEqual(out.errors, []);
  assert.equal(out.offsets.length, records.length);
  return out.offsets;
}

const consume = (bootstrap: string, topic: string, isolation: 'read_committed' | 'read_uncommitted' = 'read_uncommitted') => python<Consumed[]>(CONSUME, [bootstrap, topic, isolation], 60_000);

interface Txn {
  commit: boolean;
  records: { key: string; value: string }[];
}

/** Produces `txns` transactionally into a new topic; returns each transaction's record offsets. */
async function produceTxns(bootstrap: string, topic: string, configs: Record<string, string>, txns: Txn[]): Promise<number[][]> {
  const file = join(mkdtempSync(join(tmpdir(), 'compaction-')), 'txns.json');
  writeFileSync(file, JSON.stringify(txns));
  const out = await python<{ offsets: number[][]; errors: string[] }>(PRODUCE_TXNS, [bootstrap, topic, JSON.stringify(configs), file], 120_000);
  rmSync(dirname(file), { recursive: true, force: true });
  assert.deepEqual(out.errors, []);
  assert.deepEqual(out.offsets.map((o) => o.length), txns.map((t) => t.records.length), 'every record written');
  return out.offsets;
}

/** key -> the latest of `records` (with the offsets the producer was told), as compaction must leave it. */
function latest(records: { key: string; value: string | null }[], offsets: number[]): Map<string, Consumed> {
  const m = new Map<string, Consumed>();
  records.forEach((r, i) => m.set(r.key, { offset: offsets[i]!, key: r.key, value: r.value }));
  return m;
}

const sorted = (m: Map<string, Consumed>) => [...m.values()].sort((a, b) => a.offset - b.offset);

function logBytes(dataDir: string, dir: string): number {
  return readdirSync(join(dataDir, dir))
    .filter((f) => f.endsWith('.log'))
    .reduce((n, f) => n + statSync(join(dataDir, dir, f)).size, 0);
}

/** Updates to `keys` keys, then `fillers` records of their own keys, so the updates leave the active segment. */
function updates(count: number, keys: number, fillers: number, tag: string): { key: string; value: string | null }[] {
  const out: { key: string; value: string | null }[] = [];
  for (let i = 0; i < count; i++) out.push({ key: `key-${i % keys}`, value: `${tag}-${i}-${'x'.repeat(40)}` });
  for (let i = 0; i < fillers; i++) out.push({ key: `${tag}-filler-${i}`, value: 'f'.repeat(60) });
  return out;
}

describe('log compaction', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({
      overrides: {
        'log.cleaner.backoff.ms': '200',
        'num.partitions': '1',
        'offsets.topic.num.partitions': '1',
        'offsets.topic.segment.bytes': '16384',
      },
    });
  });
  after(async () => {
    await broker?.destroy();
  });

  const compacted = { 'cleanup.policy': 'compact', 'segment.bytes': '4096', 'min.cleanable.dirty.ratio': '0.01', 'delete.retention.ms': '3000' };

  it('a consumer from offset 0 sees exactly the latest value per key, at the offsets written (confluent-kafka and kcat)', async () => {
    const topic = 'compacted-updates';
    const records = updates(600, 5, 80, 'a');
    const offsets = await produce(broker.bootstrap, topic, compacted, records);
    const expected = sorted(latest(records, offsets));
    const got = await eventually('the cleaner to compact the updates', async () => {
      const c = await consume(broker.bootstrap, topic);
      return c.filter((r) => r.key.startsWith('key-')).length === 5 ? c : undefined;
    }, 60_000, 300);
    // Each filler is its own key, so all of them stay (the last ones in the active segment).
    assert.deepEqual(got, expected, 'latest value per key, offsets unchanged');
    const viaKcat = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-p', '0']);
    assert.deepEqual(viaKcat.map((r) => [r.offset, r.key, r.value]), expected.map((r) => [r.offset, r.key, r.value]));
  });

  it('a tombstone deletes its key and is itself gone after delete.retention.ms', async () => {
    const topic = 'compacted-tombstones';
    const first = updates(200, 3, 0, 'b');
    await produce(broker.bootstrap, topic, compacted, first);
    const tombstone = [{ key: 'key-1', value: null }, ...updates(0, 0, 80, 'c')];
    await produce(broker.bootstrap, topic, null, tombstone);
    // First the older values of key-1 go and the tombstone stays ...
    await eventually('the tombstone to remain as the only key-1 record', async () => {
      const c = await consume(broker.bootstrap, topic);
      const k1 = c.filter((r) => r.key === 'key-1');
      return k1.length === 1 && k1[0]!.value === null ? c : undefined;
    }, 60_000, 300);
    // ... then, delete.retention.ms (3 s) after the cleaning that kept it, the tombstone goes too.
    const after = await eventually('the tombstone to go', async () => {
      const c = await consume(broker.bootstrap, topic);
      return c.some((r) => r.key === 'key-1') ? undefined : c;
    }, 60_000, 500);
    assert.deepEqual(after.filter((r) => r.key.startsWith('key-')).map((r) => r.key).sort(), ['key-0', 'key-2']);
  });

  it('aborted transactions leave nothing after cleaning: read_committed and read_uncommitted see the latest committed value per key, at its offset', async () => {
    const topic = 'compacted-txns';
    const txns: Txn[] = [];
    for (let round = 0; round < 12; round++) {
      txns.push({ commit: true, records: Array.from({ length: 5 }, (_, k) => ({ key: `key-${k}`, value: `committed-${round}-${k}-${'x'.repeat(30)}` })) });
      txns.push({ commit: false, records: Array.from({ length: 5 }, (_, k) => ({ key: `key-${k}`, value: `aborted-${round}-${k}-${'x'.repeat(30)}` })) });
    }
    // A key only an aborted transaction ever wrote, and one last abort after every commit.
    txns.push({ commit: false, records: [{ key: 'aborted-only', value: 'never' }, { key: 'key-3', value: 'aborted-last' }] });
    // Fillers of their own keys, committed, so everything before them leaves the active segment.
    txns.push({ commit: true, records: Array.from({ length: 80 }, (_, i) => ({ key: `filler-${i}`, value: 'f'.repeat(60) })) });
    const offsets = await produceTxns(broker.bootstrap, topic, compacted, txns);
    const expected = new Map<string, Consumed>();
    txns.forEach((t, i) => {
      if (t.commit) t.records.forEach((r, j) => expected.set(r.key, { offset: offsets[i]![j]!, key: r.key, value: r.value }));
    });
    const want = sorted(expected);
    const uncommitted = await eventually('the cleaner to remove the aborted and superseded records', async () => {
      const c = await consume(broker.bootstrap, topic, 'read_uncommitted');
      return c.length === want.length ? c : undefined;
    }, 60_000, 300);
    assert.deepEqual(uncommitted, want, 'read_uncommitted: only committed values, latest per key, offsets unchanged');
    assert.deepEqual(await consume(broker.bootstrap, topic, 'read_committed'), want, 'read_committed: the same');
  });

  it('__consumer_offsets stays bounded under continuous commits', async () => {
    const topic = 'committed-topic';
    await produce(broker.bootstrap, topic, {}, [{ key: 'a', value: 'b' }]);
    // Each commit is a record of ~100 bytes: 5000 of them would be ~500 KB uncompacted.
    const r = await python<{ committed: number }>(COMMIT, [broker.bootstrap, topic, '5000'], 300_000);
    assert.equal(r.committed, 4999 % 1000);
    const bytes = await eventually('__consumer_offsets to be compacted', () => {
      const b = logBytes(broker.dataDir, '__consumer_offsets-0');
      return b < 3 * 16384 ? b : undefined;
    }, 60_000, 300);
    assert.ok(bytes < 3 * 16384, `${bytes} bytes`);
  });
});

describe('log compaction across kill -9', () => {
  let broker: BrokerProcess;
  before(async () => {
    // Throttled, so a round lasts seconds and the kill lands in the middle of one.
    broker = await startBroker({ overrides: { 'log.cleaner.backoff.ms': '100', 'num.partitions': '1', 'log.cleaner.io.max.bytes.per.second': '40000' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('a kill -9 during cleaning, then a restart, loses no key and leaves each latest value in place', async () => {
    const topic = 'compacted-crash';
    const records = updates(2000, 20, 80, 'd');
    const offsets = await produce(broker.bootstrap, topic, { 'cleanup.policy': 'compact', 'segment.bytes': '8192', 'min.cleanable.dirty.ratio': '0.01' }, records);
    const expected = latest(records, offsets);
    const dir = join(broker.dataDir, `${topic}-0`);
    await eventually('the cleaner to be writing a segment', () => (readdirSync(dir).some((f) => f.endsWith('.cleaned') || f.endsWith('.swap')) ? true : undefined), 60_000, 20);
    await broker.kill();
    await broker.start();
    const got = await consume(broker.bootstrap, topic);
    const offsetsSeen = got.map((r) => r.offset);
    assert.deepEqual(offsetsSeen, [...offsetsSeen].sort((a, b) => a - b), 'offsets increase');
    assert.equal(new Set(offsetsSeen).size, offsetsSeen.length, 'no offset twice');
    const byOffset = new Map(records.map((r, i) => [offsets[i]!, r]));
    for (const r of got) assert.deepEqual({ key: r.key, value: r.value }, byOffset.get(r.offset), `offset ${r.offset} as written`);
    for (const e of expected.values()) assert.ok(got.some((r) => r.offset === e.offset), `the latest ${e.key} (offset ${e.offset}) is there`);
    // And the restarted cleaner finishes the job (its worker thread again), leaving no file of
    // the interrupted round and no partition given up on.
    await eventually('the cleaner to finish after the restart', async () => {
      const c = await consume(broker.bootstrap, topic);
      return c.length === expected.size ? c : undefined;
    }, 120_000, 500);
    const roundLogged = () => broker.logs.split('\n').some((l) => l.includes('"msg":"cleaned log"') && l.includes(`"topic":"${topic}"`));
    await eventually('the round to be logged', () => (roundLogged() ? true : undefined), 60_000, 200);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.cleaned') || f.endsWith('.swap') || f === 'cleaner-swap'), []);
    assert.equal(broker.logs.includes('uncleanable'), false, 'no partition marked uncleanable');
    assert.equal(broker.logs.includes('worker thread died'), false, 'the worker never crashed');
  });
});
