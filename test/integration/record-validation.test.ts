// Record-level validation on a broker process. Through librdkafka: a compacted topic refuses
// records without keys, and message.timestamp.before.max.ms refuses old ones. Over a raw socket:
// batches with a valid CRC but malformed records (hand-built bytes, not our encoder) are refused
// with Kafka's error codes and never stored, so a kcat consumer reading the partition across them
// keeps going and sees every good record.
import { spawn } from 'node:child_process';
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { batch, body, record, recordFields, records } from '../../src/protocol/records/test-helpers.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { parseProduceResponse, produceRequest, request } from './raw-frames.js';
import { kcatConsume, kcatProduce } from './support.js';

let broker: BrokerProcess;
before(async () => {
  broker = await startBroker();
});
after(() => broker?.destroy());

const script = `
import json, sys, time
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka import Producer
bootstrap = sys.argv[1]
a = AdminClient({'bootstrap.servers': bootstrap})
topics = [NewTopic('compacted', 1, 1, config={'cleanup.policy': 'compact'}),
          NewTopic('recent-only', 1, 1, config={'message.timestamp.before.max.ms': '60000'})]
for f in a.create_topics(topics).values(): f.result()
out = {}
def send(name, topic, **kw):
    p = Producer({'bootstrap.servers': bootstrap, 'linger.ms': 0})
    def report(err, msg):
        out[name] = None if err is None else err.name()
    p.produce(topic, on_delivery=report, **kw)
    p.flush(10)
send('unkeyed', 'compacted', value=b'v')
send('keyed', 'compacted', key=b'k', value=b'v')
send('old', 'recent-only', value=b'v', timestamp=int(time.time() * 1000) - 3600000)
send('fresh', 'recent-only', value=b'v')
print(json.dumps(out))
`;

test('compacted topics refuse unkeyed records and timestamp bounds refuse old records', async () => {
  const out = await python<Record<string, string | null>>(script, [broker.bootstrap]);
  assert.deepEqual(out, { unkeyed: 'INVALID_RECORD', keyed: null, old: 'INVALID_TIMESTAMP', fresh: null });
});

test('clients cannot write to internal topics or create the metadata topic', async () => {
  const out = await python<Record<string, string | null>>(
    `
import json, sys
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
out = {}
a = AdminClient({'bootstrap.servers': sys.argv[1]})
for t, f in a.create_topics([NewTopic('__cluster_metadata', 1, 1)]).items():
    try:
        f.result(); out['create'] = None
    except Exception as e:
        out['create'] = e.args[0].name()
# A group's first FindCoordinator creates __consumer_offsets (clients never auto-create it).
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'g'})
c.subscribe(['compacted'])
c.poll(2)
c.close()
# A group's first FindCoordinator creates __consumer_offsets (clients never auto-create it).
from confluent_kafka import Consumer
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'g'})
c.subscribe(['compacted'])
c.poll(2)
c.close()
p = Producer({'bootstrap.servers': sys.argv[1], 'linger.ms': 0, 'message.send.max.retries': 0})
p.produce('__consumer_offsets', key=b'k', value=b'v', on_delivery=lambda e, m: out.__setitem__('produce', None if e is None else e.name()))
p.flush(10)
print(json.dumps(out))
`,
    [broker.bootstrap],
  );
  assert.equal(out['create'], 'TOPIC_AUTHORIZATION_FAILED');
  assert.equal(out['produce'], 'TOPIC_EXCEPTION');
});

const INVALID_RECORD = 87;
const CORRUPT_MESSAGE = 2;

/** A kcat consumer on `topic` partition 0 from the beginning that exits after `count` records. */
function startKcatConsumer(topic: string, count: number) {
  const child = spawn('kcat', ['-C', '-u', '-b', broker.bootstrap, '-t', topic, '-p', '0', '-o', 'beginning', '-c', String(count), '-f', '%o|%s\n'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return {
    lines: () => stdout.split('\n').filter((l) => l.length > 0),
    stderr: () => stderr,
    /** Resolves with kcat's exit code, or null when it has not exited within `ms` (then it is killed). */
    async exit(ms: number): Promise<number | null> {
      const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms));
      const code = await Promise.race([exited, timer]);
      if (code !== 'timeout') return code;
      child.kill('SIGKILL');
      await exited;
      return null;
    },
  };
}

test('batches with a valid CRC but malformed records are refused and not stored; a kcat consumer reads on across them', async () => {
  const topic = 'framing';
  const now = BigInt(Date.now());
  await kcatProduce(broker.bootstrap, topic, ['k:a', 'k:b', 'k:c'], ['-p', '0']);
  const consumer = startKcatConsumer(topic, 6);
  const deadline = Date.now() + 20_000;
  while (consumer.lines().length < 3) {
    assert.ok(Date.now() < deadline, `the consumer read ${consumer.lines().length} of the first 3 records: ${consumer.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  let correlationId = 100;
  const produce = async (version: number, records: Buffer) => parseProduceResponse(await request(broker.port, produceRequest(version, ++correlationId, topic, 0, records)), version);

  // 1. A record length that promises more than the garbage behind it (what wedged librdkafka).
  const garbage = Buffer.concat([Buffer.from([0x80, 0x01]), Buffer.from('these bytes are not records, whatever the CRC says')]);
  let r = await produce(3, batch(garbage, { count: 5, baseTimestamp: now }));
  assert.equal(r.errorCode, INVALID_RECORD);
  assert.equal(r.baseOffset, -1n);

  // 2. Produce v8: a good record, then one whose header count promises more than it holds.
  const badHeaders = recordFields({ offsetDelta: 1, headers: [] });
  badHeaders[5] = { name: /header count/, bytes: [0x06] }; // 3 headers, none present
  r = await produce(8, batch([...records(1), ...record(body(badHeaders))], { count: 2, baseTimestamp: now }));
  assert.equal(r.errorCode, INVALID_RECORD);
  assert.deepEqual(r.recordErrors.map((e) => e.batchIndex), [1]);
  assert.match(r.errorMessage ?? '', /framing-0 is malformed: record 1: header count out of range/);

  // 3. Offset deltas 0, 2: Kafka's inner offsets must be sequential.
  const gap = [...record(body(recordFields({ offsetDelta: 0 }))), ...record(body(recordFields({ offsetDelta: 2 })))];
  r = await produce(8, batch(gap, { count: 2, baseTimestamp: now }));
  assert.equal(r.errorCode, INVALID_RECORD);
  assert.deepEqual(r.recordErrors.map((e) => e.batchIndex), [1]);
  assert.match(r.errorMessage ?? '', /Inner record offsets must be sequential/);

  // 4. recordsCount 3 (lastOffsetDelta 2 agrees) over two records.
  r = await produce(3, batch(records(2), { count: 3, baseTimestamp: now }));
  assert.equal(r.errorCode, INVALID_RECORD);

  // 5. Good gzip around bad records (a stray byte after the last one), and a gzip payload cut short.
  r = await produce(7, batch(gzipSync(Buffer.from([...records(3), 0x00])), { count: 3, attributes: 1, baseTimestamp: now }));
  assert.equal(r.errorCode, INVALID_RECORD);
  const gz = gzipSync(Buffer.from(records(3)));
  r = await produce(8, batch(gz.subarray(0, gz.length - 10), { count: 3, attributes: 1, baseTimestamp: now }));
  assert.equal(r.errorCode, CORRUPT_MESSAGE);
  assert.match(r.errorMessage ?? '', /gzip/);

  // A good hand-built batch over the same raw path is stored at the next offset.
  r = await produce(8, batch(records(1, { value: 'raw' }), { count: 1, baseTimestamp: now }));
  assert.equal(r.errorCode, 0, r.errorMessage ?? '');
  assert.equal(r.baseOffset, 3n);

  await kcatProduce(broker.bootstrap, topic, ['k:d', 'k:e'], ['-p', '0']);
  const code = await consumer.exit(20_000);
  assert.equal(code, 0, `kcat did not read all 6 records (exit ${code}): ${consumer.lines().join(', ')}\n${consumer.stderr()}`);
  assert.deepEqual(consumer.lines(), ['0|a', '1|b', '2|c', '3|raw', '4|d', '5|e']);
  assert.doesNotMatch(consumer.stderr(), /ERROR|underflow/i);
  // A consumer started afresh sees the same six.
  const again = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-p', '0']);
  assert.deepEqual(again.map((x) => `${x.offset}|${x.value}`), ['0|a', '1|b', '2|c', '3|raw', '4|d', '5|e']);
});
