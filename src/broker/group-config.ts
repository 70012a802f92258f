// Group configs (the GROUP config resource, type 32, Kafka 4.0): per-group overrides of the
// broker's group.consumer.* and group.share.* timeouts, set with IncrementalAlterConfigs and kept
// in the metadata log as ConfigRecords. A group's config may be set before the group exists.
// Values are checked against the broker's min/max bounds as Kafka's GroupConfig does, with its
// messages; undescribed keys default to the broker's own setting.
import type { BrokerConfig } from './config.js';
import { ConfigSource } from './topic-config.js';

interface GroupConfigDef {
  /** The broker setting that gives the default, and whose min/max bound the value. */
  readonly brokerKey: string;
  readonly minKey: string;
  readonly maxKey: string;
}

const def = (kind: 'consumer' | 'share', what: string): GroupConfigDef => ({
  brokerKey: `group.${kind}.${what}`,
  minKey: `group.${kind}.min.${what}`,
  maxKey: `group.${kind}.max.${what}`,
});

export const GROUP_CONFIGS: Readonly<Record<string, GroupConfigDef>> = {
  'consumer.session.timeout.ms': def('consumer', 'session.timeout.ms'),
  'consumer.heartbeat.interval.ms': def('consumer', 'heartbeat.interval.ms'),
  'share.session.timeout.ms': def('share', 'session.timeout.ms'),
  'share.heartbeat.interval.ms': def('share', 'heartbeat.interval.ms'),
  'share.record.lock.duration.ms': def('share', 'record.lock.duration.ms'),
};

const INT_MAX = 2 ** 31 - 1;

/** Why a set of group configs is not acceptable (Kafka's message, INVALID_CONFIG), or null. */
export function groupConfigsProblem(configs: ReadonlyMap<string, string>, broker: BrokerConfig): string | null {
  for (const [name, raw] of configs) {
    const d = GROUP_CONFIGS[name];
    if (d === undefined) return `Unknown group config name: ${name}`;
    const value = raw.trim();
    if (!/^[+-]?\d+$/.test(value) || Math.abs(Number(value)) > INT_MAX) return `Invalid value ${raw} for configuration ${name}: Not a number of type INT`;
    const n = Number(value);
    const least = name === 'share.record.lock.duration.ms' ? 1000 : 1;
    if (n < least) return `Invalid value ${raw} for configuration ${name}: Value must be at least ${least}`;
    if (n < broker.int(d.minKey)) return `${name} must be greater than or equal to ${d.minKey}`;
    if (n > broker.int(d.maxKey)) return `${name} must be less than or equal to ${d.maxKey}`;
  }
  return null;
}

export interface GroupConfigEntry {
  name: string;
  value: string;
  source: number;
  synonyms: { name: string; value: string; source: number }[];
}

/** DescribeConfigs of a group: every group config, the override where set, else the broker's. */
export function describeGroupConfigs(broker: BrokerConfig, overrides: ReadonlyMap<string, string> | undefined): GroupConfigEntry[] {
  return Object.entries(GROUP_CONFIGS).map(([name, d]) => {
    const override = overrides?.get(name);
    const brokerValue = String(broker.int(d.brokerKey));
    const synonyms: GroupConfigEntry['synonyms'] = [{ name: d.brokerKey, value: brokerValue, source: ConfigSource.DEFAULT_CONFIG }];
    if (override !== undefined) synonyms.unshift({ name, value: override, source: ConfigSource.GROUP_CONFIG });
    return { name, value: override ?? brokerValue, source: override !== undefined ? ConfigSource.GROUP_CONFIG : ConfigSource.DEFAULT_CONFIG, synonyms };
  });
}

/** The consumer-group timeouts in force for `groupId`. */
export function consumerGroupTimeouts(broker: BrokerConfig, overrides: ReadonlyMap<string, string> | undefined): { sessionTimeoutMs: number; heartbeatIntervalMs: number } {
  const pick = (name: string, brokerKey: string) => {
    const v = overrides?.get(name);
    return v !== undefined ? Number(v) : broker.int(brokerKey);
  };
  return {
    sessionTimeoutMs: pick('consumer.session.timeout.ms', 'group.consumer.session.timeout.ms'),
    heartbeatIntervalMs: pick('consumer.heartbeat.interval.ms', 'group.consumer.heartbeat.interval.ms'),
  };
}
