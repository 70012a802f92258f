// Public surface of the TypeScript client.
export { Producer, parseCompression, type ProducerOptions, type ProducerRecord, type RecordMetadata, type DeliveryCallback, type Partitioner, type CompressionName, type Acks } from './producer.js';
export { Consumer, type ConsumerOptions, type ConsumerRecord, type ConsumerBatch, type RebalanceListener, type AutoOffsetReset } from './consumer.js';
export {
  Admin,
  CONFIG_SOURCE_NAMES,
  type AdminOptions,
  type NewTopic,
  type CreatedTopic,
  type TopicDescription,
  type ConfigResource,
  type ConfigResourceType,
  type ConfigEntry,
  type ConfigChange,
  type AlterConfigOp,
  type ResourceConfig,
  type OffsetSpec,
  type TopicPartition,
  type PartitionOffset,
  type ClusterDescription,
  type QuorumInfo,
  type QuorumReplicaInfo,
  type GroupListing,
  type GroupDescription,
  type GroupMemberDescription,
  type CommittedOffset,
  type FeatureMetadata,
  type FeatureUpdate,
  type FeatureUpgradeType,
} from './admin.js';
export { Cluster, type ClientOptions, type BrokerInfo, type TopicMetadata, type PartitionMetadata } from './cluster.js';
export { Connection, type ConnectionOptions, type ConnectionSaslOptions, type ConnectionTlsOptions, type RequestOptions, type Api } from './connection.js';
export { KafkaClientError, ConnectionError, RequestTimeoutError, DeliveryTimeoutError, TopicAuthorizationError, ClientClosedError, AbortError, ProducerFencedError, TransactionStateError, TransactionAbortedError, isRetriableError } from './errors.js';
export { TxnState, type ConsumerGroupMetadata, type OffsetToCommit, type ProducerIdAndEpoch } from './transactions.js';
export { murmur2, toPositive, partitionForKey } from './murmur2.js';
export { rangeAssignor, cooperativeStickyAssignor, type Assignor, type MemberSubscription } from './assignors.js';
export type { Bytes, HeaderEntry } from './batch-builder.js';
export { clientOptionsFromProperties, parseProperties } from './properties.js';
