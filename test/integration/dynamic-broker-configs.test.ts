// Dynamic broker configs that take effect at run time, against a broker process, driven by
// Kafka's tool syntax (`tributary configs --entity-type brokers --entity-default --alter`) and
// kcat: log.cleaner.threads 1 -> 2 -> 0 -> 1 (a compacted topic is cleaned only while there are
// cleaner threads; the broker logs each reconfiguration; the stored 0 holds across a restart), and message.max.bytes (produce limits
// follow the cluster default without a restart).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBroker, tributaryBin, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat, run } from '../helpers/clients.js';
import { assertOk, eventually, kcatConsume, kcatProduce } from './support.js';

describe('dynamic broker configs', () => {
  let broker: BrokerProcess;

  before(async () => {
    broker = await startBroker({ overrides: { 'log.cleaner.threads': '1', 'log.cleaner.backoff.ms': '100', 'auto.create.topics.enable': 'false' } });
  });
  after(async () => {
    await broker?.destroy();
  });

  async function tool(args: string[]): Promise<string> {
    const r = await run(process.execPath, [tributaryBin, ...args, '--bootstrap-server', broker.bootstrap], { timeoutMs: 30_000 });
    assertOk(r, `tributary ${args.join(' ')}`);
    return r.stdout;
  }
  const alterDefault = (config: string) => tool(['configs', '--entity-type', 'brokers', '--entity-default', '--alter', '--add-config', config]);

  /** Waits for the broker's log line of a cleaner reconfiguration to `threads`. */
  const reconfigured = (threads: number) =>
    eventually(`the broker to log the cleaner reconfigured to ${threads} threads`, () =>
      new RegExp(`"threads":${threads},[^\\n]*"msg":"log cleaner reconfigured"`).test(broker.logs) ? true : undefined,
    );

  async function compactedTopic(topic: string): Promise<void> {
    await tool(['topics', '--create', '--topic', topic, '--partitions', '1', '--config', 'cleanup.policy=compact', '--config', 'segment.bytes=4096', '--config', 'min.cleanable.dirty.ratio=0.01']);
    // 300 updates to 3 keys: the closed segments hold many superseded values.
    await kcatProduce(broker.bootstrap, topic, Array.from({ length: 300 }, (_, i) => `k${i % 3}:value-${i}-${'x'.repeat(40)}`), ['-p', '0', '-X', 'batch.size=1024']);
  }

  it('log.cleaner.threads 1 -> 2 -> 0 -> 1 at run time: compaction runs only while threads > 0', async () => {
    await alterDefault('log.cleaner.threads=2');
    await reconfigured(2);
    const described = await tool(['configs', '--entity-type', 'brokers', '--entity-default', '--describe']);
    assert.match(described, /log\.cleaner\.threads=2/);

    await compactedTopic('dyn-cleaned');
    const cleaned = await eventually('the cleaner (2 threads) to compact dyn-cleaned', async () => {
      const got = await kcatConsume(broker.bootstrap, 'dyn-cleaned', 'beginning', ['-p', '0']);
      return got.length < 100 ? got : undefined;
    });
    assert.ok(!cleaned.some((r) => r.value === `value-0-${'x'.repeat(40)}`), 'the first value of k0 is gone');
    for (const k of ['k0', 'k1', 'k2']) assert.ok(cleaned.some((r) => r.key === k), `the latest ${k} stays`);

    await alterDefault('log.cleaner.threads=0');
    await reconfigured(0);
    await compactedTopic('dyn-paused');
    // After a restart the stored value applies before the cleaner starts (server.properties says 1).
    const beforeRestart = broker.logs.length;
    assert.equal(await broker.stop(), 0);
    await broker.start();
    assert.match(broker.logs.slice(beforeRestart), /"threads":0,[^\n]*"msg":"log cleaner reconfigured"/);
    // Many backoff periods (100 ms) with no cleaner thread: nothing may be cleaned.
    await new Promise((r) => setTimeout(r, 2_000));
    const paused = await kcatConsume(broker.bootstrap, 'dyn-paused', 'beginning', ['-p', '0']);
    assert.equal(paused.length, 300, 'with 0 threads the updates stay');

    await alterDefault('log.cleaner.threads=1');
    await reconfigured(1);
    const resumed = await eventually('the cleaner (1 thread) to compact dyn-paused', async () => {
      const got = await kcatConsume(broker.bootstrap, 'dyn-paused', 'beginning', ['-p', '0']);
      return got.length < 100 ? got : undefined;
    });
    assert.equal(resumed.at(-1)!.value, `value-299-${'x'.repeat(40)}`);
  });

  it('message.max.bytes at the cluster default bounds produce at once, both ways', async () => {
    await tool(['topics', '--create', '--topic', 'dyn-size', '--partitions', '1']);
    const big = 'v'.repeat(4000);
    const produceBig = () => kcat(['-P', '-b', broker.bootstrap, '-t', 'dyn-size', '-p', '0', '-X', 'message.timeout.ms=10000'], { input: `${big}\n`, timeoutMs: 30_000 });
    await alterDefault('message.max.bytes=2000');
    const refused = await eventually('produce of 4000 bytes to be refused', async () => {
      const r = await produceBig();
      return r.code !== 0 || /too large|MSG_SIZE_TOO_LARGE/i.test(r.stderr) ? r : undefined;
    });
    assert.match(refused.stderr, /too large|MSG_SIZE_TOO_LARGE/i);
    await alterDefault('message.max.bytes=100000');
    await eventually('produce of 4000 bytes to be accepted again', async () => {
      const r = await produceBig();
      return r.code === 0 && !/too large/i.test(r.stderr) ? true : undefined;
    });
    const got = await kcatConsume(broker.bootstrap, 'dyn-size', 'beginning', ['-p', '0']);
    assert.ok(got.some((r) => r.value === big), 'the large record was stored');
  });
});
