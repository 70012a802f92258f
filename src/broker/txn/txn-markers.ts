// The contract between the transaction coordinator (which decides a transaction's outcome) and the
// partition logs (which hold its records): a marker is one control batch, COMMIT or ABORT, written
// on one partition for one producer, as WriteTxnMarkers (key 27) carries them. The coordinator
// calls a TxnMarkerWriter; the replica manager implements it (and the WriteTxnMarkers handler uses
// the same path), so in-process and over-the-wire markers are one code path.
import type { ErrorCodeValue } from '../../protocol/errors.js';

export interface TxnMarker {
  readonly topic: string;
  readonly partition: number;
  readonly producerId: bigint;
  readonly producerEpoch: number;
  /** The coordinator's epoch for the producer's __transaction_state partition (fences old coordinators). */
  readonly coordinatorEpoch: number;
  /** true: a COMMIT control record; false: ABORT. */
  readonly committed: boolean;
}

export interface TxnMarkerWriter {
  /**
   * Appends each marker as a control batch and completes when every one is durable as acks=all
   * would make it (the partition's whole ISR has it). One error code per marker, in order:
   * NONE, or Kafka's answer for that partition (NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION,
   * TRANSACTION_COORDINATOR_FENCED for a coordinator epoch older than the partition has seen,
   * INVALID_PRODUCER_EPOCH, KAFKA_STORAGE_ERROR, ...).
   */
  writeMarkers(markers: readonly TxnMarker[]): Promise<ErrorCodeValue[]>;
}
