// The admin client: topics, partitions, configs, offsets, records deletion, cluster and consumer
// groups. Each method sends the Kafka request to the broker that must answer it (a partition's
// leader, a group's coordinator, or any broker for controller-routed APIs), retries retriable
// errors with backoff, and throws a KafkaClientError naming the resource that failed.
import { randomBytes } from 'node:crypto';
import { ZERO_UUID } from '../protocol/codec/reader.js';
import { Reader } from '../protocol/codec/reader.js';
import { Writer } from '../protocol/codec/writer.js';
import { ErrorCode } from '../protocol/errors.js';
import { AlterConfigsRequest } from '../protocol/messages/AlterConfigsRequest.js';
import { ApiVersionsRequest } from '../protocol/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../protocol/messages/ApiVersionsResponse.js';
import { AlterConfigsResponse } from '../protocol/messages/AlterConfigsResponse.js';
import { ConsumerProtocolAssignment, type ConsumerProtocolAssignmentData } from '../protocol/messages/ConsumerProtocolAssignment.js';
import { ConsumerProtocolSubscription, type ConsumerProtocolSubscriptionData } from '../protocol/messages/ConsumerProtocolSubscription.js';
import { CreatePartitionsRequest } from '../protocol/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse } from '../protocol/messages/CreatePartitionsResponse.js';
import { CreateTopicsRequest } from '../protocol/messages/CreateTopicsRequest.js';
import { CreateTopicsResponse } from '../protocol/messages/CreateTopicsResponse.js';
import { DeleteGroupsRequest } from '../protocol/messages/DeleteGroupsRequest.js';
import { DeleteGroupsResponse } from '../protocol/messages/DeleteGroupsResponse.js';
import { DeleteRecordsRequest } from '../protocol/messages/DeleteRecordsRequest.js';
import { DeleteRecordsResponse } from '../protocol/messages/DeleteRecordsResponse.js';
import { DeleteTopicsRequest } from '../protocol/messages/DeleteTopicsRequest.js';
import { DeleteTopicsResponse } from '../protocol/messages/DeleteTopicsResponse.js';
import { DescribeClusterRequest } from '../protocol/messages/DescribeClusterRequest.js';
import { DescribeClusterResponse } from '../protocol/messages/DescribeClusterResponse.js';
import { DescribeConfigsRequest } from '../protocol/messages/DescribeConfigsRequest.js';
import { DescribeQuorumRequest } from '../protocol/messages/DescribeQuorumRequest.js';
import { DescribeQuorumResponse } from '../protocol/messages/DescribeQuorumResponse.js';
import { DescribeConfigsResponse } from '../protocol/messages/DescribeConfigsResponse.js';
import { DescribeGroupsRequest } from '../protocol/messages/DescribeGroupsRequest.js';
import { DescribeGroupsResponse } from '../protocol/messages/DescribeGroupsResponse.js';
import { IncrementalAlterConfigsRequest } from '../protocol/messages/IncrementalAlterConfigsRequest.js';
import { IncrementalAlterConfigsResponse } from '../protocol/messages/IncrementalAlterConfigsResponse.js';
import { ListGroupsRequest } from '../protocol/messages/ListGroupsRequest.js';
import { ListGroupsResponse } from '../protocol/messages/ListGroupsResponse.js';
import { ListOffsetsRequest } from '../protocol/messages/ListOffsetsRequest.js';
import { ListOffsetsResponse } from '../protocol/messages/ListOffsetsResponse.js';
import { OffsetCommitRequest } from '../protocol/messages/OffsetCommitRequest.js';
import { OffsetCommitResponse } from '../protocol/messages/OffsetCommitResponse.js';
import { OffsetFetchRequest } from '../protocol/messages/OffsetFetchRequest.js';
import { OffsetFetchResponse } from '../protocol/messages/OffsetFetchResponse.js';
import { CreateAclsRequest } from '../protocol/messages/CreateAclsRequest.js';
import { CreateAclsResponse } from '../protocol/messages/CreateAclsResponse.js';
import { DeleteAclsRequest } from '../protocol/messages/DeleteAclsRequest.js';
import { DeleteAclsResponse } from '../protocol/messages/DeleteAclsResponse.js';
import { DescribeAclsRequest } from '../protocol/messages/DescribeAclsRequest.js';
import { DescribeAclsResponse } from '../protocol/messages/DescribeAclsResponse.js';
import { AlterUserScramCredentialsRequest } from '../protocol/messages/AlterUserScramCredentialsRequest.js';
import { AlterUserScramCredentialsResponse } from '../protocol/messages/AlterUserScramCredentialsResponse.js';
import { DescribeUserScramCredentialsRequest } from '../protocol/messages/DescribeUserScramCredentialsRequest.js';
import { DescribeUserScramCredentialsResponse } from '../protocol/messages/DescribeUserScramCredentialsResponse.js';
import { DescribeProducersRequest } from '../protocol/messages/DescribeProducersRequest.js';
import { DescribeProducersResponse, type DescribeProducersResponseProducerState } from '../protocol/messages/DescribeProducersResponse.js';
import { DescribeTransactionsRequest } from '../protocol/messages/DescribeTransactionsRequest.js';
import { DescribeTransactionsResponse } from '../protocol/messages/DescribeTransactionsResponse.js';
import { ListTransactionsRequest } from '../protocol/messages/ListTransactionsRequest.js';
import { ListTransactionsResponse } from '../protocol/messages/ListTransactionsResponse.js';
import { WriteTxnMarkersRequest } from '../protocol/messages/WriteTxnMarkersRequest.js';
import { WriteTxnMarkersResponse } from '../protocol/messages/WriteTxnMarkersResponse.js';
import { UpdateFeaturesRequest } from '../protocol/messages/UpdateFeaturesRequest.js';
import { UpdateFeaturesResponse } from '../protocol/messages/UpdateFeaturesResponse.js';
import { fromMatchingAcl, toAclCreation, toAclFilterFields, type AclBinding, type AclBindingFilter } from '../protocol/acls.js';
import { saltedPassword, scramMechanismByName, scramMechanismByType } from '../protocol/scram.js';
import { Cluster, type BrokerInfo, type ClientOptions, type PartitionMetadata } from './cluster.js';
import { Coordinators, KEY_TYPE_TRANSACTION } from './coordinator.js';
import { KafkaClientError } from './errors.js';

export type AdminOptions = ClientOptions;

export interface NewTopic {
  topic: string;
  /** -1 or absent: the broker's num.partitions. */
  numPartitions?: number;
  /** -1 or absent: the broker's default.replication.factor. */
  replicationFactor?: number;
  configs?: Readonly<Record<string, string>>;
  /** Explicit replica assignment by partition (then numPartitions/replicationFactor are -1). */
  assignments?: number[][];
}

/** A transaction as ListTransactions lists it. */
export interface TransactionListing {
  transactionalId: string;
  coordinatorId: number;
  producerId: bigint;
  state: string;
}

/** A transaction as its coordinator describes it (DescribeTransactions). */
export interface TransactionDescription {
  transactionalId: string;
  coordinatorId: number;
  state: string;
  producerId: bigint;
  producerEpoch: number;
  transactionTimeoutMs: number;
  /** -1 when no transaction is open. */
  transactionStartTimeMs: bigint;
  topicPartitions: TopicPartition[];
}

/** One producer a partition keeps state for (DescribeProducers; currentTxnStartOffset -1: no open transaction). */
export type ProducerState = DescribeProducersResponseProducerState;

export type ScramMechanismName = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

/** A change of one user's SCRAM credential (alterUserScramCredentials). */
export type ScramCredentialAlteration =
  | { user: string; mechanism: ScramMechanismName; password: string; iterations?: number; salt?: Buffer }
  | { user: string; mechanism: ScramMechanismName; delete: true };

/** A user's SCRAM credentials as the cluster describes them (never the keys), or why not. */
export interface UserScramCredentials {
  user: string;
  error: KafkaClientError | null;
  credentials: { mechanism: string; iterations: number }[];
}

/** Kafka's admin default for a new SCRAM credential. */
export const DEFAULT_SCRAM_ITERATIONS = 4096;

export interface CreatedTopic {
  topic: string;
  topicId: string;
  numPartitions: number;
  replicationFactor: number;
}

export interface TopicDescription {
  name: string;
  topicId: string;
  isInternal: boolean;
  partitions: PartitionMetadata[];
}

export type ConfigResourceType = 'topic' | 'broker' | 'broker-logger' | 'group';

const RESOURCE_TYPE_CODE: Readonly<Record<ConfigResourceType, number>> = { topic: 2, broker: 4, 'broker-logger': 8, group: 32 };

/** Kafka's ConfigEntry.ConfigSource names by wire value. */
export const CONFIG_SOURCE_NAMES: readonly string[] = [
  'UNKNOWN',
  'DYNAMIC_TOPIC_CONFIG',
  'DYNAMIC_BROKER_CONFIG',
  'DYNAMIC_DEFAULT_BROKER_CONFIG',
  'STATIC_BROKER_CONFIG',
  'DEFAULT_CONFIG',
  'DYNAMIC_BROKER_LOGGER_CONFIG',
  'CLIENT_METRICS_CONFIG',
  'GROUP_CONFIG',
];

export interface ConfigResource {
  type: ConfigResourceType;
  /** Topic name, broker id as a string ('' for cluster-wide broker defaults). */
  name: string;
}

export interface ConfigSynonym {
  name: string;
  value: string | null;
  source: string;
}

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  isSensitive: boolean;
  /** e.g. DYNAMIC_TOPIC_CONFIG, DEFAULT_CONFIG. */
  source: string;
  synonyms: ConfigSynonym[];
}

export interface ResourceConfig extends ConfigResource {
  entries: ConfigEntry[];
}

export type AlterConfigOp = 'set' | 'delete' | 'append' | 'subtract';
const ALTER_OP_CODE: Readonly<Record<AlterConfigOp, number>> = { set: 0, delete: 1, append: 2, subtract: 3 };

export interface ConfigChange {
  name: string;
  op: AlterConfigOp;
  value?: string | null;
}

/** Where to look up an offset: Kafka's ListOffsets special timestamps or a time in ms. */
export type OffsetSpec = 'earliest' | 'latest' | 'max-timestamp' | number;

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface PartitionOffset extends TopicPartition {
  offset: bigint;
  /** -1 when the lookup was not by time. */
  timestamp: bigint;
  leaderEpoch: number;
}

/** One replica of the metadata quorum, as DescribeQuorum reports it (-1: unknown). */
export interface QuorumReplicaInfo {
  replicaId: number;
  /** Kafka's display form; the zero uuid when the replica has no directory id. */
  replicaDirectoryId: string;
  logEndOffset: bigint;
  lastFetchTimestamp: bigint;
  lastCaughtUpTimestamp: bigint;
}

/** The metadata quorum (Kafka's QuorumInfo), from DescribeQuorum. */
export interface QuorumInfo {
  leaderId: number;
  leaderEpoch: number;
  highWatermark: bigint;
  voters: QuorumReplicaInfo[];
  observers: QuorumReplicaInfo[];
  /** Endpoints by node id (DescribeQuorum v2+), each as name://host:port. */
  nodes: Map<number, string[]>;
}

export interface ClusterDescription {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
}

export interface GroupListing {
  groupId: string;
  protocolType: string;
  state: string;
  type: string;
}

export interface GroupMemberDescription {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  /** Partitions assigned to the member (consumer protocol groups). */
  assignment: TopicPartition[];
  /** Topics the member subscribed to (consumer protocol groups). */
  subscription: string[];
}

export interface GroupDescription {
  groupId: string;
  state: string;
  protocolType: string;
  protocol: string;
  members: GroupMemberDescription[];
  errorCode: number;
}

export interface CommittedOffset extends TopicPartition {
  offset: bigint;
  metadata: string | null;
  leaderEpoch: number;
}

const EARLIEST = -2n;
const LATEST = -1n;
const MAX_TIMESTAMP = -3n;

export function offsetSpecTimestamp(spec: OffsetSpec): bigint {
  if (spec === 'earliest') return EARLIEST;
  if (spec === 'latest') return LATEST;
  if (spec === 'max-timestamp') return MAX_TIMESTAMP;
  return BigInt(spec);
}

/** Decodes a consumer-protocol assignment (int16 version, then the struct); empty on junk. */
export function decodeAssignment(buf: Buffer): ConsumerProtocolAssignmentData | null {
  if (buf.length < 2) return null;
  const version = Math.min(buf.readInt16BE(0), ConsumerProtocolAssignment.maxVersion);
  try {
    return ConsumerProtocolAssignment.decode(new Reader(buf, 2), version);
  } catch {
    return null;
  }
}

export function encodeAssignment(data: ConsumerProtocolAssignmentData, version = 0): Buffer {
  const w = new Writer(64);
  w.int16(version);
  ConsumerProtocolAssignment.encode(w, version, data);
  return w.toBuffer();
}

export function decodeSubscription(buf: Buffer): ConsumerProtocolSubscriptionData | null {
  if (buf.length < 2) return null;
  const version = Math.min(buf.readInt16BE(0), ConsumerProtocolSubscription.maxVersion);
  try {
    return ConsumerProtocolSubscription.decode(new Reader(buf, 2), version);
  } catch {
    return null;
  }
}

export function encodeSubscription(data: ConsumerProtocolSubscriptionData, version: number): Buffer {
  const w = new Writer(64);
  w.int16(version);
  ConsumerProtocolSubscription.encode(w, version, data);
  return w.toBuffer();
}

/** Partitions grouped under their topic, in first-seen order, as requests list them. */
function groupByTopic<T extends TopicPartition, P>(items: readonly T[], toPartition: (item: T) => P): { name: string; topicId: string; partitions: P[] }[] {
  const byTopic = new Map<string, P[]>();
  for (const it of items) {
    let list = byTopic.get(it.topic);
    if (list === undefined) byTopic.set(it.topic, (list = []));
    list.push(toPartition(it));
  }
  return [...byTopic].map(([name, partitions]) => ({ name, topicId: ZERO_UUID, partitions }));
}

/** Feature flags as a broker reports them in ApiVersions (Kafka's FeatureMetadata). */
export interface FeatureMetadata {
  /** Cluster-wide finalized levels; a feature that is not finalized (level 0) is absent. */
  finalizedFeatures: Map<string, { minVersionLevel: number; maxVersionLevel: number }>;
  /** Changes whenever the finalized levels may have; null when the broker reports none. */
  finalizedFeaturesEpoch: bigint | null;
  /** The levels the broker supports. */
  supportedFeatures: Map<string, { minVersion: number; maxVersion: number }>;
}

/** How UpdateFeatures may move a level (Kafka's FeatureUpdate.UpgradeType). */
export type FeatureUpgradeType = 'upgrade' | 'safe-downgrade' | 'unsafe-downgrade';

export interface FeatureUpdate {
  maxVersionLevel: number;
  upgradeType: FeatureUpgradeType;
}

const UPGRADE_TYPE_CODES: Readonly<Record<FeatureUpgradeType, number>> = { upgrade: 1, 'safe-downgrade': 2, 'unsafe-downgrade': 3 };

function topicError(code: number, message: string | null | undefined, where: string): KafkaClientError {
  return new KafkaClientError(code, message ?? undefined, { where });
}

export class Admin {
  readonly cluster: Cluster;
  private readonly coordinators: Coordinators;

  constructor(opts: AdminOptions) {
    this.cluster = new Cluster(opts);
    this.coordinators = new Coordinators(this.cluster);
  }

  async createTopics(topics: readonly NewTopic[], opts: { timeoutMs?: number; validateOnly?: boolean } = {}): Promise<CreatedTopic[]> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: CreateTopicsRequest, response: CreateTopicsResponse }, (v) => {
        const req = CreateTopicsRequest.defaults();
        req.timeoutMs = opts.timeoutMs ?? 30_000;
        if (opts.validateOnly === true) req.validateOnly = true;
        req.topics = topics.map((t) => ({
          name: t.topic,
          numPartitions: t.assignments !== undefined ? -1 : t.numPartitions ?? (v >= 4 ? -1 : 1),
          replicationFactor: t.assignments !== undefined ? -1 : t.replicationFactor ?? (v >= 4 ? -1 : 1),
          assignments: (t.assignments ?? []).map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
          configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
        }));
        return req;
      }),
    );
    const out: CreatedTopic[] = [];
    for (const t of res.topics) {
      if (t.errorCode !== ErrorCode.NONE) throw topicError(t.errorCode, t.errorMessage, `topic ${t.name}`);
      out.push({ topic: t.name, topicId: t.topicId, numPartitions: t.numPartitions, replicationFactor: t.replicationFactor });
    }
    this.cluster.invalidate();
    return out;
  }

  async deleteTopics(topics: readonly string[], opts: { timeoutMs?: number } = {}): Promise<void> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: DeleteTopicsRequest, response: DeleteTopicsResponse }, (v) => {
        const req = DeleteTopicsRequest.defaults();
        req.timeoutMs = opts.timeoutMs ?? 30_000;
        if (v >= 6) req.topics = topics.map((name) => ({ name, topicId: ZERO_UUID }));
        else req.topicNames = [...topics];
        return req;
      }),
    );
    for (const r of res.responses) {
      if (r.errorCode !== ErrorCode.NONE) throw topicError(r.errorCode, r.errorMessage, `topic ${r.name ?? r.topicId}`);
    }
    this.cluster.invalidate();
  }

  /** Topic names, sorted; internal topics only when asked. */
  async listTopics(opts: { includeInternal?: boolean } = {}): Promise<string[]> {
    const res = await this.cluster.retry(() => this.cluster.fetchMetadata(null, false));
    return res.topics
      .filter((t) => t.name !== null && (opts.includeInternal === true || !t.isInternal))
      .map((t) => t.name!)
      .sort();
  }

  /** Describes topics (all topics when `topics` is absent). */
  async describeTopics(topics?: readonly string[]): Promise<TopicDescription[]> {
    const res = await this.cluster.retry(async () => {
      const r = await this.cluster.fetchMetadata(topics ?? null, false);
      for (const t of r.topics) {
        if (t.errorCode === ErrorCode.LEADER_NOT_AVAILABLE) throw topicError(t.errorCode, null, `topic ${t.name}`);
      }
      return r;
    });
    const out: TopicDescription[] = [];
    for (const t of res.topics) {
      if (t.errorCode !== ErrorCode.NONE) throw topicError(t.errorCode, null, `topic ${t.name ?? t.topicId}`);
      out.push({
        name: t.name!,
        topicId: t.topicId,
        isInternal: t.isInternal,
        partitions: t.partitions
          .map((p) => ({
            partition: p.partitionIndex,
            leader: p.leaderId,
            leaderEpoch: p.leaderEpoch,
            replicas: p.replicaNodes,
            isr: p.isrNodes,
            offlineReplicas: p.offlineReplicas,
            errorCode: p.errorCode,
          }))
          .sort((a, b) => a.partition - b.partition),
      });
    }
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Raises topics' partition counts to `count`. */
  async createPartitions(changes: readonly { topic: string; count: number }[], opts: { timeoutMs?: number; validateOnly?: boolean } = {}): Promise<void> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: CreatePartitionsRequest, response: CreatePartitionsResponse }, () => {
        const req = CreatePartitionsRequest.defaults();
        req.timeoutMs = opts.timeoutMs ?? 30_000;
        req.validateOnly = opts.validateOnly === true;
        req.topics = changes.map((c) => ({ name: c.topic, count: c.count, assignments: null }));
        return req;
      }),
    );
    for (const r of res.results) if (r.errorCode !== ErrorCode.NONE) throw topicError(r.errorCode, r.errorMessage, `topic ${r.name}`);
    this.cluster.invalidate();
  }

  async describeConfigs(resources: readonly (ConfigResource & { keys?: string[] })[], opts: { includeSynonyms?: boolean } = {}): Promise<ResourceConfig[]> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: DescribeConfigsRequest, response: DescribeConfigsResponse }, (v) => {
        const req = DescribeConfigsRequest.defaults();
        req.resources = resources.map((r) => ({ resourceType: RESOURCE_TYPE_CODE[r.type], resourceName: r.name, configurationKeys: r.keys ?? null }));
        if (v >= 1) req.includeSynonyms = opts.includeSynonyms === true;
        return req;
      }),
    );
    return res.results.map((r, i) => {
      if (r.errorCode !== ErrorCode.NONE) throw topicError(r.errorCode, r.errorMessage, `${resources[i]?.type ?? 'resource'} ${r.resourceName}`);
      return {
        type: resources[i]!.type,
        name: r.resourceName,
        entries: r.configs.map((c) => ({
          name: c.name,
          value: c.value,
          readOnly: c.readOnly,
          isDefault: c.configSource === 5 || c.isDefault,
          isSensitive: c.isSensitive,
          source: CONFIG_SOURCE_NAMES[c.configSource] ?? 'UNKNOWN',
          synonyms: c.synonyms.map((s) => ({ name: s.name, value: s.value, source: CONFIG_SOURCE_NAMES[s.source] ?? 'UNKNOWN' })),
        })),
      };
    });
  }

  /** Replaces a resource's whole dynamic configuration (legacy AlterConfigs). */
  async alterConfigs(resources: readonly (ConfigResource & { configs: Readonly<Record<string, string>> })[], opts: { validateOnly?: boolean } = {}): Promise<void> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: AlterConfigsRequest, response: AlterConfigsResponse }, () => {
        const req = AlterConfigsRequest.defaults();
        req.validateOnly = opts.validateOnly === true;
        req.resources = resources.map((r) => ({
          resourceType: RESOURCE_TYPE_CODE[r.type],
          resourceName: r.name,
          configs: Object.entries(r.configs).map(([name, value]) => ({ name, value })),
        }));
        return req;
      }),
    );
    for (const r of res.responses) if (r.errorCode !== ErrorCode.NONE) throw topicError(r.errorCode, r.errorMessage, `resource ${r.resourceName}`);
  }

  /** Sets, deletes, appends to or subtracts from individual configs. */
  async incrementalAlterConfigs(resources: readonly (ConfigResource & { changes: readonly ConfigChange[] })[], opts: { validateOnly?: boolean } = {}): Promise<void> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: IncrementalAlterConfigsRequest, response: IncrementalAlterConfigsResponse }, () => {
        const req = IncrementalAlterConfigsRequest.defaults();
        req.validateOnly = opts.validateOnly === true;
        req.resources = resources.map((r) => ({
          resourceType: RESOURCE_TYPE_CODE[r.type],
          resourceName: r.name,
          configs: r.changes.map((c) => ({ name: c.name, configOperation: ALTER_OP_CODE[c.op], value: c.value ?? null })),
        }));
        return req;
      }),
    );
    for (const r of res.responses) if (r.errorCode !== ErrorCode.NONE) throw topicError(r.errorCode, r.errorMessage, `resource ${r.resourceName}`);
  }

  /** Groups partitions by their leader (refreshing metadata as needed). */
  private async byLeader<T extends TopicPartition>(items: readonly T[]): Promise<Map<number, T[]>> {
    const out = new Map<number, T[]>();
    for (const it of items) {
      const leader = await this.cluster.leaderFor(it.topic, it.partition);
      let list = out.get(leader);
      if (list === undefined) out.set(leader, (list = []));
      list.push(it);
    }
    return out;
  }

  /**
   * Sends each leader one request for its share of `items` and retries, after a metadata
   * refresh (cluster.retry), the partitions answered with a retriable error; a non-retriable
   * error fails the call. Returns each item's value, in the order of `items`.
   */
  private async onLeaders<T extends TopicPartition, R>(
    items: readonly T[],
    what: string,
    sendTo: (node: number, items: T[]) => Promise<{ topic: string; partition: number; errorCode: number; value: R }[]>,
  ): Promise<R[]> {
    const results = new Map<string, R>();
    let pending = [...items];
    await this.cluster.retry(async () => {
      const groups = await this.byLeader(pending);
      const failed: T[] = [];
      let firstError: KafkaClientError | null = null;
      await Promise.all(
        [...groups].map(async ([node, group]) => {
          for (const answer of await sendTo(node, group)) {
            const item = group.find((i) => i.topic === answer.topic && i.partition === answer.partition);
            if (item === undefined) continue;
            if (answer.errorCode !== ErrorCode.NONE) {
              const err = topicError(answer.errorCode, null, `${what} ${answer.topic}-${answer.partition}`);
              if (!err.retriable) throw err;
              failed.push(item);
              firstError ??= err;
              continue;
            }
            results.set(`${answer.topic}\0${answer.partition}`, answer.value);
          }
        }),
      );
      pending = failed;
      if (firstError !== null) throw firstError;
    });
    return items.map((r) => results.get(`${r.topic}\0${r.partition}`)!);
  }

  /** Offsets by time: 'earliest' (log start), 'latest' (high watermark / LSO), or a timestamp. */
  async listOffsets(
    requests: readonly (TopicPartition & { spec: OffsetSpec })[],
    opts: { isolation?: 'read_uncommitted' | 'read_committed' } = {},
  ): Promise<PartitionOffset[]> {
    // A request names each partition once: asking several specs for one partition takes one
    // round per spec.
    const keys = requests.map((r) => `${r.topic}\0${r.partition}`);
    if (new Set(keys).size !== keys.length) {
      const bySpec = new Map<OffsetSpec, number[]>();
      requests.forEach((r, i) => {
        let list = bySpec.get(r.spec);
        if (list === undefined) bySpec.set(r.spec, (list = []));
        list.push(i);
      });
      const out: PartitionOffset[] = new Array(requests.length);
      for (const indexes of bySpec.values()) {
        const part = await this.listOffsets(indexes.map((i) => requests[i]!), opts);
        indexes.forEach((idx, j) => (out[idx] = part[j]!));
      }
      return out;
    }
    const isolation = opts.isolation === 'read_committed' ? 1 : 0;
    return this.onLeaders(requests, 'ListOffsets', async (node, items) => {
      const res = await this.cluster.send(node, { request: ListOffsetsRequest, response: ListOffsetsResponse }, (v) => {
        const req = ListOffsetsRequest.defaults();
        req.replicaId = -1;
        if (v >= 2) req.isolationLevel = isolation;
        req.topics = groupByTopic(items, (it) => ({
          partitionIndex: it.partition,
          currentLeaderEpoch: v >= 4 ? this.cluster.cachedLeaderEpoch(it.topic, it.partition) : -1,
          timestamp: offsetSpecTimestamp(it.spec),
          maxNumOffsets: 1,
        }));
        return req;
      });
      return res.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          errorCode: p.errorCode,
          value: {
            topic: t.name,
            partition: p.partitionIndex,
            offset: p.oldStyleOffsets.length > 0 ? p.oldStyleOffsets[0]! : p.offset,
            timestamp: p.timestamp,
            leaderEpoch: p.leaderEpoch,
          },
        })),
      );
    });
  }

  /** Deletes records before `offset` (-1: the high watermark); returns the new low watermarks. */
  async deleteRecords(requests: readonly (TopicPartition & { offset: bigint })[], opts: { timeoutMs?: number } = {}): Promise<(TopicPartition & { lowWatermark: bigint })[]> {
    const lowWatermarks = await this.onLeaders(requests, 'DeleteRecords', async (node, items) => {
      const res = await this.cluster.send(node, { request: DeleteRecordsRequest, response: DeleteRecordsResponse }, () => {
        const req = DeleteRecordsRequest.defaults();
        req.timeoutMs = opts.timeoutMs ?? 30_000;
        req.topics = groupByTopic(items, (it) => ({ partitionIndex: it.partition, offset: it.offset }));
        return req;
      });
      return res.topics.flatMap((t) =>
        t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode, value: p.lowWatermark })),
      );
    });
    return requests.map((r, i) => ({ topic: r.topic, partition: r.partition, lowWatermark: lowWatermarks[i]! }));
  }

  async describeCluster(): Promise<ClusterDescription> {
    const conn = await this.cluster.anyConnection();
    if (conn.brokerRange(DescribeClusterRequest.apiKey) !== undefined) {
      const res = await this.cluster.retry(() => this.cluster.sendAny({ request: DescribeClusterRequest, response: DescribeClusterResponse }, () => DescribeClusterRequest.defaults()));
      if (res.errorCode !== ErrorCode.NONE) throw topicError(res.errorCode, res.errorMessage, 'DescribeCluster');
      return {
        clusterId: res.clusterId,
        controllerId: res.controllerId,
        brokers: res.brokers.map((b) => ({ nodeId: b.brokerId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId),
      };
    }
    const md = await this.cluster.retry(() => this.cluster.fetchMetadata([], false));
    return {
      clusterId: md.clusterId,
      controllerId: md.controllerId,
      brokers: md.brokers.map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack })).sort((a, b) => a.nodeId - b.nodeId),
    };
  }

  /** The metadata quorum's leader, voters and observers (Kafka's describeMetadataQuorum). */
  async describeMetadataQuorum(): Promise<QuorumInfo> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: DescribeQuorumRequest, response: DescribeQuorumResponse }, () => {
        const req = DescribeQuorumRequest.defaults();
        req.topics = [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }];
        return req;
      }),
    );
    if (res.errorCode !== ErrorCode.NONE) throw topicError(res.errorCode, res.errorMessage, 'DescribeQuorum');
    const p = res.topics[0]?.partitions[0];
    if (p === undefined) throw new KafkaClientError(ErrorCode.UNKNOWN_SERVER_ERROR, 'DescribeQuorum answered without the metadata partition', { where: 'describeMetadataQuorum' });
    if (p.errorCode !== ErrorCode.NONE) throw topicError(p.errorCode, p.errorMessage, 'DescribeQuorum');
    const replica = (r: (typeof p.currentVoters)[number]): QuorumReplicaInfo => ({ replicaId: r.replicaId, replicaDirectoryId: r.replicaDirectoryId, logEndOffset: r.logEndOffset, lastFetchTimestamp: r.lastFetchTimestamp, lastCaughtUpTimestamp: r.lastCaughtUpTimestamp });
    return {
      leaderId: p.leaderId,
      leaderEpoch: p.leaderEpoch,
      highWatermark: p.highWatermark,
      voters: p.currentVoters.map(replica),
      observers: p.observers.map(replica),
      nodes: new Map(res.nodes.map((n) => [n.nodeId, n.listeners.map((l) => `${l.name}://${l.host.includes(':') ? `[${l.host}]` : l.host}:${l.port}`)])),
    };
  }

  // --- feature flags ------------------------------------------------------------------------

  /** Supported and finalized feature levels, from an ApiVersions request (v3+) to any broker. */
  async describeFeatures(): Promise<FeatureMetadata> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: ApiVersionsRequest, response: ApiVersionsResponse }, (v) => {
        if (v < 3) throw new KafkaClientError(ErrorCode.UNSUPPORTED_VERSION, 'the broker reports no feature flags (ApiVersions v3+ needed)', { where: 'describeFeatures' });
        return { clientSoftwareName: 'tributary-admin', clientSoftwareVersion: '0.1.0' };
      }),
    );
    if (res.errorCode !== ErrorCode.NONE) throw topicError(res.errorCode, null, 'ApiVersions');
    return {
      finalizedFeatures: new Map(res.finalizedFeatures.map((f) => [f.name, { minVersionLevel: f.minVersionLevel, maxVersionLevel: f.maxVersionLevel }])),
      finalizedFeaturesEpoch: res.finalizedFeaturesEpoch < 0n ? null : res.finalizedFeaturesEpoch,
      supportedFeatures: new Map(res.supportedFeatures.map((f) => [f.name, { minVersion: f.minVersion, maxVersion: f.maxVersion }])),
    };
  }

  /**
   * Changes finalized feature levels. Returns each feature's outcome: null when it was (or, with
   * validateOnly, would be) applied, else the error. Brokers apply a request whole or not at all.
   */
  async updateFeatures(updates: Readonly<Record<string, FeatureUpdate>>, opts: { validateOnly?: boolean; timeoutMs?: number } = {}): Promise<Map<string, KafkaClientError | null>> {
    const names = Object.keys(updates);
    if (names.length === 0) throw new KafkaClientError(ErrorCode.INVALID_REQUEST, 'no feature updates given', { where: 'updateFeatures' });
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: UpdateFeaturesRequest, response: UpdateFeaturesResponse }, (v) => {
        if (v === 0 && (opts.validateOnly === true || names.some((n) => updates[n]!.upgradeType === 'unsafe-downgrade'))) {
          throw new KafkaClientError(ErrorCode.UNSUPPORTED_VERSION, 'validateOnly and unsafe downgrades need UpdateFeatures v1+', { where: 'updateFeatures' });
        }
        const req = UpdateFeaturesRequest.defaults();
        req.timeoutMs = opts.timeoutMs ?? 60_000;
        if (v >= 1) req.validateOnly = opts.validateOnly === true;
        req.featureUpdates = names.map((feature) => {
          const u = updates[feature]!;
          return {
            feature,
            maxVersionLevel: u.maxVersionLevel,
            allowDowngrade: v === 0 && u.upgradeType !== 'upgrade',
            upgradeType: v >= 1 ? UPGRADE_TYPE_CODES[u.upgradeType] : 1,
          };
        });
        return req;
      }),
    );
    const out = new Map<string, KafkaClientError | null>();
    for (const feature of names) {
      // v2 answers with the top-level error only; v0-1 also per feature.
      const r = res.results.find((x) => x.feature === feature);
      const code = res.errorCode !== ErrorCode.NONE ? res.errorCode : r?.errorCode ?? ErrorCode.NONE;
      const message = res.errorCode !== ErrorCode.NONE ? res.errorMessage : r?.errorMessage ?? null;
      // The map names the feature, so the error carries the broker's message alone.
      out.set(feature, code === ErrorCode.NONE ? null : new KafkaClientError(code, message ?? undefined));
    }
    return out;
  }

  // --- transactions (KIP-664) -----------------------------------------------------------------

  /** The transactions every broker coordinates (ListTransactions to each). */
  async listTransactions(opts: { durationFilterMs?: bigint } = {}): Promise<TransactionListing[]> {
    const brokers = (await this.describeCluster()).brokers;
    const lists = await Promise.all(
      brokers.map(async (b) => {
        const res = await this.cluster.retry(() =>
          this.cluster.send(b.nodeId, { request: ListTransactionsRequest, response: ListTransactionsResponse }, (v) => {
            const req = ListTransactionsRequest.defaults();
            if (v >= 1 && opts.durationFilterMs !== undefined) req.durationFilter = opts.durationFilterMs;
            return req;
          }),
        );
        if (res.errorCode !== ErrorCode.NONE) throw new KafkaClientError(res.errorCode, undefined, { where: `ListTransactions on broker ${b.nodeId}` });
        return res.transactionStates.map((t) => ({ transactionalId: t.transactionalId, coordinatorId: b.nodeId, producerId: t.producerId, state: t.transactionState }));
      }),
    );
    return lists.flat();
  }

  /** A transactional id's transaction, from its coordinator. */
  async describeTransaction(transactionalId: string): Promise<TransactionDescription> {
    const coordinators = (this.txnCoordinators ??= new Coordinators(this.cluster, KEY_TYPE_TRANSACTION));
    return this.cluster.retry(async () => {
      const node = await coordinators.find(transactionalId);
      const res = await this.cluster.send(node, { request: DescribeTransactionsRequest, response: DescribeTransactionsResponse }, () => {
        const req = DescribeTransactionsRequest.defaults();
        req.transactionalIds = [transactionalId];
        return req;
      });
      const t = res.transactionStates[0];
      if (t === undefined) throw new KafkaClientError(ErrorCode.UNKNOWN_SERVER_ERROR, 'no answer for the transactional id', { where: 'describeTransaction' });
      if (t.errorCode !== ErrorCode.NONE) {
        coordinators.check(transactionalId, t.errorCode);
        throw new KafkaClientError(t.errorCode, undefined, { where: `DescribeTransactions for ${transactionalId}` });
      }
      return {
        transactionalId,
        coordinatorId: node,
        state: t.transactionState,
        producerId: t.producerId,
        producerEpoch: t.producerEpoch,
        transactionTimeoutMs: t.transactionTimeoutMs,
        transactionStartTimeMs: t.transactionStartTimeMs,
        topicPartitions: t.topics.flatMap((x) => x.partitions.map((partition) => ({ topic: x.topic, partition }))),
      };
    });
  }

  private txnCoordinators: Coordinators | null = null;

  /** The producers a partition's leader keeps state for. */
  async describeProducers(partition: TopicPartition): Promise<ProducerState[]> {
    const [states] = await this.onLeaders([partition], 'DescribeProducers', async (node, items) => {
      const res = await this.cluster.send(node, { request: DescribeProducersRequest, response: DescribeProducersResponse }, () => {
        const req = DescribeProducersRequest.defaults();
        req.topics = groupByTopic(items, (it) => it.partition).map((t) => ({ name: t.name, partitionIndexes: t.partitions }));
        return req;
      });
      return res.topics.flatMap((t) =>
        t.partitions.map((p) => ({
          topic: t.name,
          partition: p.partitionIndex,
          errorCode: p.errorCode,
          value: p.activeProducers,
        })),
      );
    });
    return states!;
  }

  /** Writes an ABORT marker for a producer's open transaction on one partition (kafka-transactions abort). */
  async abortTransaction(spec: TopicPartition & { producerId: bigint; producerEpoch: number; coordinatorEpoch: number }): Promise<void> {
    await this.onLeaders([spec], 'WriteTxnMarkers', async (node, items) => {
      const res = await this.cluster.send(node, { request: WriteTxnMarkersRequest, response: WriteTxnMarkersResponse }, () => {
        const req = WriteTxnMarkersRequest.defaults();
        req.markers = [
          {
            producerId: spec.producerId,
            producerEpoch: spec.producerEpoch,
            transactionResult: false,
            coordinatorEpoch: spec.coordinatorEpoch,
            transactionVersion: 0,
            topics: groupByTopic(items, (it) => it.partition).map((t) => ({ name: t.name, partitionIndexes: t.partitions })),
          },
        ];
        return req;
      });
      return res.markers.flatMap((m) => m.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionIndex, errorCode: p.errorCode, value: null }))));
    });
  }

  // --- ACLs (KIP-140) -------------------------------------------------------------------------

  /** Creates ACL bindings; per binding null, or the broker's refusal, in order. */
  async createAcls(bindings: readonly AclBinding[]): Promise<(KafkaClientError | null)[]> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: CreateAclsRequest, response: CreateAclsResponse }, () => {
        const req = CreateAclsRequest.defaults();
        req.creations = bindings.map(toAclCreation);
        return req;
      }),
    );
    return res.results.map((r) => (r.errorCode === ErrorCode.NONE ? null : new KafkaClientError(r.errorCode, r.errorMessage ?? undefined)));
  }

  /** The ACL bindings `filter` matches. */
  async describeAcls(filter: AclBindingFilter): Promise<AclBinding[]> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: DescribeAclsRequest, response: DescribeAclsResponse }, () => {
        const req = DescribeAclsRequest.defaults();
        Object.assign(req, toAclFilterFields(filter));
        return req;
      }),
    );
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaClientError(res.errorCode, res.errorMessage ?? undefined, { where: 'describeAcls' });
    return res.resources.flatMap((r) => r.acls.map((a) => ({ resourceType: r.resourceType, resourceName: r.resourceName, patternType: r.patternType, principal: a.principal, host: a.host, operation: a.operation, permission: a.permissionType })));
  }

  /** Deletes what each filter matches; per filter the deleted bindings, or the refusal. */
  async deleteAcls(filters: readonly AclBindingFilter[]): Promise<Array<{ error: KafkaClientError | null; deleted: AclBinding[] }>> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: DeleteAclsRequest, response: DeleteAclsResponse }, () => {
        const req = DeleteAclsRequest.defaults();
        req.filters = filters.map(toAclFilterFields);
        return req;
      }),
    );
    return res.filterResults.map((r) => ({
      error: r.errorCode === ErrorCode.NONE ? null : new KafkaClientError(r.errorCode, r.errorMessage ?? undefined),
      deleted: r.matchingAcls.map(fromMatchingAcl),
    }));
  }

  // --- SCRAM credentials (KIP-554) ----------------------------------------------------------

  /** The SCRAM credentials of `users`, or of every user with none given. */
  async describeUserScramCredentials(users?: readonly string[]): Promise<UserScramCredentials[]> {
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: DescribeUserScramCredentialsRequest, response: DescribeUserScramCredentialsResponse }, () => {
        const req = DescribeUserScramCredentialsRequest.defaults();
        req.users = users === undefined ? null : users.map((name) => ({ name }));
        return req;
      }),
    );
    if (res.errorCode !== ErrorCode.NONE) throw new KafkaClientError(res.errorCode, res.errorMessage ?? undefined, { where: 'describeUserScramCredentials' });
    return res.results.map((r) => ({
      user: r.user,
      error: r.errorCode === ErrorCode.NONE ? null : new KafkaClientError(r.errorCode, r.errorMessage ?? undefined),
      credentials: r.credentialInfos.map((c) => ({ mechanism: scramMechanismByType(c.mechanism)?.name ?? `UNKNOWN(${c.mechanism})`, iterations: c.iterations })),
    }));
  }

  /**
   * Adds, replaces or deletes SCRAM credentials. The password is salted here (a random salt
   * unless one is given) and only the salted password is sent, as Kafka's admin client does.
   * Per user null, or the broker's refusal.
   */
  async alterUserScramCredentials(alterations: readonly ScramCredentialAlteration[]): Promise<Map<string, KafkaClientError | null>> {
    const deletions: { name: string; mechanism: number }[] = [];
    const upsertions: { name: string; mechanism: number; iterations: number; salt: Buffer; saltedPassword: Buffer }[] = [];
    for (const a of alterations) {
      const m = scramMechanismByName(a.mechanism);
      if (m === undefined) throw new KafkaClientError(ErrorCode.UNSUPPORTED_SASL_MECHANISM, `unknown SCRAM mechanism ${a.mechanism}`, { where: 'alterUserScramCredentials' });
      if ('delete' in a) {
        deletions.push({ name: a.user, mechanism: m.type });
        continue;
      }
      const iterations = a.iterations ?? DEFAULT_SCRAM_ITERATIONS;
      const salt = a.salt ?? randomBytes(32);
      upsertions.push({ name: a.user, mechanism: m.type, iterations, salt, saltedPassword: saltedPassword(m, a.password, salt, iterations) });
    }
    const res = await this.cluster.retry(() =>
      this.cluster.sendAny({ request: AlterUserScramCredentialsRequest, response: AlterUserScramCredentialsResponse }, () => {
        const req = AlterUserScramCredentialsRequest.defaults();
        req.deletions = deletions;
        req.upsertions = upsertions;
        return req;
      }),
    );
    return new Map(res.results.map((r) => [r.user, r.errorCode === ErrorCode.NONE ? null : new KafkaClientError(r.errorCode, r.errorMessage ?? undefined)]));
  }

  // --- consumer groups ----------------------------------------------------------------------

  /** Runs a request against a group's coordinator, re-finding it when it moved. */
  private async withCoordinator<T>(groupId: string, op: (node: number) => Promise<T>): Promise<T> {
    return this.cluster.retry(async () => {
      const node = await this.coordinators.find(groupId);
      try {
        return await op(node);
      } catch (err) {
        if (err instanceof KafkaClientError) this.coordinators.check(groupId, err.code);
        throw err;
      }
    });
  }

  /** Groups known to every broker (one ListGroups per broker). */
  async listGroups(opts: { states?: string[] } = {}): Promise<GroupListing[]> {
    await this.cluster.refreshMetadata();
    const out = new Map<string, GroupListing>();
    for (const b of this.cluster.brokers) {
      const res = await this.cluster.retry(() =>
        this.cluster.send(b.nodeId, { request: ListGroupsRequest, response: ListGroupsResponse }, (v) => {
          const req = ListGroupsRequest.defaults();
          if (v >= 4 && opts.states !== undefined) req.statesFilter = opts.states;
          return req;
        }),
      );
      if (res.errorCode !== ErrorCode.NONE) throw topicError(res.errorCode, null, `ListGroups on broker ${b.nodeId}`);
      for (const g of res.groups) out.set(g.groupId, { groupId: g.groupId, protocolType: g.protocolType, state: g.groupState, type: g.groupType });
    }
    return [...out.values()].sort((a, b) => (a.groupId < b.groupId ? -1 : 1));
  }

  /** The broker coordinating `groupId` (FindCoordinator). */
  async groupCoordinator(groupId: string): Promise<BrokerInfo> {
    const nodeId = await this.cluster.retry(() => this.coordinators.find(groupId));
    return this.cluster.brokers.find((b) => b.nodeId === nodeId) ?? { nodeId, host: '', port: -1, rack: null };
  }

  async describeGroups(groupIds: readonly string[]): Promise<GroupDescription[]> {
    const out: GroupDescription[] = [];
    for (const groupId of groupIds) {
      const res = await this.withCoordinator(groupId, async (node) => {
        const r = await this.cluster.send(node, { request: DescribeGroupsRequest, response: DescribeGroupsResponse }, () => {
          const req = DescribeGroupsRequest.defaults();
          req.groups = [groupId];
          return req;
        });
        const g = r.groups[0];
        if (g !== undefined && g.errorCode !== ErrorCode.NONE && new KafkaClientError(g.errorCode).retriable) {
          throw topicError(g.errorCode, null, `group ${groupId}`);
        }
        return r;
      });
      for (const g of res.groups) {
        const isConsumer = g.protocolType === 'consumer';
        out.push({
          groupId: g.groupId,
          state: g.groupState,
          protocolType: g.protocolType,
          protocol: g.protocolData,
          errorCode: g.errorCode,
          members: g.members.map((m) => {
            const assignment = isConsumer ? decodeAssignment(m.memberAssignment) : null;
            const subscription = isConsumer ? decodeSubscription(m.memberMetadata) : null;
            return {
              memberId: m.memberId,
              groupInstanceId: m.groupInstanceId,
              clientId: m.clientId,
              clientHost: m.clientHost,
              assignment: (assignment?.assignedPartitions ?? []).flatMap((tp) => tp.partitions.map((partition) => ({ topic: tp.topic, partition }))),
              subscription: subscription?.topics ?? [],
            };
          }),
        });
      }
    }
    return out;
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    for (const groupId of groupIds) {
      const res = await this.withCoordinator(groupId, (node) =>
        this.cluster.send(node, { request: DeleteGroupsRequest, response: DeleteGroupsResponse }, () => {
          const req = DeleteGroupsRequest.defaults();
          req.groupsNames = [groupId];
          return req;
        }),
      );
      for (const r of res.results) if (r.errorCode !== ErrorCode.NONE) throw topicError(r.errorCode, null, `group ${r.groupId}`);
    }
  }

  /** A group's committed offsets (all partitions with commits when `partitions` is absent). */
  async listConsumerGroupOffsets(groupId: string, partitions?: readonly TopicPartition[]): Promise<CommittedOffset[]> {
    return fetchCommittedOffsets(this.cluster, this.coordinators, groupId, partitions ?? null);
  }

  /** Commits offsets for a group that has no active members (as kafka-consumer-groups --reset-offsets). */
  async alterConsumerGroupOffsets(groupId: string, offsets: readonly (TopicPartition & { offset: bigint; metadata?: string })[]): Promise<void> {
    await commitOffsets(this.cluster, this.coordinators, groupId, -1, '', null, offsets);
  }

  async close(): Promise<void> {
    await this.cluster.close();
  }
}

/** OffsetFetch for one group; shared with the consumer. */
export async function fetchCommittedOffsets(
  cluster: Cluster,
  coordinators: Coordinators,
  groupId: string,
  partitions: readonly TopicPartition[] | null,
  opts: { requireStable?: boolean; signal?: AbortSignal } = {},
): Promise<CommittedOffset[]> {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions ?? []) {
    let list = byTopic.get(tp.topic);
    if (list === undefined) byTopic.set(tp.topic, (list = []));
    list.push(tp.partition);
  }
  return cluster.retry(async () => {
    const node = await coordinators.find(groupId, opts.signal);
    const res = await cluster
      .send(
        node,
        { request: OffsetFetchRequest, response: OffsetFetchResponse },
        (v) => {
          const req = OffsetFetchRequest.defaults();
          const topics = partitions === null ? null : [...byTopic].map(([name, partitionIndexes]) => ({ name, topicId: ZERO_UUID, partitionIndexes }));
          if (v >= 8) {
            req.groups = [{ groupId, memberId: null, memberEpoch: -1, topics }];
          } else {
            req.groupId = groupId;
            req.topics = topics === null && v < 2 ? [] : topics;
          }
          if (v >= 7) req.requireStable = opts.requireStable === true;
          return req;
        },
        opts.signal === undefined ? {} : { signal: opts.signal },
      )
      .catch((err: unknown) => {
        if (err instanceof KafkaClientError) coordinators.check(groupId, err.code);
        throw err;
      });
    const out: CommittedOffset[] = [];
    const group = res.groups[0];
    const errorCode = group !== undefined ? group.errorCode : res.errorCode;
    if (errorCode !== ErrorCode.NONE) {
      coordinators.check(groupId, errorCode);
      throw topicError(errorCode, null, `OffsetFetch for group ${groupId}`);
    }
    const topics = group !== undefined ? group.topics : res.topics;
    for (const t of topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) throw topicError(p.errorCode, null, `OffsetFetch ${t.name}-${p.partitionIndex} for group ${groupId}`);
        out.push({ topic: t.name, partition: p.partitionIndex, offset: p.committedOffset, metadata: p.metadata, leaderEpoch: p.committedLeaderEpoch });
      }
    }
    return out;
  }, opts.signal);
}

/** OffsetCommit for one group; shared with the consumer. */
export async function commitOffsets(
  cluster: Cluster,
  coordinators: Coordinators,
  groupId: string,
  generationId: number,
  memberId: string,
  groupInstanceId: string | null,
  offsets: readonly (TopicPartition & { offset: bigint; metadata?: string; leaderEpoch?: number })[],
  signal?: AbortSignal,
): Promise<void> {
  if (offsets.length === 0) return;
  await cluster.retry(async () => {
    const node = await coordinators.find(groupId, signal);
    const res = await cluster
      .send(
        node,
        { request: OffsetCommitRequest, response: OffsetCommitResponse },
        (v) => {
          const req = OffsetCommitRequest.defaults();
          req.groupId = groupId;
          if (v >= 1) {
            req.generationIdOrMemberEpoch = generationId;
            req.memberId = memberId;
          }
          if (v >= 7) req.groupInstanceId = groupInstanceId;
          req.topics = groupByTopic(offsets, (o) => ({
            partitionIndex: o.partition,
            committedOffset: o.offset,
            committedLeaderEpoch: v >= 6 ? o.leaderEpoch ?? -1 : -1,
            commitTimestamp: -1n,
            committedMetadata: o.metadata ?? '',
          }));
          return req;
        },
        signal === undefined ? {} : { signal },
      )
      .catch((err: unknown) => {
        if (err instanceof KafkaClientError) coordinators.check(groupId, err.code);
        throw err;
      });
    for (const t of res.topics) {
      for (const p of t.partitions) {
        if (p.errorCode !== ErrorCode.NONE) {
          coordinators.check(groupId, p.errorCode);
          throw topicError(p.errorCode, null, `OffsetCommit ${t.name}-${p.partitionIndex} for group ${groupId}`);
        }
      }
    }
  }, signal);
}
