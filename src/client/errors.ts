// Typed client errors. A KafkaClientError carries Kafka's error code and its retriable flag (from
// the protocol's error table) plus where it happened; connection failures and timeouts use the
// codes Kafka's clients map them to (NETWORK_EXCEPTION, REQUEST_TIMED_OUT), so callers need one
// `retriable` check, not a zoo of classes.
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export class KafkaClientError extends KafkaError {
  /** What the client was doing, e.g. `Produce to orders-3 on broker 1`. */
  readonly where: string | null;

  constructor(code: number, message?: string, options?: ErrorOptions & { where?: string }) {
    const where = options?.where ?? null;
    super(code, where === null ? message : message === undefined ? where : `${message} (${where})`, options);
    this.name = 'KafkaClientError';
    this.where = where;
  }
}

/** The connection to a broker failed or closed while requests were outstanding. */
export class ConnectionError extends KafkaClientError {
  constructor(message: string, options?: ErrorOptions & { where?: string }) {
    super(ErrorCode.NETWORK_EXCEPTION, message, options);
    this.name = 'ConnectionError';
  }
}

/** A request got no answer within its timeout. */
export class RequestTimeoutError extends KafkaClientError {
  constructor(message: string, options?: ErrorOptions & { where?: string }) {
    super(ErrorCode.REQUEST_TIMED_OUT, message, options);
    this.name = 'RequestTimeoutError';
  }
}

/**
 * A record was not acknowledged within the producer's delivery.timeout.ms (or its metadata did not
 * arrive in time): Kafka's TimeoutException. The last error seen while retrying is the cause.
 */
export class DeliveryTimeoutError extends KafkaClientError {
  constructor(message: string, options?: ErrorOptions & { where?: string }) {
    super(ErrorCode.REQUEST_TIMED_OUT, message, options);
    this.name = 'DeliveryTimeoutError';
  }
}

/**
 * The principal may not describe (or use) these topics: Kafka's TopicAuthorizationException, e.g.
 * a Metadata answer of TOPIC_AUTHORIZATION_FAILED for a topic the call needs. Not retriable.
 */
export class TopicAuthorizationError extends KafkaClientError {
  readonly unauthorizedTopics: readonly string[];

  constructor(topics: readonly string[], options?: ErrorOptions & { where?: string }) {
    super(ErrorCode.TOPIC_AUTHORIZATION_FAILED, `Not authorized to access topics: [${topics.join(', ')}]`, options);
    this.name = 'TopicAuthorizationError';
    this.unauthorizedTopics = topics;
  }
}

/** The client (or the operation) was closed or aborted by its caller. Never retriable. */
export class ClientClosedError extends Error {
  constructor(message = 'the client is closed') {
    super(message);
    this.name = 'ClientClosedError';
  }
}

export class AbortError extends Error {
  constructor(reason?: unknown) {
    super(reason instanceof Error ? reason.message : reason === undefined ? 'the operation was aborted' : String(reason));
    this.name = 'AbortError';
  }
}

/** Throws KafkaClientError for a non-zero error code. */
export function checkErrorCode(code: number, where: string, message?: string | null): void {
  if (code !== ErrorCode.NONE) throw new KafkaClientError(code, message ?? undefined, { where });
}

export function isRetriableError(err: unknown): boolean {
  return err instanceof KafkaError && err.retriable;
}

/**
 * A transactional producer can no longer be used (Kafka's ProducerFencedException and the other
 * fatal errors of its TransactionManager): another producer with the same transactional.id took
 * over (PRODUCER_FENCED, INVALID_PRODUCER_EPOCH), or the id is not authorized
 * (TRANSACTIONAL_ID_AUTHORIZATION_FAILED). Every later call fails with it; close the producer.
 */
export class ProducerFencedError extends KafkaClientError {
  constructor(code: number, message?: string, options?: ErrorOptions & { where?: string }) {
    super(code, message, options);
    this.name = 'ProducerFencedError';
  }
}

/** A call that the transactional producer's state does not allow (Kafka's IllegalStateException),
 * e.g. send() outside a transaction or commitTransaction() without beginTransaction(). */
export class TransactionStateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TransactionStateError';
  }
}

/** A record of a transaction that failed or is being aborted was dropped unsent (Kafka's
 * TransactionAbortedException). */
export class TransactionAbortedError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TransactionAbortedError';
  }
}
