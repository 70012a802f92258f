// imageRecords and snapshotTransition against images made by random histories: rebuilding an
// image from its records, and moving any image to any other, must give the same image.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng } from '../protocol/codec/test-support.js';
import { applyRecords } from './delta.js';
import { MetadataImage } from './image.js';
import { imageRecords, snapshotTransition } from './image-records.js';
import { collisionKey } from './topic-names.js';
import { ConfigResourceType, MetadataRecordType, type MetadataRecord } from './records.js';

/** Everything an image says, as plain sorted data (empty config maps count as absent). */
function summary(image: MetadataImage): unknown {
  const configs = (m: ReadonlyMap<string, ReadonlyMap<string, string>>) =>
    [...m].filter(([, c]) => c.size > 0).map(([k, c]) => [k, [...c].sort()] as const).sort((x, y) => (x[0] < y[0] ? -1 : 1));
  return {
    topics: [...image.topicsById.values()].map((t) => ({ name: t.name, id: t.topicId, partitions: t.partitions, configs: [...t.configs].sort() })).sort((x, y) => (x.id < y.id ? -1 : 1)),
    byName: [...image.topicsByName].map(([n, t]) => [n, t.topicId]).sort(),
    collisionKeys: [...image.namesByCollisionKey].sort(),
    brokers: [...image.brokers.values()].sort((x, y) => x.brokerId - y.brokerId),
    brokerConfigs: configs(image.brokerConfigs),
    groupConfigs: configs(image.groupConfigs),
    pendingTopicConfigs: configs(image.pendingTopicConfigs),
    nextProducerId: image.nextProducerId,
    features: [...image.finalizedFeatures].sort(),
    scram: [...image.scramCredentials].map(([u, m]) => [u, [...m].sort((x, y) => x[0] - y[0]).map(([k, c]) => [k, c.salt.toString('hex'), c.storedKey.toString('hex'), c.serverKey.toString('hex'), c.iterations])]).sort(),
    acls: [...image.acls].sort((x, y) => (x[0] < y[0] ? -1 : 1)),
  };
}

/** A random but valid history of `steps` changes. */
function history(seed: number, steps: number): MetadataRecord[] {
  const rand = new Rng(seed);
  const r = (): number => rand.u32() / 0x100000000;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const out: MetadataRecord[] = [];
  const topics = new Map<string, { name: string; partitions: number }>();
  const brokers = new Map<number, bigint>();
  let ids = 0;
  let epoch = 0n;
  let pid = 0n;
  const names = ['a', 'b', 'c.d', 'c_d', 'e', 'orders', '__consumer_offsets'];
  const keys = ['retention.ms', 'cleanup.policy', 'segment.bytes'];
  for (let i = 0; i < steps; i++) {
    const kind = Math.floor(r() * 12);
    if (kind === 0) {
      const name = pick(names);
      // As the controller refuses them: no two topics whose names collide ('.' versus '_').
      if ([...topics.values()].some((t) => collisionKey(t.name) === collisionKey(name))) continue;
      const topicId = `topic-${seed}-${ids++}`;
      const partitions = 1 + Math.floor(r() * 3);
      out.push({ type: MetadataRecordType.TopicRecord, version: 0, data: { name, topicId } });
      for (let p = 0; p < partitions; p++) {
        const replicas = [1 + Math.floor(r() * 3)];
        out.push({ type: MetadataRecordType.PartitionRecord, version: 0, data: { partitionId: p, topicId, replicas, isr: replicas, removingReplicas: [], addingReplicas: [], leader: replicas[0]!, leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0, directories: [], eligibleLeaderReplicas: null, lastKnownElr: null } });
      }
      topics.set(topicId, { name, partitions });
    } else if (kind === 1 && topics.size > 0) {
      const topicId = pick([...topics.keys()]);
      out.push({ type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId } });
      topics.delete(topicId);
    } else if (kind === 2 && topics.size > 0) {
      const [topicId, t] = pick([...topics]);
      const leader = r() < 0.5 ? -2 : Math.floor(r() * 4) - 1;
      out.push({ type: MetadataRecordType.PartitionChangeRecord, version: 0, data: { partitionId: Math.floor(r() * t.partitions), topicId, isr: r() < 0.5 ? null : [1, 2], leader, replicas: null, removingReplicas: null, addingReplicas: null, leaderRecoveryState: -1, directories: null, eligibleLeaderReplicas: null, lastKnownElr: null } });
    } else if (kind === 3) {
      // Topic configs, also for names without a topic (pending).
      out.push({ type: MetadataRecordType.ConfigRecord, version: 0, data: { resourceType: ConfigResourceType.TOPIC, resourceName: pick(names), name: pick(keys), value: r() < 0.3 ? null : String(Math.floor(r() * 1000)) } });
    } else if (kind === 4) {
      const resourceType = r() < 0.5 ? ConfigResourceType.BROKER : ConfigResourceType.GROUP;
      out.push({ type: MetadataRecordType.ConfigRecord, version: 0, data: { resourceType, resourceName: pick(['', '1', 'g1', 'g2']), name: pick(['log.retention.ms', 'consumer.session.timeout.ms']), value: r() < 0.3 ? null : String(Math.floor(r() * 1000)) } });
    } else if (kind === 5) {
      const brokerId = 1 + Math.floor(r() * 3);
      epoch += 1n;
      brokers.set(brokerId, epoch);
      out.push({ type: MetadataRecordType.RegisterBrokerRecord, version: 3, data: { brokerId, isMigratingZkBroker: false, incarnationId: `inc-${epoch}`, brokerEpoch: epoch, endPoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9000 + brokerId, securityProtocol: 0 }], features: [], rack: r() < 0.5 ? null : 'r1', fenced: r() < 0.5, inControlledShutdown: false, logDirs: [] } });
    } else if (kind === 6 && brokers.size > 0) {
      const [id, e] = pick([...brokers]);
      const which = Math.floor(r() * 4);
      if (which === 0) out.push({ type: MetadataRecordType.FenceBrokerRecord, version: 0, data: { id, epoch: e } });
      else if (which === 1) out.push({ type: MetadataRecordType.UnfenceBrokerRecord, version: 0, data: { id, epoch: e } });
      else if (which === 2) out.push({ type: MetadataRecordType.BrokerRegistrationChangeRecord, version: 1, data: { brokerId: id, brokerEpoch: e, fenced: 0, inControlledShutdown: 1, logDirs: [] } });
      else {
        out.push({ type: MetadataRecordType.UnregisterBrokerRecord, version: 0, data: { brokerId: id, brokerEpoch: e } });
        brokers.delete(id);
      }
    } else if (kind === 7) {
      out.push({ type: MetadataRecordType.FeatureLevelRecord, version: 0, data: { name: pick(['metadata.version', 'group.version', 'transaction.version']), featureLevel: Math.floor(r() * 3) } });
    } else if (kind === 8) {
      pid += 1000n;
      out.push({ type: MetadataRecordType.ProducerIdsRecord, version: 0, data: { brokerId: 1, brokerEpoch: -1n, nextProducerId: pid } });
    } else if (kind === 9) {
      const name = pick(['alice', 'bob']);
      const mechanism = 1 + Math.floor(r() * 2);
      if (r() < 0.7) {
        const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(r() * 256)));
        out.push({ type: MetadataRecordType.UserScramCredentialRecord, version: 0, data: { name, mechanism, salt: bytes(8), storedKey: bytes(32), serverKey: bytes(32), iterations: 4096 } });
      } else {
        out.push({ type: MetadataRecordType.RemoveUserScramCredentialRecord, version: 0, data: { name, mechanism } });
      }
    } else if (kind === 10) {
      out.push({ type: MetadataRecordType.AccessControlEntryRecord, version: 0, data: { id: `acl-${Math.floor(r() * 6)}`, resourceType: 2, resourceName: pick(names), patternType: 3, principal: 'User:alice', host: '*', operation: 3, permissionType: 3 } });
    } else if (kind === 11) {
      out.push({ type: MetadataRecordType.RemoveAccessControlEntryRecord, version: 0, data: { id: `acl-${Math.floor(r() * 6)}` } });
    }
  }
  return out;
}

const SEEDS = 300;

test('imageRecords rebuilds the image of a random history from the empty image', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const image = applyRecords(MetadataImage.EMPTY, history(seed, 1 + (seed % 120)));
    const rebuilt = applyRecords(MetadataImage.EMPTY, imageRecords(image));
    assert.deepEqual(summary(rebuilt), summary(image), `seed ${seed}`);
    // Deterministic: the same image is the same records (so the same snapshot bytes).
    assert.deepEqual(imageRecords(rebuilt), imageRecords(image), `seed ${seed}: records of an equal image`);
  }
});

test('snapshotTransition takes any image to any other: a node behind, or with another history', () => {
  for (let seed = 1; seed <= SEEDS; seed++) {
    const records = history(seed, 40 + (seed % 80));
    const behind = applyRecords(MetadataImage.EMPTY, records.slice(0, Math.floor(records.length / 3)));
    const next = applyRecords(MetadataImage.EMPTY, records);
    assert.deepEqual(summary(applyRecords(behind, snapshotTransition(behind, next))), summary(next), `seed ${seed}: behind`);
    const other = applyRecords(MetadataImage.EMPTY, history(seed + 100_000, 60));
    assert.deepEqual(summary(applyRecords(other, snapshotTransition(other, next))), summary(next), `seed ${seed}: other history`);
  }
});

test('a snapshot of a deleted topic names it in a RemoveTopicRecord, so the broker side drops its logs', () => {
  const topic: MetadataRecord[] = [
    { type: MetadataRecordType.TopicRecord, version: 0, data: { name: 'gone', topicId: 'id-gone' } },
    { type: MetadataRecordType.PartitionRecord, version: 0, data: { partitionId: 0, topicId: 'id-gone', replicas: [1], isr: [1], removingReplicas: [], addingReplicas: [], leader: 1, leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0, directories: [], eligibleLeaderReplicas: null, lastKnownElr: null } },
  ];
  const before = applyRecords(MetadataImage.EMPTY, topic);
  const after = applyRecords(before, [{ type: MetadataRecordType.RemoveTopicRecord, version: 0, data: { topicId: 'id-gone' } }]);
  const removals = snapshotTransition(before, after).filter((r) => r.type === MetadataRecordType.RemoveTopicRecord);
  assert.deepEqual(removals.map((r) => r.data), [{ topicId: 'id-gone' }]);
  assert.equal(imageRecords(after).length, 0);
});
