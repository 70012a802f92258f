// Partition assignors run by the group leader, with Kafka's protocol names so members of other
// clients (Java, librdkafka) agree on the choice:
// - range (eager): per topic, members sorted by id get consecutive ranges, the first
//   `partitions % members` one extra.
// - cooperative-sticky (cooperative): balanced, keeps each member's owned partitions where the
//   balance allows, and never hands a partition to a new owner in the same generation as it is
//   taken away (the old owner revokes it, rejoins, and the next generation assigns it).
import type { TopicPartition } from './admin.js';

export interface MemberSubscription {
  memberId: string;
  topics: string[];
  /** Partitions the member owned in the previous generation (cooperative protocol). */
  ownedPartitions: TopicPartition[];
}

export interface Assignor {
  /** Kafka's protocol name. */
  readonly name: string;
  /** Whether members keep partitions across a rebalance (cooperative) or revoke all (eager). */
  readonly cooperative: boolean;
  /** Member id → assigned partitions. `partitionCounts` has every subscribed topic that exists. */
  assign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, TopicPartition[]>;
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export const rangeAssignor: Assignor = {
  name: 'range',
  cooperative: false,
  assign(members, partitionCounts) {
    const out = new Map<string, TopicPartition[]>(members.map((m) => [m.memberId, []]));
    const topics = [...new Set(members.flatMap((m) => m.topics))].sort();
    for (const topic of topics) {
      const count = partitionCounts.get(topic);
      if (count === undefined) continue;
      const subscribers = members.filter((m) => m.topics.includes(topic)).map((m) => m.memberId).sort(compareIds);
      const per = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((memberId, i) => {
        const n = per + (i < extra ? 1 : 0);
        for (let k = 0; k < n; k++) out.get(memberId)!.push({ topic, partition: next++ });
      });
    }
    return out;
  },
};

export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  cooperative: true,
  assign(members, partitionCounts) {
    const key = (tp: TopicPartition): string => `${tp.topic}\0${tp.partition}`;
    const sorted = [...members].sort((a, b) => compareIds(a.memberId, b.memberId));
    const all: TopicPartition[] = [];
    for (const topic of [...partitionCounts.keys()].sort()) {
      if (!sorted.some((m) => m.topics.includes(topic))) continue;
      for (let p = 0; p < partitionCounts.get(topic)!; p++) all.push({ topic, partition: p });
    }
    const target = new Map<string, TopicPartition[]>(sorted.map((m) => [m.memberId, []]));
    const owner = new Map<string, string>();
    // Previous owners, when the claim is valid (subscribed, partition exists, not claimed twice).
    const previousOwner = new Map<string, string>();
    for (const m of sorted) {
      for (const tp of m.ownedPartitions) {
        const k = key(tp);
        const count = partitionCounts.get(tp.topic);
        if (count === undefined || tp.partition >= count || !m.topics.includes(tp.topic) || previousOwner.has(k)) continue;
        previousOwner.set(k, m.memberId);
      }
    }
    // Quotas: every member gets floor(n/m) or one more; members already holding more keep
    // only up to their quota (the first `extra` members by load may keep one more).
    const eligible = (m: MemberSubscription, tp: TopicPartition): boolean => m.topics.includes(tp.topic);
    const total = all.length;
    const base = Math.floor(total / Math.max(1, sorted.length));
    let extra = total % Math.max(1, sorted.length);
    const quota = new Map<string, number>();
    const byOwned = [...sorted].sort((a, b) => b.ownedPartitions.length - a.ownedPartitions.length || compareIds(a.memberId, b.memberId));
    for (const m of byOwned) {
      quota.set(m.memberId, base + (extra > 0 ? 1 : 0));
      if (extra > 0) extra--;
    }
    for (const m of sorted) {
      const mine = m.ownedPartitions.filter((tp) => previousOwner.get(key(tp)) === m.memberId);
      for (const tp of mine.slice(0, quota.get(m.memberId))) {
        target.get(m.memberId)!.push(tp);
        owner.set(key(tp), m.memberId);
      }
    }
    for (const tp of all) {
      if (owner.has(key(tp))) continue;
      // Least loaded eligible member.
      let best: MemberSubscription | null = null;
      for (const m of sorted) {
        if (!eligible(m, tp)) continue;
        if (best === null || target.get(m.memberId)!.length < target.get(best.memberId)!.length) best = m;
      }
      if (best === null) continue;
      target.get(best.memberId)!.push(tp);
      owner.set(key(tp), best.memberId);
    }
    // Cooperative rule: a partition moving away from a member that still exists is withheld
    // this generation; its old owner revokes it and rejoins.
    const present = new Set(sorted.map((m) => m.memberId));
    for (const [memberId, list] of target) {
      target.set(
        memberId,
        list.filter((tp) => {
          const prev = previousOwner.get(key(tp));
          return prev === undefined || prev === memberId || !present.has(prev);
        }),
      );
    }
    return target;
  },
};

export const ASSIGNORS: Readonly<Record<string, Assignor>> = {
  range: rangeAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};
