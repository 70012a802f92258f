// The records of consumer groups (KIP-848) in __consumer_offsets, in Kafka's format: the key is
// an int16 record type (the key version) and the key struct, the value an int16 value version
// (0 for all of these) and the value struct, or null for a tombstone:
//   3 ConsumerGroupMetadata                 group epoch
//   4 ConsumerGroupPartitionMetadata        metadata of the subscribed topics
//   5 ConsumerGroupMemberMetadata           a member's subscription and client details
//   6 ConsumerGroupTargetAssignmentMetadata target assignment epoch
//   7 ConsumerGroupTargetAssignmentMember   a member's target partitions
//   8 ConsumerGroupCurrentMemberAssignment  a member's epochs, state and current partitions
import { Reader, Writer } from '../../protocol/codec/index.js';
import { ConsumerGroupCurrentMemberAssignmentKey } from '../../protocol/messages/ConsumerGroupCurrentMemberAssignmentKey.js';
import {
  ConsumerGroupCurrentMemberAssignmentValue,
  type ConsumerGroupCurrentMemberAssignmentValueData,
} from '../../protocol/messages/ConsumerGroupCurrentMemberAssignmentValue.js';
import { ConsumerGroupMemberMetadataKey } from '../../protocol/messages/ConsumerGroupMemberMetadataKey.js';
import { ConsumerGroupMemberMetadataValue, type ConsumerGroupMemberMetadataValueData } from '../../protocol/messages/ConsumerGroupMemberMetadataValue.js';
import { ConsumerGroupMetadataKey } from '../../protocol/messages/ConsumerGroupMetadataKey.js';
import { ConsumerGroupMetadataValue } from '../../protocol/messages/ConsumerGroupMetadataValue.js';
import { ConsumerGroupPartitionMetadataKey } from '../../protocol/messages/ConsumerGroupPartitionMetadataKey.js';
import { ConsumerGroupPartitionMetadataValue, type ConsumerGroupPartitionMetadataValueData } from '../../protocol/messages/ConsumerGroupPartitionMetadataValue.js';
import { ConsumerGroupTargetAssignmentMemberKey } from '../../protocol/messages/ConsumerGroupTargetAssignmentMemberKey.js';
import { ConsumerGroupTargetAssignmentMemberValue } from '../../protocol/messages/ConsumerGroupTargetAssignmentMemberValue.js';
import { ConsumerGroupTargetAssignmentMetadataKey } from '../../protocol/messages/ConsumerGroupTargetAssignmentMetadataKey.js';
import { ConsumerGroupTargetAssignmentMetadataValue } from '../../protocol/messages/ConsumerGroupTargetAssignmentMetadataValue.js';
import type { BatchRecord } from '../../protocol/records/record-batch.js';
import type { TopicPartitionSet } from './consumer-assignors.js';
import type { ConsumerGroupMember, MemberState, SubscribedTopic } from './consumer-group.js';

export const ConsumerRecordType = {
  GroupMetadata: 3,
  PartitionMetadata: 4,
  MemberMetadata: 5,
  TargetAssignmentMetadata: 6,
  TargetAssignmentMember: 7,
  CurrentMemberAssignment: 8,
} as const;

const VALUE_VERSION = 0;

export interface MemberMetadata {
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
}

export interface CurrentAssignment {
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  assigned: TopicPartitionSet;
  pendingRevocation: TopicPartitionSet;
}

/** A decoded consumer group record; `value` null is a tombstone. */
export type ConsumerGroupRecord =
  | { type: 3; groupId: string; value: { epoch: number } | null }
  | { type: 4; groupId: string; value: SubscribedTopic[] | null }
  | { type: 5; groupId: string; memberId: string; value: MemberMetadata | null }
  | { type: 6; groupId: string; value: { assignmentEpoch: number } | null }
  | { type: 7; groupId: string; memberId: string; value: TopicPartitionSet | null }
  | { type: 8; groupId: string; memberId: string; value: CurrentAssignment | null };

function withVersion(version: number, body: (w: Writer) => void): Buffer {
  const w = new Writer();
  w.int16(version);
  body(w);
  return w.toBuffer();
}

function toWire(set: TopicPartitionSet): { topicId: string; partitions: number[] }[] {
  return [...set]
    .filter(([, parts]) => parts.size > 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([topicId, parts]) => ({ topicId, partitions: [...parts].sort((a, b) => a - b) }));
}

function fromWire(list: readonly { topicId: string; partitions: number[] }[]): TopicPartitionSet {
  const out: TopicPartitionSet = new Map();
  for (const t of list) {
    const parts = out.get(t.topicId) ?? new Set<number>();
    for (const p of t.partitions) parts.add(p);
    if (parts.size > 0) out.set(t.topicId, parts);
  }
  return out;
}

export { toWire as partitionsToWire, fromWire as partitionsFromWire };

function groupKey(type: 3 | 4 | 6, groupId: string): Buffer {
  const codec = type === 3 ? ConsumerGroupMetadataKey : type === 4 ? ConsumerGroupPartitionMetadataKey : ConsumerGroupTargetAssignmentMetadataKey;
  return withVersion(type, (w) => codec.encode(w, type, { groupId }));
}

function memberKey(type: 5 | 7 | 8, groupId: string, memberId: string): Buffer {
  const codec = type === 5 ? ConsumerGroupMemberMetadataKey : type === 7 ? ConsumerGroupTargetAssignmentMemberKey : ConsumerGroupCurrentMemberAssignmentKey;
  return withVersion(type, (w) => codec.encode(w, type, { groupId, memberId }));
}

export function groupEpochRecord(groupId: string, epoch: number | null, nowMs: number): BatchRecord {
  const key = groupKey(3, groupId);
  if (epoch === null) return { key, value: null, timestamp: nowMs };
  return { key, value: withVersion(VALUE_VERSION, (w) => ConsumerGroupMetadataValue.encode(w, VALUE_VERSION, { epoch })), timestamp: nowMs };
}

export function partitionMetadataRecord(groupId: string, topics: readonly SubscribedTopic[] | null, nowMs: number): BatchRecord {
  const key = groupKey(4, groupId);
  if (topics === null) return { key, value: null, timestamp: nowMs };
  const value: ConsumerGroupPartitionMetadataValueData = {
    topics: [...topics]
      .sort((a, b) => (a.topicName < b.topicName ? -1 : 1))
      .map((t) => ({ topicId: t.topicId, topicName: t.topicName, numPartitions: t.numPartitions, partitionMetadata: [] })),
  };
  return { key, value: withVersion(VALUE_VERSION, (w) => ConsumerGroupPartitionMetadataValue.encode(w, VALUE_VERSION, value)), timestamp: nowMs };
}

export function memberMetadataRecord(groupId: string, memberId: string, member: ConsumerGroupMember | null, nowMs: number): BatchRecord {
  const key = memberKey(5, groupId, memberId);
  if (member === null) return { key, value: null, timestamp: nowMs };
  const value: ConsumerGroupMemberMetadataValueData = {
    instanceId: member.instanceId,
    rackId: member.rackId,
    clientId: member.clientId,
    clientHost: member.clientHost,
    subscribedTopicNames: member.subscribedTopicNames,
    subscribedTopicRegex: member.subscribedTopicRegex,
    rebalanceTimeoutMs: member.rebalanceTimeoutMs,
    serverAssignor: member.serverAssignor,
    classicMemberMetadata: null,
  };
  return { key, value: withVersion(VALUE_VERSION, (w) => ConsumerGroupMemberMetadataValue.encode(w, VALUE_VERSION, value)), timestamp: nowMs };
}

export function targetAssignmentMetadataRecord(groupId: string, assignmentEpoch: number | null, nowMs: number): BatchRecord {
  const key = groupKey(6, groupId);
  if (assignmentEpoch === null) return { key, value: null, timestamp: nowMs };
  return {
    key,
    value: withVersion(VALUE_VERSION, (w) => ConsumerGroupTargetAssignmentMetadataValue.encode(w, VALUE_VERSION, { assignmentEpoch })),
    timestamp: nowMs,
  };
}

export function targetAssignmentMemberRecord(groupId: string, memberId: string, partitions: TopicPartitionSet | null, nowMs: number): BatchRecord {
  const key = memberKey(7, groupId, memberId);
  if (partitions === null) return { key, value: null, timestamp: nowMs };
  return {
    key,
    value: withVersion(VALUE_VERSION, (w) => ConsumerGroupTargetAssignmentMemberValue.encode(w, VALUE_VERSION, { topicPartitions: toWire(partitions) })),
    timestamp: nowMs,
  };
}

export function currentAssignmentRecord(groupId: string, memberId: string, member: ConsumerGroupMember | null, nowMs: number): BatchRecord {
  const key = memberKey(8, groupId, memberId);
  if (member === null) return { key, value: null, timestamp: nowMs };
  const value: ConsumerGroupCurrentMemberAssignmentValueData = {
    memberEpoch: member.memberEpoch,
    previousMemberEpoch: member.previousMemberEpoch,
    state: member.state,
    assignedPartitions: toWire(member.assigned),
    partitionsPendingRevocation: toWire(member.pendingRevocation),
  };
  return { key, value: withVersion(VALUE_VERSION, (w) => ConsumerGroupCurrentMemberAssignmentValue.encode(w, VALUE_VERSION, value)), timestamp: nowMs };
}

/** Decodes a consumer group record (key version 3-8), or returns null for any other type. */
export function decodeConsumerGroupRecord(keyVersion: number, kr: Reader, value: Buffer | null): ConsumerGroupRecord | null {
  const vr = value === null ? null : new Reader(value);
  const valueVersion = vr === null ? 0 : vr.int16();
  switch (keyVersion) {
    case 3: {
      const { groupId } = ConsumerGroupMetadataKey.decode(kr, 3);
      return { type: 3, groupId, value: vr === null ? null : { epoch: ConsumerGroupMetadataValue.decode(vr, valueVersion).epoch } };
    }
    case 4: {
      const { groupId } = ConsumerGroupPartitionMetadataKey.decode(kr, 4);
      if (vr === null) return { type: 4, groupId, value: null };
      const v = ConsumerGroupPartitionMetadataValue.decode(vr, valueVersion);
      return { type: 4, groupId, value: v.topics.map((t) => ({ topicId: t.topicId, topicName: t.topicName, numPartitions: t.numPartitions })) };
    }
    case 5: {
      const { groupId, memberId } = ConsumerGroupMemberMetadataKey.decode(kr, 5);
      if (vr === null) return { type: 5, groupId, memberId, value: null };
      const v = ConsumerGroupMemberMetadataValue.decode(vr, valueVersion);
      return {
        type: 5,
        groupId,
        memberId,
        value: {
          instanceId: v.instanceId,
          rackId: v.rackId,
          clientId: v.clientId,
          clientHost: v.clientHost,
          subscribedTopicNames: v.subscribedTopicNames,
          subscribedTopicRegex: v.subscribedTopicRegex,
          rebalanceTimeoutMs: v.rebalanceTimeoutMs,
          serverAssignor: v.serverAssignor,
        },
      };
    }
    case 6: {
      const { groupId } = ConsumerGroupTargetAssignmentMetadataKey.decode(kr, 6);
      return { type: 6, groupId, value: vr === null ? null : { assignmentEpoch: ConsumerGroupTargetAssignmentMetadataValue.decode(vr, valueVersion).assignmentEpoch } };
    }
    case 7: {
      const { groupId, memberId } = ConsumerGroupTargetAssignmentMemberKey.decode(kr, 7);
      return { type: 7, groupId, memberId, value: vr === null ? null : fromWire(ConsumerGroupTargetAssignmentMemberValue.decode(vr, valueVersion).topicPartitions) };
    }
    case 8: {
      const { groupId, memberId } = ConsumerGroupCurrentMemberAssignmentKey.decode(kr, 8);
      if (vr === null) return { type: 8, groupId, memberId, value: null };
      const v = ConsumerGroupCurrentMemberAssignmentValue.decode(vr, valueVersion);
      return {
        type: 8,
        groupId,
        memberId,
        value: {
          memberEpoch: v.memberEpoch,
          previousMemberEpoch: v.previousMemberEpoch,
          state: v.state as MemberState,
          assigned: fromWire(v.assignedPartitions),
          pendingRevocation: fromWire(v.partitionsPendingRevocation),
        },
      };
    }
    default:
      return null;
  }
}
