// The group coordinator (classic groups, KIP-848 consumer groups, offsets, group admin) for the
// groups whose __consumer_offsets partition this broker leads (all of them on a single node).
// Its parts: the classic protocol driver (classic-group-driver.ts), the KIP-848 coordinator
// (consumer-group-coordinator.ts), the offset manager (offset-manager.ts) and the partition
// loader (partition-loader.ts); this class routes requests to them and owns the runtime.
//
// It runs on the coordinator runtime (../coordinator/runtime.ts), one shard per partition of
// __consumer_offsets led here: a partition's groups are loaded when it is led here (requests for
// them get COORDINATOR_LOAD_IN_PROGRESS meanwhile), dropped when it is not (NOT_COORDINATOR).
// Requests that write run as events on their partition's serial queue; an append returns a
// CommitTicket, and the answer that depends on it is given once the record is committed (the
// partition's high watermark passed it), never because the append returned:
//  - committed offsets (OffsetCommit, OffsetDelete) are applied at commit, so OffsetFetch reads
//    only committed offsets;
//  - membership steps (a SyncGroup's assignment, a static member's rejoin) are answered at
//    commit; the group stays in its state until then;
//  - removals (group deletion, expiry, KIP-848 group state) are applied when appended (later
//    requests of the partition must see them) and their answer is held until commit. Records
//    that never commit can only fail by losing the partition, which unloads all its groups:
//    the optimistic state goes, and a later load rebuilds it from the log.
// JoinGroup and SyncGroup return promises that stay parked until the rebalance step they wait
// for completes. Time and timers are injected (`GroupCoordinatorDeps`), so tests drive them.
import type { BatchRecord } from '../../protocol/records/record-batch.js';
import { ErrorCode } from '../../protocol/errors.js';
import { CoordinatorRuntime, type CommitTicket } from '../coordinator/runtime.js';
import { ClassicGroupDriver } from './classic-group-driver.js';
import { ClassicGroup, GroupState, offsetKey, type CommittedOffset, type JoinOutcome, type SyncOutcome } from './classic-group.js';
import type { ConsumerGroup } from './consumer-group.js';
import {
  ConsumerGroupCoordinator,
  type ConsumerGroupDescription,
  type ConsumerHeartbeatRequest,
  type ConsumerHeartbeatResponse,
} from './consumer-group-coordinator.js';
import { CONSUMER_OFFSETS_TOPIC, coordinatorPartitionFor } from './coordinator-partition.js';
import {
  DEFAULT_CONSUMER_GROUP_CONFIG,
  EMPTY,
  NO_TOPICS,
  appendErrorToGroupError,
  joinError,
  syncError,
  type GroupCoordinatorConfig,
  type GroupCoordinatorDeps,
  type GroupDescription,
  type GroupListing,
  type JoinRequest,
  type LeaveResult,
  type LeavingMember,
  type OffsetCommitRequestIn,
  type OffsetCommitResult,
  type OffsetDeleteResult,
  type OffsetFetchResult,
  type SyncRequest,
  type TimerHandle,
  type TxnOffsetCommitRequestIn,
} from './group-api.js';
import { encodeGroupBatch, encodeTxnOffsetBatch, groupTombstoneRecord, offsetCommitRecord } from './group-log.js';
import { TxnOffsets, type PendingOffset } from './txn-offsets.js';
import { OffsetManager } from './offset-manager.js';
import { PartitionLoader } from './partition-loader.js';
import { RebalanceCounts, type RebalanceEvent } from './rebalance.js';

// The interfaces and request/answer types live in group-api.ts; importers take them from here.
export * from './group-api.js';
export { ALL_GROUP_STATES } from './classic-group.js';

export class GroupCoordinator {
  private retentionTimer: TimerHandle | null = null;
  private closed = false;
  /** Classic groups (JoinGroup, SyncGroup, Heartbeat, LeaveGroup). */
  private readonly classic: ClassicGroupDriver;
  private readonly offsets: OffsetManager;
  private readonly loader: PartitionLoader;
  /** Consumer groups (KIP-848); group ids are one namespace with the classic groups here. */
  readonly consumer: ConsumerGroupCoordinator;
  /** The shards of __consumer_offsets: load, unload, serial events, commits. */
  private readonly runtime: CoordinatorRuntime;
  /** Rebalances per live group and reason (tributary_group_rebalances_total). */
  readonly rebalances = new RebalanceCounts((groupId) => this.groupExists(groupId));
  /** Offsets of open transactions (TxnOffsetCommit), per __consumer_offsets partition. */
  private readonly txnOffsets = new TxnOffsets();
  /** While an operation runs under heldUntilCommitted: the tickets of its appends. */
  private collecting: CommitTicket[] | null = null;

  constructor(private readonly deps: GroupCoordinatorDeps) {
    const store = deps.store;
    this.runtime = new CoordinatorRuntime(
      store,
      {
        replay: (partition, batches) => this.loader.replay(partition, batches),
        loaded: (partition) => this.finishLoad(partition),
        unload: (partition) => this.unloadPartition(partition),
      },
      { defer: (fn) => void deps.scheduler.schedule(0, fn) },
    );
    const append = (groupId: string, records: BatchRecord[]) => this.append(groupId, records);
    const afterCommit = (groupId: string, ticket: CommitTicket, fn: (errorCode: number) => void) => this.afterCommit(groupId, ticket, fn);
    const rebalanced = (e: RebalanceEvent) => this.rebalanced(e);
    this.loader = new PartitionLoader(deps.log, this.txnOffsets);
    this.classic = new ClassicGroupDriver({
      config: deps.config,
      scheduler: deps.scheduler,
      nowMs: deps.nowMs,
      log: deps.log,
      rebalanced,
      append,
      afterCommit,
      replaceConsumerGroup: (groupId, unknownMember) => this.replaceConsumerGroup(groupId, unknownMember),
    });
    this.offsets = new OffsetManager({
      partitionExists: (topic, partition) => store.partitionExists(topic, partition),
      offsetMetadataMaxBytes: deps.config.offsetMetadataMaxBytes,
      offsetsRetentionMs: deps.config.offsetsRetentionMs,
      nowMs: deps.nowMs,
      log: deps.log,
      append,
      afterCommit,
    });
    this.consumer = new ConsumerGroupCoordinator({
      config: deps.config.consumer ?? DEFAULT_CONSUMER_GROUP_CONFIG,
      topics: deps.store.topics ?? NO_TOPICS,
      scheduler: deps.scheduler,
      nowMs: deps.nowMs,
      log: deps.log,
      rebalanced,
      append: (groupId, records) => appendErrorToGroupError(this.append(groupId, records).appendError, false),
    });
  }

  /** The one info line of a rebalance (Kafka's "Preparing to rebalance group ... (reason: ...)"), and its count. */
  private rebalanced(e: RebalanceEvent): void {
    this.rebalances.record(e.groupId, e.reason);
    this.deps.log.info({ groupId: e.groupId, groupType: e.protocol, generation: e.generation, reason: e.reason, detail: e.detail }, `rebalancing group ${e.groupId} (reason: ${e.reason}: ${e.detail})`);
  }

  private groupExists(groupId: string): boolean {
    const classic = this.classic.groups.get(groupId);
    return (classic !== undefined && !classic.is(GroupState.Dead)) || this.consumer.group(groupId) !== undefined;
  }

  /** The partition of __consumer_offsets whose leader coordinates `groupId`. */
  partitionFor(groupId: string): number {
    return this.partitionOf(groupId);
  }

  private partitionOf(groupId: string): number {
    return coordinatorPartitionFor(groupId, this.deps.store.numPartitions());
  }

  /** The group's partition of __consumer_offsets (AddOffsetsToTxn adds it to a transaction). */
  offsetsPartitionFor(groupId: string): number {
    return this.partitionOf(groupId);
  }

  /** NONE when the group's partition is loaded here, else NOT_COORDINATOR or COORDINATOR_LOAD_IN_PROGRESS. */
  private gate(groupId: string): number {
    return this.runtime.errorFor(this.partitionOf(groupId));
  }

  /**
   * Runs `op` as an event on the group's partition queue; `fail` answers when the partition
   * cannot take it. The result is a promise: `op` may run after the events queued before it.
   */
  private inQueue<T>(groupId: string, fail: (errorCode: number) => T, op: () => T | Promise<T>): Promise<T> {
    return new Promise<T>((resolve) => {
      const error = this.runtime.submit(this.partitionOf(groupId), () => resolve(op()));
      if (error !== ErrorCode.NONE) resolve(fail(error));
    });
  }

  /** Runs `fn` with the outcome of `ticket` as a later event of the partition (at once if it is gone). */
  private afterCommit(groupId: string, ticket: CommitTicket, fn: (errorCode: number) => void): void {
    ticket.onSettled((code) => {
      const outcome = code === ErrorCode.NONE ? code : appendErrorToGroupError(code, false);
      if (this.runtime.submit(this.partitionOf(groupId), () => fn(outcome)) !== ErrorCode.NONE) fn(outcome === ErrorCode.NONE ? ErrorCode.NOT_COORDINATOR : outcome);
    });
  }

  /**
   * Runs `op` now and holds its result until every record it appended is committed; if one
   * fails (the partition was lost), answers `failed(error)` instead.
   */
  private heldUntilCommitted<T>(groupId: string, op: () => T, failed: (errorCode: number) => T): Promise<T> {
    const outer = this.collecting;
    const tickets: CommitTicket[] = [];
    this.collecting = tickets;
    let result: T;
    try {
      result = op();
    } finally {
      this.collecting = outer;
    }
    const appended = tickets.filter((t) => t.appendError === ErrorCode.NONE);
    if (appended.length === 0) return Promise.resolve(result);
    return new Promise<T>((resolve) => {
      let left = appended.length;
      let error: number = ErrorCode.NONE;
      for (const t of appended) {
        this.afterCommit(groupId, t, (code) => {
          if (code !== ErrorCode.NONE && error === ErrorCode.NONE) error = code;
          if (--left === 0) resolve(error === ErrorCode.NONE ? result : failed(error));
        });
      }
    });
  }

  private get config(): GroupCoordinatorConfig {
    return this.deps.config;
  }

  private now(): number {
    return this.deps.nowMs();
  }

  // -------------------------------------------------------------------------------------------
  // Start-up and shutdown

  /**
   * Starts following __consumer_offsets: the partitions led here now are loaded before this
   * returns (start-up, before requests are served), later ones as they come. Then starts the
   * expiry timer.
   */
  load(): void {
    this.deps.store.watch({
      becameLeader: (partition, leaderEpoch) => this.runtime.becomeLeader(partition, leaderEpoch),
      resigned: (partition) => this.runtime.resign(partition),
      highWatermark: (partition, hwm) => this.runtime.onHighWatermark(partition, hwm),
    });
    this.runtime.loadAllNow();
    this.scheduleRetentionCheck();
  }

  /** The partition's records are all replayed: its groups go live. */
  private finishLoad(partition: number): void {
    for (const group of this.loader.finish(partition, this.consumer, this.now())) this.classic.addLoaded(group);
  }

  /** The partition is no longer led here: its groups go; their parked requests get NOT_COORDINATOR. */
  private unloadPartition(partition: number): void {
    this.loader.discard(partition);
    this.txnOffsets.drop(partition);
    const owned = (groupId: string) => this.partitionOf(groupId) === partition;
    const unloaded = this.classic.unload(owned);
    this.consumer.unload(owned);
    if (unloaded > 0 && !this.closed) this.deps.log.info({ partition, groups: unloaded }, 'unloaded the classic groups of a __consumer_offsets partition');
  }

  /** Cancels every timer and answers parked requests with NOT_COORDINATOR. */
  shutdown(): void {
    this.closed = true;
    this.consumer.shutdown();
    this.retentionTimer?.cancel();
    this.classic.shutdown();
    this.runtime.close();
  }

  /** The state of every group (tests and tools). */
  group(groupId: string): ClassicGroup | undefined {
    return this.classic.groups.get(groupId);
  }

  // -------------------------------------------------------------------------------------------
  // FindCoordinator

  /**
   * NONE when this broker coordinates `groupId` (creating __consumer_offsets on first use): it
   * leads the group's partition, loaded or still loading, as Kafka answers from leadership.
   * With no leader here (and no other broker yet), COORDINATOR_NOT_AVAILABLE.
   */
  coordinatorFor(groupId: string): number {
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return ready;
    return this.runtime.isLeader(this.partitionOf(groupId)) ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  // -------------------------------------------------------------------------------------------
  // JoinGroup

  join(req: JoinRequest): Promise<JoinOutcome> {
    if (this.closed) return Promise.resolve(joinError(req.memberId, ErrorCode.NOT_COORDINATOR));
    if (req.groupId === '') return Promise.resolve(joinError(req.memberId, ErrorCode.INVALID_GROUP_ID));
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return Promise.resolve(joinError(req.memberId, ready));
    return new Promise((resolve) => {
      const error = this.runtime.submit(this.partitionOf(req.groupId), () => this.classic.join(req, resolve));
      if (error !== ErrorCode.NONE) resolve(joinError(req.memberId, error));
    });
  }

  /** A classic JoinGroup for the id of a KIP-848 group (see ClassicGroupDriverDeps.replaceConsumerGroup). */
  private replaceConsumerGroup(groupId: string, unknownMember: boolean): Map<string, CommittedOffset> | null | number {
    const consumerGroup = this.consumer.group(groupId);
    if (consumerGroup === undefined) return null;
    // Kafka without online migration: a classic member cannot join a consumer group with
    // members; an empty consumer group is replaced by a classic one (offsets kept).
    if (consumerGroup.size > 0) return ErrorCode.INCONSISTENT_GROUP_PROTOCOL;
    if (!unknownMember) return ErrorCode.UNKNOWN_MEMBER_ID;
    const error = appendErrorToGroupError(this.append(groupId, this.consumer.groupTombstones(consumerGroup, this.now())).appendError, false);
    if (error !== ErrorCode.NONE) return error;
    const carried = new Map(consumerGroup.offsets);
    this.consumer.forget(consumerGroup);
    this.deps.log.info({ groupId }, 'empty consumer group replaced by a classic group');
    return carried;
  }

  // -------------------------------------------------------------------------------------------
  // SyncGroup

  sync(req: SyncRequest): Promise<SyncOutcome> {
    if (this.closed) return Promise.resolve(syncError(ErrorCode.NOT_COORDINATOR));
    if (req.groupId === '') return Promise.resolve(syncError(ErrorCode.INVALID_GROUP_ID));
    return new Promise((resolve) => {
      const error = this.runtime.submit(this.partitionOf(req.groupId), () => this.classic.sync(req, resolve));
      if (error !== ErrorCode.NONE) resolve(syncError(error));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Heartbeat and LeaveGroup

  heartbeat(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number {
    if (this.closed) return ErrorCode.NOT_COORDINATOR;
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const gate = this.gate(groupId);
    if (gate !== ErrorCode.NONE) return gate;
    return this.classic.heartbeat(groupId, generationId, memberId, groupInstanceId);
  }

  leave(groupId: string, leaving: LeavingMember[]): LeaveResult {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, members: [] };
    if (groupId === '') return { errorCode: ErrorCode.INVALID_GROUP_ID, members: [] };
    const gate = this.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, members: [] };
    return this.classic.leave(groupId, leaving);
  }

  // -------------------------------------------------------------------------------------------
  // Offsets

  /** OffsetCommit: answered once the offsets' records are committed; only then does OffsetFetch see them. */
  commitOffsets(req: OffsetCommitRequestIn): Promise<OffsetCommitResult> {
    const all = (code: number): OffsetCommitResult =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    if (this.closed) return Promise.resolve(all(ErrorCode.NOT_COORDINATOR));
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return Promise.resolve(all(ready));
    return this.inQueue(req.groupId, all, () => this.doCommitOffsets(req, all));
  }

  private doCommitOffsets(req: OffsetCommitRequestIn, all: (code: number) => OffsetCommitResult): OffsetCommitResult | Promise<OffsetCommitResult> {
    const consumerGroup = this.consumer.group(req.groupId);
    if (consumerGroup !== undefined) {
      // Consumer groups: the generation field carries the member epoch (KIP-848).
      const validation = this.consumer.validateOffsetCommit(consumerGroup, req.memberId, req.generationId, req.apiVersion);
      if (validation !== ErrorCode.NONE) return all(validation);
      return this.offsets.commit(req.groupId, consumerGroup.offsets, req, all(ErrorCode.NONE));
    }
    let group = this.classic.groups.get(req.groupId);
    if (group === undefined || group.is(GroupState.Dead)) {
      if (req.generationId >= 0) return all(req.apiVersion >= 9 ? ErrorCode.GROUP_ID_NOT_FOUND : ErrorCode.ILLEGAL_GENERATION);
      // A commit outside group management (the admin client, or assign() with a group id):
      // a "simple" group is created to hold the offsets.
      group = new ClassicGroup(req.groupId, GroupState.Empty, this.now());
      this.classic.groups.set(req.groupId, group);
    }
    const validation = this.classic.validateCommit(group, req);
    if (validation !== ErrorCode.NONE) return all(validation);
    return this.offsets.commit(group.groupId, group.offsets, req, all(ErrorCode.NONE));
  }

  /** Committed offsets of `topics` (null: every committed partition). Unknown partitions get offset -1. */
  fetchOffsets(
    groupId: string,
    topics: { name: string; partitionIndexes: number[] }[] | null,
    member: { memberId: string | null; memberEpoch: number } = { memberId: null, memberEpoch: -1 },
    requireStable = false,
  ): OffsetFetchResult {
    if (this.closed) return { errorCode: ErrorCode.NOT_COORDINATOR, topics: [] };
    const gate = this.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, topics: [] };
    const consumerGroup = this.consumer.group(groupId);
    if (consumerGroup !== undefined) {
      const validation = this.consumer.validateOffsetFetch(consumerGroup, member.memberId, member.memberEpoch);
      if (validation !== ErrorCode.NONE) return { errorCode: validation, topics: [] };
    }
    const group = this.classic.groups.get(groupId);
    const offsets = consumerGroup?.offsets ?? (group === undefined || group.is(GroupState.Dead) ? new Map<string, CommittedOffset>() : group.offsets);
    const read = this.offsets.read(offsets, topics);
    if (requireStable) {
      // KIP-447: an offset a transaction may still change is not answered.
      const partition = this.partitionOf(groupId);
      for (const t of read) {
        for (const p of t.partitions) {
          if (!this.txnOffsets.hasPending(partition, groupId, t.name, p.partitionIndex)) continue;
          p.errorCode = ErrorCode.UNSTABLE_OFFSET_COMMIT;
          p.committedOffset = -1n;
          p.committedLeaderEpoch = -1;
          p.metadata = '';
        }
      }
    }
    return { errorCode: ErrorCode.NONE, topics: read };
  }

  /**
   * TxnOffsetCommit: writes the offsets as one transactional batch of the producer, answered once
   * committed; they stay pending (invisible to OffsetFetch) until the producer's COMMIT marker
   * reaches the group's partition (onTxnMarker), and go on ABORT.
   */
  commitTxnOffsets(req: TxnOffsetCommitRequestIn): Promise<OffsetCommitResult> {
    const all = (code: number): OffsetCommitResult =>
      req.topics.map((t) => ({ name: t.name, partitions: t.partitions.map((p) => ({ partitionIndex: p.partitionIndex, errorCode: code })) }));
    if (this.closed) return Promise.resolve(all(ErrorCode.NOT_COORDINATOR));
    if (req.groupId === '') return Promise.resolve(all(ErrorCode.INVALID_GROUP_ID));
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return Promise.resolve(all(ready));
    return this.inQueue(req.groupId, all, () => this.doCommitTxnOffsets(req, all));
  }

  private doCommitTxnOffsets(req: TxnOffsetCommitRequestIn, all: (code: number) => OffsetCommitResult): OffsetCommitResult | Promise<OffsetCommitResult> {
    // Kafka's checks for a transactional commit: a member named must exist, a generation given must match.
    const consumerGroup = this.consumer.group(req.groupId);
    if (consumerGroup !== undefined) {
      if (req.memberId !== '') {
        const member = consumerGroup.members.get(req.memberId);
        if (member === undefined) return all(ErrorCode.UNKNOWN_MEMBER_ID);
        if (req.generationId >= 0 && req.generationId !== member.memberEpoch) return all(ErrorCode.ILLEGAL_GENERATION);
      }
    } else {
      const group = this.classic.groups.get(req.groupId);
      if (group !== undefined && !group.is(GroupState.Dead)) {
        if (req.groupInstanceId !== null && group.staticMemberId(req.groupInstanceId) !== undefined && group.staticMemberId(req.groupInstanceId) !== req.memberId) {
          return all(ErrorCode.FENCED_INSTANCE_ID);
        }
        if (req.memberId !== '' && !group.members.has(req.memberId)) return all(ErrorCode.UNKNOWN_MEMBER_ID);
        if (req.generationId >= 0 && req.generationId !== group.generationId) return all(ErrorCode.ILLEGAL_GENERATION);
      } else if (req.memberId !== '' || req.generationId >= 0) return all(ErrorCode.ILLEGAL_GENERATION);
    }
    const partition = this.partitionOf(req.groupId);
    if (!this.txnOffsets.canAdd(partition, req.producerId)) return all(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const now = this.now();
    const result = all(ErrorCode.NONE);
    const records: BatchRecord[] = [];
    const accepted: PendingOffset[] = [];
    const slots: { errorCode: number }[] = [];
    req.topics.forEach((t, ti) => {
      t.partitions.forEach((p, pi) => {
        const slot = result[ti]!.partitions[pi]!;
        if (!this.deps.store.partitionExists(t.name, p.partitionIndex)) {
          slot.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          return;
        }
        const metadata = p.committedMetadata ?? '';
        if (Buffer.byteLength(metadata, 'utf8') > this.config.offsetMetadataMaxBytes) {
          slot.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
          return;
        }
        const value: CommittedOffset = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata, commitTimestampMs: now, expireTimestampMs: null };
        records.push(offsetCommitRecord(req.groupId, t.name, p.partitionIndex, value, now));
        accepted.push({ topic: t.name, partition: p.partitionIndex, value });
        slots.push(slot);
      });
    });
    if (records.length === 0) return result;
    const fail = (code: number) => {
      for (const slot of slots) slot.errorCode = code;
      return result;
    };
    const sequence = this.txnOffsets.nextSequence(partition, req.producerId, req.producerEpoch);
    const ticket = this.runtime.write(partition, encodeTxnOffsetBatch(records, req.producerId, req.producerEpoch, sequence));
    const appendError = ticket.appendError;
    if (appendError !== ErrorCode.NONE) {
      // The partition's producer state refuses a fenced epoch or a closed transaction as Kafka's.
      const passThrough: number[] = [ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.INVALID_TXN_STATE, ErrorCode.TRANSACTION_COORDINATOR_FENCED, ErrorCode.PRODUCER_FENCED];
      return fail(passThrough.includes(appendError) ? appendError : appendErrorToGroupError(appendError, true));
    }
    this.txnOffsets.noteSequence(partition, req.producerId, req.producerEpoch, sequence + records.length - 1);
    return new Promise((resolve) => {
      this.afterCommit(req.groupId, ticket, (code) => {
        if (code !== ErrorCode.NONE) return resolve(fail(code));
        this.txnOffsets.addPending(partition, req.producerId, req.groupId, accepted);
        resolve(result);
      });
    });
  }

  /**
   * A transaction marker was written (and committed) on a partition hosted here: on a
   * __consumer_offsets partition it settles the producer's pending offsets there.
   */
  onTxnMarker(topic: string, partition: number, producerId: bigint, committed: boolean): void {
    if (topic !== CONSUMER_OFFSETS_TOPIC || this.closed) return;
    this.runtime.submit(partition, () => {
      const done = this.txnOffsets.complete(partition, producerId);
      if (done === undefined || !committed) return;
      for (const [groupId, byKey] of done) {
        let offsets = this.consumer.group(groupId)?.offsets;
        if (offsets === undefined) {
          let group = this.classic.groups.get(groupId);
          if (group === undefined || group.is(GroupState.Dead)) {
            group = new ClassicGroup(groupId, GroupState.Empty, this.now());
            this.classic.groups.set(groupId, group);
          }
          offsets = group.offsets;
        }
        for (const o of byKey.values()) offsets.set(offsetKey(o.topic, o.partition), o.value);
      }
    });
  }

  /** Producers with pending transactional offsets on the group's partition (tests). */
  pendingTxnProducers(groupId: string): number {
    return this.txnOffsets.pendingProducers(this.partitionOf(groupId));
  }

  /** OffsetDelete: removes committed offsets of partitions the group does not consume. */
  deleteOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[]): Promise<OffsetDeleteResult> {
    if (this.closed) return Promise.resolve({ errorCode: ErrorCode.NOT_COORDINATOR, topics: [] });
    return this.inQueue(groupId, (errorCode) => ({ errorCode, topics: [] }), () => this.doDeleteOffsets(groupId, topics));
  }

  private doDeleteOffsets(groupId: string, topics: { name: string; partitionIndexes: number[] }[]): OffsetDeleteResult | Promise<OffsetDeleteResult> {
    const modern = this.consumer.group(groupId);
    if (modern !== undefined) return this.offsets.delete(groupId, modern.offsets, topics, (t) => modern.isSubscribedToTopic(t));
    const group = this.classic.groups.get(groupId);
    if (group === undefined || group.is(GroupState.Dead)) return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, topics: [] };
    const consumerGroup = group.protocolType === 'consumer';
    if (!group.is(GroupState.Empty) && !consumerGroup) return { errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] };
    return this.offsets.delete(groupId, group.offsets, topics, (t) => !group.is(GroupState.Empty) && group.isSubscribedToTopic(t));
  }

  // -------------------------------------------------------------------------------------------
  // Consumer groups (KIP-848)

  /** ConsumerGroupHeartbeat: settles the group id against classic groups, then runs the consumer protocol. */
  /** Answered once the records it wrote are committed. */
  consumerGroupHeartbeat(req: ConsumerHeartbeatRequest): Promise<ConsumerHeartbeatResponse> {
    const fail = (errorCode: number, errorMessage: string | null = null): ConsumerHeartbeatResponse => ({ errorCode, errorMessage, memberId: null, memberEpoch: 0, heartbeatIntervalMs: 0, assignment: null });
    if (this.closed) return Promise.resolve(fail(ErrorCode.NOT_COORDINATOR));
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return Promise.resolve(fail(ready));
    return this.inQueue(req.groupId, fail, () => this.heldUntilCommitted(req.groupId, () => this.doConsumerGroupHeartbeat(req, fail), fail));
  }

  private doConsumerGroupHeartbeat(req: ConsumerHeartbeatRequest, fail: (errorCode: number, errorMessage: string | null) => ConsumerHeartbeatResponse): ConsumerHeartbeatResponse {
    const classic = this.classic.groups.get(req.groupId);
    if (classic !== undefined && !classic.is(GroupState.Dead) && req.groupId !== '') {
      // As Kafka: only a joining member may take over the id of an empty classic group (its
      // offsets carry over); a classic group in use is not a consumer group.
      const replaceable = req.memberEpoch === 0 && classic.is(GroupState.Empty) && !this.classic.isRebalancing(classic);
      if (!replaceable) return fail(ErrorCode.GROUP_ID_NOT_FOUND, `Group ${req.groupId} is not a consumer group.`);
      const res = this.consumer.heartbeat(req, classic.offsets);
      if (res.errorCode === ErrorCode.NONE && this.consumer.group(req.groupId) !== undefined) {
        // The consumer group's records are written; the classic group's metadata is deleted.
        if (this.append(req.groupId, [groupTombstoneRecord(req.groupId, this.now())]).appendError !== ErrorCode.NONE) {
          this.deps.log.warn({ groupId: req.groupId }, 'could not write the tombstone of the replaced classic group');
        }
        classic.transitionTo(GroupState.Dead, this.now());
        this.classic.groups.delete(req.groupId);
        this.deps.log.info({ groupId: req.groupId }, 'empty classic group replaced by a consumer group');
      }
      return res;
    }
    return this.consumer.heartbeat(req);
  }

  /** ConsumerGroupDescribe for one group id. */
  describeConsumerGroup(groupId: string): ConsumerGroupDescription {
    const gate = this.closed ? ErrorCode.NONE : this.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, errorMessage: null, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] };
    const classic = this.classic.groups.get(groupId);
    if (!this.closed && classic !== undefined && !classic.is(GroupState.Dead) && this.consumer.group(groupId) === undefined) {
      return { errorCode: ErrorCode.GROUP_ID_NOT_FOUND, errorMessage: `Group ${groupId} is not a consumer group.`, groupId, groupState: '', groupEpoch: 0, assignmentEpoch: 0, assignorName: '', members: [] };
    }
    return this.consumer.describe(groupId);
  }

  // -------------------------------------------------------------------------------------------
  // Group administration

  listGroups(statesFilter: readonly string[]): GroupListing[] {
    const wanted = new Set(statesFilter.map((s) => s.toLowerCase()));
    const out: GroupListing[] = [];
    for (const g of this.classic.groups.values()) {
      if (g.is(GroupState.Dead)) continue;
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      out.push({ groupId: g.groupId, protocolType: g.protocolType ?? '', state: g.state, type: 'classic' });
    }
    for (const g of this.consumer.allGroups()) {
      if (wanted.size > 0 && !wanted.has(g.state.toLowerCase())) continue;
      out.push({ groupId: g.groupId, protocolType: 'consumer', state: g.state, type: 'consumer' });
    }
    return out;
  }

  describeGroup(groupId: string): GroupDescription {
    const group = this.classic.groups.get(groupId);
    const gate = this.closed ? ErrorCode.NOT_COORDINATOR : this.gate(groupId);
    if (gate !== ErrorCode.NONE) return { errorCode: gate, groupId, state: '', protocolType: '', protocolData: '', members: [], notFound: null };
    if (group === undefined || group.is(GroupState.Dead)) {
      const notFound = this.consumer.group(groupId) !== undefined ? `Group ${groupId} is not a classic group.` : `Group ${groupId} not found.`;
      return { errorCode: ErrorCode.NONE, groupId, state: GroupState.Dead, protocolType: '', protocolData: '', members: [], notFound };
    }
    const stable = group.is(GroupState.Stable);
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      state: group.state,
      protocolType: group.protocolType ?? '',
      protocolData: stable ? group.protocolName ?? '' : '',
      // Kafka shows subscriptions and assignments only once the group is stable.
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        groupInstanceId: m.groupInstanceId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        metadata: stable ? group.metadataFor(m, group.protocolName) : EMPTY,
        assignment: stable ? m.assignment : EMPTY,
      })),
      notFound: null,
    };
  }

  /** DeleteGroups: each group's answer is held until its tombstones are committed. */
  deleteGroups(groupIds: readonly string[]): Promise<{ groupId: string; errorCode: number }[]> {
    return Promise.all(
      groupIds.map(async (groupId) => {
        if (this.closed) return { groupId, errorCode: ErrorCode.NOT_COORDINATOR as number };
        const errorCode = await this.inQueue(groupId, (code) => code, () => this.heldUntilCommitted(groupId, () => this.deleteGroup(groupId), (code) => code));
        return { groupId, errorCode };
      }),
    );
  }

  private deleteGroup(groupId: string): number {
    const modern = this.consumer.group(groupId);
    if (modern !== undefined) {
      if (modern.size > 0) return ErrorCode.NON_EMPTY_GROUP;
      const error = this.tombstoneConsumerGroup(modern);
      if (error === ErrorCode.NONE) this.deps.log.info({ groupId }, 'consumer group deleted');
      return error;
    }
    const group = this.classic.groups.get(groupId);
    if (group === undefined || group.is(GroupState.Dead)) return ErrorCode.GROUP_ID_NOT_FOUND;
    if (!group.is(GroupState.Empty)) return ErrorCode.NON_EMPTY_GROUP;
    const error = this.tombstoneGroup(group);
    if (error === ErrorCode.NONE) this.deps.log.info({ groupId }, 'group deleted');
    return error;
  }

  /** Writes tombstones for the group and all its offsets, then forgets it (state Dead). */
  private tombstoneGroup(group: ClassicGroup): number {
    const now = this.now();
    const records = this.offsets.tombstones(group.groupId, group.offsets, now);
    records.push(groupTombstoneRecord(group.groupId, now));
    const error = appendErrorToGroupError(this.append(group.groupId, records).appendError, false);
    if (error !== ErrorCode.NONE) return error;
    group.offsets.clear();
    group.transitionTo(GroupState.Dead, now);
    this.classic.groups.delete(group.groupId);
    return ErrorCode.NONE;
  }

  /** Writes tombstones for an empty consumer group's offsets and records, then forgets it. */
  private tombstoneConsumerGroup(group: ConsumerGroup): number {
    const now = this.now();
    const records = this.offsets.tombstones(group.groupId, group.offsets, now);
    records.push(...this.consumer.groupTombstones(group, now));
    const error = appendErrorToGroupError(this.append(group.groupId, records).appendError, false);
    if (error !== ErrorCode.NONE) return error;
    group.offsets.clear();
    this.consumer.forget(group);
    return ErrorCode.NONE;
  }

  // -------------------------------------------------------------------------------------------
  // Offset retention (offsets.retention.minutes; the rules are in OffsetManager)

  /** Expires offsets of consumer groups; an empty group left without offsets is removed. */
  private expireConsumerGroupOffsets(now: number): void {
    for (const group of [...this.consumer.allGroups()]) {
      this.offsets.expire(group.groupId, group.offsets, this.offsets.expiredConsumerGroupOffsets(group, now), now);
      if (group.size === 0 && group.offsets.size === 0) {
        if (this.tombstoneConsumerGroup(group) === ErrorCode.NONE) this.deps.log.info({ groupId: group.groupId }, 'removed empty consumer group without offsets');
      }
    }
  }

  private scheduleRetentionCheck(): void {
    if (this.closed) return;
    this.retentionTimer = this.deps.scheduler.schedule(this.config.offsetsRetentionCheckIntervalMs, () => {
      this.expireOffsets();
      this.scheduleRetentionCheck();
    });
  }

  /** Expires offsets of every group loaded here; an empty group left without offsets is removed. */
  expireOffsets(): void {
    const now = this.now();
    this.expireConsumerGroupOffsets(now);
    for (const group of [...this.classic.groups.values()]) {
      if (group.is(GroupState.Dead)) continue;
      this.offsets.expire(group.groupId, group.offsets, this.offsets.expiredClassicGroupOffsets(group, now), now);
      if (group.is(GroupState.Empty) && group.offsets.size === 0 && !this.classic.isRebalancing(group)) {
        if (this.tombstoneGroup(group) === ErrorCode.NONE) this.deps.log.info({ groupId: group.groupId }, 'removed empty group without offsets');
      }
    }
  }

  // -------------------------------------------------------------------------------------------
  // Persistence

  /** Appends one batch to the group's partition: a ticket that settles when it is committed. */
  private append(groupId: string, records: BatchRecord[]): CommitTicket {
    const partition = this.partitionOf(groupId);
    const ticket = this.runtime.write(partition, encodeGroupBatch(records));
    if (ticket.appendError !== ErrorCode.NONE) this.deps.log.warn({ groupId, partition, errorCode: ticket.appendError }, 'append to __consumer_offsets failed');
    this.collecting?.push(ticket);
    return ticket;
  }
}
