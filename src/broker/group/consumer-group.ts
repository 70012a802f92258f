// One group of the consumer group protocol (KIP-848): its members with their subscriptions and
// current assignments, the group epoch, the target assignment and its epoch, the metadata of
// the subscribed topics, and the committed offsets. The group state is derived from these after
// every change (`refreshState`); the table below is the whole set of legal transitions (target
// state <- states it may be entered from); any other transition is a programmer error and throws.
//
//   Empty        <- Assigning, Reconciling, Stable (the last member left or was fenced)
//   Assigning    <- Empty, Reconciling, Stable     (group epoch > assignment epoch)
//   Reconciling  <- Empty, Assigning, Stable       (some member is not at the target yet)
//   Stable       <- Empty, Assigning, Reconciling  (every member is at the target epoch)
//   Dead         <- Empty                          (deleted, or expired without offsets)
//
// This class holds state only: no timers, no I/O, no clock. The coordinator drives it.
// Invariant (checked on every member update): a partition is held - assigned or pending
// revocation - by at most one member. `reconcileMember` keeps it by assigning a partition only
// once no other member holds it.
import type { CommittedOffset } from './classic-group.js';
import type { TopicPartitionSet } from './consumer-assignors.js';

export const ConsumerGroupState = {
  Empty: 'Empty',
  Assigning: 'Assigning',
  Reconciling: 'Reconciling',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;
export type ConsumerGroupState = (typeof ConsumerGroupState)[keyof typeof ConsumerGroupState];

const VALID_PREVIOUS_STATES: Readonly<Record<ConsumerGroupState, readonly ConsumerGroupState[]>> = {
  Empty: ['Assigning', 'Reconciling', 'Stable'],
  Assigning: ['Empty', 'Reconciling', 'Stable'],
  Reconciling: ['Empty', 'Assigning', 'Stable'],
  Stable: ['Empty', 'Assigning', 'Reconciling'],
  Dead: ['Empty'],
};

/** A member's reconciliation state, with Kafka's byte values (ConsumerGroupCurrentMemberAssignmentValue.State). */
export const MemberState = {
  Stable: 0,
  UnrevokedPartitions: 1,
  UnreleasedPartitions: 2,
} as const;
export type MemberState = (typeof MemberState)[keyof typeof MemberState];

/** Member epoch of a member that left (the request's MemberEpoch). */
export const LEAVE_GROUP_MEMBER_EPOCH = -1;
/** Member epoch of a static member that left and will rejoin with the same instance id. */
export const LEAVE_GROUP_STATIC_MEMBER_EPOCH = -2;

export interface ConsumerGroupMember {
  readonly memberId: string;
  instanceId: string | null;
  rackId: string | null;
  clientId: string;
  clientHost: string;
  subscribedTopicNames: string[];
  subscribedTopicRegex: string | null;
  rebalanceTimeoutMs: number;
  serverAssignor: string | null;
  memberEpoch: number;
  previousMemberEpoch: number;
  state: MemberState;
  /** Partitions the member may use (what the heartbeat response carries). */
  assigned: TopicPartitionSet;
  /** Partitions the member must give up before it moves to the next epoch. */
  pendingRevocation: TopicPartitionSet;
}

export interface SubscribedTopic {
  topicId: string;
  topicName: string;
  numPartitions: number;
}

export function copyPartitions(set: TopicPartitionSet): TopicPartitionSet {
  const out: TopicPartitionSet = new Map();
  for (const [t, parts] of set) if (parts.size > 0) out.set(t, new Set(parts));
  return out;
}

export function samePartitions(a: TopicPartitionSet, b: TopicPartitionSet): boolean {
  let countA = 0;
  for (const [t, parts] of a) {
    if (parts.size === 0) continue;
    countA++;
    const other = b.get(t);
    if (other === undefined || other.size !== parts.size) return false;
    for (const p of parts) if (!other.has(p)) return false;
  }
  let countB = 0;
  for (const parts of b.values()) if (parts.size > 0) countB++;
  return countA === countB;
}

/** Whether every partition of `a` is in `b`. */
export function isSubset(a: TopicPartitionSet, b: TopicPartitionSet): boolean {
  for (const [t, parts] of a) {
    const other = b.get(t);
    for (const p of parts) if (other === undefined || !other.has(p)) return false;
  }
  return true;
}

function ownsAny(owned: TopicPartitionSet | null, pending: TopicPartitionSet): boolean {
  // Owned partitions not reported: the member is assumed to still hold everything.
  if (owned === null) return true;
  for (const [t, parts] of owned) {
    const revoking = pending.get(t);
    if (revoking === undefined) continue;
    for (const p of parts) if (revoking.has(p)) return true;
  }
  return false;
}

/**
 * The reconciliation step (KIP-848) for one member, given the target assignment at
 * `targetEpoch`, the partitions the member reports owning (null when not reported), and the
 * epoch of the member currently holding a partition (-1 when free; the member's own pending
 * revocations count as held). Returns the member's next state as a new object, or `member`
 * itself when nothing can change.
 *
 * - A member with partitions to give up stays at its epoch in UnrevokedPartitions, its
 *   assignment shrunk to what it keeps, until it reports them gone.
 * - Otherwise it moves to the target epoch and gets every target partition that is free;
 *   partitions still held by another member keep it in UnreleasedPartitions.
 */
export function reconcileMember(
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: TopicPartitionSet,
  owned: TopicPartitionSet | null,
  partitionEpoch: (topicId: string, partition: number) => number,
): ConsumerGroupMember {
  switch (member.state) {
    case MemberState.Stable:
      if (member.memberEpoch === targetEpoch) return member;
      return computeNext(member, targetEpoch, target, owned, partitionEpoch);
    case MemberState.UnrevokedPartitions:
      if (ownsAny(owned, member.pendingRevocation)) return member;
      return computeNext(member, targetEpoch, target, owned, partitionEpoch);
    case MemberState.UnreleasedPartitions:
      return computeNext(member, targetEpoch, target, owned, partitionEpoch);
    default:
      throw new Error(`member ${member.memberId}: unknown member state ${String(member.state)}`);
  }
}

function computeNext(
  member: ConsumerGroupMember,
  targetEpoch: number,
  target: TopicPartitionSet,
  owned: TopicPartitionSet | null,
  partitionEpoch: (topicId: string, partition: number) => number,
): ConsumerGroupMember {
  const kept: TopicPartitionSet = new Map();
  const revoke: TopicPartitionSet = new Map();
  const free: TopicPartitionSet = new Map();
  let unreleased = false;
  const topics = new Set([...target.keys(), ...member.assigned.keys()]);
  for (const t of topics) {
    const want = target.get(t) ?? new Set<number>();
    const have = member.assigned.get(t) ?? new Set<number>();
    const keep = new Set([...have].filter((p) => want.has(p)));
    const gone = new Set([...have].filter((p) => !want.has(p)));
    const pending = [...want].filter((p) => !keep.has(p));
    const available = new Set<number>();
    for (const p of pending) {
      if (partitionEpoch(t, p) === -1) available.add(p);
      else unreleased = true;
    }
    if (keep.size > 0) kept.set(t, keep);
    if (gone.size > 0) revoke.set(t, gone);
    if (available.size > 0) free.set(t, available);
  }
  if (revoke.size > 0 && ownsAny(owned, revoke)) {
    return { ...member, state: MemberState.UnrevokedPartitions, assigned: kept, pendingRevocation: revoke };
  }
  const assigned = copyPartitions(kept);
  for (const [t, parts] of free) {
    const into = assigned.get(t) ?? new Set<number>();
    for (const p of parts) into.add(p);
    assigned.set(t, into);
  }
  return {
    ...member,
    state: unreleased ? MemberState.UnreleasedPartitions : MemberState.Stable,
    previousMemberEpoch: member.memberEpoch,
    memberEpoch: targetEpoch,
    assigned,
    pendingRevocation: new Map(),
  };
}

export class ConsumerGroup {
  private stateValue: ConsumerGroupState = ConsumerGroupState.Empty;
  /** When the group entered its current state (ms). */
  stateTimestampMs: number;
  groupEpoch = 0;
  assignmentEpoch = 0;
  readonly members = new Map<string, ConsumerGroupMember>();
  /** instance id -> member id of the static member holding it. */
  readonly staticMembers = new Map<string, string>();
  /** member id -> target partitions at `assignmentEpoch`. */
  readonly targetAssignment = new Map<string, TopicPartitionSet>();
  /** Metadata of the subscribed topics that exist, by name, as of the last group epoch bump. */
  subscriptionMetadata = new Map<string, SubscribedTopic>();
  readonly offsets = new Map<string, CommittedOffset>();
  /** "topicId:partition" -> epoch of the member holding it (assigned or pending revocation). */
  private readonly partitionEpochs = new Map<string, number>();
  private readonly partitionOwners = new Map<string, string>();

  constructor(
    readonly groupId: string,
    nowMs: number,
  ) {
    this.stateTimestampMs = nowMs;
  }

  get state(): ConsumerGroupState {
    return this.stateValue;
  }

  is(state: ConsumerGroupState): boolean {
    return this.stateValue === state;
  }

  get size(): number {
    return this.members.size;
  }

  /** Epoch of the member holding the partition, or -1 when no member holds it. */
  currentPartitionEpoch(topicId: string, partition: number): number {
    return this.partitionEpochs.get(`${topicId}:${partition}`) ?? -1;
  }

  /** Id of the member holding the partition, if any (tests and describe). */
  partitionOwner(topicId: string, partition: number): string | undefined {
    return this.partitionOwners.get(`${topicId}:${partition}`);
  }

  /** Adds or replaces a member, keeping the partition ownership index in step. */
  updateMember(member: ConsumerGroupMember): void {
    const old = this.members.get(member.memberId);
    if (old !== undefined) this.releasePartitions(old);
    this.members.set(member.memberId, member);
    if (member.instanceId !== null) this.staticMembers.set(member.instanceId, member.memberId);
    this.holdPartitions(member);
  }

  removeMember(memberId: string): ConsumerGroupMember | undefined {
    const member = this.members.get(memberId);
    if (member === undefined) return undefined;
    this.releasePartitions(member);
    this.members.delete(memberId);
    if (member.instanceId !== null && this.staticMembers.get(member.instanceId) === memberId) this.staticMembers.delete(member.instanceId);
    return member;
  }

  staticMemberId(instanceId: string): string | undefined {
    return this.staticMembers.get(instanceId);
  }

  private holdPartitions(member: ConsumerGroupMember): void {
    // A member at the static-leave epoch keeps its partitions reserved under its last real epoch.
    const epoch = member.memberEpoch >= 0 ? member.memberEpoch : member.previousMemberEpoch;
    for (const set of [member.assigned, member.pendingRevocation]) {
      for (const [t, parts] of set) {
        for (const p of parts) {
          const key = `${t}:${p}`;
          const owner = this.partitionOwners.get(key);
          if (owner !== undefined && owner !== member.memberId) {
            throw new Error(`group ${this.groupId}: partition ${key} given to ${member.memberId} while ${owner} holds it`);
          }
          this.partitionOwners.set(key, member.memberId);
          this.partitionEpochs.set(key, epoch);
        }
      }
    }
  }

  private releasePartitions(member: ConsumerGroupMember): void {
    for (const set of [member.assigned, member.pendingRevocation]) {
      for (const [t, parts] of set) {
        for (const p of parts) {
          const key = `${t}:${p}`;
          if (this.partitionOwners.get(key) === member.memberId) {
            this.partitionOwners.delete(key);
            this.partitionEpochs.delete(key);
          }
        }
      }
    }
  }

  /** Every topic name subscribed by some member. */
  subscribedTopicNames(): Set<string> {
    const names = new Set<string>();
    for (const m of this.members.values()) for (const t of m.subscribedTopicNames) names.add(t);
    return names;
  }

  isSubscribedToTopic(topic: string): boolean {
    for (const m of this.members.values()) if (m.subscribedTopicNames.includes(topic)) return true;
    return false;
  }

  /** The state the group's data implies (Kafka's rule). */
  private derivedState(): ConsumerGroupState {
    if (this.members.size === 0) return ConsumerGroupState.Empty;
    if (this.groupEpoch > this.assignmentEpoch) return ConsumerGroupState.Assigning;
    for (const m of this.members.values()) {
      if (m.memberEpoch !== this.assignmentEpoch || m.state !== MemberState.Stable) return ConsumerGroupState.Reconciling;
    }
    return ConsumerGroupState.Stable;
  }

  /** Moves the group to the state its data implies; throws on a transition the table forbids. */
  refreshState(nowMs: number): void {
    if (this.stateValue === ConsumerGroupState.Dead) throw new Error(`group ${this.groupId}: changed after it was deleted`);
    const next = this.derivedState();
    if (next === this.stateValue) return;
    this.transitionTo(next, nowMs);
  }

  transitionTo(target: ConsumerGroupState, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[target].includes(this.stateValue)) {
      throw new Error(`consumer group ${this.groupId}: illegal transition ${this.stateValue} -> ${target}`);
    }
    this.stateValue = target;
    this.stateTimestampMs = nowMs;
  }
}
