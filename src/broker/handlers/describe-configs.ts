// DescribeConfigs (key 32), v0-4, as Kafka's broker answers it:
//   - TOPIC: every topic config with its effective value and source (topic override, dynamic
//     broker config, dynamic cluster default, server.properties, default); synonyms (v1+) when
//     asked; configType (v3+); documentation is null; nothing is read-only or sensitive. An
//     unknown topic is UNKNOWN_TOPIC_OR_PARTITION, an illegal name INVALID_TOPIC_EXCEPTION.
//   - BROKER with this node's id: every broker config Tributary declares, and every other key
//     set dynamically, with the value in force, its source and synonyms; read-only unless it can
//     be changed dynamically; passwords sensitive (value null).
//   - BROKER '': only the dynamic cluster-wide defaults (Kafka lists nothing else there).
//   - configurationKeys filters the entries (null or empty: all).
// ACLs (when an authorizer is configured): DESCRIBE_CONFIGS on the cluster for BROKER resources,
// on the topic or group for theirs; refused -> CLUSTER_, TOPIC_ or GROUP_AUTHORIZATION_FAILED for
// that resource, the others are described.
import { AclOperation } from '../../protocol/acls.js';
import { ConfigResourceType } from '../../metadata/records.js';
import { topicNameProblem } from '../../metadata/topic-names.js';
import { ErrorCode, KafkaError } from '../../protocol/errors.js';
import { DescribeConfigsRequest, type DescribeConfigsRequestDescribeConfigsResource } from '../../protocol/messages/DescribeConfigsRequest.js';
import {
  DescribeConfigsResponse,
  type DescribeConfigsResponseDescribeConfigsResourceResult,
  type DescribeConfigsResponseDescribeConfigsResult,
  type DescribeConfigsResponseDescribeConfigsSynonym,
} from '../../protocol/messages/DescribeConfigsResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { BrokerConfig, ConfigLayer, type BrokerConfigValueType } from '../config.js';
import { configResourceRefusal } from '../config-admin.js';
import { dynamicConfigType, isDynamicBrokerConfig, isSensitiveBrokerConfig } from '../dynamic-broker-config.js';
import { describeGroupConfigs } from '../group-config.js';
import { CONFIG_TYPE_CODE, ConfigSource, describeTopicConfigs } from '../topic-config.js';

const BROKER_TYPE_CODE: Record<BrokerConfigValueType, number> = {
  boolean: CONFIG_TYPE_CODE.BOOLEAN,
  string: CONFIG_TYPE_CODE.STRING,
  int: CONFIG_TYPE_CODE.INT,
  long: CONFIG_TYPE_CODE.LONG,
  double: CONFIG_TYPE_CODE.DOUBLE,
  list: CONFIG_TYPE_CODE.LIST,
  password: CONFIG_TYPE_CODE.PASSWORD,
};

/** Kafka's groups of broker keys that stand for one setting, most specific first. */
const BROKER_SYNONYM_GROUPS: readonly string[][] = [
  ['log.roll.ms', 'log.roll.hours'],
  ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
  ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'],
  ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
];

function brokerSynonymNames(key: string): readonly string[] {
  if (key === 'log.flush.scheduler.interval.ms') return [key];
  return BROKER_SYNONYM_GROUPS.find((g) => g.includes(key)) ?? [key];
}

interface Entry {
  name: string;
  value: string | null;
  source: number;
  readOnly: boolean;
  isSensitive: boolean;
  configType: number;
  synonyms: DescribeConfigsResponseDescribeConfigsSynonym[];
}

function topicEntries(broker: BrokerContext, name: string): Entry[] {
  const problem = topicNameProblem(name);
  if (problem !== null) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, problem);
  const topic = broker.metadata.image.topicsByName.get(name);
  if (topic === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  return describeTopicConfigs(broker.config, topic.configs).map((e) => ({
    name: e.name,
    value: e.value,
    source: e.source,
    readOnly: false,
    isSensitive: false,
    configType: CONFIG_TYPE_CODE[e.type],
    synonyms: e.synonyms,
  }));
}

function brokerEntry(config: BrokerConfig, key: string, value: string | null, perBroker: boolean): Entry {
  const type = dynamicConfigType(key);
  const sensitive = isSensitiveBrokerConfig(key);
  const synonyms: DescribeConfigsResponseDescribeConfigsSynonym[] = [];
  for (const layer of [ConfigLayer.DYNAMIC_BROKER_CONFIG, ConfigLayer.DYNAMIC_DEFAULT_BROKER_CONFIG, ConfigLayer.STATIC_BROKER_CONFIG, ConfigLayer.DEFAULT_CONFIG]) {
    for (const name of brokerSynonymNames(key)) {
      const set = config.layers(name).find((l) => l.source === layer);
      if (set !== undefined) synonyms.push({ name, value: sensitive ? null : set.value, source: layer });
    }
  }
  // As Kafka: synonyms before the described key itself are dropped (describing log.retention.hours
  // does not list log.retention.ms), and the cluster-default resource shows only that layer.
  const first = synonyms.findIndex((s) => s.name === key);
  const kept = (first < 0 ? [] : synonyms.slice(first)).filter((s) => perBroker || s.source === ConfigLayer.DYNAMIC_DEFAULT_BROKER_CONFIG);
  return {
    name: key,
    value: sensitive ? null : value,
    source: kept[0]?.source ?? ConfigSource.DEFAULT_CONFIG,
    readOnly: !isDynamicBrokerConfig(key),
    isSensitive: sensitive,
    configType: BROKER_TYPE_CODE[type],
    synonyms: kept,
  };
}

function brokerEntries(broker: BrokerContext, name: string): Entry[] {
  const config = broker.config;
  if (name === '') return [...config.dynamicDefaults].map(([key, value]) => brokerEntry(config, key, value, false));
  if (!/^-?\d+$/.test(name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Broker id must be an integer, but it is: ${name}`);
  if (Number(name) !== broker.nodeId) {
    throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId} or empty string, but received ${name}`);
  }
  // Declared keys, then dynamic keys Tributary does not declare (listener-prefixed, SSL/SASL,
  // custom) that are set on this broker or cluster-wide.
  const declared = BrokerConfig.declaredKeys();
  const known = new Set(declared);
  const stored = [...new Set([...config.dynamicPerBroker.keys(), ...config.dynamicDefaults.keys()])].filter((k) => !known.has(k)).sort();
  return [...declared, ...stored].map((key) => brokerEntry(config, key, config.raw(key), true));
}

function groupEntries(broker: BrokerContext, name: string): Entry[] {
  if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Default group resources are not allowed.');
  return describeGroupConfigs(broker.config, broker.metadata.image.groupConfigs.get(name)).map((e) => ({
    ...e,
    readOnly: false,
    isSensitive: false,
    configType: CONFIG_TYPE_CODE.INT,
  }));
}

export function describeConfigsHandler(broker: BrokerContext) {
  return defineHandler({
    request: DescribeConfigsRequest,
    response: DescribeConfigsResponse,
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, req) {
      const v = ctx.apiVersion;
      const res = DescribeConfigsResponse.defaults();
      const describe = (r: DescribeConfigsRequestDescribeConfigsResource): DescribeConfigsResponseDescribeConfigsResult => {
        const out = DescribeConfigsResponse.newStruct('DescribeConfigsResult');
        out.resourceType = r.resourceType;
        out.resourceName = r.resourceName;
        const refused = configResourceRefusal(broker, ctx.connection, AclOperation.DESCRIBE_CONFIGS, r.resourceType, r.resourceName);
        if (refused !== null) {
          out.errorCode = refused.errorCode;
          out.errorMessage = refused.errorMessage;
          return out;
        }
        let entries: Entry[];
        try {
          if (r.resourceType === ConfigResourceType.TOPIC) entries = topicEntries(broker, r.resourceName);
          else if (r.resourceType === ConfigResourceType.BROKER) entries = brokerEntries(broker, r.resourceName);
          else if (r.resourceType === ConfigResourceType.GROUP) entries = groupEntries(broker, r.resourceName);
          else throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${r.resourceType}`);
        } catch (err) {
          if (!(err instanceof KafkaError)) throw err;
          out.errorCode = err.code;
          out.errorMessage = err.detail;
          return out;
        }
        const keys = r.configurationKeys;
        if (keys !== null && keys.length > 0) entries = entries.filter((e) => keys.includes(e.name));
        out.configs = entries.map((e) => {
          const c: DescribeConfigsResponseDescribeConfigsResourceResult = DescribeConfigsResponse.newStruct('DescribeConfigsResourceResult');
          c.name = e.name;
          c.value = e.value;
          c.readOnly = e.readOnly;
          c.isSensitive = e.isSensitive;
          // v0 has isDefault instead of a source.
          if (v === 0) c.isDefault = e.source === ConfigSource.DEFAULT_CONFIG;
          else c.configSource = e.source;
          if (v >= 1 && req.includeSynonyms) c.synonyms = e.synonyms;
          if (v >= 3) {
            c.configType = e.configType;
            c.documentation = null;
          }
          return c;
        });
        return out;
      };
      res.results = req.resources.map(describe);
      return res;
    },
  });
}
