// A Tributary node: storage, the metadata controller (single voter), the replica manager and
// the request handlers behind the socket server. Also the library entry point:
// `await Broker.start({ dataDir })` or `Broker.start({ inMemory: true })` on a free port.
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MAX_RECORDS_PER_USER_OP, MetadataController, newTopicId } from '../controller/metadata-controller.js';
import { MetadataRecordType, type MetadataImage, type MetadataRecord, type TopicImage } from '../controller/metadata-image.js';
import { isInternalTopic } from '../controller/topic-names.js';
import { METADATA_TOPIC, MetadataLog, type MetadataLogStore } from '../controller/metadata-log.js';
import { loggerFor, type Logger } from '../logger.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { decompress } from '../protocol/records/compression.js';
import { lockLogDirs, type LogDirLock } from '../storage/dir-lock.js';
import { StorageStartupError } from '../storage/errors.js';
import { LogManager } from '../storage/log-manager.js';
import { PartitionLog } from '../storage/partition-log.js';
import type { PartitionStore } from '../storage/partition-store.js';
import { readWholeLog } from '../storage/read-whole-log.js';
import { RequestRouter } from '../server/request-router.js';
import { SocketServer, parseListeners, type BoundListener } from '../server/socket-server.js';
import type { BrokerContext, BrokerEndpoint } from './broker-context.js';
import { BrokerMetrics, parseMetricsListener, startMetricsServer } from './broker-metrics.js';
import { ClientTelemetry } from './client-telemetry.js';
import { BrokerConfig, ConfigError } from './config.js';
import { GroupCoordinator, realScheduler } from './group/group-coordinator.js';
import { groupCoordinatorConfig, offsetsTopicStore } from './group/offsets-topic.js';
import { registerHandlers } from './handlers/index.js';
import { ControllerMutationQuota } from './controller-mutation-quota.js';
import { newClusterId, readOrWriteMetaProperties } from './meta-properties.js';
import { LOG_WORK_SLICE_MS, ReplicaManager } from './replica-manager.js';
import { logConfigFor, recordRulesFor, topicConfigProblem, topicConfigValue, type RecordRules } from './topic-config.js';
import type { LogConfig } from '../storage/config.js';

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
/** Records one auto-creation commit writes at most: a few milliseconds of work, then the event
 * loop gets a turn before the next commit of the same request. */
const AUTO_CREATE_CHUNK_RECORDS = 100;
/** Partition logs a metadata change may create (or delete) before its commit returns. */
const SYNC_LOG_WORK_MAX = 16;
const TIMESTAMP_LOOKUP_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

export class Broker {
  /** Set once during start(); null only while start() runs. */
  private groupCoordinator: GroupCoordinator | null = null;
  /** The /metrics listener, when `metrics.listener` is set. */
  private metricsServer: Server | null = null;
  private stopping: Promise<void> | null = null;

  private constructor(
    readonly config: BrokerConfig,
    private readonly logs: LogManager,
    readonly controller: MetadataController,
    readonly replicas: ReplicaManager,
    private readonly server: SocketServer,
    readonly clusterId: string,
    private readonly log: Logger,
    private readonly mutationQuota: ControllerMutationQuota,
    /** One per data directory, held from before the first read until stop() has closed the logs. */
    private readonly dirLocks: readonly LogDirLock[],
  ) {}

  static async start(opts: BrokerStartOptions = {}): Promise<Broker> {
    const config = opts.config ?? configFromOptions(opts);
    const inMemory = opts.inMemory === true;
    // Before anything is read: a second broker on the same directories stops here.
    const dirLocks = inMemory ? [] : lockLogDirs(dataDirs(config));
    try {
      return await Broker.startLocked(config, inMemory, dirLocks);
    } catch (err) {
      for (const l of dirLocks) l.release();
      throw err;
    }
  }

  private static async startLocked(config: BrokerConfig, inMemory: boolean, dirLocks: readonly LogDirLock[]): Promise<Broker> {
    const log = loggerFor('broker');
    const nodeId = config.nodeId;
    const logDirs = config.logDirs;
    const clusterId = inMemory ? config.raw('cluster.id') ?? newClusterId() : readOrWriteMetaProperties(logDirs, nodeId, config.raw('cluster.id'));
    const logs = openLogs(config, inMemory);
    try {
      return await Broker.startWithLogs(config, logs, clusterId, dirLocks, log);
    } catch (err) {
      // Descriptors go; the clean-shutdown marker is not written (the next start checks again).
      logs.abandon();
      throw err;
    }
  }

  private static async startWithLogs(config: BrokerConfig, logs: LogManager, clusterId: string, dirLocks: readonly LogDirLock[], log: Logger): Promise<Broker> {
    const nodeId = config.nodeId;
    const brokerDefaults = logConfigFor(config, new Map());
    logStartupRecovery(logs, log);

    // The metadata log is a partition like any other; it is flushed on every append because
    // a committed metadata change must survive power loss, not only a process crash.
    const metadataStore = logs.getOrCreate(METADATA_TOPIC, 0, { ...brokerDefaults, retentionMs: -1, retentionBytes: -1, segmentBytes: 64 * 1024 * 1024 });
    // Topic ids removed by committed records: the only reason start-up deletes a partition dir.
    const removedTopicIds = new Set<string>();
    const metadataLog = new MetadataLog(partitionMetadataStore(metadataStore), (r) => {
      if (r.type === MetadataRecordType.RemoveTopicRecord) removedTopicIds.add(r.data.topicId);
    });
    const controller = new MetadataController(metadataLog, {
      nodeId,
      brokerIds: () => [nodeId],
      defaultNumPartitions: () => config.int('num.partitions'),
      defaultReplicationFactor: () => config.int('default.replication.factor'),
      topicConfigProblem,
      nowMs: () => Date.now(),
    });
    controller.load();
    // server.properties with the dynamic broker configs of the metadata log on top; replaced
    // whenever a BROKER ConfigRecord commits.
    const withDynamicConfigs = (image: MetadataImage) => config.withDynamic(image.brokerConfigs.get(String(nodeId)), image.brokerConfigs.get(''));
    let effectiveConfig = withDynamicConfigs(controller.image);

    const replicas = new ReplicaManager(logs, loggerFor('replica-manager'));
    const topicIdToName = new Map<string, string>();
    // New partitions get their logs from the replica manager's work queue (internal topics at
    // once: their coordinators use them right away); hosted ones take new settings at once.
    // Topics without overrides (all auto-created ones) share one computation of their settings.
    type TopicSettings = { config: LogConfig; minInsyncReplicas: number; recordRules: RecordRules | null };
    const settingsFor = (configs: ReadonlyMap<string, string>): TopicSettings => ({
      config: logConfigFor(effectiveConfig, configs),
      minInsyncReplicas: Number(topicConfigValue(effectiveConfig, configs, 'min.insync.replicas')),
      recordRules: recordRulesFor(effectiveConfig, configs),
    });
    let defaultSettings: { of: BrokerConfig; settings: TopicSettings } | null = null;
    const hostTopic = (topic: TopicImage) => {
      topicIdToName.set(topic.topicId, topic.name);
      let settings: TopicSettings;
      if (topic.configs.size > 0) settings = settingsFor(topic.configs);
      else {
        if (defaultSettings === null || defaultSettings.of !== effectiveConfig) defaultSettings = { of: effectiveConfig, settings: settingsFor(topic.configs) };
        settings = defaultSettings.settings;
      }
      const now = isInternalTopic(topic.name);
      for (const p of topic.partitions) {
        if (p.leader !== nodeId) continue;
        replicas.assign({ topic: topic.name, topicId: topic.topicId, partition: p.partitionId, leaderEpoch: p.leaderEpoch, isrSize: p.isr.length, ...settings }, { now });
      }
    };
    reconcilePartitionDirs(logs, controller.image, removedTopicIds, nodeId, log);
    for (const topic of controller.image.topicsByName.values()) hostTopic(topic);
    replicas.runAllLogWork();
    controller.onCommit((records: readonly MetadataRecord[], image: MetadataImage) => {
      const touched = new Set<string>();
      let brokerConfigsChanged = false;
      for (const r of records) {
        if (r.type === MetadataRecordType.RemoveTopicRecord) {
          const name = topicIdToName.get(r.data.topicId);
          topicIdToName.delete(r.data.topicId);
          if (name !== undefined) replicas.unassignTopic(name);
        } else if (r.type === MetadataRecordType.PartitionRecord || r.type === MetadataRecordType.PartitionChangeRecord) {
          const name = image.topicsById.get(r.data.topicId)?.name;
          if (name !== undefined) touched.add(name);
        } else if (r.type === MetadataRecordType.ConfigRecord && r.data.resourceType === 2) {
          touched.add(r.data.resourceName);
        } else if (r.type === MetadataRecordType.ConfigRecord && r.data.resourceType === 4) {
          brokerConfigsChanged = true;
        }
      }
      if (brokerConfigsChanged) {
        // A dynamic broker default changes the effective config of every topic.
        effectiveConfig = withDynamicConfigs(image);
        for (const name of image.topicsByName.keys()) touched.add(name);
      }
      for (const name of touched) {
        const topic = image.topicsByName.get(name);
        if (topic !== undefined) hostTopic(topic);
      }
      // A small change (a new topic on a client's first produce) is served at once; larger
      // ones, or any behind a backlog, are left to the work queue's background slices.
      if (replicas.pendingLogWork <= SYNC_LOG_WORK_MAX) replicas.runLogWork(LOG_WORK_SLICE_MS);
    });

    const router = new RequestRouter(loggerFor('requests'));
    const server = new SocketServer(
      router.frameHandler,
      {
        maxRequestBytes: config.int('socket.request.max.bytes'),
        maxInFlightRequests: config.int('queued.max.requests'),
        maxQueuedResponseBytes: 64 * 1024 * 1024,
        idleTimeoutMs: config.msOrNever('connections.max.idle.ms'),
        requestReadTimeoutMs: config.msOrNever('socket.request.read.timeout.ms'),
        queuedMaxRequestBytes: config.queuedMaxRequestBytes,
      },
      loggerFor('network'),
    );
    const mutationQuota = new ControllerMutationQuota(
      {
        ratePerSecond: config.double('controller.quota.mutation.rate'),
        windowNum: config.int('controller.quota.window.num'),
        windowSizeSeconds: config.int('controller.quota.window.size.seconds'),
      },
      () => Date.now(),
    );
    const broker = new Broker(config, logs, controller, replicas, server, clusterId, log, mutationQuota, dirLocks);
    // Groups and committed offsets, replayed from __consumer_offsets before any request.
    const groupCoordinator = new GroupCoordinator({
      store: offsetsTopicStore({ config: () => effectiveConfig, controller, replicas, liveBrokerCount: () => 1, log: loggerFor('group-coordinator') }),
      config: groupCoordinatorConfig(config),
      scheduler: realScheduler,
      nowMs: () => Date.now(),
      log: loggerFor('group-coordinator'),
    });
    groupCoordinator.load();
    broker.groupCoordinator = groupCoordinator;
    let advertised: Map<string, { host: string; port: number }> = new Map();
    const context: BrokerContext = {
      nodeId,
      clusterId,
      get config() {
        return effectiveConfig;
      },
      controller,
      replicas,
      groupCoordinator,
      // Client instance ids take Kafka's random uuid form, as topic ids do.
      telemetry: new ClientTelemetry({ nowMs: () => Date.now(), newInstanceId: newTopicId, maxBytes: () => effectiveConfig.int('telemetry.max.bytes') }),
      log: loggerFor('handlers'),
      brokersFor: (listenerName: string): BrokerEndpoint[] => {
        const ep = advertised.get(listenerName) ?? advertised.values().next().value;
        return ep === undefined ? [] : [{ nodeId, host: ep.host, port: ep.port, rack: null }];
      },
      supportedVersions: () => router.supportedVersions(),
      autoCreateTopics: (names: readonly string[]) => broker.autoCreateTopics(names),
      mutationQuota: (strict: boolean) => mutationQuota.forRequest(strict),
      sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      yieldToEventLoop,
      nowMs: () => Date.now(),
    };
    registerHandlers(router, context);

    let bound: BoundListener[];
    try {
      bound = await server.listen(config.listenerSpecs);
    } catch (err) {
      await server.close();
      logs.close();
      throw err;
    }
    const metricsAt = parseMetricsListener(config.string('metrics.listener'));
    if (metricsAt !== null) {
      const metrics = new BrokerMetrics({ replicas, groups: () => broker.groupCoordinator, connectionCount: () => server.connectionCount });
      try {
        broker.metricsServer = await startMetricsServer(metrics, metricsAt, loggerFor('metrics'));
      } catch (err) {
        await server.close();
        logs.close();
        throw new ConfigError((err as Error).message);
      }
      router.setObserver(metrics);
    }
    advertised = advertisedEndpoints(config, bound);
    logs.startTimers();
    log.info({ nodeId, clusterId, topics: controller.image.topicsByName.size, listeners: [...advertised] }, 'broker ready');
    return broker;
  }

  /** Listener name -> advertised host:port. */
  get listeners(): string[] {
    return this.server.bound.map((b) => `${b.name}://${b.host}:${b.boundPort}`);
  }

  /** Port of the first listener. */
  get port(): number {
    return this.server.bound[0]!.boundPort;
  }

  /** `host:port` of the first listener, for a client's bootstrap.servers. */
  get bootstrapServers(): string {
    const b = this.server.bound[0]!;
    return `${b.host === '' || b.host === '0.0.0.0' ? '127.0.0.1' : b.host}:${b.boundPort}`;
  }

  /**
   * Auto-creation for a Metadata request (see BrokerContext.autoCreateTopics). Bounds: at most
   * MAX_RECORDS_PER_USER_OP records per request (as one Kafka CreateTopics), the controller
   * mutation quota (strict, as Kafka's controller applies it to auto-creation), and commits of
   * at most AUTO_CREATE_CHUNK_RECORDS records, each atomic, with the event loop free between two.
   */
  private async autoCreateTopics(names: readonly string[]): Promise<Map<string, number>> {
    const outcomes = new Map<string, number>();
    const candidates: string[] = [];
    const enabled = this.config.bool('auto.create.topics.enable');
    // Internal topics are created by their coordinators, with their own partition counts and
    // configs, never as an ordinary topic on a client's first use.
    for (const name of names) {
      if (!enabled || isInternalTopic(name)) outcomes.set(name, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
      else candidates.push(name);
    }
    const recordsPerTopic = 1 + this.config.int('num.partitions');
    const topicsPerChunk = Math.max(1, Math.floor(AUTO_CREATE_CHUNK_RECORDS / recordsPerTopic));
    const quota = this.mutationQuota.forRequest(true);
    let recordsLeft = MAX_RECORDS_PER_USER_OP;
    let created = 0;
    let next = 0;
    while (next < candidates.length && recordsLeft >= recordsPerTopic) {
      if (next > 0) await yieldToEventLoop();
      const chunk = candidates.slice(next, next + Math.min(topicsPerChunk, Math.floor(recordsLeft / recordsPerTopic)));
      next += chunk.length;
      // Check and commit of one chunk with no await between (the controller's rule).
      const results = this.controller.createTopics(
        chunk.map((name) => ({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] })),
        false,
        quota,
      );
      let throttled = false;
      for (const r of results) {
        if (r.errorCode === ErrorCode.NONE) {
          created++;
          recordsLeft -= recordsPerTopic;
        }
        outcomes.set(r.name, autoCreateOutcome(r.errorCode));
        if (r.errorCode === ErrorCode.THROTTLING_QUOTA_EXCEEDED) throttled = true;
      }
      if (throttled) break;
    }
    // Left for a later request: the quota or the per-request bound stopped here.
    for (const name of candidates) if (!outcomes.has(name)) outcomes.set(name, ErrorCode.LEADER_NOT_AVAILABLE);
    if (created > 0) {
      const sample = candidates.filter((n) => outcomes.get(n) === ErrorCode.NONE).slice(0, 5);
      this.log.info({ topics: sample, created, requested: names.length }, created === 1 ? 'auto-created topic' : 'auto-created topics');
    }
    return outcomes;
  }

  /**
   * Clean shutdown: answer parked fetches, drop every connection, close the logs (checkpoints and
   * the clean-shutdown marker written), and only then give up the ports and the directory locks.
   * Closing the logs takes a few fsyncs per partition (seconds for thousands of partitions); a
   * port released before that let a restart script that waits for the port start a second broker
   * on data this one was still writing.
   */
  stop(): Promise<void> {
    this.stopping ??= this.shutDown();
    return this.stopping;
  }

  private async shutDown(): Promise<void> {
    this.metricsServer?.close();
    this.groupCoordinator?.shutdown();
    this.replicas.wakeAll();
    this.server.disconnectAll();
    // Let the handlers of woken fetches run (their answers go nowhere) before the logs close.
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      this.replicas.close();
      this.logs.close();
    } finally {
      await this.server.close();
      for (const l of this.dirLocks) l.release();
    }
  }
}

function yieldToEventLoop(): Promise<void> {
  return new Promise<void>((resolve) => setImmediate(resolve));
}

/** A Metadata answer for a name the controller did not create. */
function autoCreateOutcome(errorCode: number): number {
  switch (errorCode) {
    case ErrorCode.NONE:
    case ErrorCode.INVALID_TOPIC_EXCEPTION:
      return errorCode;
    // Someone else created it meanwhile, or the quota says later: the client asks again.
    case ErrorCode.TOPIC_ALREADY_EXISTS:
    case ErrorCode.THROTTLING_QUOTA_EXCEEDED:
      return ErrorCode.LEADER_NOT_AVAILABLE;
    default:
      return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
  }
}

function configFromOptions(opts: BrokerStartOptions): BrokerConfig {
  const props = new Map<string, string>();
  const host = opts.host ?? '127.0.0.1';
  props.set('listeners', `PLAINTEXT://${host}:${opts.port ?? 0}`);
  if (opts.dataDir !== undefined) props.set('log.dirs', opts.dataDir);
  else if (opts.inMemory !== true) throw new ConfigError("Broker.start needs 'dataDir' (or inMemory: true)");
  for (const [k, v] of Object.entries(opts.overrides ?? {})) props.set(k, v);
  return BrokerConfig.fromProperties(props);
}

/** The directories this broker writes: log.dirs, and metadata.log.dir when it is set apart. */
function dataDirs(config: BrokerConfig): string[] {
  const metadataDir = config.raw('metadata.log.dir');
  return metadataDir === null || metadataDir === '' ? config.logDirs : [...config.logDirs, metadataDir];
}

/** advertised.listeners, or the bound listeners (with the machine's name for a wildcard host). */
function advertisedEndpoints(config: BrokerConfig, bound: BoundListener[]): Map<string, { host: string; port: number }> {
  const out = new Map<string, { host: string; port: number }>();
  const configured = config.raw('advertised.listeners');
  if (configured !== null && configured !== '') {
    for (const l of parseListeners(configured)) {
      const port = l.port === 0 ? bound.find((b) => b.name === l.name)?.boundPort ?? 0 : l.port;
      out.set(l.name, { host: l.host === '' ? hostname() : l.host, port });
    }
  }
  for (const b of bound) {
    if (out.has(b.name)) continue;
    const host = b.host === '' || b.host === '0.0.0.0' || b.host === '::' ? hostname() : b.host;
    out.set(b.name, { host, port: b.boundPort });
  }
  return out;
}

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
  });
}

/**
 * Partition directories at start-up against the replayed metadata. A directory is deleted only
 * when its partition.metadata names a topic id that a committed RemoveTopicRecord removed (a topic
 * deleted just before a crash). One the metadata log does not account for (no topic of that name
 * and partition, no partition.metadata, or an id never removed) is kept where it is, closed and
 * not served, with a WARN naming it: missing metadata is never a reason to delete data. A
 * directory of a live topic's name that holds another, never removed topic id stops start-up.
 */
function reconcilePartitionDirs(logs: LogManager, image: MetadataImage, removedTopicIds: ReadonlySet<string>, nodeId: number, log: Logger): void {
  for (const { topic, partition } of [...logs.all()]) {
    if (topic === METADATA_TOPIC) continue;
    const onDisk = logs.topicIdOnDisk(topic, partition);
    const dir = logs.partitionDir(topic, partition);
    const current = image.topicsByName.get(topic);
    const hostedHere = current?.partitions.some((p) => p.partitionId === partition && p.leader === nodeId) === true;
    if (onDisk.state === 'present' && removedTopicIds.has(onDisk.topicId) && current?.topicId !== onDisk.topicId) {
      log.info({ topic, partition, topicId: onDisk.topicId, dir }, 'deleting partition of a deleted topic');
      logs.deletePartition(topic, partition);
      continue;
    }
    if (hostedHere) {
      if (onDisk.state !== 'present' || onDisk.topicId === current!.topicId) continue; // ours (partition.metadata is written when hosted)
      throw new StorageStartupError(
        `${dir} holds topic id ${onDisk.topicId}, but the metadata log's topic ${topic} has id ${current!.topicId} and no committed record removed ${onDisk.topicId}. ` +
          'Refusing to start rather than serve one topic\'s data as another\'s: move the directory away.',
        dir ?? topic,
      );
    }
    log.warn(
      { topic, partition, dir, topicId: onDisk.state === 'present' ? onDisk.topicId : null, partitionMetadata: onDisk.state },
      'keeping a partition directory that the metadata log does not account for (not deleted: no committed record removed its topic); it is not served',
    );
    logs.detach(topic, partition);
  }
}

function partitionMetadataStore(store: PartitionStore): MetadataLogStore {
  return {
    get maxBatchBytes() {
      return Math.min(store.config.maxMessageBytes, store.config.segmentBytes);
    },
    append(batches: readonly Buffer[]): number {
      for (const batch of batches) store.append(batch, { leaderEpoch: 0, assignOffsets: true });
      store.flush();
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
