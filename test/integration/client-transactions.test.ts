// Our transactional producer and read_committed consumer against a broker process, checked with
// confluent-kafka (librdkafka) on the other side: commits and aborts over several partitions of
// two topics, read_committed (ours and librdkafka's) seeing exactly the committed records and
// read_uncommitted all of them, offsets sent to a transaction becoming the group's only on
// commit, a second producer with the same transactional id fencing the first, librdkafka's
// aborted records hidden from our read_committed consumer, wrong-state calls refused, and a
// failed transaction that must be aborted; and a consume-transform-produce loop (our client, in a
// child process) killed with SIGKILL at seeded random points and restarted, whose output holds
// every input record exactly once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Admin, Consumer, KafkaClientError, Producer, ProducerFencedError, TransactionStateError, TxnState, type ConsumerRecord } from '../../src/client/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { Rng } from '../../src/protocol/codec/test-support.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { python } from '../helpers/clients.js';

const PY_COMMON = String.raw`
import json, sys, time
from confluent_kafka import Producer, Consumer, TopicPartition, KafkaException
bs = sys.argv[1]
`;

/** Values our consumer reads from every partition of `topics` at `isolation` until `expected`
 * arrive (then a little longer, to catch extra ones), sorted. */
async function ourValues(bootstrap: string, topics: readonly { topic: string; partitions: number }[], isolation: 'read_committed' | 'read_uncommitted', expected: number): Promise<string[]> {
  const consumer = new Consumer({ bootstrapServers: bootstrap, autoOffsetReset: 'earliest', maxWaitMs: 100, isolationLevel: isolation });
  consumer.assign(topics.flatMap(({ topic, partitions }) => Array.from({ length: partitions }, (_, partition) => ({ topic, partition }))));
  const out: ConsumerRecord[] = [];
  const deadline = Date.now() + 20_000;
  try {
    while (out.length < expected && Date.now() < deadline) {
      for (const b of await consumer.poll({ timeoutMs: 300 })) out.push(...b.records);
    }
    for (const b of await consumer.poll({ timeoutMs: 300 })) out.push(...b.records);
  } finally {
    await consumer.close();
  }
  return out.map((r) => r.value!.toString()).sort();
}

/** Values confluent-kafka reads from `topics` at `isolation` (to the end of every partition), sorted. */
async function ckValues(bootstrap: string, topics: readonly string[], isolation: 'read_committed' | 'read_uncommitted'): Promise<string[]> {
  const out = await python<{ values: string[] }>(
    PY_COMMON +
      String.raw`
topics = json.loads(sys.argv[2])
c = Consumer({'bootstrap.servers': bs, 'group.id': 'ck-reader-%d' % time.time_ns(), 'auto.offset.reset': 'earliest',
              'enable.auto.commit': False, 'isolation.level': sys.argv[3], 'enable.partition.eof': True})
md = c.list_topics(timeout=10)
tps = [TopicPartition(t, p, 0) for t in topics for p in md.topics[t].partitions]
c.assign(tps)
left = set((tp.topic, tp.partition) for tp in tps)
vals = []
deadline = time.time() + 20
while left and time.time() < deadline:
    m = c.poll(0.5)
    if m is None: continue
    if m.error():
        if m.error().code() == -191: left.discard((m.topic(), m.partition()))
        continue
    vals.append(m.value().decode())
c.close()
print(json.dumps({'values': sorted(vals)}))
`,
    [bootstrap, JSON.stringify(topics), isolation],
  );
  return out.values;
}

const COPIER = fileURLToPath(new URL('../helpers/txn-copier.js', import.meta.url));

/** A running copier with the last count it reported committed. */
class Copier {
  readonly child: ChildProcess;
  committed = 0;
  stderr = '';
  private readonly readyP: Promise<void>;
  readonly exited: Promise<number | null>;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [COPIER, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.readyP = new Promise((resolve, reject) => {
      let buf = '';
      this.child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (line === 'ready') resolve();
          const m = /^committed (\d+)$/.exec(line);
          if (m !== null) this.committed = Number(m[1]);
        }
      });
      void this.exited.then((code) => reject(new Error(`copier exited (${code}) before ready: ${this.stderr}`)));
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-4000);
    });
  }

  ready(timeoutMs: number): Promise<void> {
    return Promise.race([this.readyP, new Promise<void>((_, reject) => setTimeout(() => reject(new Error(`copier not ready in ${timeoutMs} ms: ${this.stderr}`)), timeoutMs).unref())]);
  }

  async kill(): Promise<void> {
    this.child.kill('SIGKILL');
    await this.exited;
  }
}

describe('client transactions', () => {
  let broker: BrokerProcess;
  let admin: Admin;

  before(async () => {
    broker = await startBroker({ overrides: { 'num.partitions': '3', 'group.initial.rebalance.delay.ms': '0' } });
    admin = new Admin({ bootstrapServers: broker.bootstrap });
    await admin.createTopics([
      { topic: 'tx-a', numPartitions: 3 },
      { topic: 'tx-b', numPartitions: 2 },
      { topic: 'tx-in', numPartitions: 1 },
      { topic: 'tx-ck', numPartitions: 2 },
    ]);
  });
  after(async () => {
    await admin?.close();
    await broker?.destroy();
  });

  it('commits and aborts over several partitions of two topics: read_committed (ours and librdkafka) sees the committed, read_uncommitted all', async () => {
    const p = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'our-basic', lingerMs: 2 });
    try {
      await p.initTransactions();
      assert.ok(p.producerIdAndEpoch.producerId >= 0n);
      const send = (prefix: string, i: number) => p.send({ topic: i % 2 === 0 ? 'tx-a' : 'tx-b', partition: i % (i % 2 === 0 ? 3 : 2), value: `${prefix}${i}` });
      p.beginTransaction();
      await Promise.all(Array.from({ length: 10 }, (_, i) => send('c', i)));
      await p.commitTransaction();
      p.beginTransaction();
      await Promise.all(Array.from({ length: 8 }, (_, i) => send('x', i)));
      await p.abortTransaction();
      // Aborted without waiting for the sends: what is not yet sent is dropped.
      p.beginTransaction();
      const dropped = Array.from({ length: 4 }, (_, i) => send('y', i).then(() => 'written', () => 'failed'));
      await p.abortTransaction();
      await Promise.all(dropped);
      p.beginTransaction();
      await Promise.all([send('d', 0), send('d', 1)]);
      await p.commitTransaction();
      assert.equal(p.transactionState, TxnState.Ready);
    } finally {
      await p.close();
    }
    const topics = [{ topic: 'tx-a', partitions: 3 }, { topic: 'tx-b', partitions: 2 }];
    const committed = [...Array.from({ length: 10 }, (_, i) => `c${i}`), 'd0', 'd1'].sort();
    assert.deepEqual(await ourValues(broker.bootstrap, topics, 'read_committed', committed.length), committed);
    assert.deepEqual(await ckValues(broker.bootstrap, ['tx-a', 'tx-b'], 'read_committed'), committed);
    const all = await ourValues(broker.bootstrap, topics, 'read_uncommitted', committed.length + 8);
    const aborted = Array.from({ length: 8 }, (_, i) => `x${i}`);
    assert.deepEqual(all.filter((v) => !v.startsWith('y')), [...committed, ...aborted].sort());
    assert.deepEqual(await ckValues(broker.bootstrap, ['tx-a', 'tx-b'], 'read_uncommitted'), all);
  });

  it('offsets sent to a transaction become the group\'s only when it commits; an aborted transaction drops them', async () => {
    const plain = new Producer({ bootstrapServers: broker.bootstrap });
    await plain.sendBatch(Array.from({ length: 10 }, (_, i) => ({ topic: 'tx-in', partition: 0, value: `in${i}` })));
    await plain.close();
    const group = 'our-txn-group';
    const consumer = new Consumer({ bootstrapServers: broker.bootstrap, groupId: group, autoCommit: false, autoOffsetReset: 'earliest', isolationLevel: 'read_committed', maxWaitMs: 100 });
    const p = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'our-offsets' });
    try {
      consumer.subscribe(['tx-in']);
      await consumer.waitForAssignment();
      const committed = async (): Promise<bigint> => (await admin.listConsumerGroupOffsets(group)).find((o) => o.topic === 'tx-in' && o.partition === 0)?.offset ?? -1n;
      await p.initTransactions();
      p.beginTransaction();
      await p.send({ topic: 'tx-b', partition: 0, value: 'offsets-1' });
      await p.sendOffsetsToTransaction([{ topic: 'tx-in', partition: 0, offset: 4n }], consumer.groupMetadata());
      assert.equal(await committed(), -1n, 'pending until the commit');
      await p.commitTransaction();
      let seen = -1n;
      for (let i = 0; i < 50 && seen !== 4n; i++) {
        seen = await committed();
        if (seen !== 4n) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(seen, 4n);
      p.beginTransaction();
      await p.sendOffsetsToTransaction([{ topic: 'tx-in', partition: 0, offset: 9n }], group);
      await p.abortTransaction();
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(await committed(), 4n, 'the aborted offsets are dropped');
    } finally {
      await p.close();
      await consumer.close();
    }
  });

  it('a second producer with the same transactional id fences the first, whose open transaction is aborted', async () => {
    const first = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'our-fence', lingerMs: 0 });
    const second = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'our-fence', lingerMs: 0 });
    try {
      await first.initTransactions();
      first.beginTransaction();
      await first.send({ topic: 'tx-ck', partition: 0, value: 'zombie-1' });
      await second.initTransactions(); // aborts the first one's open transaction
      assert.ok(second.producerIdAndEpoch.producerEpoch > first.producerIdAndEpoch.producerEpoch || second.producerIdAndEpoch.producerId !== first.producerIdAndEpoch.producerId);
      const late = first.send({ topic: 'tx-ck', partition: 0, value: 'zombie-2' }).then(
        () => null,
        (err: unknown) => err,
      );
      const commit = await first.commitTransaction().then(
        () => null,
        (err: unknown) => err,
      );
      assert.ok(commit instanceof ProducerFencedError, `commit failed with ${String(commit)}`);
      assert.ok(commit.code === ErrorCode.PRODUCER_FENCED || commit.code === ErrorCode.INVALID_PRODUCER_EPOCH, `code ${commit.code}`);
      assert.ok((await late) instanceof Error);
      assert.equal(first.transactionState, TxnState.FatalError);
      assert.throws(() => first.beginTransaction(), ProducerFencedError);
      assert.throws(() => first.produce({ topic: 'tx-ck', value: 'x' }), ProducerFencedError);
      second.beginTransaction();
      await second.send({ topic: 'tx-ck', partition: 0, value: 'second-1' });
      await second.commitTransaction();
    } finally {
      await first.close({ force: true });
      await second.close();
    }
    const values = await ourValues(broker.bootstrap, [{ topic: 'tx-ck', partitions: 2 }], 'read_committed', 1);
    assert.ok(values.includes('second-1'));
    assert.ok(!values.some((v) => v.startsWith('zombie')), `zombie records are hidden: ${values.join(',')}`);
  });

  it('records of librdkafka\'s aborted transactions are hidden from our read_committed consumer', async () => {
    const out = await python<{ ok: boolean }>(
      PY_COMMON +
        String.raw`
p = Producer({'bootstrap.servers': bs, 'transactional.id': 'ck-for-ours', 'linger.ms': 5})
p.init_transactions(30)
for n in range(3):
    p.begin_transaction()
    for i in range(6): p.produce('tx-ck', value=b'ck-%s-%d' % (b'c' if n != 1 else b'a', n * 10 + i), partition=i % 2)
    if n == 1:
        p.flush(30)
        p.abort_transaction(30)
    else:
        p.commit_transaction(30)
print(json.dumps({'ok': True}))
`,
      [broker.bootstrap],
    );
    assert.equal(out.ok, true);
    const ck = (await ourValues(broker.bootstrap, [{ topic: 'tx-ck', partitions: 2 }], 'read_committed', 12)).filter((v) => v.startsWith('ck-'));
    assert.deepEqual(ck, [...Array.from({ length: 6 }, (_, i) => `ck-c-${i}`), ...Array.from({ length: 6 }, (_, i) => `ck-c-${20 + i}`)].sort());
    const all = (await ourValues(broker.bootstrap, [{ topic: 'tx-ck', partitions: 2 }], 'read_uncommitted', 18)).filter((v) => v.startsWith('ck-'));
    assert.equal(all.length, 18);
  });

  it('a record sent just before commitTransaction, to a topic whose metadata is not known yet, is part of the transaction', async () => {
    const p = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'our-late-metadata' });
    try {
      await p.initTransactions();
      p.beginTransaction();
      const sent = p.send({ topic: 'tx-auto-created', value: 'late' }); // auto-created by the metadata request
      await p.commitTransaction();
      const meta = await sent;
      assert.equal(meta.topic, 'tx-auto-created');
      assert.throws(() => p.produce({ topic: 'tx-auto-created', value: 'after' }), TransactionStateError);
    } finally {
      await p.close();
    }
    assert.deepEqual(await ourValues(broker.bootstrap, [{ topic: 'tx-auto-created', partitions: 3 }], 'read_committed', 1), ['late']);
  });

  it('read_committed stops at the last stable offset: latest is the first offset of an open transaction, whose records appear when it commits', async () => {
    await admin.createTopics([{ topic: 'tx-lso', numPartitions: 1 }]);
    const plain = new Producer({ bootstrapServers: broker.bootstrap });
    await plain.sendBatch([0, 1, 2].map((i) => ({ topic: 'tx-lso', partition: 0, value: `plain${i}` })));
    const p = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'our-lso', lingerMs: 0 });
    const committed = new Consumer({ bootstrapServers: broker.bootstrap, autoOffsetReset: 'latest', isolationLevel: 'read_committed', maxWaitMs: 100 });
    const uncommitted = new Consumer({ bootstrapServers: broker.bootstrap, autoOffsetReset: 'latest', maxWaitMs: 100 });
    try {
      await p.initTransactions();
      p.beginTransaction();
      await Promise.all([0, 1].map((i) => p.send({ topic: 'tx-lso', partition: 0, value: `open${i}` })));
      await plain.send({ topic: 'tx-lso', partition: 0, value: 'plain-after' }); // beyond the open transaction
      const tp = { topic: 'tx-lso', partition: 0 };
      committed.assign([tp]);
      uncommitted.assign([tp]);
      const rc: string[] = [];
      const ru: string[] = [];
      const pollInto = async (c: Consumer, out: string[]) => {
        for (const b of await c.poll({ timeoutMs: 300 })) out.push(...b.records.map((r) => r.value!.toString()));
      };
      await pollInto(committed, rc);
      await pollInto(uncommitted, ru);
      assert.equal(committed.position(tp), 3n, 'read_committed latest = the open transaction\'s first offset');
      assert.equal(uncommitted.position(tp), 6n, 'read_uncommitted latest = the high watermark');
      assert.deepEqual(rc, [], 'nothing stable beyond it yet');
      await p.commitTransaction();
      for (let i = 0; i < 20 && rc.length < 3; i++) await pollInto(committed, rc);
      assert.deepEqual(rc, ['open0', 'open1', 'plain-after']);
    } finally {
      await committed.close();
      await uncommitted.close();
      await p.close();
      await plain.close();
    }
  });

  it('wrong-state calls throw; a failed send makes commit throw until the transaction is aborted', async () => {
    const p = new Producer({ bootstrapServers: broker.bootstrap, transactionalId: 'our-states', lingerMs: 0, maxBlockMs: 3000, deliveryTimeoutMs: 3000, allowAutoTopicCreation: false });
    try {
      assert.throws(() => p.beginTransaction(), TransactionStateError);
      assert.throws(() => p.produce({ topic: 'tx-a', value: 'v' }), TransactionStateError);
      await assert.rejects(p.commitTransaction(), TransactionStateError);
      await p.initTransactions();
      await assert.rejects(p.initTransactions(), TransactionStateError);
      assert.throws(() => p.produce({ topic: 'tx-a', value: 'v' }), /outside a transaction/);
      await assert.rejects(p.commitTransaction(), TransactionStateError);
      p.beginTransaction();
      assert.throws(() => p.beginTransaction(), TransactionStateError);
      const ok = p.send({ topic: 'tx-a', partition: 0, value: 'maybe' });
      const bad = p.send({ topic: 'tx-no-such-topic', value: 'never' });
      await assert.rejects(bad);
      await ok.catch(() => undefined);
      const commit = await p.commitTransaction().then(
        () => null,
        (err: unknown) => err,
      );
      assert.ok(commit instanceof KafkaClientError && commit.code === ErrorCode.TRANSACTION_ABORTABLE, `commit: ${String(commit)}`);
      assert.equal(p.transactionState, TxnState.AbortableError);
      assert.throws(() => p.produce({ topic: 'tx-a', value: 'v' }), TransactionStateError);
      await p.abortTransaction();
      p.beginTransaction();
      await p.send({ topic: 'tx-a', partition: 0, value: 'after-abort' });
      await p.commitTransaction();
    } finally {
      await p.close();
    }
    const values = await ourValues(broker.bootstrap, [{ topic: 'tx-a', partitions: 3 }], 'read_committed', 1);
    assert.ok(values.includes('after-abort'));
    assert.ok(!values.includes('maybe'));
  });

  it('consume-transform-produce killed with SIGKILL at random points and restarted: the output holds every input record exactly once', async (t) => {
    const seed = Number(process.env.TXN_KILL_SEED ?? 20261203);
    const random = new Rng(seed);
    const total = 4000;
    await admin.createTopics([
      { topic: 'eo-in', numPartitions: 2 },
      { topic: 'eo-out', numPartitions: 2 },
    ]);
    // Input arrives while the copier is being killed (about 500 records a second), in small
    // batches, so the copier's small fetches make many small transactions.
    const input = new Producer({ bootstrapServers: broker.bootstrap, batchSize: 256, lingerMs: 1 });
    let fed = 0;
    const feed = async (): Promise<void> => {
      while (fed < total) {
        const chunk = Array.from({ length: 20 }, (_, j) => fed + j);
        await input.sendBatch(chunk.map((i) => ({ topic: 'eo-in', partition: i % 2, value: `r${i}` })));
        fed += chunk.length;
        await new Promise((r) => setTimeout(r, 40));
      }
      await input.close();
    };
    let feeding: Promise<void> | null = null;
    const args = [broker.bootstrap, 'eo-in', 'eo-out', 'eo-group', 'eo-copier'];
    // What each killed copier had committed, and whether input was still arriving then.
    const killedAt: number[] = [];
    let midStream = 0;
    for (let kill = 0; kill < 5; kill++) {
      const c = new Copier(args);
      try {
        await c.ready(60_000);
        feeding ??= feed(); // from the first copier's start on
        await new Promise((r) => setTimeout(r, random.int(100, 900)));
      } finally {
        killedAt.push(c.committed);
        if (c.committed > 0 && fed < total) midStream++;
        await c.kill();
      }
    }
    await feeding;
    const last = new Copier(args);
    let values: string[];
    try {
      await last.ready(60_000);
      values = await ourValues(broker.bootstrap, [{ topic: 'eo-out', partitions: 2 }], 'read_committed', total);
    } finally {
      await last.kill();
    }
    const where = `seed ${seed}, committed counts at the kills ${killedAt.join(',')}, ${midStream} while input arrived`;
    t.diagnostic(where);
    assert.ok(midStream >= 2, `kills fell between commits while input arrived (${where})`);
    const counts = new Map<string, number>();
    for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
    const duplicates = [...counts].filter(([, n]) => n > 1).map(([v]) => v);
    const missing = Array.from({ length: total }, (_, i) => `out-r${i}`).filter((v) => !counts.has(v));
    assert.deepEqual(duplicates, [], `no record twice (${where})`);
    assert.deepEqual(missing, [], `no record lost (${where})`);
    assert.equal(values.length, total);
  });
});
