// `tributary producer-perf-test`: kafka-producer-perf-test.sh's flags and summary lines:
//   "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency." every 5 s and
//   "N records sent, X records/sec (Y MB/sec), A ms avg latency, M ms max latency, P50 ms 50th,
//    P95 ms 95th, P99 ms 99th, P999 ms 99.9th." at the end.
// Latency is measured per record from send to acknowledgement via one shared callback (the
// record's timestamp is its send time), so no closure is created per record.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Producer, type RecordMetadata } from '../client/index.js';
import { UsageError, clientOptions, intArg, keyValues, out, parseToolArgs, required, runTool, showHelp, str, strs } from './tool-support.js';

const USAGE = `Usage: tributary producer-perf-test --topic T --num-records N (--record-size BYTES | --payload-file FILE)
  --throughput RECORDS_PER_SEC(-1 = unlimited) [--producer-props k=v ...] [--producer.config FILE]
  [--bootstrap-server HOST:PORT] [--reporting-interval MS]
`;

const REPORT_INTERVAL_MS = 5000;

export async function runProducerPerfTest(argv: string[]): Promise<void> {
  await runTool('producer-perf-test', USAGE, async () => {
    const { values, positionals } = parseToolArgs(argv, {
      topic: { type: 'string' },
      'num-records': { type: 'string' },
      'record-size': { type: 'string' },
      'payload-file': { type: 'string' },
      throughput: { type: 'string' },
      'producer-props': { type: 'string', multiple: true },
      'producer.config': { type: 'string' },
      'reporting-interval': { type: 'string' },
      'print-metrics': { type: 'boolean' },
    });
    if (showHelp(values, USAGE)) return;
    const topic = required(values, 'topic');
    const numRecords = intArg(values, 'num-records');
    if (numRecords === undefined || numRecords <= 0) throw new UsageError('Missing required argument "--num-records"');
    const throughput = intArg(values, 'throughput');
    if (throughput === undefined) throw new UsageError('Missing required argument "--throughput"');
    const recordSize = intArg(values, 'record-size');
    const payloadFile = str(values, 'payload-file');
    if ((recordSize === undefined) === (payloadFile === undefined)) throw new UsageError('Exactly one of --record-size or --payload-file must be given');
    // Kafka's tool: --producer-props takes several k=v words after one flag. The tool has no
    // positional arguments, so loose k=v words are those; anything else is a mistake.
    const stray = positionals.filter((p) => !p.includes('='));
    if (stray.length > 0) throw new UsageError(`Unexpected argument '${stray[0]!}'`);
    if (positionals.length > 0 && strs(values, 'producer-props').length === 0) throw new UsageError(`Unexpected argument '${positionals[0]!}'`);
    const props = keyValues([...strs(values, 'producer-props'), ...positionals], 'producer property', false);
    const file = str(values, 'producer.config');
    const opts = clientOptions(values, { files: file === undefined ? [] : [file], props });
    const reportMs = intArg(values, 'reporting-interval') ?? REPORT_INTERVAL_MS;

    let payloads: Buffer[];
    if (recordSize !== undefined) {
      // Random uppercase letters, as Kafka's tool does.
      const raw = randomBytes(recordSize);
      for (let i = 0; i < raw.length; i++) raw[i] = 65 + (raw[i]! % 26);
      payloads = [raw];
    } else {
      payloads = readFileSync(payloadFile!, 'utf8').split('\n').filter((l) => l !== '').map((l) => Buffer.from(l));
      if (payloads.length === 0) throw new UsageError(`${payloadFile} has no payloads`);
    }

    const producer = new Producer(opts);
    const latencies = new Float64Array(numRecords);
    let acked = 0;
    let errors = 0;
    let firstError: Error | null = null;
    let bytesSent = 0;
    let produced = 0;
    const start = Date.now();
    // Window stats.
    let wStart = start;
    let wCount = 0;
    let wBytes = 0;
    let wLatencySum = 0;
    let wLatencyMax = 0;
    const onDelivery = (err: Error | null, meta: RecordMetadata | null): void => {
      if (err !== null) {
        errors++;
        firstError ??= err;
        return;
      }
      const now = Date.now();
      const latency = now - meta!.timestamp;
      latencies[acked++] = latency;
      wCount++;
      wLatencySum += latency;
      if (latency > wLatencyMax) wLatencyMax = latency;
    };
    const sizes = payloads.map((p) => p.length);
    const reporter = setInterval(() => {
      const now = Date.now();
      const secs = (now - wStart) / 1000;
      wBytes = wCount * sizes[0]!;
      process.stdout.write(
        `${wCount} records sent, ${(wCount / secs).toFixed(1)} records/sec (${(wBytes / secs / 1024 / 1024).toFixed(2)} MB/sec), ${(wCount === 0 ? 0 : wLatencySum / wCount).toFixed(1)} ms avg latency, ${wLatencyMax.toFixed(1)} ms max latency.\n`,
      );
      wStart = now;
      wCount = 0;
      wLatencySum = 0;
      wLatencyMax = 0;
    }, reportMs);
    try {
      // Like Kafka's tool once send() throws: stop producing after the first failed record
      // (a delivery timeout or missing metadata), let what is buffered finish or expire, report.
      for (let i = 0; i < numRecords && firstError === null; i++) {
        const value = payloads[i % payloads.length]!;
        bytesSent += value.length;
        produced++;
        const wait = producer.produce({ topic, value }, onDelivery);
        if (wait !== undefined) await wait;
        if (throughput > 0 && (i & 63) === 0) {
          // Throttle: sleep until the send rate is back under the target.
          const ahead = ((i + 1) * 1000) / throughput - (Date.now() - start);
          if (ahead > 1) await new Promise((r) => setTimeout(r, ahead));
        }
      }
      await producer.flush().catch(() => undefined);
    } finally {
      clearInterval(reporter);
      await producer.close({ force: true });
    }
    const elapsedMs = Date.now() - start;
    if (firstError !== null) {
      const failure = firstError as Error;
      // Nothing got through (broker unreachable, topic missing): one error line, no summary.
      if (acked === 0) throw failure;
      process.stderr.write(`Error: ${failure.message}\n${errors} records failed.\n`);
    }
    const secs = elapsedMs / 1000;
    const sorted = latencies.subarray(0, acked).sort();
    const pct = (q: number): number => (acked === 0 ? 0 : sorted[Math.min(acked - 1, Math.floor(q * acked))]!);
    let sum = 0;
    for (let i = 0; i < acked; i++) sum += sorted[i]!;
    const bytes = acked === produced ? bytesSent : (bytesSent / produced) * acked;
    await out(
      `${acked} records sent, ${(acked / secs).toFixed(1)} records/sec (${(bytes / secs / 1024 / 1024).toFixed(2)} MB/sec), ` +
        `${(acked === 0 ? 0 : sum / acked).toFixed(2)} ms avg latency, ${(acked === 0 ? 0 : sorted[acked - 1]!).toFixed(2)} ms max latency, ` +
        `${pct(0.5)} ms 50th, ${pct(0.95)} ms 95th, ${pct(0.99)} ms 99th, ${pct(0.999)} ms 99.9th.\n`,
    );
    if (errors > 0) process.exitCode = 1;
  });
}
