// Classic consumer group membership: JoinGroup / SyncGroup / Heartbeat / LeaveGroup against the
// group's coordinator. The leader runs the assignor. The owner (the consumer) is told about
// assignment changes through `onAssignment` and decides what to revoke; a rejoin is requested by
// the heartbeat (REBALANCE_IN_PROGRESS), by the cooperative protocol after a revocation, or by a
// subscription change.
import { ErrorCode } from '../protocol/errors.js';
import { HeartbeatRequest } from '../protocol/messages/HeartbeatRequest.js';
import { HeartbeatResponse } from '../protocol/messages/HeartbeatResponse.js';
import { JoinGroupRequest } from '../protocol/messages/JoinGroupRequest.js';
import { JoinGroupResponse, type JoinGroupResponseData } from '../protocol/messages/JoinGroupResponse.js';
import { LeaveGroupRequest } from '../protocol/messages/LeaveGroupRequest.js';
import { LeaveGroupResponse } from '../protocol/messages/LeaveGroupResponse.js';
import { SyncGroupRequest } from '../protocol/messages/SyncGroupRequest.js';
import { SyncGroupResponse } from '../protocol/messages/SyncGroupResponse.js';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription, type TopicPartition } from './admin.js';
import type { Assignor, MemberSubscription } from './assignors.js';
import type { Cluster } from './cluster.js';
import type { Coordinators } from './coordinator.js';
import { KafkaClientError } from './errors.js';
import { sleep } from './retry.js';

export interface GroupOptions {
  groupId: string;
  groupInstanceId?: string | null;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  heartbeatIntervalMs: number;
  assignors: readonly Assignor[];
}

export interface GroupHooks {
  /** Topics to subscribe to right now. */
  topics(): string[];
  /** Partitions owned now (for the cooperative protocol's subscription). */
  owned(): TopicPartition[];
  /** Before (re)joining: with the eager protocol the owner revokes everything here. */
  beforeJoin(cooperative: boolean): Promise<void>;
  /** After a successful SyncGroup, with the new assignment. */
  onAssignment(assigned: TopicPartition[], cooperative: boolean): Promise<void>;
  /** The membership was lost (fenced, session expired): partitions are gone without a revoke. */
  onLost(): Promise<void>;
}

const SUBSCRIPTION_VERSION = 1;

export class GroupMembership {
  memberId = '';
  generationId = -1;
  protocolName: string | null = null;
  private rejoinNeeded = true;
  private running = false;
  private stopped = false;
  private heartbeatTimer: NodeJS.Timeout | null = null;
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;
  /** Resolves after the next completed join; for callers waiting on an assignment. */
  private joinedWaiters: (() => void)[] = [];
  lastError: Error | null = null;

  constructor(
    private readonly cluster: Cluster,
    private readonly coordinators: Coordinators,
    private readonly opts: GroupOptions,
    private readonly hooks: GroupHooks,
  ) {}

  get cooperative(): boolean {
    return this.opts.assignors.every((a) => a.cooperative);
  }

  get isStable(): boolean {
    return !this.rejoinNeeded && this.generationId >= 0;
  }

  /** Starts the membership loop (join, then heartbeats and rejoins as needed). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  requestRejoin(): void {
    this.rejoinNeeded = true;
    this.wake?.();
  }

  /** Resolves once a join has completed after this call. */
  waitForJoin(signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const onAbort = (): void => reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      this.joinedWaiters.push(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      });
    });
  }

  private async run(): Promise<void> {
    let attempt = 0;
    while (!this.stopped) {
      if (this.rejoinNeeded) {
        try {
          await this.joinOnce();
          attempt = 0;
          const waiters = this.joinedWaiters;
          this.joinedWaiters = [];
          for (const w of waiters) w();
        } catch (err) {
          if (this.stopped) return;
          this.lastError = err instanceof Error ? err : new Error(String(err));
          this.cluster.log.debug({ err: this.lastError.message, group: this.opts.groupId }, 'join failed');
          await sleep(this.cluster.backoff(attempt++)).catch(() => undefined);
        }
        continue;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
        this.heartbeatTimer = setTimeout(resolve, this.opts.heartbeatIntervalMs);
      });
      this.wake = null;
      if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
      this.heartbeatTimer = null;
      if (this.stopped || this.rejoinNeeded) continue;
      await this.heartbeat().catch(() => undefined);
    }
  }

  private async coordinator(): Promise<number> {
    return this.coordinators.find(this.opts.groupId);
  }

  private fail(code: number, what: string): KafkaClientError {
    this.coordinators.check(this.opts.groupId, code);
    return new KafkaClientError(code, undefined, { where: `${what} for group ${this.opts.groupId}` });
  }

  private async heartbeat(): Promise<void> {
    const node = await this.coordinator();
    const res = await this.cluster
      .send(node, { request: HeartbeatRequest, response: HeartbeatResponse }, (v) => {
        const req = HeartbeatRequest.defaults();
        req.groupId = this.opts.groupId;
        req.generationId = this.generationId;
        req.memberId = this.memberId;
        if (v >= 3) req.groupInstanceId = this.opts.groupInstanceId ?? null;
        return req;
      })
      .catch((err: unknown) => {
        if (err instanceof KafkaClientError) this.coordinators.check(this.opts.groupId, err.code);
        throw err;
      });
    switch (res.errorCode) {
      case ErrorCode.NONE:
        return;
      case ErrorCode.REBALANCE_IN_PROGRESS:
        this.requestRejoin();
        return;
      case ErrorCode.UNKNOWN_MEMBER_ID:
      case ErrorCode.ILLEGAL_GENERATION:
      case ErrorCode.FENCED_INSTANCE_ID:
        await this.lose();
        return;
      default:
        throw this.fail(res.errorCode, 'Heartbeat');
    }
  }

  /** The coordinator no longer knows us: drop the assignment without revoking, rejoin fresh. */
  private async lose(): Promise<void> {
    if (this.opts.groupInstanceId == null) this.memberId = '';
    this.generationId = -1;
    await this.hooks.onLost();
    this.requestRejoin();
  }

  private subscriptionBytes(): Buffer {
    return encodeSubscription(
      { topics: this.hooks.topics(), userData: null, ownedPartitions: groupByTopic(this.cooperative ? this.hooks.owned() : []), generationId: -1, rackId: null },
      SUBSCRIPTION_VERSION,
    );
  }

  private async joinOnce(): Promise<void> {
    await this.hooks.beforeJoin(this.cooperative);
    const node = await this.coordinator();
    const metadata = this.subscriptionBytes();
    let join: JoinGroupResponseData;
    for (;;) {
      join = await this.cluster.send(
        node,
        { request: JoinGroupRequest, response: JoinGroupResponse },
        (v) => {
          const req = JoinGroupRequest.defaults();
          req.groupId = this.opts.groupId;
          req.sessionTimeoutMs = this.opts.sessionTimeoutMs;
          if (v >= 1) req.rebalanceTimeoutMs = this.opts.rebalanceTimeoutMs;
          req.memberId = this.memberId;
          if (v >= 5) req.groupInstanceId = this.opts.groupInstanceId ?? null;
          req.protocolType = 'consumer';
          req.protocols = this.opts.assignors.map((a) => ({ name: a.name, metadata }));
          return req;
        },
        { timeoutMs: this.opts.rebalanceTimeoutMs + 5000 },
      );
      if (join.errorCode === ErrorCode.MEMBER_ID_REQUIRED) {
        // KIP-394: the first join returns our member id; join again with it.
        this.memberId = join.memberId;
        continue;
      }
      break;
    }
    if (join.errorCode === ErrorCode.UNKNOWN_MEMBER_ID) {
      this.memberId = '';
      throw this.fail(join.errorCode, 'JoinGroup');
    }
    if (join.errorCode !== ErrorCode.NONE) throw this.fail(join.errorCode, 'JoinGroup');
    this.memberId = join.memberId;
    this.generationId = join.generationId;
    this.protocolName = join.protocolName;
    const assignor = this.opts.assignors.find((a) => a.name === join.protocolName);
    if (assignor === undefined) throw new KafkaClientError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL, `coordinator chose unknown assignor ${join.protocolName}`);

    let assignments: { memberId: string; assignment: Buffer }[] = [];
    if (join.leader === join.memberId) assignments = await this.leaderAssign(assignor, join);
    const sync = await this.cluster.send(
      node,
      { request: SyncGroupRequest, response: SyncGroupResponse },
      (v) => {
        const req = SyncGroupRequest.defaults();
        req.groupId = this.opts.groupId;
        req.generationId = this.generationId;
        req.memberId = this.memberId;
        if (v >= 3) req.groupInstanceId = this.opts.groupInstanceId ?? null;
        if (v >= 5) {
          req.protocolType = 'consumer';
          req.protocolName = join.protocolName;
        }
        req.assignments = assignments;
        return req;
      },
      { timeoutMs: this.opts.rebalanceTimeoutMs + 5000 },
    );
    if (sync.errorCode === ErrorCode.UNKNOWN_MEMBER_ID || sync.errorCode === ErrorCode.ILLEGAL_GENERATION) {
      await this.lose();
      throw this.fail(sync.errorCode, 'SyncGroup');
    }
    if (sync.errorCode !== ErrorCode.NONE) throw this.fail(sync.errorCode, 'SyncGroup');
    const decoded = decodeAssignment(sync.assignment);
    const assigned = (decoded?.assignedPartitions ?? []).flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition })));
    this.rejoinNeeded = false;
    await this.hooks.onAssignment(assigned, assignor.cooperative && this.cooperative);
  }

  private async leaderAssign(assignor: Assignor, join: JoinGroupResponseData): Promise<{ memberId: string; assignment: Buffer }[]> {
    const members: MemberSubscription[] = join.members.map((m) => {
      const sub = decodeSubscription(m.metadata);
      return {
        memberId: m.memberId,
        topics: sub?.topics ?? [],
        ownedPartitions: (sub?.ownedPartitions ?? []).flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))),
      };
    });
    const topics = [...new Set(members.flatMap((m) => m.topics))];
    await this.cluster.refreshMetadata(topics).catch(() => undefined);
    const counts = new Map<string, number>();
    for (const t of topics) {
      const md = this.cluster.cachedTopic(t);
      if (md !== undefined) counts.set(t, md.partitions.length);
    }
    const result = assignor.assign(members, counts);
    return members.map((m) => ({
      memberId: m.memberId,
      assignment: encodeAssignment({ assignedPartitions: groupByTopic(result.get(m.memberId) ?? []), userData: null }),
    }));
  }

  /** Stops heartbeats and leaves the group (unless a static member). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    if (this.heartbeatTimer !== null) clearTimeout(this.heartbeatTimer);
    for (const w of this.joinedWaiters.splice(0)) w();
    await this.loop?.catch(() => undefined);
    if (this.memberId === '' || this.opts.groupInstanceId != null) return;
    try {
      const node = await this.coordinator();
      await this.cluster.send(node, { request: LeaveGroupRequest, response: LeaveGroupResponse }, (v) => {
        const req = LeaveGroupRequest.defaults();
        req.groupId = this.opts.groupId;
        if (v >= 3) req.members = [{ memberId: this.memberId, groupInstanceId: null, reason: v >= 5 ? 'the consumer is being closed' : null }];
        else req.memberId = this.memberId;
        return req;
      }, { timeoutMs: 5000 });
    } catch {
      // Leaving is a courtesy: the session timeout removes us anyway.
    }
    this.memberId = '';
    this.generationId = -1;
  }
}

export function groupByTopic(tps: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const m = new Map<string, number[]>();
  for (const tp of tps) {
    let list = m.get(tp.topic);
    if (list === undefined) m.set(tp.topic, (list = []));
    list.push(tp.partition);
  }
  return [...m].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) }));
}
