// Per-partition log configuration: Kafka's topic config names in camelCase, unit last.
// The broker maps server.properties (log.segment.bytes, ...) and topic overrides onto this.

export type TimestampType = 'CreateTime' | 'LogAppendTime';
export type CleanupPolicy = 'delete' | 'compact' | 'compact,delete';

/** Stands for Kafka's Long.MAX_VALUE defaults ("never"). */
export const NEVER = Number.MAX_SAFE_INTEGER;

export interface LogConfig {
  /** segment.bytes: roll the active segment before it would exceed this size. */
  segmentBytes: number;
  /** segment.ms: roll when the active segment's first batch is older than this. */
  segmentMs: number;
  /** segment.index.bytes: size of the (preallocated) offset index; a full index rolls. */
  segmentIndexBytes: number;
  /** index.interval.bytes: bytes of log between two sparse index entries. */
  indexIntervalBytes: number;
  /** retention.ms; -1 = unlimited. Compared against a segment's largest timestamp. */
  retentionMs: number;
  /** retention.bytes; -1 = unlimited. */
  retentionBytes: number;
  /** flush.messages: fsync after this many messages (NEVER = leave it to the OS). */
  flushMessages: number;
  /** flush.ms: fsync when the last flush is older than this (checked by the LogManager timer). */
  flushMs: number;
  /** max.message.bytes: largest batch accepted. */
  maxMessageBytes: number;
  /** message.timestamp.type. */
  messageTimestampType: TimestampType;
  /** cleanup.policy; only 'delete' (or 'compact,delete') enables time/size retention. */
  cleanupPolicy: CleanupPolicy;
  /** file.delete.delay.ms: kept for config compatibility; deletion here is immediate. */
  fileDeleteDelayMs: number;
  /** producer.id.expiration.ms: idle producers are forgotten after this long. */
  producerIdExpirationMs: number;
  /** delete.retention.ms: a tombstone stays this long after the cleaning that first kept it. */
  deleteRetentionMs: number;
  /** min.compaction.lag.ms: records younger than this (by timestamp) are not compacted. */
  minCompactionLagMs: number;
  /** max.compaction.lag.ms: a dirty record older than this makes the log eligible whatever its ratio. */
  maxCompactionLagMs: number;
  /** min.cleanable.dirty.ratio: dirty bytes / (clean + dirty) above which the log is cleaned. */
  minCleanableDirtyRatio: number;
}

export function defaultLogConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return {
    segmentBytes: 1024 * 1024 * 1024,
    segmentMs: 7 * 24 * 60 * 60 * 1000,
    segmentIndexBytes: 10 * 1024 * 1024,
    indexIntervalBytes: 4096,
    retentionMs: 7 * 24 * 60 * 60 * 1000,
    retentionBytes: -1,
    flushMessages: NEVER,
    flushMs: NEVER,
    maxMessageBytes: 1048588,
    messageTimestampType: 'CreateTime',
    cleanupPolicy: 'delete',
    fileDeleteDelayMs: 60000,
    producerIdExpirationMs: 86400000,
    deleteRetentionMs: 86400000,
    minCompactionLagMs: 0,
    maxCompactionLagMs: NEVER,
    minCleanableDirtyRatio: 0.5,
    ...overrides,
  };
}
