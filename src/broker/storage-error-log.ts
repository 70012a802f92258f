// Storage errors (disk full, read-only file system, I/O errors) answered KAFKA_STORAGE_ERROR are
// logged at ERROR, but a failing disk fails every request of a producer that retries: the first
// error of each kind on each partition is logged at once, the same one again only after
// `intervalMs`, with how many were not logged in between.
import type { Logger } from '../logger.js';
import { KafkaStorageError, type StorageError } from '../storage/errors.js';

interface Seen {
  lastLoggedMs: number;
  suppressed: number;
}

export class StorageErrorLog {
  /** Insertion-ordered, so the oldest entry goes first when the bound is reached. */
  private readonly seen = new Map<string, Seen>();

  constructor(
    private readonly log: Logger,
    private readonly nowMs: () => number,
    readonly intervalMs = 60_000,
    /** Bound on the partition × error kinds remembered. */
    readonly maxEntries = 10_000,
  ) {}

  /** Reports a storage error of `operation` ('append', 'read') on one partition. */
  report(operation: string, topic: string, partition: number, err: StorageError): void {
    const kind = err instanceof KafkaStorageError && err.osCode !== null ? err.osCode : err.name;
    const key = `${operation}\u0000${topic}\u0000${partition}\u0000${kind}`;
    const now = this.nowMs();
    const seen = this.seen.get(key);
    if (seen !== undefined && now - seen.lastLoggedMs < this.intervalMs) {
      seen.suppressed++;
      return;
    }
    const suppressed = seen?.suppressed ?? 0;
    this.seen.delete(key);
    if (this.seen.size >= this.maxEntries) this.seen.delete(this.seen.keys().next().value!);
    this.seen.set(key, { lastLoggedMs: now, suppressed: 0 });
    this.log.error(
      { topic, partition, operation, errorKind: kind, error: err.message, ...(seen !== undefined ? { notLoggedSinceLast: suppressed } : {}) },
      `${operation} failed with a storage error (KAFKA_STORAGE_ERROR)`,
    );
  }
}
