// The README's client and embedding examples, run as written (through the package entry point).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Broker, Consumer, Producer } from '../../src/index.js';

test('the README example: embed a broker, produce, and consume with a group', async (t) => {
  const broker = await Broker.start({ inMemory: true, overrides: { 'group.initial.rebalance.delay.ms': '0' } });
  t.after(() => broker.stop());
  const producer = new Producer({ bootstrapServers: [broker.bootstrapServers], lingerMs: 5 });
  const { offset } = await producer.send({ topic: 'orders', key: Buffer.from('k'), value: Buffer.from('v') });
  await producer.close();
  assert.equal(offset, 0n);

  const consumer = new Consumer({ bootstrapServers: [broker.bootstrapServers], groupId: 'billing', autoOffsetReset: 'earliest' });
  consumer.subscribe(['orders']);
  const seen: string[] = [];
  for await (const batch of consumer) {
    for (const record of batch.records) seen.push(`${record.offset}:${record.value?.toString()}`);
    if (seen.length >= 1) break;
  }
  await consumer.close();
  assert.deepEqual(seen, ['0:v']);
});
