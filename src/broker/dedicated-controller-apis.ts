// The controller listener of a dedicated controller (process.roles=controller): the admin APIs
// Kafka's ControllerApis serves (topics, partitions, configs, features, ACLs, SCRAM credentials,
// DescribeCluster, ApiVersions), on the committed image and the local controller, with no broker
// side behind them. On a combined node BrokerServer registers the same handlers with its own
// context; here the members only a broker has (partitions, groups, transactions, telemetry, topic
// auto-creation) throw, so a controller API that starts to use one fails loudly in the tests.
import type { ControllerChannel } from '../metadata/controller-channel.js';
import type { MetadataView } from '../metadata/publisher.js';
import type { RequestRouter } from '../server/request-router.js';
import { loggerFor } from '../logger.js';
import { TRUSTED_PEERS } from './authorizer.js';
import { liveBrokerEndpoints, type BrokerContext } from './broker-context.js';
import type { BrokerConfig } from './config.js';
import { ControllerMutationQuota } from './controller-mutation-quota.js';
import { registerControllerHandlers } from './handlers/index.js';

export function serveDedicatedControllerApis(deps: { router: RequestRouter; controller: ControllerChannel; metadata: MetadataView; config: BrokerConfig; clusterId: string }): void {
  const { router, controller, metadata, config, clusterId } = deps;
  const mutationQuota = new ControllerMutationQuota(
    {
      ratePerSecond: config.double('controller.quota.mutation.rate'),
      windowNum: config.int('controller.quota.window.num'),
      windowSizeSeconds: config.int('controller.quota.window.size.seconds'),
    },
    () => Date.now(),
  );
  const brokerOnly = (what: string): never => {
    throw new Error(`${what}: node ${config.nodeId} is a dedicated controller (process.roles=controller) and has none`);
  };
  const context: BrokerContext = {
    nodeId: config.nodeId,
    clusterId,
    config,
    metadata,
    controller,
    // As on a combined node's controller listener: its peers forward what they authorized.
    authorizer: config.string('authorizer.class.name') === '' ? null : TRUSTED_PEERS,
    get replicas() {
      return brokerOnly('partitions');
    },
    get groupCoordinator() {
      return brokerOnly('consumer groups');
    },
    get transactionCoordinator() {
      return brokerOnly('transactions');
    },
    get telemetry() {
      return brokerOnly('client telemetry');
    },
    log: loggerFor('controller-handlers'),
    brokersFor: (listenerName: string) => liveBrokerEndpoints(metadata.image, listenerName),
    supportedVersions: () => router.supportedVersions(),
    autoCreateTopics: () => brokerOnly('topic auto-creation'),
    internalTopicCreation: () => null,
    mutationQuota: (strict: boolean) => mutationQuota.forRequest(strict),
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    nowMs: () => Date.now(),
  };
  registerControllerHandlers(router, context);
}
