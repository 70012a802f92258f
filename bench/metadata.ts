// `node dist/bench/metadata.js [dist dir]`: single-node metadata timings of an embedded broker,
// measured through our admin client: start-up on an empty data dir, a 1000-partition topic, 500
// small topics one request at a time and 500 at once (in memory, so the metadata path is what is
// measured, not fsync), and the controller's start-up replay of a 2000-topic, 20,000-partition
// metadata log. Prints one JSON line; asserts nothing. The optional argument is another build's
// dist directory (e.g. of an older commit), for a before/after comparison on the same machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));

interface Api {
  Broker: { start(opts: { dataDir?: string; inMemory?: boolean }): Promise<{ bootstrapServers: string; stop(): Promise<void> }> };
  Admin: new (opts: { bootstrapServers: string }) => {
    createTopics(topics: { topic: string; numPartitions?: number; replicationFactor?: number }[]): Promise<unknown>;
    close(): Promise<void>;
  };
}

const elapsed = (start: number) => Number((performance.now() - start).toFixed(1));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const { Broker, Admin } = (await import(join(dist, 'src/index.js'))) as Api;
  const out: Record<string, number> = {};

  const starts: number[] = [];
  for (let i = 0; i < 7; i++) {
    const dir = mkdtempSync(join(tmpdir(), 'metadata-bench-'));
    const t = performance.now();
    const b = await Broker.start({ dataDir: dir });
    starts.push(elapsed(t));
    await b.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  out['startEmptyDirMs'] = median(starts.slice(1));

  const broker = await Broker.start({ inMemory: true });
  const admin = new Admin({ bootstrapServers: broker.bootstrapServers });
  await admin.createTopics([{ topic: 'warm-up', numPartitions: 1 }]);
  const big: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    await admin.createTopics([{ topic: `p1000-${i}`, numPartitions: 1000, replicationFactor: 1 }]);
    big.push(elapsed(t));
  }
  out['create1000PartitionsMs'] = median(big);
  let t = performance.now();
  for (let i = 0; i < 500; i++) await admin.createTopics([{ topic: `serial-${i}`, numPartitions: 3, replicationFactor: 1 }]);
  out['create500TopicsOneByOneMs'] = elapsed(t);
  t = performance.now();
  await Promise.all(Array.from({ length: 500 }, (_, i) => admin.createTopics([{ topic: `concurrent-${i}`, numPartitions: 3, replicationFactor: 1 }])));
  out['create500TopicsConcurrentMs'] = elapsed(t);
  await admin.close();
  await broker.stop();

  out['replay20000PartitionsMs'] = await replayTime();
  console.log(JSON.stringify(out));
}

/** The controller's load() of an in-memory metadata log, median of 5. */
async function replayTime(): Promise<number> {
  const { MetadataLog } = await import(join(dist, 'src/controller/metadata-log.js'));
  const { MetadataController } = await import(join(dist, 'src/controller/metadata-controller.js'));
  const { readBatchHeader } = await import(join(dist, 'src/protocol/records/batch-header.js'));
  // Builds from before the event queue took the log itself.
  let client: { LocalMetadataLogClient: new (log: unknown, pause: () => Promise<void>) => unknown } | null = null;
  try {
    client = await import(join(dist, 'src/controller/metadata-log-client.js'));
  } catch {
    client = null;
  }
  const batches: Buffer[] = [];
  let next = 0;
  const store = {
    maxBatchBytes: 8 * 1024 * 1024,
    append(bs: readonly Buffer[]) {
      for (const b of bs) {
        const copy = Buffer.from(b);
        copy.writeBigInt64BE(BigInt(next), 0);
        next += readBatchHeader(copy, 0).lastOffsetDelta + 1;
        batches.push(copy);
      }
      return next;
    },
    readAll: () => batches,
  };
  const log = new MetadataLog(store);
  for (let t = 0; t < 2000; t++) {
    const raw = Buffer.alloc(16, 0);
    raw.writeUInt32BE(t + 1, 12);
    raw[6] = 0x40;
    raw[8] = 0x80;
    const topicId = raw.toString('base64url');
    const records: unknown[] = [
      { type: 2, version: 0, data: { name: `topic-${t}`, topicId } },
      { type: 4, version: 0, data: { resourceType: 2, resourceName: `topic-${t}`, name: 'retention.ms', value: '1000' } },
    ];
    for (let p = 0; p < 10; p++) {
      records.push({
        type: 3,
        version: 0,
        data: { partitionId: p, topicId, replicas: [1], isr: [1], removingReplicas: [], addingReplicas: [], leader: 1, leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0, directories: [], eligibleLeaderReplicas: null, lastKnownElr: null },
      });
    }
    log.append(records, 0);
  }
  const opts = { nodeId: 1, brokerIds: () => [1], defaultNumPartitions: () => 1, defaultReplicationFactor: () => 1, topicConfigProblem: () => null, nowMs: () => 0, pause: async () => {} };
  const times: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const fresh = new MetadataLog(store);
    const c = client === null ? new MetadataController(fresh, opts) : new MetadataController(new client.LocalMetadataLogClient(fresh, async () => {}), opts);
    await c.load();
    times.push(elapsed(t));
    if (c.image.topicsByName.size !== 2000) throw new Error(`replayed ${c.image.topicsByName.size} topics, expected 2000`);
  }
  return median(times);
}

await main();
