// `tributary get-offsets`: kafka-get-offsets.sh — prints topic:partition:offset per line.
// --time -1 (latest, default), -2 (earliest), -3 (max timestamp), or a timestamp in ms.
import { Admin, type OffsetSpec } from '../client/index.js';
import { UsageError, clientOptions, out, parseToolArgs, runTool, showHelp, str } from './tool-support.js';

const USAGE = `Usage: tributary get-offsets --bootstrap-server HOST:PORT [--topic T] [--partitions 0,1,...]
  [--time -1|-2|-3|TIMESTAMP_MS|latest|earliest|max-timestamp] [--exclude-internal-topics]
`;

export function parseOffsetTime(s: string): OffsetSpec {
  if (s === '-1' || s === 'latest') return 'latest';
  if (s === '-2' || s === 'earliest') return 'earliest';
  if (s === '-3' || s === 'max-timestamp') return 'max-timestamp';
  if (/^\d+$/.test(s)) return Number(s);
  throw new UsageError(`Invalid --time '${s}'`);
}

export async function runGetOffsets(argv: string[]): Promise<void> {
  await runTool('get-offsets', USAGE, async () => {
    const { values } = parseToolArgs(argv, {
      topic: { type: 'string' },
      partitions: { type: 'string' },
      time: { type: 'string' },
      'exclude-internal-topics': { type: 'boolean' },
    });
    if (showHelp(values, USAGE)) return;
    const spec = parseOffsetTime(str(values, 'time') ?? '-1');
    const partitionFilter = str(values, 'partitions')?.split(',').map((p) => {
      const n = Number(p.trim());
      if (!Number.isInteger(n) || n < 0) throw new UsageError(`Invalid partition '${p}'`);
      return n;
    });
    const topic = str(values, 'topic');
    const admin = new Admin(clientOptions(values));
    try {
      let topics = await admin.describeTopics(topic === undefined ? undefined : [topic]);
      if (values['exclude-internal-topics'] === true) topics = topics.filter((t) => !t.isInternal);
      const requests = topics.flatMap((t) =>
        t.partitions.filter((p) => partitionFilter === undefined || partitionFilter.includes(p.partition)).map((p) => ({ topic: t.name, partition: p.partition, spec })),
      );
      const offsets = requests.length === 0 ? [] : await admin.listOffsets(requests);
      await out(offsets.filter((o) => o.offset >= 0n).map((o) => `${o.topic}:${o.partition}:${o.offset}\n`).join(''));
    } finally {
      await admin.close();
    }
  });
}
