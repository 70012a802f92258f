// The producer: records are appended to a per-partition batch that is encoded in place
// (BatchBuilder); a batch is sent when it is full, when it has lingered lingerMs, or on flush().
// Each drain sends at most one batch per partition per request (Kafka's rule for v2 batches)
// and up to maxInFlightPerPartition requests per partition, pipelined on the leader's connection.
//
// Idempotence (default, as in current Kafka clients): InitProducerId gives a producer id and
// epoch; each partition numbers its records with consecutive sequences assigned when a batch is
// first sent. When a batch fails, later in-flight batches of that partition fail too (the broker
// refuses the sequence gap), so the partition holds its queue until every in-flight request has
// answered, puts the failed batches back at the head in sequence order, renumbers them from the
// last acknowledged sequence (unchanged unless a batch was dropped), and resends after a backoff
// and a metadata refresh. Resending a batch that the broker did write is answered as a duplicate,
// so a retry never writes a record twice.
//
// Transactions (transactionalId set; transactions.ts holds the state and the coordinator
// requests): a partition's batches are sent only once AddPartitionsToTxn has added it to the open
// transaction (partitions new to the transaction are added in one request per round, as records
// arrive), batches are sealed with the transactional flag, and commitTransaction() flushes before
// EndTxn. A batch that fails makes the transaction abortable: batches not yet sent are then
// dropped (TransactionAbortedError), and abortTransaction() ends it; when a dropped or failed
// batch had been sent, its sequence numbers may disagree with the broker's, so the abort is
// followed by InitProducerId with the current id and epoch, which bumps the epoch (KIP-360) and
// restarts every partition at sequence 0.
//
// KIP-360 for the idempotent producer: when the broker has lost our state for the batch right
// after the last acknowledged one (UNKNOWN_PRODUCER_ID, OUT_OF_ORDER_SEQUENCE_NUMBER), or when a
// batch that was sent expires by delivery.timeout.ms with its outcome unknown, the producer bumps
// its epoch itself and restarts every partition at sequence 0 (Kafka's
// TransactionManager.bumpIdempotentProducerEpoch: the broker accepts a newer epoch starting at
// sequence 0 from any broker version, and InitProducerId without a transactional id would hand
// out a new id whatever producer id and epoch it carried). Only an exhausted epoch gets a new id.
// The bump waits until no batch is in doubt: batches sent earlier and not yet answered are first
// resent as they were, old epoch and sequence (the broker answers DUPLICATE_SEQUENCE_NUMBER for
// one it wrote, a sequence error for one it refused), as Kafka resolves its in-flight sequences
// before moving a partition to the new epoch; renumbering one that was written would write it twice.
//
// Hot path: `produce()` allocates nothing per record besides the encoded bytes (no promise, no
// closure) unless a callback is passed; `send()` is the promise-per-call convenience.
import { ZERO_UUID } from '../protocol/codec/reader.js';
import { ErrorCode } from '../protocol/errors.js';
import { CompressionType } from '../protocol/records/batch-header.js';
import { ProduceRequest, type ProduceRequestData, type ProduceRequestTopicProduceData } from '../protocol/messages/ProduceRequest.js';
import { ProduceResponse, type ProduceResponseData } from '../protocol/messages/ProduceResponse.js';
import { InitProducerIdRequest } from '../protocol/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../protocol/messages/InitProducerIdResponse.js';
import { BatchBuilder, setProducerFields, type Bytes, type HeaderEntry } from './batch-builder.js';
import { Cluster, isMetadataError, type ClientOptions, type TopicMetadata } from './cluster.js';
import { AbortError, ClientClosedError, DeliveryTimeoutError, KafkaClientError, ProducerFencedError, TransactionAbortedError, TransactionStateError, isRetriableError } from './errors.js';
import { MAX_PARTITIONS_PER_ADD, TransactionManager, TxnState, isFatalTxnError, type ConsumerGroupMetadata, type OffsetToCommit, type ProducerIdAndEpoch } from './transactions.js';
import { partitionForKey } from './murmur2.js';
import { sleep } from './retry.js';

export type CompressionName = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export type Acks = -1 | 0 | 1 | 'all';

const COMPRESSION_BY_NAME: Readonly<Record<CompressionName, CompressionType>> = {
  none: CompressionType.None,
  gzip: CompressionType.Gzip,
  snappy: CompressionType.Snappy,
  lz4: CompressionType.Lz4,
  zstd: CompressionType.Zstd,
};

export function parseCompression(name: string): CompressionType {
  const c = COMPRESSION_BY_NAME[name as CompressionName];
  if (c === undefined) throw new Error(`unknown compression type '${name}' (none, gzip, snappy, lz4, zstd)`);
  return c;
}

export interface ProducerOptions extends ClientOptions {
  /** acks: 'all' / -1 (default), 1, or 0 (no response). */
  acks?: Acks;
  /** linger.ms: how long a batch waits for more records; default 5 (Kafka 4.0's default). */
  lingerMs?: number;
  /** batch.size: bytes of records per partition batch; default 16384. */
  batchSize?: number;
  /** compression.type; default 'none'. */
  compression?: CompressionName;
  /** enable.idempotence; default true (false when acks is not 'all' and this is left unset). */
  idempotent?: boolean;
  /** buffer.memory: bytes of unsent batches before produce() asks callers to wait; default 32 MiB. */
  bufferMemory?: number;
  /** max.in.flight.requests.per.connection, applied per partition; default 5 (at most 5 with idempotence). */
  maxInFlightPerPartition?: number;
  /** delivery.timeout.ms: a record fails if not acknowledged within this; default 120000. */
  deliveryTimeoutMs?: number;
  /** max.request.size: bytes of batches per Produce request; default 1048576. */
  maxRequestSize?: number;
  /** max.block.ms: how long send() waits for metadata; default 60000. */
  maxBlockMs?: number;
  /** Custom partitioner for records without an explicit partition. */
  partitioner?: Partitioner;
  /** Timeout the broker applies to acks=all replication (Produce timeoutMs); default requestTimeoutMs. */
  ackTimeoutMs?: number;
  /** Auto-create unknown topics through metadata requests (allow.auto.create.topics); default true. */
  allowAutoTopicCreation?: boolean;
  /** transactional.id: makes the producer transactional (implies idempotence and acks=all). */
  transactionalId?: string;
  /** transaction.timeout.ms: the coordinator aborts a transaction open longer; default 60000. */
  transactionTimeoutMs?: number;
}

/** Picks a partition; return undefined to fall back to the default (murmur2 / sticky). */
export type Partitioner = (topic: string, key: Buffer | null, numPartitions: number) => number | undefined;

export interface ProducerRecord {
  topic: string;
  key?: Bytes;
  value: Bytes;
  headers?: HeaderEntry[] | Readonly<Record<string, Bytes>>;
  partition?: number;
  /** CreateTime in ms; default Date.now(). */
  timestamp?: number;
}

export interface RecordMetadata {
  topic: string;
  partition: number;
  /** Offset of the record; -1 with acks=0. */
  offset: bigint;
  /** The record's timestamp (CreateTime), or the broker's LogAppendTime when the topic uses it. */
  timestamp: number;
}

export type DeliveryCallback = (err: Error | null, metadata: RecordMetadata | null) => void;

interface PartitionState {
  topic: string;
  partition: number;
  open: OpenBatch | null;
  /** Batches waiting to be sent, in order (failed batches go back to the head). */
  queue: PendingBatch[];
  /** Batches sent and not yet answered, in sequence order. */
  inflight: PendingBatch[];
  /** Failed batches to requeue once `inflight` is empty. */
  failed: PendingBatch[];
  /** Sequence of the next batch to number. */
  nextSequence: number;
  /** Sequence after the last acknowledged batch: what the broker expects next. */
  ackedSequence: number;
  /** Set while a failure is being recovered: nothing new is sent. */
  holding: boolean;
  /** Earliest time the partition may send again (backoff). */
  retryAtMs: number;
  /**
   * Node the in-flight batches went to. A new leader gets nothing until they have answered: on
   * one connection the broker sees batches in sequence order, across two it might not, and a
   * later batch arriving first would be refused (or, for a producer new to the broker, stored
   * ahead of the earlier one).
   */
  inflightNode: number;
  /** Transactional: AddPartitionsToTxn has added the partition to the open transaction. */
  inTxn: boolean;
  /** Transactional: waiting in `txnToAdd` for AddPartitionsToTxn. */
  addPending: boolean;
}

interface OpenBatch {
  builder: BatchBuilder;
  /** Callbacks by record index; null until a record with a callback is appended. */
  callbacks: (DeliveryCallback | undefined)[] | null;
  /** Record timestamps by index, kept only for records with a callback. */
  timestamps: number[] | null;
}

interface PendingBatch {
  state: PartitionState;
  builder: BatchBuilder;
  callbacks: (DeliveryCallback | undefined)[] | null;
  timestamps: number[] | null;
  /** The sealed bytes; null until first sent. */
  bytes: Buffer | null;
  baseSequence: number;
  count: number;
  attempts: number;
  /** Sent with its current numbers and not answered yet, nor refused: it may be in the log. */
  inDoubt: boolean;
  createdMs: number;
  lastError: Error | null;
}

type FlushWaiter = () => void;

export class Producer {
  readonly cluster: Cluster;
  private readonly acks: number;
  private readonly lingerMs: number;
  private readonly batchSize: number;
  private readonly compression: CompressionType;
  readonly idempotent: boolean;
  private readonly bufferMemory: number;
  private readonly maxInFlight: number;
  private readonly deliveryTimeoutMs: number;
  private readonly maxRequestSize: number;
  private readonly maxBlockMs: number;
  private readonly ackTimeoutMs: number;
  private readonly partitioner: Partitioner | undefined;
  private readonly partitions = new Map<string, PartitionState[]>();
  private readonly sticky = new Map<string, number>();
  private producerId = -1n;
  private producerEpoch = -1;
  private initializing: Promise<void> | null = null;
  private bufferedBytes = 0;
  /** Batches created and not yet completed; flush waits for 0. */
  private outstandingBatches = 0;
  private flushWaiters: FlushWaiter[] = [];
  private memoryWaiters: (() => void)[] = [];
  private drainScheduled = false;
  private lingerTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private flushing = 0;
  private closed = false;
  private fatalError: Error | null = null;
  /** Set when the producer is transactional. */
  private readonly txn: TransactionManager | null;
  /** Partitions new to the transaction, to add with the next AddPartitionsToTxn. */
  private txnToAdd: PartitionState[] = [];
  private txnAdding = false;
  /** Settles when the AddPartitionsToTxn in flight has answered (never rejects). */
  private txnAddDone: Promise<void> = Promise.resolve();
  /** A batch of this transaction that had been sent failed or was dropped: after the abort, the
   * epoch is bumped (its sequences may disagree with the broker's). */
  private txnSequencesUnknown = false;
  /** Idempotent, KIP-360: bump the epoch once nothing is in flight. */
  private epochBumpPending = false;

  constructor(opts: ProducerOptions) {
    this.cluster = new Cluster(opts);
    this.cluster.allowAutoTopicCreation = opts.allowAutoTopicCreation ?? true;
    const acks = opts.acks === undefined || opts.acks === 'all' ? -1 : opts.acks;
    if (acks !== -1 && acks !== 0 && acks !== 1) throw new Error(`invalid acks ${String(opts.acks)}`);
    if (opts.idempotent === true && acks !== -1) throw new Error('idempotence requires acks=all');
    const transactional = opts.transactionalId !== undefined;
    if (transactional && opts.idempotent === false) throw new Error('transactional.id requires enable.idempotence=true');
    if (transactional && acks !== -1) throw new Error('transactional.id requires acks=all');
    if (opts.transactionalId === '') throw new Error('transactional.id must not be empty');
    this.acks = acks;
    this.idempotent = opts.idempotent ?? acks === -1;
    this.lingerMs = opts.lingerMs ?? 5;
    this.batchSize = Math.max(opts.batchSize ?? 16384, 1);
    this.compression = COMPRESSION_BY_NAME[opts.compression ?? 'none'];
    if (this.compression === undefined) throw new Error(`unknown compression '${String(opts.compression)}'`);
    this.bufferMemory = opts.bufferMemory ?? 32 * 1024 * 1024;
    this.maxInFlight = opts.maxInFlightPerPartition ?? 5;
    if (this.idempotent && this.maxInFlight > 5) throw new Error('idempotence allows at most 5 in-flight requests per partition');
    this.deliveryTimeoutMs = opts.deliveryTimeoutMs ?? 120_000;
    this.maxRequestSize = opts.maxRequestSize ?? 1024 * 1024;
    this.maxBlockMs = opts.maxBlockMs ?? 60_000;
    this.ackTimeoutMs = opts.ackTimeoutMs ?? this.cluster.requestTimeoutMs;
    this.partitioner = opts.partitioner;
    const txnTimeoutMs = opts.transactionTimeoutMs ?? 60_000;
    if (!Number.isInteger(txnTimeoutMs) || txnTimeoutMs <= 0) throw new Error(`invalid transaction.timeout.ms ${txnTimeoutMs}`);
    this.txn = transactional ? new TransactionManager(this.cluster, opts.transactionalId!, txnTimeoutMs, this.maxBlockMs) : null;
  }

  /** The transactional id, or null for a producer that is not transactional. */
  get transactionalId(): string | null {
    return this.txn?.transactionalId ?? null;
  }

  /** The transactional producer's state (null when not transactional). */
  get transactionState(): TxnState | null {
    return this.txn?.state ?? null;
  }

  /** The producer id and epoch in use (-1 before the first InitProducerId). */
  get producerIdAndEpoch(): ProducerIdAndEpoch {
    return { producerId: this.producerId, producerEpoch: this.producerEpoch };
  }

  private requireTxn(call: string): TransactionManager {
    if (this.closed) throw new ClientClosedError('the producer is closed');
    if (this.txn === null) throw new TransactionStateError(`${call}: the producer has no transactional.id`);
    if (this.txn.fatalError !== null) throw this.txn.fatalError;
    return this.txn;
  }

  /**
   * Gets the transactional id's producer id and epoch from its coordinator, fencing any earlier
   * producer with the same id and aborting its open transaction. Call once, before the first
   * transaction.
   */
  async initTransactions(): Promise<void> {
    const txn = this.requireTxn('initTransactions');
    txn.transition(TxnState.Initializing);
    try {
      const pe = await txn.initProducerId(null);
      this.setProducerIdAndEpoch(pe);
    } catch (err) {
      this.txnFailure(err, TxnState.Uninitialized);
      throw err;
    }
    txn.transition(TxnState.Ready);
  }

  /** Starts a transaction: records sent from now on belong to it until commit or abort. */
  beginTransaction(): void {
    const txn = this.requireTxn('beginTransaction');
    if (txn.state === TxnState.Uninitialized) throw new TransactionStateError('beginTransaction: call initTransactions() first');
    txn.transition(TxnState.InTransaction);
    txn.started = false;
    txn.abortableError = null;
  }

  /**
   * Adds a consumer group's offsets to the transaction: they become the group's committed offsets
   * when the transaction commits (and are dropped if it aborts). `group` is the consumer's
   * groupMetadata() (fencing zombie members) or just the group id.
   */
  async sendOffsetsToTransaction(offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata | string): Promise<void> {
    const txn = this.requireTxn('sendOffsetsToTransaction');
    if (txn.state !== TxnState.InTransaction) {
      txn.checkCanSend();
      throw new TransactionStateError(`sendOffsetsToTransaction is not allowed in state ${txn.state}`);
    }
    const meta = typeof group === 'string' ? { groupId: group, generationId: -1, memberId: '', groupInstanceId: null } : group;
    try {
      await txn.sendOffsets(this.producerIdAndEpoch, offsets, meta);
    } catch (err) {
      this.txnFailure(err, null);
      throw err;
    }
  }

  /**
   * Sends every record of the transaction, then commits it. Throws if a record or an offset
   * commit of the transaction failed: the transaction must then be aborted.
   */
  async commitTransaction(): Promise<void> {
    const txn = this.requireTxn('commitTransaction');
    const mustAbort = (cause: Error): KafkaClientError =>
      new KafkaClientError(ErrorCode.TRANSACTION_ABORTABLE, `Cannot commit transaction: ${cause.message}; abort it`, { cause, where: `transactional id ${txn.transactionalId}` });
    if (txn.state === TxnState.AbortableError && txn.abortableError !== null) throw mustAbort(txn.abortableError);
    txn.transition(TxnState.Committing);
    await this.flush().catch(() => undefined); // failures are the transaction's abortable error
    await this.txnAddDone;
    if (txn.fatalError !== null) throw txn.fatalError;
    if (txn.abortableError !== null) {
      txn.setAbortable(txn.abortableError);
      throw mustAbort(txn.abortableError);
    }
    if (txn.started) {
      try {
        await txn.endTxn(this.producerIdAndEpoch, true);
      } catch (err) {
        // A retriable failure that ran out of time: the outcome is unknown; commit may be retried.
        this.txnFailure(err, isRetriableError(err) ? TxnState.InTransaction : null);
        throw err;
      }
    }
    this.endOfTransaction();
    txn.transition(TxnState.Ready);
  }

  /** Aborts the transaction: records not yet sent are dropped, those written are aborted. */
  async abortTransaction(): Promise<void> {
    const txn = this.requireTxn('abortTransaction');
    txn.transition(TxnState.Aborting);
    // drain() drops what is not yet sent; what is in flight answers first.
    for (const states of this.partitions.values()) for (const s of states) if (s !== undefined) this.closeOpenBatch(s);
    this.scheduleDrain();
    await this.flush().catch(() => undefined);
    await this.txnAddDone; // an add answered after EndTxn would open a transaction again
    if (txn.fatalError !== null) throw txn.fatalError;
    try {
      if (txn.started) await txn.endTxn(this.producerIdAndEpoch, false);
      if (this.txnSequencesUnknown) {
        this.setProducerIdAndEpoch(await txn.initProducerId(this.producerIdAndEpoch));
        this.txnSequencesUnknown = false;
      }
    } catch (err) {
      this.txnFailure(err, null);
      if (txn.state === TxnState.Aborting) txn.state = TxnState.AbortableError; // abort may be retried
      throw err;
    }
    this.endOfTransaction();
    txn.abortableError = null;
    txn.transition(TxnState.Ready);
  }

  /** Fatal errors make the producer unusable; others make the transaction abortable, or (when a
   * retriable failure ran out of time) go back to `retryState`. */
  private txnFailure(err: unknown, retryState: TxnState | null): void {
    const txn = this.txn!;
    const e = err instanceof Error ? err : new Error(String(err));
    if (e instanceof ProducerFencedError) this.setFatal(e);
    else if (retryState !== null) txn.state = retryState;
    else txn.setAbortable(e);
  }

  private setFatal(err: Error): void {
    this.txn?.setFatal(err);
    this.fatalError ??= err;
    this.fail(err);
  }

  /** Every partition leaves the transaction. */
  private endOfTransaction(): void {
    for (const states of this.partitions.values()) {
      for (const s of states) {
        if (s === undefined) continue;
        s.inTxn = false;
        s.addPending = false;
      }
    }
    this.txnToAdd = [];
  }

  private setProducerIdAndEpoch(pe: ProducerIdAndEpoch): void {
    this.producerId = pe.producerId;
    this.producerEpoch = pe.producerEpoch;
    // A new producer id or epoch starts every partition's sequence at 0.
    for (const states of this.partitions.values()) {
      for (const s of states) {
        if (s === undefined) continue;
        s.nextSequence = 0;
        s.ackedSequence = 0;
      }
    }
  }

  /** Adds the partitions new to the transaction, one request at a time, then sends their batches. */
  private addPartitionsToTxn(): void {
    const txn = this.txn!;
    // Nothing is added once the transaction is failing or ending: its batches are being dropped.
    if (this.txnAdding || this.txnToAdd.length === 0 || (txn.state !== TxnState.InTransaction && txn.state !== TxnState.Committing)) return;
    const batch = this.txnToAdd.splice(0, MAX_PARTITIONS_PER_ADD);
    this.txnAdding = true;
    this.txnAddDone = txn
      .addPartitions(
        this.producerIdAndEpoch,
        batch.map((s) => ({ topic: s.topic, partition: s.partition })),
      )
      .then(
        () => {
          for (const s of batch) {
            if (!s.addPending) continue; // the transaction ended meanwhile
            s.addPending = false;
            s.inTxn = true;
          }
        },
        (err: unknown) => {
          for (const s of batch) s.addPending = false;
          this.txnFailure(err, null);
        },
      )
      .finally(() => {
        this.txnAdding = false;
        this.addPartitionsToTxn();
        this.scheduleDrain();
      });
  }

  /** Bytes held by unsent and unacknowledged batches. */
  get bufferedBytesNow(): number {
    return this.bufferedBytes;
  }

  /**
   * Appends a record. Returns undefined, or, when buffered bytes exceed bufferMemory, a promise
   * that resolves once there is room again: await it to apply back-pressure. The record itself
   * is always accepted. `callback` (optional) receives the delivery result.
   */
  produce(record: ProducerRecord, callback?: DeliveryCallback): Promise<void> | undefined {
    if (this.closed) throw new ClientClosedError('the producer is closed');
    this.txn?.checkCanSend();
    return this.enqueue(record, callback);
  }

  /** produce() once the record is accepted: it belongs to the transaction open now, even when it
   * is appended only after its topic's metadata arrives. */
  private enqueue(record: ProducerRecord, callback: DeliveryCallback | undefined): Promise<void> | undefined {
    const topic = this.cluster.cachedTopic(record.topic);
    if (topic === undefined) {
      // Metadata needed first: the record is appended once it is known.
      this.outstandingBatches++; // keeps flush() (and so commitTransaction) waiting for it
      return this.waitForTopic(record.topic)
        .then(
          () => {
            this.outstandingBatches--;
            const gone = this.closed ? new ClientClosedError('the producer is closed') : this.fatalError;
            if (gone === null) return this.enqueue(record, callback);
            this.checkFlushed();
            if (callback === undefined) throw gone;
            callback(gone, null);
            return undefined;
          },
          (err: unknown) => {
            this.outstandingBatches--;
            this.checkFlushed();
            const e = err instanceof Error ? err : new Error(String(err));
            this.txn?.setAbortable(e); // a record of the transaction is lost: it cannot commit
            if (callback !== undefined) callback(e, null);
            else throw e;
          },
        );
    }
    this.append(topic, record, callback);
    if (this.bufferedBytes < this.bufferMemory) return undefined;
    return new Promise((resolve) => this.memoryWaiters.push(resolve));
  }

  /**
   * Waits for a topic's metadata, retrying every retriable failure (an unreachable broker
   * included) until max.block.ms, or delivery.timeout.ms if shorter: a record cannot be delivered
   * later than that anyway. Fails with what kept failing, as Kafka's "not present in metadata".
   */
  private async waitForTopic(topic: string): Promise<TopicMetadata> {
    const waitMs = Math.min(this.maxBlockMs, this.deliveryTimeoutMs);
    const signal = AbortSignal.timeout(waitMs);
    let lastError: unknown = null;
    try {
      return await this.cluster.retry(
        () =>
          this.cluster.topic(topic, signal).catch((err: unknown) => {
            if (!(err instanceof AbortError)) lastError = err;
            throw err;
          }),
        signal,
        Number.MAX_SAFE_INTEGER,
      );
    } catch (err) {
      if (!(err instanceof AbortError)) throw err;
      const message = `Topic ${topic} not present in metadata after ${waitMs} ms`;
      // The broker answered that the topic does not exist: say so with its code.
      if (lastError instanceof KafkaClientError && lastError.code === ErrorCode.UNKNOWN_TOPIC_OR_PARTITION) {
        throw new KafkaClientError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, message, { cause: lastError });
      }
      throw new DeliveryTimeoutError(lastError === null ? message : `${message} (last error: ${errorText(lastError)})`, lastError === null ? {} : { cause: lastError });
    }
  }

  /** Sends one record and resolves with its offset once acknowledged. */
  send(record: ProducerRecord): Promise<RecordMetadata> {
    return new Promise((resolve, reject) => {
      try {
        const wait = this.produce(record, (err, meta) => (err !== null ? reject(err) : resolve(meta!)));
        wait?.catch(reject);
      } catch (err) {
        reject(err);
      }
    });
  }

  /** Sends records (one promise for all), waiting for buffer room as needed. */
  async sendBatch(records: readonly ProducerRecord[]): Promise<RecordMetadata[]> {
    const results: Promise<RecordMetadata>[] = [];
    for (const r of records) {
      let wait: Promise<void> | undefined;
      results.push(
        new Promise<RecordMetadata>((resolve, reject) => {
          wait = this.produce(r, (err, meta) => (err !== null ? reject(err) : resolve(meta!)));
        }),
      );
      if (wait !== undefined) await wait;
    }
    return Promise.all(results);
  }

  private stateFor(topic: TopicMetadata, partition: number): PartitionState {
    let states = this.partitions.get(topic.name);
    if (states === undefined) {
      states = [];
      this.partitions.set(topic.name, states);
    }
    let s = states[partition];
    if (s === undefined) {
      s = {
        topic: topic.name,
        partition,
        open: null,
        queue: [],
        inflight: [],
        failed: [],
        nextSequence: 0,
        ackedSequence: 0,
        holding: false,
        retryAtMs: 0,
        inflightNode: -1,
        inTxn: false,
        addPending: false,
      };
      states[partition] = s;
    }
    return s;
  }

  private choosePartition(topic: TopicMetadata, record: ProducerRecord): number {
    const n = topic.partitions.length;
    if (record.partition !== undefined) {
      if (!Number.isInteger(record.partition) || record.partition < 0 || record.partition >= n) {
        throw new KafkaClientError(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, `partition ${record.partition} of ${n}`, { where: `topic ${topic.name}` });
      }
      return record.partition;
    }
    const key = record.key ?? null;
    const keyBytes = key === null ? null : typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
    if (this.partitioner !== undefined) {
      const p = this.partitioner(topic.name, keyBytes, n);
      if (p !== undefined) return p;
    }
    if (keyBytes !== null) return partitionForKey(keyBytes, n);
    let p = this.sticky.get(topic.name);
    if (p === undefined || p >= n) {
      p = this.nextSticky(topic, -1);
      this.sticky.set(topic.name, p);
    }
    return p;
  }

  /** A random partition with a leader, other than `previous` when there is a choice. */
  private nextSticky(topic: TopicMetadata, previous: number): number {
    const candidates = topic.partitions.filter((p) => p.leader >= 0 && p.partition !== previous);
    const pool = candidates.length > 0 ? candidates : topic.partitions;
    return pool[Math.floor(Math.random() * pool.length)]!.partition;
  }

  private append(topic: TopicMetadata, record: ProducerRecord, callback: DeliveryCallback | undefined): void {
    const partition = this.choosePartition(topic, record);
    const state = this.stateFor(topic, partition);
    if (this.txn !== null && !state.inTxn && !state.addPending) {
      state.addPending = true;
      this.txnToAdd.push(state);
      this.addPartitionsToTxn();
    }
    const timestamp = record.timestamp ?? Date.now();
    const headers = normalizeHeaders(record.headers);
    const key = record.key ?? null;
    let open = state.open;
    if (open !== null && !open.builder.tryAppend(key, record.value, headers, timestamp, this.batchSize)) {
      this.closeOpenBatch(state);
      open = null;
    }
    if (open === null) {
      const builder = new BatchBuilder(this.batchSize, Date.now());
      open = { builder, callbacks: null, timestamps: null };
      state.open = open;
      this.bufferedBytes += builder.capacity;
      this.outstandingBatches++;
      const before = builder.capacity;
      builder.tryAppend(key, record.value, headers, timestamp, this.batchSize);
      this.bufferedBytes += builder.capacity - before; // grown for an oversized record
      this.armLinger();
    }
    if (callback !== undefined) {
      open.callbacks ??= [];
      open.timestamps ??= [];
      open.callbacks[open.builder.count - 1] = callback;
      open.timestamps[open.builder.count - 1] = timestamp;
    }
    if (open.builder.sizeInBytes >= this.batchSize) this.closeOpenBatch(state);
  }

  /** Moves a partition's open batch to its send queue. */
  private closeOpenBatch(state: PartitionState): void {
    const open = state.open;
    if (open === null) return;
    state.open = null;
    state.queue.push({
      state,
      builder: open.builder,
      callbacks: open.callbacks,
      timestamps: open.timestamps,
      bytes: null,
      baseSequence: -1,
      count: open.builder.count,
      attempts: 0,
      inDoubt: false,
      createdMs: open.builder.createdMs,
      lastError: null,
    });
    // Sticky partitioning moves on once a batch of the sticky partition is complete.
    if (this.sticky.get(state.topic) === state.partition) {
      const t = this.cluster.cachedTopic(state.topic);
      if (t !== undefined) this.sticky.set(state.topic, this.nextSticky(t, state.partition));
    }
    this.scheduleDrain();
  }

  private armLinger(): void {
    // linger.ms=0 still closes the batch on a timer: records appended in the same tick share it.
    if (this.lingerTimer !== null) return;
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = null;
      this.closeLingered();
    }, this.lingerMs);
  }

  /** Closes open batches that have lingered long enough, and re-arms for the rest. */
  private closeLingered(): void {
    const now = Date.now();
    let earliest = Infinity;
    for (const states of this.partitions.values()) {
      for (const s of states) {
        if (s === undefined || s.open === null) continue;
        const due = s.open.builder.createdMs + this.lingerMs;
        if (due <= now || this.flushing > 0) this.closeOpenBatch(s);
        else earliest = Math.min(earliest, due);
      }
    }
    if (earliest !== Infinity && this.lingerTimer === null) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        this.closeLingered();
      }, Math.max(1, earliest - now));
    }
  }

  private scheduleDrain(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      this.drain();
    });
  }

  private ensureProducerId(): boolean {
    if (this.txn !== null) return this.producerId >= 0n; // set by initTransactions()
    if (this.epochBumpPending && this.producerId >= 0n) {
      // KIP-360: only once no batch is in doubt (drain meanwhile resends only those, unchanged).
      if (this.hasBatchesInDoubt()) return true;
      this.bumpIdempotentEpoch();
      if (this.producerId >= 0n) return true;
    }
    if (!this.idempotent || this.producerId >= 0n) return true;
    if (this.initializing === null) {
      this.initializing = this.initProducerId().then(
        () => {
          this.initializing = null;
          this.scheduleDrain();
        },
        (err: unknown) => {
          this.initializing = null;
          this.fail(err instanceof Error ? err : new Error(String(err)));
        },
      );
    }
    return false;
  }

  /** Batches sent whose outcome is still unknown: in flight, waiting to be requeued, or queued. */
  private hasBatchesInDoubt(): boolean {
    for (const states of this.partitions.values()) {
      for (const s of states) {
        if (s !== undefined && (s.inflight.length > 0 || s.failed.length > 0 || s.queue.some((b) => b.inDoubt))) return true;
      }
    }
    return false;
  }

  /** The one place the idempotent producer's epoch goes up: same id, epoch + 1, every partition
   * back to sequence 0; an exhausted epoch leaves no id, so the next drain asks for a new one. */
  private bumpIdempotentEpoch(): void {
    this.epochBumpPending = false;
    if (this.producerEpoch >= 0x7fff) this.producerId = -1n;
    else this.setProducerIdAndEpoch({ producerId: this.producerId, producerEpoch: this.producerEpoch + 1 });
  }

  private async initProducerId(): Promise<void> {
    const res = await this.cluster.retry(async () => {
      const r = await this.cluster.sendAny({ request: InitProducerIdRequest, response: InitProducerIdResponse }, () => {
        const req = InitProducerIdRequest.defaults();
        req.transactionalId = null;
        req.transactionTimeoutMs = 60_000;
        return req;
      });
      if (r.errorCode !== ErrorCode.NONE) throw new KafkaClientError(r.errorCode, 'InitProducerId failed');
      return r;
    }, undefined, 1000);
    this.setProducerIdAndEpoch(res);
    this.epochBumpPending = false;
  }

  /** Fails every pending record; the producer stays usable only after a new producer id. */
  private fail(err: Error): void {
    for (const states of this.partitions.values()) {
      for (const s of states) {
        if (s === undefined) continue;
        this.closeOpenBatch(s);
        for (const b of s.queue.splice(0)) this.completeBatch(b, err, -1n, -1);
      }
    }
  }

  /** Sends what can be sent now: one batch per partition per request, grouped by leader. */
  private drain(): void {
    if (this.fatalError !== null) return;
    const now = Date.now();
    // Expiry first: batches waiting for a producer id, a leader or a reachable broker must still
    // fail once delivery.timeout.ms has passed.
    this.expireQueued(now);
    const txnState = this.txn?.state;
    if (txnState === TxnState.AbortableError || txnState === TxnState.Aborting) this.abortUndrained();
    if (!this.ensureProducerId()) return;
    const byNode = new Map<number, PendingBatch[][]>();
    let needMetadata = false;
    let nextRetryMs = Infinity;
    for (const states of this.partitions.values()) {
      for (const s of states) {
        if (s === undefined || s.queue.length === 0 || s.holding) continue;
        if (this.txn !== null && !s.inTxn) continue; // sent once AddPartitionsToTxn has added it
        if (s.retryAtMs > now) {
          nextRetryMs = Math.min(nextRetryMs, s.retryAtMs);
          continue;
        }
        const topic = this.cluster.cachedTopic(s.topic);
        const leader = topic?.partitions[s.partition]?.leader ?? -1;
        if (leader < 0) {
          needMetadata = true;
          continue;
        }
        if (s.inflight.length > 0 && s.inflightNode !== leader) continue; // sent again once they answer
        s.inflightNode = leader;
        let rounds = byNode.get(leader);
        if (rounds === undefined) byNode.set(leader, (rounds = []));
        // Round i gets this partition's i-th batch, so each request has one batch per partition.
        let round = 0;
        while (s.queue.length > 0 && s.inflight.length < this.maxInFlight) {
          // An epoch bump is waiting for the batches in doubt (at the head): the rest wait for it.
          if (this.epochBumpPending && !s.queue[0]!.inDoubt) break;
          const b = s.queue.shift()!;
          this.prepare(b);
          s.inflight.push(b);
          (rounds[round] ??= []).push(b);
          round++;
        }
      }
    }
    for (const [node, rounds] of byNode) {
      for (const batches of rounds) {
        // Split by max.request.size (always at least one batch per request).
        let chunk: PendingBatch[] = [];
        let bytes = 0;
        for (const b of batches) {
          if (chunk.length > 0 && bytes + b.bytes!.length > this.maxRequestSize) {
            this.sendRequest(node, chunk);
            chunk = [];
            bytes = 0;
          }
          chunk.push(b);
          bytes += b.bytes!.length;
        }
        if (chunk.length > 0) this.sendRequest(node, chunk);
      }
    }
    if (needMetadata) this.refreshThenDrain();
    if (nextRetryMs !== Infinity && this.retryTimer === null) {
      this.retryTimer = setTimeout(() => {
        this.retryTimer = null;
        this.drain();
      }, Math.max(1, nextRetryMs - now));
    }
  }

  /** A sent batch's outcome is unknown, so its partition's sequence may disagree with the
   * broker's: an idempotent producer bumps its epoch once nothing is in flight (KIP-360, as
   * Kafka's maybeResolveSequences does), a transactional one after the abort this failure forces
   * (InitProducerId with its current id and epoch). */
  private forgetSequences(): void {
    if (this.txn !== null) this.txnSequencesUnknown = true;
    else this.epochBumpPending = true;
  }

  /** The transaction is failing or aborting: batches not yet sent are dropped (Kafka's
   * abortUndrainedBatches); in-flight ones answer first. */
  private abortUndrained(): void {
    const cause = this.txn!.abortableError;
    const err = new TransactionAbortedError(cause === null ? 'the transaction is being aborted' : `the transaction failed (${cause.message}) and is being aborted`, cause === null ? {} : { cause });
    for (const states of this.partitions.values()) {
      for (const s of states) {
        if (s === undefined) continue;
        this.closeOpenBatch(s);
        for (const b of s.queue.splice(0)) this.completeBatch(b, err, -1n, -1);
      }
    }
  }

  /**
   * Fails queued batches older than delivery.timeout.ms (in-flight ones are bounded by their
   * request timeout and expire when they answer) and arms a timer for the next one due, so
   * expiry does not depend on anything else happening.
   */
  private expireQueued(now: number): void {
    let nextDue = Infinity;
    for (const states of this.partitions.values()) {
      for (const s of states) {
        if (s === undefined || s.queue.length === 0) continue;
        let kept = 0;
        for (const b of s.queue) {
          if (now - b.createdMs >= this.deliveryTimeoutMs) {
            // A batch that was sent may have been written: its sequence is no longer known to
            // match the broker's, so a new epoch starts the partitions afresh at sequence 0.
            if (this.idempotent && b.inDoubt) this.forgetSequences();
            this.completeBatch(b, this.expiryError(b, now), -1n, -1);
          } else {
            s.queue[kept++] = b;
            nextDue = Math.min(nextDue, b.createdMs + this.deliveryTimeoutMs);
          }
        }
        s.queue.length = kept;
      }
    }
    if (nextDue !== Infinity && (this.expiryTimer === null || nextDue < this.expiryDueMs)) {
      if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
      this.expiryDueMs = nextDue;
      this.expiryTimer = setTimeout(() => {
        this.expiryTimer = null;
        this.drain();
      }, Math.max(1, nextDue - now));
    }
  }

  private expiryTimer: NodeJS.Timeout | null = null;
  private expiryDueMs = 0;

  /** Kafka's wording for an expired batch, with the error that kept it from being delivered. */
  private expiryError(b: PendingBatch, now: number): DeliveryTimeoutError {
    const last = b.lastError;
    const message = `Expiring ${b.count} record(s) for ${b.state.topic}-${b.state.partition}:${now - b.createdMs} ms has passed since batch creation`;
    return new DeliveryTimeoutError(last === null ? message : `${message} (last error: ${last.message})`, last === null ? {} : { cause: last });
  }

  private refreshing = false;
  private refreshThenDrain(): void {
    if (this.refreshing) return;
    this.refreshing = true;
    this.cluster.invalidate();
    void sleep(this.cluster.backoff(0))
      .then(() => this.cluster.refreshMetadata())
      .catch(() => undefined)
      .then(() => {
        this.refreshing = false;
        if (!this.closed || this.outstandingBatches > 0) this.scheduleDrain();
      });
  }

  /** Seals a batch on its first send and numbers it; renumbers a retried one if needed. */
  private prepare(b: PendingBatch): void {
    const s = b.state;
    // Resent unchanged while an epoch bump waits: its first attempt may be in the log.
    const unchanged = this.epochBumpPending && b.inDoubt;
    const seq = !this.idempotent ? -1 : unchanged ? b.baseSequence : s.nextSequence;
    if (this.idempotent && !unchanged) s.nextSequence = nextSequence(s.nextSequence, b.count);
    if (b.bytes === null) {
      b.bytes = b.builder.seal({
        compression: this.compression,
        producerId: this.producerId,
        producerEpoch: this.producerEpoch,
        baseSequence: seq,
        transactional: this.txn !== null,
      });
    } else if (this.idempotent && (b.baseSequence !== seq || b.bytes.readBigInt64BE(43) !== this.producerId || b.bytes.readInt16BE(51) !== this.producerEpoch)) {
      setProducerFields(b.bytes, this.producerId, this.producerEpoch, seq);
    }
    b.baseSequence = seq;
    b.attempts++;
    b.inDoubt = true;
  }

  private sendRequest(node: number, batches: PendingBatch[]): void {
    const byTopic = new Map<string, ProduceRequestTopicProduceData>();
    for (const b of batches) {
      let t = byTopic.get(b.state.topic);
      if (t === undefined) byTopic.set(b.state.topic, (t = { name: b.state.topic, topicId: ZERO_UUID, partitionData: [] }));
      t.partitionData.push({ index: b.state.partition, records: b.bytes });
    }
    const build = (): ProduceRequestData => ({
      transactionalId: this.txn?.transactionalId ?? null,
      acks: this.acks,
      timeoutMs: this.ackTimeoutMs,
      topicData: [...byTopic.values()],
    });
    const expectResponse = this.acks !== 0;
    this.cluster
      .send(node, { request: ProduceRequest, response: ProduceResponse }, build, {
        expectResponse,
        timeoutMs: this.cluster.requestTimeoutMs + (this.acks === -1 ? this.ackTimeoutMs : 0),
      })
      .then(
        (res) => (expectResponse ? this.onResponse(batches, res) : this.onNoAck(batches)),
        (err: unknown) => this.onRequestError(batches, err instanceof Error ? err : new Error(String(err))),
      );
  }

  private onNoAck(batches: PendingBatch[]): void {
    for (const b of batches) {
      removeInflight(b);
      this.completeBatch(b, null, -1n, -1);
    }
    this.scheduleDrain();
  }

  private onResponse(batches: PendingBatch[], res: ProduceResponseData): void {
    const results = new Map<string, { errorCode: number; baseOffset: bigint; logAppendTimeMs: bigint; errorMessage: string | null }>();
    for (const t of res.responses) for (const p of t.partitionResponses) results.set(`${t.name}\0${p.index}`, p);
    for (const b of batches) {
      const s = b.state;
      const r = results.get(`${s.topic}\0${s.partition}`);
      const code = r === undefined ? ErrorCode.UNKNOWN_SERVER_ERROR : r.errorCode;
      if (code === ErrorCode.NONE || code === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
        removeInflight(b);
        if (this.idempotent) s.ackedSequence = nextSequence(b.baseSequence, b.count);
        this.completeBatch(b, null, r!.baseOffset, Number(r!.logAppendTimeMs));
      } else {
        const msg = r?.errorMessage ?? (r === undefined ? 'no result for the partition in the response' : null);
        this.onBatchError(b, new KafkaClientError(code, msg ?? undefined, { where: `Produce to ${s.topic}-${s.partition}` }));
      }
    }
    this.scheduleDrain();
  }

  private onRequestError(batches: PendingBatch[], err: Error): void {
    for (const b of batches) this.onBatchError(b, err);
    this.scheduleDrain();
  }

  private onBatchError(b: PendingBatch, err: Error): void {
    const s = b.state;
    removeInflight(b);
    const code = err instanceof KafkaClientError ? err.code : -1;
    // With a failure already in progress, or an earlier batch not yet acknowledged, sequence
    // errors are the expected echo of that gap, not a sign that the broker lost our state:
    // starting over at a new epoch (sequence 0) would then write again a batch whose answer was lost.
    const sequenceError = code === ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER || code === ErrorCode.UNKNOWN_PRODUCER_ID;
    const echo = sequenceError && (s.holding || (this.idempotent && b.baseSequence !== s.ackedSequence));
    if (this.txn !== null && isFatalTxnError(code)) {
      // Another producer with our transactional id has a newer epoch: we are fenced.
      const fenced = new ProducerFencedError(code, (err as KafkaClientError).message, { cause: err });
      this.completeBatch(b, fenced, -1n, -1);
      this.setFatal(fenced);
      return;
    }
    // In a transaction, lost state fails the batch (the transaction aborts, then the epoch is bumped).
    const lostState = !echo && this.idempotent && this.txn === null && (sequenceError || code === ErrorCode.INVALID_PRODUCER_EPOCH);
    const retriable = echo || lostState || isRetriableError(err);
    if ((sequenceError || code === ErrorCode.INVALID_PRODUCER_EPOCH) && (lostState || this.epochBumpPending)) {
      // Refused: not in the log, and neither is any other sent batch of the partition awaiting an
      // answer (an earlier one written would have made this one follow; a later one cannot follow
      // this one). They wait for the epoch bump and go with new numbers.
      b.inDoubt = false;
      for (const x of s.inflight) x.inDoubt = false;
      for (const x of s.failed) x.inDoubt = false;
      for (const x of s.queue) x.inDoubt = false;
    }
    s.holding = true;
    const now = Date.now();
    if (retriable && now - b.createdMs < this.deliveryTimeoutMs && !this.closedHard) {
      b.lastError = err;
      s.failed.push(b);
      if (lostState) this.forgetSequences(); // the broker forgot us: a new epoch (KIP-360)
      if (isMetadataError(code) || lostState) this.cluster.invalidate();
    } else if (retriable && !this.closedHard) {
      // Out of time: a timeout (Kafka's TimeoutException), not the last retriable error.
      b.lastError = err;
      if (this.idempotent) this.forgetSequences(); // the outcome of this batch is unknown
      this.completeBatch(b, this.expiryError(b, now), -1n, -1);
    } else {
      this.completeBatch(b, err, -1n, -1);
    }
    if (s.inflight.length === 0) this.recover(s, b.attempts);
  }

  /** All in-flight requests of a partition have answered after a failure: requeue and resend. */
  private recover(s: PartitionState, attempts: number): void {
    s.failed.sort((a, b) => a.baseSequence - b.baseSequence);
    s.queue.unshift(...s.failed);
    s.failed = [];
    // Renumber from what the broker has acknowledged; batches keep their numbers unless one
    // before them was dropped.
    s.nextSequence = s.ackedSequence;
    s.holding = false;
    s.retryAtMs = Date.now() + this.cluster.backoff(Math.max(0, attempts - 1));
    this.refreshThenDrain();
  }

  private completeBatch(b: PendingBatch, err: Error | null, baseOffset: bigint, logAppendTimeMs: number): void {
    const cbs = b.callbacks;
    if (cbs !== null) {
      const useAppendTime = logAppendTimeMs >= 0;
      for (let i = 0; i < cbs.length; i++) {
        const cb = cbs[i];
        if (cb === undefined) continue;
        if (err !== null) {
          cb(err, null);
        } else {
          cb(null, {
            topic: b.state.topic,
            partition: b.state.partition,
            offset: baseOffset < 0n ? -1n : baseOffset + BigInt(i),
            timestamp: useAppendTime ? logAppendTimeMs : b.timestamps![i]!,
          });
        }
      }
    }
    if (err !== null && cbs === null) this.unreportedErrors.push(err);
    if (err !== null && this.txn !== null) {
      if (b.attempts > 0) this.txnSequencesUnknown = true;
      if (!(err instanceof TransactionAbortedError)) this.txn.setAbortable(err);
    }
    this.bufferedBytes -= b.builder.capacity;
    this.outstandingBatches--;
    if (this.bufferedBytes < this.bufferMemory && this.memoryWaiters.length > 0) {
      const waiters = this.memoryWaiters;
      this.memoryWaiters = [];
      for (const w of waiters) w();
    }
    this.checkFlushed();
  }

  /** Errors of records sent without a callback; flush() rejects with the first one. */
  private unreportedErrors: Error[] = [];
  private closedHard = false;

  private checkFlushed(): void {
    if (this.outstandingBatches === 0 && this.flushWaiters.length > 0) {
      const waiters = this.flushWaiters;
      this.flushWaiters = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Sends every buffered record now and resolves when all are acknowledged. Rejects with the
   * first delivery error of records produced without a callback since the last flush.
   */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      for (const states of this.partitions.values()) for (const s of states) if (s !== undefined) this.closeOpenBatch(s);
      this.scheduleDrain();
      if (this.outstandingBatches > 0) await new Promise<void>((resolve) => this.flushWaiters.push(resolve));
    } finally {
      this.flushing--;
    }
    const errors = this.unreportedErrors;
    this.unreportedErrors = [];
    if (errors.length > 0) throw errors[0]!;
  }

  /** Flushes (unless `force`), then closes connections. */
  async close(opts: { force?: boolean } = {}): Promise<void> {
    if (this.closed) return;
    try {
      if (opts.force !== true) await this.flush();
    } finally {
      this.closed = true;
      this.closedHard = true;
      if (this.lingerTimer !== null) clearTimeout(this.lingerTimer);
      if (this.retryTimer !== null) clearTimeout(this.retryTimer);
      if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
      this.fail(new ClientClosedError('the producer was closed'));
      await this.cluster.close();
    }
  }
}

/** Sequences wrap from Int32.MAX to 0, as Kafka's do. */
function nextSequence(seq: number, count: number): number {
  const n = seq + count;
  return n > 0x7fffffff ? n - 0x80000000 : n;
}

function removeInflight(b: PendingBatch): void {
  const list = b.state.inflight;
  const i = list.indexOf(b);
  if (i >= 0) list.splice(i, 1);
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function normalizeHeaders(h: ProducerRecord['headers']): HeaderEntry[] | undefined {
  if (h === undefined) return undefined;
  if (Array.isArray(h)) return h;
  const out: HeaderEntry[] = [];
  for (const [key, value] of Object.entries(h as Readonly<Record<string, Bytes>>)) out.push({ key, value });
  return out;
}

