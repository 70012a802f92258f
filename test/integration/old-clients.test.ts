// Clients from before Kafka 0.11, which Kafka 4 no longer serves: segmentio/kafka-go 0.2
// (Debian's golang-github-segmentio-kafka-go-dev: Produce v2 and Fetch v2, message format v1,
// consumer groups over JoinGroup v1) and kafka-python pinned to api_version (0,10,1) (message
// format v1) and (0,9) (format v0, ListOffsets v0). What they write is stored as v2 batches that
// modern clients (kcat) read, and what modern clients write they read back converted down.
// Raw requests check the edges: Fetch v0-3 within the partition limit, and
// log.message.downconversion.enable=false.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CreateTopicsRequest } from '../../src/protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/messages/CreateTopicsResponse.js';
import { FetchRequest } from '../../src/protocol/messages/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/messages/FetchResponse.js';
import { ProduceRequest } from '../../src/protocol/messages/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/messages/ProduceResponse.js';
import { readBatchHeader } from '../../src/protocol/records/batch-header.js';
import { encodeLegacyMessageSet, upConvertMessageSet } from '../../src/protocol/records/legacy-messages.js';
import { decodeRecordBatch } from '../../src/protocol/records/record-batch.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat, python, run } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';

const GO_SOURCE = fileURLToPath(new URL('../../../test/old-clients/kafka-go-0.2/main.go', import.meta.url));
const LIMITS = { maxMessages: 10_000, maxUncompressedBytes: 1 << 24 };

async function createTopic(w: WireClient, name: string): Promise<void> {
  const created = await w.send(CreateTopicsRequest, CreateTopicsResponse, 7, {
    ...CreateTopicsRequest.defaults(),
    topics: [{ name, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
  });
  assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
}

describe('old clients (message formats v0 and v1)', () => {
  let broker: BrokerProcess;
  let goClient: string;
  const buildDir = mkdtempSync(join(tmpdir(), 'tributary-kafka-go-'));

  before(async () => {
    goClient = join(buildDir, 'kafka-go-old');
    // Debian installs kafka-go 0.2 as GOPATH sources; build against them, not a module download.
    const built = await run('go', ['build', '-o', goClient, GO_SOURCE], { timeoutMs: 180_000, env: { GO111MODULE: 'off', GOPATH: '/usr/share/gocode', GOCACHE: join(buildDir, 'cache') } });
    assert.equal(built.code, 0, `go build of the kafka-go 0.2 client failed (needs golang-go and golang-github-segmentio-kafka-go-dev): ${built.stderr}`);
    broker = await startBroker({ overrides: { 'num.partitions': '3', 'group.initial.rebalance.delay.ms': '0' } });
  });
  after(async () => {
    await broker?.destroy();
    rmSync(buildDir, { recursive: true, force: true });
  });

  it('kafka-go 0.2 produces with every codec of its time; kcat reads the records; a kafka-go group reads them back', async () => {
    for (const codec of ['none', 'gzip', 'snappy', 'lz4']) {
      const r = await run(goClient, ['produce', broker.bootstrap, `go-${codec}`, '40', codec], { timeoutMs: 60_000 });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), { produced: 40 });
      const read = await kcat(['-b', broker.bootstrap, '-t', `go-${codec}`, '-C', '-e', '-q', '-f', '%k=%s\n']);
      const lines = read.stdout.trim().split('\n').sort();
      assert.deepEqual(lines, Array.from({ length: 40 }, (_, i) => `key-${i}=value-${i}`).sort(), codec);
    }
    const consumed = await run(goClient, ['consume', broker.bootstrap, 'go-gzip', 'go-group', '40'], { timeoutMs: 60_000 });
    assert.equal(consumed.code, 0, consumed.stderr);
    const msgs = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { partition: number; offset: number; key: string; value: string });
    assert.deepEqual(msgs.map((m) => `${m.key}=${m.value}`).sort(), Array.from({ length: 40 }, (_, i) => `key-${i}=value-${i}`).sort());
    // Per partition, in offset order.
    for (const p of [0, 1, 2]) {
      const offsets = msgs.filter((m) => m.partition === p).map((m) => m.offset);
      assert.deepEqual(offsets, offsets.map((_, i) => i));
    }
  });

  it('kafka-go 0.2 reads what a modern client wrote (down-converted), and its group resumes from its commits', async () => {
    const input = Array.from({ length: 30 }, (_, i) => `k${i}:modern-${i}`).join('\n') + '\n';
    const produced = await kcat(['-b', broker.bootstrap, '-t', 'go-modern', '-P', '-K:', '-z', 'zstd', '-p', '0'], { input });
    assert.equal(produced.code, 0, produced.stderr);
    const first = await run(goClient, ['consume', broker.bootstrap, 'go-modern', 'go-modern-group', '20'], { timeoutMs: 60_000 });
    assert.equal(first.code, 0, first.stderr);
    const second = await run(goClient, ['consume', broker.bootstrap, 'go-modern', 'go-modern-group', '10'], { timeoutMs: 60_000 });
    assert.equal(second.code, 0, second.stderr);
    const values = [...first.stdout.trim().split('\n'), ...second.stdout.trim().split('\n')].map((l) => (JSON.parse(l) as { value: string }).value);
    assert.deepEqual(values, Array.from({ length: 30 }, (_, i) => `modern-${i}`));
  });

  it('kafka-python at api_version (0,10,1) and (0,9): produce with its codecs, consume in a group, commit', async () => {
    const script = String.raw`
import json, sys
from kafka import KafkaProducer, KafkaConsumer
b, api, topic = sys.argv[1], tuple(int(x) for x in sys.argv[2].split('.')), sys.argv[3]
codecs = [None, 'gzip', 'snappy'] + (['lz4'] if api >= (0, 10) else [])
for codec in codecs:
    p = KafkaProducer(bootstrap_servers=b, api_version=api, compression_type=codec, acks='all')
    for i in range(10): p.send(topic, key=b'k%d' % i, value=('%s-%d' % (codec, i)).encode(), partition=0)
    p.flush(); p.close()
c = KafkaConsumer(bootstrap_servers=b, api_version=api, group_id=topic + '-group', auto_offset_reset='earliest', consumer_timeout_ms=6000, enable_auto_commit=False)
c.subscribe([topic])
got = [[m.offset, m.key.decode(), m.value.decode(), m.timestamp] for m in c]
c.commit(); c.close()
c = KafkaConsumer(bootstrap_servers=b, api_version=api, group_id=topic + '-group', auto_offset_reset='earliest', consumer_timeout_ms=3000, enable_auto_commit=False)
c.subscribe([topic])
again = [m.offset for m in c]
c.close()
print(json.dumps({'got': got, 'again': again, 'codecs': [str(x) for x in codecs]}))
`;
    for (const api of ['0.10.1', '0.9']) {
      const topic = `py-${api.replace(/\./g, '-')}`;
      const out = await python<{ got: [number, string, string, number | null][]; again: number[]; codecs: string[] }>(script, [broker.bootstrap, api, topic], 120_000);
      const expected = out.codecs.flatMap((c) => Array.from({ length: 10 }, (_, i) => `${c === 'None' ? 'None' : c}-${i}`));
      assert.deepEqual(out.got.map((g) => g[2]), expected, api);
      assert.deepEqual(out.got.map((g) => g[0]), expected.map((_, i) => i), api);
      // Format v1 carries the producer's timestamps; v0 has none.
      if (api === '0.9') assert.ok(out.got.every((g) => g[3] === null || g[3] === -1), api);
      else assert.ok(out.got.every((g) => typeof g[3] === 'number' && g[3] > 1_600_000_000_000), api);
      assert.deepEqual(out.again, [], `${api}: the group resumes after its commit`);
    }
  });

  it('Fetch v0-3 over the wire: message format by version, the partition limit, and a batch stored from a v0 set', async () => {
    const w = await WireClient.open(broker.bootstrap);
    try {
      // Produce v0 with a format v0 set; Kafka answers with the base offset.
      await createTopic(w, 'wire-old');
      const set = encodeLegacyMessageSet(0, Array.from({ length: 5 }, (_, i) => ({ key: Buffer.from(`w${i}`), value: Buffer.alloc(100, i) })));
      const produced = await w.send(ProduceRequest, ProduceResponse, 0, { ...ProduceRequest.defaults(), acks: 1, timeoutMs: 5000, topicData: [{ name: 'wire-old', topicId: ZERO_UUID, partitionData: [{ index: 0, records: set }] }] });
      const p = produced.responses[0]!.partitionResponses[0]!;
      assert.deepEqual([p.errorCode, p.baseOffset], [ErrorCode.NONE, 0n]);
      const fetch = (version: number, partitionMaxBytes: number) =>
        w.send(FetchRequest, FetchResponse, version, {
          ...FetchRequest.defaults(),
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          topics: [{ topic: 'wire-old', topicId: ZERO_UUID, partitions: [{ ...FetchRequest.newStruct('FetchPartition'), partition: 0, fetchOffset: 1n, partitionMaxBytes }] }],
        });
      for (const [version, magic] of [[0, 0], [1, 0], [2, 1], [3, 1]] as const) {
        const part = (await fetch(version, 1 << 20)).responses[0]!.partitions[0]!;
        assert.equal(part.errorCode, ErrorCode.NONE);
        const records = part.records!;
        assert.equal(records[16], magic, `Fetch v${version} answers format v${magic}`);
        const back = decodeRecordBatch(upConvertMessageSet(records, LIMITS)).records;
        assert.deepEqual(back.map((r) => r.key!.toString()), ['w1', 'w2', 'w3', 'w4'], `v${version}`);
      }
      // Two messages' worth of limit: two messages, whole.
      const one = 12 + 14 + 8 + 2 + 100; // entry overhead + v1 header + lengths + key + value
      const limited = (await fetch(3, 2 * one + 10)).responses[0]!.partitions[0]!.records!;
      assert.equal(limited.length, 2 * one);
      // Fetch v4+ gets the stored v2 batch, as stored.
      const modern = (await fetch(4, 1 << 20)).responses[0]!.partitions[0]!.records!;
      assert.equal(readBatchHeader(modern, 0).magic, 2);
    } finally {
      w.close();
    }
  });

  it('log.message.downconversion.enable=false: Fetch v0-3 is UNSUPPORTED_VERSION, v4+ unaffected', async () => {
    const strict = await startBroker({ overrides: { 'log.message.downconversion.enable': 'false' } });
    const w = await WireClient.open(strict.bootstrap);
    try {
      const set = encodeLegacyMessageSet(1, [{ key: null, value: Buffer.from('x'), timestamp: 1_700_000_000_000n }]);
      const send = () => w.send(ProduceRequest, ProduceResponse, 2, { ...ProduceRequest.defaults(), acks: 1, timeoutMs: 5000, topicData: [{ name: 'strict', topicId: ZERO_UUID, partitionData: [{ index: 0, records: set }] }] });
      await createTopic(w, 'strict');
      assert.equal((await send()).responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
      const fetch = (version: number) =>
        w.send(FetchRequest, FetchResponse, version, {
          ...FetchRequest.defaults(),
          maxWaitMs: 0,
          minBytes: 1,
          maxBytes: 1 << 20,
          topics: [{ topic: 'strict', topicId: ZERO_UUID, partitions: [{ ...FetchRequest.newStruct('FetchPartition'), partition: 0, fetchOffset: 0n, partitionMaxBytes: 1 << 20 }] }],
        });
      assert.equal((await fetch(3)).responses[0]!.partitions[0]!.errorCode, ErrorCode.UNSUPPORTED_VERSION);
      const v4 = (await fetch(4)).responses[0]!.partitions[0]!;
      assert.deepEqual([v4.errorCode, v4.records!.length > 0], [ErrorCode.NONE, true]);
    } finally {
      w.close();
      await strict.destroy();
    }
  });
});
