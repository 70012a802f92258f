// A consume-transform-produce loop on our client, run as a child process by the exactly-once
// test (which kills it with SIGKILL and starts it again): reads `input` in `group` at
// read_committed, writes each record's value prefixed with "out-" to `output`, and sends the
// input offsets in the same transaction, so every input record is in `output` exactly once
// however often the process dies. Prints "ready" once its first transaction can start and
// "committed <n>" after each commit.
//
//   node txn-copier.js <bootstrap> <input> <output> <group> <transactional id>
import { Consumer, Producer, ProducerFencedError, type OffsetToCommit } from '../../src/client/index.js';

async function main(): Promise<void> {
  const [bootstrap, input, output, group, transactionalId] = process.argv.slice(2);
  if (bootstrap === undefined || input === undefined || output === undefined || group === undefined || transactionalId === undefined) {
    throw new Error('usage: txn-copier <bootstrap> <input> <output> <group> <transactional id>');
  }
  const producer = new Producer({ bootstrapServers: bootstrap, transactionalId, lingerMs: 1 });
  // First: fence a previous incarnation and abort its open transaction, so the offsets the
  // consumer starts from are stable.
  await producer.initTransactions();
  const consumer = new Consumer({
    bootstrapServers: bootstrap,
    groupId: group,
    // Static membership: a restarted copier takes its predecessor's place without waiting for
    // the dead member's session to expire.
    groupInstanceId: `${transactionalId}-member`,
    sessionTimeoutMs: 10_000,
    autoCommit: false,
    autoOffsetReset: 'earliest',
    isolationLevel: 'read_committed',
    maxWaitMs: 100,
    maxPartitionBytes: 1024, // small transactions, so kills land inside them
  });
  consumer.subscribe([input]);
  await consumer.waitForAssignment({ timeoutMs: 60_000 });
  process.stdout.write('ready\n');
  let committed = 0;
  for (;;) {
    const batches = await consumer.poll({ timeoutMs: 500 });
    if (batches.length === 0) continue;
    producer.beginTransaction();
    try {
      const offsets: OffsetToCommit[] = [];
      const sends: Promise<unknown>[] = [];
      for (const b of batches) {
        for (const r of b.records) sends.push(producer.send({ topic: output, key: r.key, value: Buffer.concat([Buffer.from('out-'), r.value ?? Buffer.alloc(0)]) }));
        offsets.push({ topic: b.topic, partition: b.partition, offset: b.nextOffset });
      }
      await Promise.all(sends);
      await producer.sendOffsetsToTransaction(offsets, consumer.groupMetadata());
      await producer.commitTransaction();
      committed += sends.length;
      process.stdout.write(`committed ${committed}\n`);
    } catch (err) {
      if (err instanceof ProducerFencedError) throw err;
      process.stderr.write(`transaction failed, aborting: ${(err as Error).message}\n`);
      await producer.abortTransaction();
      // Start again from what the group has committed.
      const tps = consumer.assignment();
      for (const c of await consumer.committed(tps)) consumer.seek(c, c.offset >= 0n ? c.offset : 'earliest');
    }
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`txn-copier: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(2);
});
