// Rebalances as operators see them: each one is reported once, with a reason from a small fixed
// set (a metric label) and a free-text detail (the member, the client's own reason). A classic
// rebalance is each entry into PreparingRebalance; a consumer group (KIP-848) rebalance is each
// bump of the group epoch. Both drivers report through `RebalanceListener`; the GroupCoordinator
// logs the line and keeps the counts that /metrics reads.

export const RebalanceReason = {
  /** A new member joined the group. */
  MemberJoined: 'member_joined',
  /** A member left (LeaveGroup, or a ConsumerGroupHeartbeat with epoch -1). */
  MemberLeft: 'member_left',
  /** A member sent no heartbeat within its session timeout. */
  SessionTimeout: 'session_timeout',
  /** A consumer group member did not revoke its partitions within its rebalance timeout. */
  RebalanceTimeout: 'rebalance_timeout',
  /** A known member rejoined (a classic leader rejoins when it sees a metadata change). */
  MemberRejoined: 'member_rejoined',
  /** A member changed its subscription or protocols (or the assignor, rack, instance id). */
  SubscriptionChanged: 'subscription_changed',
  /** The subscribed topics changed: created, deleted, partitions added, or a regex matched anew. */
  MetadataChanged: 'metadata_changed',
  /** The leader's assignment could not be stored; the group rebalances again. */
  AssignmentFailed: 'assignment_failed',
} as const;
export type RebalanceReason = (typeof RebalanceReason)[keyof typeof RebalanceReason];

export const ALL_REBALANCE_REASONS: readonly RebalanceReason[] = Object.values(RebalanceReason);

export interface RebalanceEvent {
  groupId: string;
  /** 'classic' (JoinGroup/SyncGroup) or 'consumer' (KIP-848), as Kafka's group type. */
  protocol: 'classic' | 'consumer';
  reason: RebalanceReason;
  /** What happened, for the log line: the member, the client's reason. */
  detail: string;
  /** The classic generation before this rebalance, or the consumer group's new epoch. */
  generation: number;
}

export type RebalanceListener = (event: RebalanceEvent) => void;

/** Live groups whose counts are kept at most; past it the counts of gone groups are dropped. */
export const REBALANCE_COUNTS_GROUPS_MAX = 10_000;

/**
 * Rebalances per group and reason since this broker started coordinating the group. Bounded:
 * when more than REBALANCE_COUNTS_GROUPS_MAX groups are tracked, the groups `exists` says are
 * gone are dropped, then (if still over) the oldest-tracked ones.
 */
export class RebalanceCounts {
  private readonly byGroup = new Map<string, Map<RebalanceReason, number>>();

  constructor(private readonly exists: (groupId: string) => boolean, private readonly groupsMax = REBALANCE_COUNTS_GROUPS_MAX) {}

  record(groupId: string, reason: RebalanceReason): void {
    let counts = this.byGroup.get(groupId);
    if (counts === undefined) {
      if (this.byGroup.size >= this.groupsMax) this.prune();
      counts = new Map();
      this.byGroup.set(groupId, counts);
    }
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }

  /** The counts of the groups that still exist (gone ones are dropped on the way). */
  *entries(): Iterable<{ groupId: string; reason: RebalanceReason; count: number }> {
    for (const [groupId, counts] of [...this.byGroup]) {
      if (!this.exists(groupId)) {
        this.byGroup.delete(groupId);
        continue;
      }
      for (const [reason, count] of counts) yield { groupId, reason, count };
    }
  }

  private prune(): void {
    for (const groupId of [...this.byGroup.keys()]) if (!this.exists(groupId)) this.byGroup.delete(groupId);
    // Every tracked group still exists: forget the oldest-tracked to stay within the bound.
    for (const groupId of this.byGroup.keys()) {
      if (this.byGroup.size < this.groupsMax) break;
      this.byGroup.delete(groupId);
    }
  }
}
