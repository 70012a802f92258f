// The producer's delivery timeout: records fail with a timeout (Kafka's TimeoutException) once
// delivery.timeout.ms has passed, whether the broker never existed, is not a Kafka broker, or
// died mid-stream; an idempotent producer whose sent batch expired with its outcome unknown goes
// on with the same producer id and the next epoch (KIP-360), duplicating nothing it acknowledged,
// also when a later batch, written but unanswered, is still being retried at the bump;
// and producer-perf-test stops with an error and a non-zero exit instead of
// printing "0 records sent" forever.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { Admin, Consumer, DeliveryTimeoutError, Producer } from '../../src/client/index.js';
import { ErrorCode } from '../../src/protocol/errors.js';
import { freePort, startBroker, tributaryBin, type BrokerProcess } from '../helpers/broker-process.js';
import { LeaderSwitchProxy } from '../helpers/leader-switch-proxy.js';

const DELIVERY_TIMEOUT_MS = 1500;
const REQUEST_TIMEOUT_MS = 1000;
/** What "bounded" means here: the delivery timeout plus one request timeout plus slack for a slow machine. */
const BOUND_MS = DELIVERY_TIMEOUT_MS + REQUEST_TIMEOUT_MS + 3000;

function isDeliveryTimeout(err: unknown): boolean {
  assert.ok(err instanceof DeliveryTimeoutError, `expected a DeliveryTimeoutError, got ${String(err)}`);
  assert.equal(err.code, ErrorCode.REQUEST_TIMED_OUT);
  return true;
}

async function elapsed<T>(p: Promise<T>): Promise<{ result: PromiseSettledResult<T>; ms: number }> {
  const start = Date.now();
  const [result] = await Promise.allSettled([p]);
  return { result: result!, ms: Date.now() - start };
}

function newProducer(bootstrap: string): Producer {
  return new Producer({
    bootstrapServers: bootstrap,
    deliveryTimeoutMs: DELIVERY_TIMEOUT_MS,
    requestTimeoutMs: REQUEST_TIMEOUT_MS,
    retryBackoffMs: 50,
    retryBackoffMaxMs: 200,
    lingerMs: 0,
  });
}

interface ToolRun {
  code: number | null;
  stdout: string;
  stderr: string;
  ms: number;
}

/** Runs the CLI; `onStdout` sees output as it comes (to act mid-run). A hard kill bounds it. */
function runTool(args: string[], onStdout?: (all: string) => void, hardLimitMs = 30_000): Promise<ToolRun> {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const child = spawn(process.execPath, [tributaryBin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const killer = setTimeout(() => child.kill('SIGKILL'), hardLimitMs);
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      onStdout?.(stdout);
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr, ms: Date.now() - start });
    });
  });
}

describe('producer delivery timeout', { timeout: 60_000 }, () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('fails sends to a port nothing listens on with a timeout error within the delivery timeout', async () => {
    const port = await freePort();
    const producer = newProducer(`127.0.0.1:${port}`);
    cleanups.push(() => producer.close({ force: true }));
    const sends = [producer.send({ topic: 'nowhere', value: 'a' }), producer.send({ topic: 'nowhere', value: 'b' })];
    const { result, ms } = await elapsed(Promise.all(sends));
    assert.equal(result.status, 'rejected');
    isDeliveryTimeout((result as PromiseRejectedResult).reason);
    assert.match(((result as PromiseRejectedResult).reason as Error).message, /not present in metadata after 1500 ms.*ECONNREFUSED/);
    assert.ok(ms >= DELIVERY_TIMEOUT_MS - 100 && ms < BOUND_MS, `failed after ${ms} ms`);
    for (const s of sends) await assert.rejects(s, isDeliveryTimeout);
    await within(BOUND_MS, 'flush', producer.flush().catch(() => undefined));
  });

  it('fails sends to something that accepts connections but never answers', async () => {
    const silent: Socket[] = [];
    const server: Server = createServer((s) => silent.push(s));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => {
      for (const s of silent) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const port = (server.address() as { port: number }).port;
    const producer = newProducer(`127.0.0.1:${port}`);
    cleanups.push(() => producer.close({ force: true }));
    const { result, ms } = await elapsed(producer.send({ topic: 'silence', value: 'a' }));
    assert.equal(result.status, 'rejected');
    isDeliveryTimeout((result as PromiseRejectedResult).reason);
    assert.ok(ms < BOUND_MS, `failed after ${ms} ms`);
    assert.ok(silent.length > 0, 'the client never connected');
  });

  let broker: BrokerProcess | null = null;
  it('fails records with a timeout once the broker is killed mid-stream', async () => {
    broker = await startBroker();
    cleanups.push(() => broker?.destroy());
    const producer = newProducer(broker.bootstrap);
    cleanups.push(() => producer.close({ force: true }));
    // Metadata and a producer id are cached, so nothing waits for metadata after the kill.
    const first = await producer.send({ topic: 'mid-stream', value: 'before' });
    assert.equal(first.offset, 0n);
    await broker.kill();
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < 50; i++) sends.push(producer.send({ topic: 'mid-stream', value: `after-${i}` }));
    const { result, ms } = await elapsed(Promise.all(sends));
    assert.equal(result.status, 'rejected');
    assert.ok(ms >= DELIVERY_TIMEOUT_MS - 100 && ms < BOUND_MS, `failed after ${ms} ms`);
    for (const s of sends) {
      await assert.rejects(s, (err: unknown) => {
        isDeliveryTimeout(err);
        assert.match((err as Error).message, /Expiring \d+ record\(s\) for mid-stream-0:\d+ ms has passed since batch creation/);
        return true;
      });
    }
    // Nothing is left behind: flush returns at once and close does not hang.
    await within(1000, 'flush after expiry', producer.flush().catch(() => undefined));
  });

  it('bumps the epoch of the same producer id after a sent batch expires, losing and duplicating no acknowledged record', async () => {
    const b = await startBroker();
    let stoppedPid: number | null = null;
    cleanups.push(() => {
      if (stoppedPid !== null) process.kill(stoppedPid, 'SIGCONT');
      return b.destroy();
    });
    const producer = newProducer(b.bootstrap);
    cleanups.push(() => producer.close({ force: true }));
    const topic = 'epoch-bump';
    const acked: string[] = [];
    for (let i = 0; i < 5; i++) {
      await producer.send({ topic, partition: 0, value: `before-${i}` });
      acked.push(`before-${i}`);
    }
    const before = producer.producerIdAndEpoch;
    assert.ok(before.producerId >= 0n && before.producerEpoch >= 0, `no producer id: ${String(before.producerId)}`);

    // A stopped broker accepts the bytes and never answers: every batch is sent (maybe written
    // once the broker resumes) and expires with its outcome unknown.
    stoppedPid = b.pid!;
    process.kill(stoppedPid, 'SIGSTOP');
    const stalled: Promise<unknown>[] = [];
    for (let i = 0; i < 10; i++) stalled.push(producer.send({ topic, partition: 0, value: `stalled-${i}` }));
    for (const r of await Promise.allSettled(stalled)) {
      assert.equal(r.status, 'rejected');
      isDeliveryTimeout((r as PromiseRejectedResult).reason);
    }
    process.kill(stoppedPid, 'SIGCONT');
    stoppedPid = null;

    for (let i = 0; i < 10; i++) {
      await producer.send({ topic, partition: 0, value: `after-${i}` });
      acked.push(`after-${i}`);
    }
    const bumped = producer.producerIdAndEpoch;
    assert.equal(bumped.producerId, before.producerId, 'the producer id changed: it started over instead of bumping the epoch');
    assert.equal(bumped.producerEpoch, before.producerEpoch + 1);
    // The broker's view: one producer, at the new epoch, whose sequences restarted at 0.
    const admin = new Admin({ bootstrapServers: b.bootstrap });
    cleanups.push(() => admin.close());
    const states = await admin.describeProducers({ topic, partition: 0 });
    assert.deepEqual(
      states.map((p) => [p.producerId, p.producerEpoch, p.lastSequence]),
      [[before.producerId, before.producerEpoch + 1, 9]],
    );

    // Read back to the last acknowledged record: each acknowledged value once, in order; an
    // expired one at most once (it may have been written when the broker resumed).
    const consumer = new Consumer({ bootstrapServers: b.bootstrap, autoOffsetReset: 'earliest', maxWaitMs: 100 });
    cleanups.push(() => consumer.close());
    consumer.assign([{ topic, partition: 0 }]);
    const values: string[] = [];
    const deadline = Date.now() + 20_000;
    while (!values.includes('after-9') && Date.now() < deadline) {
      for (const batch of await consumer.poll({ timeoutMs: 500 })) values.push(...batch.records.map((r) => r.value!.toString()));
    }
    assert.deepEqual(values.filter((v) => !v.startsWith('stalled-')), acked);
    const stalledSeen = values.filter((v) => v.startsWith('stalled-'));
    assert.equal(new Set(stalledSeen).size, stalledSeen.length, `an expired record written twice: ${stalledSeen.join(', ')}`);
  });

  it('a batch written but unanswered when an earlier one expires is resent with its old numbers before the epoch bump, so it is written once', async () => {
    const b = await startBroker();
    cleanups.push(() => b.destroy());
    // Every answer to a Produce is lost (the broker writes it, the connection is cut) until the
    // first batch expires; the second, created half a delivery timeout later, is still retried.
    const proxy = await LeaderSwitchProxy.start(b.bootstrap);
    cleanups.push(() => proxy.close());
    const deliveryTimeoutMs = 4000;
    const producer = new Producer({ bootstrapServers: proxy.bootstrapServers, deliveryTimeoutMs, requestTimeoutMs: REQUEST_TIMEOUT_MS, retryBackoffMs: 50, retryBackoffMaxMs: 200, lingerMs: 0 });
    cleanups.push(() => producer.close({ force: true }));
    const topic = 'in-doubt';
    await producer.send({ topic, partition: 0, value: 'before' });
    const before = producer.producerIdAndEpoch;
    proxy.loseProduceAnswers = true;
    const expiring = producer.send({ topic, partition: 0, value: 'expiring' });
    await new Promise((r) => setTimeout(r, deliveryTimeoutMs / 2));
    const retried = producer.send({ topic, partition: 0, value: 'retried' });
    await assert.rejects(expiring, isDeliveryTimeout);
    proxy.loseProduceAnswers = false;
    const acked = await retried;
    assert.ok(proxy.lostAnswers > 2, `answers lost: ${proxy.lostAnswers}`);
    await producer.send({ topic, partition: 0, value: 'after' });
    const bumped = producer.producerIdAndEpoch;
    assert.deepEqual([bumped.producerId, bumped.producerEpoch], [before.producerId, before.producerEpoch + 1]);

    const consumer = new Consumer({ bootstrapServers: b.bootstrap, autoOffsetReset: 'earliest', maxWaitMs: 100 });
    cleanups.push(() => consumer.close());
    consumer.assign([{ topic, partition: 0 }]);
    const records: [bigint, string][] = [];
    const deadline = Date.now() + 20_000;
    while (!records.some(([, v]) => v === 'after') && Date.now() < deadline) {
      for (const batch of await consumer.poll({ timeoutMs: 500 })) records.push(...batch.records.map((r): [bigint, string] => [r.offset, r.value!.toString()]));
    }
    // The expired record was written by its first attempt; the retried one once, where it was acknowledged.
    assert.deepEqual(records, [[0n, 'before'], [1n, 'expiring'], [2n, 'retried'], [3n, 'after']]);
    assert.equal(acked.offset, 2n);
  });

  it('producer-perf-test exits non-zero with one error line when the broker is unreachable', async () => {
    const port = await freePort();
    const run = await runTool([
      'producer-perf-test', '--topic', 't', '--num-records', '1000000', '--record-size', '100', '--throughput', '-1',
      '--bootstrap-server', `127.0.0.1:${port}`, '--producer-props', 'delivery.timeout.ms=2000', 'request.timeout.ms=1000',
    ]);
    assert.equal(run.code, 1, run.stderr);
    assert.ok(run.ms < 10_000, `took ${run.ms} ms`);
    const lines = run.stderr.trim().split('\n');
    assert.equal(lines.length, 1, run.stderr);
    assert.match(lines[0]!, /^Error: REQUEST_TIMED_OUT: Topic t not present in metadata after 2000 ms/);
    assert.doesNotMatch(run.stdout, /records sent/);
  });

  it('producer-perf-test stops with delivery errors and a non-zero exit when the broker dies mid-run', async () => {
    const b = await startBroker();
    cleanups.push(() => b.destroy());
    let killed: Promise<void> | null = null;
    const run = await runTool(
      [
        'producer-perf-test', '--topic', 'perf', '--num-records', '100000000', '--record-size', '100', '--throughput', '2000',
        '--reporting-interval', '300', '--bootstrap-server', b.bootstrap,
        '--producer-props', 'delivery.timeout.ms=2000', 'request.timeout.ms=1000',
      ],
      (all) => {
        // Kill once records are known to flow.
        if (killed === null && /^[1-9]\d* records sent/m.test(all)) killed = b.kill();
      },
    );
    assert.notEqual(killed, null, `records never flowed:\n${run.stdout}\n${run.stderr}`);
    assert.equal(run.code, 1, run.stderr);
    assert.match(run.stderr, /^Error: REQUEST_TIMED_OUT: Expiring \d+ record\(s\) for perf-\d+:\d+ ms has passed since batch creation/m);
    assert.match(run.stderr, /^\d+ records failed\.$/m);
    // The final summary is still printed for what was acknowledged.
    assert.match(run.stdout, /records sent, .* ms 99\.9th\.\n$/);
  });
});

async function within<T>(ms: number, what: string, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
