// The KRaft side of a node whose controller.quorum.voters names more than one voter: the Raft
// driver on `__cluster_metadata-0` (DiskRaftStorage), the KRaft RPCs over TCP, the controller on
// a RaftMetadataLogClient, and the controller listener (controller.listener.names) with its own
// SocketServer and RequestRouter, as Kafka's ControllerServer: KRaft's Fetch shares api key 1
// with the broker's, so the two listeners cannot share a router. The broker side reaches the
// active controller through a ForwardingControllerChannel.
//
// A single voter keeps LocalMetadataLogClient (node/broker.ts): its metadata log predates the
// quorum's format (no LeaderChange batches, leader epoch 0) and its commit is one fsync with no
// election or fetch round on the way.
import { ControllerConnections, type ControllerEndpoint } from '../broker/controller-connection.js';
import type { BrokerConfig } from '../broker/config.js';
import { ForwardingControllerChannel } from '../broker/forwarding-controller-channel.js';
import { controllerApiHandlers } from '../controller/controller-apis.js';
import type { MetadataController, ControllerOptions } from '../controller/metadata-controller.js';
import { MetadataController as Controller } from '../controller/metadata-controller.js';
import { RaftMetadataLogClient } from '../controller/raft-metadata-log-client.js';
import { DiskRaftStorage, type MetadataPartitionStore } from '../controller/raft/disk-raft-storage.js';
import { parseQuorumVoters, raftConfigFromProperties, type RaftConfig, type VoterEndpoint } from '../controller/raft/quorum-config.js';
import { RaftDriver } from '../controller/raft/raft-driver.js';
import type { QuorumDescription } from '../controller/raft/raft-node.js';
import type { LeaderAndEpoch, SnapshotId } from '../controller/raft/types.js';
import { encodeSnapshotBatches } from '../controller/metadata-log.js';
import { METADATA_TOPIC } from '../metadata/topic-names.js';
import { MetadataRecordType } from '../metadata/records.js';
import { ErrorCode } from '../protocol/errors.js';
import { DescribeQuorumRequest } from '../protocol/messages/DescribeQuorumRequest.js';
import { DescribeQuorumResponse } from '../protocol/messages/DescribeQuorumResponse.js';
import { describeQuorumHandler, raftRpcHandlers } from '../controller/raft/raft-rpc-handlers.js';
import { RaftTcpTransport } from '../controller/raft/raft-tcp-transport.js';
import { loggerFor, type Logger } from '../logger.js';
import { METADATA_VERSION } from '../metadata/features.js';
import { ListenerSockets } from '../server/listener-sockets.js';
import { RequestRouter } from '../server/request-router.js';
import { SocketServer } from '../server/socket-server.js';
import { ConfigError } from '../broker/config.js';

const QUORUM_KEYS = [
  'controller.quorum.election.timeout.ms', 'controller.quorum.fetch.timeout.ms', 'controller.quorum.election.backoff.max.ms',
  'controller.quorum.request.timeout.ms', 'controller.quorum.retry.backoff.ms',
  'metadata.log.max.record.bytes.between.snapshots', 'metadata.log.max.snapshot.interval.ms',
];

/** How long start-up waits for the quorum to have a leader and this node to have its committed log. */
const CATCH_UP_TIMEOUT_MS = 120_000;
/** Forwarded changes are retried this long (Kafka's request.timeout.ms default). */
const FORWARD_TIMEOUT_MS = 30_000;
const FORWARD_RETRY_BACKOFF_MS = 50;

/** The voters of controller.quorum.voters; a multi-voter quorum when there is more than one. */
export function quorumVoters(config: BrokerConfig): VoterEndpoint[] {
  return parseQuorumVoters(config.string('controller.quorum.voters'));
}

export function raftConfigOf(config: BrokerConfig): RaftConfig {
  const props = new Map<string, string>();
  for (const key of QUORUM_KEYS) {
    const v = config.raw(key);
    if (v !== null) props.set(key, v);
  }
  return raftConfigFromProperties(props);
}

/** The controller listener names, upper case. */
export function controllerListenerNames(config: BrokerConfig): string[] {
  return config.list('controller.listener.names').map((n) => n.toUpperCase());
}

/** DescribeQuorum (v2) asked of the leader's controller listener, as the core's description. */
async function describeRemote(connections: ControllerConnections, leader: ControllerEndpoint, fallback: { readonly notLeader: LeaderAndEpoch }): Promise<QuorumDescription | { readonly notLeader: LeaderAndEpoch }> {
  const req = DescribeQuorumRequest.defaults();
  req.topics = [{ topicName: METADATA_TOPIC, partitions: [{ partitionIndex: 0 }] }];
  const res = await connections.send(leader, DescribeQuorumRequest.apiKey, 2, DescribeQuorumRequest, DescribeQuorumResponse, req);
  const p = res.topics[0]?.partitions[0];
  if (res.errorCode !== ErrorCode.NONE || p === undefined || p.errorCode !== ErrorCode.NONE) return fallback;
  const replica = (r: (typeof p.currentVoters)[number]) => ({ replicaId: r.replicaId, logEndOffset: Number(r.logEndOffset), lastFetchTimestamp: Number(r.lastFetchTimestamp), lastCaughtUpTimestamp: Number(r.lastCaughtUpTimestamp) });
  return { leaderId: p.leaderId, leaderEpoch: p.leaderEpoch, highWatermark: Number(p.highWatermark), currentVoters: p.currentVoters.map(replica), observers: p.observers.map(replica) };
}

export class QuorumNode {
  private fenceTimer: NodeJS.Timeout | null = null;

  private constructor(
    readonly driver: RaftDriver,
    readonly controller: MetadataController,
    readonly channel: ForwardingControllerChannel,
    /** The controller listener's router: the broker side adds the admin APIs it serves there.
     * Null on a broker-only node, an observer of the quorum with no controller listener. */
    readonly router: RequestRouter | null,
    private readonly transport: RaftTcpTransport,
    private readonly server: SocketServer | null,
    private readonly connections: ControllerConnections,
    private readonly storage: DiskRaftStorage,
    private readonly log: Logger,
    /** DescribeQuorum's answer from wherever the leader is (this node's view when it cannot ask). */
    readonly describeQuorum: () => Promise<QuorumDescription | { readonly notLeader: LeaderAndEpoch }>,
    /** Topic ids that committed records removed while the node caught up: start-up deletes their
     * partition directories (a snapshot installed over older state names them too). */
    readonly removedTopicIds: ReadonlySet<string>,
  ) {}

  /**
   * Opens the quorum on the metadata partition, serves the controller listener, starts the
   * driver and waits until a leader is known and this node has applied the committed log.
   */
  static async start(opts: {
    config: BrokerConfig;
    clusterId: string;
    voters: readonly VoterEndpoint[];
    metadataDir: string;
    store: MetadataPartitionStore;
    /** Null: this node has no controller role and follows the quorum as an observer. */
    controllerSockets: ListenerSockets | null;
    controllerOptions: (controller: () => MetadataController) => ControllerOptions;
  }): Promise<QuorumNode> {
    const { config, clusterId, voters } = opts;
    const nodeId = config.nodeId;
    const log = loggerFor('quorum');
    const voter = voters.some((v) => v.id === nodeId);
    if (voter !== (opts.controllerSockets !== null)) {
      throw new ConfigError(`Invalid value '${config.string('controller.quorum.voters')}' for configuration 'controller.quorum.voters': node.id ${nodeId} ${voter ? 'is a voter but has no controller listener' : 'is not a voter but has a controller listener'}`);
    }
    const raftConfig = raftConfigOf(config);
    const ids = voters.map((v) => v.id);
    const storage = DiskRaftStorage.open({ dir: opts.metadataDir, store: opts.store, voters: ids });
    const transport = new RaftTcpTransport({ nodeId, clusterId, voters, requestTimeoutMs: raftConfig.requestTimeoutMs, log });
    let controllerRef: MetadataController | null = null;
    // Snapshots hold the committed image as records (metadata.log.max.record.bytes.between.snapshots):
    // the driver asks right after applying up to the snapshot's end, so the image is exactly that.
    const snapshotSource = (id: SnapshotId): Buffer[][] => {
      const { records, offset } = controllerRef!.snapshotRecords();
      if (offset >= BigInt(id.endOffset)) throw new Error(`snapshot ${id.endOffset}-${id.epoch} asked of an image at offset ${offset}`);
      return [...encodeSnapshotBatches(records)];
    };
    const driver = new RaftDriver({ nodeId, voters: ids, config: raftConfig, storage, transport, log, snapshotSource });
    const client = new RaftMetadataLogClient(driver, log);
    const controller: MetadataController = new Controller(client, opts.controllerOptions(() => controllerRef!));
    controllerRef = controller;
    const removedTopicIds = new Set<string>();
    let catchingUp = true;
    controller.publisher.subscribe(({ records }) => {
      if (!catchingUp) return;
      for (const r of records) if (r.type === MetadataRecordType.RemoveTopicRecord) removedTopicIds.add(r.data.topicId);
    });
    await controller.load();

    const names = controllerListenerNames(config);
    // Voters serve the KRaft RPCs and the controller's APIs; an observer only fetches.
    let router: RequestRouter | null = null;
    let server: SocketServer | null = null;
    if (opts.controllerSockets !== null) {
      router = new RequestRouter(loggerFor('controller-requests'));
      for (const h of raftRpcHandlers({
        nodeId,
        clusterId,
        controllerListenerNames: names,
        voters,
        nextInboundCorrelationId: () => transport.nextInboundCorrelationId(),
        deliver: (r) => transport.deliver(r),
        describeQuorum: () => describe(),
      })) {
        router.register(h);
      }
      for (const h of controllerApiHandlers(controller, clusterId)) router.register(h);
      server = new SocketServer(router.frameHandler, config.serverLimits, loggerFor('network'));
      server.adopt(opts.controllerSockets);
    }
    const connections = new ControllerConnections({ clientId: `broker-${nodeId}-to-controller`, requestTimeoutMs: raftConfig.requestTimeoutMs * 5 });
    const activeController = (): ControllerEndpoint | null => {
      const leader = driver.leaderAndEpoch();
      return voters.find((v) => v.id === leader.leaderId) ?? null;
    };
    const channel = new ForwardingControllerChannel({
      local: controller,
      activeController,
      connections,
      clusterId,
      brokerId: nodeId,
      timeoutMs: FORWARD_TIMEOUT_MS,
      retryBackoffMs: FORWARD_RETRY_BACKOFF_MS,
      nowMs: () => Date.now(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    });
    // DescribeQuorum is answered by the leader; elsewhere it is asked of the leader, so that
    // `metadata-quorum` may name any node (Kafka's brokers forward it to the active controller).
    const describe = async (): Promise<QuorumDescription | { readonly notLeader: LeaderAndEpoch }> => {
      const d = await driver.describeQuorum();
      if (!('notLeader' in d)) return d;
      const leader = voters.find((v) => v.id === d.notLeader.leaderId);
      if (leader === undefined || leader.id === nodeId) return d;
      try {
        return await describeRemote(connections, leader, d);
      } catch {
        return d;
      }
    };
    const node = new QuorumNode(driver, controller, channel, router, transport, server, connections, storage, log, describe, removedTopicIds);
    driver.start();
    log.info({ nodeId, voters: voters.map((v) => `${v.id}@${v.host}:${v.port}`), observer: !voter }, voter ? 'joining the metadata quorum' : 'following the metadata quorum as an observer');
    try {
      await node.caughtUp();
    } catch (err) {
      await node.stop();
      throw err;
    }
    catchingUp = false; // the broker side follows later removals itself
    node.startFencing(config.int('broker.heartbeat.interval.ms'));
    return node;
  }

  /** Waits for a leader and for this node's image to hold every committed record (and the
   * cluster's metadata.version, which the first active controller writes). */
  private async caughtUp(): Promise<void> {
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    for (;;) {
      if (this.driver.failed !== undefined) throw this.driver.failed;
      const s = this.driver.status();
      if (s.leaderId >= 0 && s.highWatermark > 0 && s.appliedOffset >= s.highWatermark && this.controller.image.finalizedFeatures.has(METADATA_VERSION)) {
        this.log.info({ leaderId: s.leaderId, epoch: s.epoch, highWatermark: s.highWatermark }, 'caught up with the metadata quorum');
        return;
      }
      if (Date.now() > deadline) throw new Error(`no metadata quorum within ${CATCH_UP_TIMEOUT_MS} ms (leader ${s.leaderId}, epoch ${s.epoch}, high watermark ${s.highWatermark}): are a majority of controller.quorum.voters up?`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** The active controller fences brokers whose session ran out, checked every heartbeat interval. */
  private startFencing(intervalMs: number): void {
    this.fenceTimer = setInterval(() => {
      if (!this.controller.active) return;
      void this.controller.fenceExpiredBrokers().then((r) => {
        if (r.value !== null && r.value > 0) this.log.info({ fenced: r.value }, 'fenced brokers whose session expired');
      });
    }, intervalMs);
    this.fenceTimer.unref();
  }

  /** The controller listeners, as NAME://host:port (none on an observer). */
  get controllerListeners(): string[] {
    return this.server?.bound.map((b) => `${b.name}://${b.host}:${b.boundPort}`) ?? [];
  }

  /** DescribeQuorum for the broker's listeners (kafka-metadata-quorum --bootstrap-server). */
  brokerListenerHandlers(config: BrokerConfig, voters: readonly VoterEndpoint[]) {
    return [describeQuorumHandler({ controllerListenerNames: controllerListenerNames(config), voters, describeQuorum: this.describeQuorum }, { anyListener: true })];
  }

  /** Hands leadership over when leading (EndQuorumEpoch), then stops the quorum side. */
  async stop(): Promise<void> {
    if (this.fenceTimer !== null) clearInterval(this.fenceTimer);
    this.connections.close();
    if (this.driver.status().role === 'leader') {
      await this.driver.resign();
      // Let the EndQuorumEpoch requests go out before the connections close.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    this.driver.close();
    this.transport.close();
    this.server?.disconnectAll();
    await this.server?.close();
    this.storage.close();
  }
}
