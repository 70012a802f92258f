// `node dist/bench/metadata-snapshot.js`: start-up of a single-node broker after the metadata
// history of 5,000 topics created and 2,500 of them deleted (one partition each), without
// snapshots (metadata.log.max.record.bytes.between.snapshots far above the log) and with them
// (64 KiB; and with 64 KiB metadata segments, so that the log shrinks): start-up time (median of 3 restarts), and the bytes of `__cluster_metadata-0` on disk.
// Prints one JSON line; asserts nothing.
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Admin, Broker } from '../src/index.js';

const TOPICS = 5000;
const NEVER = '1000000000000';
const elapsed = (start: number) => Number((performance.now() - start).toFixed(1));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function dirBytes(dir: string): { logBytes: number; checkpointBytes: number } {
  let logBytes = 0;
  let checkpointBytes = 0;
  for (const f of readdirSync(dir)) {
    const size = statSync(join(dir, f)).size;
    if (f.endsWith('.log')) logBytes += size;
    if (f.endsWith('.checkpoint')) checkpointBytes += size;
  }
  return { logBytes, checkpointBytes };
}

async function measure(snapshotBytes: string, segmentBytes = String(64 * 1024 * 1024)): Promise<Record<string, number>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'metadata-snapshot-bench-'));
  const overrides = { 'metadata.log.max.record.bytes.between.snapshots': snapshotBytes, 'metadata.log.segment.bytes': segmentBytes };
  const broker = await Broker.start({ dataDir, overrides });
  const admin = new Admin({ bootstrapServers: broker.bootstrapServers });
  for (let i = 0; i < TOPICS; i += 500) await admin.createTopics(Array.from({ length: 500 }, (_, j) => ({ topic: `t-${i + j}`, numPartitions: 1, replicationFactor: 1 })));
  for (let i = 0; i < TOPICS; i += 1000) await admin.deleteTopics(Array.from({ length: 500 }, (_, j) => `t-${i + j}`));
  await admin.close();
  // A snapshot waits for the deleted topics' directories to go (see node/broker.ts); give it time.
  const metadataDir = join(dataDir, '__cluster_metadata-0');
  const waitStart = performance.now();
  while (snapshotBytes !== NEVER && dirBytes(metadataDir).checkpointBytes === 0 && performance.now() - waitStart < 30_000) await new Promise((r) => setTimeout(r, 100));
  await broker.stop();
  const starts: number[] = [];
  for (let i = 0; i < 3; i++) {
    const t = performance.now();
    const b = await Broker.start({ dataDir, overrides });
    starts.push(elapsed(t));
    await b.stop();
  }
  const sizes = dirBytes(join(dataDir, '__cluster_metadata-0'));
  rmSync(dataDir, { recursive: true, force: true });
  return { startMs: median(starts), ...sizes };
}

const without = await measure(NEVER);
const withSnapshots = await measure(String(64 * 1024));
const withSnapshotsSmallSegments = await measure(String(64 * 1024), String(64 * 1024));
console.log(JSON.stringify({ topicsCreated: TOPICS, topicsDeleted: TOPICS / 2, without, withSnapshots, withSnapshotsSmallSegments }));
