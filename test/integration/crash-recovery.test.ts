// Crash safety with real processes: SIGKILL while an idempotent acks=all producer (confluent-kafka)
// is producing, a segment cut mid-batch after a kill, and a clean SIGTERM stop that lets the next
// start-up skip validation.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, statSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { BrokerProcess } from '../helpers/broker-process.js';
import { kcat, systemPython } from '../helpers/clients.js';
import { assertOk, eventually, kcatConsume, kcatProduce } from './support.js';

// Produces sequence numbers 0,1,2,... to partition 0 until stdin closes, printing one JSON line per
// acknowledged delivery (and per error), then flushes and prints a final summary line.
const CONTINUOUS_PRODUCER = String.raw`
import json, sys, threading, time
from confluent_kafka import Producer
b, topic = sys.argv[1], sys.argv[2]
p = Producer({'bootstrap.servers': b, 'enable.idempotence': True, 'acks': 'all', 'linger.ms': 2,
              'message.timeout.ms': 60000, 'reconnect.backoff.ms': 50, 'reconnect.backoff.max.ms': 200,
              'retry.backoff.ms': 50, 'compression.type': 'lz4'})
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
def cb(err, msg):
    if err is not None:
        print(json.dumps({'error': str(err), 'seq': int(msg.value())}), flush=True)
    else:
        print(json.dumps({'seq': int(msg.value()), 'offset': msg.offset()}), flush=True)
seq = 0
while not stop.is_set():
    try:
        p.produce(topic, key=b'k', value=str(seq).encode(), partition=0, on_delivery=cb)
        seq += 1
    except BufferError:
        pass
    p.poll(0.001)
left = p.flush(60)
print(json.dumps({'done': True, 'produced': seq, 'unflushed': left}), flush=True)
`;

interface ProducerLine {
  seq?: number;
  offset?: number;
  error?: string;
  done?: boolean;
  produced?: number;
  unflushed?: number;
}

function segmentFiles(partitionDir: string, suffix: string): string[] {
  return readdirSync(partitionDir)
    .filter((f) => f.endsWith(suffix))
    .sort();
}

describe('crash recovery', () => {
  const brokers: BrokerProcess[] = [];
  after(async () => {
    for (const b of brokers) await b.destroy();
  });

  it('after SIGKILL mid-stream, every record acknowledged with acks=all is found, in order, without gaps', async () => {
    const broker = new BrokerProcess({ overrides: { 'num.partitions': '1' } });
    brokers.push(broker);
    await broker.start();
    const topic = 'crash-acks-all';
    await kcatProduce(broker.bootstrap, topic, ['warmup:0'], ['-p', '0']); // auto-create before the stream starts
    const child = spawn(systemPython, ['-c', CONTINUOUS_PRODUCER, broker.bootstrap, topic], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const acked: { seq: number; offset: number }[] = [];
    const errors: string[] = [];
    let summary: ProducerLine | null = null;
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as ProducerLine;
      if (msg.done === true) summary = msg;
      else if (msg.error !== undefined) errors.push(`${msg.seq}: ${msg.error}`);
      else acked.push({ seq: msg.seq!, offset: msg.offset! });
    });
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    try {
      await eventually('3000 acknowledged records before the kill', () => (acked.length >= 3000 ? true : undefined), 30_000);
      await broker.kill();
      const ackedAtKill = acked.length;
      await broker.start();
      await eventually('3000 more acknowledged records after the restart', () => (acked.length >= ackedAtKill + 3000 ? true : undefined), 40_000);
    } finally {
      child.stdin.end();
    }
    assert.equal(await exited, 0, stderr);
    assert.ok(summary !== null, 'producer summary missing');
    const done = summary as ProducerLine;
    assert.equal(done.unflushed, 0, 'producer could not deliver everything after the restart');
    assert.deepEqual(errors, [], 'delivery errors');

    // Acknowledged sequence numbers are 0..n-1 in order (idempotence keeps order across retries).
    const ackedSeqs = acked.map((a) => a.seq).sort((a, b) => a - b);
    assert.deepEqual(ackedSeqs, ackedSeqs.map((_, i) => i));
    const stored = (await kcatConsume(broker.bootstrap, topic, '1', ['-p', '0'])).filter((r) => r.key === 'k');
    // Exactly the acknowledged records, once each, in sequence order, at the offsets acknowledged.
    assert.equal(stored.length, acked.length, `stored ${stored.length}, acknowledged ${acked.length}`);
    const offsetOfSeq = new Map(acked.map((a) => [a.seq, a.offset]));
    stored.forEach((r, i) => {
      assert.equal(Number(r.value), i, `offset ${r.offset} holds ${r.value}, expected seq ${i}`);
      assert.equal(offsetOfSeq.get(i), r.offset, `seq ${i} acknowledged at ${offsetOfSeq.get(i)} but stored at ${r.offset}`);
    });
    assert.match(broker.logs, /"hadCleanShutdown":false/, 'the restart after SIGKILL should have validated the log');
  });

  it('recovers to the last whole batch when the active segment is cut mid-batch, and appends after it', async () => {
    const broker = new BrokerProcess({ overrides: { 'num.partitions': '1' } });
    brokers.push(broker);
    await broker.start();
    const topic = 'crash-truncated';
    // Ten separate kcat runs: ten batches of five records each.
    for (let b = 0; b < 10; b++) {
      await kcatProduce(broker.bootstrap, topic, Array.from({ length: 5 }, (_, i) => `k:batch${b}-rec${i}`), ['-p', '0', '-X', 'linger.ms=50']);
    }
    const before = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-p', '0']);
    assert.equal(before.length, 50);
    await broker.kill();

    const partitionDir = join(broker.dataDir, `${topic}-0`);
    const [logFile] = segmentFiles(partitionDir, '.log');
    assert.ok(logFile !== undefined, 'no segment file');
    const logPath = join(partitionDir, logFile);
    const size = statSync(logPath).size;
    truncateSync(logPath, size - 10); // cuts the last batch (batch9) mid-way

    await broker.start();
    const after = await kcatConsume(broker.bootstrap, topic, 'beginning', ['-p', '0']);
    assert.deepEqual(after.map((r) => r.value), before.slice(0, 45).map((r) => r.value));
    assert.deepEqual(after.map((r) => r.offset), before.slice(0, 45).map((r) => r.offset));
    const q = await kcat(['-Q', '-b', broker.bootstrap, '-t', `${topic}:0:-1`]);
    assertOk(q, 'kcat -Q');
    assert.match(q.stdout, /\[0\] offset 45\b/, q.stdout);

    await kcatProduce(broker.bootstrap, topic, ['k:after-0', 'k:after-1'], ['-p', '0']);
    const tail = await kcatConsume(broker.bootstrap, topic, '44', ['-p', '0']);
    assert.deepEqual(
      tail.map((r) => `${r.offset}=${r.value}`),
      ['44=batch8-rec4', '45=after-0', '46=after-1'],
    );
    assert.ok(statSync(logPath).size < size, 'the torn batch should have been cut from the file');
  });

  it('a clean SIGTERM stop exits 0 and the next start skips validation', async () => {
    const broker = new BrokerProcess({ overrides: { 'num.partitions': '1' } });
    brokers.push(broker);
    await broker.start();
    assert.match(broker.logs, /"hadCleanShutdown":false/, 'a fresh data dir has no clean-shutdown marker');
    await kcatProduce(broker.bootstrap, 'crash-clean', Array.from({ length: 20 }, (_, i) => `k:${i}`), ['-p', '0']);
    const logsBefore = broker.logs.length;
    assert.equal(await broker.stop(), 0);
    await broker.start();
    const restartLogs = broker.logs.slice(logsBefore);
    assert.match(restartLogs, /"hadCleanShutdown":true/, restartLogs);
    assert.doesNotMatch(restartLogs, /recovered partition/, 'no partition should be re-validated after a clean stop');
    const got = await kcatConsume(broker.bootstrap, 'crash-clean', 'beginning', ['-p', '0']);
    assert.deepEqual(got.map((r) => r.value), Array.from({ length: 20 }, (_, i) => String(i)));

    // And the opposite: after SIGKILL the same data is validated again.
    const logsBeforeKill = broker.logs.length;
    await broker.kill();
    await broker.start();
    const afterKill = broker.logs.slice(logsBeforeKill);
    assert.match(afterKill, /"hadCleanShutdown":false/, afterKill);
    assert.match(afterKill, /recovered partition.*"topic":"crash-clean"|"topic":"crash-clean".*recovered partition/, afterKill);
  });
});
