// Requests racing a topic's deletion, on a broker process: a fetch parked in long polling when
// the topic is deleted is answered UNKNOWN_TOPIC_OR_PARTITION (not a dropped connection), and a
// confluent-kafka consumer reading while DeleteTopics runs sees the topic go, not its connection.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { CreateTopicsRequest } from '../../src/protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/messages/CreateTopicsResponse.js';
import { DeleteTopicsRequest } from '../../src/protocol/messages/DeleteTopicsRequest.js';
import { DeleteTopicsResponse } from '../../src/protocol/messages/DeleteTopicsResponse.js';
import { FetchRequest } from '../../src/protocol/messages/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/messages/FetchResponse.js';
import { MetadataRequest } from '../../src/protocol/messages/MetadataRequest.js';
import { MetadataResponse } from '../../src/protocol/messages/MetadataResponse.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { run, systemPython } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';

const HANDLER_FAILURE = 'request handler failed';

describe('requests racing a topic deletion', () => {
  let broker: BrokerProcess;
  const clients: WireClient[] = [];
  const open = async () => {
    const c = await WireClient.open(broker.bootstrap);
    clients.push(c);
    return c;
  };
  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    for (const c of clients) c.close();
    await broker?.destroy();
  });

  async function createTopic(admin: WireClient, name: string): Promise<string> {
    const req = CreateTopicsRequest.defaults();
    req.timeoutMs = 10_000;
    req.topics = [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }];
    const res = await admin.send(CreateTopicsRequest, CreateTopicsResponse, 7, req);
    assert.equal(res.topics[0]!.errorCode, ErrorCode.NONE, res.topics[0]!.errorMessage ?? '');
    return res.topics[0]!.topicId;
  }

  async function deleteTopic(admin: WireClient, name: string): Promise<void> {
    const req = DeleteTopicsRequest.defaults();
    req.timeoutMs = 10_000;
    req.topics = [{ name, topicId: ZERO_UUID }];
    const res = await admin.send(DeleteTopicsRequest, DeleteTopicsResponse, 6, req);
    assert.equal(res.responses[0]!.errorCode, ErrorCode.NONE, res.responses[0]!.errorMessage ?? '');
  }

  for (const version of [12, 15]) {
    it(`a fetch (v${version}) parked in long polling answers UNKNOWN_TOPIC_OR_PARTITION when its topic is deleted`, async () => {
      const admin = await open();
      const consumer = await open();
      const name = `parked-v${version}`;
      const topicId = await createTopic(admin, name);
      const req = FetchRequest.defaults();
      req.maxWaitMs = 30_000;
      req.minBytes = 1;
      req.maxBytes = 1 << 20;
      req.topics = [{ topic: name, topicId, partitions: [{ ...FetchRequest.newStruct('FetchPartition'), partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }];
      const started = performance.now();
      const fetched = consumer.send(FetchRequest, FetchResponse, version, req);
      await new Promise((resolve) => setTimeout(resolve, 300)); // parked: the partition is empty
      await deleteTopic(admin, name);
      const res = await fetched;
      assert.equal(res.errorCode, ErrorCode.NONE);
      assert.equal(res.responses[0]!.partitions[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.ok(performance.now() - started < 20_000, 'answered when the topic went, not when the wait ran out');
      // The same connection carries on.
      const md = MetadataRequest.defaults();
      md.topics = [{ name, topicId: ZERO_UUID }];
      md.allowAutoTopicCreation = false;
      const after = await consumer.send(MetadataRequest, MetadataResponse, 12, md);
      assert.equal(after.topics[0]!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      assert.ok(!broker.logs.includes(HANDLER_FAILURE), broker.logs.slice(-3000));
    });
  }

  it('a confluent-kafka consumer reading while DeleteTopics runs keeps its connection', async () => {
    // librdkafka logs a dropped connection on stderr ("Disconnected").
    const r = await run(
      systemPython,
      [
        '-c',
        String.raw`
import json, os, sys, time
from confluent_kafka import Producer, Consumer
from confluent_kafka.admin import AdminClient, NewTopic
bs = sys.argv[1]
admin = AdminClient({'bootstrap.servers': bs})
admin.create_topics([NewTopic('reading-deleted', 1, 1)])['reading-deleted'].result(10)
p = Producer({'bootstrap.servers': bs})
for i in range(20): p.produce('reading-deleted', value=b'v%d' % i)
p.flush(10)
errors = []
c = Consumer({'bootstrap.servers': bs, 'group.id': 'reading-deleted-g', 'auto.offset.reset': 'earliest', 'fetch.wait.max.ms': 2000})
c.subscribe(['reading-deleted'])
read, deleted, end = 0, None, time.time() + 20
while time.time() < end:
    m = c.poll(0.2)
    if m is not None and m.error() is None: read += 1
    elif m is not None: errors.append('poll ' + m.error().name())
    if read == 20 and deleted is None:
        time.sleep(0.5)  # the consumer's next fetch is parked, waiting for data
        try:
            admin.delete_topics(['reading-deleted'])['reading-deleted'].result(10)
            deleted = 'ok'
        except Exception as e:
            deleted = str(e)
        end = time.time() + 3
print(json.dumps({'read': read, 'errors': errors, 'deleted': deleted}), flush=True)
# librdkafka 2.0.2 never finishes destroying a consumer whose subscribed topic was deleted
# (a reference it keeps on the broker handle, with nothing in flight): exit without close().
os._exit(0)
`,
        broker.bootstrap,
      ],
      { timeoutMs: 60_000 },
    );
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { read: number; errors: string[]; deleted: string | null };
    assert.equal(out.read, 20);
    assert.equal(out.deleted, 'ok');
    assert.doesNotMatch(r.stderr, /Disconnected/, 'the consumer kept its connection');
    assert.ok(!out.errors.some((e) => e.includes('_TRANSPORT')), `consumer errors: ${out.errors.join(', ')}`);
    assert.ok(!broker.logs.includes(HANDLER_FAILURE), broker.logs.slice(-3000));
  });
});
