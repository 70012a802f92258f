// The partition side of transactions against real consumers: transactional batches and markers
// are written with hand-built Produce and WriteTxnMarkers requests (no coordinator needed), then
// kcat and confluent-kafka read with isolation.level read_committed and read_uncommitted. Checks
// that committed records are seen and aborted ones are not, that a read_committed consumer stops
// at an open transaction (the last stable offset) and moves on once its marker is written, and
// that after kill -9 (with a transaction open, and after an ABORT marker with the .txnindex file
// removed) the LSO, the aborted transactions and DescribeProducers come back right.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { CreateTopicsRequest } from '../../src/protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../../src/protocol/messages/CreateTopicsResponse.js';
import { DescribeProducersRequest } from '../../src/protocol/messages/DescribeProducersRequest.js';
import { DescribeProducersResponse } from '../../src/protocol/messages/DescribeProducersResponse.js';
import { FetchRequest } from '../../src/protocol/messages/FetchRequest.js';
import { FetchResponse } from '../../src/protocol/messages/FetchResponse.js';
import { ListOffsetsRequest } from '../../src/protocol/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../../src/protocol/messages/ListOffsetsResponse.js';
import { ProduceRequest } from '../../src/protocol/messages/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/messages/ProduceResponse.js';
import { WriteTxnMarkersRequest } from '../../src/protocol/messages/WriteTxnMarkersRequest.js';
import { WriteTxnMarkersResponse } from '../../src/protocol/messages/WriteTxnMarkersResponse.js';
import { encodeRecordBatch } from '../../src/protocol/records/record-batch.js';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat, python, systemPython } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';
import { assertOk } from './support.js';

const TOPIC = 'txn-storage';
const LATEST = -1n;

/** Values of partition 0 read to its end by confluent-kafka with `isolation.level` = argv[3]. */
const CONSUME_TO_END = String.raw`
import json, sys
from confluent_kafka import Consumer, KafkaError, TopicPartition
b, topic, iso = sys.argv[1], sys.argv[2], sys.argv[3]
c = Consumer({'bootstrap.servers': b, 'group.id': 'txn-storage-' + iso, 'isolation.level': iso,
              'enable.auto.commit': False, 'enable.partition.eof': True})
c.assign([TopicPartition(topic, 0, 0)])
values = []
while True:
    m = c.poll(15)
    if m is None:
        raise SystemExit('no partition EOF within 15 s')
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF:
            break
        raise SystemExit(str(m.error()))
    values.append(m.value().decode())
c.close()
print(json.dumps(values))
`;

/** read_committed consumer that prints its values at its first EOF, then again once it has read argv[3]. */
const CONSUME_UNTIL = String.raw`
import json, sys
from confluent_kafka import Consumer, KafkaError, TopicPartition
b, topic, until = sys.argv[1], sys.argv[2], sys.argv[3]
c = Consumer({'bootstrap.servers': b, 'group.id': 'txn-storage-until', 'isolation.level': 'read_committed',
              'enable.auto.commit': False, 'enable.partition.eof': True, 'fetch.wait.max.ms': 50})
c.assign([TopicPartition(topic, 0, 0)])
values, told = [], False
while True:
    m = c.poll(30)
    if m is None:
        raise SystemExit('nothing within 30 s')
    if m.error():
        if m.error().code() == KafkaError._PARTITION_EOF:
            if not told:
                print(json.dumps({'eof': values}), flush=True)
                told = True
            continue
        raise SystemExit(str(m.error()))
    values.append(m.value().decode())
    if m.value().decode() == until:
        break
c.close()
print(json.dumps({'final': values}), flush=True)
`;

describe('transactions in storage, read by kcat and confluent-kafka', () => {
  let broker: BrokerProcess;
  let w: WireClient;
  const sequences = new Map<bigint, number>();

  const open = async () => {
    w?.close();
    w = await WireClient.open(broker.bootstrap);
  };

  /** One batch of `values` from producer `pid` (transactional unless pid is null). */
  async function produce(pid: bigint | null, ...values: string[]): Promise<number> {
    const seq = pid === null ? -1 : sequences.get(pid) ?? 0;
    if (pid !== null) sequences.set(pid, seq + values.length);
    const records = encodeRecordBatch({
      records: values.map((v) => ({ key: null, value: Buffer.from(v), headers: [], timestamp: Date.now() })),
      ...(pid === null ? {} : { producerId: pid, producerEpoch: 0, baseSequence: seq, transactional: true }),
    });
    const res = await w.send(ProduceRequest, ProduceResponse, 9, {
      ...ProduceRequest.defaults(),
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{ name: TOPIC, topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }],
    });
    const p = res.responses[0]!.partitionResponses[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE, `produce ${values.join(',')}: ${p.errorMessage}`);
    return Number(p.baseOffset);
  }

  async function marker(pid: bigint, committed: boolean, coordinatorEpoch = 0, version = 1): Promise<number> {
    const res = await w.send(WriteTxnMarkersRequest, WriteTxnMarkersResponse, version, {
      markers: [{ producerId: pid, producerEpoch: 0, transactionResult: committed, coordinatorEpoch, transactionVersion: 0, topics: [{ name: TOPIC, partitionIndexes: [0] }] }],
    });
    return res.markers[0]!.topics[0]!.partitions[0]!.errorCode;
  }

  async function lastStable(): Promise<bigint> {
    const res = await w.send(ListOffsetsRequest, ListOffsetsResponse, 7, {
      ...ListOffsetsRequest.defaults(),
      replicaId: -1,
      isolationLevel: 1,
      topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp: LATEST, maxNumOffsets: 1 }] }],
    });
    return res.topics[0]!.partitions[0]!.offset;
  }

  async function fetchCommitted(): Promise<{ lastStableOffset: bigint; highWatermark: bigint; aborted: [bigint, bigint][] }> {
    const res = await w.send(FetchRequest, FetchResponse, 11, {
      ...FetchRequest.defaults(),
      replicaId: -1,
      maxWaitMs: 0,
      minBytes: 0,
      maxBytes: 1 << 20,
      isolationLevel: 1,
      topics: [{ topic: TOPIC, topicId: ZERO_UUID, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0n, lastFetchedEpoch: -1, logStartOffset: -1n, partitionMaxBytes: 1 << 20, replicaDirectoryId: ZERO_UUID, highWatermark: -1n }] }],
    });
    const p = res.responses[0]!.partitions[0]!;
    assert.equal(p.errorCode, ErrorCode.NONE);
    return { lastStableOffset: p.lastStableOffset, highWatermark: p.highWatermark, aborted: (p.abortedTransactions ?? []).map((a) => [a.producerId, a.firstOffset]) };
  }

  async function kcatValues(isolation: string): Promise<string[]> {
    const r = await kcat(['-b', broker.bootstrap, '-C', '-t', TOPIC, '-p', '0', '-o', 'beginning', '-e', '-q', '-f', '%s\n', '-X', `isolation.level=${isolation}`]);
    assertOk(r, `kcat ${isolation}`);
    return r.stdout.split('\n').filter((l) => l !== '');
  }

  const pythonValues = (isolation: string) => python<string[]>(CONSUME_TO_END, [broker.bootstrap, TOPIC, isolation]);

  before(async () => {
    broker = await startBroker();
    await open();
    const created = await w.send(CreateTopicsRequest, CreateTopicsResponse, 7, {
      ...CreateTopicsRequest.defaults(),
      timeoutMs: 10_000,
      topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }],
    });
    assert.equal(created.topics[0]!.errorCode, ErrorCode.NONE);
  });
  after(async () => {
    w?.close();
    await broker?.destroy();
  });

  it('read_committed sees committed records and not aborted ones, up to the open transaction; read_uncommitted sees all', async () => {
    assert.equal(await produce(null, 'p0'), 0);
    assert.equal(await produce(1000n, 'c1', 'c2'), 1);
    assert.equal(await marker(1000n, true, 0, 0), ErrorCode.NONE, 'WriteTxnMarkers v0'); // 3
    assert.equal(await produce(1001n, 'a1', 'a2'), 4);
    assert.equal(await marker(1001n, false, 0, 2), ErrorCode.NONE, 'WriteTxnMarkers v2'); // 6
    assert.equal(await produce(null, 'p1'), 7);
    assert.equal(await produce(1002n, 'o1'), 8); // left open
    assert.equal(await produce(null, 'p2'), 9);

    assert.equal(await lastStable(), 8n, 'ListOffsets read_committed latest is the LSO');
    assert.deepEqual(await fetchCommitted(), { lastStableOffset: 8n, highWatermark: 10n, aborted: [[1001n, 4n]] });
    const committed = ['p0', 'c1', 'c2', 'p1'];
    const everything = ['p0', 'c1', 'c2', 'a1', 'a2', 'p1', 'o1', 'p2'];
    assert.deepEqual(await kcatValues('read_committed'), committed);
    assert.deepEqual(await kcatValues('read_uncommitted'), everything);
    assert.deepEqual(await pythonValues('read_committed'), committed);
    assert.deepEqual(await pythonValues('read_uncommitted'), everything);
  });

  it('a read_committed consumer waits at the open transaction and moves on after its marker', async () => {
    const child = spawn(systemPython, ['-c', CONSUME_UNTIL, broker.bootstrap, TOPIC, 'p2'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const next = async (): Promise<Record<string, string[]>> => {
      const r = await lines.next();
      assert.equal(r.done, false, `consumer ended early: ${stderr}`);
      return JSON.parse(r.value as string) as Record<string, string[]>;
    };
    try {
      assert.deepEqual(await next(), { eof: ['p0', 'c1', 'c2', 'p1'] }, 'stopped at the LSO');
      assert.equal(await marker(1002n, true), ErrorCode.NONE); // 10
      assert.deepEqual(await next(), { final: ['p0', 'c1', 'c2', 'p1', 'o1', 'p2'] });
    } finally {
      child.kill();
    }
    assert.equal(await lastStable(), 11n);
  });

  it('markers are fenced as Kafka fences them', async () => {
    await produce(1005n, 'f1'); // 11
    assert.equal(await marker(1005n, true, 7), ErrorCode.NONE); // 12
    assert.equal(await marker(1005n, true, 6), ErrorCode.TRANSACTION_COORDINATOR_FENCED);
    const res = await w.send(WriteTxnMarkersRequest, WriteTxnMarkersResponse, 1, {
      markers: [{ producerId: 1005n, producerEpoch: -1, transactionResult: true, coordinatorEpoch: 7, transactionVersion: 0, topics: [{ name: TOPIC, partitionIndexes: [0, 5] }, { name: 'nope', partitionIndexes: [0] }] }],
    });
    assert.deepEqual(
      res.markers[0]!.topics.map((t) => t.partitions.map((p) => [t.name, p.partitionIndex, p.errorCode])),
      [[[TOPIC, 0, ErrorCode.INVALID_PRODUCER_EPOCH], [TOPIC, 5, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]], [['nope', 0, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION]]],
    );
  });

  it('kill -9 with a transaction open, then after an ABORT marker (its .txnindex removed): the LSO and aborted transactions come back', async () => {
    assert.equal(await produce(1003n, 'o2'), 13); // open
    await broker.kill();
    await broker.start();
    await open();
    assert.equal(await lastStable(), 13n, 'still stopped at the open transaction');
    assert.deepEqual((await fetchCommitted()).aborted, [[1001n, 4n]]);
    const described = await w.send(DescribeProducersRequest, DescribeProducersResponse, 0, { topics: [{ name: TOPIC, partitionIndexes: [0, 9] }] });
    const [p0, p9] = described.topics[0]!.partitions;
    assert.equal(p9!.errorCode, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    const producers = new Map(p0!.activeProducers.map((p) => [p.producerId, p]));
    assert.deepEqual([...producers.keys()].sort(), [1000n, 1001n, 1002n, 1003n, 1005n]);
    assert.equal(producers.get(1003n)!.currentTxnStartOffset, 13n);
    assert.equal(producers.get(1003n)!.lastSequence, 0);
    assert.equal(producers.get(1002n)!.currentTxnStartOffset, -1n);
    assert.equal(producers.get(1005n)!.coordinatorEpoch, 7);

    assert.equal(await marker(1003n, false), ErrorCode.NONE); // 14
    await broker.kill();
    const dir = join(broker.dataDir, `${TOPIC}-0`);
    const indexes = readdirSync(dir).filter((n) => n.endsWith('.txnindex'));
    assert.deepEqual(indexes, ['00000000000000000000.txnindex']);
    for (const n of indexes) rmSync(join(dir, n));
    await broker.start();
    await open();
    assert.equal(await lastStable(), 15n);
    assert.deepEqual(await fetchCommitted(), { lastStableOffset: 15n, highWatermark: 15n, aborted: [[1001n, 4n], [1003n, 13n]] });
    const committed = ['p0', 'c1', 'c2', 'p1', 'o1', 'p2', 'f1'];
    assert.deepEqual(await kcatValues('read_committed'), committed);
    assert.deepEqual(await pythonValues('read_committed'), committed);
    assert.deepEqual(await pythonValues('read_uncommitted'), ['p0', 'c1', 'c2', 'a1', 'a2', 'p1', 'o1', 'p2', 'f1', 'o2']);
  });
});
