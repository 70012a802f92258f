// Retention against a broker process: topics created with small segment.bytes and retention.bytes
// or retention.ms (topic configs at creation), a broker checking retention every 300 ms. Old
// segments disappear from the partition directory and the earliest offset moves up.
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat, python } from '../helpers/clients.js';
import { assertOk, eventually, kcatConsume } from './support.js';

const CREATE_AND_PRODUCE = String.raw`
import json, sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
b, topic, configs, records = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), json.loads(sys.argv[4])
a = AdminClient({'bootstrap.servers': b})
for f in a.create_topics([NewTopic(topic, 1, 1, config=configs)], operation_timeout=10).values(): f.result()
# One record per batch (linger 0, batch.num.messages 1) so segments roll between records.
p = Producer({'bootstrap.servers': b, 'acks': 'all', 'linger.ms': 0, 'batch.num.messages': 1, 'max.in.flight.requests.per.connection': 1})
errors = []
for r in records:
    p.produce(topic, key=r['key'], value=r['value'], partition=0, timestamp=r['timestamp'], on_delivery=lambda e, m: e and errors.append(str(e)))
    p.flush(10)
print(json.dumps({'errors': errors}))
`;

function segmentLogs(dataDir: string, topic: string): string[] {
  return readdirSync(join(dataDir, `${topic}-0`))
    .filter((f) => f.endsWith('.log'))
    .sort();
}

async function earliestOffset(bootstrap: string, topic: string): Promise<number> {
  const q = await kcat(['-Q', '-b', bootstrap, '-t', `${topic}:0:-2`]);
  assertOk(q, 'kcat -Q earliest');
  const m = /\[0\] offset (-?\d+)/.exec(q.stdout);
  assert.ok(m !== null, q.stdout);
  return Number(m[1]);
}

describe('retention', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ overrides: { 'log.retention.check.interval.ms': '300', 'num.partitions': '1' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('retention.bytes removes the oldest segments and moves the earliest offset up', async () => {
    const topic = 'retention-bytes';
    const value = 'v'.repeat(300);
    const now = Date.now();
    const records = Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: `${i}:${value}`, timestamp: now }));
    const out = await python<{ errors: string[] }>(CREATE_AND_PRODUCE, [
      broker.bootstrap,
      topic,
      JSON.stringify({ 'segment.bytes': '2048', 'retention.bytes': '8192', 'retention.ms': '-1' }),
      JSON.stringify(records),
    ]);
    assert.deepEqual(out.errors, []);
    const firstSegment = '00000000000000000000.log';
    // A retention pass may run while records are still arriving, so wait for one that ran after
    // the last of them: the first segment gone and what is left within retention.bytes.
    const remaining = await eventually('old segments to be deleted', () => {
      const logs = segmentLogs(broker.dataDir, topic);
      return logs.includes(firstSegment) || logs.length > 6 ? undefined : logs;
    });
    // Several segments were written (about 5 records each); those left fit retention.bytes plus the active one.
    assert.ok(remaining.length >= 2 && remaining.length <= 6, `segments left: ${remaining.join(', ')}`);
    const earliest = await earliestOffset(broker.bootstrap, topic);
    assert.equal(earliest, Number(remaining[0]!.replace('.log', '')), 'earliest offset is the first remaining segment base');
    assert.ok(earliest > 0);
    const got = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-p', '0']);
    assert.equal(got[0]!.offset, earliest);
    assert.deepEqual(got.map((r) => r.offset), Array.from({ length: 60 - earliest }, (_, i) => earliest + i));
    assert.equal(got.at(-1)!.value, `59:${value}`);
  });

  it('retention.ms removes segments whose records are all older, keeping recent ones', async () => {
    const topic = 'retention-time';
    const now = Date.now();
    // 30 records an hour old, then 10 current ones.
    const records = [
      ...Array.from({ length: 30 }, (_, i) => ({ key: 'old', value: `old-${i}-${'o'.repeat(200)}`, timestamp: now - 3_600_000 + i })),
      ...Array.from({ length: 10 }, (_, i) => ({ key: 'new', value: `new-${i}`, timestamp: now + i })),
    ];
    const out = await python<{ errors: string[] }>(CREATE_AND_PRODUCE, [
      broker.bootstrap,
      topic,
      JSON.stringify({ 'segment.bytes': '1500', 'retention.ms': '600000', 'retention.bytes': '-1' }),
      JSON.stringify(records),
    ]);
    assert.deepEqual(out.errors, []);
    const earliest = await eventually('the earliest offset to move past the old records', async () => {
      const e = await earliestOffset(broker.bootstrap, topic);
      return e >= 20 ? e : undefined;
    });
    // Every expired segment goes; the one shared with recent records (if any) stays.
    assert.ok(earliest <= 30, `recent records were deleted too (earliest ${earliest})`);
    const got = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-p', '0']);
    assert.equal(got[0]!.offset, earliest);
    assert.deepEqual(got.filter((r) => r.key === 'new').map((r) => r.value), Array.from({ length: 10 }, (_, i) => `new-${i}`));
    const logs = segmentLogs(broker.dataDir, topic);
    assert.ok(!logs.includes('00000000000000000000.log'), logs.join(', '));
    // Segments left start at or after the earliest offset; nothing older stays on disk.
    for (const f of logs) assert.ok(Number(f.replace('.log', '')) >= earliest, `${f} is older than ${earliest}`);
  });
});
