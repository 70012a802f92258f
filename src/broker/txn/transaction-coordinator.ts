// The transaction coordinator: the transactional ids whose partition of __transaction_state is
// led here, on the coordinator runtime (one serial event queue per partition, writes answered once
// committed, state replayed when leadership arrives), with the transitions of txn-state.ts.
//
// A request runs as one event of its partition's queue: it checks the id's current metadata,
// computes a transit, writes it, and marks the id `pending` until the write settles; a request for
// an id with a pending write gets CONCURRENT_TRANSACTIONS, as Kafka's pendingState gives. The
// transit becomes the id's metadata only once the write is committed (a later event).
//
// Ending a transaction: EndTxn writes PrepareCommit/PrepareAbort and answers once that is
// committed; then the markers go to every partition of the transaction through the
// TxnMarkerWriter (retried after `markerRetryBackoffMs` while they fail with a retriable error),
// then CompleteCommit/CompleteAbort is written. A partition loaded with ids in Prepare* (the
// coordinator restarted or moved between decision and markers) resumes that at once.
//
// Timers live here, outside the state machine: every abortTimedOutIntervalMs the Ongoing
// transactions older than their timeout are fenced and aborted (Kafka's
// transaction.abort.timed.out.transaction.cleanup.interval.ms); every removeExpiredIntervalMs the
// ids idle for transactional.id.expiration.ms get a tombstone.
import type { Logger } from '../../logger.js';
import { ErrorCode, type ErrorCodeValue } from '../../protocol/errors.js';
import { CoordinatorRuntime, type CoordinatorLog } from '../coordinator/runtime.js';
import { coordinatorPartitionFor } from '../group/coordinator-partition.js';
import { appendErrorToGroupError, type OffsetsPartitionListener, type Scheduler, type TimerHandle } from '../group/group-api.js';
import type { TxnMarker, TxnMarkerWriter } from './txn-markers.js';
import { decodeTxnLogRecords, encodeTxnBatch, splitTopicPartition, topicPartitionKey, txnMetadataRecord, txnTombstoneRecord } from './txn-log.js';
import {
  TxnState,
  checkProducer,
  isEpochExhausted,
  isValidExpectedProducer,
  newTxnMetadata,
  prepareAddPartitions,
  prepareComplete,
  prepareDead,
  prepareEndTxn,
  prepareFenceAndAbort,
  prepareInitProducerId,
  txnStateName,
  type TxnMetadata,
  type TxnStateValue,
} from './txn-state.js';

/** The coordinator's view of __transaction_state. */
export interface TxnLogStore extends CoordinatorLog {
  /** Creates the topic if needed; NONE once asked for (clients retry until it exists). */
  ensureTopic(): number;
  topicExists(): boolean;
  numPartitions(): number;
  /** Tells `listener` of the partitions led here now and of every later change. */
  watch(listener: OffsetsPartitionListener): void;
}

export interface TxnCoordinatorConfig {
  /** transaction.max.timeout.ms */
  maxTimeoutMs: number;
  /** transactional.id.expiration.ms */
  transactionalIdExpirationMs: number;
  /** transaction.abort.timed.out.transaction.cleanup.interval.ms */
  abortTimedOutIntervalMs: number;
  /** transaction.remove.expired.transaction.cleanup.interval.ms */
  removeExpiredIntervalMs: number;
  /** Wait before markers that failed with a retriable error are sent again (Kafka: retry.backoff.ms). */
  markerRetryBackoffMs: number;
  /** Transactional ids held per coordinator (this broker's bound; Kafka has none). */
  maxTransactionalIds: number;
  /** Partitions one transaction may hold. */
  maxPartitionsPerTransaction: number;
  /** Transactions fenced per timeout check, per partition; the rest wait for the next check. */
  maxAbortsPerCheck: number;
}

export const DEFAULT_TXN_LIMITS = { markerRetryBackoffMs: 100, maxTransactionalIds: 1_000_000, maxPartitionsPerTransaction: 100_000, maxAbortsPerCheck: 1_000 } as const;

export interface TxnCoordinatorDeps {
  store: TxnLogStore;
  markers: TxnMarkerWriter;
  /** A producer id no one has had (from the controller's blocks). */
  allocateProducerId(): Promise<{ value: bigint | null; errorCode: number }>;
  /** Whether a topic partition exists: markers for a deleted one are dropped, as Kafka drops them. */
  partitionExists(topic: string, partition: number): boolean;
  config: TxnCoordinatorConfig;
  scheduler: Scheduler;
  nowMs(): number;
  log: Logger;
}

interface TxnEntry {
  /** The committed metadata (what the log holds). */
  meta: TxnMetadata;
  /** The state of a transit being written, or null. */
  pending: TxnStateValue | null;
  /** A fence whose write failed: the retry does not bump the epoch again (Kafka's hasFailedEpochFence). */
  failedFence: boolean;
  /** Markers of the current Prepare* are being written (so a second completion is not started). */
  completing: boolean;
}

interface PartitionTxns {
  readonly partition: number;
  /** The partition's leader epoch: the coordinator epoch carried by markers. */
  readonly coordinatorEpoch: number;
  readonly txns: Map<string, TxnEntry>;
}

export interface InitProducerIdResult {
  errorCode: number;
  producerId: bigint;
  producerEpoch: number;
}

export interface TransactionDescription {
  transactionalId: string;
  errorCode: number;
  state: string;
  producerId: bigint;
  producerEpoch: number;
  txnTimeoutMs: number;
  txnStartTimestampMs: number;
  topics: { topic: string; partitions: number[] }[];
}

export interface TransactionListing {
  transactionalId: string;
  producerId: bigint;
  state: string;
}

export interface ListTransactionsFilter {
  states: readonly string[];
  producerIds: readonly bigint[];
  /** Only transactions running longer than this (ms); -1: any. */
  durationFilterMs: number;
  /** A regular expression the id must match, or null. */
  idPattern: RegExp | null;
}

/** Errors of the marker writer after which the markers are sent again. */
const MARKER_RETRIABLE = new Set<number>([
  ErrorCode.NOT_LEADER_OR_FOLLOWER,
  ErrorCode.UNKNOWN_TOPIC_OR_PARTITION,
  ErrorCode.NOT_ENOUGH_REPLICAS,
  ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND,
  ErrorCode.REQUEST_TIMED_OUT,
  ErrorCode.KAFKA_STORAGE_ERROR,
  ErrorCode.LEADER_NOT_AVAILABLE,
  ErrorCode.COORDINATOR_LOAD_IN_PROGRESS,
  ErrorCode.COORDINATOR_NOT_AVAILABLE,
  ErrorCode.NOT_COORDINATOR,
  ErrorCode.UNKNOWN_SERVER_ERROR,
]);

export class TransactionCoordinator {
  private readonly runtime: CoordinatorRuntime;
  private readonly partitions = new Map<number, PartitionTxns>();
  /** Records replayed per partition while it loads. */
  private readonly loading = new Map<number, Map<string, TxnMetadata>>();
  private readonly leaderEpochs = new Map<number, number>();
  private txnCount = 0;
  private abortTimer: TimerHandle | null = null;
  private expireTimer: TimerHandle | null = null;
  private closed = false;

  constructor(private readonly deps: TxnCoordinatorDeps) {
    this.runtime = new CoordinatorRuntime(
      deps.store,
      {
        replay: (partition, batches) => this.replay(partition, batches),
        loaded: (partition) => this.finishLoad(partition),
        unload: (partition) => this.unloadPartition(partition),
      },
      { defer: (fn) => void deps.scheduler.schedule(0, fn) },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Start-up, load, shutdown

  /** Follows __transaction_state (partitions led now are loaded before this returns) and starts the timers. */
  load(): void {
    this.deps.store.watch({
      becameLeader: (partition, leaderEpoch) => {
        this.leaderEpochs.set(partition, leaderEpoch);
        this.runtime.becomeLeader(partition, leaderEpoch);
      },
      resigned: (partition) => this.runtime.resign(partition),
      highWatermark: (partition, hwm) => this.runtime.onHighWatermark(partition, hwm),
    });
    this.runtime.loadAllNow();
    this.scheduleAbortCheck();
    this.scheduleExpireCheck();
  }

  shutdown(): void {
    this.closed = true;
    this.abortTimer?.cancel();
    this.expireTimer?.cancel();
    this.runtime.close();
  }

  private replay(partition: number, batches: Buffer): void {
    let load = this.loading.get(partition);
    if (load === undefined) this.loading.set(partition, (load = new Map()));
    for (const r of decodeTxnLogRecords(batches)) {
      if (r.value === null || r.value.state === TxnState.Dead) load.delete(r.transactionalId);
      else load.set(r.transactionalId, r.value);
    }
  }

  private finishLoad(partition: number): void {
    const load = this.loading.get(partition) ?? new Map<string, TxnMetadata>();
    this.loading.delete(partition);
    const pt: PartitionTxns = { partition, coordinatorEpoch: this.leaderEpochs.get(partition) ?? 0, txns: new Map() };
    for (const [id, meta] of load) pt.txns.set(id, { meta, pending: null, failedFence: false, completing: false });
    this.partitions.set(partition, pt);
    this.txnCount += pt.txns.size;
    let resumed = 0;
    for (const entry of pt.txns.values()) {
      if (entry.meta.state === TxnState.PrepareCommit || entry.meta.state === TxnState.PrepareAbort) {
        resumed++;
        this.startCompletion(pt, entry);
      }
    }
    if (pt.txns.size > 0) this.deps.log.info({ partition, transactionalIds: pt.txns.size, resumed }, 'loaded transactions from __transaction_state');
  }

  private unloadPartition(partition: number): void {
    this.loading.delete(partition);
    const pt = this.partitions.get(partition);
    if (pt === undefined) return;
    this.partitions.delete(partition);
    this.txnCount -= pt.txns.size;
  }

  // -------------------------------------------------------------------------------------------
  // Routing

  partitionFor(transactionalId: string): number {
    return coordinatorPartitionFor(transactionalId, this.deps.store.numPartitions());
  }

  /** FindCoordinator: NONE when this broker leads the id's partition (creating the topic on first use). */
  coordinatorFor(transactionalId: string): number {
    const ready = this.deps.store.ensureTopic();
    if (ready !== ErrorCode.NONE) return ready;
    if (!this.deps.store.topicExists()) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    return this.runtime.isLeader(this.partitionFor(transactionalId)) ? ErrorCode.NONE : ErrorCode.COORDINATOR_NOT_AVAILABLE;
  }

  /** Runs `op` as an event of the partition's queue, or answers `fail(error)` when it cannot run. */
  private inQueue<T>(partition: number, fail: (errorCode: number) => T, op: (pt: PartitionTxns, done: (result: T) => void) => void): Promise<T> {
    if (!this.deps.store.topicExists()) return Promise.resolve(fail(ErrorCode.NOT_COORDINATOR));
    return new Promise<T>((resolve) => {
      const error = this.runtime.submit(partition, () => {
        const pt = this.partitions.get(partition);
        if (pt === undefined) resolve(fail(ErrorCode.NOT_COORDINATOR));
        else op(pt, resolve);
      });
      if (error !== ErrorCode.NONE) resolve(fail(error));
    });
  }

  /**
   * Writes `next` for `entry` (pending until it settles); `done` runs as a later event with NONE
   * once committed (the entry then holds `next`, or is gone for Dead), else the error for the client.
   */
  private write(pt: PartitionTxns, entry: TxnEntry, next: TxnMetadata, done: (errorCode: number) => void): void {
    const now = this.deps.nowMs();
    const record = next.state === TxnState.Dead ? txnTombstoneRecord(next.transactionalId, now) : txnMetadataRecord(next, now);
    entry.pending = next.state;
    const ticket = this.runtime.write(pt.partition, encodeTxnBatch([record]));
    ticket.onSettled((code) => {
      const settle = () => {
        if (this.partitions.get(pt.partition) !== pt) return done(ErrorCode.NOT_COORDINATOR);
        entry.pending = null;
        if (code !== ErrorCode.NONE) return done(appendErrorToGroupError(code, false));
        if (next.state === TxnState.Dead) {
          if (pt.txns.get(next.transactionalId) === entry) {
            pt.txns.delete(next.transactionalId);
            this.txnCount--;
          }
        } else entry.meta = next;
        done(ErrorCode.NONE);
      };
      if (this.runtime.submit(pt.partition, settle) !== ErrorCode.NONE) done(ErrorCode.NOT_COORDINATOR);
    });
  }

  // -------------------------------------------------------------------------------------------
  // InitProducerId

  async initProducerId(transactionalId: string, txnTimeoutMs: number, expected: { producerId: bigint; producerEpoch: number } | null): Promise<InitProducerIdResult> {
    const fail = (errorCode: number): InitProducerIdResult => ({ errorCode, producerId: -1n, producerEpoch: -1 });
    if (transactionalId === '') return fail(ErrorCode.INVALID_REQUEST);
    if (txnTimeoutMs <= 0 || txnTimeoutMs > this.deps.config.maxTimeoutMs) return fail(ErrorCode.INVALID_TRANSACTION_TIMEOUT);
    const partition = this.partitionFor(transactionalId);
    const gate = this.runtime.errorFor(partition);
    if (gate !== ErrorCode.NONE) return fail(gate);
    // A new id is needed for an id seen the first time or an exhausted epoch; it is allocated
    // before the event (allocation is asynchronous) and checked again inside it.
    const peek = this.partitions.get(partition)?.txns.get(transactionalId);
    let newProducerId: bigint | null = null;
    if (peek === undefined || isEpochExhausted(peek.meta.producerEpoch)) {
      const allocated = await this.deps.allocateProducerId();
      if (allocated.value === null) return fail(allocated.errorCode);
      newProducerId = allocated.value;
    }
    return this.inQueue(partition, fail, (pt, done) => {
      const now = this.deps.nowMs();
      let entry = pt.txns.get(transactionalId);
      if (entry === undefined) {
        if (newProducerId === null) return done(fail(ErrorCode.CONCURRENT_TRANSACTIONS));
        if (this.txnCount >= this.deps.config.maxTransactionalIds) return done(fail(ErrorCode.COORDINATOR_NOT_AVAILABLE));
        entry = { meta: newTxnMetadata(transactionalId, newProducerId, txnTimeoutMs, now), pending: null, failedFence: false, completing: false };
        newProducerId = null;
        pt.txns.set(transactionalId, entry);
        this.txnCount++;
      }
      const e = entry;
      if (e.pending !== null) return done(fail(ErrorCode.CONCURRENT_TRANSACTIONS));
      if (expected !== null && !isValidExpectedProducer(e.meta, expected)) return done(fail(ErrorCode.PRODUCER_FENCED));
      switch (e.meta.state) {
        case TxnState.Ongoing: {
          // Abort the open transaction with a bumped epoch (fencing its producer) and send this
          // one back to retry: the retry bumps the epoch again, once the abort is complete.
          this.fenceAndAbort(pt, e, now);
          return done(fail(ErrorCode.CONCURRENT_TRANSACTIONS));
        }
        case TxnState.Empty:
        case TxnState.CompleteCommit:
        case TxnState.CompleteAbort: {
          const t = prepareInitProducerId(e.meta, txnTimeoutMs, expected, newProducerId, now);
          if (!t.ok) return done(fail(t.errorCode));
          return this.write(pt, e, t.next, (code) => done(code === ErrorCode.NONE ? { errorCode: ErrorCode.NONE, producerId: t.next.producerId, producerEpoch: t.next.producerEpoch } : fail(code)));
        }
        default:
          return done(fail(ErrorCode.CONCURRENT_TRANSACTIONS));
      }
    });
  }

  /** Fences the producer of an Ongoing transaction and aborts it (InitProducerId, timeout). */
  private fenceAndAbort(pt: PartitionTxns, entry: TxnEntry, nowMs: number): void {
    const next = prepareFenceAndAbort(entry.meta, entry.failedFence, nowMs);
    this.write(pt, entry, next, (code) => {
      if (code !== ErrorCode.NONE) {
        entry.failedFence = true;
        return;
      }
      entry.failedFence = false;
      this.startCompletion(pt, entry);
    });
  }

  // -------------------------------------------------------------------------------------------
  // AddPartitionsToTxn, AddOffsetsToTxn

  /** Adds partitions (topic, partition) to the transaction; one error code for all of them. */
  addPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly { topic: string; partition: number }[]): Promise<number> {
    if (transactionalId === '') return Promise.resolve(ErrorCode.INVALID_REQUEST);
    const keys = partitions.map((p) => topicPartitionKey(p.topic, p.partition));
    return this.inQueue(this.partitionFor(transactionalId), (code) => code, (pt, done) => {
      const entry = pt.txns.get(transactionalId);
      const bad = checkProducer(entry?.meta, producerId, producerEpoch, entry?.pending != null);
      if (bad !== null) return done(bad);
      const t = prepareAddPartitions(entry!.meta, keys, this.deps.config.maxPartitionsPerTransaction, this.deps.nowMs());
      if (t === null) return done(ErrorCode.NONE);
      if (!t.ok) return done(t.errorCode);
      this.write(pt, entry!, t.next, done);
    });
  }

  /** AddPartitionsToTxn v4+ verifyOnly (KIP-890 part 1): per partition, NONE when in the open transaction. */
  verifyPartitions(transactionalId: string, producerId: bigint, producerEpoch: number, partitions: readonly { topic: string; partition: number }[]): Promise<number[]> {
    const all = (code: number) => partitions.map(() => code);
    return this.inQueue(this.partitionFor(transactionalId), all, (pt, done) => {
      const entry = pt.txns.get(transactionalId);
      const bad = checkProducer(entry?.meta, producerId, producerEpoch, false);
      if (bad !== null) return done(all(bad));
      const m = entry!.meta;
      done(partitions.map((p) => (m.state === TxnState.Ongoing && m.partitions.has(topicPartitionKey(p.topic, p.partition)) ? ErrorCode.NONE : ErrorCode.INVALID_TXN_STATE)));
    });
  }

  // -------------------------------------------------------------------------------------------
  // EndTxn and the markers

  /** EndTxn: answered once the PrepareCommit/PrepareAbort record is committed; markers follow. */
  endTxn(transactionalId: string, producerId: bigint, producerEpoch: number, commit: boolean): Promise<number> {
    if (transactionalId === '') return Promise.resolve(ErrorCode.INVALID_REQUEST);
    return this.inQueue(this.partitionFor(transactionalId), (code) => code, (pt, done) => {
      const entry = pt.txns.get(transactionalId);
      const bad = checkProducer(entry?.meta, producerId, producerEpoch, entry?.pending != null);
      if (bad !== null) return done(bad);
      const d = prepareEndTxn(entry!.meta, commit, this.deps.nowMs());
      if (d.kind === 'done') return done(ErrorCode.NONE);
      if (d.kind === 'error') return done(d.errorCode);
      this.write(pt, entry!, d.next, (code) => {
        done(code);
        if (code === ErrorCode.NONE) this.startCompletion(pt, entry!);
      });
    });
  }

  /** The entry is in Prepare* (committed): markers to every partition, then Complete*. */
  private startCompletion(pt: PartitionTxns, entry: TxnEntry): void {
    if (entry.completing) return;
    entry.completing = true;
    const m = entry.meta;
    const markers: TxnMarker[] = [...m.partitions].map((key) => {
      const { topic, partition } = splitTopicPartition(key);
      return { topic, partition, producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: pt.coordinatorEpoch, committed: m.state === TxnState.PrepareCommit };
    });
    this.sendMarkers(pt, entry, m, markers);
  }

  /** Whether `entry` still is the transaction `m` ended, on a partition still led here. */
  private stillCurrent(pt: PartitionTxns, entry: TxnEntry, m: TxnMetadata): boolean {
    return !this.closed && this.partitions.get(pt.partition) === pt && pt.txns.get(m.transactionalId) === entry && entry.meta === m;
  }

  private sendMarkers(pt: PartitionTxns, entry: TxnEntry, m: TxnMetadata, markers: TxnMarker[]): void {
    if (markers.length === 0) return this.writeComplete(pt, entry, m);
    const after = (codes: readonly ErrorCodeValue[] | null) => {
      const run = () => {
        if (!this.stillCurrent(pt, entry, m)) return;
        const left: TxnMarker[] = [];
        for (let i = 0; i < markers.length; i++) {
          const code = codes === null ? ErrorCode.UNKNOWN_SERVER_ERROR : (codes[i] ?? ErrorCode.UNKNOWN_SERVER_ERROR);
          if (code === ErrorCode.NONE) continue;
          if (code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION && !this.deps.partitionExists(markers[i]!.topic, markers[i]!.partition)) continue;
          if (MARKER_RETRIABLE.has(code)) left.push(markers[i]!);
          else {
            // TRANSACTION_COORDINATOR_FENCED, INVALID_PRODUCER_EPOCH: a newer coordinator or
            // producer epoch owns the partition; Kafka stops sending this transaction's markers.
            this.deps.log.warn({ transactionalId: m.transactionalId, topic: markers[i]!.topic, partition: markers[i]!.partition, errorCode: code }, 'transaction marker refused; not completing the transaction here');
            entry.completing = false;
            return;
          }
        }
        if (left.length === 0) return this.writeComplete(pt, entry, m);
        this.deps.scheduler.schedule(this.deps.config.markerRetryBackoffMs, () => {
          if (this.stillCurrent(pt, entry, m)) this.sendMarkers(pt, entry, m, left);
        });
      };
      if (this.runtime.submit(pt.partition, run) !== ErrorCode.NONE) entry.completing = false;
    };
    this.deps.markers.writeMarkers(markers).then(after, (err: unknown) => {
      this.deps.log.warn({ transactionalId: m.transactionalId, error: (err as Error).message }, 'writing transaction markers failed; retrying');
      after(null);
    });
  }

  private writeComplete(pt: PartitionTxns, entry: TxnEntry, m: TxnMetadata): void {
    if (entry.pending !== null) throw new Error(`transactional id ${m.transactionalId}: completing with a write pending`);
    this.write(pt, entry, prepareComplete(m, this.deps.nowMs()), (code) => {
      entry.completing = false;
      if (code === ErrorCode.NONE || code === ErrorCode.NOT_COORDINATOR) return;
      // Not enough replicas and the like: try again later (the partition is still led here).
      this.deps.scheduler.schedule(this.deps.config.markerRetryBackoffMs, () => {
        this.runtime.submit(pt.partition, () => {
          if (this.stillCurrent(pt, entry, m) && entry.pending === null && !entry.completing) {
            entry.completing = true;
            this.writeComplete(pt, entry, m);
          }
        });
      });
    });
  }

  // -------------------------------------------------------------------------------------------
  // Timeouts and expiration (driven by timers here; the transitions stay pure)

  private scheduleAbortCheck(): void {
    if (this.closed) return;
    this.abortTimer = this.deps.scheduler.schedule(this.deps.config.abortTimedOutIntervalMs, () => {
      this.abortTimedOut();
      this.scheduleAbortCheck();
    });
  }

  private scheduleExpireCheck(): void {
    if (this.closed) return;
    this.expireTimer = this.deps.scheduler.schedule(this.deps.config.removeExpiredIntervalMs, () => {
      this.expireIdle();
      this.scheduleExpireCheck();
    });
  }

  /** Fences and aborts every Ongoing transaction open longer than its timeout (at most maxAbortsPerCheck per partition). */
  abortTimedOut(): void {
    for (const partition of this.partitions.keys()) {
      this.runtime.submit(partition, () => {
        const pt = this.partitions.get(partition);
        if (pt === undefined) return;
        const now = this.deps.nowMs();
        let n = 0;
        for (const entry of pt.txns.values()) {
          if (n >= this.deps.config.maxAbortsPerCheck) break;
          const m = entry.meta;
          if (m.state !== TxnState.Ongoing || entry.pending !== null || m.txnStartTimestampMs + m.txnTimeoutMs >= now) continue;
          n++;
          this.deps.log.info({ transactionalId: m.transactionalId, producerId: m.producerId, producerEpoch: m.producerEpoch, timeoutMs: m.txnTimeoutMs }, 'aborting a transaction that timed out');
          this.fenceAndAbort(pt, entry, now);
        }
      });
    }
  }

  /** Writes tombstones for ids idle (Empty or Complete*) longer than transactional.id.expiration.ms. */
  expireIdle(): void {
    for (const partition of this.partitions.keys()) {
      this.runtime.submit(partition, () => {
        const pt = this.partitions.get(partition);
        if (pt === undefined) return;
        const now = this.deps.nowMs();
        for (const entry of pt.txns.values()) {
          const m = entry.meta;
          const idle = m.state === TxnState.Empty || m.state === TxnState.CompleteCommit || m.state === TxnState.CompleteAbort;
          if (!idle || entry.pending !== null || m.txnLastUpdateTimestampMs + this.deps.config.transactionalIdExpirationMs > now) continue;
          this.write(pt, entry, prepareDead(m, now), () => {});
        }
      });
    }
  }

  // -------------------------------------------------------------------------------------------
  // DescribeTransactions, ListTransactions

  describe(transactionalId: string): TransactionDescription {
    const out: TransactionDescription = { transactionalId, errorCode: ErrorCode.NONE, state: '', producerId: -1n, producerEpoch: -1, txnTimeoutMs: -1, txnStartTimestampMs: -1, topics: [] };
    if (transactionalId === '') return { ...out, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
    const partition = this.partitionFor(transactionalId);
    const gate = this.deps.store.topicExists() ? this.runtime.errorFor(partition) : ErrorCode.NOT_COORDINATOR;
    if (gate !== ErrorCode.NONE) return { ...out, errorCode: gate };
    const m = this.partitions.get(partition)?.txns.get(transactionalId)?.meta;
    if (m === undefined || m.producerEpoch < 0) return { ...out, errorCode: ErrorCode.TRANSACTIONAL_ID_NOT_FOUND };
    const byTopic = new Map<string, number[]>();
    for (const key of m.partitions) {
      const { topic, partition: p } = splitTopicPartition(key);
      let list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, (list = []));
      list.push(p);
    }
    return {
      transactionalId,
      errorCode: ErrorCode.NONE,
      state: txnStateName(m.state),
      producerId: m.producerId,
      producerEpoch: m.producerEpoch,
      txnTimeoutMs: m.txnTimeoutMs,
      txnStartTimestampMs: m.txnStartTimestampMs,
      topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions: partitions.sort((a, b) => a - b) })),
    };
  }

  /** The transactions of the partitions loaded here, filtered; partitions still loading are named in `loading`. */
  list(filter: ListTransactionsFilter, maxResults: number): { transactions: TransactionListing[]; loading: boolean } {
    const now = this.deps.nowMs();
    const transactions: TransactionListing[] = [];
    let loading = false;
    for (const partition of this.partitionsLedHere()) {
      const pt = this.partitions.get(partition);
      if (pt === undefined) {
        loading = true;
        continue;
      }
      for (const { meta: m } of pt.txns.values()) {
        if (m.producerEpoch < 0) continue;
        const state = txnStateName(m.state);
        if (filter.states.length > 0 && !filter.states.includes(state)) continue;
        if (filter.producerIds.length > 0 && !filter.producerIds.includes(m.producerId)) continue;
        if (filter.durationFilterMs >= 0 && (m.state !== TxnState.Ongoing || now - m.txnStartTimestampMs <= filter.durationFilterMs)) continue;
        if (filter.idPattern !== null && !filter.idPattern.test(m.transactionalId)) continue;
        if (transactions.length >= maxResults) return { transactions, loading };
        transactions.push({ transactionalId: m.transactionalId, producerId: m.producerId, state });
      }
    }
    return { transactions, loading };
  }

  private partitionsLedHere(): number[] {
    const out: number[] = [];
    const n = this.deps.store.topicExists() ? this.deps.store.numPartitions() : 0;
    for (let p = 0; p < n; p++) if (this.runtime.isLeader(p)) out.push(p);
    return out;
  }

  /** The committed metadata of an id (tests and tools). */
  metadata(transactionalId: string): TxnMetadata | undefined {
    return this.partitions.get(this.partitionFor(transactionalId))?.txns.get(transactionalId)?.meta;
  }

  /** Ids held, over all partitions (metrics, tests). */
  get transactionalIdCount(): number {
    return this.txnCount;
  }
}
