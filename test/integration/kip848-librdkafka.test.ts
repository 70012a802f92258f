// KIP-848 consumer groups (group.protocol=consumer) with a real client: Debian's
// python3-confluent-kafka on librdkafka 2.15.1, which speaks ConsumerGroupHeartbeat v1 (member
// ids of its own, regex subscriptions). Debian's librdkafka 2.0.2 is too old, so the test loads
// the 2.15.1 build of scripts/build-librdkafka.sh (run by scripts/install-test-deps.sh) through
// LD_LIBRARY_PATH; without it the test fails and says how to build it.
// Two members split a 4-partition topic, one leaves and the other gets every partition, the
// committed offsets survive a broker restart; a `^prefix-.*` subscription picks up a topic
// created after it subscribed.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { run } from '../helpers/clients.js';
import { findDoubleOwnership, isCompleteSplit, PyConsumer } from './groups-support.js';
import { eventually, kcatProduce } from './support.js';

const PARTITIONS = 4;
const cacheRoot = process.env['TRIBUTARY_CACHE'] ?? join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'tributary');
const librdkafkaDir = join(cacheRoot, 'librdkafka-2.15.1', 'src');
const env = { LD_LIBRARY_PATH: librdkafkaDir };
/** librdkafka refuses the classic-protocol settings the shared consumer script sets. */
const KIP848 = { 'group.protocol': 'consumer', 'session.timeout.ms': null, 'heartbeat.interval.ms': null } as const;

describe('KIP-848 consumer groups with librdkafka 2.15.1 (group.protocol=consumer)', () => {
  let broker: BrokerProcess;
  const consumers: PyConsumer[] = [];
  const consumer = (name: string, group: string, topic: string) => {
    const c = new PyConsumer(name, broker.bootstrap, group, topic, KIP848, env);
    consumers.push(c);
    return c;
  };
  const logs = (cs: PyConsumer[]) => cs.map((c) => c.log).join('\n');

  before(async () => {
    if (!existsSync(join(librdkafkaDir, 'librdkafka.so.1'))) {
      throw new Error(`librdkafka 2.15.1 is not built at ${librdkafkaDir}: run scripts/install-test-deps.sh (or scripts/build-librdkafka.sh)`);
    }
    broker = await startBroker({ overrides: { 'num.partitions': String(PARTITIONS), 'group.consumer.heartbeat.interval.ms': '500', 'group.consumer.min.heartbeat.interval.ms': '500' } });
  });
  after(async () => {
    await Promise.all(consumers.map((c) => c.kill()));
    await broker?.destroy();
  });

  it('the consumers run on librdkafka 2.15.1', async () => {
    const r = await run('/usr/bin/env', [`LD_LIBRARY_PATH=${librdkafkaDir}`, '/usr/bin/python3', '-c', 'import confluent_kafka; print(confluent_kafka.libversion()[0])']);
    assert.equal(r.stdout.trim(), '2.15.1', r.stderr);
  });

  it('two members split a topic, one leaves, the other gets every partition; offsets survive a restart', async () => {
    const topic = 'kip848-split';
    await kcatProduce(broker.bootstrap, topic, ['k:before-first']);
    const c1 = consumer('c1', 'g-kip848', topic);
    await c1.until('c1 owns every partition', () => c1.owned().size === PARTITIONS, 60_000);
    const c2 = consumer('c2', 'g-kip848', topic);
    await eventually('c1 and c2 split 2/2', () => (isCompleteSplit([c1, c2], PARTITIONS) && c1.owned().size === 2 ? true : undefined), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs([c1, c2])}`);
    });
    assert.equal(findDoubleOwnership([c1, c2]), null, logs([c1, c2]));
    // Produced once both members hold their half, so each one has records to commit.
    await kcatProduce(broker.bootstrap, topic, Array.from({ length: 40 }, (_, i) => `k${i}:before${i}`));
    await eventually('all 41 records consumed', () => (c1.messages().length + c2.messages().length >= 41 ? true : undefined), 60_000);
    assert.ok(c1.messages().length > 0 && c2.messages().length > 0, logs([c1, c2]));
    for (const c of [c1, c2]) {
      const from = c.events.length;
      c.send('commit');
      const done = await c.waitFor('commit', (e) => e.ev === 'committed' || e.ev === 'commit-failed', 30_000, from);
      assert.equal(done.ev, 'committed', c.log);
    }
    await c2.close();
    await c1.until('c1 owns every partition after c2 left', () => c1.owned().size === PARTITIONS, 60_000);
    await c1.close();

    await broker.stop();
    await broker.start();
    await kcatProduce(broker.bootstrap, topic, Array.from({ length: 8 }, (_, i) => `k${i}:after${i}`));
    const c3 = consumer('c3', 'g-kip848', topic);
    await eventually('c3 consumes the 8 new records', () => (c3.messages().length >= 8 ? true : undefined), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${c3.log}`);
    });
    await c3.until('c3 owns every partition', () => c3.owned().size === PARTITIONS, 30_000);
    const values = c3.messages().map((m) => m.value ?? '');
    assert.deepEqual(values.filter((v) => v.startsWith('before')), [], 'records before the commit were consumed again');
    assert.equal(values.filter((v) => v.startsWith('after')).length, 8);
  });

  it('a regex subscription picks up a topic created after it subscribed', async () => {
    await kcatProduce(broker.bootstrap, 'prefix-first', ['a:first']);
    await kcatProduce(broker.bootstrap, 'other-topic', ['a:other']);
    const c = consumer('regex', 'g-kip848-regex', '^prefix-.*');
    await eventually('prefix-first consumed', () => (c.messages().some((m) => m.value === 'first') ? true : undefined), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${c.log}`);
    });
    await kcatProduce(broker.bootstrap, 'prefix-second', ['a:second']);
    await eventually('prefix-second consumed', () => (c.messages().some((m) => m.value === 'second') ? true : undefined), 60_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${c.log}`);
    });
    assert.equal(c.messages().some((m) => m.value === 'other'), false, 'a topic the regex does not match was consumed');
  });
});
