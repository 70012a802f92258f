// Metadata snapshots of a single-node broker (one voter, LocalMetadataLogClient): with a small
// metadata.log.max.record.bytes.between.snapshots and metadata.log.segment.bytes, many topic
// creations, deletions and config changes leave a `.checkpoint` and fewer metadata segments;
// after a clean restart and after kill -9, kcat and our tools see every topic, partition count and
// config as before and the deleted topics stay deleted. A damaged latest snapshot whose log is
// gone stops start-up naming the directory instead of starting without the topics.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import kafkajs from 'kafkajs';
import { BrokerProcess } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';
import { ok } from '../helpers/kraft-cluster.js';
import { eventually } from './support.js';

const { Kafka, ConfigResourceTypes, logLevel } = kafkajs;

const overrides = {
  'metadata.log.max.record.bytes.between.snapshots': '4096',
  'metadata.log.segment.bytes': '8192',
  'log.segment.delete.delay.ms': '0',
  'num.partitions': '1',
};

function metadataDir(broker: BrokerProcess): string {
  return join(broker.dataDir, '__cluster_metadata-0');
}
function checkpoints(broker: BrokerProcess): string[] {
  return readdirSync(metadataDir(broker)).filter((f) => /^\d{20}-\d{10}\.checkpoint$/.test(f)).sort();
}
function segments(broker: BrokerProcess): string[] {
  return readdirSync(metadataDir(broker)).filter((f) => f.endsWith('.log')).sort();
}

/** Topics and partition counts as kcat -L sees them (internal topics left out). */
async function kcatTopics(broker: BrokerProcess): Promise<string[]> {
  const r = await kcat(['-b', broker.bootstrap, '-L', '-m', '10']);
  assert.equal(r.code, 0, r.stderr);
  return [...r.stdout.matchAll(/^ {2}topic "([^"]+)" with (\d+) partitions/gm)].map((m) => `${m[1]}:${m[2]}`).filter((t) => !t.startsWith('__')).sort();
}

/** What our tools say: every topic's description and every topic's configs. */
async function described(broker: BrokerProcess): Promise<string> {
  const topics = await ok(['topics', '--bootstrap-server', broker.bootstrap, '--describe']);
  const configs = await ok(['configs', '--bootstrap-server', broker.bootstrap, '--describe', '--entity-type', 'topics']);
  // Leader epochs and the like do not change on restart of a single node; describe them as a whole.
  return `${topics}\n${configs}`;
}

describe('single-voter metadata snapshots', () => {
  const brokers: BrokerProcess[] = [];
  after(async () => {
    for (const b of brokers) await b.destroy();
  });

  it('a snapshot replaces old metadata segments; restarts (clean and kill -9) keep every topic and config', async () => {
    const broker = new BrokerProcess({ overrides });
    brokers.push(broker);
    await broker.start();
    const kafka = new Kafka({ clientId: 'single-voter-snapshot', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      for (let round = 0; round < 6; round++) {
        await admin.createTopics({ topics: Array.from({ length: 10 }, (_, i) => ({ topic: `t-${round}-${i}`, numPartitions: 1 + ((round + i) % 4) })) });
        await admin.deleteTopics({ topics: [`t-${round}-0`, `t-${round}-1`, `t-${round}-2`] });
        await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: `t-${round}-5`, configEntries: [{ name: 'retention.ms', value: String(1000 * (round + 60)) }, { name: 'cleanup.policy', value: 'compact' }] }] });
      }
    } finally {
      await admin.disconnect();
    }
    // The last changes may have started a snapshot that is still being written (its batches yield
    // to the event loop; the older snapshot goes only once the new one is durable): the files are
    // checked once the broker has settled.
    await eventually('the latest snapshot alone, with the metadata segments below it deleted', () => {
      const wrote = broker.logs.split('\n').filter((l) => l.includes('"msg":"wrote a metadata snapshot"'));
      assert.ok(wrote.length >= 2, `snapshots written: ${wrote.length}`);
      assert.equal(checkpoints(broker).length, 1, `only the latest snapshot is kept: ${checkpoints(broker).join()}`);
      const snapshotEnd = Number(checkpoints(broker)[0]!.slice(0, 20));
      const segs = segments(broker);
      assert.ok(Number(segs[0]!.slice(0, 20)) > 0, `the first metadata segments were deleted: ${segs.join()}`);
      assert.ok(Number(segs[0]!.slice(0, 20)) <= snapshotEnd, `nothing the snapshot does not cover is deleted: ${segs[0]} vs ${snapshotEnd}`);
      return true;
    }, 10_000);

    const topics = await kcatTopics(broker);
    assert.equal(topics.length, 6 * 7);
    assert.ok(!topics.some((t) => /^t-\d-[012]:/.test(t)), 'deleted topics are gone');
    const before = await described(broker);
    assert.match(before, /retention\.ms=65000/);

    assert.equal(await broker.stop(), 0);
    await broker.start();
    assert.ok(broker.logs.includes('"msg":"loading a metadata snapshot"'));
    assert.deepEqual(await kcatTopics(broker), topics);
    assert.equal(await described(broker), before);
    // A snapshot never takes the RemoveTopicRecord of a topic whose directories are still there.
    await eventually('the deleted topics\' directories are gone', () => (readdirSync(broker.dataDir).some((d) => /^t-\d-[012]-\d+$/.test(d)) ? undefined : true));
    assert.ok(!broker.logs.includes('does not account for'), 'no partition directory is left unaccounted for');

    // A snapshot written just before the kill, and a half-written one left behind (.part).
    await ok(['topics', '--bootstrap-server', broker.bootstrap, '--create', '--topic', 'late', '--partitions', '2']);
    const after = await described(broker);
    await broker.kill();
    writeFileSync(join(metadataDir(broker), '99999999999999999999-0000000000.checkpoint.part'), 'cut short');
    await broker.start();
    assert.deepEqual(await kcatTopics(broker), [...topics, 'late:2'].sort());
    assert.equal(await described(broker), after);
    assert.ok(!readdirSync(metadataDir(broker)).some((f) => f.endsWith('.part')), 'the partial snapshot is ignored and deleted');
  });

  it('a damaged latest snapshot whose log is gone stops start-up, naming the directory', async () => {
    const broker = new BrokerProcess({ overrides });
    brokers.push(broker);
    await broker.start();
    const admin = new Kafka({ clientId: 'single-voter-snapshot', brokers: [broker.bootstrap], logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    for (let round = 0; round < 8; round++) await admin.createTopics({ topics: Array.from({ length: 10 }, (_, i) => ({ topic: `c-${round}-${i}`, numPartitions: 3 })) });
    await admin.disconnect();
    // A snapshot waits until the new partitions' directories exist (the log work queue is empty).
    await eventually('a snapshot past the first metadata segment', () => (checkpoints(broker).length > 0 && Number(segments(broker)[0]!.slice(0, 20)) > 0 ? true : undefined));
    assert.equal(await broker.stop(), 0);
    const latest = checkpoints(broker).at(-1);
    assert.ok(latest !== undefined, 'a snapshot was written');
    assert.ok(Number(segments(broker)[0]!.slice(0, 20)) > 0, `the log below it was deleted: ${readdirSync(metadataDir(broker)).join()}`);
    const file = join(metadataDir(broker), latest);
    const bytes = readFileSync(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    writeFileSync(file, bytes);
    const r = await broker.startOrExit();
    assert.equal(r.started, false);
    if (r.started) return;
    assert.notEqual(r.code, 0);
    assert.match(r.output, /skipping a damaged metadata snapshot/);
    assert.ok(r.output.includes(metadataDir(broker)), r.output);
    assert.match(r.output, /no readable snapshot covers the metadata below it/);
  });
});
