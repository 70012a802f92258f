// CreatePartitions (key 37), v0-3: grows topics through the controller (automatic or manual
// replica assignments), or only validates with validateOnly, all topics in one metadata change
// (encoded in slices when large).
// As Kafka's controller: names that appear twice are answered first with INVALID_REQUEST, then
// the others in request order; an unknown topic is UNKNOWN_TOPIC_OR_PARTITION without a
// message; more than 10,000 new partitions in one request -> POLICY_VIOLATION. The controller
// mutation quota (KIP-599) refuses topics with THROTTLING_QUOTA_EXCEEDED from v3 and throttles
// older versions by holding the response back.
// ACLs (when an authorizer is configured): ALTER on each topic, else TOPIC_AUTHORIZATION_FAILED
// (before the existence check, so an unknown topic's name reveals nothing).
import { AclOperation, ResourceType } from '../../protocol/acls.js';
import { isAllowed } from '../authorizer.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CreatePartitionsRequest } from '../../protocol/messages/CreatePartitionsRequest.js';
import { CreatePartitionsResponse, type CreatePartitionsResponseCreatePartitionsTopicResult } from '../../protocol/messages/CreatePartitionsResponse.js';
import type { PartitionIncrease } from '../../metadata/controller-channel.js';
import { defineHandler } from '../../server/request-router.js';
import type { BrokerContext } from '../broker-context.js';
import { throttledResponse } from '../controller-mutation-quota.js';

const STRICT_QUOTA_SINCE = 3;

export function createPartitionsHandler(broker: BrokerContext) {
  return defineHandler({
    request: CreatePartitionsRequest,
    response: CreatePartitionsResponse,
    minVersion: 0,
    maxVersion: 3,
    async handle(ctx, req) {
      const res = CreatePartitionsResponse.defaults();
      const quota = broker.mutationQuota(ctx.apiVersion >= STRICT_QUOTA_SINCE);
      const result = (name: string, errorCode: number, errorMessage: string | null): CreatePartitionsResponseCreatePartitionsTopicResult => ({ name, errorCode, errorMessage });
      const counts = new Map<string, number>();
      for (const t of req.topics) counts.set(t.name, (counts.get(t.name) ?? 0) + 1);
      for (const [name, n] of counts) if (n > 1) res.results.push(result(name, ErrorCode.INVALID_REQUEST, 'Duplicate topic name.'));
      // One slot per remaining topic, in request order; the known ones are filled by the controller.
      const slots: CreatePartitionsResponseCreatePartitionsTopicResult[] = [];
      const increases: PartitionIncrease[] = [];
      const increaseSlots: CreatePartitionsResponseCreatePartitionsTopicResult[] = [];
      for (const t of req.topics) {
        if (counts.get(t.name)! > 1) continue;
        const topic = broker.metadata.image.topicsByName.get(t.name);
        const alterable = isAllowed(broker.authorizer, ctx.connection, AclOperation.ALTER, ResourceType.TOPIC, t.name);
        const slot = result(t.name, alterable ? ErrorCode.UNKNOWN_TOPIC_OR_PARTITION : ErrorCode.TOPIC_AUTHORIZATION_FAILED, null);
        slots.push(slot);
        if (topic === undefined || !alterable) continue;
        increases.push({ topic: topic.name, count: t.count, assignments: t.assignments?.map((a) => a.brokerIds) ?? null });
        increaseSlots.push(slot);
      }
      (await broker.controller.createPartitions(increases, req.validateOnly, quota)).forEach((r, i) => {
        increaseSlots[i]!.errorCode = r.errorCode;
        increaseSlots[i]!.errorMessage = r.errorMessage;
      });
      for (const slot of slots) res.results.push(slot);
      return throttledResponse(broker, true, ctx.apiVersion >= STRICT_QUOTA_SINCE, quota, res);
    },
  });
}
