// Which broker configs AlterConfigs / IncrementalAlterConfigs may change on a BROKER resource,
// with Kafka's rules (its DynamicBrokerConfig), checked in Kafka's order:
//   1. a key Kafka knows but cannot change at run time -> "Cannot update these configs dynamically";
//   2. an SSL key that names a keystore/truststore without a listener prefix -> "These security
//      configs can be dynamically updated only per-listener using the listener prefix";
//   3. value types of the keys whose type is known (listener-prefixed keys by their base name);
//   4. on the cluster-default resource (''), per-broker keys (listener, SSL and SASL settings,
//      and any `listener.name.<listener>.*` key) -> "Cannot update these configs at default
//      cluster level, broker id must be specified".
// Keys Kafka does not know are custom configs, which Kafka stores and describes back; so do we.
// Stored settings Tributary has no feature for yet (thread pools, connection limits, remote log,
// replication throttles, Kerberos) have no effect until it does; the README lists them. The ones
// it has apply when a BROKER ConfigRecord commits (BrokerServer's metadata subscriber: topic
// defaults, the log cleaner, TLS stores). Listener addresses are the
// exception: Tributary cannot rebind or re-advertise at run time, so it refuses them rather
// than describe addresses it does not serve.
import { BrokerConfig, type BrokerConfigValueType } from './config.js';
import { TOPIC_CONFIGS } from './topic-config.js';

/** SSL keys that may change only per listener (Kafka's SslConfigs.RECONFIGURABLE_CONFIGS). */
const LISTENER_ONLY_SECURITY_CONFIGS: ReadonlySet<string> = new Set([
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password',
  'ssl.truststore.type', 'ssl.truststore.location', 'ssl.truststore.password',
  'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.truststore.certificates',
]);

/** Listener settings (Kafka's DynamicListenerConfig), per broker unless cluster-level below. */
const LISTENER_CONFIGS: readonly string[] = [
  'advertised.listeners', 'listeners', 'listener.security.protocol.map',
  'principal.builder.class', 'ssl.protocol', 'ssl.provider', 'ssl.cipher.suites', 'ssl.enabled.protocols',
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password',
  'ssl.truststore.type', 'ssl.truststore.location', 'ssl.truststore.password',
  'ssl.keymanager.algorithm', 'ssl.trustmanager.algorithm', 'ssl.endpoint.identification.algorithm',
  'ssl.secure.random.implementation', 'ssl.client.auth', 'ssl.engine.factory.class',
  'sasl.mechanism.inter.broker.protocol', 'sasl.jaas.config', 'sasl.enabled.mechanisms',
  'sasl.kerberos.service.name', 'sasl.kerberos.kinit.cmd', 'sasl.kerberos.ticket.renew.window.factor',
  'sasl.kerberos.ticket.renew.jitter', 'sasl.kerberos.min.time.before.relogin',
  'sasl.kerberos.principal.to.local.rules', 'sasl.login.refresh.window.factor',
  'sasl.login.refresh.window.jitter', 'sasl.login.refresh.min.period.seconds', 'sasl.login.refresh.buffer.seconds',
  'max.connections', 'max.connection.creation.rate', 'num.network.threads',
];

/** Listener settings that are cluster-wide (settable on the '' resource too). */
const CLUSTER_LEVEL_LISTENER_CONFIGS: ReadonlySet<string> = new Set(['max.connections', 'max.connection.creation.rate', 'num.network.threads']);

/** Kafka's other reconfigurable sets: log cleaner, thread pools, metrics, socket server,
 * producer state, remote log, replication quotas. */
const OTHER_DYNAMIC_CONFIGS: readonly string[] = [
  'log.cleaner.threads', 'log.cleaner.dedupe.buffer.size', 'log.cleaner.io.buffer.load.factor',
  'log.cleaner.io.buffer.size', 'message.max.bytes', 'log.cleaner.io.max.bytes.per.second', 'log.cleaner.backoff.ms',
  'num.io.threads', 'num.replica.fetchers', 'num.recovery.threads.per.data.dir', 'background.threads',
  'metric.reporters',
  'max.connections.per.ip', 'max.connections.per.ip.overrides',
  'producer.id.expiration.ms', 'transaction.partition.verification.enable',
  'remote.log.index.file.cache.total.size.bytes', 'remote.fetch.max.wait.ms',
  'remote.log.manager.copy.max.bytes.per.second', 'remote.log.manager.fetch.max.bytes.per.second',
  'remote.list.offsets.request.timeout.ms',
  'leader.replication.throttled.rate', 'follower.replication.throttled.rate', 'replica.alter.log.dirs.io.max.bytes.per.second',
];

/** Broker synonyms of topic configs (Kafka's DynamicLogConfig), but for the message format. */
const LOG_CONFIG_SYNONYMS: readonly string[] = Object.values(TOPIC_CONFIGS)
  .map((d) => d.synonyms[0]?.key)
  .filter((k): k is string => k !== undefined && k !== 'log.message.format.version');

/** Every broker config Kafka can change at run time. */
export const DYNAMIC_BROKER_CONFIGS: ReadonlySet<string> = new Set([...LOG_CONFIG_SYNONYMS, ...LISTENER_CONFIGS, ...OTHER_DYNAMIC_CONFIGS]);

/** Dynamic in Kafka, but a Tributary broker cannot apply them without a restart. */
const RESTART_ONLY_CONFIGS: ReadonlySet<string> = new Set(['listeners', 'advertised.listeners', 'listener.security.protocol.map']);

/** Types of the dynamic keys Tributary does not declare itself (Kafka's types). */
const UNDECLARED_TYPES: Readonly<Record<string, BrokerConfigValueType>> = {
  'ssl.keystore.password': 'password', 'ssl.key.password': 'password', 'ssl.truststore.password': 'password',
  'ssl.keystore.key': 'password', 'ssl.keystore.certificate.chain': 'password', 'ssl.truststore.certificates': 'password',
  'sasl.jaas.config': 'password',
  'ssl.cipher.suites': 'list', 'ssl.enabled.protocols': 'list', 'sasl.enabled.mechanisms': 'list',
  'sasl.kerberos.principal.to.local.rules': 'list', 'max.connections.per.ip.overrides': 'string',
  'sasl.kerberos.ticket.renew.window.factor': 'double', 'sasl.kerberos.ticket.renew.jitter': 'double',
  'sasl.login.refresh.window.factor': 'double', 'sasl.login.refresh.window.jitter': 'double',
  'log.cleaner.io.buffer.load.factor': 'double', 'log.cleaner.io.max.bytes.per.second': 'double',
  'sasl.kerberos.min.time.before.relogin': 'long', 'remote.log.index.file.cache.total.size.bytes': 'long',
  'remote.log.manager.copy.max.bytes.per.second': 'long', 'remote.log.manager.fetch.max.bytes.per.second': 'long',
  'remote.list.offsets.request.timeout.ms': 'long', 'leader.replication.throttled.rate': 'long',
  'follower.replication.throttled.rate': 'long', 'replica.alter.log.dirs.io.max.bytes.per.second': 'long',
  // SHORT in Kafka; validated as INT.
  'sasl.login.refresh.min.period.seconds': 'int', 'sasl.login.refresh.buffer.seconds': 'int',
  'max.connections': 'int', 'max.connection.creation.rate': 'int', 'max.connections.per.ip': 'int',
  'remote.fetch.max.wait.ms': 'int', 'transaction.partition.verification.enable': 'boolean',
};

const LISTENER_PREFIX = /^listener\.name\.[^.]*\.(.*)$/;
/** SASL keys given per mechanism under a listener: listener.name.<l>.<mechanism>.<key>. */
const LISTENER_MECHANISM_CONFIGS = ['sasl.jaas.config', 'sasl.login.callback.handler.class', 'sasl.login.class', 'sasl.server.callback.handler.class', 'connections.max.reauth.ms'];

/** The key a (possibly listener-prefixed) name stands for. */
export function baseConfigName(key: string): string {
  const m = LISTENER_PREFIX.exec(key);
  if (m === null) return key;
  return LISTENER_MECHANISM_CONFIGS.find((k) => m[1]!.endsWith(k)) ?? m[1]!;
}

/** Whether Kafka knows `key` as a broker config (Tributary's declared keys and Kafka's dynamic ones). */
export function isKnownBrokerConfig(key: string): boolean {
  return BrokerConfig.typeOf(key) !== undefined || DYNAMIC_BROKER_CONFIGS.has(key);
}

/** Whether `key` can be changed at run time (custom keys can: Kafka stores them). */
export function isDynamicBrokerConfig(key: string): boolean {
  if (LISTENER_PREFIX.test(key)) return true;
  return DYNAMIC_BROKER_CONFIGS.has(key) || !isKnownBrokerConfig(key);
}

/** Type of a dynamic key for validation and DescribeConfigs; 'string' for custom keys. */
export function dynamicConfigType(key: string): BrokerConfigValueType {
  const base = baseConfigName(key);
  return BrokerConfig.typeOf(base) ?? UNDECLARED_TYPES[base] ?? 'string';
}

function isPerBrokerConfig(key: string): boolean {
  const m = LISTENER_PREFIX.exec(key);
  if (m !== null) return !CLUSTER_LEVEL_LISTENER_CONFIGS.has(m[1]!);
  return LISTENER_CONFIGS.includes(key) && !CLUSTER_LEVEL_LISTENER_CONFIGS.has(key);
}

/** Scala's Set rendering, which Kafka's messages carry. */
function scalaSet(names: readonly string[]): string {
  return `${names.length > 4 ? 'HashSet' : 'Set'}(${names.join(', ')})`;
}

const INTEGER = /^[+-]?\d+$/;
const RANGES: Partial<Record<BrokerConfigValueType, [bigint, bigint]>> = {
  int: [-2147483648n, 2147483647n],
  long: [-9223372036854775808n, 9223372036854775807n],
};

/** Kafka's ConfigDef message for a value of the wrong type, or null. */
function typeProblem(key: string, value: string): string | null {
  const type = dynamicConfigType(key);
  const base = baseConfigName(key);
  // Tributary's own keys carry their ranges and validators too.
  if (BrokerConfig.typeOf(base) !== undefined) {
    const why = BrokerConfig.valueProblem(base, value);
    return why === null ? null : `Invalid value ${value} for configuration ${key}: ${why}`;
  }
  const v = value.trim();
  const range = RANGES[type];
  if (range !== undefined) {
    if (!INTEGER.test(v)) return `Invalid value ${value} for configuration ${key}: Not a number of type ${type.toUpperCase()}`;
    const n = BigInt(v);
    if (n < range[0] || n > range[1]) return `Invalid value ${value} for configuration ${key}: Not a number of type ${type.toUpperCase()}`;
  } else if (type === 'double') {
    if (v === '' || !Number.isFinite(Number(v))) return `Invalid value ${value} for configuration ${key}: Not a number of type DOUBLE`;
  } else if (type === 'boolean') {
    if (!/^(true|false)$/i.test(v)) return `Invalid value ${value} for configuration ${key}: Expected value to be either true or false`;
  }
  return null;
}

/**
 * Why the dynamic configs `next` cannot be stored on a BROKER resource (per broker when
 * `perBroker`, else the cluster default), with Kafka's message, or null.
 */
export function dynamicBrokerConfigProblem(next: ReadonlyMap<string, string>, perBroker: boolean): string | null {
  const keys = [...next.keys()];
  const fixed = keys.filter((k) => !isDynamicBrokerConfig(k));
  if (fixed.length > 0) return `Cannot update these configs dynamically: ${scalaSet(fixed)}`;
  const unprefixed = keys.filter((k) => LISTENER_ONLY_SECURITY_CONFIGS.has(k));
  if (unprefixed.length > 0) return `These security configs can be dynamically updated only per-listener using the listener prefix: ${scalaSet(unprefixed)}`;
  for (const [key, value] of next) {
    const why = typeProblem(key, value);
    if (why !== null) return why;
  }
  if (!perBroker) {
    const perBrokerKeys = keys.filter(isPerBrokerConfig);
    if (perBrokerKeys.length > 0) return `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(perBrokerKeys)}`;
  }
  const restart = keys.filter((k) => RESTART_ONLY_CONFIGS.has(baseConfigName(k)));
  if (restart.length > 0) return `Tributary cannot change listeners at run time; set them in server.properties and restart: ${scalaSet(restart)}`;
  return null;
}

/** Whether DescribeConfigs hides the value (Kafka: password-typed, matched by suffix). */
export function isSensitiveBrokerConfig(key: string): boolean {
  return dynamicConfigType(key) === 'password';
}
