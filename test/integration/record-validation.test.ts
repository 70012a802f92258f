// Record-level validation that topic configs ask for, seen through librdkafka: a compacted
// topic refuses records without keys, and message.timestamp.before.max.ms refuses old ones.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';

let broker: BrokerProcess;
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
  broker = await startBroker();
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
