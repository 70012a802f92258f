// The narrow channel through which the broker side asks the controller for metadata changes.
// Every operation answers once its records are committed (or refused), with Kafka's error code
// and message per item; the change itself reaches the broker side through the MetadataPublisher,
// before the answer. A single node's controller implements it in-process; a broker of a cluster
// will forward the same operations to the active controller.
import type { AclBinding, AclBindingFilter } from '../protocol/acls.js';
import type { FeatureUpdate } from './features.js';

/** Kafka's QuorumController.MAX_RECORDS_PER_USER_OP: the most records one change may write. */
export const MAX_RECORDS_PER_USER_OP = 10_000;

export interface NewTopic {
  name: string;
  /** -1: the broker default. */
  numPartitions: number;
  /** -1: the broker default. */
  replicationFactor: number;
  /** Manual assignment: partition index -> replica broker ids; empty for automatic. */
  assignments: { partitionIndex: number; brokerIds: number[] }[];
  configs: { name: string; value: string | null }[];
}

export interface CreatedTopic {
  topicId: string;
  partitions: number;
  replicationFactor: number;
  configs: Map<string, string>;
}

/** The outcome of one item: errorCode NONE with a value, or Kafka's code and message. */
export interface ItemResult<T = null> {
  errorCode: number;
  errorMessage: string | null;
  /** Set when errorCode is NONE. */
  value: T | null;
}

/** The outcome for one topic of a multi-topic change. */
export interface TopicResult<T = null> extends ItemResult<T> {
  name: string;
}

export interface PartitionIncrease {
  topic: string;
  /** The partition count to grow to. */
  count: number;
  /** Replica broker ids of each new partition; null for automatic assignment. */
  assignments: number[][] | null;
}

export interface TopicToDelete {
  name: string;
  topicId: string;
}

export type ConfigChange = { name: string; value: string | null };

/**
 * KIP-599's controller mutation quota as the controller sees it: asked once per topic, with the
 * number of partitions the topic creates or deletes, before its records are written.
 */
export interface PartitionMutationQuota {
  /** Records `partitions` mutations; false (nothing recorded) when the request must be refused. */
  tryRecord(partitions: number): boolean;
}

/** No quota: internal topics created by the coordinators, and tests. */
export const UNLIMITED_MUTATIONS: PartitionMutationQuota = { tryRecord: () => true };

/** BrokerRegistration: a broker process announcing itself (fenced until its first heartbeat
 * finds it caught up with the metadata log). */
export interface BrokerRegistrationRequest {
  brokerId: number;
  /** Random per process start: a new one replaces the old registration. */
  incarnationId: string;
  /** Advertised listeners. */
  endpoints: { name: string; host: string; port: number; securityProtocol: number }[];
  rack: string | null;
}

export interface BrokerHeartbeatRequest {
  brokerId: number;
  brokerEpoch: bigint;
  /** The offset of the last metadata record the broker has applied. */
  currentMetadataOffset: bigint;
  wantFence: boolean;
  wantShutDown: boolean;
}

export interface BrokerHeartbeatAnswer {
  isCaughtUp: boolean;
  isFenced: boolean;
  shouldShutDown: boolean;
}

/** AlterUserScramCredentials' items (mechanism: Kafka's type byte, 1 SHA-256, 2 SHA-512). */
export interface ScramCredentialDeletion {
  name: string;
  mechanism: number;
}

export interface ScramCredentialUpsertion {
  name: string;
  mechanism: number;
  iterations: number;
  salt: Buffer;
  /** Hi(password, salt, iterations), computed by the client. */
  saltedPassword: Buffer;
}

export interface ControllerChannel {
  /** BrokerRegistration: the broker's epoch once its registration is committed. */
  registerBroker(request: BrokerRegistrationRequest): Promise<ItemResult<bigint>>;
  /** BrokerHeartbeat: unfences a caught-up broker, fences one that asks, begins its controlled shutdown. */
  brokerHeartbeat(request: BrokerHeartbeatRequest): Promise<ItemResult<BrokerHeartbeatAnswer>>;
  /** CreateTopics (or only validates them): one result per topic, in request order. */
  createTopics(topics: readonly NewTopic[], validateOnly: boolean, quota?: PartitionMutationQuota): Promise<TopicResult<CreatedTopic>[]>;
  /** DeleteTopics: one result per topic, in request order. */
  deleteTopics(topics: readonly TopicToDelete[], quota?: PartitionMutationQuota): Promise<TopicResult[]>;
  /** CreatePartitions: one result per topic, in request order. */
  createPartitions(increases: readonly PartitionIncrease[], validateOnly: boolean, quota?: PartitionMutationQuota): Promise<TopicResult[]>;
  /** Sets (value) or removes (null) config overrides of an existing topic. */
  alterTopicConfigs(topic: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult>;
  /** Sets or removes dynamic broker configs (resource '' is the cluster-wide default). */
  alterBrokerConfigs(resourceName: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult>;
  /** Sets or removes the config overrides of a group (which need not exist yet). */
  alterGroupConfigs(groupId: string, changes: readonly ConfigChange[], validateOnly: boolean): Promise<ItemResult>;
  /** UpdateFeatures: all updates or none. */
  updateFeatures(updates: readonly FeatureUpdate[], validateOnly: boolean): Promise<ItemResult>;
  /** A producer id no one has had before, surviving restarts. */
  allocateProducerId(): Promise<ItemResult<bigint>>;
  /** CreateAcls: one result per binding, in request order (an existing binding is a success). */
  createAcls(bindings: readonly AclBinding[]): Promise<ItemResult[]>;
  /** DeleteAcls: per filter the bindings it removed, or why it could not run; all or none. */
  deleteAcls(filters: readonly AclBindingFilter[]): Promise<Array<ItemResult & { deleted: AclBinding[] }>>;
  /** AlterUserScramCredentials: one result per user named, in order of first appearance. */
  alterUserScramCredentials(deletions: readonly ScramCredentialDeletion[], upsertions: readonly ScramCredentialUpsertion[]): Promise<Array<ItemResult & { user: string }>>;
}
