// One classic-protocol group: its members, generation, chosen protocol and committed offsets,
// and the state machine Kafka's group coordinator runs. The table below is the whole set of
// legal transitions (target state <- states it may be entered from); any other transition is a
// programmer error and throws.
//
//   Empty               <- PreparingRebalance (the join completed with no members)
//   PreparingRebalance  <- Empty, Stable, CompletingRebalance
//   CompletingRebalance <- PreparingRebalance (the join completed; waiting for the leader's sync)
//   Stable              <- CompletingRebalance (the leader's assignment was stored and sent)
//   Dead                <- any state (group deleted, or its offsets expired while empty)
//
// This class holds state only: no timers, no I/O. The coordinator drives it.

export const GroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;
export type GroupState = (typeof GroupState)[keyof typeof GroupState];

const VALID_PREVIOUS_STATES: Readonly<Record<GroupState, readonly GroupState[]>> = {
  Empty: [GroupState.PreparingRebalance],
  PreparingRebalance: [GroupState.Empty, GroupState.Stable, GroupState.CompletingRebalance],
  CompletingRebalance: [GroupState.PreparingRebalance],
  Stable: [GroupState.CompletingRebalance],
  Dead: [GroupState.Empty, GroupState.PreparingRebalance, GroupState.CompletingRebalance, GroupState.Stable, GroupState.Dead],
};

export const ALL_GROUP_STATES: readonly GroupState[] = Object.values(GroupState);

export interface JoinProtocol {
  name: string;
  metadata: Buffer;
}

/** What a parked JoinGroup is answered with. */
export interface JoinOutcome {
  errorCode: number;
  generationId: number;
  protocolType: string | null;
  protocolName: string | null;
  leaderId: string;
  memberId: string;
  skipAssignment: boolean;
  members: { memberId: string; groupInstanceId: string | null; metadata: Buffer }[];
}

export interface SyncOutcome {
  errorCode: number;
  protocolType: string | null;
  protocolName: string | null;
  assignment: Buffer;
}

export interface GroupMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocolType: string;
  protocols: JoinProtocol[];
  assignment: Buffer;
  /** Set while the member's JoinGroup is parked until the join phase completes. */
  joinWaiter: ((outcome: JoinOutcome) => void) | null;
  /** Set while the member's SyncGroup is parked until the leader's assignment arrives. */
  syncWaiter: ((outcome: SyncOutcome) => void) | null;
  /** Joined in the current rebalance and has not yet received a JoinGroup answer. */
  isNew: boolean;
}

export interface CommittedOffset {
  offset: bigint;
  leaderEpoch: number;
  metadata: string;
  commitTimestampMs: number;
  /** Explicit expiry (OffsetCommit v2-4 retention time), or null for the group-level rule. */
  expireTimestampMs: number | null;
}

export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ClassicGroup {
  private stateValue: GroupState;
  /** When the group entered its current state (ms); the base of the empty-group offset expiry. */
  stateTimestampMs: number;
  generationId = 0;
  protocolType: string | null = null;
  protocolName: string | null = null;
  leaderId: string | null = null;
  readonly members = new Map<string, GroupMember>();
  /** Member ids handed out with MEMBER_ID_REQUIRED that have not joined with them yet. */
  readonly pendingMembers = new Set<string>();
  /** group.instance.id -> member id of the static member currently holding it. */
  readonly staticMembers = new Map<string, string>();
  readonly offsets = new Map<string, CommittedOffset>();
  /** Set when a member was added during the initial (delayed) join of a new group. */
  newMemberAdded = false;
  /** Topics the members subscribe to (consumer protocol), or null when unknown. */
  subscribedTopics: Set<string> | null = null;

  constructor(
    readonly groupId: string,
    initialState: GroupState,
    nowMs: number,
  ) {
    this.stateValue = initialState;
    this.stateTimestampMs = nowMs;
  }

  get state(): GroupState {
    return this.stateValue;
  }

  is(state: GroupState): boolean {
    return this.stateValue === state;
  }

  transitionTo(target: GroupState, nowMs: number): void {
    if (!VALID_PREVIOUS_STATES[target].includes(this.stateValue)) {
      throw new Error(`group ${this.groupId}: illegal transition ${this.stateValue} -> ${target}`);
    }
    this.stateValue = target;
    this.stateTimestampMs = nowMs;
  }

  get size(): number {
    return this.members.size;
  }

  has(memberId: string): boolean {
    return this.members.has(memberId);
  }

  isLeader(memberId: string): boolean {
    return this.leaderId === memberId;
  }

  add(member: GroupMember): void {
    if (this.members.size === 0) this.protocolType = member.protocolType;
    if (this.leaderId === null) this.leaderId = member.memberId;
    this.members.set(member.memberId, member);
    if (member.groupInstanceId !== null) this.staticMembers.set(member.groupInstanceId, member.memberId);
  }

  remove(memberId: string): void {
    const member = this.members.get(memberId);
    if (member === undefined) return;
    this.members.delete(memberId);
    if (member.groupInstanceId !== null && this.staticMembers.get(member.groupInstanceId) === memberId) {
      this.staticMembers.delete(member.groupInstanceId);
    }
    if (this.leaderId === memberId) {
      // Prefer a member that has already rejoined, so the next generation has a leader to answer.
      const next = [...this.members.values()].find((m) => m.joinWaiter !== null) ?? this.members.values().next().value;
      this.leaderId = next?.memberId ?? null;
    }
  }

  /** A static member restarted with a new member id: it takes over the old member's place. */
  replaceStaticMember(groupInstanceId: string, oldMemberId: string, newMemberId: string): GroupMember {
    const member = this.members.get(oldMemberId);
    if (member === undefined) throw new Error(`group ${this.groupId}: static member ${oldMemberId} is not a member`);
    this.members.delete(oldMemberId);
    member.memberId = newMemberId;
    this.members.set(newMemberId, member);
    if (this.leaderId === oldMemberId) this.leaderId = newMemberId;
    this.staticMembers.set(groupInstanceId, newMemberId);
    return member;
  }

  staticMemberId(groupInstanceId: string): string | undefined {
    return this.staticMembers.get(groupInstanceId);
  }

  /** A request naming `groupInstanceId` comes from a member id that no longer holds it. */
  isStaticMemberFenced(groupInstanceId: string | null, memberId: string): boolean {
    if (groupInstanceId === null) return false;
    const current = this.staticMembers.get(groupInstanceId);
    return current !== undefined && current !== memberId;
  }

  /** Whether a member with these protocols could join: same type, and a protocol every member has. */
  supportsProtocols(protocolType: string, protocols: readonly JoinProtocol[]): boolean {
    if (this.members.size === 0) return protocolType !== '' && protocols.length > 0;
    if (this.protocolType !== protocolType) return false;
    const candidates = this.candidateProtocols();
    return protocols.some((p) => candidates.has(p.name));
  }

  /** Protocols every member supports. */
  private candidateProtocols(): Set<string> {
    let candidates: Set<string> | null = null;
    for (const m of this.members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      candidates = candidates === null ? names : new Set([...candidates].filter((n: string) => names.has(n)));
    }
    return candidates ?? new Set();
  }

  /**
   * Kafka's vote: among the protocols every member supports, each member votes for the first
   * one in its own preference order; the most votes win (ties go to the earliest candidate).
   */
  selectProtocol(): string {
    const candidates = this.candidateProtocols();
    if (candidates.size === 0) throw new Error(`group ${this.groupId}: no protocol common to all members`);
    const votes = new Map<string, number>();
    for (const m of this.members.values()) {
      const vote = m.protocols.find((p) => candidates.has(p.name))!.name;
      votes.set(vote, (votes.get(vote) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, count] of votes) {
      if (count > bestVotes) {
        best = name;
        bestVotes = count;
      }
    }
    return best;
  }

  metadataFor(member: GroupMember, protocol: string | null): Buffer {
    return member.protocols.find((p) => p.name === protocol)?.metadata ?? Buffer.alloc(0);
  }

  /** Every member has rejoined in this rebalance and no MEMBER_ID_REQUIRED member is outstanding. */
  hasAllMembersJoined(): boolean {
    for (const m of this.members.values()) if (m.joinWaiter === null) return false;
    return this.pendingMembers.size === 0;
  }

  /** The largest rebalance timeout of the members: how long a rebalance may wait for them. */
  rebalanceTimeoutMs(): number {
    let max = 0;
    for (const m of this.members.values()) max = Math.max(max, m.rebalanceTimeoutMs);
    return max;
  }

  /** Starts the next generation once the join phase completed. */
  initNextGeneration(nowMs: number): void {
    this.generationId++;
    if (this.members.size > 0) {
      this.protocolName = this.selectProtocol();
      this.subscribedTopics = this.protocolType === 'consumer' ? consumerSubscribedTopics(this) : null;
      this.transitionTo(GroupState.CompletingRebalance, nowMs);
    } else {
      this.protocolName = null;
      this.subscribedTopics = null;
      this.transitionTo(GroupState.Empty, nowMs);
    }
  }

  /** True unless the group is known to consume `topic` (unknown subscriptions count as subscribed). */
  isSubscribedToTopic(topic: string): boolean {
    return this.subscribedTopics === null ? true : this.subscribedTopics.has(topic);
  }
}

/**
 * The topics named in the members' ConsumerProtocolSubscription (version int16, then an array of
 * int16-length strings) for the chosen protocol; null if any subscription does not parse.
 */
function consumerSubscribedTopics(group: ClassicGroup): Set<string> | null {
  const topics = new Set<string>();
  for (const m of group.members.values()) {
    const meta = group.metadataFor(m, group.protocolName);
    const parsed = parseSubscriptionTopics(meta);
    if (parsed === null) return null;
    for (const t of parsed) topics.add(t);
  }
  return topics;
}

export function parseSubscriptionTopics(meta: Buffer): string[] | null {
  if (meta.length < 6) return null;
  let pos = 2;
  const count = meta.readInt32BE(pos);
  pos += 4;
  if (count < 0 || count > meta.length) return null;
  const topics: string[] = [];
  for (let i = 0; i < count; i++) {
    if (pos + 2 > meta.length) return null;
    const len = meta.readInt16BE(pos);
    pos += 2;
    if (len < 0 || pos + len > meta.length) return null;
    topics.push(meta.toString('utf8', pos, pos + len));
    pos += len;
  }
  return topics;
}
