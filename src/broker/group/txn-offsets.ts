// Transactional offset commits (TxnOffsetCommit) of the __consumer_offsets partitions led here:
// offsets written by a producer inside a transaction are pending, per producer, until the
// producer's marker reaches the partition: COMMIT makes them the groups' committed offsets,
// ABORT drops them (Kafka's GroupMetadataManager pendingTransactionalOffsetCommits). OffsetFetch
// with RequireStable answers UNSTABLE_OFFSET_COMMIT for a partition with a pending offset.
// Replay rebuilds the same state from the log: a transactional batch's offsets are pending until
// the producer's marker record later in the log.
//
// Also kept per producer and partition: the next sequence of the producer's transactional
// batches here, so that the partition's producer state accepts them as a client's would.
import { offsetKey, type CommittedOffset } from './classic-group.js';

export interface PendingOffset {
  topic: string;
  partition: number;
  value: CommittedOffset;
}

/** Offsets of one producer's open transaction: group id -> offset key -> offset. */
type ProducerPending = Map<string, Map<string, PendingOffset>>;

interface PartitionTxnOffsets {
  pending: Map<bigint, ProducerPending>;
  sequences: Map<bigint, { epoch: number; next: number }>;
}

/** Producers with pending offsets one partition holds at most (this broker's bound). */
export const MAX_PENDING_PRODUCERS_PER_PARTITION = 100_000;

export class TxnOffsets {
  private readonly partitions = new Map<number, PartitionTxnOffsets>();

  private part(partition: number): PartitionTxnOffsets {
    let p = this.partitions.get(partition);
    if (p === undefined) this.partitions.set(partition, (p = { pending: new Map(), sequences: new Map() }));
    return p;
  }

  /** Whether one more producer may hold pending offsets on the partition. */
  canAdd(partition: number, producerId: bigint): boolean {
    const p = this.partitions.get(partition);
    return p === undefined || p.pending.has(producerId) || p.pending.size < MAX_PENDING_PRODUCERS_PER_PARTITION;
  }

  /** The base sequence of the producer's next batch on the partition (0 in a new epoch). */
  nextSequence(partition: number, producerId: bigint, producerEpoch: number): number {
    const s = this.partitions.get(partition)?.sequences.get(producerId);
    return s === undefined || s.epoch !== producerEpoch ? 0 : s.next;
  }

  /** A batch of the producer ending at `lastSequence` is in the log. */
  noteSequence(partition: number, producerId: bigint, producerEpoch: number, lastSequence: number): void {
    const seqs = this.part(partition).sequences;
    const s = seqs.get(producerId);
    if (s !== undefined && s.epoch > producerEpoch) return;
    seqs.set(producerId, { epoch: producerEpoch, next: lastSequence >= 2_147_483_647 ? 0 : lastSequence + 1 });
  }

  addPending(partition: number, producerId: bigint, groupId: string, offsets: readonly PendingOffset[]): void {
    const p = this.part(partition);
    let byGroup = p.pending.get(producerId);
    if (byGroup === undefined) p.pending.set(producerId, (byGroup = new Map()));
    let byKey = byGroup.get(groupId);
    if (byKey === undefined) byGroup.set(groupId, (byKey = new Map()));
    for (const o of offsets) byKey.set(offsetKey(o.topic, o.partition), o);
  }

  /** The producer's marker reached the partition: its pending offsets, by group, leave (to be applied on COMMIT). */
  complete(partition: number, producerId: bigint): ProducerPending | undefined {
    const p = this.partitions.get(partition);
    const done = p?.pending.get(producerId);
    p?.pending.delete(producerId);
    return done;
  }

  /** Whether the group has a pending offset for the topic partition (any producer). */
  hasPending(partition: number, groupId: string, topic: string, topicPartition: number): boolean {
    const p = this.partitions.get(partition);
    if (p === undefined) return false;
    const key = offsetKey(topic, topicPartition);
    for (const byGroup of p.pending.values()) if (byGroup.get(groupId)?.has(key) === true) return true;
    return false;
  }

  /** Producers with pending offsets on the partition (tests, metrics). */
  pendingProducers(partition: number): number {
    return this.partitions.get(partition)?.pending.size ?? 0;
  }

  /** The partition is no longer led here (or is being reloaded). */
  drop(partition: number): void {
    this.partitions.delete(partition);
  }
}
