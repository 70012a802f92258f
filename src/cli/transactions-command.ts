// `tributary transactions`: kafka-transactions.sh's subcommands with its flags and tables:
// list [--duration-filter MS], describe --transactional-id ID, describe-producers --topic T
// --partition P, find-hanging (--broker-id ID | --topic T [--partition P])
// [--max-transaction-timeout MIN], abort --topic T --partition P (--start-offset O |
// --producer-id --producer-epoch --coordinator-epoch).
import { Admin } from '../client/index.js';
import type { ProducerState } from '../client/admin.js';
import { KafkaClientError } from '../client/errors.js';
import { ToolError, UsageError, clientOptions, out, parseToolArgs, runTool, showHelp, str } from './tool-support.js';

const USAGE = `Usage: tributary transactions --bootstrap-server HOST:PORT [--command-config FILE] COMMAND
  list [--duration-filter MS]
  describe --transactional-id ID
  describe-producers --topic T --partition P
  find-hanging (--broker-id ID | --topic T [--partition P]) [--max-transaction-timeout MINUTES]
  abort --topic T --partition P (--start-offset O | --producer-id ID --producer-epoch E --coordinator-epoch C)
`;

/** Kafka's default for find-hanging: transactions older than 15 minutes. */
const DEFAULT_MAX_TRANSACTION_TIMEOUT_MIN = 15;
/** Partitions find-hanging looks at in one run (each is one DescribeProducers). */
const MAX_PARTITIONS_SEARCHED = 10_000;

/** Kafka's ToolsUtils.prettyPrintTable: columns padded to their widest cell, each followed by a tab. */
function prettyTable(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [headers, ...rows].map((r) => r.map((cell, i) => `${cell.padEnd(widths[i]!)}\t`).join('') + '\n').join('');
}

function intOf(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value)) throw new UsageError(`argument --${name}: could not convert '${value}' to a number`);
  return Number(value);
}

export async function runTransactions(argv: string[]): Promise<void> {
  await runTool('transactions', USAGE, async () => {
    const { values, positionals } = parseToolArgs(argv, {
      'duration-filter': { type: 'string' },
      'transactional-id': { type: 'string' },
      topic: { type: 'string' },
      partition: { type: 'string' },
      'broker-id': { type: 'string' },
      'max-transaction-timeout': { type: 'string' },
      'start-offset': { type: 'string' },
      'producer-id': { type: 'string' },
      'producer-epoch': { type: 'string' },
      'coordinator-epoch': { type: 'string' },
    });
    if (showHelp(values, USAGE)) return;
    const command = positionals[0];
    if (command === undefined) throw new UsageError('a command is required: list, describe, describe-producers, find-hanging, abort');
    const admin = new Admin(clientOptions(values));
    const topicPartition = () => {
      const topic = str(values, 'topic');
      const partition = intOf(str(values, 'partition'), 'partition');
      if (topic === undefined || partition === undefined) throw new UsageError(`${command} needs --topic and --partition`);
      return { topic, partition };
    };
    try {
      switch (command) {
        case 'list': {
          const filter = intOf(str(values, 'duration-filter'), 'duration-filter');
          let listed;
          try {
            listed = await admin.listTransactions(filter === undefined ? {} : { durationFilterMs: BigInt(filter) });
          } catch (err) {
            throw failed('Failed to list transactions', err);
          }
          await out(prettyTable(['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState'], listed.map((t) => [t.transactionalId, String(t.coordinatorId), String(t.producerId), t.state])));
          return;
        }
        case 'describe': {
          const id = str(values, 'transactional-id');
          if (id === undefined) throw new UsageError('describe needs --transactional-id');
          let d;
          try {
            d = await admin.describeTransaction(id);
          } catch (err) {
            throw failed(`Failed to describe transaction state of transactional-id \`${id}\``, err);
          }
          const open = d.transactionStartTimeMs >= 0n;
          const row = [
            String(d.coordinatorId),
            id,
            String(d.producerId),
            String(d.producerEpoch),
            d.state,
            String(d.transactionTimeoutMs),
            open ? String(d.transactionStartTimeMs) : 'None',
            open ? String(BigInt(Date.now()) - d.transactionStartTimeMs) : 'None',
            d.topicPartitions.map((tp) => `${tp.topic}-${tp.partition}`).join(','),
          ];
          await out(prettyTable(['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions'], [row]));
          return;
        }
        case 'describe-producers': {
          const tp = topicPartition();
          let producers: ProducerState[];
          try {
            producers = await admin.describeProducers(tp);
          } catch (err) {
            throw failed(`Failed to describe producers for partition ${tp.topic}-${tp.partition} on leader`, err);
          }
          const rows = producers.map((p) => [String(p.producerId), String(p.producerEpoch), String(p.coordinatorEpoch), String(p.lastSequence), String(p.lastTimestamp), p.currentTxnStartOffset >= 0n ? String(p.currentTxnStartOffset) : 'None']);
          await out(prettyTable(['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset'], rows));
          return;
        }
        case 'find-hanging':
          await findHanging(admin, values);
          return;
        case 'abort': {
          const tp = topicPartition();
          const startOffset = str(values, 'start-offset');
          let spec;
          if (startOffset !== undefined) {
            const open = (await admin.describeProducers(tp)).find((p) => p.currentTxnStartOffset === BigInt(startOffset));
            if (open === undefined) throw new ToolError(`Could not find any open transactions starting at offset ${startOffset} on partition ${tp.topic}-${tp.partition}`);
            spec = { ...tp, producerId: open.producerId, producerEpoch: open.producerEpoch, coordinatorEpoch: Math.max(0, open.coordinatorEpoch) };
          } else {
            const producerId = intOf(str(values, 'producer-id'), 'producer-id');
            const producerEpoch = intOf(str(values, 'producer-epoch'), 'producer-epoch');
            const coordinatorEpoch = intOf(str(values, 'coordinator-epoch'), 'coordinator-epoch');
            if (producerId === undefined || producerEpoch === undefined || coordinatorEpoch === undefined) {
              throw new UsageError('The transaction to abort must be identified either with --start-offset (for brokers on 3.0 or above) or with --producer-id, --producer-epoch, and --coordinator-epoch (for older brokers)');
            }
            spec = { ...tp, producerId: BigInt(producerId), producerEpoch, coordinatorEpoch };
          }
          try {
            await admin.abortTransaction(spec);
          } catch (err) {
            throw failed(`Failed to abort transaction AbortTransactionSpec(topicPartition=${tp.topic}-${tp.partition}, producerId=${spec.producerId}, producerEpoch=${spec.producerEpoch}, coordinatorEpoch=${spec.coordinatorEpoch})`, err);
          }
          return;
        }
        default:
          throw new UsageError(`invalid choice: '${command}' (choose from 'list', 'describe', 'describe-producers', 'find-hanging', 'abort')`);
      }
    } finally {
      await admin.close();
    }
  });
}

function failed(what: string, err: unknown): Error {
  if (err instanceof KafkaClientError) return new ToolError(`${what}: ${err.message}`);
  return err instanceof Error ? err : new Error(String(err));
}

/**
 * Kafka's find-hanging: open transactions on the partitions searched whose producer has written
 * nothing for longer than --max-transaction-timeout, and that no coordinator still has as an
 * ongoing transaction of that producer including the partition.
 */
async function findHanging(admin: Admin, values: Parameters<typeof str>[0]): Promise<void> {
  const maxMinutes = intOf(str(values, 'max-transaction-timeout'), 'max-transaction-timeout') ?? DEFAULT_MAX_TRANSACTION_TIMEOUT_MIN;
  const brokerId = intOf(str(values, 'broker-id'), 'broker-id');
  const topic = str(values, 'topic');
  if ((brokerId === undefined) === (topic === undefined)) throw new UsageError('find-hanging needs either --broker-id or --topic');
  const described = await admin.describeTopics(topic === undefined ? undefined : [topic]);
  const partitions = described.flatMap((t) =>
    t.partitions
      .filter((p) => (brokerId === undefined ? true : p.replicas.includes(brokerId)) && (str(values, 'partition') === undefined || p.partition === Number(str(values, 'partition'))))
      .map((p) => ({ topic: t.name, partition: p.partition })),
  );
  if (partitions.length > MAX_PARTITIONS_SEARCHED) throw new ToolError(`find-hanging searches at most ${MAX_PARTITIONS_SEARCHED} partitions; narrow it with --topic`);
  const now = BigInt(Date.now());
  const candidates: Array<{ topic: string; partition: number; p: ProducerState }> = [];
  for (const tp of partitions) {
    for (const p of await admin.describeProducers(tp)) {
      if (p.currentTxnStartOffset >= 0n && now - p.lastTimestamp > BigInt(maxMinutes) * 60_000n) candidates.push({ ...tp, p });
    }
  }
  const hanging: typeof candidates = [];
  if (candidates.length > 0) {
    const listed = await admin.listTransactions();
    for (const c of candidates) {
      let stillOpen = false;
      for (const t of listed.filter((l) => l.producerId === c.p.producerId)) {
        const d = await admin.describeTransaction(t.transactionalId).catch(() => null);
        if (d !== null && d.producerEpoch === c.p.producerEpoch && d.state !== 'Empty' && !d.state.startsWith('Complete') && d.topicPartitions.some((tp) => tp.topic === c.topic && tp.partition === c.partition)) stillOpen = true;
      }
      if (!stillOpen) hanging.push(c);
    }
  }
  const rows = hanging.map((h) => [h.topic, String(h.partition), String(h.p.producerId), String(h.p.producerEpoch), String(h.p.coordinatorEpoch), String(h.p.currentTxnStartOffset), String(h.p.lastTimestamp), String((now - h.p.lastTimestamp) / 60_000n)]);
  await out(prettyTable(['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)'], rows));
}
