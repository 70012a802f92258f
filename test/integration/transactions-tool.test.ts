// `tributary transactions` (kafka-transactions.sh) against a broker: list and describe an open
// transaction of confluent-kafka's transactional producer; describe-producers and find-hanging
// for a transaction no coordinator knows (a transactional batch written by hand); abort it with
// --start-offset, after which the partition has no open transaction and read_committed readers
// pass it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { ZERO_UUID } from '../../src/protocol/codec/reader.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { ProduceRequest } from '../../src/protocol/messages/ProduceRequest.js';
import { ProduceResponse } from '../../src/protocol/messages/ProduceResponse.js';
import { encodeRecordBatch } from '../../src/protocol/records/record-batch.js';
import { startBroker, tributaryBin, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat, python, run } from '../helpers/clients.js';
import { WireClient } from './admin-wire.js';
import { assertOk } from './support.js';

/** Rows of a kafka-transactions table, cells trimmed (columns are padded and tab-separated). */
function tableRows(stdout: string): string[][] {
  return stdout.trimEnd().split('\n').map((line) => line.split('\t').map((c) => c.trim()).filter((c, i, all) => i < all.length - 1 || c !== ''));
}

describe('tributary transactions', () => {
  let broker: BrokerProcess;
  const tool = (args: string[]) => run(process.execPath, [tributaryBin, 'transactions', '--bootstrap-server', broker.bootstrap, ...args], { timeoutMs: 60_000 });

  before(async () => {
    broker = await startBroker({ overrides: { 'num.partitions': '1' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  it('lists and describes an open transaction of confluent-kafka', async () => {
    await python<{ ok: boolean }>(
      String.raw`
import json, os, sys
from confluent_kafka import Producer
p = Producer({'bootstrap.servers': sys.argv[1], 'transactional.id': 'tx-tool', 'transaction.timeout.ms': 300000})
p.init_transactions(20)
p.begin_transaction()
p.produce('tt', value=b'open', partition=0)
assert p.flush(20) == 0
print(json.dumps({'ok': True}), flush=True)
os._exit(0)  # leave the transaction open
`,
      [broker.bootstrap],
    );
    const list = await tool(['list']);
    assert.equal(list.code, 0, list.stderr);
    const rows = tableRows(list.stdout);
    assert.deepEqual(rows[0], ['TransactionalId', 'Coordinator', 'ProducerId', 'TransactionState']);
    const row = rows.find((r) => r[0] === 'tx-tool');
    assert.ok(row !== undefined, list.stdout);
    assert.equal(row[1], '1');
    assert.equal(row[3], 'Ongoing');
    const described = await tool(['describe', '--transactional-id', 'tx-tool']);
    assert.equal(described.code, 0, described.stderr);
    const [head, d] = tableRows(described.stdout);
    assert.deepEqual(head, ['CoordinatorId', 'TransactionalId', 'ProducerId', 'ProducerEpoch', 'TransactionState', 'TransactionTimeoutMs', 'CurrentTransactionStartTimeMs', 'TransactionDurationMs', 'TopicPartitions']);
    assert.equal(d![1], 'tx-tool');
    assert.equal(d![4], 'Ongoing');
    assert.equal(d![5], '300000');
    assert.match(d![6]!, /^\d{13}$/);
    assert.equal(d![8], 'tt-0');
    const noHang = await tool(['find-hanging', '--topic', 'tt', '--max-transaction-timeout', '0']);
    assert.equal(tableRows(noHang.stdout).length, 1, 'the coordinator still has it: not hanging');
    const unknown = await tool(['describe', '--transactional-id', 'nope']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /Failed to describe transaction state of transactional-id `nope`/);
  });

  it('finds a transaction no coordinator knows and aborts it by its start offset', async () => {
    assertOk(await kcat(['-P', '-b', broker.bootstrap, '-t', 'hang', '-p', '0'], { input: 'before\n' }), 'plain record first');
    const w = await WireClient.open(broker.bootstrap);
    try {
      const records = encodeRecordBatch({ records: [{ key: null, value: Buffer.from('hanging'), headers: [], timestamp: Date.now() }], producerId: 4242n, producerEpoch: 0, baseSequence: 0, transactional: true });
      const res = await w.send(ProduceRequest, ProduceResponse, 9, { ...ProduceRequest.defaults(), acks: -1, timeoutMs: 10_000, topicData: [{ name: 'hang', topicId: ZERO_UUID, partitionData: [{ index: 0, records }] }] });
      assert.equal(res.responses[0]!.partitionResponses[0]!.errorCode, ErrorCode.NONE);
    } finally {
      w.close();
    }
    const producers = await tool(['describe-producers', '--topic', 'hang', '--partition', '0']);
    assert.equal(producers.code, 0, producers.stderr);
    const rows = tableRows(producers.stdout);
    assert.deepEqual(rows[0], ['ProducerId', 'ProducerEpoch', 'LatestCoordinatorEpoch', 'LastSequence', 'LastTimestamp', 'CurrentTransactionStartOffset']);
    const p = rows.find((r) => r[0] === '4242');
    assert.deepEqual([p![1], p![3], p![5]], ['0', '0', '1'], 'epoch 0, last sequence 0, transaction from offset 1');
    const hanging = await tool(['find-hanging', '--topic', 'hang', '--max-transaction-timeout', '0']);
    const h = tableRows(hanging.stdout);
    assert.deepEqual(h[0], ['Topic', 'Partition', 'ProducerId', 'ProducerEpoch', 'CoordinatorEpoch', 'StartOffset', 'LastTimestamp', 'Duration(min)']);
    assert.deepEqual(h.slice(1).map((r) => r.slice(0, 6)), [['hang', '0', '4242', '0', '-1', '1']]);
    const wrong = await tool(['abort', '--topic', 'hang', '--partition', '0', '--start-offset', '7']);
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /Could not find any open transactions starting at offset 7 on partition hang-0/);
    const aborted = await tool(['abort', '--topic', 'hang', '--partition', '0', '--start-offset', '1']);
    assert.equal(aborted.code, 0, aborted.stderr);
    const after = tableRows((await tool(['describe-producers', '--topic', 'hang', '--partition', '0'])).stdout).find((r) => r[0] === '4242');
    assert.equal(after![5], 'None', 'no open transaction any more');
    assert.equal(tableRows((await tool(['find-hanging', '--topic', 'hang', '--max-transaction-timeout', '0'])).stdout).length, 1);
    const committed = await kcat(['-C', '-b', broker.bootstrap, '-t', 'hang', '-p', '0', '-o', 'beginning', '-e', '-q', '-X', 'isolation.level=read_committed']);
    assert.equal(committed.stdout.trim(), 'before', 'read_committed passes the aborted record');
  });
});
