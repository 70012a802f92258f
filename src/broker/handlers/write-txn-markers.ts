// WriteTxnMarkers (key 27), v0-2: what a transaction coordinator sends the leaders of a
// transaction's partitions once it has decided COMMIT or ABORT. Each marker becomes one control
// batch per partition through ReplicaManager.writeMarkers, the same path the in-process
// coordinator uses (TxnMarkerWriter), and is answered once committed as acks=all would be. Per
// partition: NONE, UNKNOWN_TOPIC_OR_PARTITION (not hosted here), INVALID_PRODUCER_EPOCH (an older
// producer epoch than the partition has seen), TRANSACTION_COORDINATOR_FENCED (an older
// coordinator epoch), REQUEST_TIMED_OUT / NOT_LEADER_OR_FOLLOWER / KAFKA_STORAGE_ERROR. v2 adds
// transactionVersion (KIP-890), which changes nothing on the partition side. Kafka merges the
// results of markers of one producer id into one entry; here each marker gets its own, in request
// order (a coordinator sends one marker per producer id).
// ACLs (when an authorizer is configured), as Kafka: ALTER or CLUSTER_ACTION on the cluster (what
// brokers' principals have), else every partition is CLUSTER_AUTHORIZATION_FAILED.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { DENIAL_UNAUDITED, isAllowed, type AuditLogging } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { WriteTxnMarkersRequest } from '../../protocol/messages/WriteTxnMarkersRequest.js';
import { WriteTxnMarkersResponse } from '../../protocol/messages/WriteTxnMarkersResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import type { TxnMarker } from '../txn/txn-markers.js';

/** Partitions one request may name in all (bounds the work and the response). */
export const WRITE_TXN_MARKERS_PARTITIONS_MAX = 100_000;

export function writeTxnMarkersHandler(broker: BrokerContext) {
  return defineHandler({
    request: WriteTxnMarkersRequest,
    response: WriteTxnMarkersResponse,
    minVersion: 0,
    maxVersion: 2,
    async handle(ctx, req) {
      const clusterAllows = (operation: number, audit?: AuditLogging) => isAllowed(broker.authorizer, ctx.connection, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, audit);
      // A denied ALTER falls back to CLUSTER_ACTION: only the latter's denial is audited.
      if (!clusterAllows(AclOperation.ALTER, DENIAL_UNAUDITED) && !clusterAllows(AclOperation.CLUSTER_ACTION)) {
        const refused = WriteTxnMarkersResponse.defaults();
        refused.markers = req.markers.map((m) => ({
          producerId: m.producerId,
          topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED })) })),
        }));
        return refused;
      }
      const markers: TxnMarker[] = [];
      for (const m of req.markers) {
        for (const t of m.topics) {
          for (const partition of t.partitionIndexes) {
            markers.push({ topic: t.name, partition, producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, committed: m.transactionResult });
          }
        }
      }
      if (markers.length > WRITE_TXN_MARKERS_PARTITIONS_MAX) throw new Error(`WriteTxnMarkers names ${markers.length} partitions, more than ${WRITE_TXN_MARKERS_PARTITIONS_MAX}`);
      const codes = await broker.replicas.writeMarkers(markers);
      let i = 0;
      const res = WriteTxnMarkersResponse.defaults();
      res.markers = req.markers.map((m) => ({
        producerId: m.producerId,
        topics: m.topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((partitionIndex) => ({ partitionIndex, errorCode: codes[i++]! })) })),
      }));
      return res;
    },
  });
}
