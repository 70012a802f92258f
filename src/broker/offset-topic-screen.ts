// The checks Kafka's KafkaApis makes on each topic of OffsetCommit, TxnOffsetCommit and OffsetDelete
// before the group coordinator sees the request: READ on the topic (else its partitions are
// TOPIC_AUTHORIZATION_FAILED), then that the topic exists (else UNKNOWN_TOPIC_OR_PARTITION) and each
// partition is below its partition count (else that partition is UNKNOWN_TOPIC_OR_PARTITION). The
// ACL comes first so a principal without READ does not learn whether a topic exists. Only what
// passes reaches the coordinator: nothing is stored, and no group is created, for unknown topics.
import { ErrorCode } from '../protocol/errors.js';
import type { MetadataImage } from '../metadata/image.js';

interface RequestPartition {
  readonly partitionIndex: number;
}
interface RequestTopic<P extends RequestPartition> {
  readonly partitions: readonly P[];
}
/** A partition's answer, as the three responses carry it. */
export interface PartitionAnswer {
  partitionIndex: number;
  errorCode: number;
}

export interface ScreenedTopics<T, P> {
  /** Per request topic, per partition: the error answered without the coordinator, or null. */
  readonly refusals: readonly (readonly (number | null)[])[];
  /** The topics with a partition that passed, in request order, with those partitions only. */
  readonly passed: readonly { readonly topic: T; readonly name: string; readonly partitions: readonly P[] }[];
}

/**
 * Screens `topics`. `nameOf` resolves a topic's name (undefined: an unknown topic id, answered
 * UNKNOWN_TOPIC_ID as OffsetCommit v10 does); `readable` is the READ check on a name.
 */
export function screenOffsetTopics<T extends RequestTopic<RequestPartition>>(
  image: MetadataImage,
  topics: readonly T[],
  nameOf: (topic: T) => string | undefined,
  readable: (name: string) => boolean,
): ScreenedTopics<T, T['partitions'][number]> {
  const passed: { topic: T; name: string; partitions: T['partitions'][number][] }[] = [];
  const refusals = topics.map((topic) => {
    const name = nameOf(topic);
    const whole = name === undefined ? ErrorCode.UNKNOWN_TOPIC_ID : !readable(name) ? ErrorCode.TOPIC_AUTHORIZATION_FAILED : null;
    if (whole !== null || name === undefined) return topic.partitions.map(() => whole);
    const partitionCount = image.topicsByName.get(name)?.partitions.length ?? 0;
    const known = topic.partitions.filter((p) => p.partitionIndex >= 0 && p.partitionIndex < partitionCount);
    if (known.length > 0) passed.push({ topic, name, partitions: known });
    return topic.partitions.map((p) => (p.partitionIndex >= 0 && p.partitionIndex < partitionCount ? null : ErrorCode.UNKNOWN_TOPIC_OR_PARTITION));
  });
  return { refusals, passed };
}

/**
 * Each request topic's partition answers in request order: the refused ones from `screened`, the
 * others from `answered`, the coordinator's answers to `screened.passed` (one topic each, with
 * one answer per passed partition, in order).
 */
export function mergeScreened<T extends RequestTopic<RequestPartition>>(
  topics: readonly T[],
  screened: ScreenedTopics<T, RequestPartition>,
  answered: readonly { readonly partitions: readonly PartitionAnswer[] }[],
): PartitionAnswer[][] {
  if (answered.length !== screened.passed.length) throw new Error(`${answered.length} answered topics for ${screened.passed.length} passed`);
  let next = 0;
  return topics.map((topic, ti) => {
    const codes = screened.refusals[ti]!;
    const fromCoordinator = codes.some((c) => c === null) ? answered[next++]!.partitions : [];
    let p = 0;
    const out = topic.partitions.map((partition, pi): PartitionAnswer => (codes[pi] === null ? { ...fromCoordinator[p++]! } : { partitionIndex: partition.partitionIndex, errorCode: codes[pi]! }));
    if (p !== fromCoordinator.length) throw new Error(`${fromCoordinator.length} answers for ${p} passed partitions`);
    return out;
  });
}
