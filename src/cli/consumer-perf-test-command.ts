// `tributary consumer-perf-test`: kafka-consumer-perf-test.sh — consumes --messages records and
// prints Kafka's header and CSV-like summary:
// start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec,
// rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
import { Consumer } from '../client/index.js';
import { UsageError, clientOptions, flag, intArg, out, parseToolArgs, required, runTool, showHelp, str } from './tool-support.js';

const USAGE = `Usage: tributary consumer-perf-test --bootstrap-server HOST:PORT --topic T --messages N
  [--group G] [--timeout MS] [--from-latest] [--hide-header] [--consumer.config FILE]
  [--fetch-size BYTES]
`;

function ts(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}:${p(d.getMilliseconds(), 3)}`;
}

export async function runConsumerPerfTest(argv: string[]): Promise<void> {
  await runTool('consumer-perf-test', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      topic: { type: 'string' },
      messages: { type: 'string' },
      group: { type: 'string' },
      timeout: { type: 'string' },
      'from-latest': { type: 'boolean' },
      'hide-header': { type: 'boolean' },
      'consumer.config': { type: 'string' },
      'fetch-size': { type: 'string' },
      'show-detailed-stats': { type: 'boolean' },
      'reporting-interval': { type: 'string' },
    });
    if (showHelp(values, USAGE)) return;
    const topic = required(values, 'topic');
    const messages = intArg(values, 'messages');
    if (messages === undefined || messages <= 0) throw new UsageError('Missing required argument "--messages"');
    const timeoutMs = intArg(values, 'timeout') ?? 10_000;
    const file = str(values, 'consumer.config');
    const props = new Map<string, string>();
    const group = str(values, 'group');
    if (group !== undefined) props.set('group.id', group);
    const fetchSize = str(values, 'fetch-size');
    if (fetchSize !== undefined) props.set('max.partition.fetch.bytes', fetchSize);
    const opts = clientOptions(values, { files: file === undefined ? [] : [file], props });
    const consumer = new Consumer({ ...opts, autoOffsetReset: flag(values, 'from-latest') ? 'latest' : 'earliest', autoCommit: false });
    const start = Date.now();
    let rebalanceMs = 0;
    let count = 0;
    let bytes = 0;
    try {
      if (opts.groupId !== undefined) {
        consumer.subscribe([topic]);
        await consumer.waitForAssignment({ timeoutMs });
        rebalanceMs = Date.now() - start;
      } else {
        const md = await consumer.cluster.retry(() => consumer.cluster.topic(topic));
        consumer.assign(md.partitions.map((p) => ({ topic, partition: p.partition })));
      }
      const fetchStart = Date.now();
      let lastRecordMs = Date.now();
      while (count < messages) {
        const batches = await consumer.poll({ timeoutMs: 100 });
        if (batches.length === 0) {
          if (Date.now() - lastRecordMs > timeoutMs) {
            process.stderr.write(`WARNING: Exiting before consuming the expected number of messages: timeout (${timeoutMs} ms) exceeded.\n`);
            break;
          }
          continue;
        }
        lastRecordMs = Date.now();
        for (const b of batches) {
          for (const r of b.records) {
            count++;
            bytes += r.value === null ? 0 : r.value.length;
            if (r.key !== null) bytes += r.key.length;
          }
        }
      }
      const end = Date.now();
      const mb = bytes / (1024 * 1024);
      const secs = (end - start) / 1000;
      const fetchSecs = (end - fetchStart) / 1000;
      if (!flag(values, 'hide-header')) {
        await out('start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec\n');
      }
      await out(
        `${ts(start)}, ${ts(end)}, ${mb.toFixed(4)}, ${(mb / secs).toFixed(4)}, ${count}, ${(count / secs).toFixed(4)}, ${rebalanceMs}, ${end - fetchStart}, ${(mb / fetchSecs).toFixed(4)}, ${(count / fetchSecs).toFixed(4)}\n`,
      );
    } finally {
      await consumer.close();
    }
  });
}
