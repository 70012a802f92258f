// Load driver for the transactional-produce workload of `npm run bench` (bench/run.ts): our
// producer writes RECORDS records of RECORD_BYTES (one random payload, unkeyed) to TOPIC, either
// idempotent (TXN_RECORDS=0) or in transactions of TXN_RECORDS records each (begin, produce,
// commitTransaction, which flushes and then ends the transaction); prints one JSON line. Both
// modes use acks=all, linger.ms=5, batch.size=1000000. The clock starts after initTransactions
// (or the first InitProducerId) and stops when the last record (or transaction) is acknowledged.
//
//   node dist/bench/txn-perf.js BOOTSTRAP TOPIC RECORDS RECORD_BYTES TXN_RECORDS
import { randomBytes } from 'node:crypto';
import { Producer } from '../src/client/index.js';

async function main(): Promise<void> {
  const [bootstrap, topic, ...nums] = process.argv.slice(2);
  const [records, size, txnRecords] = nums.map(Number) as [number, number, number];
  if (bootstrap === undefined || topic === undefined || !(records > 0) || !(size > 0) || !(txnRecords >= 0)) {
    throw new Error('usage: txn-perf.js BOOTSTRAP TOPIC RECORDS RECORD_BYTES TXN_RECORDS');
  }
  const raw = randomBytes(size);
  for (let i = 0; i < raw.length; i++) raw[i] = 65 + (raw[i]! % 26); // as Kafka's perf tool
  const transactional = txnRecords > 0;
  const producer = new Producer({
    bootstrapServers: bootstrap,
    lingerMs: 5,
    batchSize: 1_000_000,
    ...(transactional ? { transactionalId: `txn-perf-${process.pid}` } : {}),
  });
  let transactions = 0;
  let seconds: number;
  try {
    if (transactional) await producer.initTransactions();
    else await producer.send({ topic, partition: 0, value: raw }); // InitProducerId and metadata before the clock
    const t0 = performance.now();
    let sent = 0;
    while (sent < records) {
      const n = transactional ? Math.min(txnRecords, records - sent) : records - sent;
      if (transactional) producer.beginTransaction();
      for (let i = 0; i < n; i++) {
        const wait = producer.produce({ topic, partition: 0, value: raw });
        if (wait !== undefined) await wait;
      }
      sent += n;
      if (transactional) {
        await producer.commitTransaction();
        transactions++;
      } else {
        await producer.flush();
      }
    }
    seconds = (performance.now() - t0) / 1000;
  } finally {
    await producer.close();
  }
  process.stdout.write(`${JSON.stringify({ records, bytes: records * size, transactions, seconds })}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`txn-perf failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
