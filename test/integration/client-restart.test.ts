// A broker process restarted (SIGTERM, then started again on the same port and directory) in the
// middle of a stream: the idempotent producer keeps sending through the outage and every
// acknowledged record is stored exactly once; a consumer reading meanwhile resumes where it was
// and sees every record once, in order.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';

describe('client across a broker restart', () => {
  let broker: BrokerProcess;
  before(async () => {
    broker = await startBroker();
  });
  after(async () => {
    await broker?.destroy();
  });

  it('producer and consumer ride through a restart without loss or duplicates', async () => {
    const topic = 'restart';
    const admin = new Admin({ bootstrapServers: broker.bootstrap });
    await admin.createTopics([{ topic, numPartitions: 2 }]);
    await admin.close();

    const producer = new Producer({ bootstrapServers: broker.bootstrap, lingerMs: 2, retryBackoffMs: 50, retryBackoffMaxMs: 300, requestTimeoutMs: 5000 });
    const consumer = new Consumer({ bootstrapServers: broker.bootstrap, autoOffsetReset: 'earliest', maxWaitMs: 100, retryBackoffMs: 50, retryBackoffMaxMs: 300, requestTimeoutMs: 5000 });
    consumer.assign([0, 1].map((partition) => ({ topic, partition })));
    const consumed: string[] = [];
    let consuming = true;
    const reader = (async () => {
      while (consuming) for (const b of await consumer.poll({ timeoutMs: 200 })) consumed.push(...b.records.map((r) => r.value!.toString()));
    })();

    // Sends at a steady pace before, during and after the restart.
    let acked = 0;
    const errors: Error[] = [];
    let restartDone = false;
    let restarted: Promise<void> | null = null;
    let total = 0;
    while (total < 3000 || !restartDone) {
      const i = total++;
      producer.produce({ topic, key: String(i % 2), value: String(i) }, (err) => (err === null ? acked++ : errors.push(err)));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 5));
      if (i === 1000) {
        restarted = (async () => {
          await broker.stop();
          await new Promise((r) => setTimeout(r, 300));
          await broker.start();
          restartDone = true;
        })();
      }
    }
    await restarted;
    await producer.flush();
    await producer.close();
    assert.deepEqual(errors.map((e) => e.message), []);
    assert.equal(acked, total);

    const deadline = Date.now() + 30_000;
    while (consumed.length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    consuming = false;
    await reader;
    await consumer.close();
    assert.equal(consumed.length, total, 'every record consumed exactly once');
    assert.equal(new Set(consumed).size, total);
    for (const key of [0, 1]) {
      const seq = consumed.map(Number).filter((v) => v % 2 === key);
      assert.deepEqual(seq, [...seq].sort((a, b) => a - b), `partition of key ${key} in order`);
    }
  });
});
