// The state of one transactional id, as Kafka's TransactionMetadata keeps it, and the pure
// transitions between its states. No I/O, no clock: every function takes `nowMs`, and returns the
// metadata to write (a "transit") or the Kafka error to answer; the coordinator writes the transit
// to __transaction_state and makes it current only once the write is committed.
//
// Transition table (state <- states it may be entered from), Kafka's TransactionState:
//
//   Empty              <- Empty, CompleteCommit, CompleteAbort      (InitProducerId: epoch bump)
//   Ongoing            <- Ongoing, Empty, CompleteCommit, CompleteAbort   (AddPartitions/AddOffsets)
//   PrepareCommit      <- Ongoing                                   (EndTxn commit)
//   PrepareAbort       <- Ongoing, PrepareEpochFence                (EndTxn abort, fence, timeout)
//   CompleteCommit     <- PrepareCommit                             (every marker written)
//   CompleteAbort      <- PrepareAbort
//   Dead               <- Empty, CompleteCommit, CompleteAbort      (transactional.id.expiration.ms)
//   PrepareEpochFence  <- Ongoing        (in memory only: an InitProducerId or a timeout fences
//                                         the producer; written as PrepareAbort with the bumped epoch)
//
// An illegal transition is a programmer error: it throws.

export const TxnState = {
  Empty: 0,
  Ongoing: 1,
  PrepareCommit: 2,
  PrepareAbort: 3,
  CompleteCommit: 4,
  CompleteAbort: 5,
  Dead: 6,
  PrepareEpochFence: 7,
} as const;
export type TxnStateValue = (typeof TxnState)[keyof typeof TxnState];

const NAMES = ['Empty', 'Ongoing', 'PrepareCommit', 'PrepareAbort', 'CompleteCommit', 'CompleteAbort', 'Dead', 'PrepareEpochFence'] as const;

export function txnStateName(s: TxnStateValue): string {
  return NAMES[s]!;
}

export function txnStateById(id: number): TxnStateValue | undefined {
  return Number.isInteger(id) && id >= 0 && id < NAMES.length ? (id as TxnStateValue) : undefined;
}

/** Kafka's names for ListTransactions' StateFilters and DescribeTransactions' TransactionState. */
export function txnStateByName(name: string): TxnStateValue | undefined {
  const i = (NAMES as readonly string[]).indexOf(name);
  return i < 0 ? undefined : (i as TxnStateValue);
}

const S = TxnState;
const VALID_PREVIOUS: Readonly<Record<TxnStateValue, readonly TxnStateValue[]>> = {
  [S.Empty]: [S.Empty, S.CompleteCommit, S.CompleteAbort],
  [S.Ongoing]: [S.Ongoing, S.Empty, S.CompleteCommit, S.CompleteAbort],
  [S.PrepareCommit]: [S.Ongoing],
  [S.PrepareAbort]: [S.Ongoing, S.PrepareEpochFence],
  [S.CompleteCommit]: [S.PrepareCommit],
  [S.CompleteAbort]: [S.PrepareAbort],
  [S.Dead]: [S.Empty, S.CompleteCommit, S.CompleteAbort],
  [S.PrepareEpochFence]: [S.Ongoing],
};

export function isValidTransition(from: TxnStateValue, to: TxnStateValue): boolean {
  return VALID_PREVIOUS[to].includes(from);
}

export const NO_PRODUCER_ID = -1n;
export const NO_PRODUCER_EPOCH = -1;
/** Short.MaxValue - 1: past it the producer gets a new id instead of a bump (Kafka's isEpochExhausted). */
const EPOCH_EXHAUSTED_AT = 32766;

export function isEpochExhausted(epoch: number): boolean {
  return epoch >= EPOCH_EXHAUSTED_AT;
}

/** One transactional id's state (immutable: transitions return a new value). */
export interface TxnMetadata {
  readonly transactionalId: string;
  readonly producerId: bigint;
  /** The producer id before the last rotation (epoch exhaustion), or -1. */
  readonly lastProducerId: bigint;
  readonly producerEpoch: number;
  /** The epoch before the last bump, for an InitProducerId retried after a lost answer; -1 when none. */
  readonly lastProducerEpoch: number;
  readonly txnTimeoutMs: number;
  readonly state: TxnStateValue;
  /** Topic partitions in the transaction, as topicPartitionKey() strings. */
  readonly partitions: ReadonlySet<string>;
  /** When the transaction began (first partition added), -1 when none is open. */
  readonly txnStartTimestampMs: number;
  readonly txnLastUpdateTimestampMs: number;
}

export type Transit = { ok: true; next: TxnMetadata } | { ok: false; errorCode: number };

function to(m: TxnMetadata, state: TxnStateValue, changes: Partial<TxnMetadata>): TxnMetadata {
  if (!isValidTransition(m.state, state)) {
    throw new Error(`transactional id ${m.transactionalId}: illegal transition ${txnStateName(m.state)} -> ${txnStateName(state)}`);
  }
  return { ...m, ...changes, state };
}

/** A transactional id seen for the first time: epoch -1 so that the first InitProducerId bumps it to 0. */
export function newTxnMetadata(transactionalId: string, producerId: bigint, txnTimeoutMs: number, nowMs: number): TxnMetadata {
  return {
    transactionalId,
    producerId,
    lastProducerId: NO_PRODUCER_ID,
    producerEpoch: NO_PRODUCER_EPOCH,
    lastProducerEpoch: NO_PRODUCER_EPOCH,
    txnTimeoutMs,
    state: TxnState.Empty,
    partitions: new Set(),
    txnStartTimestampMs: -1,
    txnLastUpdateTimestampMs: nowMs,
  };
}

const ERR = {
  CONCURRENT_TRANSACTIONS: 51,
  PRODUCER_FENCED: 90,
  INVALID_TXN_STATE: 48,
  INVALID_PRODUCER_ID_MAPPING: 49,
} as const;

/**
 * Kafka's isValidProducerId for InitProducerId v3+: the id is fresh, the producer is the current
 * one, or it retries after a rotation whose answer it never got (its epoch was exhausted).
 */
export function isValidExpectedProducer(m: TxnMetadata, expected: { producerId: bigint; producerEpoch: number }): boolean {
  return (
    m.producerEpoch === NO_PRODUCER_EPOCH ||
    expected.producerId === m.producerId ||
    (expected.producerId === m.lastProducerId && isEpochExhausted(expected.producerEpoch))
  );
}

/**
 * InitProducerId for an id in Empty/CompleteCommit/CompleteAbort: the epoch bump (or, with the
 * epoch exhausted, a new producer id; `newProducerId` is null when none was allocated, and the
 * client is told to retry). `expected` is the KIP-360 ProducerId/ProducerEpoch of v3+ (null: none).
 */
export function prepareInitProducerId(
  m: TxnMetadata,
  txnTimeoutMs: number,
  expected: { producerId: bigint; producerEpoch: number } | null,
  newProducerId: bigint | null,
  nowMs: number,
): Transit {
  if (expected !== null && !isValidExpectedProducer(m, expected)) return { ok: false, errorCode: ERR.PRODUCER_FENCED };
  if (isEpochExhausted(m.producerEpoch) && (expected === null || expected.producerEpoch === m.producerEpoch)) {
    if (newProducerId === null) return { ok: false, errorCode: ERR.CONCURRENT_TRANSACTIONS };
    return {
      ok: true,
      next: to(m, S.Empty, {
        producerId: newProducerId,
        lastProducerId: m.producerId,
        producerEpoch: 0,
        lastProducerEpoch: expected !== null ? m.producerEpoch : NO_PRODUCER_EPOCH,
        txnTimeoutMs,
        partitions: new Set(),
        txnStartTimestampMs: -1,
        txnLastUpdateTimestampMs: nowMs,
      }),
    };
  }
  let epoch: number;
  let lastEpoch: number;
  if (expected === null) {
    epoch = m.producerEpoch + 1;
    lastEpoch = NO_PRODUCER_EPOCH;
  } else if (m.producerEpoch === NO_PRODUCER_EPOCH || expected.producerEpoch === m.producerEpoch) {
    epoch = m.producerEpoch + 1;
    lastEpoch = m.producerEpoch;
  } else if (expected.producerEpoch === m.lastProducerEpoch) {
    // A retry of a bump whose answer was lost: the same epoch again.
    epoch = m.producerEpoch;
    lastEpoch = m.lastProducerEpoch;
  } else return { ok: false, errorCode: ERR.PRODUCER_FENCED };
  return {
    ok: true,
    next: to(m, S.Empty, { producerEpoch: epoch, lastProducerEpoch: lastEpoch, txnTimeoutMs, partitions: new Set(), txnStartTimestampMs: -1, txnLastUpdateTimestampMs: nowMs }),
  };
}

/**
 * Fences the producer of an Ongoing transaction (a new InitProducerId, or the transaction timed
 * out): the epoch goes up by one (not again after a fence whose write failed) and the transaction
 * is aborted with it, so the old producer's requests get PRODUCER_FENCED.
 */
export function prepareFenceAndAbort(m: TxnMetadata, failedFenceBefore: boolean, nowMs: number): TxnMetadata {
  if (m.producerEpoch >= 32767) throw new Error(`transactional id ${m.transactionalId}: cannot fence epoch ${m.producerEpoch}`);
  const fenced = to(m, S.PrepareEpochFence, { producerEpoch: failedFenceBefore ? m.producerEpoch : m.producerEpoch + 1, lastProducerEpoch: NO_PRODUCER_EPOCH });
  return to(fenced, S.PrepareAbort, { txnLastUpdateTimestampMs: nowMs });
}

/** Checks shared by AddPartitionsToTxn, AddOffsetsToTxn and EndTxn; null when the producer may go on. */
export function checkProducer(m: TxnMetadata | undefined, producerId: bigint, producerEpoch: number, pending: boolean): number | null {
  if (m === undefined || m.producerId !== producerId) return ERR.INVALID_PRODUCER_ID_MAPPING;
  if (producerEpoch !== m.producerEpoch) return ERR.PRODUCER_FENCED;
  if (pending) return ERR.CONCURRENT_TRANSACTIONS;
  return null;
}

/**
 * AddPartitionsToTxn / AddOffsetsToTxn after checkProducer: Ongoing with the partitions added;
 * null when they are all in the transaction already (nothing to write).
 */
export function prepareAddPartitions(m: TxnMetadata, partitions: readonly string[], maxPartitions: number, nowMs: number): Transit | null {
  if (m.state === S.PrepareCommit || m.state === S.PrepareAbort) return { ok: false, errorCode: ERR.CONCURRENT_TRANSACTIONS };
  if (m.state === S.Ongoing && partitions.every((p) => m.partitions.has(p))) return null;
  if (m.state !== S.Ongoing && m.state !== S.Empty && m.state !== S.CompleteCommit && m.state !== S.CompleteAbort) {
    return { ok: false, errorCode: ERR.INVALID_TXN_STATE };
  }
  const next = new Set(m.state === S.Ongoing ? m.partitions : []);
  for (const p of partitions) next.add(p);
  // A bound of this broker (Kafka has none): an answer the client sees as a failed transaction.
  if (next.size > maxPartitions) return { ok: false, errorCode: ERR.INVALID_TXN_STATE };
  const start = m.state === S.Ongoing ? m.txnStartTimestampMs : nowMs;
  return { ok: true, next: to(m, S.Ongoing, { partitions: next, txnStartTimestampMs: start, txnLastUpdateTimestampMs: nowMs }) };
}

/** What EndTxn does: write a Prepare* transit, answer at once (a retry of a finished end), or fail. */
export type EndTxnDecision = { kind: 'write'; next: TxnMetadata } | { kind: 'done' } | { kind: 'error'; errorCode: number };

/** EndTxn from the client, after checkProducer (Kafka's endTransaction with isFromClient). */
export function prepareEndTxn(m: TxnMetadata, commit: boolean, nowMs: number): EndTxnDecision {
  switch (m.state) {
    case S.Ongoing:
      return { kind: 'write', next: to(m, commit ? S.PrepareCommit : S.PrepareAbort, { txnLastUpdateTimestampMs: nowMs }) };
    case S.CompleteCommit:
      return commit ? { kind: 'done' } : { kind: 'error', errorCode: ERR.INVALID_TXN_STATE };
    case S.CompleteAbort:
      return commit ? { kind: 'error', errorCode: ERR.INVALID_TXN_STATE } : { kind: 'done' };
    case S.PrepareCommit:
      return commit ? { kind: 'error', errorCode: ERR.CONCURRENT_TRANSACTIONS } : { kind: 'error', errorCode: ERR.INVALID_TXN_STATE };
    case S.PrepareAbort:
      return commit ? { kind: 'error', errorCode: ERR.INVALID_TXN_STATE } : { kind: 'error', errorCode: ERR.CONCURRENT_TRANSACTIONS };
    default:
      return { kind: 'error', errorCode: ERR.INVALID_TXN_STATE };
  }
}

/** Every marker is written: PrepareCommit -> CompleteCommit, PrepareAbort -> CompleteAbort, partitions cleared. */
export function prepareComplete(m: TxnMetadata, nowMs: number): TxnMetadata {
  const state = m.state === S.PrepareCommit ? S.CompleteCommit : S.CompleteAbort;
  return to(m, state, { partitions: new Set(), txnLastUpdateTimestampMs: nowMs });
}

/** transactional.id.expiration.ms: an idle id's tombstone. */
export function prepareDead(m: TxnMetadata, nowMs: number): TxnMetadata {
  return to(m, S.Dead, { partitions: new Set(), txnLastUpdateTimestampMs: nowMs });
}
