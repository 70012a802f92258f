// The offset manager: committed offsets of classic and consumer groups as records in
// __consumer_offsets. Commits and deletions are applied to a group's offsets only once their
// records are committed (the partition's high watermark passed them), so OffsetFetch never serves
// an offset that a lost partition could take back. Expiry (offsets.retention.minutes) writes
// tombstones and forgets the offsets when the append is accepted; if those tombstones never
// commit, the partition is unloaded and its reload brings the offsets back.
import type { Logger } from '../../logger.js';
import { ErrorCode } from '../../protocol/errors.js';
import type { BatchRecord } from '../../protocol/records/record-batch.js';
import { GroupState, offsetKey, type ClassicGroup, type CommittedOffset } from './classic-group.js';
import type { ConsumerGroup } from './consumer-group.js';
import { appendErrorToGroupError, type FetchedOffset, type GroupRecordWriter, type OffsetCommitRequestIn, type OffsetCommitResult, type OffsetDeleteResult } from './group-api.js';
import { offsetCommitRecord } from './group-log.js';

export interface OffsetManagerDeps extends GroupRecordWriter {
  /** Whether a data topic partition exists (OffsetCommit answers UNKNOWN_TOPIC_OR_PARTITION otherwise). */
  partitionExists(topic: string, partition: number): boolean;
  offsetMetadataMaxBytes: number;
  offsetsRetentionMs: number;
  nowMs: () => number;
  log: Logger;
}

type OffsetTopics = { name: string; partitionIndexes: number[] }[];

/** "topic\0partition" back into its parts. */
function splitOffsetKey(key: string): { topic: string; partition: number } {
  const sep = key.lastIndexOf('\u0000');
  return { topic: key.slice(0, sep), partition: Number(key.slice(sep + 1)) };
}

export class OffsetManager {
  constructor(private readonly deps: OffsetManagerDeps) {}

  /**
   * Appends the request's offsets (one batch) and applies them to `offsets` once committed;
   * resolves to `result` (per-partition codes) then.
   */
  commit(groupId: string, offsets: Map<string, CommittedOffset>, req: OffsetCommitRequestIn, result: OffsetCommitResult): OffsetCommitResult | Promise<OffsetCommitResult> {
    const now = this.deps.nowMs();
    const expireTimestampMs = req.retentionTimeMs >= 0 ? now + req.retentionTimeMs : null;
    const records: BatchRecord[] = [];
    const accepted: { key: string; value: CommittedOffset; slot: { errorCode: number } }[] = [];
    req.topics.forEach((t, ti) => {
      t.partitions.forEach((p, pi) => {
        const slot = result[ti]!.partitions[pi]!;
        if (!this.deps.partitionExists(t.name, p.partitionIndex)) {
          slot.errorCode = ErrorCode.UNKNOWN_TOPIC_OR_PARTITION;
          return;
        }
        const metadata = p.committedMetadata ?? '';
        if (Buffer.byteLength(metadata, 'utf8') > this.deps.offsetMetadataMaxBytes) {
          slot.errorCode = ErrorCode.OFFSET_METADATA_TOO_LARGE;
          return;
        }
        const value: CommittedOffset = { offset: p.committedOffset, leaderEpoch: p.committedLeaderEpoch, metadata, commitTimestampMs: now, expireTimestampMs };
        records.push(offsetCommitRecord(groupId, t.name, p.partitionIndex, value, now));
        accepted.push({ key: offsetKey(t.name, p.partitionIndex), value, slot });
      });
    });
    if (records.length === 0) return result;
    const ticket = this.deps.append(groupId, records);
    const fail = (error: number) => {
      for (const a of accepted) a.slot.errorCode = error;
      return result;
    };
    const appendError = appendErrorToGroupError(ticket.appendError, true);
    if (appendError !== ErrorCode.NONE) return fail(appendError);
    return new Promise((resolve) => {
      this.deps.afterCommit(groupId, ticket, (code) => {
        if (code !== ErrorCode.NONE) return resolve(fail(code));
        for (const a of accepted) offsets.set(a.key, a.value);
        resolve(result);
      });
    });
  }

  /** The committed offsets of `topics` (null: every committed partition); unknown partitions get offset -1. */
  read(offsets: ReadonlyMap<string, CommittedOffset>, topics: OffsetTopics | null): { name: string; partitions: FetchedOffset[] }[] {
    const describe = (partitionIndex: number, o: CommittedOffset | undefined): FetchedOffset =>
      o === undefined
        ? { partitionIndex, committedOffset: -1n, committedLeaderEpoch: -1, metadata: '', errorCode: ErrorCode.NONE }
        : { partitionIndex, committedOffset: o.offset, committedLeaderEpoch: o.leaderEpoch, metadata: o.metadata, errorCode: ErrorCode.NONE };
    if (topics === null) {
      const byTopic = new Map<string, FetchedOffset[]>();
      for (const [key, o] of offsets) {
        const { topic, partition } = splitOffsetKey(key);
        let list = byTopic.get(topic);
        if (list === undefined) byTopic.set(topic, (list = []));
        list.push(describe(partition, o));
      }
      return [...byTopic].map(([name, partitions]) => ({ name, partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex) }));
    }
    return topics.map((t) => ({ name: t.name, partitions: t.partitionIndexes.map((p) => describe(p, offsets.get(offsetKey(t.name, p)))) }));
  }

  /**
   * OffsetDelete: tombstones for the offsets of `topics` the group does not consume
   * (`subscribed` says which it does: those get GROUP_SUBSCRIBED_TO_TOPIC); they leave
   * `offsets` once committed.
   */
  delete(groupId: string, offsets: Map<string, CommittedOffset>, topics: OffsetTopics, subscribed: (topic: string) => boolean): OffsetDeleteResult | Promise<OffsetDeleteResult> {
    const now = this.deps.nowMs();
    const records: BatchRecord[] = [];
    const deleted: string[] = [];
    const out = topics.map((t) => ({
      name: t.name,
      partitions: t.partitionIndexes.map((p) => {
        if (subscribed(t.name)) return { partitionIndex: p, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC as number };
        const key = offsetKey(t.name, p);
        if (offsets.has(key)) {
          records.push(offsetCommitRecord(groupId, t.name, p, null, now));
          deleted.push(key);
        }
        return { partitionIndex: p, errorCode: ErrorCode.NONE as number };
      }),
    }));
    if (records.length === 0) return { errorCode: ErrorCode.NONE, topics: out };
    const ticket = this.deps.append(groupId, records);
    const error = appendErrorToGroupError(ticket.appendError, true);
    if (error !== ErrorCode.NONE) return { errorCode: error, topics: [] };
    return new Promise((resolve) => {
      this.deps.afterCommit(groupId, ticket, (code) => {
        if (code !== ErrorCode.NONE) return resolve({ errorCode: code, topics: [] });
        for (const k of deleted) offsets.delete(k);
        resolve({ errorCode: ErrorCode.NONE, topics: out });
      });
    });
  }

  /** Tombstones for every offset of a group that is being deleted. */
  tombstones(groupId: string, offsets: ReadonlyMap<string, unknown>, now: number): BatchRecord[] {
    return [...offsets.keys()].map((key) => {
      const { topic, partition } = splitOffsetKey(key);
      return offsetCommitRecord(groupId, topic, partition, null, now);
    });
  }

  /** Writes tombstones for the `keys` of `offsets`, then forgets them; on a failed append nothing
   * is forgotten and the next check tries again. */
  expire(groupId: string, offsets: Map<string, unknown>, keys: string[], now: number): void {
    if (keys.length === 0) return;
    const records = keys.map((key) => {
      const { topic, partition } = splitOffsetKey(key);
      return offsetCommitRecord(groupId, topic, partition, null, now);
    });
    if (this.deps.append(groupId, records).appendError !== ErrorCode.NONE) return;
    for (const k of keys) offsets.delete(k);
    this.deps.log.info({ groupId, partitions: keys.length }, 'expired committed offsets');
  }

  /**
   * Consumer groups (Kafka's rule for them): an offset expires `offsets.retention.minutes` after
   * its commit once the group is empty or no member subscribes to its topic.
   */
  expiredConsumerGroupOffsets(group: ConsumerGroup, now: number): string[] {
    const expired: string[] = [];
    for (const [key, o] of group.offsets) {
      const unused = group.size === 0 || !group.isSubscribedToTopic(splitOffsetKey(key).topic);
      const expires = o.expireTimestampMs !== null ? now >= o.expireTimestampMs : unused && now - o.commitTimestampMs >= this.deps.offsetsRetentionMs;
      if (expires) expired.push(key);
    }
    return expired;
  }

  /**
   * Classic groups, Kafka's rule (KIP-211): offsets of an empty group expire
   * `offsets.retention.minutes` after the group became empty (after the commit for a group that
   * never had members); offsets of topics a consumer-protocol group no longer subscribes to
   * expire that long after their commit; an explicit v2-4 retention time wins.
   */
  expiredClassicGroupOffsets(group: ClassicGroup, now: number): string[] {
    const retention = this.deps.offsetsRetentionMs;
    const expired: string[] = [];
    for (const [key, o] of group.offsets) {
      let expires: boolean;
      if (o.expireTimestampMs !== null) {
        expires = now >= o.expireTimestampMs;
      } else if (group.is(GroupState.Empty)) {
        const base = group.protocolType !== null ? group.stateTimestampMs : o.commitTimestampMs;
        expires = now - base >= retention;
      } else {
        const topic = splitOffsetKey(key).topic;
        expires = group.protocolType === 'consumer' && group.subscribedTopics !== null && !group.subscribedTopics.has(topic) && now - o.commitTimestampMs >= retention;
      }
      if (expires) expired.push(key);
    }
    return expired;
  }
}
