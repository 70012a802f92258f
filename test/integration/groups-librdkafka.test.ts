// Consumer groups with librdkafka (confluent-kafka in Python processes) against a broker
// process: partitions split across members, rebalances on join/leave with no partition owned
// twice, expiry of a killed member after its session timeout, cooperative-sticky incremental
// rebalancing, and static members rejoining without a rebalance.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { findDoubleOwnership, isCompleteSplit, PyConsumer } from './groups-support.js';
import { eventually, kcatProduce } from './support.js';

const PARTITIONS = 6;

describe('consumer groups with librdkafka', () => {
  let broker: BrokerProcess;
  const consumers: PyConsumer[] = [];
  const consumer = (name: string, group: string, topic: string, extra: Record<string, string | number | boolean> = {}) => {
    const c = new PyConsumer(name, broker.bootstrap, group, topic, extra);
    consumers.push(c);
    return c;
  };
  const logs = (cs: PyConsumer[]) => cs.map((c) => c.log).join('\n');

  before(async () => {
    broker = await startBroker({ overrides: { 'group.initial.rebalance.delay.ms': '0', 'num.partitions': String(PARTITIONS) } });
  });
  after(async () => {
    await Promise.all(consumers.map((c) => c.kill()));
    await broker.destroy();
  });

  it('members split the partitions and rebalance on join and leave without owning a partition twice', async () => {
    const topic = 'split';
    await kcatProduce(broker.bootstrap, topic, Array.from({ length: 60 }, (_, i) => `k${i}:v${i}`));
    const c1 = consumer('c1', 'g-split', topic);
    await c1.until('c1 owns every partition', () => c1.owned().size === PARTITIONS);
    const c2 = consumer('c2', 'g-split', topic);
    await eventually('c1 and c2 split 3/3', () => (isCompleteSplit([c1, c2], PARTITIONS) && c2.owned().size === 3 ? true : undefined), 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs([c1, c2])}`);
    });
    const c3 = consumer('c3', 'g-split', topic);
    await eventually('three members own 2 each', () => (isCompleteSplit([c1, c2, c3], PARTITIONS) && [c1, c2, c3].every((c) => c.owned().size === 2) ? true : undefined), 30_000).catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${logs([c1, c2, c3])}`);
      },
    );
    await c2.close();
    await eventually('c1 and c3 own 3 each after c2 left', () => (isCompleteSplit([c1, c3], PARTITIONS) && c1.owned().size === 3 ? true : undefined), 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs([c1, c2, c3])}`);
    });
    assert.equal(findDoubleOwnership([c1, c2, c3]), null, logs([c1, c2, c3]));
    const seen = new Set([c1, c2, c3].flatMap((c) => c.messages().map((m) => m.value)));
    assert.equal(seen.size, 60, 'every record was consumed by some member');
  });

  it('a member killed without leaving is removed after its session timeout', async () => {
    const topic = 'expiry';
    await kcatProduce(broker.bootstrap, topic, ['a:1']);
    const c1 = consumer('c1', 'g-expiry', topic, { 'session.timeout.ms': 6000 });
    const c2 = consumer('c2', 'g-expiry', topic, { 'session.timeout.ms': 6000 });
    await eventually('split 3/3', () => (isCompleteSplit([c1, c2], PARTITIONS) && c1.owned().size === 3 ? true : undefined), 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs([c1, c2])}`);
    });
    const killedAt = Date.now();
    await c2.kill();
    await c1.until('c1 takes over every partition', () => c1.owned().size === PARTITIONS, 30_000);
    const elapsed = Date.now() - killedAt;
    // The session timer restarts at the last heartbeat (every 500 ms), so expiry is 5.5-6 s after the kill.
    assert.ok(elapsed >= 5000, `member expired after ${elapsed} ms, before its 6000 ms session timeout`);
    assert.ok(elapsed < 20_000, `member expired only after ${elapsed} ms`);
    assert.equal(findDoubleOwnership([c1, c2], new Map([[c2, killedAt * 1000]])), null, logs([c1, c2]));
  });

  it('cooperative-sticky moves only the partitions that must move', async () => {
    const topic = 'coop';
    await kcatProduce(broker.bootstrap, topic, ['a:1']);
    const extra = { 'partition.assignment.strategy': 'cooperative-sticky' };
    const c1 = consumer('c1', 'g-coop', topic, extra);
    const c2 = consumer('c2', 'g-coop', topic, extra);
    await eventually('split 3/3', () => (isCompleteSplit([c1, c2], PARTITIONS) && c1.owned().size === 3 ? true : undefined), 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs([c1, c2])}`);
    });
    const before1 = c1.owned();
    const before2 = c2.owned();
    const mark1 = c1.events.length;
    const mark2 = c2.events.length;
    const c3 = consumer('c3', 'g-coop', topic, extra);
    await eventually('2/2/2', () => (isCompleteSplit([c1, c2, c3], PARTITIONS) && [c1, c2, c3].every((c) => c.owned().size === 2) ? true : undefined), 30_000).catch(
      (e: Error) => {
        throw new Error(`${e.message}\n${logs([c1, c2, c3])}`);
      },
    );
    for (const [c, owned, mark] of [
      [c1, before1, mark1],
      [c2, before2, mark2],
    ] as const) {
      const revoked = c.events.slice(mark).filter((e) => e.ev === 'revoke').flatMap((e) => e.parts!);
      assert.equal(revoked.length, 1, `${c.name} gave up exactly one partition: ${c.log}`);
      for (const p of c.owned()) assert.ok(owned.has(p), `${c.name} kept partitions it owned before`);
    }
    assert.equal(findDoubleOwnership([c1, c2, c3]), null, logs([c1, c2, c3]));
  });

  it('a static member that restarts with the same group.instance.id gets its partitions back without a rebalance', async () => {
    const topic = 'static';
    await kcatProduce(broker.bootstrap, topic, ['a:1']);
    const s1 = consumer('s1', 'g-static', topic, { 'group.instance.id': 'instance-1', 'session.timeout.ms': 20000 });
    const s2 = consumer('s2', 'g-static', topic, { 'group.instance.id': 'instance-2', 'session.timeout.ms': 20000 });
    await eventually('split 3/3', () => (isCompleteSplit([s1, s2], PARTITIONS) && s1.owned().size === 3 ? true : undefined), 30_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${logs([s1, s2])}`);
    });
    const s1Partitions = [...s1.owned()].sort();
    const s2Mark = s2.events.length;
    await s1.kill();
    const s1b = consumer('s1b', 'g-static', topic, { 'group.instance.id': 'instance-1', 'session.timeout.ms': 20000 });
    await s1b.until('restarted static member owns 3 partitions', () => s1b.owned().size === 3, 30_000);
    assert.deepEqual([...s1b.owned()].sort(), s1Partitions, 'the same partitions as before the restart');
    const s2Changes = s2.events.slice(s2Mark).filter((e) => e.ev === 'assign' || e.ev === 'revoke');
    assert.deepEqual(s2Changes, [], `the other member saw no rebalance: ${s2.log}`);
  });
});
