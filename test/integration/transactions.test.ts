// Transactions against a broker process, driven by confluent-kafka (librdkafka's transactional
// producer) and kafkajs: commits and aborts over several topics and partitions read by
// read_committed and read_uncommitted consumers (kcat), offsets sent to a transaction visible only
// once it commits, a second producer with the same transactional.id fencing the first, and a
// transaction left open past its timeout aborted by the broker (the read_committed consumer moves
// past it), also when the broker is killed with SIGKILL while the transaction is open.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';
import { kcatConsume, kcatProduce } from './support.js';

const { Kafka, logLevel } = kafkajs;

const PY_COMMON = String.raw`
import json, sys, time
from confluent_kafka import Producer, Consumer, TopicPartition, KafkaException
bs = sys.argv[1]
def txn_producer(tid, **conf):
    p = Producer(dict({'bootstrap.servers': bs, 'transactional.id': tid, 'linger.ms': 5}, **conf))
    p.init_transactions(30)
    return p
`;

/** Values read from `topic` (every partition) with kcat at the given isolation level, sorted. */
async function values(broker: BrokerProcess, topic: string, isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const records = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-X', `isolation.level=${isolation}`]);
  return records.map((r) => r.value).sort();
}

describe('transactions', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({
      overrides: {
        'num.partitions': '2',
        // The timeout test: a short check interval so an expired transaction is aborted within a second.
        'transaction.abort.timed.out.transaction.cleanup.interval.ms': '500',
      },
    });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('confluent-kafka: committed and aborted transactions over two topics; read_committed sees only the committed', async () => {
    const out = await python<{ ok: boolean }>(
      PY_COMMON +
        String.raw`
p = txn_producer('ck-basic')
p.begin_transaction()
for i in range(6): p.produce('ck-a' if i % 2 == 0 else 'ck-b', value=b'c%d' % i, partition=i % 2 if i < 4 else 0)
p.commit_transaction(30)
p.begin_transaction()
for i in range(4): p.produce('ck-a' if i % 2 == 0 else 'ck-b', value=b'x%d' % i, partition=(i // 2) % 2)
p.flush(30)
p.abort_transaction(30)
p.begin_transaction()
p.produce('ck-a', value=b'c9', partition=1)
p.commit_transaction(30)
print(json.dumps({'ok': True}))
`,
      [broker.bootstrap],
    );
    assert.equal(out.ok, true);
    assert.deepEqual(await values(broker, 'ck-a', 'read_committed'), ['c0', 'c2', 'c4', 'c9']);
    assert.deepEqual(await values(broker, 'ck-b', 'read_committed'), ['c1', 'c3', 'c5']);
    assert.deepEqual(await values(broker, 'ck-a', 'read_uncommitted'), ['c0', 'c2', 'c4', 'c9', 'x0', 'x2']);
    assert.deepEqual(await values(broker, 'ck-b', 'read_uncommitted'), ['c1', 'c3', 'c5', 'x1', 'x3']);
  });

  it('confluent-kafka: offsets sent to a transaction are the group\'s only once it commits', async () => {
    const out = await python<{ before: number; committed: number; afterAbort: number; out: number }>(
      PY_COMMON +
        String.raw`
p0 = Producer({'bootstrap.servers': bs})
for i in range(10): p0.produce('ck-in', value=b'%d' % i, partition=0)
p0.flush(30)
c = Consumer({'bootstrap.servers': bs, 'group.id': 'ck-ctp', 'auto.offset.reset': 'earliest', 'enable.auto.commit': False, 'isolation.level': 'read_committed'})
c.subscribe(['ck-in'])
msgs = []
deadline = time.time() + 30
while len(msgs) < 10 and time.time() < deadline:
    m = c.poll(0.5)
    if m is not None and not m.error(): msgs.append(m)
assert len(msgs) == 10, len(msgs)
tp = [TopicPartition('ck-in', 0)]
before = c.committed(tp, 10)[0].offset
p = txn_producer('ck-ctp-tx')
p.begin_transaction()
for m in msgs[:5]: p.produce('ck-out', value=m.value(), partition=0)
p.send_offsets_to_transaction([TopicPartition('ck-in', 0, msgs[4].offset() + 1)], c.consumer_group_metadata(), 30)
p.commit_transaction(30)
committed = c.committed(tp, 10)[0].offset
p.begin_transaction()
for m in msgs[5:]: p.produce('ck-out', value=m.value(), partition=0)
p.send_offsets_to_transaction([TopicPartition('ck-in', 0, msgs[9].offset() + 1)], c.consumer_group_metadata(), 30)
p.abort_transaction(30)
after_abort = c.committed(tp, 10)[0].offset
c.close()
print(json.dumps({'before': before, 'committed': committed, 'afterAbort': after_abort, 'out': 0}))
`,
      [broker.bootstrap],
      90_000,
    );
    assert.equal(out.before, -1001, 'nothing committed before the transaction');
    assert.equal(out.committed, 5);
    assert.equal(out.afterAbort, 5, 'the aborted transaction\'s offsets were dropped');
    assert.deepEqual(await values(broker, 'ck-out', 'read_committed'), ['0', '1', '2', '3', '4']);
  });

  it('confluent-kafka: a second producer with the same transactional.id fences the first', async () => {
    const out = await python<{ fenced: boolean; error: string; secondCommitted: boolean }>(
      PY_COMMON +
        String.raw`
p1 = txn_producer('ck-fence')
p1.begin_transaction()
p1.produce('ck-fence', value=b'zombie', partition=0)
p1.flush(30)
# The second producer's init aborts the first one's open transaction and bumps the epoch.
p2 = txn_producer('ck-fence')
fenced, error = False, ''
try:
    p1.commit_transaction(10)
except KafkaException as e:
    err = e.args[0]
    # librdkafka: _FENCED (-144, fatal) or the broker's PRODUCER_FENCED / INVALID_PRODUCER_EPOCH.
    fenced = err.code() in (-144, 90, 47)
    error = '%s (%d)' % (err.str(), err.code())
p2.begin_transaction()
p2.produce('ck-fence', value=b'second', partition=0)
p2.commit_transaction(30)
print(json.dumps({'fenced': fenced, 'error': error, 'secondCommitted': True}))
`,
      [broker.bootstrap],
      90_000,
    );
    assert.equal(out.fenced, true, `the first producer's commit failed as fenced: ${out.error}`);
    assert.equal(out.secondCommitted, true);
    assert.deepEqual(await values(broker, 'ck-fence', 'read_committed'), ['second']);
    assert.deepEqual(await values(broker, 'ck-fence', 'read_uncommitted'), ['second', 'zombie']);
  });

  it('a transaction left open past transaction.timeout.ms is aborted by the broker; read_committed moves on', async () => {
    const out = await python<{ error: string }>(
      PY_COMMON +
        String.raw`
p = txn_producer('ck-timeout', **{'transaction.timeout.ms': 2000})
p.begin_transaction()
for i in range(3): p.produce('ck-timeout', value=b'open%d' % i, partition=0)
p.flush(30)
time.sleep(4)
error = ''
try:
    p.commit_transaction(10)
except KafkaException as e:
    error = e.args[0].str()
print(json.dumps({'error': error}))
`,
      [broker.bootstrap],
      90_000,
    );
    assert.notEqual(out.error, '', 'committing after the broker aborted the transaction fails');
    // The abort marker is written: read_committed reads to the end and sees none of it.
    assert.deepEqual(await values(broker, 'ck-timeout', 'read_committed'), []);
    assert.deepEqual(await values(broker, 'ck-timeout', 'read_uncommitted'), ['open0', 'open1', 'open2']);
  });

  it('kafkajs: transaction with sendOffsets commits; an aborted one leaves nothing for read_committed', async () => {
    const kafka = new Kafka({ clientId: 'tributary-txn', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 8 } });
    const producer = kafka.producer({ transactionalId: 'kj-tx', idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
    const admin = kafka.admin();
    await producer.connect();
    await admin.connect();
    try {
      await admin.createTopics({ waitForLeaders: true, topics: [{ topic: 'kj-txn', numPartitions: 2 }, { topic: 'kj-src', numPartitions: 1 }] });
      const t1 = await producer.transaction();
      await t1.send({ topic: 'kj-txn', messages: [{ value: 'k1', partition: 0 }, { value: 'k2', partition: 1 }] });
      await t1.sendOffsets({ consumerGroupId: 'kj-group', topics: [{ topic: 'kj-src', partitions: [{ partition: 0, offset: '7' }] }] });
      await t1.commit();
      const t2 = await producer.transaction();
      await t2.send({ topic: 'kj-txn', messages: [{ value: 'kx', partition: 0 }] });
      await t2.sendOffsets({ consumerGroupId: 'kj-group', topics: [{ topic: 'kj-src', partitions: [{ partition: 0, offset: '9' }] }] });
      await t2.abort();
      const offsets = await admin.fetchOffsets({ groupId: 'kj-group', topics: ['kj-src'] });
      assert.equal(offsets[0]!.partitions[0]!.offset, '7');
    } finally {
      await producer.disconnect().catch(() => {});
      await admin.disconnect().catch(() => {});
    }
    assert.deepEqual(await values(broker, 'kj-txn', 'read_committed'), ['k1', 'k2']);
    assert.deepEqual(await values(broker, 'kj-txn', 'read_uncommitted'), ['k1', 'k2', 'kx']);
  });
});

describe('transactions across a broker crash', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker({ overrides: { 'num.partitions': '1', 'transaction.abort.timed.out.transaction.cleanup.interval.ms': '500' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('kill -9 with a transaction open: after the restart the coordinator aborts it and the LSO moves on', async () => {
    await python<{ ok: boolean }>(
      PY_COMMON +
        String.raw`
import os
p = txn_producer('crash-tx', **{'transaction.timeout.ms': 3000})
p.begin_transaction()
for i in range(3): p.produce('crash', value=b'open%d' % i, partition=0)
p.flush(30)
print(json.dumps({'ok': True}), flush=True)
os._exit(0)
`,
      [broker.bootstrap],
    );
    await broker.kill();
    await broker.start();
    // A record written after the open transaction is readable with read_committed only once the
    // transaction is closed (the last stable offset stops at its first record until then).
    await kcatProduce(broker.bootstrap, 'crash', ['k:after']);
    let committed: string[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      committed = await values(broker, 'crash', 'read_committed');
      if (committed.length > 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    assert.deepEqual(committed, ['after']);
    assert.deepEqual(await values(broker, 'crash', 'read_uncommitted'), ['after', 'open0', 'open1', 'open2']);
  });
});
