// The partitions this broker hosts: their logs, leader epochs and high watermarks, and the
// produce and fetch paths through them.
//
// High watermark: owned here, never moved by storage. After a leader append the replica manager
// recomputes it (updateHighWatermark): the smallest log end offset over the ISR (isrMinimumLogEnd). Single-node for
// now, this broker is the whole ISR, so it is the local log end once the append has returned
// (written, and fsynced when flush.messages asks for it); followers' positions will enter there.
// Everything that waits for committed data waits on the high watermark, not on the append:
// acks=all responses (the delayed-produce purgatory, delayed-produce.ts), parked fetches
// (MinBytes/MaxWaitMs) and internal-topic listeners (the coordinators, watchHighWatermark).
// acks=1 is answered after the leader append, acks=0 not at all.
//
// Produce: batches are validated by header and CRC, then their records are walked once (framing,
// offsets, the topic's record rules; no per-record objects), and appended as they arrived, with
// offsets patched by the log. Fetch reads raw byte ranges.
//
// Partition lifecycle: the metadata says which partitions this broker leads (assign) and which
// topics are gone (unassignTopic). Creating a partition's log (a directory and its files) and
// deleting one are disk work of a few hundred microseconds each, so they are queued and done in
// slices of at most LOG_WORK_SLICE_MS, yielding to the event loop between slices: a change that
// creates or deletes thousands of partitions never stalls other clients. Until its log exists a
// partition is not hosted (requests get UNKNOWN_TOPIC_OR_PARTITION and retry). A partition
// whose topic is deleted stops being hosted at once (marked removed, so a fetch parked on it
// answers UNKNOWN_TOPIC_OR_PARTITION); its data is deleted by the queue, always before a log
// of the same name is created again.
import type { Logger } from '../logger.js';
import { ErrorCode, type ErrorCodeValue } from '../protocol/errors.js';
import { CorruptRecordError, UnsupportedMagicError } from '../protocol/records/errors.js';
import { validateBatch } from '../protocol/records/record-batch.js';
import type { LogManager } from '../storage/log-manager.js';
import { MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE, validateBatchRecords } from './record-validation.js';
import type { RecordRules } from './topic-config.js';
import type { LogConfig } from '../storage/config.js';
import { LogClosedError, OffsetOutOfRangeError, StorageError, asStorageError } from '../storage/errors.js';
import type { AppendResult, PartitionStore, ReadResult } from '../storage/partition-store.js';
import { ReadBufferPool } from '../storage/read-buffer-pool.js';
import { TXN_MARKER_BATCH_BYTES } from '../storage/batches.js';
import type { AbortedTxn } from '../storage/txn-index.js';
import { BASE_OFFSET_OFFSET, BATCH_LENGTH_OFFSET, LAST_OFFSET_DELTA_OFFSET, LOG_OVERHEAD, RECORD_BATCH_OVERHEAD } from '../protocol/records/batch-header.js';
import { StorageErrorLog } from './storage-error-log.js';
import { DelayedProducePurgatory, realDelayScheduler, type CommitWait, type DelayScheduler } from './delayed-produce.js';
import type { TxnMarker, TxnMarkerWriter } from './txn/txn-markers.js';

export interface HostedPartition {
  readonly topic: string;
  readonly topicId: string;
  readonly partition: number;
  readonly store: PartitionStore;
  leaderEpoch: number;
  /** min.insync.replicas for acks=all. */
  minInsyncReplicas: number;
  isrSize: number;
  /** Record rules the topic's config asks for; null (the usual case): framing and offsets only. */
  recordRules: RecordRules | null;
  /** Set once the partition stops being hosted (topic deleted); its store may be closed. */
  removed: boolean;
  /** Bytes appended since the high watermark last moved: what parked fetches get when it does. */
  bytesAboveHighWatermark: number;
  /** Traffic since the partition was hosted here, summed per topic when metrics are scraped
   * (plain numbers: nothing on the produce/fetch path but an addition). */
  readonly traffic: PartitionTraffic;
}

export interface PartitionTraffic {
  bytesIn: number;
  messagesIn: number;
  bytesOut: number;
}

/** What the metadata says about a partition this broker leads. */
export interface PartitionAssignment {
  topic: string;
  topicId: string;
  partition: number;
  leaderEpoch: number;
  config: LogConfig;
  minInsyncReplicas: number;
  isrSize: number;
  recordRules: RecordRules | null;
}

/** Time and deferral for the log work queue (injected; tests drive it by hand). */
export interface LogWorkScheduler {
  /** Monotonic milliseconds, for slice budgets. */
  nowMs(): number;
  /** Runs `fn` after pending I/O callbacks (setImmediate). */
  defer(fn: () => void): void;
}

export const realLogWorkScheduler: LogWorkScheduler = {
  nowMs: () => performance.now(),
  defer: (fn) => void setImmediate(fn),
};

/** Longest stretch of queued log creation/deletion before the event loop gets a turn. */
export const LOG_WORK_SLICE_MS = 5;

interface LogJob {
  kind: 'host' | 'delete';
  topic: string;
  partition: number;
}

export interface ProduceOutcome {
  errorCode: number;
  errorMessage: string | null;
  baseOffset: number;
  logAppendTimeMs: number;
  logStartOffset: number;
  recordErrors: { batchIndex: number; message: string | null }[];
  /** The high watermark that commits this append (its last offset + 1); -1 on error. */
  commitOffset: number;
  /** The partition appended to; null on error. */
  hosted: HostedPartition | null;
}

/** What a coordinator hears of the partitions of its internal topic. */
export interface PartitionListener {
  /** This broker leads the partition now (newly hosted, or at a new leader epoch). */
  becameLeader(hosted: HostedPartition): void;
  /** This broker no longer leads it (topic deleted; in a cluster, leadership moved). */
  resigned(hosted: HostedPartition): void;
  /** Its high watermark moved to `highWatermark`. */
  highWatermark(hosted: HostedPartition, highWatermark: number): void;
}

/** Told of each transaction marker once it is committed (below the high watermark). */
export interface TxnMarkerWritten {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  readonly committed: boolean;
  /** The marker's offset. */
  readonly offset: number;
}
export type TxnMarkerListener = (written: TxnMarkerWritten) => void;

/** How long a marker waits to be committed (Kafka: request.timeout.ms for WriteTxnMarkers' appends). */
export const TXN_MARKER_TIMEOUT_MS = 30_000;

export interface PartitionRead {
  errorCode: number;
  result: ReadResult | null;
  /** read_committed: the aborted transactions overlapping the records returned (oldest marker
   *  first), as Fetch's AbortedTransactions; null for read_uncommitted. */
  abortedTransactions: AbortedTxn[] | null;
}

/** Woken when a partition it watches receives data. */
interface FetchWaiter {
  readonly partitions: readonly HostedPartition[];
  bytesSeen: number;
  readonly minBytes: number;
  /** read_committed: the last stable offset of each partition as last seen; null otherwise. */
  readonly lastStable: Map<HostedPartition, number> | null;
  wake(): void;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class ReplicaManager implements TxnMarkerWriter {
  private readonly partitions = new Map<string, HostedPartition>();
  /** Assigned partitions whose log is not created yet, by partitionKey. */
  private readonly pendingHost = new Map<string, PartitionAssignment>();
  /** Partitions of deleted topics whose data is not deleted yet, by partitionKey. */
  private readonly pendingDelete = new Set<string>();
  /** Partition numbers per topic name, hosted or pending, for unassignTopic. */
  private readonly topicPartitions = new Map<string, Set<number>>();
  /** FIFO of log work; entries before `jobsHead` are done. */
  private jobs: LogJob[] = [];
  private jobsHead = 0;
  private drainScheduled = false;
  private closed = false;
  private readonly waiters = new Map<HostedPartition, Set<FetchWaiter>>();
  private pendingFetches = 0;
  /** Buffers for consumer reads, given back by the fetch path once a response is sent. */
  readonly readBuffers = new ReadBufferPool();
  private readonly storageErrors: StorageErrorLog;
  /** acks=all responses waiting for the high watermark. */
  private readonly delayedProduce: DelayedProducePurgatory<HostedPartition>;
  /** By topic name: who hears of leadership and high watermark moves (internal topics only). */
  private readonly listeners = new Map<string, PartitionListener>();
  private readonly markerListeners: TxnMarkerListener[] = [];
  /** How long writeMarkers waits for the markers to be committed. */
  txnMarkerTimeoutMs = TXN_MARKER_TIMEOUT_MS;

  constructor(
    private readonly logs: LogManager,
    private readonly log: Logger,
    /** Upper bound on parked fetch requests; past it, fetches are answered at once. */
    private readonly maxPendingFetches = 10_000,
    private readonly scheduler: LogWorkScheduler = realLogWorkScheduler,
    nowMs: () => number = Date.now,
    /** Upper bound on parked acks=all produce requests; past it they time out at once. */
    maxDelayedProduces = 10_000,
    delayScheduler: DelayScheduler = realDelayScheduler,
  ) {
    this.storageErrors = new StorageErrorLog(log, nowMs);
    this.delayedProduce = new DelayedProducePurgatory(delayScheduler, maxDelayedProduces, (p) => (p.removed ? Number.POSITIVE_INFINITY : p.store.highWatermark));
  }

  get(topic: string, partition: number): HostedPartition | undefined {
    return this.partitions.get(partitionKey(topic, partition));
  }

  /**
   * Records that this broker leads a partition (at `leaderEpoch`, with these settings). A hosted
   * partition takes the new settings at once; a new one gets its log from the work queue, or at
   * once with `now` (internal topics, whose coordinators need them immediately).
   */
  assign(a: PartitionAssignment, opts: { now?: boolean } = {}): void {
    const key = partitionKey(a.topic, a.partition);
    const existing = this.partitions.get(key);
    if (existing !== undefined) {
      const newEpoch = existing.leaderEpoch !== a.leaderEpoch;
      existing.leaderEpoch = a.leaderEpoch;
      existing.minInsyncReplicas = a.minInsyncReplicas;
      existing.isrSize = a.isrSize;
      existing.recordRules = a.recordRules;
      existing.store.updateConfig(a.config);
      if (newEpoch) {
        this.startLeaderEpoch(existing);
        this.listeners.get(a.topic)?.becameLeader(existing);
      }
      return;
    }
    let partitions = this.topicPartitions.get(a.topic);
    if (partitions === undefined) this.topicPartitions.set(a.topic, (partitions = new Set()));
    partitions.add(a.partition);
    const queued = this.pendingHost.has(key);
    this.pendingHost.set(key, a);
    if (opts.now === true) this.hostPending(key);
    else if (!queued) this.enqueue({ kind: 'host', topic: a.topic, partition: a.partition });
  }

  /** The topic is gone: its partitions stop being hosted now, their data is deleted by the queue. */
  unassignTopic(topic: string): void {
    const partitions = this.topicPartitions.get(topic);
    if (partitions === undefined) return;
    this.topicPartitions.delete(topic);
    for (const partition of partitions) {
      const key = partitionKey(topic, partition);
      this.pendingHost.delete(key);
      const hosted = this.partitions.get(key);
      if (hosted === undefined) continue;
      this.partitions.delete(key);
      hosted.removed = true;
      this.delayedProduce.onPartitionLost(hosted);
      this.listeners.get(topic)?.resigned(hosted);
      const waiters = this.waiters.get(hosted);
      this.waiters.delete(hosted);
      if (waiters !== undefined) for (const w of [...waiters]) w.wake();
      this.pendingDelete.add(key);
      this.enqueue({ kind: 'delete', topic, partition });
    }
  }

  /** The partition is assigned here but its log is not created yet (queued). */
  isAwaitingLog(topic: string, partition: number): boolean {
    return this.pendingHost.has(partitionKey(topic, partition));
  }

  /** Partition logs still to be created or deleted by the queue. */
  get pendingLogWork(): number {
    return this.pendingHost.size + this.pendingDelete.size;
  }

  /** Does queued log work for up to `budgetMs` (at least one job); returns the work left. */
  runLogWork(budgetMs: number): number {
    const start = this.scheduler.nowMs();
    while (this.jobsHead < this.jobs.length && !this.closed) {
      const job = this.jobs[this.jobsHead++]!;
      const key = partitionKey(job.topic, job.partition);
      if (job.kind === 'host') this.hostPending(key);
      else this.deletePending(key, job.topic, job.partition);
      if (this.scheduler.nowMs() - start >= budgetMs) break;
    }
    if (this.jobsHead >= this.jobs.length) {
      this.jobs = [];
      this.jobsHead = 0;
    } else if (this.jobsHead > 1024 && this.jobsHead * 2 > this.jobs.length) {
      this.jobs = this.jobs.slice(this.jobsHead);
      this.jobsHead = 0;
    }
    return this.jobs.length - this.jobsHead;
  }

  /** Does all queued log work now (start-up, before any request is served). */
  runAllLogWork(): void {
    while (this.runLogWork(Number.POSITIVE_INFINITY) > 0);
  }

  /** Stops the work queue (shutdown); what is left is redone from the metadata at start-up. */
  close(): void {
    this.closed = true;
    this.delayedProduce.completeAll();
    this.jobs = [];
    this.jobsHead = 0;
  }

  private enqueue(job: LogJob): void {
    this.jobs.push(job);
    this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainScheduled || this.closed) return;
    this.drainScheduled = true;
    this.scheduler.defer(() => {
      this.drainScheduled = false;
      if (this.runLogWork(LOG_WORK_SLICE_MS) > 0) this.scheduleDrain();
    });
  }

  private hostPending(key: string): void {
    const a = this.pendingHost.get(key);
    if (a === undefined) return; // unassigned meanwhile, or already hosted by an earlier job
    this.pendingHost.delete(key);
    // The data of a deleted topic of the same name goes first, so it is never served again.
    this.deletePending(key, a.topic, a.partition);
    let store: PartitionStore;
    try {
      store = this.logs.getOrCreate(a.topic, a.partition, a.config, a.topicId);
    } catch (err) {
      this.log.error({ err, topic: a.topic, partition: a.partition }, 'could not create the partition log; the partition is not hosted');
      return;
    }
    store.updateConfig(a.config);
    const hosted: HostedPartition = {
      topic: a.topic,
      topicId: a.topicId,
      partition: a.partition,
      store,
      leaderEpoch: a.leaderEpoch,
      minInsyncReplicas: a.minInsyncReplicas,
      isrSize: a.isrSize,
      recordRules: a.recordRules,
      removed: false,
      bytesAboveHighWatermark: 0,
      traffic: { bytesIn: 0, messagesIn: 0, bytesOut: 0 },
    };
    this.partitions.set(key, hosted);
    this.startLeaderEpoch(hosted);
    this.updateHighWatermark(hosted);
    this.listeners.get(a.topic)?.becameLeader(hosted);
  }

  /**
   * A new leader epoch starts at the log end before any write, as Kafka's makeLeader does, so
   * OffsetForLeaderEpoch answers the current epoch with the log end offset even before data. A log
   * that already holds a newer epoch (metadata and data out of step) is logged, not thrown: the
   * partition stays hosted and its appends report the problem.
   */
  private startLeaderEpoch(hosted: HostedPartition): void {
    try {
      hosted.store.assignLeaderEpoch(hosted.leaderEpoch);
    } catch (err) {
      this.log.error({ err, topic: hosted.topic, partition: hosted.partition, leaderEpoch: hosted.leaderEpoch }, 'could not start the leader epoch in the leader epoch cache');
    }
  }

  /**
   * The seam for replication: the high watermark is the smallest log end offset of the ISR.
   * Alone in the ISR (a single node), that is the local log end: every caller has finished its
   * append (written, and fsynced when the flush policy asks), so it is committed. Followers'
   * fetch positions will be folded in here (isrMinimumLogEnd), and a follower's fetch will call
   * this again. Moving it completes acks=all waits, wakes parked fetches and tells the topic's
   * listener.
   */
  updateHighWatermark(hosted: HostedPartition): void {
    const store = hosted.store;
    const isrMinimumLogEnd = this.isrMinimumLogEnd(hosted);
    const previous = store.highWatermark;
    if (isrMinimumLogEnd <= previous) return;
    store.highWatermark = isrMinimumLogEnd;
    const hwm = store.highWatermark;
    const bytes = hosted.bytesAboveHighWatermark;
    hosted.bytesAboveHighWatermark = 0;
    if (this.delayedProduce.hasWaiters(hosted)) this.delayedProduce.onHighWatermark(hosted, hwm);
    if (bytes > 0) this.notifyCommitted(hosted, bytes, previous);
    if (this.listeners.size > 0) this.listeners.get(hosted.topic)?.highWatermark(hosted, hwm);
  }

  /** The smallest log end offset over the partition's ISR: this broker's own, while it is the whole ISR. */
  protected isrMinimumLogEnd(hosted: HostedPartition): number {
    return hosted.store.logEndOffset;
  }

  /**
   * Tells `listener` of leadership and high watermark moves of `topic`'s partitions (one
   * listener per topic), starting with becameLeader for each partition hosted already.
   */
  watchTopic(topic: string, listener: PartitionListener): void {
    if (this.listeners.has(topic)) throw new Error(`${topic} already has a partition listener`);
    this.listeners.set(topic, listener);
    for (const hosted of this.partitions.values()) if (hosted.topic === topic) listener.becameLeader(hosted);
  }

  /**
   * Calls `listener` for every marker written from now on, once it is committed (error NONE
   * only), before writeMarkers resolves: the group coordinator makes transactional offset
   * commits of __consumer_offsets visible (or drops them) there, as Kafka's
   * onTransactionCompleted.
   */
  onTxnMarkerWritten(listener: TxnMarkerListener): void {
    this.markerListeners.push(listener);
  }

  /**
   * TxnMarkerWriter: appends each marker as a control batch on its partition (one at a time, in
   * order; no await between a check and its append) and resolves when every appended one is
   * committed as acks=all would have it, with one error code per marker.
   */
  writeMarkers(markers: readonly TxnMarker[]): Promise<ErrorCodeValue[]> {
    const outcomes = markers.map((m) => this.appendMarker(m));
    return this.awaitCommitted(outcomes, this.txnMarkerTimeoutMs).then((codes) =>
      codes.map((waitCode, i): ErrorCodeValue => {
        const outcome = outcomes[i]!;
        const code = (outcome.errorCode !== ErrorCode.NONE ? outcome.errorCode : waitCode) as ErrorCodeValue;
        if (code === ErrorCode.NONE && outcome.hosted !== null) {
          const m = markers[i]!;
          const written: TxnMarkerWritten = { topic: m.topic, partition: m.partition, producerId: m.producerId, producerEpoch: m.producerEpoch, committed: m.committed, offset: outcome.baseOffset };
          for (const listener of this.markerListeners) listener(written);
        }
        return code;
      }),
    );
  }

  private appendMarker(m: TxnMarker): ProduceOutcome {
    const hosted = this.get(m.topic, m.partition);
    if (hosted === undefined) return produceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    // Markers are appended as acks=all, so min.insync.replicas applies to them as to produce.
    if (hosted.isrSize < hosted.minInsyncReplicas) return produceError(ErrorCode.NOT_ENOUGH_REPLICAS, `The size of the current ISR ${hosted.isrSize} is insufficient to satisfy the min.isr requirement of ${hosted.minInsyncReplicas} for partition ${m.topic}-${m.partition}`);
    let offset: number;
    let logStartOffset: number;
    try {
      const r = hosted.store.appendTxnMarker(
        { producerId: m.producerId, producerEpoch: m.producerEpoch, coordinatorEpoch: m.coordinatorEpoch, committed: m.committed },
        hosted.leaderEpoch,
      );
      offset = r.offset;
      logStartOffset = r.logStartOffset;
    } catch (err) {
      const code = storageErrorCode(err);
      if (code === ErrorCode.KAFKA_STORAGE_ERROR) this.storageErrors.report('append', m.topic, m.partition, err as StorageError);
      return produceError(code, (err as Error).message);
    }
    hosted.bytesAboveHighWatermark += TXN_MARKER_BATCH_BYTES;
    hosted.traffic.bytesIn += TXN_MARKER_BATCH_BYTES;
    this.updateHighWatermark(hosted);
    return { errorCode: ErrorCode.NONE, errorMessage: null, baseOffset: offset, logAppendTimeMs: -1, logStartOffset, recordErrors: [], commitOffset: offset + 1, hosted };
  }

  /** Whether the append of `outcome` is below the high watermark (an error counts as done). */
  isCommitted(outcome: ProduceOutcome): boolean {
    const hosted = outcome.hosted;
    return hosted === null || hosted.removed || hosted.store.highWatermark >= outcome.commitOffset;
  }

  /**
   * acks=all: resolves once every outcome's append is committed, with one error code per
   * outcome: NONE, REQUEST_TIMED_OUT (`timeoutMs` ran out, or too many requests wait already) or
   * NOT_LEADER_OR_FOLLOWER (the partition stopped being led here).
   */
  awaitCommitted(outcomes: readonly ProduceOutcome[], timeoutMs: number): Promise<number[]> {
    const waits: CommitWait<HostedPartition>[] = [];
    const index: number[] = [];
    const codes = outcomes.map((o, i): number => {
      if (this.isCommitted(o)) return o.hosted?.removed === true ? ErrorCode.NOT_LEADER_OR_FOLLOWER : ErrorCode.NONE;
      waits.push({ partition: o.hosted!, offset: o.commitOffset });
      index.push(i);
      return ErrorCode.NONE;
    });
    if (waits.length === 0) return Promise.resolve(codes);
    const parked = this.delayedProduce.park(waits, timeoutMs);
    if (parked === null) {
      for (const i of index) codes[i] = ErrorCode.REQUEST_TIMED_OUT;
      return Promise.resolve(codes);
    }
    return parked.then((waitCodes) => {
      waitCodes.forEach((c, j) => (codes[index[j]!] = c));
      return codes;
    });
  }

  /** acks=all requests parked now (tests, metrics). */
  get delayedProduceCount(): number {
    return this.delayedProduce.size;
  }

  /** Fetches parked for MinBytes now (metrics). */
  get parkedFetchCount(): number {
    return this.pendingFetches;
  }

  private deletePending(key: string, topic: string, partition: number): void {
    if (!this.pendingDelete.delete(key)) return;
    try {
      this.logs.deletePartition(topic, partition);
    } catch (err) {
      this.log.error({ err, topic, partition }, 'could not delete the data of a deleted partition; start-up retries');
    }
  }

  /**
   * Appends the batches of one partition from a Produce request. `records` is the request's
   * buffer slice; it is patched in place and written as is.
   */
  append(topic: string, partition: number, records: Buffer | null, acks: number, requireSingleBatch: boolean): ProduceOutcome {
    const hosted = this.get(topic, partition);
    if (hosted === undefined) return produceError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, 'This server does not host this topic-partition.');
    if (records === null || records.length === 0) return produceError(ErrorCode.CORRUPT_MESSAGE, 'Produce request carries no record batch.');
    const maxBatchBytes = hosted.store.config.maxMessageBytes;
    const maxUncompressedBytes = maxBatchBytes * MAX_UNCOMPRESSED_BYTES_PER_MESSAGE_BYTE;
    const where = `${topic}-${partition}`;
    const nowMs = Date.now();
    let pos = 0;
    let batches = 0;
    try {
      while (pos < records.length) {
        const header = validateBatch(records, pos);
        if (header.sizeInBytes > maxBatchBytes) {
          return produceError(
            ErrorCode.MESSAGE_TOO_LARGE,
            `The record batch of ${header.sizeInBytes} bytes is larger than max.message.bytes (${maxBatchBytes}) of ${where}.`,
          );
        }
        const failure = validateBatchRecords(records, pos, header, hosted.recordRules, nowMs, where, maxUncompressedBytes);
        if (failure !== null) return { ...produceError(failure.errorCode, failure.errorMessage), recordErrors: failure.recordErrors };
        pos += header.sizeInBytes;
        batches++;
      }
    } catch (err) {
      if (err instanceof UnsupportedMagicError) {
        return produceError(ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT, `Record batches of magic ${err.magic} are not supported; use magic 2.`);
      }
      if (err instanceof CorruptRecordError) return produceError(ErrorCode.CORRUPT_MESSAGE, `${where}: ${err.message}`);
      throw err;
    }
    if (requireSingleBatch && batches !== 1) {
      return produceError(ErrorCode.INVALID_RECORD, `Produce requests of version 3 and later must contain exactly one record batch per partition, got ${batches}.`);
    }
    if (acks === -1 && hosted.isrSize < hosted.minInsyncReplicas) {
      return produceError(
        ErrorCode.NOT_ENOUGH_REPLICAS,
        `The size of the current ISR ${hosted.isrSize} is insufficient to satisfy the min.isr requirement of ${hosted.minInsyncReplicas} for partition ${topic}-${partition}`,
      );
    }
    let result: AppendResult;
    try {
      result = hosted.store.append(records, { leaderEpoch: hosted.leaderEpoch, assignOffsets: true });
    } catch (err) {
      const code = storageErrorCode(err);
      if (code === ErrorCode.KAFKA_STORAGE_ERROR) this.storageErrors.report('append', topic, partition, err as StorageError);
      return produceError(code, (err as Error).message);
    }
    if (!result.duplicate) {
      hosted.bytesAboveHighWatermark += records.length;
      hosted.traffic.bytesIn += records.length;
      hosted.traffic.messagesIn += result.lastOffset - result.firstOffset + 1;
    }
    this.updateHighWatermark(hosted);
    return {
      errorCode: ErrorCode.NONE,
      errorMessage: null,
      baseOffset: result.firstOffset,
      logAppendTimeMs: result.logAppendTimeMs,
      logStartOffset: result.logStartOffset,
      recordErrors: [],
      commitOffset: result.lastOffset + 1,
      hosted,
    };
  }

  /**
   * Reads from one partition for a consumer. The records may sit in a pooled buffer: the caller
   * must call `result.release()` once nothing refers to them any more (after the response is
   * written), or drop them without releasing.
   */
  read(hosted: HostedPartition, fetchOffset: number, maxBytes: number, readCommitted: boolean, minOneMessage: boolean): PartitionRead {
    // A fetch that resolved the partition before parking may wake after its topic was deleted.
    if (hosted.removed) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, result: null, abortedTransactions: null };
    const store = hosted.store;
    const maxOffset = readCommitted ? store.lastStableOffset : store.highWatermark;
    try {
      const result = store.read(fetchOffset, maxBytes, maxOffset, minOneMessage, this.readBuffers);
      let aborted: AbortedTxn[] | null = null;
      if (readCommitted) {
        aborted = [];
        if (result.records.length > 0) {
          // Those below the LSO first (in memory, usually none); only when some overlap is the
          // exact end of the returned batches looked for, in their headers.
          aborted = store.abortedTransactions(fetchOffset, maxOffset);
          if (aborted.length > 0) {
            const upperBound = offsetAfterBatches(result.records);
            aborted = aborted.filter((a) => a.firstOffset < upperBound);
          }
        }
      }
      return { errorCode: ErrorCode.NONE, result, abortedTransactions: aborted };
    } catch (err) {
      if (err instanceof OffsetOutOfRangeError) return { errorCode: ErrorCode.OFFSET_OUT_OF_RANGE, result: null, abortedTransactions: null };
      if (err instanceof LogClosedError) return { errorCode: err.errorCode, result: null, abortedTransactions: null };
      // A failed read system call (EIO) too; anything else is a bug and is rethrown.
      const storageError = asStorageError(err, `${hosted.topic}-${hosted.partition}: read at offset ${fetchOffset}`);
      this.storageErrors.report('read', hosted.topic, hosted.partition, storageError);
      return { errorCode: ErrorCode.KAFKA_STORAGE_ERROR, result: null, abortedTransactions: null };
    }
  }

  /**
   * Resolves once `minBytes` bytes have been committed (the high watermark passed them) in any
   * of `partitions` (counting from now), or after `maxWaitMs`, or when `signal` aborts. Resolves at once when too many fetches
   * are already parked. `readCommitted`: only bytes below the last stable offset count (see
   * notifyCommitted).
   */
  waitForData(partitions: readonly HostedPartition[], minBytes: number, maxWaitMs: number, readCommitted = false): Promise<void> {
    if (this.pendingFetches >= this.maxPendingFetches || partitions.length === 0 || partitions.some((p) => p.removed)) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.pendingFetches++;
      let done = false;
      const waiter: FetchWaiter = {
        partitions,
        bytesSeen: 0,
        minBytes,
        lastStable: readCommitted ? new Map(partitions.map((p) => [p, p.store.lastStableOffset])) : null,
        wake: () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.pendingFetches--;
          for (const p of partitions) this.waiters.get(p)?.delete(waiter);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, maxWaitMs);
      for (const p of partitions) {
        let set = this.waiters.get(p);
        if (set === undefined) this.waiters.set(p, (set = new Set()));
        set.add(waiter);
      }
    });
  }

  /**
   * `bytes` were committed, the high watermark moving up from `previousHighWatermark`. A
   * read_committed waiter counts them only as far as they are stable: nothing while the last
   * stable offset stays put (an open transaction holds them back), and when it moves past records
   * an open transaction held back, it wakes at once (how many bytes became readable is not
   * counted here; an early wake costs one read).
   */
  private notifyCommitted(hosted: HostedPartition, bytes: number, previousHighWatermark: number): void {
    const set = this.waiters.get(hosted);
    if (set === undefined || set.size === 0) return;
    for (const w of [...set]) {
      if (w.lastStable !== null) {
        const lso = hosted.store.lastStableOffset;
        const before = w.lastStable.get(hosted) ?? lso;
        if (lso <= before) continue;
        w.lastStable.set(hosted, lso);
        if (before < previousHighWatermark) {
          w.wake();
          continue;
        }
      }
      w.bytesSeen += bytes;
      if (w.bytesSeen >= w.minBytes) w.wake();
    }
  }

  /** Wakes every parked fetch and answers every parked acks=all produce (shutdown). */
  wakeAll(): void {
    this.delayedProduce.completeAll();
    for (const set of this.waiters.values()) for (const w of [...set]) w.wake();
  }

  allPartitions(): IterableIterator<HostedPartition> {
    return this.partitions.values();
  }
}

/**
 * The error for a request made against leader epoch `currentLeaderEpoch` (-1: no check):
 * an older epoch is fenced, a newer one is not known here yet (KIP-320).
 */
export function leaderEpochError(hosted: HostedPartition, currentLeaderEpoch: number): number {
  if (currentLeaderEpoch >= 0 && currentLeaderEpoch < hosted.leaderEpoch) return ErrorCode.FENCED_LEADER_EPOCH;
  if (currentLeaderEpoch > hosted.leaderEpoch) return ErrorCode.UNKNOWN_LEADER_EPOCH;
  return ErrorCode.NONE;
}

/** The offset after the last of the whole v2 batches in `records` (one header read per batch). */
function offsetAfterBatches(records: Buffer): number {
  let pos = 0;
  let next = -1;
  while (pos + RECORD_BATCH_OVERHEAD <= records.length) {
    next = Number(records.readBigInt64BE(pos + BASE_OFFSET_OFFSET)) + records.readInt32BE(pos + LAST_OFFSET_DELTA_OFFSET) + 1;
    pos += records.readInt32BE(pos + BATCH_LENGTH_OFFSET) + LOG_OVERHEAD;
  }
  return next;
}

function produceError(errorCode: number, errorMessage: string): ProduceOutcome {
  return { errorCode, errorMessage, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], commitOffset: -1, hosted: null };
}

/** Kafka error code for an error thrown by the storage layer (each carries its own). */
export function storageErrorCode(err: unknown): number {
  if (err instanceof StorageError) return err.errorCode;
  throw err;
}
