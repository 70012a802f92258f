// `tributary topics`: kafka-topics.sh's flags and output.
import { Admin, type TopicDescription } from '../client/index.js';
import { ErrorCode } from '../protocol/errors.js';
import { KafkaClientError } from '../client/errors.js';
import { ToolError, UsageError, clientOptions, flag, intArg, keyValues, out, parseToolArgs, required, runTool, showHelp, str, strs } from './tool-support.js';

const USAGE = `Usage: tributary topics --bootstrap-server HOST:PORT [--command-config FILE] ACTION
Actions:
  --create --topic T [--partitions N] [--replication-factor N] [--config k=v ...] [--if-not-exists]
  --list [--exclude-internal]
  --describe [--topic T] [--exclude-internal] [--topics-with-overrides]
             [--under-replicated-partitions | --unavailable-partitions |
              --under-min-isr-partitions | --at-min-isr-partitions]
  --alter --topic T --partitions N
  --delete --topic T [--if-exists]
`;

const PARTITION_FILTERS = ['under-replicated-partitions', 'unavailable-partitions', 'under-min-isr-partitions', 'at-min-isr-partitions'] as const;

function partitionMatches(filter: (typeof PARTITION_FILTERS)[number], p: { leader: number; replicas: number[]; isr: number[] }, minIsr: number): boolean {
  switch (filter) {
    case 'under-replicated-partitions':
      return p.isr.length < p.replicas.length;
    case 'unavailable-partitions':
      return p.leader < 0;
    case 'under-min-isr-partitions':
      return p.isr.length < minIsr;
    case 'at-min-isr-partitions':
      return p.isr.length === minIsr;
  }
}

export async function runTopics(argv: string[]): Promise<void> {
  await runTool('topics', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      create: { type: 'boolean' },
      list: { type: 'boolean' },
      describe: { type: 'boolean' },
      alter: { type: 'boolean' },
      delete: { type: 'boolean' },
      topic: { type: 'string' },
      partitions: { type: 'string' },
      'replication-factor': { type: 'string' },
      config: { type: 'string', multiple: true },
      'if-not-exists': { type: 'boolean' },
      'if-exists': { type: 'boolean' },
      'exclude-internal': { type: 'boolean' },
      'topics-with-overrides': { type: 'boolean' },
      'under-replicated-partitions': { type: 'boolean' },
      'unavailable-partitions': { type: 'boolean' },
      'under-min-isr-partitions': { type: 'boolean' },
      'at-min-isr-partitions': { type: 'boolean' },
    });
    if (showHelp(values, USAGE)) return;
    const actions = ['create', 'list', 'describe', 'alter', 'delete'].filter((a) => flag(values, a));
    if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --list, --describe, --create, --alter or --delete');
    const admin = new Admin(clientOptions(values));
    try {
      switch (actions[0]) {
        case 'create': {
          const topic = required(values, 'topic');
          const configs = Object.fromEntries(keyValues(strs(values, 'config'), 'config', false));
          try {
            await admin.createTopics([
              { topic, numPartitions: intArg(values, 'partitions') ?? -1, replicationFactor: intArg(values, 'replication-factor') ?? -1, configs },
            ]);
          } catch (err) {
            if (flag(values, 'if-not-exists') && err instanceof KafkaClientError && err.code === ErrorCode.TOPIC_ALREADY_EXISTS) return;
            throw err;
          }
          await out(`Created topic ${topic}.\n`);
          return;
        }
        case 'list': {
          const names = await admin.listTopics({ includeInternal: !flag(values, 'exclude-internal') });
          const topic = str(values, 'topic');
          await out(names.filter((n) => topic === undefined || n === topic).map((n) => `${n}\n`).join(''));
          return;
        }
        case 'describe': {
          const topic = str(values, 'topic');
          let topics: TopicDescription[] = await admin.describeTopics(topic === undefined ? undefined : [topic]);
          if (flag(values, 'exclude-internal')) topics = topics.filter((t) => !t.isInternal);
          const configs = topics.length === 0 ? [] : await admin.describeConfigs(topics.map((t) => ({ type: 'topic' as const, name: t.name })));
          // As kafka-topics: a partition filter prints only the matching partitions (no topic
          // line); --topics-with-overrides only the topic lines of topics with overrides.
          const filters = PARTITION_FILTERS.filter((f) => flag(values, f));
          if (filters.length > 1) throw new UsageError(`Only one of ${PARTITION_FILTERS.map((f) => `--${f}`).join(', ')} may be given`);
          const filter = filters[0];
          const withOverrides = flag(values, 'topics-with-overrides');
          const lines: string[] = [];
          topics.forEach((t, i) => {
            const entries = configs[i]?.entries ?? [];
            const dynamic = entries.filter((e) => e.source === 'DYNAMIC_TOPIC_CONFIG').map((e) => `${e.name}=${e.isSensitive ? '<sensitive>' : e.value ?? ''}`);
            if (withOverrides && dynamic.length === 0) return;
            const rf = t.partitions[0]?.replicas.length ?? 0;
            if (filter === undefined) lines.push(`Topic: ${t.name}\tTopicId: ${t.topicId}\tPartitionCount: ${t.partitions.length}\tReplicationFactor: ${rf}\tConfigs: ${dynamic.join(',')}`);
            if (withOverrides) return;
            const minIsr = Number(entries.find((e) => e.name === 'min.insync.replicas')?.value ?? '1');
            for (const p of t.partitions) {
              if (filter !== undefined && !partitionMatches(filter, p, minIsr)) continue;
              const leader = p.leader < 0 ? 'none' : String(p.leader);
              lines.push(`\tTopic: ${t.name}\tPartition: ${p.partition}\tLeader: ${leader}\tReplicas: ${p.replicas.join(',')}\tIsr: ${p.isr.join(',')}`);
            }
          });
          await out(lines.map((l) => `${l}\n`).join(''));
          return;
        }
        case 'alter': {
          const topic = required(values, 'topic');
          const partitions = intArg(values, 'partitions');
          if (partitions === undefined) throw new UsageError('--alter needs --partitions');
          await admin.createPartitions([{ topic, count: partitions }]);
          return;
        }
        case 'delete': {
          const topic = required(values, 'topic');
          try {
            await admin.deleteTopics([topic]);
          } catch (err) {
            if (flag(values, 'if-exists') && err instanceof KafkaClientError && err.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) return;
            throw err;
          }
          return;
        }
      }
    } catch (err) {
      if (err instanceof KafkaClientError) throw new ToolError(`Error while executing topic command : ${err.message}`);
      throw err;
    } finally {
      await admin.close();
    }
  });
}
