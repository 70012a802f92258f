// Broker registration and heartbeats through the controller: RegisterBrokerRecord fenced, the
// first caught-up heartbeat unfences, epochs move up with every registration, a second process
// with the same id is refused while the first one's session lives, stale epochs are refused,
// and the registry survives a replay of the metadata log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ErrorCode } from '../protocol/errors.js';
import { MetadataController } from './metadata-controller.js';
import { MetadataLog } from './metadata-log.js';
import { LocalMetadataLogClient } from './metadata-log-client.js';
import { MemoryStore } from './test-memory-metadata-store.js';
import type { BrokerRegistrationRequest } from '../metadata/controller-channel.js';

function controllerOn(store: MemoryStore, clock: { now: number }): MetadataController {
  return new MetadataController(new LocalMetadataLogClient(new MetadataLog(store), async () => {}), {
    nodeId: 1,
    brokerIds: () => [1],
    defaultNumPartitions: () => 1,
    defaultReplicationFactor: () => 1,
    topicConfigProblem: () => null,
    nowMs: () => clock.now,
    brokerSessionTimeoutMs: 9000,
  });
}

const registration = (brokerId: number, incarnationId: string): BrokerRegistrationRequest => ({
  brokerId,
  incarnationId,
  endpoints: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9090 + brokerId, securityProtocol: 0 }],
  rack: brokerId === 2 ? 'rack-b' : null,
});

test('a broker registers fenced and its first caught-up heartbeat unfences it; the registry survives replay', async () => {
  const store = new MemoryStore();
  const clock = { now: 1000 };
  const c = controllerOn(store, clock);
  await c.load();
  const reg = await c.registerBroker(registration(2, 'AAAAAAAAAAAAAAAAAAAAAA'));
  assert.equal(reg.errorCode, ErrorCode.NONE);
  const epoch = reg.value!;
  assert.equal(c.image.brokers.get(2)!.fenced, true);
  assert.deepEqual(c.image.liveBrokers(), []);

  const behind = await c.brokerHeartbeat({ brokerId: 2, brokerEpoch: epoch, currentMetadataOffset: -1n, wantFence: false, wantShutDown: false });
  assert.deepEqual(behind.value, { isCaughtUp: false, isFenced: true, shouldShutDown: false });
  const hb = await c.brokerHeartbeat({ brokerId: 2, brokerEpoch: epoch, currentMetadataOffset: c.finalizedFeaturesEpoch, wantFence: false, wantShutDown: false });
  assert.deepEqual(hb.value, { isCaughtUp: true, isFenced: false, shouldShutDown: false });
  const live = c.image.liveBrokers();
  assert.deepEqual(live.map((b) => [b.brokerId, b.rack, b.endpoints[0]!.port]), [[2, 'rack-b', 9092]]);

  const replayed = controllerOn(store, clock);
  await replayed.load();
  assert.deepEqual(replayed.image.liveBrokers().map((b) => [b.brokerId, b.brokerEpoch]), [[2, epoch]]);
});

test('a second process with the same broker id is refused while the first heartbeats, accepted after its session expired', async () => {
  const clock = { now: 1000 };
  const c = controllerOn(new MemoryStore(), clock);
  await c.load();
  const first = await c.registerBroker(registration(3, 'AAAAAAAAAAAAAAAAAAAAAA'));
  const dup = await c.registerBroker(registration(3, 'BBBBBBBBBBBBBBBBBBBBBA'));
  assert.equal(dup.errorCode, ErrorCode.DUPLICATE_BROKER_REGISTRATION);
  assert.match(dup.errorMessage ?? '', /Another broker is registered with that broker id: 3/);
  // The same incarnation registering again (a retried request) is fine.
  const retried = await c.registerBroker(registration(3, 'AAAAAAAAAAAAAAAAAAAAAA'));
  assert.equal(retried.errorCode, ErrorCode.NONE);
  clock.now += 9001;
  const second = await c.registerBroker(registration(3, 'BBBBBBBBBBBBBBBBBBBBBA'));
  assert.equal(second.errorCode, ErrorCode.NONE);
  assert.ok(second.value! > retried.value! && retried.value! > first.value!, 'epochs grow with every registration');

  const stale = await c.brokerHeartbeat({ brokerId: 3, brokerEpoch: first.value!, currentMetadataOffset: 1000n, wantFence: false, wantShutDown: false });
  assert.equal(stale.errorCode, ErrorCode.STALE_BROKER_EPOCH);
  const unknown = await c.brokerHeartbeat({ brokerId: 9, brokerEpoch: 1n, currentMetadataOffset: 1000n, wantFence: false, wantShutDown: false });
  assert.equal(unknown.errorCode, ErrorCode.BROKER_ID_NOT_REGISTERED);
});

test('a heartbeat that wants fencing fences; one that wants to shut down marks the controlled shutdown', async () => {
  const clock = { now: 1000 };
  const c = controllerOn(new MemoryStore(), clock);
  await c.load();
  const epoch = (await c.registerBroker(registration(4, 'AAAAAAAAAAAAAAAAAAAAAA'))).value!;
  await c.brokerHeartbeat({ brokerId: 4, brokerEpoch: epoch, currentMetadataOffset: c.finalizedFeaturesEpoch, wantFence: false, wantShutDown: false });
  assert.equal(c.image.brokers.get(4)!.fenced, false);
  const fence = await c.brokerHeartbeat({ brokerId: 4, brokerEpoch: epoch, currentMetadataOffset: c.finalizedFeaturesEpoch, wantFence: true, wantShutDown: false });
  assert.equal(fence.value!.isFenced, true);
  assert.equal(c.image.brokers.get(4)!.fenced, true);
  await c.brokerHeartbeat({ brokerId: 4, brokerEpoch: epoch, currentMetadataOffset: c.finalizedFeaturesEpoch, wantFence: false, wantShutDown: false });
  const down = await c.brokerHeartbeat({ brokerId: 4, brokerEpoch: epoch, currentMetadataOffset: c.finalizedFeaturesEpoch, wantFence: false, wantShutDown: true });
  assert.deepEqual(down.value, { isCaughtUp: true, isFenced: true, shouldShutDown: true });
  const b = c.image.brokers.get(4)!;
  assert.equal(b.fenced, true);
  assert.equal(b.inControlledShutdown, true);
});
