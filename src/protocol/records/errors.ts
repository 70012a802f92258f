// Errors raised while reading record batches from untrusted bytes. Each carries the Kafka error
// code a broker would answer with, so a produce handler can map it without a lookup table of its
// own; whether to use it is the handler's decision.

/** Kafka CORRUPT_MESSAGE: the bytes do not form a valid record batch (CRC, sizes, compression). */
export const CORRUPT_MESSAGE_ERROR_CODE = 2;
/** Kafka INVALID_RECORD: Kafka answers this when a v3+ produce carries a batch that is not magic 2. */
export const INVALID_RECORD_ERROR_CODE = 87;

/** Bytes that do not decode: bad CRC, truncation, out-of-range lengths, corrupt compression. */
export class CorruptRecordError extends Error {
  readonly errorCode: number = CORRUPT_MESSAGE_ERROR_CODE;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CorruptRecordError';
  }
}

/** A batch in the old message formats (magic 0 or 1), which Tributary does not support. */
export class UnsupportedMagicError extends Error {
  readonly errorCode: number = INVALID_RECORD_ERROR_CODE;

  constructor(readonly magic: number, readonly position: number) {
    super(`record batch at byte ${position} has magic ${magic}; only magic 2 (Kafka 0.11+) is supported`);
    this.name = 'UnsupportedMagicError';
  }
}
