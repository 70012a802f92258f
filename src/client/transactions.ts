// The transactional producer's side of Kafka's transaction protocol (KIP-98): the state of the
// producer's transactions and the requests to the transaction coordinator (found with
// FindCoordinator key type 1) and to the group coordinator. The producer owns the batches; this
// owns the state and the coordinator conversation. Requests it sends:
//   InitProducerId(transactionalId[, producerId, epoch])  initTransactions; an epoch bump after an
//                                                         abort whose batches' outcome is unknown
//   AddPartitionsToTxn v0-3                               before the first batch to a partition
//   AddOffsetsToTxn, TxnOffsetCommit                      sendOffsetsToTransaction
//   EndTxn v0-4                                           commit / abort, after the batches are done
// Retriable answers (COORDINATOR_LOAD_IN_PROGRESS, CONCURRENT_TRANSACTIONS, NOT_COORDINATOR, a
// lost connection) are retried within max.block.ms, looking the coordinator up again when it
// moved. PRODUCER_FENCED, INVALID_PRODUCER_EPOCH and TRANSACTIONAL_ID_AUTHORIZATION_FAILED are
// fatal (ProducerFencedError); other failures are abortable: the transaction must be aborted.
//
// States and the calls that move between them (anything else throws TransactionStateError):
//
//   Uninitialized --initTransactions--> Initializing --ok--> Ready
//   Ready --beginTransaction--> InTransaction
//   InTransaction --commitTransaction--> Committing --ok--> Ready
//   InTransaction | AbortableError --abortTransaction--> Aborting --ok--> Ready
//   InTransaction | Committing --a send, add or offset commit failed--> AbortableError
//   Initializing | Committing | Aborting --a retriable failure gave up--> the state before the call
//   any --fatal error--> FatalError (final)
import { ErrorCode } from '../protocol/errors.js';
import { AddOffsetsToTxnRequest } from '../protocol/messages/AddOffsetsToTxnRequest.js';
import { AddOffsetsToTxnResponse } from '../protocol/messages/AddOffsetsToTxnResponse.js';
import { AddPartitionsToTxnRequest } from '../protocol/messages/AddPartitionsToTxnRequest.js';
import { AddPartitionsToTxnResponse } from '../protocol/messages/AddPartitionsToTxnResponse.js';
import { EndTxnRequest } from '../protocol/messages/EndTxnRequest.js';
import { EndTxnResponse } from '../protocol/messages/EndTxnResponse.js';
import { InitProducerIdRequest } from '../protocol/messages/InitProducerIdRequest.js';
import { InitProducerIdResponse } from '../protocol/messages/InitProducerIdResponse.js';
import { TxnOffsetCommitRequest } from '../protocol/messages/TxnOffsetCommitRequest.js';
import { TxnOffsetCommitResponse } from '../protocol/messages/TxnOffsetCommitResponse.js';
import type { TopicPartition } from './admin.js';
import type { Cluster } from './cluster.js';
import { Coordinators, KEY_TYPE_GROUP, KEY_TYPE_TRANSACTION } from './coordinator.js';
import { AbortError, KafkaClientError, ProducerFencedError, TransactionStateError, isRetriableError } from './errors.js';
import { sleep } from './retry.js';

export enum TxnState {
  Uninitialized = 'Uninitialized',
  Initializing = 'Initializing',
  Ready = 'Ready',
  InTransaction = 'InTransaction',
  Committing = 'Committing',
  Aborting = 'Aborting',
  AbortableError = 'AbortableError',
  FatalError = 'FatalError',
}

const TRANSITIONS: Readonly<Record<TxnState, readonly TxnState[]>> = {
  [TxnState.Uninitialized]: [TxnState.Initializing],
  [TxnState.Initializing]: [TxnState.Ready, TxnState.Uninitialized],
  [TxnState.Ready]: [TxnState.InTransaction],
  [TxnState.InTransaction]: [TxnState.Committing, TxnState.Aborting, TxnState.AbortableError],
  [TxnState.Committing]: [TxnState.Ready, TxnState.AbortableError, TxnState.InTransaction],
  [TxnState.Aborting]: [TxnState.Ready, TxnState.AbortableError],
  [TxnState.AbortableError]: [TxnState.Aborting],
  [TxnState.FatalError]: [],
};

/** The group a consumer belongs to, for sendOffsetsToTransaction (Kafka's ConsumerGroupMetadata):
 * with the generation and member id the coordinator fences zombie members (TxnOffsetCommit v3+). */
export interface ConsumerGroupMetadata {
  groupId: string;
  generationId: number;
  memberId: string;
  groupInstanceId: string | null;
}

export interface OffsetToCommit extends TopicPartition {
  /** The next offset to read (the last processed record's offset + 1). */
  offset: bigint;
  metadata?: string;
  leaderEpoch?: number;
}

export interface ProducerIdAndEpoch {
  producerId: bigint;
  producerEpoch: number;
}

/** Codes after which the producer cannot go on (another instance took over, or not allowed). */
export function isFatalTxnError(code: number): boolean {
  return code === ErrorCode.PRODUCER_FENCED || code === ErrorCode.INVALID_PRODUCER_EPOCH || code === ErrorCode.TRANSACTIONAL_ID_AUTHORIZATION_FAILED;
}

/** Kafka retries CONCURRENT_TRANSACTIONS quickly: it only means the previous transaction's markers
 * are still being written. */
const CONCURRENT_TRANSACTIONS_BACKOFF_MS = 20;
/** Most partitions one AddPartitionsToTxn asks for; more go in the next request. */
export const MAX_PARTITIONS_PER_ADD = 1000;

export class TransactionManager {
  state = TxnState.Uninitialized;
  /** The first failure of the current transaction once it must be aborted. */
  abortableError: Error | null = null;
  fatalError: Error | null = null;
  /** Whether the coordinator knows of this transaction (a partition or offsets were added):
   * an empty transaction ends without EndTxn, as Kafka's producer does. */
  started = false;
  private readonly txnCoordinators: Coordinators;
  private readonly groupCoordinators: Coordinators;

  constructor(
    private readonly cluster: Cluster,
    readonly transactionalId: string,
    readonly transactionTimeoutMs: number,
    private readonly maxBlockMs: number,
  ) {
    this.txnCoordinators = new Coordinators(cluster, KEY_TYPE_TRANSACTION);
    this.groupCoordinators = new Coordinators(cluster, KEY_TYPE_GROUP);
  }

  transition(to: TxnState): void {
    if (this.state === TxnState.FatalError) throw this.fatalError!;
    if (!TRANSITIONS[this.state].includes(to)) {
      const hint = this.state === TxnState.AbortableError && this.abortableError !== null ? `: the transaction failed (${this.abortableError.message}) and must be aborted` : '';
      throw new TransactionStateError(`Invalid transition attempted from state ${this.state} to state ${to}${hint}`);
    }
    this.state = to;
  }

  /** A send, add or offset commit of the current transaction failed: it can only be aborted. */
  setAbortable(err: Error): void {
    if (this.state !== TxnState.InTransaction && this.state !== TxnState.Committing) return;
    this.abortableError ??= err;
    this.state = TxnState.AbortableError;
  }

  setFatal(err: Error): void {
    this.fatalError ??= err;
    this.state = TxnState.FatalError;
  }

  /** Throws unless records may be sent now. */
  checkCanSend(): void {
    if (this.state === TxnState.InTransaction) return;
    if (this.state === TxnState.FatalError) throw this.fatalError!;
    if (this.state === TxnState.AbortableError) {
      throw new TransactionStateError(`Cannot send: the transaction failed (${this.abortableError?.message ?? 'unknown error'}) and must be aborted`);
    }
    throw new TransactionStateError(`Cannot send records of transactional producer ${this.transactionalId} outside a transaction (state ${this.state}): call beginTransaction() first`);
  }

  /** InitProducerId at the transaction coordinator; with `current`, bumps its epoch (KIP-360). */
  initProducerId(current: ProducerIdAndEpoch | null): Promise<ProducerIdAndEpoch> {
    return this.withCoordinator(this.txnCoordinators, this.transactionalId, `InitProducerId for transactional id ${this.transactionalId}`, async (node, where) => {
      const r = await this.cluster.send(node, { request: InitProducerIdRequest, response: InitProducerIdResponse }, (v) => {
        const req = InitProducerIdRequest.defaults();
        req.transactionalId = this.transactionalId;
        req.transactionTimeoutMs = this.transactionTimeoutMs;
        if (v >= 3 && current !== null) {
          req.producerId = current.producerId;
          req.producerEpoch = current.producerEpoch;
        }
        return req;
      });
      check(r.errorCode, where);
      return { producerId: r.producerId, producerEpoch: r.producerEpoch };
    });
  }

  /** Adds partitions to the transaction (at most MAX_PARTITIONS_PER_ADD). */
  async addPartitions(pe: ProducerIdAndEpoch, partitions: readonly TopicPartition[]): Promise<void> {
    if (partitions.length === 0) return;
    if (partitions.length > MAX_PARTITIONS_PER_ADD) throw new Error(`at most ${MAX_PARTITIONS_PER_ADD} partitions per AddPartitionsToTxn`);
    await this.withCoordinator(this.txnCoordinators, this.transactionalId, `AddPartitionsToTxn for transactional id ${this.transactionalId}`, async (node, where) => {
      const r = await this.cluster.send(node, { request: AddPartitionsToTxnRequest, response: AddPartitionsToTxnResponse }, () => {
        const req = AddPartitionsToTxnRequest.defaults();
        req.v3AndBelowTransactionalId = this.transactionalId;
        req.v3AndBelowProducerId = pe.producerId;
        req.v3AndBelowProducerEpoch = pe.producerEpoch;
        req.v3AndBelowTopics = byTopic(partitions, (p) => p.partition).map(([name, list]) => ({ name, partitions: list }));
        return req;
      });
      // One code decides: fatal first, then a retriable one (the whole request is retried: adding
      // a partition twice is harmless), then the first other failure, skipping OPERATION_NOT_ATTEMPTED.
      let worst: { code: number; where: string } | null = null;
      const rank = (c: number): number => (isFatalTxnError(c) ? 3 : new KafkaClientError(c).retriable ? 2 : c === ErrorCode.OPERATION_NOT_ATTEMPTED ? 0 : 1);
      for (const t of r.resultsByTopicV3AndBelow) {
        for (const p of t.resultsByPartition) {
          if (p.partitionErrorCode === ErrorCode.NONE) continue;
          if (worst === null || rank(p.partitionErrorCode) > rank(worst.code)) worst = { code: p.partitionErrorCode, where: `${where}, partition ${t.name}-${p.partitionIndex}` };
        }
      }
      if (worst !== null) check(worst.code, worst.where);
    });
    this.started = true;
  }

  /** AddOffsetsToTxn then TxnOffsetCommit: the offsets become the group's when the transaction commits. */
  async sendOffsets(pe: ProducerIdAndEpoch, offsets: readonly OffsetToCommit[], group: ConsumerGroupMetadata): Promise<void> {
    await this.withCoordinator(this.txnCoordinators, this.transactionalId, `AddOffsetsToTxn for group ${group.groupId}`, async (node, where) => {
      const r = await this.cluster.send(node, { request: AddOffsetsToTxnRequest, response: AddOffsetsToTxnResponse }, () => {
        const req = AddOffsetsToTxnRequest.defaults();
        req.transactionalId = this.transactionalId;
        req.producerId = pe.producerId;
        req.producerEpoch = pe.producerEpoch;
        req.groupId = group.groupId;
        return req;
      });
      check(r.errorCode, where);
    });
    this.started = true;
    if (offsets.length === 0) return;
    await this.withCoordinator(this.groupCoordinators, group.groupId, `TxnOffsetCommit for group ${group.groupId}`, async (node, where) => {
      const r = await this.cluster.send(node, { request: TxnOffsetCommitRequest, response: TxnOffsetCommitResponse }, (v) => {
        const req = TxnOffsetCommitRequest.defaults();
        req.transactionalId = this.transactionalId;
        req.groupId = group.groupId;
        req.producerId = pe.producerId;
        req.producerEpoch = pe.producerEpoch;
        if (v >= 3) {
          req.generationId = group.generationId;
          req.memberId = group.memberId;
          req.groupInstanceId = group.groupInstanceId;
        }
        req.topics = byTopic(offsets, (o) => ({
          partitionIndex: o.partition,
          committedOffset: o.offset,
          committedLeaderEpoch: v >= 2 ? o.leaderEpoch ?? -1 : -1,
          committedMetadata: o.metadata ?? '',
        })).map(([name, partitions]) => ({ name, partitions }));
        return req;
      });
      for (const t of r.topics) for (const p of t.partitions) check(p.errorCode, `${where}, partition ${t.name}-${p.partitionIndex}`);
    });
  }

  /** EndTxn: the coordinator writes the markers after answering. */
  async endTxn(pe: ProducerIdAndEpoch, commit: boolean): Promise<void> {
    await this.withCoordinator(this.txnCoordinators, this.transactionalId, `EndTxn(${commit ? 'commit' : 'abort'}) for transactional id ${this.transactionalId}`, async (node, where) => {
      const r = await this.cluster.send(node, { request: EndTxnRequest, response: EndTxnResponse }, () => {
        const req = EndTxnRequest.defaults();
        req.transactionalId = this.transactionalId;
        req.producerId = pe.producerId;
        req.producerEpoch = pe.producerEpoch;
        req.committed = commit;
        return req;
      });
      check(r.errorCode, where);
    });
  }

  /**
   * Runs `op` against the coordinator of `key` until it succeeds or fails for good. Retriable
   * failures are retried until max.block.ms has passed (then the last one is thrown); a moved
   * coordinator is looked up again; fatal codes become ProducerFencedError.
   */
  private async withCoordinator<T>(coordinators: Coordinators, key: string, where: string, op: (node: number, where: string) => Promise<T>): Promise<T> {
    const signal = AbortSignal.timeout(this.maxBlockMs);
    for (let attempt = 0; ; attempt++) {
      try {
        const node = await coordinators.find(key, signal);
        return await op(node, `${where} on broker ${node}`);
      } catch (err) {
        const code = err instanceof KafkaClientError ? err.code : -1;
        if (code >= 0) coordinators.check(key, code);
        if (isFatalTxnError(code)) throw new ProducerFencedError(code, (err as Error).message, { cause: err });
        if (!isRetriableError(err) || signal.aborted) throw err;
        try {
          await sleep(code === ErrorCode.CONCURRENT_TRANSACTIONS ? CONCURRENT_TRANSACTIONS_BACKOFF_MS : this.cluster.backoff(attempt), signal);
        } catch (e) {
          if (e instanceof AbortError) throw err; // out of time: the last failure says why
          throw e;
        }
      }
    }
  }
}

function check(code: number, where: string): void {
  if (code !== ErrorCode.NONE) throw new KafkaClientError(code, undefined, { where });
}

function byTopic<T extends TopicPartition, P>(items: readonly T[], map: (item: T) => P): [string, P[]][] {
  const out = new Map<string, P[]>();
  for (const it of items) {
    let list = out.get(it.topic);
    if (list === undefined) out.set(it.topic, (list = []));
    list.push(map(it));
  }
  return [...out];
}
