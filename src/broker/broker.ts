// The broker side of a node: the replica manager, the group coordinator and the request
// handlers behind the socket server. It reads metadata from the images the controller publishes
// and asks for changes through the ControllerChannel; it never sees the controller itself (the
// composition root, node/broker.ts, wires the two).
import type { Server } from 'node:http';
import { hostname } from 'node:os';
import { loggerFor, type Logger } from '../logger.js';
import { MAX_RECORDS_PER_USER_OP, type BrokerRegistrationRequest, type ControllerChannel } from '../metadata/controller-channel.js';
import type { MetadataImage, TopicImage } from '../metadata/image.js';
import type { MetadataPublisher, MetadataView } from '../metadata/publisher.js';
import { ConfigResourceType, MetadataRecordType } from '../metadata/records.js';
import { METADATA_TOPIC, isInternalTopic, newTopicId } from '../metadata/topic-names.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import { StorageStartupError } from '../storage/errors.js';
import type { LogManager } from '../storage/log-manager.js';
import { RequestRouter, type AnyApiHandler } from '../server/request-router.js';
import { SocketServer, parseListeners, type BoundListener, type ListenerSockets } from '../server/socket-server.js';
import { Authorizer, TRUSTED_PEERS, type RequestAuthorizer } from './authorizer.js';
import { liveBrokerEndpoints, type BrokerContext, type BrokerEndpoint } from './broker-context.js';
import { BrokerMetrics, parseMetricsListener, startMetricsServer } from './broker-metrics.js';
import { ClientTelemetry } from './client-telemetry.js';
import { ConfigError, type BrokerConfig } from './config.js';
import { GroupCoordinator, realScheduler } from './group/group-coordinator.js';
import { groupCoordinatorConfig, offsetsTopicStore } from './group/offsets-topic.js';
import { TransactionCoordinator } from './txn/transaction-coordinator.js';
import { transactionStateTopic, txnCoordinatorConfig } from './txn/transaction-state-topic.js';
import { registerControllerHandlers, registerHandlers } from './handlers/index.js';
import { ControllerMutationQuota } from './controller-mutation-quota.js';
import { LOG_WORK_SLICE_MS, ReplicaManager } from './replica-manager.js';
import { cleanerTuningFor, logConfigFor, recordRulesFor, topicConfigValue, type RecordRules } from './topic-config.js';
import type { LogConfig } from '../storage/config.js';

/** Records one auto-creation commit writes at most: a few milliseconds of work, then the event
 * loop gets a turn before the next commit of the same request. */
const AUTO_CREATE_CHUNK_RECORDS = 100;
/** Partition logs a metadata change may create (or delete) while it is published. */
const SYNC_LOG_WORK_MAX = 16;

export interface BrokerServerDeps {
  config: BrokerConfig;
  logs: LogManager;
  clusterId: string;
  /** Committed metadata images; the broker hosts what they say. */
  metadata: MetadataPublisher;
  controller: ControllerChannel;
  /** Topic ids removed by committed records: the only reason start-up deletes a partition dir. */
  removedTopicIds: ReadonlySet<string>;
  /** The client listeners, bound before start-up read anything; served once the broker is ready. */
  listeners: ListenerSockets;
  log: Logger;
  /**
   * A node of a KRaft quorum: the admin APIs Kafka's controller serves (CreateTopics,
   * DeleteTopics, CreatePartitions, configs, DescribeCluster, UpdateFeatures, ApiVersions) are
   * also registered on the controller listener's router, answered by this node's own controller
   * (NOT_CONTROLLER when it is not the active one), so `--bootstrap-controller` tools work.
   */
  controllerListener?: { router: RequestRouter; controller: ControllerChannel };
  /** broker.heartbeat.interval.ms heartbeats after registration (a quorum's broker keeps its
   * session with the active controller); unset: one heartbeat at start-up (a single voter). */
  heartbeatIntervalMs?: number;
  /** More APIs on the broker's own listeners (DescribeQuorum of a quorum's node). */
  extraHandlers?: readonly AnyApiHandler[];
}

export class BrokerServer {
  /** The /metrics listener, when `metrics.listener` is set. */
  private metricsServer: Server | null = null;
  /** A quorum's broker: its heartbeats to the active controller. */
  private lifecycle: BrokerLifecycle | null = null;

  private constructor(
    private readonly config: BrokerConfig,
    private readonly controller: ControllerChannel,
    readonly replicas: ReplicaManager,
    private readonly server: SocketServer,
    private readonly groupCoordinator: GroupCoordinator,
    private readonly transactionCoordinator: TransactionCoordinator,
    private readonly mutationQuota: ControllerMutationQuota,
    private readonly log: Logger,
  ) {}

  static async start(deps: BrokerServerDeps): Promise<BrokerServer> {
    const { config, logs, clusterId, metadata, controller, log } = deps;
    const nodeId = config.nodeId;
    // server.properties with the dynamic broker configs of the metadata log on top; replaced
    // whenever a BROKER ConfigRecord commits.
    const withDynamicConfigs = (image: MetadataImage) => config.withDynamic(image.brokerConfigs.get(String(nodeId)), image.brokerConfigs.get(''));
    let effectiveConfig = withDynamicConfigs(metadata.image);
    // The log cleaner was built from server.properties; dynamic log.cleaner.* values stored
    // earlier apply now, later ones as they commit (Kafka's LogCleaner.reconfigure).
    logs.cleaner?.reconfigure(cleanerTuningFor(effectiveConfig));
    // Certificate rotation: the settings each TLS listener was last given, to apply a committed
    // change of its listener.name.<l>.ssl.* broker configs once (new handshakes use it).
    const tlsSettings = new Map<string, string>();
    const reloadTls = (cfg: BrokerConfig): void => {
      for (const l of server.bound) {
        if (l.tls === undefined) continue;
        const settings = cfg.tlsSettingsKey(l.name);
        const before = tlsSettings.get(l.name);
        tlsSettings.set(l.name, settings);
        // The first call records what the listener was bound with; later ones apply changes.
        if (before === undefined || before === settings) continue;
        try {
          server.setSecureContext(l.name, cfg.dynamicTlsOptions(l.name));
        } catch (err) {
          log.error({ listener: l.name, reason: (err as Error).message }, 'SSL settings not applied; the listener keeps its current certificate');
          continue;
        }
        log.info({ listener: l.name }, 'SSL key and trust stores reloaded');
      }
    };
    // Creations of internal topics by the coordinators, so FindCoordinator can wait for one.
    let internalCreation: Promise<void> | null = null;
    const internalTopics: Pick<ControllerChannel, 'createTopics'> = {
      createTopics(...args) {
        const created = controller.createTopics(...args);
        const settled: Promise<void> = created.then(
          () => {
            if (internalCreation === settled) internalCreation = null;
          },
          () => {
            if (internalCreation === settled) internalCreation = null;
          },
        );
        internalCreation = settled;
        return created;
      },
    };

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
    reconcilePartitionDirs(logs, metadata.image, deps.removedTopicIds, nodeId, log);
    for (const topic of metadata.image.topicsByName.values()) hostTopic(topic);
    replicas.runAllLogWork();
    metadata.subscribe(({ records, image }) => {
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
        } else if (r.type === MetadataRecordType.ConfigRecord && r.data.resourceType === ConfigResourceType.TOPIC) {
          touched.add(r.data.resourceName);
        } else if (r.type === MetadataRecordType.ConfigRecord && r.data.resourceType === ConfigResourceType.BROKER) {
          brokerConfigsChanged = true;
        }
      }
      if (brokerConfigsChanged) {
        // A dynamic broker default changes the effective config of every topic.
        effectiveConfig = withDynamicConfigs(image);
        reloadTls(effectiveConfig);
        logs.cleaner?.reconfigure(cleanerTuningFor(effectiveConfig));
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
    const server = new SocketServer(router.frameHandler, config.serverLimits, loggerFor('network'));
    server.scramCredentials = (user, mechanism) => metadata.image.scramCredentials.get(user)?.get(mechanism);
    const mutationQuota = new ControllerMutationQuota(
      {
        ratePerSecond: config.double('controller.quota.mutation.rate'),
        windowNum: config.int('controller.quota.window.num'),
        windowSizeSeconds: config.int('controller.quota.window.size.seconds'),
      },
      () => Date.now(),
    );
    // Groups and committed offsets, replayed from __consumer_offsets before any request.
    const groupCoordinator = new GroupCoordinator({
      store: offsetsTopicStore({ config: () => effectiveConfig, metadata, controller: internalTopics, replicas, liveBrokerCount: () => 1, log: loggerFor('group-coordinator') }),
      config: groupCoordinatorConfig(config, () => metadata.image.groupConfigs),
      scheduler: realScheduler,
      nowMs: () => Date.now(),
      log: loggerFor('group-coordinator'),
    });
    groupCoordinator.load();
    // Transactions, replayed from __transaction_state before any request; markers are written
    // through the replica manager (partitions hosted here).
    const transactionCoordinator = new TransactionCoordinator({
      store: transactionStateTopic({ config: () => effectiveConfig, metadata, controller: internalTopics, replicas, liveBrokerCount: () => 1, log: loggerFor('transaction-coordinator') }),
      markers: replicas,
      allocateProducerId: () => controller.allocateProducerId(),
      partitionExists: (topic, partition) => {
        const t = metadata.image.topicsByName.get(topic);
        return t !== undefined && partition >= 0 && partition < t.partitions.length;
      },
      config: txnCoordinatorConfig(config),
      scheduler: realScheduler,
      nowMs: () => Date.now(),
      log: loggerFor('transaction-coordinator'),
    });
    transactionCoordinator.load();
    // Markers on __consumer_offsets settle the transactional offsets pending there.
    replicas.onTxnMarkerWritten((m) => groupCoordinator.onTxnMarker(m.topic, m.partition, m.producerId, m.committed));
    const broker = new BrokerServer(config, controller, replicas, server, groupCoordinator, transactionCoordinator, mutationQuota, log);
    let advertised: Map<string, { host: string; port: number }> = new Map();
    const makeContext = (controller: ControllerChannel, supportedVersions: BrokerContext['supportedVersions'], authorizer: RequestAuthorizer | null): BrokerContext => ({
      nodeId,
      clusterId,
      get config() {
        return effectiveConfig;
      },
      metadata,
      controller,
      replicas,
      groupCoordinator,
      authorizer,
      transactionCoordinator,
      // Client instance ids take Kafka's random uuid form, as topic ids do.
      telemetry: new ClientTelemetry({ nowMs: () => Date.now(), newInstanceId: newTopicId, maxBytes: () => effectiveConfig.int('telemetry.max.bytes') }),
      log: loggerFor('handlers'),
      brokersFor: (listenerName: string): BrokerEndpoint[] => {
        // The live brokers on the listener the client came in on; before this broker's own
        // registration is committed, this broker alone.
        const out = liveBrokerEndpoints(metadata.image, listenerName);
        if (out.some((b) => b.nodeId === nodeId)) return out;
        const ep = advertised.get(listenerName) ?? advertised.values().next().value;
        return ep === undefined ? [] : [{ nodeId, host: ep.host, port: ep.port, rack: config.raw('broker.rack') }];
      },
      supportedVersions,
      autoCreateTopics: (names: readonly string[]) => broker.autoCreateTopics(names),
      internalTopicCreation: () => internalCreation,
      mutationQuota: (strict: boolean) => mutationQuota.forRequest(strict),
      sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
      nowMs: () => Date.now(),
    });
    registerHandlers(router, makeContext(controller, () => router.supportedVersions(), Authorizer.fromConfig(config, () => metadata.image)));
    for (const h of deps.extraHandlers ?? []) router.register(h);
    if (deps.controllerListener !== undefined) {
      const { router: controllerRouter, controller: own } = deps.controllerListener;
      // The controller listener serves the brokers, which authorized the changes they forward
      // (Kafka carries the client's principal in an Envelope; not implemented): its peers are
      // trusted, so its ACL APIs work for them and nothing there is refused for ACLs.
      registerControllerHandlers(controllerRouter, makeContext(own, () => controllerRouter.supportedVersions(), config.string('authorizer.class.name') === '' ? null : TRUSTED_PEERS));
    }

    const bound: BoundListener[] = server.adopt(deps.listeners);
    reloadTls(effectiveConfig);
    const metricsAt = parseMetricsListener(config.string('metrics.listener'));
    if (metricsAt !== null) {
      const metrics = new BrokerMetrics({ replicas, groups: () => broker.groupCoordinator, connectionCount: () => server.connectionCount, cleaner: () => logs.cleaner });
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
    if (deps.heartbeatIntervalMs === undefined) await registerWithController(controller, metadata, config, advertised, log);
    else broker.lifecycle = await BrokerLifecycle.start(controller, metadata, config, advertised, deps.heartbeatIntervalMs, log);
    logs.startTimers();
    log.info({ nodeId, clusterId, topics: metadata.image.topicsByName.size, listeners: [...advertised] }, 'broker ready');
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
      const chunk = candidates.slice(next, next + Math.min(topicsPerChunk, Math.floor(recordsLeft / recordsPerTopic)));
      next += chunk.length;
      const results = await this.controller.createTopics(
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
   * The first half of a clean shutdown: groups stopped, parked fetches answered, connections
   * dropped, partitions closed. The listeners stay bound until closeListeners().
   */
  async quiesce(): Promise<void> {
    await this.lifecycle?.stop(CONTROLLED_SHUTDOWN_WAIT_MS);
    this.metricsServer?.close();
    this.groupCoordinator.shutdown();
    this.transactionCoordinator.shutdown();
    this.replicas.wakeAll();
    this.server.disconnectAll();
    // Let the handlers of woken fetches run (their answers go nowhere) before the logs close.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.replicas.close();
  }

  closeListeners(): Promise<void> {
    return this.server.close();
  }
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

/**
 * Kafka's broker lifecycle at start-up: BrokerRegistration with the advertised client listeners
 * (the controller listeners are not a broker's), then a heartbeat that unfences the broker once
 * it has the metadata committed at its registration.
 */
async function registerWithController(controller: ControllerChannel, metadata: MetadataView, config: BrokerConfig, advertised: ReadonlyMap<string, { host: string; port: number }>, log: Logger): Promise<void> {
  const registration = registrationOf(config, advertised);
  const brokerId = registration.brokerId;
  const brokerEpoch = await register(controller, registration);
  const heartbeat = await controller.brokerHeartbeat({ brokerId, brokerEpoch, currentMetadataOffset: metadata.offset, wantFence: false, wantShutDown: false });
  if (heartbeat.value === null || heartbeat.value.isFenced) throw new KafkaError(heartbeat.errorCode, `Broker ${brokerId} is still fenced after its first heartbeat: ${heartbeat.errorMessage ?? 'not caught up'}`);
  log.debug({ brokerId, brokerEpoch }, 'registered with the controller');
}

/**
 * A quorum's broker lifecycle (Kafka's BrokerLifecycleManager): BrokerRegistration with the
 * active controller, heartbeats until the controller finds it caught up and unfences it, then a
 * heartbeat every broker.heartbeat.interval.ms, which keeps its session (the controller fences a
 * broker silent for broker.session.timeout.ms). A heartbeat answered STALE_BROKER_EPOCH (the
 * registration was replaced) registers again.
 */
class BrokerLifecycle {
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private stopped = false;

  private constructor(
    private readonly controller: ControllerChannel,
    private readonly metadata: MetadataView,
    private readonly registration: BrokerRegistrationRequest,
    private brokerEpoch: bigint,
    private readonly log: Logger,
  ) {}

  static async start(controller: ControllerChannel, metadata: MetadataView, config: BrokerConfig, advertised: ReadonlyMap<string, { host: string; port: number }>, intervalMs: number, log: Logger): Promise<BrokerLifecycle> {
    const registration = registrationOf(config, advertised);
    const deadline = Date.now() + UNFENCE_TIMEOUT_MS;
    // Refused while this broker's previous incarnation still has a session (a restart right
    // after a crash, or a new active controller that gave every broker a fresh session): tried
    // again until that session runs out and the controller fences it.
    let epoch: bigint;
    for (;;) {
      const registered = await controller.registerBroker(registration);
      if (registered.value !== null) {
        epoch = registered.value;
        break;
      }
      if (registered.errorCode !== ErrorCode.DUPLICATE_BROKER_REGISTRATION || Date.now() > deadline) throw new KafkaError(registered.errorCode, `Broker registration failed: ${registered.errorMessage}`);
      log.info({ brokerId: registration.brokerId }, 'an earlier registration of this broker id still has a session; registering again shortly');
      await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, 500)));
    }
    const lifecycle = new BrokerLifecycle(controller, metadata, registration, epoch, log);
    for (;;) {
      const hb = await lifecycle.heartbeat();
      if (hb !== null && !hb.isFenced) break;
      if (Date.now() > deadline) throw new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `Broker ${registration.brokerId} is still fenced ${UNFENCE_TIMEOUT_MS} ms after its registration`);
      await new Promise((resolve) => setTimeout(resolve, Math.min(intervalMs, 100)));
    }
    log.info({ brokerId: registration.brokerId, brokerEpoch: lifecycle.brokerEpoch }, 'registered with the active controller and unfenced');
    lifecycle.timer = setInterval(() => void lifecycle.tick(), intervalMs);
    lifecycle.timer.unref();
    return lifecycle;
  }

  private async tick(): Promise<void> {
    if (this.inFlight || this.stopped) return; // one heartbeat at a time
    this.inFlight = true;
    try {
      await this.heartbeat();
    } finally {
      this.inFlight = false;
    }
  }

  /** One heartbeat; null when it failed (logged). Re-registers on STALE_BROKER_EPOCH. */
  private async heartbeat(): Promise<{ isFenced: boolean } | null> {
    const r = await this.controller.brokerHeartbeat({ brokerId: this.registration.brokerId, brokerEpoch: this.brokerEpoch, currentMetadataOffset: this.metadata.offset, wantFence: false, wantShutDown: false });
    if (r.value !== null) return r.value;
    if (r.errorCode === ErrorCode.STALE_BROKER_EPOCH && !this.stopped) {
      this.log.info({ brokerId: this.registration.brokerId, brokerEpoch: this.brokerEpoch }, 'registration replaced; registering again');
      try {
        this.brokerEpoch = await register(this.controller, this.registration);
      } catch (err) {
        this.log.warn({ reason: (err as Error).message }, 'broker registration failed');
      }
    } else if (!this.stopped) {
      this.log.warn({ errorCode: r.errorCode, error: r.errorMessage }, 'broker heartbeat failed');
    }
    return null;
  }

  /**
   * Stops heartbeating. On a clean shutdown, a last heartbeat asks to shut down (Kafka's
   * controlled shutdown): the controller fences the broker at once, so its next start can
   * register without waiting for the old session to run out. Bounded by `waitMs`.
   */
  async stop(waitMs: number): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    const last = this.controller.brokerHeartbeat({ brokerId: this.registration.brokerId, brokerEpoch: this.brokerEpoch, currentMetadataOffset: this.metadata.offset, wantFence: true, wantShutDown: true });
    await Promise.race([last.catch(() => {}), new Promise((resolve) => setTimeout(resolve, waitMs).unref())]);
  }
}

/** How long a clean shutdown waits for the controller to take note of it. */
const CONTROLLED_SHUTDOWN_WAIT_MS = 2000;
/** How long a quorum's broker waits at start-up to be unfenced. */
const UNFENCE_TIMEOUT_MS = 60_000;

function registrationOf(config: BrokerConfig, advertised: ReadonlyMap<string, { host: string; port: number }>): BrokerRegistrationRequest {
  const controllerListeners = new Set(config.list('controller.listener.names').map((n) => n.toUpperCase()));
  const endpoints = [...advertised].filter(([name]) => !controllerListeners.has(name)).map(([name, ep]) => ({ name, host: ep.host, port: ep.port, securityProtocol: config.securityProtocolId(name) }));
  return { brokerId: config.nodeId, incarnationId: newTopicId(), endpoints, rack: config.raw('broker.rack') };
}

async function register(controller: ControllerChannel, registration: BrokerRegistrationRequest): Promise<bigint> {
  const registered = await controller.registerBroker(registration);
  if (registered.value === null) throw new KafkaError(registered.errorCode, `Broker registration failed: ${registered.errorMessage}`);
  return registered.value;
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

