// The classic group protocol driver (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) for the
// classic groups of the __consumer_offsets partitions loaded here. It follows the behaviour of
// Kafka's classic protocol: the state machine lives in ClassicGroup (see the transition table
// there); this class drives it with timers and writes the group metadata record through
// `ClassicGroupDriverDeps.append`. Each request runs as one event of its partition's queue (the
// GroupCoordinator submits it), without an `await`. A step that writes the group record answers
// once that record is committed (deps.afterCommit): a SyncGroup's assignment, a static member's
// rejoin; the group stays in its state until then.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import { ClassicGroup, GroupState, type CommittedOffset, type GroupMember, type JoinOutcome, type JoinProtocol, type SyncOutcome } from './classic-group.js';
import {
  EMPTY,
  appendErrorToGroupError,
  joinError,
  syncError,
  type GroupCoordinatorConfig,
  type GroupRecordWriter,
  type JoinRequest,
  type LeaveResult,
  type LeavingMember,
  type OffsetCommitRequestIn,
  type Scheduler,
  type SyncRequest,
  type TimerHandle,
} from './group-api.js';
import type { CommitTicket } from '../coordinator/runtime.js';
import { groupMetadataRecord } from './group-log.js';
import { RebalanceReason, type RebalanceListener } from './rebalance.js';

export interface ClassicGroupDriverDeps extends GroupRecordWriter {
  config: GroupCoordinatorConfig;
  scheduler: Scheduler;
  nowMs: () => number;
  log: Logger;
  /** Told of each rebalance once, as it starts (the driver logs nothing of it at info itself). */
  rebalanced: RebalanceListener;
  /**
   * A JoinGroup for a group id that may belong to a KIP-848 group: null when it does not, the
   * offsets to carry over when that group was empty and has been replaced, else the error.
   */
  replaceConsumerGroup(groupId: string, unknownMember: boolean): Map<string, CommittedOffset> | null | number;
}

export class ClassicGroupDriver {
  /** The classic groups of the loaded partitions, by id. */
  readonly groups = new Map<string, ClassicGroup>();
  private readonly sessionTimers = new Map<GroupMember, TimerHandle>();
  private readonly pendingMemberTimers = new Map<string, TimerHandle>();
  private readonly joinTimers = new Map<ClassicGroup, TimerHandle>();
  /** Groups whose running join phase is the initial delay: it does not complete early. */
  private readonly initialDelayGroups = new Set<ClassicGroup>();
  private closed = false;

  constructor(private readonly deps: ClassicGroupDriverDeps) {}

  private get config(): GroupCoordinatorConfig {
    return this.deps.config;
  }

  private now(): number {
    return this.deps.nowMs();
  }

  /** Takes over a group built by the partition loader; its members must heartbeat again within their session timeout. */
  addLoaded(group: ClassicGroup): void {
    this.groups.set(group.groupId, group);
    for (const m of group.members.values()) this.scheduleSessionExpiry(group, m);
  }

  /** Whether the group has a join phase or a pending member running (it is not idle). */
  isRebalancing(group: ClassicGroup): boolean {
    return group.pendingMembers.size > 0 || this.joinTimers.has(group);
  }

  /** Drops the groups `owned` selects (their partition was unloaded); parked requests get NOT_COORDINATOR. Returns how many. */
  unload(owned: (groupId: string) => boolean): number {
    let unloaded = 0;
    for (const group of [...this.groups.values()]) {
      if (!owned(group.groupId)) continue;
      unloaded++;
      this.joinTimers.get(group)?.cancel();
      this.joinTimers.delete(group);
      this.initialDelayGroups.delete(group);
      for (const memberId of group.pendingMembers) {
        const key = `${group.groupId}\u0000${memberId}`;
        this.pendingMemberTimers.get(key)?.cancel();
        this.pendingMemberTimers.delete(key);
      }
      for (const m of group.members.values()) {
        this.sessionTimers.get(m)?.cancel();
        this.sessionTimers.delete(m);
        this.answerJoin(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        this.answerSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
      this.groups.delete(group.groupId);
    }
    return unloaded;
  }

  /** Cancels every timer and answers parked requests with NOT_COORDINATOR. */
  shutdown(): void {
    this.closed = true;
    for (const t of this.sessionTimers.values()) t.cancel();
    for (const t of this.pendingMemberTimers.values()) t.cancel();
    for (const t of this.joinTimers.values()) t.cancel();
    this.sessionTimers.clear();
    this.pendingMemberTimers.clear();
    this.joinTimers.clear();
    for (const group of this.groups.values()) {
      for (const m of group.members.values()) {
        this.answerJoin(m, joinError(m.memberId, ErrorCode.NOT_COORDINATOR));
        this.answerSync(m, syncError(ErrorCode.NOT_COORDINATOR));
      }
    }
  }


  // -------------------------------------------------------------------------------------------
  // JoinGroup

  /** JoinGroup for a group of a loaded partition; `respond` may be called much later. */
  join(req: JoinRequest, respond: (o: JoinOutcome) => void): void {
    if (req.sessionTimeoutMs < this.config.minSessionTimeoutMs || req.sessionTimeoutMs > this.config.maxSessionTimeoutMs) {
      return respond(joinError(req.memberId, ErrorCode.INVALID_SESSION_TIMEOUT));
    }
    const unknownMember = req.memberId === '';
    // A KIP-848 group of this id: replaced when empty (its offsets carry over), else an error.
    const carriedOffsets = this.deps.replaceConsumerGroup(req.groupId, unknownMember);
    if (typeof carriedOffsets === 'number') return respond(joinError(req.memberId, carriedOffsets));
    let group = this.groups.get(req.groupId);
    if (group === undefined || group.is(GroupState.Dead)) {
      if (!unknownMember) return respond(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
      group = new ClassicGroup(req.groupId, GroupState.Empty, this.now());
      this.groups.set(req.groupId, group);
    }
    if (carriedOffsets !== null) for (const [k, v] of carriedOffsets) group.offsets.set(k, v);
    if (unknownMember) this.joinNewMember(group, req, respond);
    else this.joinKnownMember(group, req, respond);
  }

  private joinNewMember(group: ClassicGroup, req: JoinRequest, respond: (o: JoinOutcome) => void): void {
    if (!group.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError('', ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    const existingStatic = req.groupInstanceId === null ? undefined : group.staticMemberId(req.groupInstanceId);
    if (existingStatic === undefined && group.size + group.pendingMembers.size >= this.config.maxGroupSize) {
      return respond(joinError('', ErrorCode.GROUP_MAX_SIZE_REACHED));
    }
    const newMemberId = `${req.groupInstanceId ?? req.clientId}-${randomUUID()}`;
    if (req.groupInstanceId !== null) {
      if (existingStatic !== undefined) return this.rejoinStaticMember(group, req, existingStatic, newMemberId, respond);
      return this.addMemberAndRebalance(group, req, newMemberId, respond);
    }
    if (req.requireKnownMemberId) {
      // Two-step join (KIP-394): the member must come back with this id; until then it is
      // pending and blocks the join phase, and is dropped after its session timeout.
      group.pendingMembers.add(newMemberId);
      const key = `${group.groupId}\u0000${newMemberId}`;
      this.pendingMemberTimers.set(
        key,
        this.deps.scheduler.schedule(req.sessionTimeoutMs, () => {
          this.pendingMemberTimers.delete(key);
          if (group.pendingMembers.delete(newMemberId)) this.tryCompleteJoin(group);
        }),
      );
      return respond(joinError(newMemberId, ErrorCode.MEMBER_ID_REQUIRED));
    }
    this.addMemberAndRebalance(group, req, newMemberId, respond);
  }

  private joinKnownMember(group: ClassicGroup, req: JoinRequest, respond: (o: JoinOutcome) => void): void {
    if (group.pendingMembers.has(req.memberId)) {
      if (!group.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
      group.pendingMembers.delete(req.memberId);
      const key = `${group.groupId}\u0000${req.memberId}`;
      this.pendingMemberTimers.get(key)?.cancel();
      this.pendingMemberTimers.delete(key);
      return this.addMemberAndRebalance(group, req, req.memberId, respond);
    }
    if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) return respond(joinError(req.memberId, ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(req.memberId);
    if (member === undefined) return respond(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    if (!group.supportsProtocols(req.protocolType, req.protocols)) return respond(joinError(req.memberId, ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    switch (group.state) {
      case GroupState.PreparingRebalance:
        return this.updateMemberAndRebalance(group, member, req, respond, RebalanceReason.MemberRejoined, `member ${member.memberId} rejoined during PreparingRebalance`);
      case GroupState.CompletingRebalance:
        if (sameProtocols(member.protocols, req.protocols)) {
          // A retry of a JoinGroup whose answer was lost: answer it again.
          return respond(this.joinOutcomeFor(group, member));
        }
        return this.updateMemberAndRebalance(group, member, req, respond, RebalanceReason.SubscriptionChanged, `member ${member.memberId} changed its protocols during CompletingRebalance${clientReason(req)}`);
      case GroupState.Stable:
        if (group.isLeader(member.memberId) || !sameProtocols(member.protocols, req.protocols)) {
          return group.isLeader(member.memberId) && sameProtocols(member.protocols, req.protocols)
            ? this.updateMemberAndRebalance(group, member, req, respond, RebalanceReason.MemberRejoined, `leader ${member.memberId} rejoined during Stable${clientReason(req)}`)
            : this.updateMemberAndRebalance(group, member, req, respond, RebalanceReason.SubscriptionChanged, `member ${member.memberId} changed its protocols during Stable${clientReason(req)}`);
        }
        this.scheduleSessionExpiry(group, member);
        return respond({ ...this.joinOutcomeFor(group, member), members: [] });
      default:
        return respond(joinError(req.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
  }

  private rejoinStaticMember(group: ClassicGroup, req: JoinRequest, oldMemberId: string, newMemberId: string, respond: (o: JoinOutcome) => void): void {
    const previousLeader = group.leaderId;
    const old = group.members.get(oldMemberId)!;
    // Whoever still waits under the old member id has been replaced.
    this.answerJoin(old, joinError(oldMemberId, ErrorCode.FENCED_INSTANCE_ID));
    this.answerSync(old, syncError(ErrorCode.FENCED_INSTANCE_ID));
    const oldProtocols = old.protocols;
    const member = group.replaceStaticMember(req.groupInstanceId!, oldMemberId, newMemberId);
    member.protocols = req.protocols;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.clientId = req.clientId;
    member.clientHost = req.clientHost;
    this.scheduleSessionExpiry(group, member);
    this.deps.log.info({ groupId: group.groupId, groupInstanceId: req.groupInstanceId, oldMemberId, newMemberId }, 'static member rejoined');
    switch (group.state) {
      case GroupState.Stable: {
        if (group.selectProtocol() === group.protocolName && sameProtocols(oldProtocols, req.protocols)) {
          // Same subscription: no rebalance. The old leader id is returned so that the new
          // member id never believes it leads (its assignment would not be propagated).
          const revert = () => {
            group.replaceStaticMember(req.groupInstanceId!, newMemberId, oldMemberId);
            member.protocols = oldProtocols;
          };
          const ticket = this.storeGroupTicket(group);
          const error = appendErrorToGroupError(ticket.appendError, false);
          if (error !== ErrorCode.NONE) {
            revert();
            return respond(joinError('', error));
          }
          // The new member id is answered once the group record naming it is committed.
          return this.deps.afterCommit(group.groupId, ticket, (code) => {
            if (code !== ErrorCode.NONE) {
              if (this.groups.get(group.groupId) === group && group.members.get(newMemberId) === member) revert();
              return respond(joinError('', code));
            }
            respond({
              errorCode: ErrorCode.NONE,
              generationId: group.generationId,
              protocolType: group.protocolType,
              protocolName: group.protocolName,
              leaderId: previousLeader ?? '',
              memberId: newMemberId,
              skipAssignment: false,
              members: [],
            });
          });
        }
        member.joinWaiter = respond;
        return this.prepareRebalance(group, RebalanceReason.SubscriptionChanged, `static member ${req.groupInstanceId} rejoined with changed protocols${clientReason(req)}`);
      }
      case GroupState.CompletingRebalance:
        // The leader may be assigning under the old member id: rebalance again.
        member.joinWaiter = respond;
        return this.prepareRebalance(group, RebalanceReason.MemberRejoined, `static member ${req.groupInstanceId} rejoined during CompletingRebalance${clientReason(req)}`);
      case GroupState.PreparingRebalance:
        member.joinWaiter = respond;
        return this.tryCompleteJoin(group);
      default:
        throw new Error(`group ${group.groupId}: static member in state ${group.state}`);
    }
  }

  private addMemberAndRebalance(group: ClassicGroup, req: JoinRequest, memberId: string, respond: (o: JoinOutcome) => void): void {
    const member: GroupMember = {
      memberId,
      groupInstanceId: req.groupInstanceId,
      clientId: req.clientId,
      clientHost: req.clientHost,
      rebalanceTimeoutMs: req.rebalanceTimeoutMs,
      sessionTimeoutMs: req.sessionTimeoutMs,
      protocolType: req.protocolType,
      protocols: req.protocols,
      assignment: EMPTY,
      joinWaiter: respond,
      syncWaiter: null,
      isNew: true,
    };
    if (group.is(GroupState.PreparingRebalance) && group.generationId === 0) group.newMemberAdded = true;
    group.add(member);
    this.deps.log.debug({ groupId: group.groupId, memberId, groupInstanceId: req.groupInstanceId, reason: req.reason }, 'member joined');
    this.maybePrepareRebalance(group, RebalanceReason.MemberJoined, `new member ${memberId}${req.groupInstanceId === null ? '' : ` (group instance id ${req.groupInstanceId})`} joined${clientReason(req)}`);
    this.tryCompleteJoin(group);
  }

  private updateMemberAndRebalance(group: ClassicGroup, member: GroupMember, req: JoinRequest, respond: (o: JoinOutcome) => void, reason: RebalanceReason, detail: string): void {
    member.protocols = req.protocols;
    member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
    member.sessionTimeoutMs = req.sessionTimeoutMs;
    // A second JoinGroup from the same member replaces the first; the first gets an answer so
    // its connection's response pipeline does not stall.
    this.answerJoin(member, joinError(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
    member.joinWaiter = respond;
    this.maybePrepareRebalance(group, reason, detail);
    this.tryCompleteJoin(group);
  }

  private maybePrepareRebalance(group: ClassicGroup, reason: RebalanceReason, detail: string): void {
    if (group.is(GroupState.Stable) || group.is(GroupState.CompletingRebalance) || group.is(GroupState.Empty)) this.prepareRebalance(group, reason, detail);
  }

  /** Starts a rebalance: the one place a classic rebalance is reported (logged and counted). */
  private prepareRebalance(group: ClassicGroup, reason: RebalanceReason, detail: string): void {
    if (group.is(GroupState.CompletingRebalance)) this.resetAndPropagateAssignmentError(group, ErrorCode.REBALANCE_IN_PROGRESS);
    const initial = group.is(GroupState.Empty);
    this.joinTimers.get(group)?.cancel();
    group.transitionTo(GroupState.PreparingRebalance, this.now());
    this.deps.rebalanced({ groupId: group.groupId, protocol: 'classic', reason, detail, generation: group.generationId });
    if (initial) {
      // group.initial.rebalance.delay.ms: wait for more members of a new group before the
      // first assignment, extended while members keep arriving, up to the rebalance timeout.
      const delay = this.config.initialRebalanceDelayMs;
      this.initialDelayGroups.add(group);
      this.scheduleInitialJoin(group, delay, Math.max(group.rebalanceTimeoutMs() - delay, 0));
    } else {
      this.initialDelayGroups.delete(group);
      this.joinTimers.set(group, this.deps.scheduler.schedule(group.rebalanceTimeoutMs(), () => this.completeJoin(group)));
      // Completes at once when every remaining member has already rejoined (or none is left).
      this.tryCompleteJoin(group);
    }
  }

  private scheduleInitialJoin(group: ClassicGroup, delayMs: number, remainingMs: number): void {
    this.joinTimers.set(
      group,
      this.deps.scheduler.schedule(delayMs, () => {
        if (group.newMemberAdded && remainingMs > 0) {
          group.newMemberAdded = false;
          const next = Math.min(this.config.initialRebalanceDelayMs, remainingMs);
          this.scheduleInitialJoin(group, next, Math.max(remainingMs - this.config.initialRebalanceDelayMs, 0));
        } else {
          this.completeJoin(group);
        }
      }),
    );
  }

  private tryCompleteJoin(group: ClassicGroup): void {
    if (!group.is(GroupState.PreparingRebalance) || this.initialDelayGroups.has(group)) return;
    if (group.hasAllMembersJoined()) this.completeJoin(group);
  }

  private completeJoin(group: ClassicGroup): void {
    this.joinTimers.get(group)?.cancel();
    this.joinTimers.delete(group);
    this.initialDelayGroups.delete(group);
    group.newMemberAdded = false;
    if (!group.is(GroupState.PreparingRebalance)) return;
    // Dynamic members that did not rejoin in time leave the group; static members keep their
    // place until their session times out.
    for (const m of [...group.members.values()]) {
      if (m.joinWaiter === null && m.groupInstanceId === null) {
        this.deps.log.debug({ groupId: group.groupId, memberId: m.memberId }, 'member did not rejoin in time; removed');
        this.removeMember(group, m);
      }
    }
    const joined = [...group.members.values()].filter((m) => m.joinWaiter !== null);
    if (group.size > 0 && joined.length === 0) {
      // Only static members that have not rejoined: wait another rebalance timeout for them.
      this.joinTimers.set(group, this.deps.scheduler.schedule(group.rebalanceTimeoutMs(), () => this.completeJoin(group)));
      return;
    }
    if (group.leaderId === null || group.members.get(group.leaderId)?.joinWaiter == null) group.leaderId = joined[0]?.memberId ?? null;
    group.initNextGeneration(this.now());
    this.deps.log.debug(
      { groupId: group.groupId, generationId: group.generationId, protocol: group.protocolName, members: group.size, state: group.state },
      'join phase complete',
    );
    if (group.is(GroupState.Empty)) {
      const error = this.storeGroup(group);
      if (error !== ErrorCode.NONE) this.deps.log.warn({ groupId: group.groupId, error }, 'could not store empty group metadata');
      return;
    }
    for (const m of group.members.values()) {
      if (m.joinWaiter === null) continue;
      const outcome = this.joinOutcomeFor(group, m);
      m.isNew = false;
      this.answerJoin(m, outcome);
      this.scheduleSessionExpiry(group, m);
    }
  }

  private joinOutcomeFor(group: ClassicGroup, member: GroupMember): JoinOutcome {
    const isLeader = group.isLeader(member.memberId);
    return {
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolType: group.protocolType,
      protocolName: group.protocolName,
      leaderId: group.leaderId ?? '',
      memberId: member.memberId,
      skipAssignment: false,
      members: isLeader
        ? [...group.members.values()].map((m) => ({ memberId: m.memberId, groupInstanceId: m.groupInstanceId, metadata: group.metadataFor(m, group.protocolName) }))
        : [],
    };
  }

  /** SyncGroup for a group of a loaded partition; `respond` may be called much later. */
  sync(req: SyncRequest, respond: (o: SyncOutcome) => void): void {
    const group = this.groups.get(req.groupId);
    if (group === undefined) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (group.is(GroupState.Dead)) return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    if (group.isStaticMemberFenced(req.groupInstanceId, req.memberId)) return respond(syncError(ErrorCode.FENCED_INSTANCE_ID));
    const member = group.members.get(req.memberId);
    if (member === undefined) return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    if (req.generationId !== group.generationId) return respond(syncError(ErrorCode.ILLEGAL_GENERATION));
    if ((req.protocolType !== null && req.protocolType !== group.protocolType) || (req.protocolName !== null && req.protocolName !== group.protocolName)) {
      return respond(syncError(ErrorCode.INCONSISTENT_GROUP_PROTOCOL));
    }
    switch (group.state) {
      case GroupState.Empty:
        return respond(syncError(ErrorCode.UNKNOWN_MEMBER_ID));
      case GroupState.PreparingRebalance:
        return respond(syncError(ErrorCode.REBALANCE_IN_PROGRESS));
      case GroupState.CompletingRebalance: {
        this.answerSync(member, syncError(ErrorCode.REBALANCE_IN_PROGRESS));
        member.syncWaiter = respond;
        this.scheduleSessionExpiry(group, member);
        if (!group.isLeader(member.memberId)) return;
        const assigned = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
        for (const m of group.members.values()) m.assignment = assigned.get(m.memberId) ?? EMPTY;
        const ticket = this.storeGroupTicket(group);
        const failed = (error: number) => {
          this.resetAndPropagateAssignmentError(group, error);
          this.maybePrepareRebalance(group, RebalanceReason.AssignmentFailed, `could not store the assignment of generation ${group.generationId}`);
        };
        const error = appendErrorToGroupError(ticket.appendError, false);
        if (error !== ErrorCode.NONE) return failed(error);
        // The assignment is handed out, and the group becomes Stable, once its record is committed.
        const generation = group.generationId;
        this.deps.afterCommit(group.groupId, ticket, (code) => {
          // A later step (a member left, a new rebalance, an unload) has answered the members already.
          if (this.groups.get(group.groupId) !== group || !group.is(GroupState.CompletingRebalance) || group.generationId !== generation) return;
          if (code !== ErrorCode.NONE) return failed(code);
          for (const m of group.members.values()) this.answerSync(m, this.syncOutcomeFor(group, m));
          group.transitionTo(GroupState.Stable, this.now());
          this.deps.log.debug({ groupId: group.groupId, generationId: group.generationId }, 'group stable');
        });
        return;
      }
      case GroupState.Stable:
        this.scheduleSessionExpiry(group, member);
        return respond(this.syncOutcomeFor(group, member));
      default:
        return respond(syncError(ErrorCode.COORDINATOR_NOT_AVAILABLE));
    }
  }

  private syncOutcomeFor(group: ClassicGroup, member: GroupMember): SyncOutcome {
    return { errorCode: ErrorCode.NONE, protocolType: group.protocolType, protocolName: group.protocolName, assignment: member.assignment };
  }

  private resetAndPropagateAssignmentError(group: ClassicGroup, errorCode: number): void {
    for (const m of group.members.values()) {
      m.assignment = EMPTY;
      this.answerSync(m, syncError(errorCode));
    }
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeat and session expiry

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    const group = this.groups.get(groupId);
    if (group === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.is(GroupState.Dead)) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (group.isStaticMemberFenced(groupInstanceId, memberId)) return ErrorCode.FENCED_INSTANCE_ID;
    const member = group.members.get(memberId);
    if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case GroupState.Empty:
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case GroupState.PreparingRebalance:
        this.scheduleSessionExpiry(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        this.scheduleSessionExpiry(group, member);
        return ErrorCode.NONE;
    }
  }

  /** (Re)starts the member's session timer: one timer per member, replaced on every heartbeat. */
  private scheduleSessionExpiry(group: ClassicGroup, member: GroupMember): void {
    this.sessionTimers.get(member)?.cancel();
    if (this.closed) return;
    this.sessionTimers.set(
      member,
      this.deps.scheduler.schedule(member.sessionTimeoutMs, () => {
        this.sessionTimers.delete(member);
        if (group.members.get(member.memberId) !== member) return;
        // A member parked in JoinGroup or SyncGroup is waiting on us, not silent.
        if (member.joinWaiter !== null || member.syncWaiter !== null) return this.scheduleSessionExpiry(group, member);
        this.deps.log.debug({ groupId: group.groupId, memberId: member.memberId, sessionTimeoutMs: member.sessionTimeoutMs }, 'member session expired');
        this.removeMemberAndUpdateGroup(group, member, RebalanceReason.SessionTimeout, `removing member ${member.memberId} on heartbeat expiration (session timeout ${member.sessionTimeoutMs} ms)`);
      }),
    );
  }

  private removeMember(group: ClassicGroup, member: GroupMember): void {
    this.sessionTimers.get(member)?.cancel();
    this.sessionTimers.delete(member);
    group.remove(member.memberId);
  }

  private removeMemberAndUpdateGroup(group: ClassicGroup, member: GroupMember, reason: RebalanceReason, detail: string): void {
    this.answerJoin(member, joinError(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    this.answerSync(member, syncError(ErrorCode.UNKNOWN_MEMBER_ID));
    this.removeMember(group, member);
    switch (group.state) {
      case GroupState.Stable:
      case GroupState.CompletingRebalance:
        this.prepareRebalance(group, reason, detail);
        break;
      case GroupState.PreparingRebalance:
        this.tryCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  // -------------------------------------------------------------------------------------------
  // LeaveGroup

  leave(groupId: string, leaving: LeavingMember[]): LeaveResult {
    const group = this.groups.get(groupId);
    const results = leaving.map((l) => ({ memberId: l.memberId, groupInstanceId: l.groupInstanceId, errorCode: ErrorCode.UNKNOWN_MEMBER_ID as number }));
    if (group === undefined) return { errorCode: ErrorCode.NONE, members: results };
    if (group.is(GroupState.Dead)) return { errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE, members: [] };
    leaving.forEach((l, i) => {
      const result = results[i]!;
      let memberId = l.memberId;
      if (l.groupInstanceId !== null) {
        const current = group.staticMemberId(l.groupInstanceId);
        if (current === undefined) return;
        if (memberId !== '' && memberId !== current) {
          result.errorCode = ErrorCode.FENCED_INSTANCE_ID;
          return;
        }
        memberId = current;
      }
      if (group.pendingMembers.delete(memberId)) {
        const key = `${group.groupId}\u0000${memberId}`;
        this.pendingMemberTimers.get(key)?.cancel();
        this.pendingMemberTimers.delete(key);
        result.errorCode = ErrorCode.NONE;
        this.tryCompleteJoin(group);
        return;
      }
      const member = group.members.get(memberId);
      if (member === undefined) return;
      result.errorCode = ErrorCode.NONE;
      this.deps.log.debug({ groupId, memberId, groupInstanceId: l.groupInstanceId }, 'member left');
      this.removeMemberAndUpdateGroup(group, member, RebalanceReason.MemberLeft, `removing member ${memberId} on LeaveGroup`);
    });
    return { errorCode: ErrorCode.NONE, members: results };
  }

  /** OffsetCommit against a classic group: NONE or the error (a commit also counts as a heartbeat). */
  validateCommit(group: ClassicGroup, req: OffsetCommitRequestIn): number {
    if (req.generationId < 0 && group.is(GroupState.Empty)) return ErrorCode.NONE;
    if (req.generationId >= 0 || req.memberId !== '' || req.groupInstanceId !== null) {
      if (req.groupInstanceId !== null) {
        const current = group.staticMemberId(req.groupInstanceId);
        if (current === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
        if (current !== req.memberId) return ErrorCode.FENCED_INSTANCE_ID;
      }
      const member = group.members.get(req.memberId);
      if (member === undefined) return ErrorCode.UNKNOWN_MEMBER_ID;
      if (req.generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
      if (group.is(GroupState.CompletingRebalance)) return ErrorCode.REBALANCE_IN_PROGRESS;
      // A commit proves the member is alive, as a heartbeat does.
      if (group.is(GroupState.Stable)) this.scheduleSessionExpiry(group, member);
      return ErrorCode.NONE;
    }
    // No member id and no generation (OffsetCommit v0): only an empty group takes it.
    return group.is(GroupState.Empty) ? ErrorCode.NONE : ErrorCode.UNKNOWN_MEMBER_ID;
  }

  // -------------------------------------------------------------------------------------------
  // Persistence

  /** Writes the group's metadata record (members, generation, assignments); the append's error. */
  private storeGroup(group: ClassicGroup): number {
    return appendErrorToGroupError(this.storeGroupTicket(group).appendError, false);
  }

  private storeGroupTicket(group: ClassicGroup): CommitTicket {
    return this.deps.append(group.groupId, [groupMetadataRecord(group, this.now())]);
  }

  private answerJoin(member: GroupMember, outcome: JoinOutcome): void {
    const waiter = member.joinWaiter;
    if (waiter === null) return;
    member.joinWaiter = null;
    waiter(outcome);
  }

  private answerSync(member: GroupMember, outcome: SyncOutcome): void {
    const waiter = member.syncWaiter;
    if (waiter === null) return;
    member.syncWaiter = null;
    waiter(outcome);
  }
}


function sameProtocols(a: readonly JoinProtocol[], b: readonly JoinProtocol[]): boolean {
  return a.length === b.length && a.every((p, i) => p.name === b[i]!.name && p.metadata.equals(b[i]!.metadata));
}

/** Kafka's suffix for the reason a client gave in its JoinGroup (v5+, KIP-800). */
function clientReason(req: JoinRequest): string {
  return req.reason === null || req.reason === '' ? '' : `; client reason: ${req.reason}`;
}
