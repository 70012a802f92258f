// OffsetForLeaderEpoch (key 23), v0-4: the end offset of a leader epoch, which consumers
// (KIP-320) and followers use to detect a diverged log. Partitions here never change leader, so
// each has one epoch (its current leader epoch) covering the whole log:
//   - the current epoch -> (epoch, log end offset);
//   - a newer epoch, or -1 -> (-1, -1), as Kafka answers for epochs it does not know;
//   - an older epoch (none is ever written on a single node) -> (that epoch, log start offset)
//     as Kafka answers for an epoch before the first one it has.
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

const UNDEFINED_EPOCH = -1;

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
          if (p.leaderEpoch === hosted.leaderEpoch) {
            setEpoch(hosted.leaderEpoch);
            out.endOffset = BigInt(hosted.store.logEndOffset);
          } else if (p.leaderEpoch > UNDEFINED_EPOCH && p.leaderEpoch < hosted.leaderEpoch) {
            setEpoch(p.leaderEpoch);
            out.endOffset = BigInt(hosted.store.logStartOffset);
          }
        }
        res.topics.push({ topic: t.topic, partitions });
      }
      return res;
    },
  });
}
