// The handler table: every API this broker serves, one file each. ApiVersions is built from
// this table, so adding a handler here is all it takes to advertise it.
import type { RequestRouter } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { apiVersionsHandler } from './api-versions.js';
import { saslAuthenticateHandler, saslHandshakeHandler } from './sasl.js';
import { createTopicsHandler } from './create-topics.js';
import { deleteTopicsHandler } from './delete-topics.js';
import { fetchHandler } from './fetch.js';
import { initProducerIdHandler } from './init-producer-id.js';
import { listOffsetsHandler } from './list-offsets.js';
import { metadataHandler } from './metadata.js';
import { produceHandler } from './produce.js';
import { createPartitionsHandler } from './create-partitions.js';
import { describeConfigsHandler } from './describe-configs.js';
import { alterConfigsHandler } from './alter-configs.js';
import { incrementalAlterConfigsHandler } from './incremental-alter-configs.js';
import { deleteRecordsHandler } from './delete-records.js';
import { describeClusterHandler } from './describe-cluster.js';
import { offsetForLeaderEpochHandler } from './offset-for-leader-epoch.js';
import { findCoordinatorHandler } from './find-coordinator.js';
import { joinGroupHandler } from './join-group.js';
import { syncGroupHandler } from './sync-group.js';
import { heartbeatHandler } from './heartbeat.js';
import { leaveGroupHandler } from './leave-group.js';
import { offsetCommitHandler } from './offset-commit.js';
import { offsetFetchHandler } from './offset-fetch.js';
import { listGroupsHandler } from './list-groups.js';
import { describeGroupsHandler } from './describe-groups.js';
import { deleteGroupsHandler } from './delete-groups.js';
import { offsetDeleteHandler } from './offset-delete.js';
import { consumerGroupHeartbeatHandler } from './consumer-group-heartbeat.js';
import { consumerGroupDescribeHandler } from './consumer-group-describe.js';
import { updateFeaturesHandler } from './update-features.js';
import { describeTopicPartitionsHandler } from './describe-topic-partitions.js';
import { getTelemetrySubscriptionsHandler } from './get-telemetry-subscriptions.js';
import { pushTelemetryHandler } from './push-telemetry.js';
import { listConfigResourcesHandler } from './list-config-resources.js';
import { createAclsHandler, deleteAclsHandler, describeAclsHandler } from './acls.js';
import { alterUserScramCredentialsHandler, describeUserScramCredentialsHandler } from './user-scram-credentials.js';
import { writeTxnMarkersHandler } from './write-txn-markers.js';
import { addPartitionsToTxnHandler } from './add-partitions-to-txn.js';
import { addOffsetsToTxnHandler } from './add-offsets-to-txn.js';
import { endTxnHandler } from './end-txn.js';
import { describeTransactionsHandler } from './describe-transactions.js';
import { listTransactionsHandler } from './list-transactions.js';
import { txnOffsetCommitHandler } from './txn-offset-commit.js';
import { describeProducersHandler } from './describe-producers.js';

export function registerHandlers(router: RequestRouter, broker: BrokerContext): void {
  for (const make of [
    apiVersionsHandler,
    metadataHandler,
    describeTopicPartitionsHandler,
    produceHandler,
    fetchHandler,
    listOffsetsHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    initProducerIdHandler,
    createPartitionsHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    incrementalAlterConfigsHandler,
    listConfigResourcesHandler,
    deleteRecordsHandler,
    describeClusterHandler,
    offsetForLeaderEpochHandler,
    updateFeaturesHandler,
    describeUserScramCredentialsHandler,
    alterUserScramCredentialsHandler,
    describeAclsHandler,
    createAclsHandler,
    deleteAclsHandler,
    // Group coordinator (classic protocol).
    findCoordinatorHandler,
    joinGroupHandler,
    syncGroupHandler,
    heartbeatHandler,
    leaveGroupHandler,
    offsetCommitHandler,
    offsetFetchHandler,
    listGroupsHandler,
    describeGroupsHandler,
    deleteGroupsHandler,
    offsetDeleteHandler,
    // Client telemetry (KIP-714).
    getTelemetrySubscriptionsHandler,
    pushTelemetryHandler,
    // Consumer groups (KIP-848).
    consumerGroupHeartbeatHandler,
    consumerGroupDescribeHandler,
    // Transactions: the coordinator side (InitProducerId above serves both idempotent and
    // transactional producers) and the partition side.
    addPartitionsToTxnHandler,
    addOffsetsToTxnHandler,
    endTxnHandler,
    txnOffsetCommitHandler,
    describeTransactionsHandler,
    listTransactionsHandler,
    writeTxnMarkersHandler,
    describeProducersHandler,
  ]) {
    router.register(make(broker));
  }
  router.register(saslHandshakeHandler());
  router.register(saslAuthenticateHandler(broker.log));
}

/** The admin APIs a KRaft controller serves on its controller listener (Kafka's ControllerApis),
 * from the same handlers: tools with --bootstrap-controller send these. */
export function registerControllerHandlers(router: RequestRouter, broker: BrokerContext): void {
  for (const make of [
    apiVersionsHandler,
    createTopicsHandler,
    deleteTopicsHandler,
    createPartitionsHandler,
    describeConfigsHandler,
    alterConfigsHandler,
    incrementalAlterConfigsHandler,
    describeClusterHandler,
    updateFeaturesHandler,
    describeAclsHandler,
    createAclsHandler,
    deleteAclsHandler,
    describeUserScramCredentialsHandler,
    alterUserScramCredentialsHandler,
  ]) {
    router.register(make(broker));
  }
}
