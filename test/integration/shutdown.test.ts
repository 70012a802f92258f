// SIGTERM on a broker process with many partitions, each holding records: the process says what
// it does ("closing N partitions", then "closed N partitions in X ms"), exits 0, and the next
// start finds a clean shutdown (no partition recovered) with every record in place. Timings are
// in bench/shutdown.ts, not here.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { BrokerProcess } from '../helpers/broker-process.js';

const PARTITIONS = 400;

describe('clean shutdown with many partitions', () => {
  const broker = new BrokerProcess();
  after(async () => {
    await broker.destroy();
  });

  it('prints its progress, exits 0, and the next start finds every record with no recovery', async () => {
    await broker.start();
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    await admin.createTopics([{ topic: 'wide', numPartitions: PARTITIONS, replicationFactor: 1 }]);
    await admin.close();
    const producer = new Producer({ bootstrapServers: broker.bootstrap });
    // Two records per partition, from an idempotent producer (so each partition has producer state to snapshot).
    await Promise.all(Array.from({ length: PARTITIONS * 2 }, (_, i) => producer.send({ topic: 'wide', partition: i % PARTITIONS, value: Buffer.from(`v${i}`) })));
    await producer.close();

    const firstRun = broker.logs.length;
    assert.equal(await broker.stop(), 0);
    const stopped = broker.logs.slice(firstRun).split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; partitions?: number });
    const msgs = stopped.map((l) => l.msg);
    // The metadata log is a partition too.
    const closing = msgs.indexOf(`closing ${PARTITIONS + 1} partitions`);
    const closed = msgs.findIndex((m) => new RegExp(`^closed ${PARTITIONS + 1} partitions in \\d+ ms$`).test(m));
    assert.ok(closing >= 0 && closed > closing && msgs.indexOf('stopped') > closed, msgs.join('\n'));

    const secondRun = broker.logs.length;
    await broker.start();
    const restarted = broker.logs.slice(secondRun);
    assert.match(restarted, /"hadCleanShutdown":true/);
    assert.doesNotMatch(restarted, /recovered partition/);
    const admin2 = new Admin({ bootstrapServers: broker.bootstrap });
    const ends = await admin2.listOffsets(Array.from({ length: PARTITIONS }, (_, p) => ({ topic: 'wide', partition: p, spec: 'latest' as const })));
    await admin2.close();
    assert.deepEqual(new Set(ends.map((e) => e.offset)), new Set([2n]), 'two records in every partition');
    // The records themselves, on a sample of partitions.
    const consumer = new Consumer({ bootstrapServers: broker.bootstrap });
    const sample = [0, 1, PARTITIONS / 2, PARTITIONS - 1];
    consumer.assign(sample.map((p) => ({ topic: 'wide', partition: p })));
    for (const p of sample) consumer.seek({ topic: 'wide', partition: p }, 0n);
    const got = new Map<number, string[]>();
    const deadline = Date.now() + 15_000;
    while ([...got.values()].reduce((n, v) => n + v.length, 0) < sample.length * 2 && Date.now() < deadline) {
      for (const b of await consumer.poll({ timeoutMs: 500 })) for (const r of b.records) got.set(b.partition, [...(got.get(b.partition) ?? []), r.value!.toString()]);
    }
    await consumer.close();
    for (const p of sample) assert.deepEqual(got.get(p), [`v${p}`, `v${p + PARTITIONS}`], `partition ${p}`);
  });
});
