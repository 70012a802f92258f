// Topic-level configuration: Kafka's topic config names, their broker-level synonyms
// (server.properties), validation, and the mapping onto the storage layer's LogConfig.
// DescribeConfigs reports each value with its source, as Kafka does: a topic override
// (DYNAMIC_TOPIC_CONFIG), a static broker setting (STATIC_BROKER_CONFIG) or the default.
import { NEVER, type CleanupPolicy, type LogConfig } from '../storage/config.js';
import type { CleanerTuning } from '../storage/cleaner-manager.js';
import { BrokerConfig } from './config.js';

export type ConfigValueType = 'BOOLEAN' | 'STRING' | 'INT' | 'SHORT' | 'LONG' | 'DOUBLE' | 'LIST' | 'CLASS' | 'PASSWORD';

/** Kafka's DescribeConfigs configType codes. */
export const CONFIG_TYPE_CODE: Record<ConfigValueType, number> = {
  BOOLEAN: 1, STRING: 2, INT: 3, SHORT: 4, LONG: 5, DOUBLE: 6, LIST: 7, CLASS: 8, PASSWORD: 9,
};

/** Kafka's DescribeConfigs configSource codes. */
export const ConfigSource = {
  UNKNOWN: 0,
  DYNAMIC_TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
  DYNAMIC_BROKER_LOGGER_CONFIG: 6,
  CLIENT_METRICS_CONFIG: 7,
  GROUP_CONFIG: 8,
} as const;

interface TopicConfigDef {
  type: ConfigValueType;
  /** Broker settings that provide the default, most specific first (ms before minutes/hours). */
  synonyms: { key: string; toTopicValue?: (v: string) => string }[];
  default: string;
  validate?: (v: string) => string | null;
}

const LONG_MAX = '9223372036854775807';
const int = (min: number) => (v: string) => (/^-?\d+$/.test(v) && Number(v) >= min ? null : `Value must be at least ${min}`);
/** Kafka's ConfigDef message for a value that is not of the config's type. */
function typeProblem(type: ConfigValueType, v: string): string | null {
  if ((type === 'INT' || type === 'LONG' || type === 'SHORT') && !/^[+-]?\d+$/.test(v)) return `Not a number of type ${type}`;
  if (type === 'DOUBLE' && (v === '' || !Number.isFinite(Number(v)))) return 'Not a number of type DOUBLE';
  return null;
}
const choice = (...allowed: string[]) => (v: string) =>
  allowed.includes(v) ? null : `String must be one of: ${allowed.join(', ')}`;
const ratio = (v: string) => (Number.isFinite(Number(v)) && Number(v) >= 0 && Number(v) <= 1 ? null : 'Value must be between 0 and 1');
const bool = (v: string) => (/^(true|false)$/i.test(v) ? null : 'Expected value to be either true or false');
const times = (factor: number) => (v: string) => (Number(v) < 0 ? '-1' : String(Number(v) * factor));

export const TOPIC_CONFIGS: Record<string, TopicConfigDef> = {
  'cleanup.policy': {
    type: 'LIST', synonyms: [{ key: 'log.cleanup.policy' }], default: 'delete',
    validate: (v) => (v.split(',').every((p) => ['delete', 'compact'].includes(p.trim())) ? null : 'Invalid value: must be delete and/or compact'),
  },
  'compression.type': {
    type: 'STRING', synonyms: [{ key: 'compression.type' }], default: 'producer',
    validate: choice('uncompressed', 'zstd', 'lz4', 'snappy', 'gzip', 'producer'),
  },
  'delete.retention.ms': { type: 'LONG', synonyms: [{ key: 'log.cleaner.delete.retention.ms' }], default: '86400000', validate: int(0) },
  'file.delete.delay.ms': { type: 'LONG', synonyms: [{ key: 'log.segment.delete.delay.ms' }], default: '60000', validate: int(0) },
  'flush.messages': { type: 'LONG', synonyms: [{ key: 'log.flush.interval.messages' }], default: LONG_MAX, validate: int(1) },
  'flush.ms': {
    type: 'LONG', synonyms: [{ key: 'log.flush.interval.ms' }, { key: 'log.flush.scheduler.interval.ms' }], default: LONG_MAX, validate: int(0),
  },
  'index.interval.bytes': { type: 'INT', synonyms: [{ key: 'log.index.interval.bytes' }], default: '4096', validate: int(0) },
  'max.compaction.lag.ms': { type: 'LONG', synonyms: [{ key: 'log.cleaner.max.compaction.lag.ms' }], default: LONG_MAX, validate: int(1) },
  'max.message.bytes': { type: 'INT', synonyms: [{ key: 'message.max.bytes' }], default: '1048588', validate: int(0) },
  'message.timestamp.type': {
    type: 'STRING', synonyms: [{ key: 'log.message.timestamp.type' }], default: 'CreateTime', validate: choice('CreateTime', 'LogAppendTime'),
  },
  'message.timestamp.before.max.ms': { type: 'LONG', synonyms: [{ key: 'log.message.timestamp.before.max.ms' }], default: LONG_MAX, validate: int(0) },
  'message.timestamp.after.max.ms': { type: 'LONG', synonyms: [{ key: 'log.message.timestamp.after.max.ms' }], default: LONG_MAX, validate: int(0) },
  'min.cleanable.dirty.ratio': { type: 'DOUBLE', synonyms: [{ key: 'log.cleaner.min.cleanable.ratio' }], default: '0.5', validate: ratio },
  'min.compaction.lag.ms': { type: 'LONG', synonyms: [{ key: 'log.cleaner.min.compaction.lag.ms' }], default: '0', validate: int(0) },
  'min.insync.replicas': { type: 'INT', synonyms: [{ key: 'min.insync.replicas' }], default: '1', validate: int(1) },
  preallocate: { type: 'BOOLEAN', synonyms: [{ key: 'log.preallocate' }], default: 'false', validate: bool },
  'retention.bytes': { type: 'LONG', synonyms: [{ key: 'log.retention.bytes' }], default: '-1', validate: int(-1) },
  'retention.ms': {
    type: 'LONG',
    synonyms: [
      { key: 'log.retention.ms' },
      { key: 'log.retention.minutes', toTopicValue: times(60_000) },
      { key: 'log.retention.hours', toTopicValue: times(3_600_000) },
    ],
    default: '604800000', validate: int(-1),
  },
  'segment.bytes': { type: 'INT', synonyms: [{ key: 'log.segment.bytes' }], default: '1073741824', validate: int(14) },
  'segment.index.bytes': { type: 'INT', synonyms: [{ key: 'log.index.size.max.bytes' }], default: '10485760', validate: int(4) },
  'segment.jitter.ms': { type: 'LONG', synonyms: [{ key: 'log.roll.jitter.ms' }], default: '0', validate: int(0) },
  'segment.ms': {
    type: 'LONG', synonyms: [{ key: 'log.roll.ms' }, { key: 'log.roll.hours', toTopicValue: times(3_600_000) }], default: '604800000', validate: int(1),
  },
  'unclean.leader.election.enable': { type: 'BOOLEAN', synonyms: [{ key: 'unclean.leader.election.enable' }], default: 'false', validate: bool },
};

/** Returns why `name=value` is not a valid topic config, or null. */
export function topicConfigProblem(name: string, value: string | null): string | null {
  const def = TOPIC_CONFIGS[name];
  if (def === undefined) return `Unknown topic config name: ${name}`;
  if (value === null) return `Null value not supported for topic configs: ${name}`;
  const problem = typeProblem(def.type, value.trim()) ?? def.validate?.(value.trim()) ?? null;
  return problem === null ? null : `Invalid value ${value} for configuration ${name}: ${problem}`;
}

export interface ResolvedConfigEntry {
  name: string;
  value: string;
  source: number;
  type: ConfigValueType;
  synonyms: { name: string; value: string; source: number }[];
}

/** Every topic config with its effective value and where it came from. */
export function describeTopicConfigs(broker: BrokerConfig, overrides: ReadonlyMap<string, string>): ResolvedConfigEntry[] {
  const out: ResolvedConfigEntry[] = [];
  for (const [name, def] of Object.entries(TOPIC_CONFIGS)) {
    const synonyms: ResolvedConfigEntry['synonyms'] = [];
    const override = overrides.get(name);
    if (override !== undefined) synonyms.push({ name, value: override, source: ConfigSource.DYNAMIC_TOPIC_CONFIG });
    // As Kafka: every synonym's dynamic per-broker value, then the dynamic cluster defaults,
    // then server.properties.
    // Synonyms carry the broker key's own value and unit (log.retention.hours=168); the topic's
    // effective value is the first one, converted to the topic config's unit.
    let effectiveValue: string | null = override ?? null;
    for (const layer of [ConfigSource.DYNAMIC_BROKER_CONFIG, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, ConfigSource.STATIC_BROKER_CONFIG]) {
      for (const s of def.synonyms) {
        const set = broker.layers(s.key).find((l) => l.source === layer);
        if (set === undefined) continue;
        synonyms.push({ name: s.key, value: set.value, source: layer });
        effectiveValue ??= s.toTopicValue ? s.toTopicValue(set.value) : set.value;
      }
    }
    // The default as Kafka lists it: the broker synonym that has one, in its unit.
    const defaulted = def.synonyms.find((s) => BrokerConfig.defaultOf(s.key) !== null);
    synonyms.push(defaulted === undefined ? { name: def.synonyms[0]?.key ?? name, value: def.default, source: ConfigSource.DEFAULT_CONFIG } : { name: defaulted.key, value: BrokerConfig.defaultOf(defaulted.key)!, source: ConfigSource.DEFAULT_CONFIG });
    out.push({ name, value: effectiveValue ?? def.default, source: synonyms[0]!.source, type: def.type, synonyms });
  }
  return out;
}

/** Effective value of one topic config. */
export function topicConfigValue(broker: BrokerConfig, overrides: ReadonlyMap<string, string>, name: string): string {
  const entry = describeTopicConfigs(broker, overrides).find((e) => e.name === name);
  if (entry === undefined) throw new Error(`unknown topic config ${name}`);
  return entry.value;
}

function longValue(v: string): number {
  return v === LONG_MAX ? NEVER : Number(v);
}

/** The storage layer's view of a topic's configuration. */
/** The log cleaner's log.cleaner.* settings that may change at run time (CleanerManager.reconfigure). */
export function cleanerTuningFor(broker: BrokerConfig): CleanerTuning {
  return {
    threads: broker.int('log.cleaner.threads'),
    dedupeBufferBytes: broker.long('log.cleaner.dedupe.buffer.size'),
    ioBufferBytes: broker.int('log.cleaner.io.buffer.size'),
    loadFactor: broker.double('log.cleaner.io.buffer.load.factor'),
    ioMaxBytesPerSecond: broker.double('log.cleaner.io.max.bytes.per.second'),
    backoffMs: broker.long('log.cleaner.backoff.ms'),
  };
}

export function logConfigFor(broker: BrokerConfig, overrides: ReadonlyMap<string, string>): LogConfig {
  const values = new Map(describeTopicConfigs(broker, overrides).map((e) => [e.name, e.value]));
  const get = (name: string) => values.get(name)!;
  const cleanup = get('cleanup.policy').split(',').map((s) => s.trim()).sort().join(',');
  return {
    segmentBytes: Number(get('segment.bytes')),
    segmentMs: longValue(get('segment.ms')),
    segmentIndexBytes: Number(get('segment.index.bytes')),
    indexIntervalBytes: Number(get('index.interval.bytes')),
    retentionMs: longValue(get('retention.ms')),
    retentionBytes: longValue(get('retention.bytes')),
    flushMessages: longValue(get('flush.messages')),
    flushMs: longValue(get('flush.ms')),
    maxMessageBytes: Number(get('max.message.bytes')),
    messageTimestampType: get('message.timestamp.type') === 'LogAppendTime' ? 'LogAppendTime' : 'CreateTime',
    cleanupPolicy: (cleanup === 'compact,delete' ? 'compact,delete' : cleanup === 'compact' ? 'compact' : 'delete') as CleanupPolicy,
    fileDeleteDelayMs: longValue(get('file.delete.delay.ms')),
    producerIdExpirationMs: broker.int('producer.id.expiration.ms'),
    deleteRetentionMs: longValue(get('delete.retention.ms')),
    minCompactionLagMs: longValue(get('min.compaction.lag.ms')),
    maxCompactionLagMs: longValue(get('max.compaction.lag.ms')),
    minCleanableDirtyRatio: Number(get('min.cleanable.dirty.ratio')),
  };
}

/** Record-level checks a topic's configuration asks for; null when there are none, which keeps
 * the produce path from decoding records. */
export interface RecordRules {
  /** cleanup.policy includes compact: every record needs a key. */
  requireKeys: boolean;
  /** CreateTime topics: how far a record's timestamp may lie before/after the broker's clock. */
  timestampBeforeMaxMs: number;
  timestampAfterMaxMs: number;
}

export function recordRulesFor(broker: BrokerConfig, overrides: ReadonlyMap<string, string>): RecordRules | null {
  const value = (name: string) => topicConfigValue(broker, overrides, name);
  const requireKeys = value('cleanup.policy').split(',').some((p) => p.trim() === 'compact');
  const createTime = value('message.timestamp.type') === 'CreateTime';
  const before = createTime ? longValue(value('message.timestamp.before.max.ms')) : NEVER;
  const after = createTime ? longValue(value('message.timestamp.after.max.ms')) : NEVER;
  if (!requireKeys && before === NEVER && after === NEVER) return null;
  return { requireKeys, timestampBeforeMaxMs: before, timestampAfterMaxMs: after };
}
