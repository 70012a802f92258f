// A Tributary node: storage, the metadata controller (single voter), the replica manager and
// the request handlers behind the socket server. Also the library entry point:
// `await Broker.start({ dataDir })` or `Broker.start({ inMemory: true })` on a free port.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { MetadataController, newTopicId } from '../controller/metadata-controller.js';
import { MetadataRecordType, type MetadataImage, type MetadataRecord, type TopicImage } from '../controller/metadata-image.js';
import { isInternalTopic } from '../controller/topic-names.js';
import { METADATA_TOPIC, MetadataLog, type MetadataLogStore } from '../controller/metadata-log.js';
import { loggerFor, type Logger } from '../logger.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { decompress } from '../protocol/records/compression.js';
import { LogManager } from '../storage/log-manager.js';
import { PartitionLog } from '../storage/partition-log.js';
import type { PartitionStore } from '../storage/partition-store.js';
import { readWholeLog } from '../storage/read-whole-log.js';
import { RequestRouter } from '../server/request-router.js';
import { SocketServer, parseListeners, type BoundListener, type ListenerSpec } from '../server/socket-server.js';
import type { BrokerContext, BrokerEndpoint } from './broker-context.js';
import { ClientTelemetry } from './client-telemetry.js';
import { BrokerConfig, ConfigError } from './config.js';
import { GroupCoordinator, realScheduler } from './group/group-coordinator.js';
import { groupCoordinatorConfig, offsetsTopicStore } from './group/offsets-topic.js';
import { registerHandlers } from './handlers/index.js';
import { ReplicaManager } from './replica-manager.js';
import { logConfigFor, recordRulesFor, topicConfigProblem, topicConfigValue } from './topic-config.js';

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
const TIMESTAMP_LOOKUP_MAX_UNCOMPRESSED_BYTES = 64 * 1024 * 1024;

export class Broker {
  /** Set once during start(); null only while start() runs. */
  private groupCoordinator: GroupCoordinator | null = null;

  private constructor(
    readonly config: BrokerConfig,
    private readonly logs: LogManager,
    readonly controller: MetadataController,
    readonly replicas: ReplicaManager,
    private readonly server: SocketServer,
    readonly clusterId: string,
    private readonly log: Logger,
  ) {}

  static async start(opts: BrokerStartOptions = {}): Promise<Broker> {
    const config = opts.config ?? configFromOptions(opts);
    const log = loggerFor('broker');
    const inMemory = opts.inMemory === true;
    const nodeId = config.nodeId;
    const logDirs = config.logDirs;
    const clusterId = inMemory ? config.raw('cluster.id') ?? newClusterId() : readOrWriteMetaProperties(logDirs, nodeId, config.raw('cluster.id'));

    const brokerDefaults = logConfigFor(config, new Map());
    const logs = LogManager.open({
      logDirs,
      inMemory,
      defaultConfig: brokerDefaults,
      retentionCheckIntervalMs: config.long('log.retention.check.interval.ms'),
      // Timestamp lookups inside compressed batches. Bounded well below what a hostile batch could
      // ask for: produce stores batches without decompressing them, so this is where a bomb lands.
      decompress: (type: number, data: Buffer) => decompress(type, data, TIMESTAMP_LOOKUP_MAX_UNCOMPRESSED_BYTES),
    });
    logStartupRecovery(logs, log);

    // The metadata log is a partition like any other; it is flushed on every append because
    // a committed metadata change must survive power loss, not only a process crash.
    const metadataStore = logs.getOrCreate(METADATA_TOPIC, 0, { ...brokerDefaults, retentionMs: -1, retentionBytes: -1, segmentBytes: 64 * 1024 * 1024 });
    const controller = new MetadataController(new MetadataLog(partitionMetadataStore(metadataStore)), {
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
    const hostTopic = (topic: TopicImage) => {
      topicIdToName.set(topic.topicId, topic.name);
      const logConfig = logConfigFor(effectiveConfig, topic.configs);
      const minIsr = Number(topicConfigValue(effectiveConfig, topic.configs, 'min.insync.replicas'));
      const rules = recordRulesFor(effectiveConfig, topic.configs);
      for (const p of topic.partitions) {
        if (p.leader !== nodeId) continue;
        replicas.host(topic.name, topic.topicId, p.partitionId, p.leaderEpoch, logConfig, minIsr, p.isr.length, rules);
      }
      logs.updateConfig(topic.name, logConfig);
    };
    for (const topic of controller.image.topicsByName.values()) hostTopic(topic);
    // Partitions left on disk by a topic deleted just before a crash.
    for (const { topic, partition } of [...logs.all()]) {
      if (topic !== METADATA_TOPIC && replicas.get(topic, partition) === undefined) {
        log.info({ topic, partition }, 'deleting partition of a deleted topic');
        logs.deletePartition(topic, partition);
      }
    }
    controller.onCommit((records: readonly MetadataRecord[], image: MetadataImage) => {
      const touched = new Set<string>();
      let brokerConfigsChanged = false;
      for (const r of records) {
        if (r.type === MetadataRecordType.RemoveTopicRecord) {
          const name = topicIdToName.get(r.data.topicId);
          topicIdToName.delete(r.data.topicId);
          if (name === undefined) continue;
          for (const p of [...replicas.allPartitions()].filter((h) => h.topic === name)) replicas.remove(name, p.partition);
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
    });

    const router = new RequestRouter(loggerFor('requests'));
    const server = new SocketServer(
      router.frameHandler,
      {
        maxRequestBytes: config.int('socket.request.max.bytes'),
        maxInFlightRequests: config.int('queued.max.requests'),
        maxQueuedResponseBytes: 64 * 1024 * 1024,
      },
      loggerFor('network'),
    );
    const broker = new Broker(config, logs, controller, replicas, server, clusterId, log);
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
      autoCreateTopic: (name: string) => broker.autoCreateTopic(name),
      nowMs: () => Date.now(),
    };
    registerHandlers(router, context);

    let specs: ListenerSpec[];
    try {
      specs = parseListeners(config.string('listeners'));
    } catch (err) {
      logs.close();
      throw new ConfigError(`Invalid value for configuration 'listeners': ${(err as Error).message}`);
    }
    let bound: BoundListener[];
    try {
      bound = await server.listen(specs);
    } catch (err) {
      await server.close();
      logs.close();
      throw err;
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

  private autoCreateTopic(name: string): TopicImage | number {
    if (!this.config.bool('auto.create.topics.enable')) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    // Internal topics are created by their coordinators, with their own partition counts and
    // configs, never as an ordinary topic on a client's first use.
    if (isInternalTopic(name)) return ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
    try {
      this.controller.createTopic({ name, numPartitions: -1, replicationFactor: -1, assignments: [], configs: [] }, false);
    } catch (err) {
      if (err instanceof KafkaError) {
        if (err.code === ErrorCode.TOPIC_ALREADY_EXISTS) return this.controller.image.topicsByName.get(name) ?? err.code;
        return err.code === ErrorCode.INVALID_TOPIC_EXCEPTION ? err.code : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
      }
      throw err;
    }
    this.log.info({ topic: name }, 'auto-created topic');
    return this.controller.image.topicsByName.get(name)!;
  }

  /** Clean shutdown: stop accepting, answer parked fetches, close logs and write checkpoints. */
  async stop(): Promise<void> {
    this.groupCoordinator?.shutdown();
    this.replicas.wakeAll();
    await this.server.close();
    this.logs.close();
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

/** Kafka's meta.properties: the cluster id and node id a log dir belongs to. */
function readOrWriteMetaProperties(logDirs: string[], nodeId: number, configured: string | null): string {
  let clusterId: string | null = configured;
  for (const dir of logDirs) {
    const file = join(dir, 'meta.properties');
    if (!existsSync(file)) continue;
    const props = new Map(
      readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => l.includes('=') && !l.startsWith('#'))
        .map((l) => [l.slice(0, l.indexOf('=')).trim(), l.slice(l.indexOf('=') + 1).trim()] as const),
    );
    const found = props.get('cluster.id');
    const foundNode = props.get('node.id');
    if (foundNode !== undefined && Number(foundNode) !== nodeId) {
      throw new ConfigError(`Configuration 'node.id' (${nodeId}) does not match node.id=${foundNode} in ${file}`);
    }
    if (found !== undefined) {
      if (clusterId !== null && clusterId !== found) throw new ConfigError(`Configuration 'cluster.id' (${clusterId}) does not match cluster.id=${found} in ${file}`);
      clusterId = found;
    }
  }
  clusterId ??= newClusterId();
  for (const dir of logDirs) {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'meta.properties');
    if (!existsSync(file)) {
      writeFileSync(file, `#\n#Written by Tributary\nnode.id=${nodeId}\nversion=1\ncluster.id=${clusterId}\ndirectory.id=${newClusterId()}\n`);
    }
  }
  return clusterId;
}

function newClusterId(): string {
  return randomBytes(16).toString('base64url');
}

function partitionMetadataStore(store: PartitionStore): MetadataLogStore {
  return {
    append(batch: Buffer): number {
      const result = store.append(batch, { leaderEpoch: 0, assignOffsets: true });
      store.flush();
      store.highWatermark = store.logEndOffset;
      return result.firstOffset;
    },
    readAll: () => readWholeLog(store, METADATA_MAX_READ_BYTES),
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
