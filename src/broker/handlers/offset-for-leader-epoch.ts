// OffsetForLeaderEpoch (key 23), v0-4: the end offset of a leader epoch, which consumers
// (KIP-320) and followers use to detect a diverged log, answered from the partition's
// leader-epoch cache with Kafka's rules (storage/leader-epoch-cache.ts, endOffsetFor):
//   - the latest epoch (the current one: the replica manager starts it at the log end) ->
//     (epoch, log end offset);
//   - an older known epoch -> (it, start offset of the next higher epoch); an epoch between two
//     entries -> (the largest epoch below it, start of the next); below every entry -> (the
//     requested epoch, start offset of the first entry);
//   - a newer epoch, -1, or an empty cache -> (-1, -1), as Kafka answers for epochs it does not know.
// currentLeaderEpoch (v2+) fences: older -> FENCED_LEADER_EPOCH, newer -> UNKNOWN_LEADER_EPOCH.
// ACLs (when an authorizer is configured), as Kafka since KIP-320: CLUSTER_ACTION on the cluster
// (replicas) allows every topic, else DESCRIBE on each topic (consumers); refused ->
// TOPIC_AUTHORIZATION_FAILED on its partitions.
import { AclOperation, CLUSTER_RESOURCE_NAME, ResourceType } from '../../protocol/acls.js';
import { DENIAL_UNAUDITED, isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { OffsetForLeaderEpochRequest } from '../../protocol/messages/OffsetForLeaderEpochRequest.js';
import { OffsetForLeaderEpochResponse, type OffsetForLeaderEpochResponseEpochEndOffset } from '../../protocol/messages/OffsetForLeaderEpochResponse.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { leaderEpochError } from '../replica-manager.js';

export function offsetForLeaderEpochHandler(broker: BrokerContext) {
  return defineHandler({
    request: OffsetForLeaderEpochRequest,
    response: OffsetForLeaderEpochResponse,
    minVersion: 0,
    maxVersion: 4,
    handle(ctx, req) {
      const res = OffsetForLeaderEpochResponse.defaults();
      const replica = isAllowed(broker.authorizer, ctx.connection, AclOperation.CLUSTER_ACTION, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME, DENIAL_UNAUDITED);
      for (const t of req.topics) {
        const partitions: OffsetForLeaderEpochResponseEpochEndOffset[] = [];
        const describable = replica || isAllowed(broker.authorizer, ctx.connection, AclOperation.DESCRIBE, ResourceType.TOPIC, t.topic);
        for (const p of t.partitions) {
          const out = OffsetForLeaderEpochResponse.newStruct('EpochEndOffset');
          out.partition = p.partition;
          partitions.push(out);
          if (!describable) {
            out.errorCode = ErrorCode.TOPIC_AUTHORIZATION_FAILED;
            continue;
          }
          const hosted = broker.replicas.get(t.topic, p.partition);
          if (hosted === undefined) {
            out.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
            continue;
          }
          out.errorCode = leaderEpochError(hosted, p.currentLeaderEpoch);
          if (out.errorCode !== ErrorCode.NONE) continue;
          // v0 has no leaderEpoch in the answer; it stays at its default there.
          const setEpoch = (epoch: number) => {
            if (ctx.apiVersion >= 1) out.leaderEpoch = epoch;
          };
          const found = hosted.store.endOffsetForEpoch(p.leaderEpoch);
          setEpoch(found.epoch);
          out.endOffset = BigInt(found.endOffset);
        }
        res.topics.push({ topic: t.topic, partitions });
      }
      return res;
    },
  });
}
