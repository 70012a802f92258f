// What request handlers may use: narrow views of the broker's parts, passed to every handler
// factory. Handlers are thin translators between requests and these.
import type { MetadataController } from '../controller/metadata-controller.js';
import type { TopicImage } from '../controller/metadata-image.js';
import type { Logger } from '../logger.js';
import type { SupportedVersions } from '../server/request-router.js';
import type { ClientTelemetry } from './client-telemetry.js';
import type { BrokerConfig } from './config.js';
import type { GroupCoordinator } from './group/group-coordinator.js';
import type { ReplicaManager } from './replica-manager.js';

export interface BrokerEndpoint {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly config: BrokerConfig;
  readonly controller: MetadataController;
  readonly replicas: ReplicaManager;
  /** Consumer groups and committed offsets (classic protocol). */
  readonly groupCoordinator: GroupCoordinator;
  /** Client instances of KIP-714 telemetry. */
  readonly telemetry: ClientTelemetry;
  readonly log: Logger;
  /** Brokers reachable through the listener a request came in on. */
  brokersFor(listenerName: string): BrokerEndpoint[];
  /** The API versions this broker serves (for ApiVersions). */
  supportedVersions(): SupportedVersions[];
  /**
   * Creates `name` with the broker defaults if auto.create.topics.enable allows it and the name
   * is valid; returns the topic, or an error code when it cannot exist.
   */
  autoCreateTopic(name: string): TopicImage | number;
  /** Effective topic config overrides merged with broker defaults, for DescribeConfigs. */
  nowMs(): number;
}
