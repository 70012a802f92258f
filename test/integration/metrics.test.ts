// The Prometheus endpoint (metrics.listener) of a broker process, scraped while kcat produces and
// a confluent-kafka group consumer reads and commits: bytes and messages in per topic match what
// was stored, bytes out grow with the fetch, requests are counted per API, the group's lag falls
// to zero once it has committed, time lag is the age of the oldest unconsumed record, groups are
// counted by state, and each rebalance is counted with its reason. A taken port and a malformed
// value stop start-up with a message naming the key.
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { BrokerProcess, freePort, startBroker } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { eventually, kcatProduce } from './support.js';

/** The samples of one metric, as label-string -> value. */
function samples(text: string, name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    out.set(m[2] ?? '', Number(m[3]));
  }
  return out;
}

describe('metrics endpoint', () => {
  let broker: BrokerProcess;
  let metricsPort: number;
  const scrape = async (): Promise<string> => {
    const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(res.status, 200);
    return res.text();
  };

  before(async () => {
    metricsPort = await freePort();
    broker = await startBroker({ overrides: { 'metrics.listener': `http://127.0.0.1:${metricsPort}`, 'group.initial.rebalance.delay.ms': '0' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('counts what kcat produced and a group consumed; lag falls to zero after the commit', async () => {
    const lines = Array.from({ length: 200 }, (_, i) => `value-${i}`.padEnd(100, '.'));
    await kcatProduce(broker.bootstrap, 'metered', lines, ['-p', '0']);
    let text = await scrape();
    const topic = '{topic="metered"}';
    assert.equal(samples(text, 'tributary_topic_messages_in_total').get(topic), 200);
    // Bytes in are the batches as stored: the partition's log holds exactly them.
    const logSize = samples(text, 'tributary_log_size_bytes').get('{topic="metered",partition="0"}');
    assert.ok(logSize !== undefined && logSize > 200 * 100);
    assert.equal(samples(text, 'tributary_topic_bytes_in_total').get(topic), logSize);
    assert.equal(samples(text, 'tributary_log_end_offset').get('{topic="metered",partition="0"}'), 200);
    assert.ok((samples(text, 'tributary_requests_total').get('{request="Produce"}') ?? 0) >= 1);
    assert.ok((samples(text, 'tributary_request_duration_seconds_count').get('{request="Metadata"}') ?? 0) >= 1);
    assert.ok((samples(text, 'tributary_process_resident_memory_bytes').get('') ?? 0) > 0);

    // A group consumes 150 and commits: lag 50; then the rest: lag 0.
    const consume = (n: number) =>
      python<{ n: number }>(
        `
import json, sys
from confluent_kafka import Consumer, TopicPartition
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'metered-group', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False})
c.subscribe(['metered'])
want = int(sys.argv[2]); got = 0; last = None
while got < want:
    m = c.poll(10)
    if m is None: break
    if m.error(): continue
    got += 1; last = m
c.commit(message=last, asynchronous=False)
c.close()
print(json.dumps({'n': got}))
`,
        [broker.bootstrap, String(n)],
      );
    assert.equal((await consume(150)).n, 150);
    text = await scrape();
    const lagKey = '{group="metered-group",topic="metered",partition="0"}';
    assert.equal(samples(text, 'tributary_consumer_group_lag').get(lagKey), 50);
    assert.ok((samples(text, 'tributary_topic_bytes_out_total').get(topic) ?? 0) > 0);
    assert.equal((await consume(50)).n, 50);
    text = await eventually('the group is empty with no lag', async () => {
      const t = await scrape();
      return samples(t, 'tributary_consumer_group_lag').get(lagKey) === 0 && (samples(t, 'tributary_groups').get('{state="Empty"}') ?? 0) >= 1 ? t : undefined;
    });
    assert.ok((samples(text, 'tributary_requests_total').get('{request="OffsetCommit"}') ?? 0) >= 2);
    // Two consumers, one after the other: each joined (a rebalance) and left (another), each
    // logged once at INFO with its reason and counted.
    const rebalances = samples(text, 'tributary_group_rebalances_total');
    assert.equal(rebalances.get('{group="metered-group",reason="member_joined"}'), 2);
    assert.equal(rebalances.get('{group="metered-group",reason="member_left"}'), 2);
    const logged = broker.logs.split('\n').filter((l) => l.includes('"msg":"rebalancing group metered-group'));
    assert.equal(logged.length, 4, broker.logs);
    assert.deepEqual(logged.map((l) => (JSON.parse(l) as { reason: string }).reason), ['member_joined', 'member_left', 'member_joined', 'member_left']);
    assert.equal(samples(text, 'tributary_under_replicated_partitions').get(''), 0);
  });

  it('time lag: the age of the oldest unconsumed record per partition, 0 when caught up', async () => {
    const now = Date.now();
    await python<{ ok: boolean }>(
      `
import json, sys
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
a = AdminClient({'bootstrap.servers': sys.argv[1]})
for f in a.create_topics([NewTopic('aged', 2, 1)]).values(): f.result()
p = Producer({'bootstrap.servers': sys.argv[1]})
now = int(sys.argv[2])
for part, ago in [(0, 60000), (0, 30000), (0, 10000), (1, 5000)]:
    p.produce('aged', value=b'v', partition=part, timestamp=now - ago)
p.flush(10)
c = Consumer({'bootstrap.servers': sys.argv[1], 'group.id': 'aged-group', 'enable.auto.commit': False})
c.commit(offsets=[TopicPartition('aged', 0, 1), TopicPartition('aged', 1, 1)], asynchronous=False)
c.close()
print(json.dumps({'ok': True}))
`,
      [broker.bootstrap, String(now)],
    );
    const before = Date.now();
    const text = await scrape();
    const elapsed = Date.now() - now;
    const key = (p: number) => `{group="aged-group",topic="aged",partition="${p}"}`;
    assert.equal(samples(text, 'tributary_consumer_group_lag').get(key(0)), 2);
    const age = samples(text, 'tributary_consumer_group_lag_seconds').get(key(0));
    assert.ok(age !== undefined && age >= (30_000 + before - now) / 1000 && age <= (30_000 + elapsed) / 1000, `partition 0: the -30 s record's age, got ${age}`);
    assert.equal(samples(text, 'tributary_consumer_group_lag_seconds').get(key(1)), 0, 'partition 1 is caught up');
  });

  it('anything but GET /metrics is 404', async () => {
    assert.equal((await fetch(`http://127.0.0.1:${metricsPort}/`)).status, 404);
  });

  it('a taken metrics port or a malformed value stops start-up naming the key', async () => {
    const holder = createServer();
    const taken = await freePort();
    await new Promise<void>((r) => holder.listen(taken, '127.0.0.1', () => r()));
    try {
      const b = new BrokerProcess({ overrides: { 'metrics.listener': `http://127.0.0.1:${taken}` } });
      const out = await b.startOrExit();
      assert.equal(out.started, false);
      if (!out.started) assert.match(out.output, /metrics\.listener http:\/\/127\.0\.0\.1:\d+: address already in use/);
      await b.destroy();
    } finally {
      holder.close();
    }
    const bad = new BrokerProcess({ overrides: { 'metrics.listener': 'localhost:9644' } });
    const out = await bad.startOrExit();
    assert.equal(out.started, false);
    if (!out.started) assert.match(out.output, /metrics\.listener/);
    await bad.destroy();
  });
});
