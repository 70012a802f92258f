// Three MetadataControllers, each on a RaftMetadataLogClient over its own RaftDriver (real
// storage on temp dirs, the in-memory network): exactly one is active at a time, changes it
// commits are published by all three, standbys answer NOT_CONTROLLER, and a new leader takes
// over with the committed image (what the old one had pending is not in it) after a failover.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { METADATA_VERSION } from '../metadata/features.js';
import { METADATA_TOPIC } from '../metadata/topic-names.js';
import { ErrorCode } from '../protocol/errors.js';
import { defaultLogConfig } from '../storage/config.js';
import { PartitionLog } from '../storage/partition-log.js';
import { MetadataController } from './metadata-controller.js';
import { RaftMetadataLogClient } from './raft-metadata-log-client.js';
import { DiskRaftStorage } from './raft/disk-raft-storage.js';
import { RaftDriver } from './raft/raft-driver.js';
import { FAST_RAFT_CONFIG, InMemoryRaftNetwork, waitFor } from './raft/raft-driver-test-support.js';

const IDS = [1, 2, 3];

class Node {
  driver!: RaftDriver;
  controller!: MetadataController;
  private log!: PartitionLog;
  private storage!: DiskRaftStorage;
  readonly dir: string;

  constructor(
    readonly id: number,
    private readonly net: InMemoryRaftNetwork,
  ) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `raft-mlc-${id}-`));
  }

  async start(): Promise<void> {
    this.log = PartitionLog.open(this.dir, METADATA_TOPIC, 0, defaultLogConfig({ retentionMs: -1, segmentBytes: 64 * 1024 }), undefined, { strictRecovery: true, hadCleanShutdown: false });
    this.storage = DiskRaftStorage.open({ dir: path.join(this.dir, `${METADATA_TOPIC}-0`), store: this.log, voters: IDS });
    this.driver = new RaftDriver({ nodeId: this.id, voters: IDS, config: FAST_RAFT_CONFIG, storage: this.storage, transport: this.net.transport(this.id) });
    this.controller = new MetadataController(new RaftMetadataLogClient(this.driver), {
      nodeId: this.id,
      brokerIds: () => [this.id],
      defaultNumPartitions: () => 2,
      defaultReplicationFactor: () => 1,
      topicConfigProblem: () => null,
      nowMs: () => Date.now(),
    });
    await this.controller.load();
    this.driver.start();
  }

  stop(): void {
    this.driver.close();
    this.storage.close();
    this.log.close();
  }

  topics(): string[] {
    return [...this.controller.image.topicsByName.keys()].sort();
  }
}

function topic(name: string) {
  return { name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] };
}

/** Runs `body` against three started controllers, stopping them after. */
async function withCluster(body: (nodes: Node[], net: InMemoryRaftNetwork) => Promise<void>): Promise<void> {
  const net = new InMemoryRaftNetwork();
  const nodes = IDS.map((id) => new Node(id, net));
  // The drivers' timers are unref'd (they never hold a process open): while a test awaits only
  // them (an election after a cut), this keeps the event loop running.
  const keepAlive = setInterval(() => {}, 1000);
  try {
    for (const n of nodes) await n.start();
    await body(nodes, net);
  } finally {
    clearInterval(keepAlive);
    for (const n of nodes) n.stop();
  }
}

async function activeOne(nodes: readonly Node[], notId?: number): Promise<Node> {
  return waitFor('exactly one active controller', () => {
    const active = nodes.filter((n) => n.controller.active && n.id !== notId);
    return active.length === 1 && nodes.filter((n) => n.controller.active).length === 1 ? active[0] : undefined;
  });
}

test('one controller of three is active; its committed changes reach every controller, standbys refuse with NOT_CONTROLLER', () =>
  withCluster(async (nodes, net) => {
    const active = await activeOne(nodes);
    const [result] = await active.controller.createTopics([topic('orders')], false);
    assert.equal(result!.errorCode, ErrorCode.NONE, result!.errorMessage ?? '');
    // The answer comes after the active controller published the change.
    assert.deepEqual(active.topics(), ['orders']);
    await waitFor('every controller has the topic and the bootstrap metadata.version', () =>
      nodes.every((n) => n.topics().join() === 'orders' && n.controller.image.finalizedFeatures.has(METADATA_VERSION)));
    const standby = nodes.find((n) => n !== active)!;
    const [refused] = await standby.controller.createTopics([topic('payments')], false);
    assert.equal(refused!.errorCode, ErrorCode.NOT_CONTROLLER);
    assert.deepEqual(standby.topics(), ['orders']);
    // Same image on all three (topic id and partitions).
    const ids = nodes.map((n) => n.controller.image.topicsByName.get('orders')!.topicId);
    assert.equal(new Set(ids).size, 1);
  }));

test('after the active controller is cut off, another becomes active with every committed change, and the old one rejoins as a standby with the new changes', () =>
  withCluster(async (nodes, net) => {
    const first = await activeOne(nodes);
    assert.equal((await first.controller.createTopics([topic('a')], false))[0]!.errorCode, ErrorCode.NONE);
    net.isolate(first.id, true);
    // A change proposed by the cut-off leader cannot commit: it fails with NOT_CONTROLLER once it
    // steps down, and nothing of it is in its image.
    const lost = first.controller.createTopics([topic('lost')], false);
    const second = await waitFor('a new active controller', () => nodes.find((n) => n !== first && n.controller.active));
    assert.deepEqual(second.topics(), ['a']);
    assert.equal((await second.controller.createTopics([topic('b')], false))[0]!.errorCode, ErrorCode.NONE);
    const [lostResult] = await lost;
    assert.equal(lostResult!.errorCode, ErrorCode.NOT_CONTROLLER, lostResult!.errorMessage ?? '');
    assert.equal(first.controller.active, false);
    assert.deepEqual(first.topics(), ['a'], 'the pending change is not in the committed image');
    net.isolate(first.id, false);
    await waitFor('the old leader follows and has b', () => first.topics().join() === 'a,b');
    assert.equal(nodes.filter((n) => n.controller.active).length, 1);
  }));

test('a restarted controller replays the committed log into the same image', () =>
  withCluster(async (nodes, net) => {
    const active = await activeOne(nodes);
    for (const name of ['x', 'y']) assert.equal((await active.controller.createTopics([topic(name)], false))[0]!.errorCode, ErrorCode.NONE);
    const follower = nodes.find((n) => n !== active)!;
    await waitFor('the follower has x and y', () => follower.topics().join() === 'x,y');
    follower.stop();
    net.remove(follower.id);
    assert.equal((await active.controller.createTopics([topic('z')], false))[0]!.errorCode, ErrorCode.NONE);
    await follower.start();
    await waitFor('the restarted follower has x, y and z', () => follower.topics().join() === 'x,y,z');
    assert.equal(follower.controller.image.topicsByName.get('x')!.topicId, active.controller.image.topicsByName.get('x')!.topicId);
  }));
