// File names inside a partition directory, as Kafka names them.
import * as path from 'node:path';

export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const TXN_INDEX_SUFFIX = '.txnindex';
export const SNAPSHOT_SUFFIX = '.snapshot';
export const DELETED_SUFFIX = '.deleted';
export const TMP_SUFFIX = '.tmp';
export const CLEAN_SHUTDOWN_FILE = '.kafka_cleanshutdown';
export const RECOVERY_POINT_CHECKPOINT_FILE = 'recovery-point-offset-checkpoint';
export const LOG_START_OFFSET_CHECKPOINT_FILE = 'log-start-offset-checkpoint';
/** In each partition directory (leader-epoch-cache.ts). */
export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const REPLICATION_CHECKPOINT_FILE = 'replication-offset-checkpoint';

/** 20-digit zero-padded offset, the stem of every segment and snapshot file. */
export function offsetFileStem(offset: number): string {
  return String(offset).padStart(20, '0');
}

export function segmentFilePath(dir: string, baseOffset: number, suffix: string): string {
  return path.join(dir, offsetFileStem(baseOffset) + suffix);
}

/** The offset a file is named after, or null when the name is not `<20 digits><suffix>`. */
export function offsetFromFileName(name: string, suffix: string): number | null {
  if (!name.endsWith(suffix)) return null;
  const stem = name.slice(0, name.length - suffix.length);
  if (!/^\d{20}$/.test(stem)) return null;
  return Number(stem);
}

/** `<topic>-<partition>`; the topic may itself contain dashes, the partition is after the last. */
export function partitionDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

export function parsePartitionDirName(name: string): { topic: string; partition: number } | null {
  const dash = name.lastIndexOf('-');
  if (dash <= 0) return null;
  const partitionText = name.slice(dash + 1);
  if (!/^\d+$/.test(partitionText)) return null;
  return { topic: name.slice(0, dash), partition: Number(partitionText) };
}
