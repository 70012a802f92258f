// `tributary console-consumer`: kafka-console-consumer.sh with its DefaultMessageFormatter
// properties (print.timestamp, print.partition, print.offset, print.headers, print.key,
// print.value, key.separator, line.separator, headers.separator, null.literal).
import { Consumer, type ConsumerRecord } from '../client/index.js';
import { UsageError, clientOptions, flag, intArg, keyValues, out, parseToolArgs, readPropertiesFile, runTool, showHelp, str, strs } from './tool-support.js';
import { unescape } from './console-producer-command.js';

const USAGE = `Usage: tributary console-consumer --bootstrap-server HOST:PORT (--topic T | --include REGEX)
  [--from-beginning] [--group G] [--partition N [--offset earliest|latest|N]]
  [--max-messages N] [--timeout-ms MS] [--isolation-level read_committed]
  [--property print.key=true --property print.timestamp=true ...]
  [--formatter CLASS] [--formatter-config FILE]
  [--consumer-property k=v ...] [--consumer.config FILE]

--include takes a Java regular expression matched against whole topic names, resolved once at
start. --formatter: Kafka's DefaultMessageFormatter (the default) or NoOpMessageFormatter.
`;

// Kafka's formatter class names, old and new packages.
const DEFAULT_FORMATTERS = ['kafka.tools.DefaultMessageFormatter', 'org.apache.kafka.tools.consumer.DefaultMessageFormatter', 'DefaultMessageFormatter'];
const NO_OP_FORMATTERS = ['kafka.tools.NoOpMessageFormatter', 'org.apache.kafka.tools.consumer.NoOpMessageFormatter', 'NoOpMessageFormatter'];

export async function runConsoleConsumer(argv: string[]): Promise<void> {
  await runTool('console-consumer', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      topic: { type: 'string' },
      include: { type: 'string' },
      formatter: { type: 'string' },
      'formatter-config': { type: 'string' },
      'from-beginning': { type: 'boolean' },
      group: { type: 'string' },
      partition: { type: 'string' },
      offset: { type: 'string' },
      'max-messages': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'isolation-level': { type: 'string' },
      property: { type: 'string', multiple: true },
      'consumer-property': { type: 'string', multiple: true },
      'consumer.config': { type: 'string' },
    });
    if (showHelp(values, USAGE)) return;
    const topicArg = str(values, 'topic');
    const include = str(values, 'include');
    if ((topicArg === undefined) === (include === undefined)) throw new UsageError('Exactly one of --include/--topic is required.');
    let includeRegex: RegExp | null = null;
    if (include !== undefined) {
      try {
        includeRegex = new RegExp(`^(?:${include})$`);
      } catch (err) {
        throw new UsageError(`Invalid value '${include}' for --include: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    const formatterConfig = str(values, 'formatter-config');
    const props = new Map([...(formatterConfig === undefined ? [] : readPropertiesFile(formatterConfig)), ...keyValues(strs(values, 'property'), 'property', false)]);
    const consumerProps = keyValues(strs(values, 'consumer-property'), 'consumer property', false);
    const group = str(values, 'group');
    if (group !== undefined) consumerProps.set('group.id', group);
    const isolation = str(values, 'isolation-level');
    if (isolation !== undefined) consumerProps.set('isolation.level', isolation);
    const file = str(values, 'consumer.config');
    const opts = clientOptions(values, { files: file === undefined ? [] : [file], props: consumerProps });
    const partition = intArg(values, 'partition');
    const offsetArg = str(values, 'offset');
    if (offsetArg !== undefined && partition === undefined) throw new UsageError('The partition is required when offset is specified.');
    if (partition !== undefined && includeRegex !== null) throw new UsageError('Options include and partition cannot be specified together.');
    if (partition !== undefined && opts.groupId !== undefined) throw new UsageError('Options group and partition cannot be specified together.');
    if (flag(values, 'from-beginning') && offsetArg !== undefined) throw new UsageError("Options from-beginning and offset can't be used together.");
    const maxMessages = intArg(values, 'max-messages');
    const timeoutMs = intArg(values, 'timeout-ms');
    const formatterName = str(values, 'formatter') ?? DEFAULT_FORMATTERS[0]!;
    const format = NO_OP_FORMATTERS.includes(formatterName) ? () => '' : DEFAULT_FORMATTERS.includes(formatterName) ? formatter(props) : null;
    if (format === null) throw new UsageError(`Unknown formatter '${formatterName}': DefaultMessageFormatter or NoOpMessageFormatter`);

    const consumer = new Consumer({
      ...opts,
      autoOffsetReset: flag(values, 'from-beginning') ? 'earliest' : opts.autoOffsetReset ?? 'latest',
    });
    let count = 0;
    let interrupted = false;
    const onSignal = (): void => {
      interrupted = true;
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    try {
      // --include: the topics whose whole name matches, now.
      // Internal topics are left out, as the consumer's exclude.internal.topics=true does.
      const topics = includeRegex === null ? [topicArg!] : await matchingTopics(consumer, includeRegex);
      if (topics.length === 0) throw new UsageError(`No topic matches --include '${include}'`);
      if (partition !== undefined) {
        const tp = { topic: topics[0]!, partition };
        consumer.assign([tp]);
        if (offsetArg === undefined || offsetArg === 'latest') consumer.seek(tp, flag(values, 'from-beginning') ? 'earliest' : 'latest');
        else if (offsetArg === 'earliest') consumer.seek(tp, 'earliest');
        else if (/^\d+$/.test(offsetArg)) consumer.seek(tp, BigInt(offsetArg));
        else throw new UsageError(`Invalid value '${offsetArg}' for --offset: expected earliest, latest or a non-negative number`);
      } else if (opts.groupId !== undefined) {
        consumer.subscribe(topics);
        // The timeout counts from the first assignment: joining a group takes a rebalance.
        if (timeoutMs !== undefined) await consumer.waitForAssignment({ timeoutMs: Math.max(timeoutMs, 30_000) }).catch(() => undefined);
      } else {
        // No group: every partition of the topics, like the Java tool's generated group.
        const assigned: { topic: string; partition: number }[] = [];
        for (const topic of topics) {
          const md = await consumer.cluster.retry(() => consumer.cluster.topic(topic));
          for (const p of md.partitions) assigned.push({ topic, partition: p.partition });
        }
        consumer.assign(assigned);
      }
      let lastMessageMs = Date.now();
      outer: while (!interrupted) {
        const batches = await consumer.poll({ timeoutMs: 200 });
        if (batches.length === 0) {
          if (timeoutMs !== undefined && Date.now() - lastMessageMs >= timeoutMs) break;
          continue;
        }
        lastMessageMs = Date.now();
        let text = '';
        for (const b of batches) {
          for (const r of b.records) {
            text += format(r);
            count++;
            if (maxMessages !== undefined && count >= maxMessages) {
              await out(text);
              break outer;
            }
          }
        }
        await out(text);
      }
      if (opts.groupId !== undefined) await consumer.commitSync().catch(() => undefined);
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      await consumer.close();
      process.stderr.write(`Processed a total of ${count} messages\n`);
    }
  });
}

async function matchingTopics(consumer: Consumer, regex: RegExp): Promise<string[]> {
  const md = await consumer.cluster.retry(() => consumer.cluster.fetchMetadata(null, false));
  return md.topics.filter((t) => t.name !== null && !t.isInternal && regex.test(t.name)).map((t) => t.name!).sort();
}

/** Kafka's DefaultMessageFormatter. */
function formatter(props: Map<string, string>): (r: ConsumerRecord) => string {
  const known = ['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key', 'print.value', 'key.separator', 'line.separator', 'headers.separator', 'null.literal'];
  for (const k of props.keys()) if (!known.includes(k)) throw new UsageError(`unknown --property '${k}'`);
  const on = (k: string, d = false): boolean => (props.has(k) ? props.get(k)!.trim().toLowerCase() === 'true' : d);
  const printTimestamp = on('print.timestamp');
  const printPartition = on('print.partition');
  const printOffset = on('print.offset');
  const printHeaders = on('print.headers');
  const printKey = on('print.key');
  const printValue = on('print.value', true);
  const keySeparator = unescape(props.get('key.separator') ?? '\t');
  const lineSeparator = unescape(props.get('line.separator') ?? '\n');
  const headersSeparator = unescape(props.get('headers.separator') ?? ',');
  const nullLiteral = props.get('null.literal') ?? 'null';
  const text = (b: Buffer | null): string => (b === null ? nullLiteral : b.toString('utf8'));
  return (r) => {
    const parts: string[] = [];
    if (printTimestamp) parts.push(r.timestamp < 0n ? 'NO_TIMESTAMP' : `CreateTime:${r.timestamp}`);
    if (printPartition) parts.push(`Partition:${r.partition}`);
    if (printOffset) parts.push(`Offset:${r.offset}`);
    if (printHeaders) parts.push(r.headers.length === 0 ? 'NO_HEADERS' : r.headers.map((h) => `${h.key}:${text(h.value)}`).join(headersSeparator));
    if (printKey) parts.push(text(r.key));
    if (printValue) parts.push(text(r.value));
    return parts.join(keySeparator) + lineSeparator;
  };
}
