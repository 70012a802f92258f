// Bounds on the metadata work one request can cause, on broker processes: auto-creation per
// request and per second (the controller mutation quota of KIP-599), Kafka's 10,000 records per
// metadata change, changes split across metadata batches as one transaction, and other clients
// served while a large change is being carried out.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CreatePartitionsRequest } from '../../src/protocol/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse } from '../../src/protocol/messages/CreatePartitionsResponse.js';
import { CreateTopicsRequest, type CreateTopicsRequestCreatableTopic } from '../../src/protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/messages/CreateTopicsResponse.js';
import { MetadataRequest } from '../../src/protocol/messages/MetadataRequest.js';
import { MetadataResponse, type MetadataResponseData } from '../../src/protocol/messages/MetadataResponse.js';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat, run } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';
import type { ProbeResult } from './latency-probe.js';

const probeScript = fileURLToPath(new URL('./latency-probe.js', import.meta.url));
const HANDLER_FAILURE = 'request handler failed';

function metadataFor(client: WireClient, names: string[]): Promise<MetadataResponseData> {
  const req = MetadataRequest.defaults();
  req.allowAutoTopicCreation = true;
  req.topics = names.map((name) => ({ name, topicId: ZERO_UUID }));
  return client.send(MetadataRequest, MetadataResponse, 12, req);
}

function newTopic(name: string, numPartitions: number): CreateTopicsRequestCreatableTopic {
  return { name, numPartitions, replicationFactor: 1, assignments: [], configs: [] };
}

function createTopics(client: WireClient, topics: CreateTopicsRequestCreatableTopic[], version = 7) {
  const req = CreateTopicsRequest.defaults();
  req.timeoutMs = 30_000;
  req.topics = topics;
  return client.send(CreateTopicsRequest, CreateTopicsResponse, version, req);
}

function countCodes(res: MetadataResponseData): Map<number, number> {
  const counts = new Map<number, number>();
  for (const t of res.topics) counts.set(t.errorCode, (counts.get(t.errorCode) ?? 0) + 1);
  return counts;
}

/** Runs the latency probe against `bootstrap` for `durationMs` while `during` runs. */
async function probeWhile<T>(bootstrap: string, durationMs: number, during: () => Promise<T>): Promise<{ probe: ProbeResult; result: T }> {
  const probe = run(process.execPath, [probeScript, bootstrap, String(durationMs)], { timeoutMs: durationMs + 30_000 });
  await new Promise((resolve) => setTimeout(resolve, 300)); // the probe is connected and running
  const result = await during();
  const r = await probe;
  assert.equal(r.code, 0, `latency probe failed: ${r.stderr}`);
  return { probe: JSON.parse(r.stdout.trim()) as ProbeResult, result };
}

describe('metadata work limits', () => {
  const brokers: BrokerProcess[] = [];
  const clients: WireClient[] = [];
  after(async () => {
    for (const c of clients) c.close();
    for (const b of brokers) await b.destroy();
  });
  const broker = async (overrides: Record<string, string>) => {
    const b = await startBroker({ overrides });
    brokers.push(b);
    const client = await WireClient.open(b.bootstrap);
    clients.push(client);
    return { b, client };
  };

  it('a Metadata request naming 10,000 new topics creates what the mutation quota allows, while other clients are served', async () => {
    // 100 partitions a second: a bucket of 100 * 11 windows * 1 s = 1,100.
    const { b, client } = await broker({ 'controller.quota.mutation.rate': '100' });
    const names = Array.from({ length: 10_000 }, (_, i) => `flood-${i}`);
    const { probe, result: res } = await probeWhile(b.bootstrap, 3000, () => metadataFor(client, names));
    const codes = countCodes(res);
    const created = codes.get(ErrorCode.NONE) ?? 0;
    // Admitted while the bucket is not negative: 1,101 topics, plus what refills meanwhile.
    assert.ok(created >= 1101 && created <= 1600, `created ${created}`);
    assert.equal(codes.get(ErrorCode.LEADER_NOT_AVAILABLE), 10_000 - created, 'the others are to be asked for again');
    assert.ok(probe.probes > 10, `probe ran (${probe.probes})`);
    // A generous bound (the figure is measured by the benchmark runs of this change, not here).
    assert.ok(probe.maxRttMs < 1000, `another client waited ${probe.maxRttMs.toFixed(1)} ms`);

    // With the bucket at or below zero, CreateTopics v7 is refused per topic, with the wait.
    const throttled = await createTopics(client, [newTopic('after-flood-a', 1000), newTopic('after-flood-b', 1)]);
    const b2 = throttled.topics.find((t) => t.name === 'after-flood-b')!;
    assert.equal(b2.errorCode, ErrorCode.THROTTLING_QUOTA_EXCEEDED);
    assert.equal(b2.errorMessage, 'The throttling quota has been exceeded.');
    assert.ok(throttled.throttleTimeMs > 1000, `throttle ${throttled.throttleTimeMs} ms`);
    assert.ok(!b.logs.includes(HANDLER_FAILURE), b.logs.slice(-2000));
  });

  it('CreateTopics with 20,000 partitions is refused with POLICY_VIOLATION and the connection stays up', async () => {
    const { b, client } = await broker({});
    const res = await createTopics(client, [newTopic('huge', 20_000), newTopic('small', 1)]);
    assert.deepEqual(
      res.topics.map((t) => [t.name, t.errorCode, t.errorMessage]),
      [
        ['huge', ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
        ['small', ErrorCode.POLICY_VIOLATION, 'Unable to perform excessively large batch operation.'],
      ],
    );
    const md = await metadataFor(client, ['small']);
    assert.equal(md.topics[0]!.errorCode, ErrorCode.NONE, 'same connection, next request: answered (and auto-created)');
    // The largest topic one request may create: 10,000 records, encoded in slices and committed
    // as one transaction, its 9,999 partition logs created in the background.
    const { probe, result: largest } = await probeWhile(b.bootstrap, 2000, () => createTopics(client, [newTopic('largest', 9999)]));
    assert.equal(largest.topics[0]!.errorCode, ErrorCode.NONE, largest.topics[0]!.errorMessage ?? '');
    assert.equal(largest.topics[0]!.numPartitions, 9999);
    assert.ok(probe.maxRttMs < 1000, `another client waited ${probe.maxRttMs.toFixed(1)} ms`);
    assert.ok(!b.logs.includes(HANDLER_FAILURE), b.logs.slice(-2000));
  });

  it('one Metadata request auto-creates at most 10,000 records of topics, however large the quota', async () => {
    const { b, client } = await broker({ 'controller.quota.mutation.rate': '1000000' });
    const names = Array.from({ length: 6000 }, (_, i) => `bulk-${i}`);
    const first = countCodes(await metadataFor(client, names));
    // One partition each: two records per topic.
    assert.equal(first.get(ErrorCode.NONE), 5000);
    assert.equal(first.get(ErrorCode.LEADER_NOT_AVAILABLE), 1000);
    const second = countCodes(await metadataFor(client, names));
    assert.equal(second.get(ErrorCode.NONE), 6000, 'the client asked again and got the rest');
    assert.ok(!b.logs.includes(HANDLER_FAILURE), b.logs.slice(-2000));
  });

  it('a change that needs several metadata batches is written as one transaction and survives kill -9', async () => {
    // Small metadata batches: 3,000 partition records (about 170 KB) need several.
    const { b, client } = await broker({ 'message.max.bytes': '65536' });
    const created = await createTopics(client, [newTopic('wide', 3000)]);
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE, created.topics[0]!.errorMessage ?? '');
    assert.equal(created.topics[0]!.numPartitions, 3000);
    const grow = CreatePartitionsRequest.defaults();
    grow.topics = [{ name: 'wide', count: 5000, assignments: null }];
    grow.timeoutMs = 30_000;
    const grown = await client.send(CreatePartitionsRequest, CreatePartitionsResponse, 3, grow);
    assert.equal(grown.results[0]!.errorCode, ErrorCode.NONE, grown.results[0]!.errorMessage ?? '');
    await b.kill(); // partition logs may still be being created in the background
    await b.start();
    const after = await WireClient.open(b.bootstrap);
    clients.push(after);
    const md = await metadataFor(after, ['wide']);
    assert.equal(md.topics[0]!.errorCode, ErrorCode.NONE);
    assert.equal(md.topics[0]!.partitions.length, 5000);
    // The last partition created is a real partition: kcat writes to it and reads it back.
    const produced = await kcat(['-P', '-b', b.bootstrap, '-t', 'wide', '-p', '4999'], { input: 'last\n' });
    assert.equal(produced.code, 0, produced.stderr);
    const consumed = await kcat(['-C', '-b', b.bootstrap, '-t', 'wide', '-p', '4999', '-o', 'beginning', '-e', '-q']);
    assert.equal(consumed.stdout, 'last\n', consumed.stderr);
    assert.ok(!b.logs.includes(HANDLER_FAILURE), b.logs.slice(-2000));
  });
});
