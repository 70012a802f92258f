// Offset commits survive a crash: confluent-kafka commits offsets synchronously in a tight loop
// (the broker writes them to __consumer_offsets with acks=all and answers once they are
// committed), the broker is killed with SIGKILL in the middle of the stream and restarted, and
// every commit that was acknowledged before the kill is found after the restart.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { BrokerProcess } from '../helpers/broker-process.js';
import { run, systemPython } from '../helpers/clients.js';
import { assertOk, eventually, kcatProduce } from './support.js';

const PARTITIONS = 4;

// Commits offset n to partition n % PARTITIONS for n = 1, 2, ... until a commit fails (the
// broker is gone), printing one JSON line per acknowledged commit.
const COMMIT_STREAM = String.raw`
import json, sys
from confluent_kafka import Consumer, TopicPartition, KafkaException
b, topic, group, parts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = Consumer({'bootstrap.servers': b, 'group.id': group, 'enable.auto.commit': False,
              'reconnect.backoff.ms': 50, 'reconnect.backoff.max.ms': 200})
n = 0
try:
    while True:
        n += 1
        c.commit(offsets=[TopicPartition(topic, n % parts, n)], asynchronous=False)
        print(json.dumps({'partition': n % parts, 'offset': n}), flush=True)
except KafkaException as e:
    print(json.dumps({'error': str(e), 'offset': n}), flush=True)
`;

const COMMITTED = String.raw`
import json, sys
from confluent_kafka import Consumer, TopicPartition
b, topic, group, parts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
c = Consumer({'bootstrap.servers': b, 'group.id': group, 'enable.auto.commit': False})
got = c.committed([TopicPartition(topic, p) for p in range(parts)], timeout=30)
print(json.dumps({str(tp.partition): tp.offset for tp in got}))
c.close()
`;

describe('offset commits and a crash', () => {
  const brokers: BrokerProcess[] = [];
  after(async () => {
    for (const b of brokers) await b.destroy();
  });

  it('after SIGKILL during a stream of offset commits, every acknowledged commit is there after the restart', async () => {
    const broker = new BrokerProcess({ overrides: { 'num.partitions': String(PARTITIONS) } });
    brokers.push(broker);
    await broker.start();
    const topic = 'commit-crash';
    const group = 'commit-crash-group';
    await kcatProduce(broker.bootstrap, topic, ['k:v']); // creates the topic
    const child = spawn(systemPython, ['-c', COMMIT_STREAM, broker.bootstrap, topic, group, String(PARTITIONS)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const lastAcked = new Map<number, number>();
    let acked = 0;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { partition?: number; offset: number; error?: string };
      if (msg.error !== undefined || msg.partition === undefined) return;
      acked++;
      lastAcked.set(msg.partition, msg.offset);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      await eventually('2000 acknowledged commits before the kill', () => (acked >= 2000 ? true : undefined), 60_000);
      await broker.kill();
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const ackedAtKill = new Map(lastAcked);
    assert.equal(ackedAtKill.size, PARTITIONS, stderr);

    await broker.start();
    const r = await run(systemPython, ['-c', COMMITTED, broker.bootstrap, topic, group, String(PARTITIONS)], { timeoutMs: 60_000 });
    assertOk(r, 'committed()');
    const committed = JSON.parse(r.stdout) as Record<string, number>;
    for (const [partition, offset] of ackedAtKill) {
      // A commit in flight at the kill may have been written without its answer: later, not earlier.
      assert.ok(committed[String(partition)]! >= offset, `partition ${partition}: acknowledged commit ${offset}, found ${committed[String(partition)]}`);
    }
    assert.match(broker.logs, /loaded groups from __consumer_offsets/);
  });
});
