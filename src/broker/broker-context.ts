// What request handlers may use: narrow views of the broker's parts, passed to every handler
// factory. Handlers are thin translators between requests and these.
import type { Logger } from '../logger.js';
import type { ControllerChannel } from '../metadata/controller-channel.js';
import type { RequestAuthorizer } from './authorizer.js';
import type { MetadataImage } from '../metadata/image.js';
import type { MetadataView } from '../metadata/publisher.js';
import type { SupportedVersions } from '../server/request-router.js';
import type { ClientTelemetry } from './client-telemetry.js';
import type { BrokerConfig } from './config.js';
import type { RequestMutationQuota } from './controller-mutation-quota.js';
import type { GroupCoordinator } from './group/group-coordinator.js';
import type { ReplicaManager } from './replica-manager.js';
import type { TransactionCoordinator } from './txn/transaction-coordinator.js';

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

/** The registered, unfenced brokers with an endpoint on `listenerName` (as Kafka, a broker
 * without one is left out). */
export function liveBrokerEndpoints(image: MetadataImage, listenerName: string): BrokerEndpoint[] {
  const out: BrokerEndpoint[] = [];
  for (const b of image.liveBrokers()) {
    const ep = b.endpoints.find((e) => e.name === listenerName);
    if (ep !== undefined) out.push({ nodeId: b.brokerId, host: ep.host, port: ep.port, rack: b.rack });
  }
  return out;
}

export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly config: BrokerConfig;
  /** The latest committed metadata image. */
  readonly metadata: MetadataView;
  /** Metadata changes: answered once committed, and published to `metadata` before that. */
  readonly controller: ControllerChannel;
  readonly replicas: ReplicaManager;
  /** Consumer groups and committed offsets (classic protocol). */
  readonly groupCoordinator: GroupCoordinator;
  /** The ACL authorizer, or null when authorizer.class.name is empty (everything allowed). */
  readonly authorizer: RequestAuthorizer | null;
  /** Transactional ids and their transactions (__transaction_state). */
  readonly transactionCoordinator: TransactionCoordinator;
  /** Client instances of KIP-714 telemetry. */
  readonly telemetry: ClientTelemetry;
  readonly log: Logger;
  /** Brokers reachable through the listener a request came in on. */
  brokersFor(listenerName: string): BrokerEndpoint[];
  /** The API versions this broker serves (for ApiVersions). */
  supportedVersions(): SupportedVersions[];
  /**
   * Creates topics a client named (Metadata) with the broker defaults, as far as
   * auto.create.topics.enable, the controller mutation quota and the per-request bound allow.
   * Returns each name's outcome: NONE (created), LEADER_NOT_AVAILABLE (not now: ask again),
   * INVALID_TOPIC_EXCEPTION, or UNKNOWN_TOPIC_OR_PARTITION (cannot be auto-created).
   */
  autoCreateTopics(names: readonly string[]): Promise<Map<string, number>>;
  /** A per-request recorder of the controller mutation quota (KIP-599); see controller-mutation-quota.ts. */
  mutationQuota(strict: boolean): RequestMutationQuota;
  /** The creation of an internal topic (__consumer_offsets) asked for and not yet answered, or null. */
  internalTopicCreation(): Promise<void> | null;
  /** Resolves after `ms` milliseconds (holding back a throttled response). */
  sleep(ms: number): Promise<void>;
  /** Effective topic config overrides merged with broker defaults, for DescribeConfigs. */
  nowMs(): number;
}
