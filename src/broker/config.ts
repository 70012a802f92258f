// Broker configuration with Kafka's property names (server.properties). Every key Tributary
// reads is declared once here with its type, default and validation; Kafka keys that Tributary
// accepts but does not act on are listed so that a Kafka user's file still starts. Anything else
// stops start-up with a message naming the key.
import { readFileSync } from 'node:fs';
import { parseProperties } from '../protocol/properties.js';
import { parseListeners, type ListenerSpec, type ServerLimits } from '../server/socket-server.js';
import { assignorByConfigName } from './group/consumer-assignors.js';
import { parsePlainJaasUsers, type SaslListenerSettings } from '../server/sasl.js';
import { parseSslPrincipalMappingRules, sslPrincipalMappingRulesProblem, type SslPrincipalMapper } from '../server/ssl-principal-mapper.js';
import { TlsSettingsError, tlsListenerOptions, type TlsListenerOptions } from './tls-settings.js';

type ValueType = 'int' | 'long' | 'double' | 'boolean' | 'string' | 'list' | 'password';

interface ConfigDef {
  type: ValueType;
  default: string | null;
  /** Returns an error message for an invalid value, or null. */
  validate?: (value: string) => string | null;
}

const atLeast = (min: number) => (v: string) => (Number(v) >= min ? null : `must be at least ${min}`);
const neverOrAtLeast = (min: number) => (v: string) => (v === '-1' || Number(v) >= min ? null : `must be -1 (never) or at least ${min}`);
const oneOf = (...allowed: string[]) => (v: string) =>
  allowed.includes(v) ? null : `must be one of ${allowed.join(', ')}`;

/** 256 MiB: two and a half of the largest request (socket.request.max.bytes, 100 MiB) or 256
 * produce requests of the clients' usual 1 MiB being read at once, a quarter of the 1 GiB heap
 * Kafka's scripts give a broker; small enough that hostile peers cannot exhaust the machine. */
const QUEUED_MAX_REQUEST_BYTES_DEFAULT = 256 * 1024 * 1024;

const SECURITY_PROTOCOL_IDS: Record<string, number> = { PLAINTEXT: 0, SSL: 1, SASL_PLAINTEXT: 2, SASL_SSL: 3 };

const DEFS: Record<string, ConfigDef> = {
  'node.id': { type: 'int', default: '1', validate: atLeast(0) },
  'broker.id': { type: 'int', default: null, validate: atLeast(-1) },
  'process.roles': {
    type: 'list',
    default: 'broker,controller',
    validate: (v) =>
      v.split(',').every((r) => ['broker', 'controller'].includes(r.trim())) ? null : 'roles are broker and/or controller',
  },
  listeners: { type: 'string', default: 'PLAINTEXT://:9092' },
  'advertised.listeners': { type: 'string', default: null },
  'listener.security.protocol.map': {
    type: 'string',
    default: 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
  },
  'inter.broker.listener.name': { type: 'string', default: null },
  'controller.listener.names': { type: 'string', default: 'CONTROLLER' },
  'controller.quorum.voters': { type: 'string', default: '' },
  'controller.quorum.bootstrap.servers': { type: 'string', default: '' },
  // KRaft quorum tuning, read by the Raft core of a multi-voter quorum (node/quorum-node.ts,
  // controller/raft/quorum-config.ts checks them); a single voter has no elections to tune.
  'controller.quorum.election.timeout.ms': { type: 'int', default: '1000', validate: atLeast(1) },
  'controller.quorum.fetch.timeout.ms': { type: 'int', default: '2000', validate: atLeast(1) },
  'controller.quorum.election.backoff.max.ms': { type: 'int', default: '1000', validate: atLeast(0) },
  'controller.quorum.request.timeout.ms': { type: 'int', default: '2000', validate: atLeast(1) },
  'controller.quorum.retry.backoff.ms': { type: 'int', default: '20', validate: atLeast(0) },
  'metadata.log.max.record.bytes.between.snapshots': { type: 'long', default: '20971520', validate: atLeast(1) },
  'metadata.log.max.snapshot.interval.ms': { type: 'long', default: '3600000', validate: atLeast(0) },
  // Kafka's default is 1 GiB; Tributary keeps its earlier fixed 64 MiB (snapshots bound the log anyway).
  'metadata.log.segment.bytes': { type: 'int', default: String(64 * 1024 * 1024), validate: atLeast(14) },
  'broker.rack': { type: 'string', default: null },
  // TLS of SSL listeners (tls-settings.ts); each also as listener.name.<listener>.ssl.*.
  // SASL of SASL_PLAINTEXT / SASL_SSL listeners (server/sasl.ts); PLAIN users come from
  // listener.name.<listener>.plain.sasl.jaas.config.
  'sasl.enabled.mechanisms': { type: 'list', default: 'GSSAPI' },
  // ACLs (authorizer.ts): off unless authorizer.class.name names Kafka's StandardAuthorizer.
  'authorizer.class.name': {
    type: 'string',
    default: '',
    validate: (v) => (v === '' || v === STANDARD_AUTHORIZER ? null : `Tributary's authorizer is Kafka's KRaft one: set ${STANDARD_AUTHORIZER}, or leave it empty for none`),
  },
  // Semicolon-separated principals (User:admin;User:ops), as Kafka's super.users.
  'super.users': { type: 'string', default: '' },
  'allow.everyone.if.no.acl.found': { type: 'boolean', default: 'false' },
  'sasl.server.max.receive.size': { type: 'int', default: '524288', validate: atLeast(1) },
  'sasl.mechanism.inter.broker.protocol': { type: 'string', default: 'GSSAPI' },
  'sasl.mechanism.controller.protocol': { type: 'string', default: 'GSSAPI' },
  'ssl.keystore.type': { type: 'string', default: 'JKS' },
  'ssl.keystore.location': { type: 'string', default: null },
  'ssl.keystore.password': { type: 'password', default: null },
  'ssl.key.password': { type: 'password', default: null },
  'ssl.keystore.certificate.chain': { type: 'password', default: null },
  'ssl.keystore.key': { type: 'password', default: null },
  'ssl.truststore.type': { type: 'string', default: 'JKS' },
  'ssl.truststore.location': { type: 'string', default: null },
  'ssl.truststore.password': { type: 'password', default: null },
  'ssl.truststore.certificates': { type: 'password', default: null },
  'ssl.client.auth': { type: 'string', default: 'none', validate: oneOf('required', 'requested', 'none') },
  'ssl.enabled.protocols': { type: 'list', default: 'TLSv1.2,TLSv1.3' },
  'ssl.protocol': { type: 'string', default: 'TLSv1.3' },
  'ssl.cipher.suites': { type: 'list', default: '' },
  'ssl.endpoint.identification.algorithm': { type: 'string', default: 'https' },
  // How an SSL listener names a client certificate's principal (server/ssl-principal-mapper.ts).
  'ssl.principal.mapping.rules': { type: 'string', default: 'DEFAULT', validate: sslPrincipalMappingRulesProblem },
  'ssl.keymanager.algorithm': { type: 'string', default: 'SunX509' },
  'ssl.trustmanager.algorithm': { type: 'string', default: 'PKIX' },
  'broker.session.timeout.ms': { type: 'int', default: '9000', validate: atLeast(1) },
  'broker.heartbeat.interval.ms': { type: 'int', default: '2000', validate: atLeast(1) },
  'cluster.id': { type: 'string', default: null },
  'log.dirs': { type: 'list', default: null },
  'log.dir': { type: 'string', default: '/tmp/kafka-logs' },
  'metadata.log.dir': { type: 'string', default: null },
  'num.partitions': { type: 'int', default: '1', validate: atLeast(1) },
  'default.replication.factor': { type: 'int', default: '1', validate: atLeast(1) },
  'auto.create.topics.enable': { type: 'boolean', default: 'true' },
  'delete.topic.enable': { type: 'boolean', default: 'true' },
  'message.max.bytes': { type: 'int', default: '1048588', validate: atLeast(0) },
  'socket.request.max.bytes': { type: 'int', default: '104857600', validate: atLeast(1) },
  'queued.max.requests': { type: 'int', default: '500', validate: atLeast(1) },
  // Kafka's default is -1 (unbounded); see queuedMaxRequestBytes for why Tributary bounds it.
  'queued.max.request.bytes': { type: 'long', default: String(QUEUED_MAX_REQUEST_BYTES_DEFAULT), validate: atLeast(-1) },
  'connections.max.idle.ms': { type: 'long', default: '600000', validate: neverOrAtLeast(1) },
  // KIP-368: a SASL session's lifetime, after which the client must re-authenticate (0: never);
  // also per listener and mechanism, listener.name.<l>.<mechanism>.connections.max.reauth.ms.
  'connections.max.reauth.ms': { type: 'long', default: '0' },
  // Tributary's own (Kafka has no equivalent): a request must arrive completely within this time
  // of its first byte. 30 s is the clients' default request.timeout.ms: a client has given up on
  // a request by then anyway.
  'socket.request.read.timeout.ms': { type: 'long', default: '30000', validate: neverOrAtLeast(1) },
  'max.request.partition.size.limit': { type: 'int', default: '2000', validate: atLeast(1) },
  'telemetry.max.bytes': { type: 'int', default: '1048576', validate: atLeast(1) },
  // Prometheus /metrics (broker-metrics.ts): http://host:port; empty: no metrics listener.
  'metrics.listener': {
    type: 'string',
    default: '',
    validate: (v) => (v === '' || /^http:\/\/(\[[^\]]+\]|[^:/]*):\d{1,5}\/?$/.test(v) ? null : 'expected http://host:port, or empty for no metrics listener'),
  },
  'log.segment.bytes': { type: 'int', default: String(1024 * 1024 * 1024), validate: atLeast(14) },
  'log.roll.ms': { type: 'long', default: null, validate: atLeast(1) },
  'log.roll.hours': { type: 'int', default: '168', validate: atLeast(1) },
  'log.retention.ms': { type: 'long', default: null, validate: atLeast(-1) },
  'log.retention.minutes': { type: 'int', default: null, validate: atLeast(-1) },
  'log.retention.hours': { type: 'int', default: '168', validate: atLeast(-1) },
  'log.retention.bytes': { type: 'long', default: '-1', validate: atLeast(-1) },
  'log.retention.check.interval.ms': { type: 'long', default: '300000', validate: atLeast(1) },
  'log.flush.interval.messages': { type: 'long', default: '9223372036854775807', validate: atLeast(1) },
  'log.flush.interval.ms': { type: 'long', default: null, validate: atLeast(0) },
  'log.flush.scheduler.interval.ms': { type: 'long', default: '9223372036854775807', validate: atLeast(0) },
  'log.index.interval.bytes': { type: 'int', default: '4096', validate: atLeast(0) },
  'log.index.size.max.bytes': { type: 'int', default: String(10 * 1024 * 1024), validate: atLeast(4) },
  'log.message.timestamp.before.max.ms': { type: 'long', default: '9223372036854775807', validate: atLeast(0) },
  'log.message.timestamp.after.max.ms': { type: 'long', default: '9223372036854775807', validate: atLeast(0) },
  'log.message.timestamp.type': { type: 'string', default: 'CreateTime', validate: oneOf('CreateTime', 'LogAppendTime') },
  // Kafka 3.x's switch for Fetch v0-3 (message formats v0/v1 converted from stored batches);
  // Kafka 4 removed both the key and those versions.
  'log.message.downconversion.enable': { type: 'boolean', default: 'true' },
  'log.cleanup.policy': { type: 'list', default: 'delete' },
  // The log cleaner (compaction), with Kafka's names and defaults (CleanerConfig).
  'log.cleaner.enable': { type: 'boolean', default: 'true' },
  'log.cleaner.threads': { type: 'int', default: '1', validate: atLeast(0) },
  'log.cleaner.dedupe.buffer.size': { type: 'long', default: String(128 * 1024 * 1024), validate: atLeast(24 * 2) },
  'log.cleaner.io.buffer.size': { type: 'int', default: String(512 * 1024), validate: atLeast(0) },
  'log.cleaner.io.buffer.load.factor': { type: 'double', default: '0.9', validate: (v) => (Number(v) > 0 && Number(v) < 1 ? null : 'must be between 0 and 1 (exclusive)') },
  'log.cleaner.io.max.bytes.per.second': { type: 'double', default: '1.7976931348623157E308', validate: (v) => (Number(v) > 0 ? null : 'must be positive') },
  'log.cleaner.backoff.ms': { type: 'long', default: '15000', validate: atLeast(0) },
  'log.cleaner.min.cleanable.ratio': { type: 'double', default: '0.5', validate: (v) => (Number(v) >= 0 && Number(v) <= 1 ? null : 'must be between 0 and 1') },
  'log.cleaner.delete.retention.ms': { type: 'long', default: '86400000', validate: atLeast(0) },
  'log.cleaner.min.compaction.lag.ms': { type: 'long', default: '0', validate: atLeast(0) },
  'log.cleaner.max.compaction.lag.ms': { type: 'long', default: '9223372036854775807', validate: atLeast(1) },
  'log.segment.delete.delay.ms': { type: 'long', default: '60000', validate: atLeast(0) },
  'min.insync.replicas': { type: 'int', default: '1', validate: atLeast(1) },
  'offsets.topic.num.partitions': { type: 'int', default: '50', validate: atLeast(1) },
  'offsets.topic.replication.factor': { type: 'int', default: '3', validate: atLeast(1) },
  'offsets.topic.segment.bytes': { type: 'int', default: String(100 * 1024 * 1024), validate: atLeast(1) },
  'offsets.retention.minutes': { type: 'int', default: '10080', validate: atLeast(1) },
  'offsets.retention.check.interval.ms': { type: 'long', default: '600000', validate: atLeast(1) },
  'offsets.commit.timeout.ms': { type: 'int', default: '5000', validate: atLeast(1) },
  'group.initial.rebalance.delay.ms': { type: 'int', default: '3000', validate: atLeast(0) },
  'group.min.session.timeout.ms': { type: 'int', default: '6000', validate: atLeast(0) },
  'group.max.session.timeout.ms': { type: 'int', default: '1800000', validate: atLeast(0) },
  'group.max.size': { type: 'int', default: '2147483647', validate: atLeast(1) },
  // Consumer groups (KIP-848, group.protocol=consumer).
  'group.consumer.session.timeout.ms': { type: 'int', default: '45000', validate: atLeast(1) },
  'group.consumer.heartbeat.interval.ms': { type: 'int', default: '5000', validate: atLeast(1) },
  'group.consumer.min.session.timeout.ms': { type: 'int', default: '45000', validate: atLeast(1) },
  'group.consumer.max.session.timeout.ms': { type: 'int', default: '60000', validate: atLeast(1) },
  'group.consumer.min.heartbeat.interval.ms': { type: 'int', default: '5000', validate: atLeast(1) },
  'group.consumer.max.heartbeat.interval.ms': { type: 'int', default: '15000', validate: atLeast(1) },
  'group.consumer.max.size': { type: 'int', default: '2147483647', validate: atLeast(1) },
  // Share groups (KIP-932): not served yet; their bounds check the share.* group configs.
  'group.share.session.timeout.ms': { type: 'int', default: '45000', validate: atLeast(1) },
  'group.share.min.session.timeout.ms': { type: 'int', default: '45000', validate: atLeast(1) },
  'group.share.max.session.timeout.ms': { type: 'int', default: '60000', validate: atLeast(1) },
  'group.share.heartbeat.interval.ms': { type: 'int', default: '5000', validate: atLeast(1) },
  'group.share.min.heartbeat.interval.ms': { type: 'int', default: '5000', validate: atLeast(1) },
  'group.share.max.heartbeat.interval.ms': { type: 'int', default: '15000', validate: atLeast(1) },
  'group.share.record.lock.duration.ms': { type: 'int', default: '30000', validate: atLeast(1000) },
  'group.share.min.record.lock.duration.ms': { type: 'int', default: '15000', validate: atLeast(1000) },
  'group.share.max.record.lock.duration.ms': { type: 'int', default: '60000', validate: atLeast(1000) },
  'group.consumer.assignors': {
    type: 'list',
    default: 'uniform,range',
    validate: (v) => (v.split(',').every((n) => assignorByConfigName(n) !== undefined) ? null : 'assignors are uniform and range (or their Kafka class names)'),
  },
  'transaction.state.log.num.partitions': { type: 'int', default: '50', validate: atLeast(1) },
  'transaction.state.log.replication.factor': { type: 'int', default: '3', validate: atLeast(1) },
  'transaction.state.log.min.isr': { type: 'int', default: '2', validate: atLeast(1) },
  'transaction.state.log.segment.bytes': { type: 'int', default: String(100 * 1024 * 1024), validate: atLeast(1) },
  'transaction.abort.timed.out.transaction.cleanup.interval.ms': { type: 'int', default: '10000', validate: atLeast(1) },
  'transaction.remove.expired.transaction.cleanup.interval.ms': { type: 'int', default: '3600000', validate: atLeast(1) },
  'transactional.id.expiration.ms': { type: 'int', default: '604800000', validate: atLeast(1) },
  'transaction.max.timeout.ms': { type: 'int', default: '900000', validate: atLeast(1) },
  'producer.id.expiration.ms': { type: 'int', default: '86400000', validate: atLeast(1) },
  'fetch.max.bytes': { type: 'int', default: String(55 * 1024 * 1024), validate: atLeast(1024) },
  'max.incremental.fetch.session.cache.slots': { type: 'int', default: '1000', validate: atLeast(0) },
  'replica.lag.time.max.ms': { type: 'long', default: '30000', validate: atLeast(0) },
  // Controller mutation quota (KIP-599): Kafka's window keys, and a Tributary broker-wide rate
  // standing in for the controller_mutation_rate client quota (partitions created or deleted per
  // second; the bucket holds rate * window.num * window.size.seconds).
  'controller.quota.window.num': { type: 'int', default: '11', validate: atLeast(1) },
  'controller.quota.window.size.seconds': { type: 'int', default: '1', validate: atLeast(1) },
  'controller.quota.mutation.rate': { type: 'double', default: '1000', validate: (v) => (Number(v) > 0 ? null : 'must be positive') },
};

// Kafka broker keys that a Kafka user's server.properties commonly carries and that Tributary
// accepts without acting on (threads and socket buffers are Java-specific tuning).
const ACCEPTED_WITHOUT_EFFECT = new Set([
  'num.network.threads', 'num.io.threads', 'num.replica.fetchers', 'num.recovery.threads.per.data.dir',
  'socket.send.buffer.bytes', 'socket.receive.buffer.bytes', 'background.threads',
  'log.preallocate', 'unclean.leader.election.enable',
  'auto.leader.rebalance.enable', 'leader.imbalance.check.interval.seconds', 'compression.type',
  'share.coordinator.state.topic.replication.factor', 'share.coordinator.state.topic.min.isr',
  'metadata.max.retention.bytes',
  'controlled.shutdown.enable', 'request.timeout.ms', 'metric.reporters',
  'confluent.support.metrics.enable', 'replica.fetch.max.bytes', 'replica.socket.timeout.ms',
]);

/** Kafka's DescribeConfigs source codes for the layers of a broker setting. */
export const ConfigLayer = {
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

export type BrokerConfigValueType = ValueType;

const NO_VALUES: ReadonlyMap<string, string> = new Map();

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** server.properties is read with the one .properties parser of the broker and the tools. */
export { parseProperties };

/** A validated broker configuration. Typed getters read the value or the default. */
export class BrokerConfig {
  private constructor(
    private readonly values: Map<string, string>,
    /** Dynamic overrides from the metadata log (AlterConfigs on BROKER resources), per broker
     * and cluster-wide; they win over server.properties, as in Kafka. */
    private readonly dynamicBroker: ReadonlyMap<string, string> = NO_VALUES,
    private readonly dynamicDefault: ReadonlyMap<string, string> = NO_VALUES,
  ) {}

  /** This configuration with dynamic broker configs layered on top (same static values). */
  withDynamic(perBroker: ReadonlyMap<string, string> | undefined, clusterDefault: ReadonlyMap<string, string> | undefined): BrokerConfig {
    return new BrokerConfig(this.values, new Map(perBroker ?? NO_VALUES), new Map(clusterDefault ?? NO_VALUES));
  }

  /** Every key Tributary declares, for DescribeConfigs. */
  static declaredKeys(): string[] {
    return Object.keys(DEFS).sort();
  }

  /** Declared type of a key, or undefined for keys Tributary does not know. */
  static typeOf(key: string): ValueType | undefined {
    return DEFS[key]?.type;
  }

  /** Default of a declared key (null when it has none or is unknown). */
  static defaultOf(key: string): string | null {
    return DEFS[key]?.default ?? null;
  }

  /** Why `value` is not valid for `key` (type and range), or null. Unknown keys are a problem. */
  static valueProblem(key: string, value: string): string | null {
    const def = DEFS[key];
    if (def === undefined) return `Unknown configuration '${key}'`;
    return checkType(def.type, value) ?? def.validate?.(value.trim()) ?? null;
  }

  /** Where `key` is set, most specific first, ending with its default when it has one. */
  layers(key: string): { value: string; source: number }[] {
    const out: { value: string; source: number }[] = [];
    const perBroker = this.dynamicBroker.get(key);
    if (perBroker !== undefined) out.push({ value: perBroker, source: ConfigLayer.DYNAMIC_BROKER_CONFIG });
    const clusterDefault = this.dynamicDefault.get(key);
    if (clusterDefault !== undefined) out.push({ value: clusterDefault, source: ConfigLayer.DYNAMIC_DEFAULT_BROKER_CONFIG });
    const configured = this.values.get(key);
    if (configured !== undefined) out.push({ value: configured, source: ConfigLayer.STATIC_BROKER_CONFIG });
    const def = DEFS[key];
    if (def !== undefined && def.default !== null) out.push({ value: def.default, source: ConfigLayer.DEFAULT_CONFIG });
    return out;
  }

  /** The dynamic configs of this broker (resource name = its node id). */
  get dynamicPerBroker(): ReadonlyMap<string, string> {
    return this.dynamicBroker;
  }

  /** The cluster-wide dynamic defaults (resource name ''). */
  get dynamicDefaults(): ReadonlyMap<string, string> {
    return this.dynamicDefault;
  }

  static fromProperties(props: Map<string, string>): BrokerConfig {
    for (const [key, value] of props) {
      const def = DEFS[key];
      if (def === undefined) {
        // TLS and SASL settings would be ignored, leaving a listener meant to be secure open.
        // A per-listener TLS setting is checked as its plain form; SASL settings would be
        // ignored, leaving a listener meant to be secure open.
        const perListener = /^listener\.name\.[A-Za-z0-9_]+\.((?:ssl|sasl)\..+)$/.exec(key);
        // The PLAIN users of a listener; checked when the listener is.
        if (/^listener\.name\.[A-Za-z0-9_]+\.plain\.sasl\.jaas\.config$/.test(key)) continue;
        // A session lifetime per listener (and mechanism), read with the listener's SASL settings.
        const reauth = /^listener\.name\.[A-Za-z0-9_]+\.(?:[a-z0-9-]+\.)?(connections\.max\.reauth\.ms)$/.exec(key);
        const base = perListener !== null ? DEFS[perListener[1]!] : reauth !== null ? DEFS[reauth[1]!] : undefined;
        if (base !== undefined) {
          const problem = checkType(base.type, value) ?? base.validate?.(value.trim()) ?? null;
          if (problem !== null) throw new ConfigError(`Invalid value '${value}' for configuration '${key}': ${problem}`);
          continue;
        }
        if (isSecurityKey(key)) throw new ConfigError(`Unknown configuration '${key}' (Tributary does not support this ${/sasl/.test(key) ? 'SASL' : 'TLS'} setting yet)`);
        if (ACCEPTED_WITHOUT_EFFECT.has(key) || key.startsWith('listener.name.')) continue;
        throw new ConfigError(`Unknown configuration '${key}'`);
      }
      const problem = checkType(def.type, value) ?? def.validate?.(value.trim()) ?? null;
      if (problem !== null) throw new ConfigError(`Invalid value '${value}' for configuration '${key}': ${problem}`);
    }
    const cfg = new BrokerConfig(new Map([...props].map(([k, v]) => [k, v.trim()])));
    cfg.crossCheck();
    return cfg;
  }

  static load(file: string | null, overrides: Map<string, string>): BrokerConfig {
    const props = file === null ? new Map<string, string>() : parseProperties(readFileSync(file, 'utf8'));
    for (const [k, v] of overrides) props.set(k, v);
    return BrokerConfig.fromProperties(props);
  }

  has(key: string): boolean {
    return this.dynamicBroker.has(key) || this.dynamicDefault.has(key) || this.values.has(key);
  }

  raw(key: string): string | null {
    const dynamic = this.dynamicBroker.get(key) ?? this.dynamicDefault.get(key);
    if (dynamic !== undefined) return dynamic;
    if (this.values.has(key)) return this.values.get(key)!;
    const def = DEFS[key];
    if (def === undefined) throw new Error(`configuration '${key}' is not declared`);
    return def.default;
  }

  string(key: string): string {
    const v = this.raw(key);
    if (v === null) throw new ConfigError(`Missing required configuration '${key}'`);
    return v;
  }

  int(key: string): number {
    return Number(this.string(key));
  }

  /** Longs are read as numbers: values past 2^53 (Long.MAX_VALUE as "never") become Infinity. */
  long(key: string): number {
    const v = this.string(key);
    return v === '9223372036854775807' ? Number.POSITIVE_INFINITY : Number(v);
  }

  double(key: string): number {
    return Number(this.string(key));
  }

  bool(key: string): boolean {
    return this.string(key).toLowerCase() === 'true';
  }

  list(key: string): string[] {
    const v = this.raw(key);
    return v === null ? [] : v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  }

  get nodeId(): number {
    return this.has('node.id') || !this.has('broker.id') ? this.int('node.id') : this.int('broker.id');
  }

  get logDirs(): string[] {
    const dirs = this.list('log.dirs');
    return dirs.length > 0 ? dirs : [this.string('log.dir')];
  }

  get roles(): string[] {
    return this.list('process.roles');
  }

  get retentionMs(): number {
    if (this.has('log.retention.ms')) return this.long('log.retention.ms');
    if (this.has('log.retention.minutes')) return minutesOrUnlimited(this.int('log.retention.minutes'));
    const hours = this.int('log.retention.hours');
    return hours < 0 ? -1 : hours * 3_600_000;
  }

  get segmentMs(): number {
    if (this.has('log.roll.ms')) return this.long('log.roll.ms');
    return this.int('log.roll.hours') * 3_600_000;
  }

  /** A duration where -1 means never (connections.max.idle.ms, socket.request.read.timeout.ms). */
  msOrNever(key: string): number {
    const ms = this.long(key);
    return ms < 0 ? Number.POSITIVE_INFINITY : ms;
  }

  /**
   * queued.max.request.bytes as a bound (Infinity: unbounded, for Kafka's -1 or 0). When not set,
   * the default, raised to socket.request.max.bytes if that is larger, so raising only the largest
   * request size never makes the configuration invalid.
   */
  get queuedMaxRequestBytes(): number {
    const key = 'queued.max.request.bytes';
    if (!this.has(key)) return Math.max(QUEUED_MAX_REQUEST_BYTES_DEFAULT, this.int('socket.request.max.bytes'));
    const bytes = this.long(key);
    return bytes <= 0 ? Number.POSITIVE_INFINITY : bytes;
  }

  /** The SocketServer's limits for this node's listeners (socket.request.max.bytes and co). */
  get serverLimits(): ServerLimits {
    return {
      maxRequestBytes: this.int('socket.request.max.bytes'),
      maxInFlightRequests: this.int('queued.max.requests'),
      maxQueuedResponseBytes: 64 * 1024 * 1024,
      idleTimeoutMs: this.msOrNever('connections.max.idle.ms'),
      requestReadTimeoutMs: this.msOrNever('socket.request.read.timeout.ms'),
      queuedMaxRequestBytes: this.queuedMaxRequestBytes,
    };
  }

  get flushMs(): number {
    if (this.has('log.flush.interval.ms')) return this.long('log.flush.interval.ms');
    return this.long('log.flush.scheduler.interval.ms');
  }

  /** The parsed `listeners` (validated by fromProperties: each one maps to PLAINTEXT). */
  get listenerSpecs(): ListenerSpec[] {
    const protocols = this.securityProtocolMap();
    return parseListeners(this.string('listeners')).map((l) => {
      const protocol = protocols.get(l.name);
      const tls = protocol === 'SSL' || protocol === 'SASL_SSL' ? { tls: this.tlsOptionsOf(l.name) } : {};
      const sasl = protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL' ? { sasl: this.saslSettingsOf(l.name) } : {};
      // On SASL_SSL the SASL identity is the principal, as in Kafka.
      const certificatePrincipal = protocol === 'SSL' ? { sslPrincipalMapper: this.sslPrincipalMapperOf(l.name) } : {};
      return { ...l, ...tls, ...sasl, ...certificatePrincipal };
    });
  }

  /** An SSL listener's ssl.principal.mapping.rules, its listener-prefixed form first (the
   * value was validated when the configuration loaded). */
  private sslPrincipalMapperOf(listener: string): SslPrincipalMapper {
    const key = `listener.name.${listener.toLowerCase()}.ssl.principal.mapping.rules`;
    return parseSslPrincipalMappingRules(this.values.get(key) ?? this.string('ssl.principal.mapping.rules'));
  }

  /** TLS server options of each SSL listener, read once (crossCheck reads them at load). */
  private readonly tlsByListener = new Map<string, TlsListenerOptions>();

  /** A SASL listener's mechanisms and users, from its listener-prefixed settings. */
  private saslSettingsOf(listener: string): SaslListenerSettings {
    let settings = this.saslByListener.get(listener);
    if (settings === undefined) {
      settings = this.readSaslSettings(listener);
      this.saslByListener.set(listener, settings);
    }
    return settings;
  }

  private readonly saslByListener = new Map<string, SaslListenerSettings>();

  private readSaslSettings(listener: string): SaslListenerSettings {
    const prefix = `listener.name.${listener.toLowerCase()}.`;
    const raw = (k: string) => (this.values.has(k) ? this.values.get(k)! : null);
    const mechanismsKey = raw(prefix + 'sasl.enabled.mechanisms') !== null ? prefix + 'sasl.enabled.mechanisms' : 'sasl.enabled.mechanisms';
    const mechanismsValue = raw(mechanismsKey) ?? 'GSSAPI';
    const mechanisms = mechanismsValue.split(',').map((m) => m.trim().toUpperCase()).filter((m) => m.length > 0);
    const unsupported = mechanisms.filter((m) => !SASL_MECHANISMS.includes(m));
    if (mechanisms.length === 0 || unsupported.length > 0) {
      throw new ConfigError(
        `Invalid value '${mechanismsValue}' for configuration '${mechanismsKey}' (SASL listener ${listener}): Tributary supports ${SASL_MECHANISMS.join(', ')} so far (${unsupported.join(', ') || 'none given'} not implemented); set ${mechanismsKey} to some of them`,
      );
    }
    // PLAIN's users are the JAAS configuration's; SCRAM's are in the cluster metadata.
    let plainUsers = new Map<string, string>();
    if (mechanisms.includes('PLAIN')) {
      const jaasKey = `${prefix}plain.sasl.jaas.config`;
      const jaas = raw(jaasKey);
      if (jaas === null) throw new ConfigError(`SASL listener ${listener} with PLAIN needs '${jaasKey}' (org.apache.kafka.common.security.plain.PlainLoginModule required user_<name>="<password>" ...;)`);
      try {
        plainUsers = parsePlainJaasUsers(jaas);
      } catch (err) {
        throw new ConfigError(`Invalid value for configuration '${jaasKey}': ${(err as Error).message}`);
      }
    }
    // As Kafka: the listener-and-mechanism key, else the listener's, else the broker-wide one.
    const maxReauthMsByMechanism = new Map<string, number>();
    for (const m of mechanisms) {
      const key = [`${prefix}${m.toLowerCase()}.connections.max.reauth.ms`, `${prefix}connections.max.reauth.ms`].find((k) => raw(k) !== null) ?? 'connections.max.reauth.ms';
      maxReauthMsByMechanism.set(m, this.long(key));
    }
    return { mechanisms, plainUsers, maxReceiveBytes: this.int('sasl.server.max.receive.size'), maxReauthMsByMechanism };
  }

  private tlsOptionsOf(listener: string): TlsListenerOptions {
    let tls = this.tlsByListener.get(listener);
    if (tls === undefined) {
      tls = readTls(listener, (k) => (this.values.has(k) ? this.values.get(k)! : null));
      this.tlsByListener.set(listener, tls);
    }
    return tls;
  }

  /** The listeners that speak TLS (SSL and SASL_SSL). */
  tlsListenerNames(): string[] {
    const protocols = this.securityProtocolMap();
    return parseListeners(this.string('listeners'))
      .map((l) => l.name)
      .filter((name) => protocols.get(name) === 'SSL' || protocols.get(name) === 'SASL_SSL');
  }

  /** The ssl.* settings of a TLS listener with the dynamic ones on top, as one comparable string:
   * certificate rotation reads the stores again only when this changes. */
  tlsSettingsKey(listener: string): string {
    const prefix = `listener.name.${listener.toLowerCase()}.ssl.`;
    const keys = [...new Set([...this.dynamicBroker.keys(), ...this.dynamicDefault.keys(), ...this.values.keys()])].filter((k) => k.startsWith(prefix) || k.startsWith('ssl.')).sort();
    return JSON.stringify(keys.map((k) => [k, this.tlsSetting(k)]));
  }

  /**
   * The TLS options of a TLS listener with the dynamic per-listener settings on top (certificate
   * rotation through IncrementalAlterConfigs, as Kafka's `listener.name.<l>.ssl.*` broker
   * configs). Reads the stores; throws ConfigError naming the key when they do not load.
   */
  dynamicTlsOptions(listener: string): TlsListenerOptions {
    return readTls(listener, (k) => this.tlsSetting(k));
  }

  private tlsSetting(key: string): string | null {
    return this.dynamicBroker.get(key) ?? this.dynamicDefault.get(key) ?? this.values.get(key) ?? null;
  }

  /** Kafka's listener name -> security protocol map: `listener.security.protocol.map`, plus, when
   * that key is not set, the controller listener names as PLAINTEXT (as in KRaft mode). */
  private securityProtocolMap(): Map<string, string> {
    const key = 'listener.security.protocol.map';
    const out = new Map<string, string>();
    for (const entry of this.list(key)) {
      const m = /^([A-Za-z0-9_]+)\s*:\s*([A-Za-z_]+)$/.exec(entry);
      if (m === null) throw new ConfigError(`Invalid value '${this.string(key)}' for configuration '${key}': malformed entry '${entry}', expected NAME:PROTOCOL`);
      const name = m[1]!.toUpperCase();
      const protocol = m[2]!.toUpperCase();
      if (!SECURITY_PROTOCOLS.includes(protocol)) {
        throw new ConfigError(`Invalid value '${this.string(key)}' for configuration '${key}': unknown security protocol '${m[2]}' (one of ${SECURITY_PROTOCOLS.join(', ')})`);
      }
      if (out.has(name)) throw new ConfigError(`Invalid value '${this.string(key)}' for configuration '${key}': listener ${name} appears more than once`);
      out.set(name, protocol);
    }
    if (!this.values.has(key)) {
      for (const name of this.list('controller.listener.names')) if (!out.has(name.toUpperCase())) out.set(name.toUpperCase(), 'PLAINTEXT');
    }
    return out;
  }

  /** The security protocol of a listener (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), or undefined. */
  securityProtocolOf(listenerName: string): string | undefined {
    return this.securityProtocolMap().get(listenerName.toUpperCase());
  }

  /** Kafka's SecurityProtocol id of a listener (0 PLAINTEXT, 1 SSL, 2 SASL_PLAINTEXT, 3 SASL_SSL). */
  securityProtocolId(listenerName: string): number {
    const id = SECURITY_PROTOCOL_IDS[this.securityProtocolMap().get(listenerName.toUpperCase()) ?? 'PLAINTEXT'];
    return id ?? 0;
  }

  /** Every listener and advertised listener must map to a security protocol. A SASL listener's
   * mechanisms and users, and an SSL listener's key store and settings, are read and checked
   * here, so a listener meant to be secure never starts open. */
  private checkListenerSecurity(): void {
    const protocols = this.securityProtocolMap();
    for (const key of ['listeners', 'advertised.listeners']) {
      const value = this.raw(key);
      if (value === null || value === '') continue;
      let specs: ListenerSpec[];
      try {
        specs = parseListeners(value);
      } catch (err) {
        throw new ConfigError(`Invalid value '${value}' for configuration '${key}': ${(err as Error).message}`);
      }
      for (const { name } of specs) {
        const protocol = protocols.get(name);
        if (protocol === undefined) {
          throw new ConfigError(`Invalid value '${value}' for configuration '${key}': No security protocol defined for listener ${name} (see 'listener.security.protocol.map')`);
        }
        if (key !== 'listeners') continue;
        if (protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL') this.saslSettingsOf(name);
        if (protocol === 'SSL' || protocol === 'SASL_SSL') this.tlsOptionsOf(name);
      }
    }
  }

  private crossCheck(): void {
    const roles = this.roles;
    if (roles.length === 0) throw new ConfigError(`Invalid value '' for configuration 'process.roles': at least one role is required`);
    if (this.has('broker.id') && this.has('node.id') && this.int('broker.id') !== this.int('node.id')) {
      throw new ConfigError(`Configuration 'broker.id' (${this.int('broker.id')}) must equal 'node.id' (${this.int('node.id')})`);
    }
    this.checkListenerSecurity();
    // As Kafka's GroupCoordinatorConfig: each group timeout within its bounds.
    for (const [kind, what] of [['consumer', 'session.timeout.ms'], ['consumer', 'heartbeat.interval.ms'], ['share', 'session.timeout.ms'], ['share', 'heartbeat.interval.ms'], ['share', 'record.lock.duration.ms']] as const) {
      const key = `group.${kind}.${what}`;
      const min = `group.${kind}.min.${what}`;
      const max = `group.${kind}.max.${what}`;
      if (this.int(min) > this.int(max)) throw new ConfigError(`Invalid value for configuration '${max}': ${max} must be greater than or equal to ${min}`);
      if (this.int(key) < this.int(min)) throw new ConfigError(`Invalid value for configuration '${key}': ${key} must be greater than or equal to ${min}`);
      if (this.int(key) > this.int(max)) throw new ConfigError(`Invalid value for configuration '${key}': ${key} must be less than or equal to ${max}`);
    }
    const queued = this.has('queued.max.request.bytes') ? this.long('queued.max.request.bytes') : 0;
    if (queued > 0 && queued < this.int('socket.request.max.bytes')) {
      throw new ConfigError(`Invalid value '${queued}' for configuration 'queued.max.request.bytes': must be at least socket.request.max.bytes (${this.int('socket.request.max.bytes')}), or -1 for unbounded`);
    }
  }
}

const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'];

function readTls(listener: string, read: (key: string) => string | null): TlsListenerOptions {
  try {
    return tlsListenerOptions(listener, read);
  } catch (err) {
    if (err instanceof TlsSettingsError) throw new ConfigError(err.message);
    throw err;
  }
}
const SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
/** authorizer.class.name of Kafka's KRaft authorizer (KIP-801). */
export const STANDARD_AUTHORIZER = 'org.apache.kafka.metadata.authorizer.StandardAuthorizer';

/** `ssl.*`, `sasl.*`, and their per-listener forms (`listener.name.<name>.ssl.keystore.location`,
 * `listener.name.<name>.<mechanism>.sasl.jaas.config`). */
function isSecurityKey(key: string): boolean {
  if (key.startsWith('ssl.') || key.startsWith('sasl.')) return true;
  if (!key.startsWith('listener.name.')) return false;
  return key.split('.').slice(3).some((part) => part === 'ssl' || part === 'sasl');
}

function minutesOrUnlimited(minutes: number): number {
  return minutes < 0 ? -1 : minutes * 60_000;
}

function checkType(type: ValueType, raw: string): string | null {
  const value = raw.trim();
  switch (type) {
    case 'int':
      return /^-?\d+$/.test(value) && Math.abs(Number(value)) <= 2 ** 31 ? null : 'expected an integer';
    case 'long':
      return /^-?\d+$/.test(value) ? null : 'expected an integer';
    case 'double':
      return value !== '' && Number.isFinite(Number(value)) ? null : 'expected a number';
    case 'boolean':
      return /^(true|false)$/i.test(value) ? null : 'expected true or false';
    default:
      return null;
  }
}
