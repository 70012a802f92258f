// The composition root of a Tributary node: storage, the metadata controller (single voter)
// and the broker side, wired together; the only place that sees all three. Also the library
// entry point: `await Broker.start({ dataDir })` or `Broker.start({ inMemory: true })` on a free
// port.
import { MetadataController, type ControllerOptions } from '../controller/metadata-controller.js';
import { METADATA_TOPIC, MetadataLog, type MetadataLogStore } from '../controller/metadata-log.js';
import { LocalMetadataLogClient } from '../controller/metadata-log-client.js';
import { readBootstrapCheckpoint } from '../controller/bootstrap-checkpoint.js';
import { SingleVoterSnapshots } from '../controller/single-voter-snapshots.js';
import { BrokerServer } from '../broker/broker.js';
import { serveDedicatedControllerApis } from '../broker/dedicated-controller-apis.js';
import { BrokerConfig, ConfigError } from '../broker/config.js';
import { newClusterId, readOrWriteMetaProperties } from '../broker/meta-properties.js';
import type { ReplicaManager } from '../broker/replica-manager.js';
import { cleanerTuningFor, logConfigFor, topicConfigProblem } from '../broker/topic-config.js';
import { loggerFor, type Logger } from '../logger.js';
import { MetadataRecordType } from '../metadata/records.js';
import { compress, decompress } from '../protocol/records/compression.js';
import { lockLogDirs, type LogDirLock } from '../storage/dir-lock.js';
import { LogManager } from '../storage/log-manager.js';
import { PartitionLog } from '../storage/partition-log.js';
import { ListenerSockets, type ListenerSpec } from '../server/listener-sockets.js';
import type { VoterEndpoint } from '../controller/raft/quorum-config.js';
import { controllerListenerNames, QuorumNode, quorumVoters, raftConfigOf } from './quorum-node.js';
import type { PartitionStore } from '../storage/partition-store.js';
import { readWholeLog } from '../storage/read-whole-log.js';

export interface BrokerStartOptions {
  /** A full configuration (server.properties); the other options are shorthands for tests. */
  config?: BrokerConfig;
  /** log.dirs; a temporary directory is not created for you unless inMemory is set. */
  dataDir?: string;
  /** Keep partition logs in memory: nothing is written to disk. */
  inMemory?: boolean;
  /** Listener port; 0 (the default when no config is given) picks a free one. */
  port?: number;
  /** Listener host; default 127.0.0.1. */
  host?: string;
  /** Extra server.properties settings. */
  overrides?: Record<string, string>;
}

const METADATA_MAX_READ_BYTES = 8 * 1024 * 1024;
/** How often a single voter checks the snapshot interval trigger (and retries a deferred snapshot). */
const SNAPSHOT_CHECK_MS = 5000;
const TIMESTAMP_LOOKUP_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

export class Broker {
  private stopping: Promise<void> | null = null;
  /** A single voter's snapshot trigger (single-voter-snapshots.ts), stopped before the logs close. */
  private snapshotTimer: { stop(): void } | null = null;

  private constructor(
    readonly config: BrokerConfig,
    private readonly logs: LogManager,
    readonly controller: MetadataController,
    /** The broker side; null on a dedicated controller (process.roles=controller). */
    private readonly server: BrokerServer | null,
    readonly clusterId: string,
    /** One per data directory, held from before the first read until stop() has closed the logs. */
    private readonly dirLocks: readonly LogDirLock[],
    /** A node of a multi-voter quorum: its Raft side and controller listener. */
    readonly quorum: QuorumNode | null = null,
  ) {}

  static async start(opts: BrokerStartOptions = {}): Promise<Broker> {
    const config = opts.config ?? configFromOptions(opts);
    const inMemory = opts.inMemory === true;
    const log = loggerFor('broker');
    // First of all the ports: a port in use fails here, naming its listener, before any
    // directory is locked, created or read. Clients that connect meanwhile wait for serving.
    const quorum = quorumOf(config, inMemory);
    const listeners = await ListenerSockets.bind(quorum === null ? config.listenerSpecs : quorum.brokerSpecs, loggerFor('network'));
    let controllerSockets: ListenerSockets | null = null;
    let dirLocks: readonly LogDirLock[] = [];
    try {
      if (quorum?.controller === true) controllerSockets = await ListenerSockets.bind(quorum.controllerSpecs, loggerFor('network'));
      // Before anything is read: a second broker on the same directories stops here.
      dirLocks = inMemory ? [] : lockLogDirs(dataDirs(config));
      return await Broker.startLocked(config, inMemory, dirLocks, listeners, log, quorum === null ? null : { voters: quorum.voters, sockets: controllerSockets, broker: quorum.broker });
    } catch (err) {
      await listeners.close();
      await controllerSockets?.close();
      for (const l of dirLocks) l.release();
      throw err;
    }
  }

  private static async startLocked(config: BrokerConfig, inMemory: boolean, dirLocks: readonly LogDirLock[], listeners: ListenerSockets, log: Logger, quorum: QuorumStart | null): Promise<Broker> {
    const nodeId = config.nodeId;
    const logDirs = config.logDirs;
    const clusterId = inMemory ? config.raw('cluster.id') ?? newClusterId() : readOrWriteMetaProperties(logDirs, nodeId, config.raw('cluster.id'), config.list('controller.quorum.voters').length);
    const logs = openLogs(config, inMemory);
    try {
      if (quorum !== null) return await Broker.startQuorumNode(config, logs, clusterId, dirLocks, listeners, log, quorum);
      return await Broker.startWithLogs(config, logs, clusterId, dirLocks, listeners, log);
    } catch (err) {
      // Descriptors go; the clean-shutdown marker is not written (the next start checks again).
      logs.abandon();
      throw err;
    }
  }

  private static async startWithLogs(config: BrokerConfig, logs: LogManager, clusterId: string, dirLocks: readonly LogDirLock[], listeners: ListenerSockets, log: Logger): Promise<Broker> {
    const nodeId = config.nodeId;
    logStartupRecovery(logs, log);

    // The metadata log is a partition like any other; it is flushed on every append because
    // a committed metadata change must survive power loss, not only a process crash.
    const metadataStore = logs.getOrCreate(METADATA_TOPIC, 0, { ...logConfigFor(config, new Map()), retentionMs: -1, retentionBytes: -1, segmentBytes: config.int('metadata.log.segment.bytes') });
    // Topic ids removed by committed records: the only reason start-up deletes a partition dir.
    const removedTopicIds = new Set<string>();
    const metadataDir = logs.partitionDir(METADATA_TOPIC, 0);
    // On disk, snapshots bound the metadata log (single-voter-snapshots.ts); in memory there is nothing to replay.
    const snapshots = metadataDir === null || !(metadataStore instanceof PartitionLog) ? null : SingleVoterSnapshots.open({
      dir: metadataDir,
      store: metadataStore,
      log,
      ...raftConfigOf(config),
      nowMs: () => Date.now(),
    });
    const metadataLog = new MetadataLog(partitionMetadataStore(metadataStore, snapshots), (r) => {
      if (r.type === MetadataRecordType.RemoveTopicRecord) removedTopicIds.add(r.data.topicId);
    });
    // One voter: a change is committed once its append to the local metadata log is durable.
    const client = new LocalMetadataLogClient(metadataLog, yieldToEventLoop, () => snapshots?.takeLoadedRecords() ?? []);
    const controller: MetadataController = new MetadataController(client, controllerOptions(config, () => controller, logs.inMemory));
    await controller.load();
    const server = await BrokerServer.start({
      config,
      logs,
      clusterId,
      metadata: controller.publisher,
      controller,
      removedTopicIds,
      listeners,
      log,
    });
    const broker = new Broker(config, logs, controller, server, clusterId, dirLocks);
    // Not while partition directories of deleted topics wait for deletion: start-up finds those
    // by the RemoveTopicRecords, which a snapshot would take out of the log.
    if (snapshots !== null) broker.snapshotTimer = startSnapshotting(snapshots, controller, log, config.long('metadata.log.max.snapshot.interval.ms'), () => server.replicas.pendingLogWork > 0);
    return broker;
  }

  /**
   * A node of a multi-voter quorum (quorum-node.ts): the controller on the Raft driver, the broker
   * side forwarding changes to the active controller and heartbeating to it. The image starts
   * empty and fills from the committed log; start-up waits until it has caught up.
   */
  private static async startQuorumNode(config: BrokerConfig, logs: LogManager, clusterId: string, dirLocks: readonly LogDirLock[], listeners: ListenerSockets, log: Logger, quorum: QuorumStart): Promise<Broker> {
    const nodeId = config.nodeId;
    logStartupRecovery(logs, log);
    const store = logs.getOrCreate(METADATA_TOPIC, 0, { ...logConfigFor(config, new Map()), retentionMs: -1, retentionBytes: -1, segmentBytes: config.int('metadata.log.segment.bytes') });
    const metadataDir = logs.partitionDir(METADATA_TOPIC, 0);
    if (!(store instanceof PartitionLog) || metadataDir === null) throw new ConfigError('a node of a multi-voter quorum keeps its metadata log on disk (not inMemory)');
    const node = await QuorumNode.start({
      config,
      clusterId,
      voters: quorum.voters,
      metadataDir,
      store,
      controllerSockets: quorum.sockets,
      controllerOptions: (controller) => controllerOptions(config, controller, false),
    });
    if (!quorum.broker) {
      serveDedicatedControllerApis({ router: node.router!, controller: node.controller, metadata: node.controller.publisher, config, clusterId });
      return new Broker(config, logs, node.controller, null, clusterId, dirLocks, node);
    }
    try {
      const server = await BrokerServer.start({
        config,
        logs,
        clusterId,
        metadata: node.controller.publisher,
        controller: node.channel,
        removedTopicIds: node.removedTopicIds,
        listeners,
        log,
        ...(node.router !== null ? { controllerListener: { router: node.router, controller: node.controller } } : {}),
        heartbeatIntervalMs: config.int('broker.heartbeat.interval.ms'),
        extraHandlers: node.brokerListenerHandlers(config, quorum.voters),
      });
      return new Broker(config, logs, node.controller, server, clusterId, dirLocks, node);
    } catch (err) {
      await node.stop();
      throw err;
    }
  }

  get replicas(): ReplicaManager {
    return this.brokerSide.replicas;
  }

  /** Listener name -> advertised host:port (a dedicated controller's: its controller listeners). */
  get listeners(): string[] {
    return this.server?.listeners ?? this.quorum?.controllerListeners ?? [];
  }

  /** Port of the first listener. */
  get port(): number {
    return this.brokerSide.port;
  }

  /** `host:port` of the first listener, for a client's bootstrap.servers. */
  get bootstrapServers(): string {
    return this.brokerSide.bootstrapServers;
  }

  private get brokerSide(): BrokerServer {
    if (this.server === null) throw new Error(`node ${this.config.nodeId} is a dedicated controller (process.roles=controller): it has no broker side`);
    return this.server;
  }

  /**
   * Clean shutdown: answer parked fetches, drop every connection, close the logs (checkpoints and
   * the clean-shutdown marker written), and only then give up the ports and the directory locks.
   * Closing the logs takes a few fsyncs per partition, run together (LogManager.shutdown); a
   * port released before that let a restart script that waits for the port start a second broker
   * on data this one was still writing.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    try {
      await this.server?.quiesce();
      this.snapshotTimer?.stop();
      // The quorum side goes before the logs close: it writes to the metadata partition.
      await this.quorum?.stop();
      // What the broker does between the signal and its exit, as two lines.
      const log = loggerFor('broker');
      const partitions = this.logs.logCount;
      const started = performance.now();
      log.info({ partitions }, `closing ${partitions} partitions`);
      await this.logs.shutdown();
      const closeMs = Math.round(performance.now() - started);
      log.info({ partitions, closeMs }, `closed ${partitions} partitions in ${closeMs} ms`);
    } finally {
      await this.server?.closeListeners();
      for (const l of this.dirLocks) l.release();
    }
  }
}

/** The controller's settings from the configuration; `controller` is read when a plan runs. */
function controllerOptions(config: BrokerConfig, controller: () => MetadataController, inMemory: boolean): ControllerOptions {
  const nodeId = config.nodeId;
  const bootstrapRecords = inMemory ? null : readBootstrapCheckpoint(config.raw('metadata.log.dir') ?? config.logDirs[0]!);
  // A broker counts itself until its registration commits; a dedicated controller hosts nothing.
  const self = config.roles.includes('broker') ? [nodeId] : [];
  return {
    nodeId,
    brokerIds: () => {
      const live = controller().image.liveBrokers().map((b) => b.brokerId);
      return live.length > 0 ? live : self;
    },
    brokerSessionTimeoutMs: config.int('broker.session.timeout.ms'),
    defaultNumPartitions: () => config.int('num.partitions'),
    defaultReplicationFactor: () => config.int('default.replication.factor'),
    topicConfigProblem,
    nowMs: () => Date.now(),
    ...(bootstrapRecords !== null ? { bootstrapRecords } : {}),
  };
}

interface QuorumStart {
  readonly voters: readonly VoterEndpoint[];
  /** The controller listener's sockets; null on a broker-only node (an observer). */
  readonly sockets: ListenerSockets | null;
  /** Whether this node has the broker role (a dedicated controller has no broker side). */
  readonly broker: boolean;
}

/**
 * A multi-voter controller.quorum.voters: the listeners split into the broker's and the
 * controller's (controller.listener.names); null for a single voter (one listener set, as before).
 * process.roles decides which this node has: `broker,controller` both, `controller` only the
 * controller listener (a dedicated controller, a voter), `broker` only broker listeners (an
 * observer of the quorum, never a voter), with Kafka's checks on each.
 */
function quorumOf(config: BrokerConfig, inMemory: boolean): QuorumLayout | null {
  const voters = quorumVoters(config);
  if (voters.length <= 1) return null;
  const roles = config.roles;
  const broker = roles.includes('broker');
  const controller = roles.includes('controller');
  const voter = voters.some((v) => v.id === config.nodeId);
  if (controller && !voter) {
    throw new ConfigError(`Invalid value '${config.string('controller.quorum.voters')}' for configuration 'controller.quorum.voters': node.id ${config.nodeId} has the controller role but is not a voter`);
  }
  if (!controller && voter) {
    throw new ConfigError(`Invalid value '${roles.join(',')}' for configuration 'process.roles': node.id ${config.nodeId} is a voter in controller.quorum.voters, so it needs the controller role`);
  }
  if (inMemory) throw new ConfigError('a node of a multi-voter quorum keeps its metadata log on disk (not inMemory)');
  const names = new Set(controllerListenerNames(config));
  const specs = config.listenerSpecs;
  const controllerSpecs = specs.filter((l) => names.has(l.name.toUpperCase()));
  const brokerSpecs = specs.filter((l) => !names.has(l.name.toUpperCase()));
  const listeners = config.string('listeners');
  if (controller && controllerSpecs.length === 0) {
    throw new ConfigError(`Invalid value '${listeners}' for configuration 'listeners': a controller needs a listener named in controller.listener.names (${[...names].join(',')})`);
  }
  if (!controller && controllerSpecs.length > 0) {
    throw new ConfigError(`Invalid value '${listeners}' for configuration 'listeners': the listeners must not contain controller listener names (${[...names].join(',')}) when process.roles=broker`);
  }
  if (broker && brokerSpecs.length === 0) throw new ConfigError(`Invalid value '${listeners}' for configuration 'listeners': a broker needs a listener besides the controller's`);
  if (!broker && brokerSpecs.length > 0) {
    throw new ConfigError(`Invalid value '${listeners}' for configuration 'listeners': the listeners must only contain controller listeners (${[...names].join(',')}) when process.roles=controller`);
  }
  return { voters, brokerSpecs, controllerSpecs, broker, controller };
}

interface QuorumLayout {
  readonly voters: VoterEndpoint[];
  readonly brokerSpecs: ListenerSpec[];
  readonly controllerSpecs: ListenerSpec[];
  /** process.roles has broker / controller. */
  readonly broker: boolean;
  readonly controller: boolean;
}

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

function configFromOptions(opts: BrokerStartOptions): BrokerConfig {
  const props = new Map<string, string>();
  const host = opts.host ?? '127.0.0.1';
  props.set('listeners', `PLAINTEXT://${host}:${opts.port ?? 0}`);
  if (opts.dataDir !== undefined) props.set('log.dirs', opts.dataDir);
  else if (opts.inMemory !== true) throw new ConfigError("Broker.start needs 'dataDir' (or inMemory: true)");
  // Embedded brokers serve tests and tools: a group forms at once rather than after Kafka's 3 s
  // wait for more members (an override or a full config keeps Kafka's default).
  props.set('group.initial.rebalance.delay.ms', '0');
  for (const [k, v] of Object.entries(opts.overrides ?? {})) props.set(k, v);
  return BrokerConfig.fromProperties(props);
}

/** The directories this broker writes: log.dirs, and metadata.log.dir when it is set apart. */
function dataDirs(config: BrokerConfig): string[] {
  const metadataDir = config.raw('metadata.log.dir');
  return metadataDir === null || metadataDir === '' ? config.logDirs : [...config.logDirs, metadataDir];
}

/** Bound on one stored batch's records once decompressed, for the log cleaner. */
const CLEANER_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

function openLogs(config: BrokerConfig, inMemory: boolean): LogManager {
  return LogManager.open({
    logDirs: config.logDirs,
    inMemory,
    defaultConfig: logConfigFor(config, new Map()),
    retentionCheckIntervalMs: config.long('log.retention.check.interval.ms'),
    // Timestamp lookups inside compressed batches. Bounded well below what a hostile batch could
    // ask for: produce stores batches without decompressing them, so this is where a bomb lands.
    decompress: (type: number, data: Buffer) => decompress(type, data, TIMESTAMP_LOOKUP_MAX_UNCOMPRESSED_BYTES),
    // Every metadata batch was fsynced before it was acknowledged: only a torn last batch may go.
    strictRecoveryTopics: [METADATA_TOPIC],
    cleaner: {
      enabled: config.bool('log.cleaner.enable'),
      // server.properties only: BrokerServer applies the dynamic values (reconfigure) as it starts.
      ...cleanerTuningFor(config),
      // Stored batches passed produce's checks, decompressed bound included (max.message.bytes
      // is far below this); a corrupt one marks its partition uncleanable.
      maxUncompressedBytes: CLEANER_MAX_UNCOMPRESSED_BYTES,
      codec: {
        decompress: (type: number, data: Buffer) => decompress(type, data, CLEANER_MAX_UNCOMPRESSED_BYTES),
        compress: (type: number, data: Buffer) => compress(type, data),
      },
    },
  });
}

/**
 * Asks for a snapshot after every committed change (the bytes trigger) and every so often (the
 * interval trigger, when changes came since the last one), except while `deferred()`. A failed
 * write is logged; the log is kept whole then, and the next trigger tries again.
 */
function startSnapshotting(snapshots: SingleVoterSnapshots, controller: MetadataController, log: Logger, intervalMs: number, deferred: () => boolean): { stop(): void } {
  let stopped = false;
  const check = () => {
    if (stopped || deferred()) return;
    snapshots.maybeSnapshot(() => controller.snapshotRecords(), yieldToEventLoop).catch((err: unknown) => {
      if (!stopped) log.warn({ error: (err as Error).message }, 'could not write a metadata snapshot');
    });
  };
  controller.publisher.subscribe(() => setImmediate(check));
  // Also retries a snapshot that was deferred; the check itself is a comparison or two.
  const timer = setInterval(check, intervalMs > 0 ? Math.min(intervalMs, SNAPSHOT_CHECK_MS) : SNAPSHOT_CHECK_MS);
  timer.unref();
  return {
    stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
}

export function partitionMetadataStore(store: PartitionStore, snapshots: SingleVoterSnapshots | null = null): MetadataLogStore {
  return {
    get maxBatchBytes() {
      return Math.min(store.config.maxMessageBytes, store.config.segmentBytes);
    },
    append(batches: readonly Buffer[]): number {
      for (const batch of batches) store.append(batch, { leaderEpoch: 0, assignOffsets: true });
      store.flush();
      snapshots?.noteAppended(batches.reduce((n, b) => n + b.length, 0));
      store.highWatermark = store.logEndOffset;
      return store.logEndOffset;
    },
    readAll: () => readWholeLog(store, METADATA_MAX_READ_BYTES),
    get startOffset() {
      return store.logStartOffset;
    },
    get endOffset() {
      return store.logEndOffset;
    },
    locate: (offset: number) => (store instanceof PartitionLog ? store.locate(offset) : null),
  };
}

/** One line per log dir (clean shutdown or not) and one per partition that start-up validated. */
function logStartupRecovery(logs: LogManager, log: Logger): void {
  for (const s of logs.startup) log.info({ logDir: s.logDir, partitions: s.partitions, hadCleanShutdown: s.hadCleanShutdown }, 'log dir loaded');
  for (const { topic, partition, store } of logs.all()) {
    if (!(store instanceof PartitionLog) || store.loadStats.recoveredSegments === 0) continue;
    log.info({ topic, partition, ...store.loadStats }, 'recovered partition');
  }
}
