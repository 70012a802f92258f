// Server-side assignors of the consumer group protocol (KIP-848): given the members'
// subscriptions, the partition counts of the subscribed topics and the previous target
// assignment, they compute the next target assignment. Pure functions: no I/O, no clock, and
// the same input always yields the same output (members and topics are visited in sorted order).
//
// - `uniform` (Kafka's default): every partition goes to one subscribed member, and the counts
//   are as even as the subscriptions allow; partitions stay with their previous owner whenever
//   that keeps the balance (sticky), so a rebalance moves only what must move.
// - `range`: per topic, the subscribed members (sorted by instance id, else member id) get
//   consecutive ranges of partitions, the first `partitions % members` one extra; members with
//   the same subscriptions therefore get the same partition numbers of co-partitioned topics.

/** topic id -> partition numbers. */
export type TopicPartitionSet = Map<string, Set<number>>;

export interface AssignorMember {
  memberId: string;
  instanceId: string | null;
  /** Topic ids the member subscribes to (topics that exist). */
  subscribedTopicIds: ReadonlySet<string>;
  /** The member's partitions in the previous target assignment. */
  previous: TopicPartitionSet;
}

export interface AssignorInput {
  members: readonly AssignorMember[];
  /** topic id -> number of partitions, for every subscribed topic that exists. */
  partitionCounts: ReadonlyMap<string, number>;
}

/** member id -> its target partitions. */
export type TargetAssignment = Map<string, TopicPartitionSet>;

export interface ServerAssignor {
  readonly name: string;
  assign(input: AssignorInput): TargetAssignment;
}

function partitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

function emptyAssignment(members: readonly AssignorMember[]): TargetAssignment {
  const out: TargetAssignment = new Map();
  for (const m of members) out.set(m.memberId, new Map());
  return out;
}

function addPartition(set: TopicPartitionSet, topicId: string, partition: number): void {
  let parts = set.get(topicId);
  if (parts === undefined) set.set(topicId, (parts = new Set()));
  parts.add(partition);
}

function removePartition(set: TopicPartitionSet, topicId: string, partition: number): void {
  const parts = set.get(topicId);
  if (parts === undefined) return;
  parts.delete(partition);
  if (parts.size === 0) set.delete(topicId);
}

export const uniformAssignor: ServerAssignor = {
  name: 'uniform',
  assign({ members, partitionCounts }): TargetAssignment {
    const sorted = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const out = emptyAssignment(sorted);
    const count = new Map<string, number>(sorted.map((m) => [m.memberId, 0]));
    const topics = [...partitionCounts.keys()].sort();
    // Eligible members of every topic, in member id order.
    const eligible = new Map<string, AssignorMember[]>();
    for (const t of topics) eligible.set(t, sorted.filter((m) => m.subscribedTopicIds.has(t)));
    const owner = new Map<string, string>();

    // 1. Stickiness: a partition stays with its previous owner while it still subscribes.
    for (const m of sorted) {
      for (const [topicId, parts] of m.previous) {
        const n = partitionCounts.get(topicId);
        if (n === undefined || !m.subscribedTopicIds.has(topicId)) continue;
        for (const p of [...parts].sort((a, b) => a - b)) {
          const key = partitionKey(topicId, p);
          if (p >= n || owner.has(key)) continue;
          owner.set(key, m.memberId);
          addPartition(out.get(m.memberId)!, topicId, p);
          count.set(m.memberId, count.get(m.memberId)! + 1);
        }
      }
    }

    // 2. Every unowned partition goes to the least loaded eligible member; topics with fewer
    //    eligible members first, so that constrained partitions are placed before flexible ones.
    const orderedTopics = [...topics].sort((a, b) => eligible.get(a)!.length - eligible.get(b)!.length || (a < b ? -1 : 1));
    for (const t of orderedTopics) {
      const candidates = eligible.get(t)!;
      if (candidates.length === 0) continue;
      for (let p = 0; p < partitionCounts.get(t)!; p++) {
        const key = partitionKey(t, p);
        if (owner.has(key)) continue;
        let best = candidates[0]!;
        for (const c of candidates) if (count.get(c.memberId)! < count.get(best.memberId)!) best = c;
        owner.set(key, best.memberId);
        addPartition(out.get(best.memberId)!, t, p);
        count.set(best.memberId, count.get(best.memberId)! + 1);
      }
    }

    // 3. Balance: move a partition from a member to an eligible one holding at least two fewer,
    //    until no such move exists. Each move lowers the sum of squared counts, so this ends;
    //    the bound is a safety net against a broken invariant.
    const maxMoves = owner.size * Math.max(1, sorted.length);
    for (let moves = 0; moves < maxMoves; moves++) {
      let moved = false;
      const byLoad = [...sorted].sort((a, b) => count.get(b.memberId)! - count.get(a.memberId)! || (a.memberId < b.memberId ? -1 : 1));
      outer: for (const from of byLoad) {
        const fromCount = count.get(from.memberId)!;
        const held = out.get(from.memberId)!;
        for (const t of [...held.keys()].sort()) {
          let target: AssignorMember | null = null;
          for (const c of eligible.get(t)!) {
            if (count.get(c.memberId)! <= fromCount - 2 && (target === null || count.get(c.memberId)! < count.get(target.memberId)!)) target = c;
          }
          if (target === null) continue;
          // Move the highest-numbered partition: it is the one least likely to be co-located.
          const p = Math.max(...held.get(t)!);
          removePartition(held, t, p);
          addPartition(out.get(target.memberId)!, t, p);
          owner.set(partitionKey(t, p), target.memberId);
          count.set(from.memberId, fromCount - 1);
          count.set(target.memberId, count.get(target.memberId)! + 1);
          moved = true;
          break outer;
        }
      }
      if (!moved) break;
    }
    return out;
  },
};

export const rangeAssignor: ServerAssignor = {
  name: 'range',
  assign({ members, partitionCounts }): TargetAssignment {
    const out = emptyAssignment(members);
    const sortKey = (m: AssignorMember) => m.instanceId ?? m.memberId;
    for (const t of [...partitionCounts.keys()].sort()) {
      const subscribers = members.filter((m) => m.subscribedTopicIds.has(t)).sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : sortKey(a) > sortKey(b) ? 1 : a.memberId < b.memberId ? -1 : 1));
      if (subscribers.length === 0) continue;
      const n = partitionCounts.get(t)!;
      const base = Math.floor(n / subscribers.length);
      const extra = n % subscribers.length;
      let next = 0;
      subscribers.forEach((m, i) => {
        const take = base + (i < extra ? 1 : 0);
        for (let k = 0; k < take; k++) addPartition(out.get(m.memberId)!, t, next++);
      });
    }
    return out;
  },
};

export const SERVER_ASSIGNORS: ReadonlyMap<string, ServerAssignor> = new Map([
  [uniformAssignor.name, uniformAssignor],
  [rangeAssignor.name, rangeAssignor],
]);

/**
 * The assignor named in group.consumer.assignors: a short name (`uniform`, `range`) or Kafka's
 * class name (org.apache.kafka.coordinator.group.assignor.UniformAssignor / RangeAssignor).
 */
export function assignorByConfigName(name: string): ServerAssignor | undefined {
  const trimmed = name.trim();
  const direct = SERVER_ASSIGNORS.get(trimmed);
  if (direct !== undefined) return direct;
  const simple = trimmed.slice(trimmed.lastIndexOf('.') + 1);
  if (simple === 'UniformAssignor') return uniformAssignor;
  if (simple === 'RangeAssignor') return rangeAssignor;
  return undefined;
}
