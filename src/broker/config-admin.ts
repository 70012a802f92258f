// Config changes for AlterConfigs (whole set) and IncrementalAlterConfigs (per key operations),
// on TOPIC and BROKER resources, with Kafka's checks, order of checks, codes and messages:
//   - per request: a resource named twice -> INVALID_REQUEST for both; a key named twice inside
//     one resource -> INVALID_REQUEST; null values where a value is needed -> INVALID_REQUEST;
//   - TOPIC: '' -> INVALID_REQUEST, illegal name -> INVALID_TOPIC_EXCEPTION, unknown key or bad
//     value -> INVALID_CONFIG, then existence -> UNKNOWN_TOPIC_OR_PARTITION;
//   - BROKER: '' is the cluster-wide default, else the name must be this node's id; Kafka's
//     rules for which keys may change and where (dynamic-broker-config.ts) -> INVALID_REQUEST.
// Topic changes go through the controller (metadata log); the broker's metadata subscriber applies
// them to the partition logs; broker changes are applied from the image the same way.
import { ConfigResourceType } from '../metadata/records.js';
import { CLUSTER_RESOURCE_NAME, ResourceType } from '../protocol/acls.js';
import { AUTHORIZATION_FAILED_MESSAGE, isAllowed, type Requester } from './authorizer.js';
import { topicNameProblem } from '../metadata/topic-names.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';
import type { BrokerContext } from './broker-context.js';
import { BrokerConfig } from './config.js';
import { baseConfigName, dynamicBrokerConfigProblem, dynamicConfigType, isKnownBrokerConfig } from './dynamic-broker-config.js';
import { GROUP_CONFIGS, groupConfigsProblem } from './group-config.js';
import { TOPIC_CONFIGS, topicConfigProblem } from './topic-config.js';

/** New SSL settings of this broker's TLS listeners must load before they are recorded, as
 * Kafka validates a key store update; the message names the key. */
function checkTlsReload(broker: BrokerContext, next: ReadonlyMap<string, string>): void {
  const candidate = broker.config.withDynamic(next, broker.metadata.image.brokerConfigs.get(''));
  for (const name of broker.config.tlsListenerNames()) {
    const prefix = `listener.name.${name.toLowerCase()}.ssl.`;
    if (![...next.keys()].some((k) => k.startsWith(prefix))) continue;
    try {
      candidate.dynamicTlsOptions(name);
    } catch (err) {
      throw new KafkaError(ErrorCode.INVALID_CONFIG, `Validation of dynamic config update of SSLFactory failed: ${(err as Error).message}`);
    }
  }
}

/** IncrementalAlterConfigs operation codes. */
export const AlterConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;
const OP_NAMES = ['SET', 'DELETE', 'APPEND', 'SUBTRACT'];

export interface ResourceOutcome {
  errorCode: number;
  errorMessage: string | null;
}


/** BROKER_LOGGER resources (log4j levels): not served, but authorized as broker resources. */
const BROKER_LOGGER = 8;

/**
 * ACLs (when an authorizer is configured) on a config resource, as Kafka's ConfigHelper and
 * ControllerApis check them: `operation` (DESCRIBE_CONFIGS or ALTER_CONFIGS) on the cluster for
 * broker resources, on the topic or group for theirs; null when allowed (or for a resource type
 * that is answered INVALID_REQUEST anyway), else the refusal.
 */
export function configResourceRefusal(broker: BrokerContext, requester: Requester, operation: number, resourceType: number, resourceName: string): ResourceOutcome | null {
  let refusal: [number, string, number];
  if (resourceType === ConfigResourceType.BROKER || resourceType === BROKER_LOGGER) refusal = [ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, ErrorCode.CLUSTER_AUTHORIZATION_FAILED];
  else if (resourceType === ConfigResourceType.TOPIC) refusal = [ResourceType.TOPIC, resourceName, ErrorCode.TOPIC_AUTHORIZATION_FAILED];
  else if (resourceType === ConfigResourceType.GROUP) refusal = [ResourceType.GROUP, resourceName, ErrorCode.GROUP_AUTHORIZATION_FAILED];
  else return null;
  const [aclType, aclName, errorCode] = refusal;
  if (isAllowed(broker.authorizer, requester, operation, aclType, aclName)) return null;
  return { errorCode, errorMessage: AUTHORIZATION_FAILED_MESSAGE[errorCode]! };
}

interface ResourceRef {
  resourceType: number;
  resourceName: string;
  configs: { name: string; value: string | null }[];
}

/**
 * Request-level checks of Kafka's broker before any resource is touched: duplicate resources,
 * duplicate keys, null values. Returns the outcome of each resource that failed.
 */
export function preprocess<R extends ResourceRef>(
  resources: readonly R[],
  needsValue: (c: R['configs'][number]) => boolean,
  resourceTypes: readonly number[] = [ConfigResourceType.TOPIC, ConfigResourceType.BROKER],
): Map<R, ResourceOutcome> {
  const failed = new Map<R, ResourceOutcome>();
  const seen = new Map<string, R>();
  for (const r of resources) {
    const id = `${r.resourceType}\u0000${r.resourceName}`;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      const dup = { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Each resource must appear at most once.' };
      failed.set(earlier, dup);
      failed.set(r, dup);
    }
    seen.set(id, r);
  }
  for (const r of resources) {
    if (failed.has(r)) continue;
    const names = r.configs.map((c) => c.name);
    if (new Set(names).size !== names.length) {
      failed.set(r, { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Error due to duplicate config keys' });
      continue;
    }
    const nulls = r.configs.filter((c) => needsValue(c) && c.value === null).map((c) => c.name);
    if (nulls.length > 0) {
      failed.set(r, { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Null value not supported for : ${nulls.join(', ')}` });
      continue;
    }
    if (!resourceTypes.includes(r.resourceType)) {
      failed.set(r, { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown resource type ${r.resourceType}` });
    }
  }
  return failed;
}

/** Per key change of one resource: a value to set, null to remove. */
export type ConfigEdit = (current: ReadonlyMap<string, string>) => Map<string, string>;

function outcomeOf(err: unknown): ResourceOutcome {
  if (err instanceof KafkaError) return { errorCode: err.code, errorMessage: err.detail };
  throw err;
}

/**
 * Applies `edit` to the topic overrides of `name` (or only validates). `edit` gets the current
 * overrides and returns the complete new set.
 */
export async function alterTopicConfigs(broker: BrokerContext, name: string, edit: ConfigEdit, validateOnly: boolean): Promise<ResourceOutcome> {
  try {
    if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Default topic resources are not allowed.');
    const nameProblem = topicNameProblem(name);
    if (nameProblem !== null) throw new KafkaError(ErrorCode.INVALID_TOPIC_EXCEPTION, nameProblem);
    const topic = broker.metadata.image.topicsByName.get(name);
    const current = topic?.configs ?? new Map<string, string>();
    const next = edit(current);
    for (const [key, value] of next) {
      const why = topicConfigProblem(key, value);
      if (why !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, why);
    }
    if (topic === undefined) throw new KafkaError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `The topic '${name}' does not exist.`);
    const changes = changedKeys(current, next);
    const { errorCode, errorMessage } = await broker.controller.alterTopicConfigs(name, changes, validateOnly);
    return { errorCode, errorMessage };
  } catch (err) {
    return outcomeOf(err);
  }
}

/** The keys whose value differs between two config sets: set to the new value, or null if removed. */
function changedKeys(current: ReadonlyMap<string, string>, next: ReadonlyMap<string, string>): { name: string; value: string | null }[] {
  const changes: { name: string; value: string | null }[] = [];
  for (const [key, value] of next) if (current.get(key) !== value) changes.push({ name: key, value });
  for (const key of current.keys()) if (!next.has(key)) changes.push({ name: key, value: null });
  return changes;
}

/** Checks that a BROKER resource name is '' or this node's id (Kafka's messages). */
function checkBrokerName(broker: BrokerContext, name: string): void {
  if (name === '') return;
  if (!/^-?\d+$/.test(name)) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Node id must be an integer, but it is: ${name}`);
  if (Number(name) !== broker.nodeId) throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unexpected broker id, expected ${broker.nodeId}, but received ${name}`);
}

/** Applies `edit` to the dynamic configs of broker resource `name` ('' = cluster default). */
export async function alterBrokerConfigs(broker: BrokerContext, name: string, edit: ConfigEdit, validateOnly: boolean): Promise<ResourceOutcome> {
  try {
    checkBrokerName(broker, name);
    const current = broker.metadata.image.brokerConfigs.get(name) ?? new Map<string, string>();
    const next = edit(current);
    const problem = dynamicBrokerConfigProblem(next, name !== '');
    if (problem !== null) {
      broker.log.info({ resource: name === '' ? '<default>' : name, keys: [...next.keys()], reason: problem }, 'broker config change refused');
      throw new KafkaError(ErrorCode.INVALID_REQUEST, problem);
    }
    if (name === String(broker.nodeId)) checkTlsReload(broker, next);
    // As Kafka, broker records are written even for unchanged values (brokers reload on them).
    const changes: { name: string; value: string | null }[] = [...next].map(([key, value]) => ({ name: key, value }));
    for (const key of current.keys()) if (!next.has(key)) changes.push({ name: key, value: null });
    const { errorCode, errorMessage } = await broker.controller.alterBrokerConfigs(name, changes, validateOnly);
    return { errorCode, errorMessage };
  } catch (err) {
    return outcomeOf(err);
  }
}

/** Applies `edit` to the config overrides of group `name` (the group need not exist). */
export async function alterGroupConfigs(broker: BrokerContext, name: string, edit: ConfigEdit, validateOnly: boolean): Promise<ResourceOutcome> {
  try {
    if (name === '') throw new KafkaError(ErrorCode.INVALID_REQUEST, 'Default group resources are not allowed.');
    const current = broker.metadata.image.groupConfigs.get(name) ?? new Map<string, string>();
    const next = edit(current);
    const problem = groupConfigsProblem(next, broker.config);
    if (problem !== null) throw new KafkaError(ErrorCode.INVALID_CONFIG, problem);
    const changes = changedKeys(current, next);
    const { errorCode, errorMessage } = await broker.controller.alterGroupConfigs(name, changes, validateOnly);
    return { errorCode, errorMessage };
  } catch (err) {
    return outcomeOf(err);
  }
}

/** Routes one resource's edit by its type (types preprocess let through). */
export function alterResourceConfigs(broker: BrokerContext, resourceType: number, name: string, edit: ConfigEdit, validateOnly: boolean): Promise<ResourceOutcome> {
  if (resourceType === ConfigResourceType.TOPIC) return alterTopicConfigs(broker, name, edit, validateOnly);
  if (resourceType === ConfigResourceType.GROUP) return alterGroupConfigs(broker, name, edit, validateOnly);
  return alterBrokerConfigs(broker, name, edit, validateOnly);
}

/** The whole new set (AlterConfigs): keys not listed are removed. */
export function replaceAll(configs: readonly { name: string; value: string | null }[]): ConfigEdit {
  return () => new Map(configs.map((c) => [c.name, c.value!]));
}

/** Whether a config is a list (APPEND/SUBTRACT apply), and its default, per resource type. */
function listInfo(resourceType: number, key: string): { isList: boolean; defaultValue: string | null; known: boolean } {
  if (resourceType === ConfigResourceType.GROUP) return { isList: false, defaultValue: null, known: GROUP_CONFIGS[key] !== undefined };
  if (resourceType === ConfigResourceType.TOPIC) {
    const def = TOPIC_CONFIGS[key];
    return { isList: def?.type === 'LIST', defaultValue: def?.default ?? null, known: def !== undefined };
  }
  const base = baseConfigName(key);
  return { isList: dynamicConfigType(key) === 'list', defaultValue: BrokerConfig.defaultOf(base), known: isKnownBrokerConfig(base) };
}

/**
 * IncrementalAlterConfigs operations as one edit. Throws KafkaError (from the returned edit)
 * for an unknown operation or APPEND/SUBTRACT on a non-list config, with Kafka's message for the
 * resource type (the controller's for topics, the broker's for broker resources).
 */
export function incrementalEdit(resourceType: number, ops: readonly { name: string; configOperation: number; value: string | null }[]): ConfigEdit {
  return (current) => {
    const next = new Map(current);
    for (const op of ops) {
      switch (op.configOperation) {
        case AlterConfigOp.SET:
          next.set(op.name, op.value!);
          break;
        case AlterConfigOp.DELETE:
          next.delete(op.name);
          break;
        case AlterConfigOp.APPEND:
        case AlterConfigOp.SUBTRACT: {
          const info = listInfo(resourceType, op.name);
          const opName = OP_NAMES[op.configOperation]!;
          if (!info.isList) {
            if (resourceType === ConfigResourceType.TOPIC) {
              throw new KafkaError(ErrorCode.INVALID_CONFIG, `Can't ${opName} to key ${op.name} because its type is not LIST.`);
            }
            if (!info.known) throw new KafkaError(ErrorCode.INVALID_CONFIG, `Unknown config name: ${op.name}`);
            throw new KafkaError(ErrorCode.INVALID_CONFIG, `Config value ${opName.toLowerCase()} is not allowed for config key: ${op.name}`);
          }
          const base = next.get(op.name) ?? info.defaultValue ?? '';
          const parts = base.split(',').filter((p) => p !== '');
          const values = op.value!.split(',');
          if (op.configOperation === AlterConfigOp.APPEND) {
            for (const v of values) if (!parts.includes(v)) parts.push(v);
          } else {
            for (const v of values) {
              const i = parts.indexOf(v);
              if (i >= 0) parts.splice(i, 1);
            }
          }
          next.set(op.name, parts.join(','));
          break;
        }
        default:
          throw new KafkaError(ErrorCode.INVALID_REQUEST, `Unknown operations type ${op.configOperation}`);
      }
    }
    return next;
  };
}
