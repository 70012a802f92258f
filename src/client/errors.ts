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
