// Load driver for the client comparison in `npm run bench` (bench/run.ts): produces or consumes
// with kafkajs or @platformatic/kafka and prints one JSON line, so that each client runs in a
// process of its own, as `tributary producer-perf-test` / `consumer-perf-test` do.
//
//   node dist/bench/client-perf.js kafkajs|platformatic produce BOOTSTRAP TOPIC RECORDS RECORD_BYTES BATCH_RECORDS IN_FLIGHT
//   node dist/bench/client-perf.js kafkajs|platformatic consume BOOTSTRAP TOPIC RECORDS MAX_PARTITION_FETCH_BYTES
//
// Producing: acks=1, idempotence off, no compression, unkeyed records whose value is one random
// payload of RECORD_BYTES; each client gets its fast path: send() calls of BATCH_RECORDS records
// (one Produce request each), IN_FLIGHT of them outstanding. The clock starts after connect().
// Consuming: a consumer group reading the topic from the beginning; the clock starts when the
// group has assigned the partitions and stops at the RECORDS-th record.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { Consumer as PlatformaticConsumer, MessagesStreamModes, ProduceAcks, Producer as PlatformaticProducer } from '@platformatic/kafka';

interface Result {
  client: string;
  mode: string;
  records: number;
  bytes: number;
  seconds: number;
}

function payloadOf(size: number): Buffer {
  const raw = randomBytes(size);
  for (let i = 0; i < raw.length; i++) raw[i] = 65 + (raw[i]! % 26); // as Kafka's perf tool
  return raw;
}

/** Runs `sendBatch(n)` for `total` records in batches of `batch`, at most `inFlight` outstanding. */
async function pump(total: number, batch: number, inFlight: number, sendBatch: (n: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const n = Math.min(batch, total - next);
      next += n;
      await sendBatch(n);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

async function kafkajsProduce(bootstrap: string, topic: string, records: number, size: number, batch: number, inFlight: number): Promise<number> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'bench-kafkajs', logLevel: logLevel.NOTHING });
  const producer = kafka.producer({ idempotent: false, allowAutoTopicCreation: false });
  await producer.connect();
  const value = payloadOf(size);
  const full = Array.from({ length: batch }, () => ({ value }));
  try {
    const t0 = performance.now();
    await pump(records, batch, inFlight, (n) => producer.send({ topic, acks: 1, messages: n === batch ? full : full.slice(0, n) }));
    return (performance.now() - t0) / 1000;
  } finally {
    await producer.disconnect();
  }
}

async function kafkajsConsume(bootstrap: string, topic: string, records: number, partitionBytes: number): Promise<{ seconds: number; bytes: number }> {
  const kafka = new Kafka({ brokers: [bootstrap], clientId: 'bench-kafkajs', logLevel: logLevel.NOTHING });
  const consumer = kafka.consumer({ groupId: `bench-kafkajs-${process.pid}`, maxBytesPerPartition: partitionBytes, maxBytes: 52_428_800, maxWaitTimeInMs: 500 });
  await consumer.connect();
  let t0 = performance.now();
  consumer.on(consumer.events.GROUP_JOIN, () => (t0 = performance.now()));
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  let count = 0;
  let bytes = 0;
  try {
    return await new Promise((resolve, reject) => {
      consumer
        .run({
          autoCommit: false,
          eachBatchAutoResolve: true,
          eachBatch: async ({ batch }) => {
            for (const m of batch.messages) {
              count++;
              bytes += m.value === null ? 0 : m.value.length;
            }
            if (count >= records) resolve({ seconds: (performance.now() - t0) / 1000, bytes });
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
}

async function platformaticProduce(bootstrap: string, topic: string, records: number, size: number, batch: number, inFlight: number): Promise<number> {
  const producer = new PlatformaticProducer({ clientId: 'bench-platformatic', bootstrapBrokers: [bootstrap], idempotent: false, acks: ProduceAcks.LEADER, autocreateTopics: false });
  const value = payloadOf(size);
  const full = Array.from({ length: batch }, () => ({ topic, value }));
  try {
    await producer.metadata({ topics: [topic] }); // connects, as kafkajs's connect() does
    const t0 = performance.now();
    await pump(records, batch, inFlight, (n) => producer.send({ messages: n === batch ? full : full.slice(0, n) }));
    return (performance.now() - t0) / 1000;
  } finally {
    await producer.close();
  }
}

async function platformaticConsume(bootstrap: string, topic: string, records: number, partitionBytes: number): Promise<{ seconds: number; bytes: number }> {
  const consumer = new PlatformaticConsumer({
    clientId: 'bench-platformatic',
    bootstrapBrokers: [bootstrap],
    groupId: `bench-platformatic-${process.pid}`,
    maxBytesPerPartition: partitionBytes,
    maxBytes: 52_428_800,
    maxWaitTime: 500,
  });
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    const t0 = performance.now(); // consume() resolves once the group has joined
    let count = 0;
    let bytes = 0;
    const result = await new Promise<{ seconds: number; bytes: number }>((resolve, reject) => {
      stream.on('data', (m: { value: Buffer | undefined }) => {
        count++;
        bytes += m.value === undefined ? 0 : m.value.length;
        if (count === records) resolve({ seconds: (performance.now() - t0) / 1000, bytes });
      });
      stream.once('error', reject);
    });
    await stream.close();
    return result;
  } finally {
    await consumer.close(true);
  }
}

async function main(): Promise<void> {
  const [client, mode, bootstrap, topic, recordsArg, ...rest] = process.argv.slice(2);
  const records = Number(recordsArg);
  if ((client !== 'kafkajs' && client !== 'platformatic') || (mode !== 'produce' && mode !== 'consume') || bootstrap === undefined || topic === undefined || !(records > 0)) {
    throw new Error('usage: client-perf.js kafkajs|platformatic produce|consume BOOTSTRAP TOPIC RECORDS ...');
  }
  let result: Result;
  if (mode === 'produce') {
    const [size, batch, inFlight] = rest.map(Number) as [number, number, number];
    const seconds = client === 'kafkajs' ? await kafkajsProduce(bootstrap, topic, records, size, batch, inFlight) : await platformaticProduce(bootstrap, topic, records, size, batch, inFlight);
    result = { client, mode, records, bytes: records * size, seconds };
  } else {
    const partitionBytes = Number(rest[0] ?? 1_048_576);
    const r = client === 'kafkajs' ? await kafkajsConsume(bootstrap, topic, records, partitionBytes) : await platformaticConsume(bootstrap, topic, records, partitionBytes);
    result = { client, mode, records, bytes: r.bytes, seconds: r.seconds };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().then(
  () => process.exit(0), // some clients keep timers alive after close
  (err: unknown) => {
    process.stderr.write(`client-perf failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
