// Typed storage errors. Each carries the Kafka error code the broker should put in its response
// and where it happened; programmer errors (broken invariants) are plain assertions instead.

export abstract class StorageError extends Error {
  /** Kafka protocol error code for the response. */
  abstract readonly errorCode: number;
  abstract readonly retriable: boolean;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** OFFSET_OUT_OF_RANGE (1). */
export class OffsetOutOfRangeError extends StorageError {
  readonly errorCode = 1;
  readonly retriable = false;
}

/** CORRUPT_MESSAGE (2): the bytes of a batch do not describe a valid batch. */
export class CorruptRecordError extends StorageError {
  readonly errorCode = 2;
  readonly retriable = true;
}

/** MESSAGE_TOO_LARGE (10): a batch is larger than max.message.bytes (Kafka: RecordTooLargeException). */
export class RecordTooLargeError extends StorageError {
  readonly errorCode = 10;
  readonly retriable = false;
}

/** RECORD_LIST_TOO_LARGE (18): the append is larger than a segment can hold (Kafka: RecordBatchTooLargeException). */
export class RecordBatchTooLargeError extends StorageError {
  readonly errorCode = 18;
  readonly retriable = false;
}

/** OUT_OF_ORDER_SEQUENCE_NUMBER (45). */
export class OutOfOrderSequenceError extends StorageError {
  readonly errorCode = 45;
  readonly retriable = false;
}

/** INVALID_PRODUCER_EPOCH (47): the batch carries an epoch older than the one we know. */
export class InvalidProducerEpochError extends StorageError {
  readonly errorCode = 47;
  readonly retriable = false;
}

/** INVALID_TXN_STATE (48): a non-transactional batch from a producer whose transaction is open. */
export class InvalidTxnStateError extends StorageError {
  readonly errorCode = 48;
  readonly retriable = false;
}

/** TRANSACTION_COORDINATOR_FENCED (52): a marker from a coordinator epoch older than the partition has seen. */
export class TransactionCoordinatorFencedError extends StorageError {
  readonly errorCode = 52;
  readonly retriable = false;
}

/** NOT_LEADER_OR_FOLLOWER (6): the log was closed or deleted (shutdown, topic deletion) while a
 * caller still held it; whoever hosts it decides whether the partition is gone for good. */
export class LogClosedError extends StorageError {
  readonly errorCode = 6;
  readonly retriable = true;
}

/** KAFKA_STORAGE_ERROR (56): the disk failed under us (write/fsync error). */
export class KafkaStorageError extends StorageError {
  readonly errorCode = 56;
  readonly retriable = true;
  constructor(
    message: string,
    /** The operating system's error code (ENOSPC, EROFS, EIO, ...), or null when there was none. */
    readonly osCode: string | null = null,
  ) {
    super(message);
  }
}

/**
 * `err` as a KafkaStorageError when it is a failed system call (it carries an errno code), with
 * `context` saying where; other storage errors as they are; anything else (a bug) is rethrown.
 */
export function asStorageError(err: unknown, context: string): StorageError {
  if (err instanceof StorageError) return err;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (err instanceof Error && typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return new KafkaStorageError(`${context}: ${err.message}`, code);
  throw err;
}

/** INVALID_RECORD (87): e.g. several idempotent batches in one append. */
export class InvalidRecordError extends StorageError {
  readonly errorCode = 87;
  readonly retriable = false;
}

/**
 * What is on disk cannot be used as it is (a locked, damaged or inconsistent file): start-up stops
 * with a message that names the file and what is wrong with it, rather than guess and lose data.
 * Not a Kafka error: no request ever sees it.
 */
export class StorageStartupError extends Error {
  constructor(
    message: string,
    /** The file or directory at fault. */
    readonly path: string,
  ) {
    super(message);
    this.name = 'StorageStartupError';
  }
}

/**
 * A follower append that does not continue the log: it starts below the log end (Kafka's
 * UnexpectedAppendOffsetException), its offsets do not increase (OffsetsOutOfOrderException), or
 * its leader epochs go backwards. Nothing was written. Only the replica fetcher sees it (it
 * truncates or refetches); it is never a client's answer, so it carries no Kafka error code.
 */
export class FollowerAppendError extends Error {
  constructor(
    message: string,
    readonly reason: 'unexpected-offset' | 'offsets-out-of-order' | 'epoch-out-of-order',
    /** Base offset of the first batch of the append. */
    readonly firstOffset: number,
    readonly logEndOffset: number,
  ) {
    super(message);
    this.name = 'FollowerAppendError';
  }
}

/** Throws (a programmer error, not a Kafka error) when an invariant is broken. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new Error(`storage invariant violated: ${message}`);
}
