// `tributary consumer-groups`: kafka-consumer-groups.sh --list, --describe (Kafka's columns;
// --offsets, the default, --members [--verbose] and --state as Kafka prints them),
// --reset-offsets (--to-earliest/--to-latest/--to-offset/--shift-by/--to-datetime with
// --dry-run or --execute) and --delete. `--describe --time-lag` (ours, not Kafka's) adds a last
// column TIME-LAG-MS: the age of the oldest record the group has not consumed per partition; the
// nine columns before it stay Kafka's, in Kafka's order, with or without the flag.
import { Admin, Consumer, type TopicPartition } from '../client/index.js';
import { KafkaClientError } from '../client/errors.js';
import { ToolError, UsageError, clientOptions, flag, intArg, out, parseToolArgs, runTool, showHelp, str, strs } from './tool-support.js';

const USAGE = `Usage: tributary consumer-groups --bootstrap-server HOST:PORT
  --list
  --describe --group G [--all-groups] [--offsets | --members [--verbose] | --state]
      [--time-lag]   with --offsets (the default view): a last column TIME-LAG-MS, the age in ms
                     of the oldest record the group has not consumed (now minus the timestamp of
                     the record at its committed offset; 0 when caught up). Not in Kafka's tool.
  --reset-offsets --group G (--topic T[:P,...] | --all-topics)
      (--to-earliest | --to-latest | --to-offset N | --shift-by N | --to-datetime YYYY-MM-DDTHH:mm:SS.sss)
      (--dry-run | --execute)
  --delete --group G
`;

function table(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 1))).join(' ') + '\n').join('');
}

export async function runConsumerGroups(argv: string[]): Promise<void> {
  await runTool('consumer-groups', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      list: { type: 'boolean' },
      describe: { type: 'boolean' },
      'reset-offsets': { type: 'boolean' },
      delete: { type: 'boolean' },
      group: { type: 'string', multiple: true },
      'all-groups': { type: 'boolean' },
      topic: { type: 'string', multiple: true },
      'all-topics': { type: 'boolean' },
      'to-earliest': { type: 'boolean' },
      'to-latest': { type: 'boolean' },
      'to-offset': { type: 'string' },
      'shift-by': { type: 'string' },
      'to-datetime': { type: 'string' },
      'dry-run': { type: 'boolean' },
      execute: { type: 'boolean' },
      state: { type: 'boolean' },
      members: { type: 'boolean' },
      offsets: { type: 'boolean' },
      verbose: { type: 'boolean' },
      'time-lag': { type: 'boolean' },
    });
    if (showHelp(values, USAGE)) return;
    const actions = ['list', 'describe', 'reset-offsets', 'delete'].filter((a) => flag(values, a));
    if (actions.length !== 1) throw new UsageError('Command must include exactly one action: --list, --describe, --delete, --reset-offsets');
    const admin = new Admin(clientOptions(values));
    try {
      let groups = strs(values, 'group');
      if (actions[0] !== 'list' && flag(values, 'all-groups')) groups = (await admin.listGroups()).map((g) => g.groupId);
      if (actions[0] !== 'list' && groups.length === 0) throw new UsageError('Option --group (or --all-groups) is required');
      switch (actions[0]) {
        case 'list': {
          const listed = await admin.listGroups();
          await out(listed.map((g) => `${g.groupId}\n`).join(''));
          return;
        }
        case 'describe': {
          const views = ['offsets', 'members', 'state'].filter((v) => flag(values, v));
          if (views.length > 1) throw new UsageError('Option [describe] takes at most one of these options: [--members, --offsets, --state]');
          if (flag(values, 'verbose') && views[0] !== 'members') throw new UsageError('Option [verbose] can be used only with [describe] and [members]');
          if (flag(values, 'time-lag') && views.length > 0 && views[0] !== 'offsets') throw new UsageError('Option [time-lag] can be used only with [describe] and [offsets]');
          const timeLag = flag(values, 'time-lag') ? { options: clientOptions(values) } : null;
          for (const groupId of groups) {
            if (views[0] === 'members') await describeMembers(admin, groupId, flag(values, 'verbose'));
            else if (views[0] === 'state') await describeState(admin, groupId);
            else await describe(admin, groupId, timeLag);
          }
          return;
        }
        case 'delete': {
          await admin.deleteGroups(groups);
          await out(`Deletion of requested consumer groups (${groups.map((g) => `'${g}'`).join(', ')}) was successful.\n`);
          return;
        }
        case 'reset-offsets': {
          if (flag(values, 'dry-run') === flag(values, 'execute')) {
            if (!flag(values, 'dry-run')) process.stderr.write('WARN: No action will be performed as the --execute option is missing. Use --execute to apply.\n');
          }
          for (const groupId of groups) await reset(admin, groupId, values);
          return;
        }
      }
    } catch (err) {
      if (err instanceof KafkaClientError) throw new ToolError(`Error: Executing consumer group command failed due to ${err.message}`);
      throw err;
    } finally {
      await admin.close();
    }
  });
}

async function describe(admin: Admin, groupId: string, timeLag: { options: ReturnType<typeof clientOptions> } | null): Promise<void> {
  const [desc] = await admin.describeGroups([groupId]);
  const committed = await admin.listConsumerGroupOffsets(groupId);
  const owner = new Map<string, { consumerId: string; host: string; clientId: string }>();
  for (const m of desc?.members ?? []) {
    for (const tp of m.assignment) owner.set(`${tp.topic}\0${tp.partition}`, { consumerId: m.memberId, host: m.clientHost, clientId: m.clientId });
  }
  const tps = new Map<string, TopicPartition>();
  for (const c of committed) tps.set(`${c.topic}\0${c.partition}`, { topic: c.topic, partition: c.partition });
  for (const m of desc?.members ?? []) for (const tp of m.assignment) tps.set(`${tp.topic}\0${tp.partition}`, tp);
  if (tps.size === 0 && (desc === undefined || desc.state === 'Dead')) throw new ToolError(`Error: Consumer group '${groupId}' does not exist.`);
  const list = [...tps.values()].sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  const ends = list.length === 0 ? [] : await admin.listOffsets(list.map((tp) => ({ ...tp, spec: 'latest' as const })));
  const committedBy = new Map(committed.map((c) => [`${c.topic}\0${c.partition}`, c.offset]));
  if ((desc?.members.length ?? 0) === 0) process.stdout.write(`\nConsumer group '${groupId}' has no active members.\n`);
  const rows = [['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID']];
  if (timeLag !== null) rows[0]!.push('TIME-LAG-MS');
  const behind = list.flatMap((tp, i) => {
    const current = committedBy.get(`${tp.topic}\0${tp.partition}`);
    return current !== undefined && current >= 0n && current < ends[i]!.offset ? [{ ...tp, offset: current }] : [];
  });
  const oldest = timeLag === null || behind.length === 0 ? new Map<string, bigint>() : await oldestUnconsumed(timeLag.options, behind);
  const now = BigInt(Date.now());
  list.forEach((tp, i) => {
    const k = `${tp.topic}\0${tp.partition}`;
    const current = committedBy.get(k);
    const end = ends[i]!.offset;
    const o = owner.get(k);
    rows.push([
      groupId,
      tp.topic,
      String(tp.partition),
      current === undefined || current < 0n ? '-' : String(current),
      String(end),
      current === undefined || current < 0n ? '-' : String(end - current),
      o?.consumerId ?? '-',
      o?.host ?? '-',
      o?.clientId ?? '-',
    ]);
    if (timeLag !== null) {
      const ts = oldest.get(k);
      const caughtUp = current !== undefined && current >= end;
      rows.at(-1)!.push(current === undefined || current < 0n ? '-' : caughtUp ? '0' : ts === undefined ? '-' : String(now > ts ? now - ts : 0n));
    }
  });
  await out('\n' + table(rows));
}

/** How long --time-lag waits for the first unconsumed record of all partitions; '-' for those it did not get. */
const TIME_LAG_WAIT_MS = 10_000;

/**
 * The timestamp of the first record at or after each offset (the oldest one the group has not
 * consumed), read with a group-less consumer fetching one batch per partition; from the log
 * start when retention has passed the offset.
 */
async function oldestUnconsumed(options: ReturnType<typeof clientOptions>, positions: readonly (TopicPartition & { offset: bigint })[]): Promise<Map<string, bigint>> {
  const found = new Map<string, bigint>();
  const consumer = new Consumer({ ...options, groupId: undefined, autoCommit: false, autoOffsetReset: 'earliest', maxPartitionBytes: 1, maxWaitMs: 100 });
  try {
    consumer.assign(positions);
    for (const p of positions) consumer.seek(p, p.offset);
    const deadline = Date.now() + TIME_LAG_WAIT_MS;
    while (found.size < positions.length && Date.now() < deadline) {
      for (const b of await consumer.poll({ timeoutMs: Math.max(1, Math.min(500, deadline - Date.now())) })) {
        const k = `${b.topic}\0${b.partition}`;
        const first = b.records[0];
        if (first === undefined || found.has(k)) continue;
        found.set(k, first.timestamp);
        consumer.pause([{ topic: b.topic, partition: b.partition }]);
      }
    }
  } finally {
    await consumer.close();
  }
  return found;
}

/** A group that neither has members nor committed offsets does not exist for the tool. */
async function describedGroup(admin: Admin, groupId: string) {
  const [desc] = await admin.describeGroups([groupId]);
  if (desc === undefined || desc.state === 'Dead') throw new ToolError(`Error: Consumer group '${groupId}' does not exist.`);
  return desc;
}

/** Kafka's topic(0,1),other(2) assignment rendering. */
function assignmentText(tps: readonly TopicPartition[]): string {
  const byTopic = new Map<string, number[]>();
  for (const tp of tps) byTopic.set(tp.topic, [...(byTopic.get(tp.topic) ?? []), tp.partition]);
  if (byTopic.size === 0) return '-';
  return [...byTopic].sort(([a], [b]) => (a < b ? -1 : 1)).map(([t, ps]) => `${t}(${ps.sort((a, b) => a - b).join(',')})`).join(',');
}

async function describeMembers(admin: Admin, groupId: string, verbose: boolean): Promise<void> {
  const desc = await describedGroup(admin, groupId);
  if (desc.members.length === 0) {
    await out(`
Consumer group '${groupId}' has no active members.
`);
    return;
  }
  const header = ['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS'];
  if (verbose) header.push('ASSIGNMENT');
  const rows = [header];
  for (const m of desc.members) {
    const row = [groupId, m.memberId, m.clientHost, m.clientId, String(m.assignment.length)];
    if (verbose) row.push(assignmentText(m.assignment));
    rows.push(row);
  }
  await out('\n' + table(rows));
}

async function describeState(admin: Admin, groupId: string): Promise<void> {
  const desc = await describedGroup(admin, groupId);
  const coordinator = await admin.groupCoordinator(groupId);
  const rows = [
    ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'],
    [groupId, `${coordinator.host}:${coordinator.port} (${coordinator.nodeId})`, desc.protocol === '' ? '' : desc.protocol, desc.state, String(desc.members.length)],
  ];
  await out('\n' + table(rows));
}

async function reset(admin: Admin, groupId: string, values: Parameters<typeof flag>[0]): Promise<void> {
  // Which partitions: --topic t or t:0,1, or --all-topics (those with commits).
  const committed = await admin.listConsumerGroupOffsets(groupId);
  let tps: TopicPartition[] = [];
  if (flag(values, 'all-topics')) {
    tps = committed.map((c) => ({ topic: c.topic, partition: c.partition }));
  } else {
    const topics = strs(values, 'topic');
    if (topics.length === 0) throw new UsageError('One of the reset scopes should be defined: --all-topics, --topic.');
    for (const spec of topics) {
      const [topic, parts] = spec.split(':');
      if (parts !== undefined && parts !== '') {
        for (const p of parts.split(',')) tps.push({ topic: topic!, partition: Number(p) });
      } else {
        const [d] = await admin.describeTopics([topic!]);
        for (const p of d?.partitions ?? []) tps.push({ topic: topic!, partition: p.partition });
      }
    }
  }
  const committedBy = new Map(committed.map((c) => [`${c.topic}\0${c.partition}`, c.offset]));
  const earliest = await admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'earliest' as const })));
  const latest = await admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'latest' as const })));
  let targets: bigint[];
  const toOffset = str(values, 'to-offset');
  const shiftBy = intArg(values, 'shift-by');
  const toDatetime = str(values, 'to-datetime');
  if (flag(values, 'to-earliest')) targets = earliest.map((o) => o.offset);
  else if (flag(values, 'to-latest')) targets = latest.map((o) => o.offset);
  else if (toOffset !== undefined) {
    if (!/^\d+$/.test(toOffset)) throw new UsageError(`Invalid --to-offset '${toOffset}'`);
    targets = tps.map(() => BigInt(toOffset));
  } else if (shiftBy !== undefined) {
    targets = tps.map((tp, i) => (committedBy.get(`${tp.topic}\0${tp.partition}`) ?? latest[i]!.offset) + BigInt(shiftBy));
  } else if (toDatetime !== undefined) {
    const ms = Date.parse(toDatetime);
    if (Number.isNaN(ms)) throw new UsageError(`Invalid --to-datetime '${toDatetime}'`);
    const byTime = await admin.listOffsets(tps.map((tp) => ({ ...tp, spec: ms })));
    targets = byTime.map((o, i) => (o.offset < 0n ? latest[i]!.offset : o.offset));
  } else {
    throw new UsageError('One of the reset specifications should be defined: --to-earliest, --to-latest, --to-offset, --shift-by, --to-datetime.');
  }
  // Clamp into [log start, log end] as Kafka does.
  targets = targets.map((t, i) => (t < earliest[i]!.offset ? earliest[i]!.offset : t > latest[i]!.offset ? latest[i]!.offset : t));
  if (flag(values, 'execute')) {
    await admin.alterConsumerGroupOffsets(groupId, tps.map((tp, i) => ({ ...tp, offset: targets[i]! })));
  }
  const rows = [['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET']];
  tps.forEach((tp, i) => rows.push([groupId, tp.topic, String(tp.partition), String(targets[i])]));
  await out('\n' + table(rows));
}
