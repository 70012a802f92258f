// Owns the log directories (log.dirs): opens every partition found at start-up, creates new ones,
// runs retention / flush / checkpoint timers, and writes the clean-shutdown marker on close.
//
// Start-up after a clean shutdown reads only directory listings, checkpoint files and the tail of
// each active segment; segment contents are validated only when the marker is missing. The marker
// is deleted as soon as it has been read, so a crash at any later point leads to recovery.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RecordsDecompressor } from './batches.js';
import { partitionKey, readOffsetCheckpoint, writeOffsetCheckpoint, fsyncDir, type OffsetCheckpoint } from './checkpoint.js';
import { systemClock, type Clock } from './clock.js';
import type { LogConfig } from './config.js';
import { CLEAN_SHUTDOWN_FILE, LOG_START_OFFSET_CHECKPOINT_FILE, RECOVERY_POINT_CHECKPOINT_FILE, REPLICATION_CHECKPOINT_FILE, parsePartitionDirName, partitionDirName } from './files.js';
import { DEFERRED_SYNC_CONCURRENCY, DeferredSync } from './deferred-sync.js';
import { MemoryPartitionLog } from './memory-partition-log.js';
import { PartitionLog, readHighWatermarks } from './partition-log.js';
import { PARTITION_METADATA_FILE, readPartitionMetadata, writePartitionMetadata, type PartitionMetadata } from './partition-metadata.js';
import type { PartitionStore } from './partition-store.js';
import type { RecoveryHooks } from './recovery.js';
import { loggerFor } from '../logger.js';
import { StorageStartupError, invariant } from './errors.js';
import { CleanerManager, type CleanerSettings } from './cleaner-manager.js';

export interface LogManagerOptions {
  /** log.dirs; ignored when inMemory. */
  logDirs: readonly string[];
  /** Config for partitions found at start-up (topic overrides come from configFor). */
  defaultConfig: LogConfig;
  /** Per-topic config for partitions found at start-up; defaults to defaultConfig. */
  configFor?: (topic: string) => LogConfig;
  clock?: Clock;
  /** Keep logs in memory (MemoryPartitionLog); nothing touches the disk. */
  inMemory?: boolean;
  /** log.retention.check.interval.ms (default 300000). */
  retentionCheckIntervalMs?: number;
  /** How often flush.ms is checked (Kafka: log.flush.scheduler.interval.ms); default 1000. */
  flushCheckIntervalMs?: number;
  /** log.flush.offset.checkpoint.interval.ms (default 60000). */
  checkpointIntervalMs?: number;
  recoveryHooks?: RecoveryHooks;
  decompress?: RecordsDecompressor;
  /** Topics whose logs recover strictly (PartitionLogOptions.strictRecovery): the metadata log. */
  strictRecoveryTopics?: readonly string[];
  /** The log cleaner (compaction); none when absent or in memory. */
  cleaner?: CleanerSettings;
}

interface HostedLog {
  store: PartitionStore;
  /** The log dir holding it; null in memory. */
  logDir: string | null;
  /** partition.metadata as last read or written; read at most once per process. */
  partitionMetadata?: PartitionMetadata;
}

export class LogManager {
  private readonly logs = new Map<string, HostedLog>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly clock: Clock;
  private closed = false;
  /** Partitions opened per log dir at start-up, and whether that dir had shut down cleanly. */
  readonly startup: { logDir: string; partitions: number; hadCleanShutdown: boolean }[] = [];

  /** The background log cleaner; null in memory or without cleaner settings. */
  readonly cleaner: CleanerManager | null;

  private constructor(private readonly options: LogManagerOptions) {
    this.clock = options.clock ?? systemClock;
    this.cleaner = options.cleaner === undefined || options.inMemory === true ? null : new CleanerManager(options.cleaner, this.clock, () => this.diskLogs());
  }

  /** The on-disk logs with their log dir, for the cleaner. */
  private *diskLogs(): IterableIterator<{ log: PartitionLog; logDir: string }> {
    for (const hosted of this.logs.values()) {
      if (hosted.logDir !== null && hosted.store instanceof PartitionLog) yield { log: hosted.store, logDir: hosted.logDir };
    }
  }

  /** Opens every partition in every log dir. Timers start with startTimers(). */
  static open(options: LogManagerOptions): LogManager {
    const manager = new LogManager(options);
    try {
      if (!options.inMemory) for (const dir of options.logDirs) manager.loadDir(dir);
    } catch (err) {
      manager.abandon();
      throw err;
    }
    return manager;
  }

  get inMemory(): boolean {
    return this.options.inMemory === true;
  }

  get(topic: string, partition: number): PartitionStore | undefined {
    return this.logs.get(partitionKey(topic, partition))?.store;
  }

  /**
   * The partition's log, opened at start-up or created now. With `topicId`, the directory is
   * tied to that topic id (partition.metadata, written when missing or damaged); a directory on
   * disk that this manager does not host (left by detach()) is moved aside first, so the data of
   * some other topic is never taken into this one.
   */
  getOrCreate(topic: string, partition: number, config: LogConfig = this.configFor(topic), topicId?: string): PartitionStore {
    this.ensureOpen();
    const key = partitionKey(topic, partition);
    const existing = this.logs.get(key);
    if (existing !== undefined) {
      if (topicId !== undefined) this.tieToTopicId(existing, topic, partition, topicId);
      return existing.store;
    }
    let hosted: HostedLog;
    if (this.inMemory) {
      hosted = { store: new MemoryPartitionLog(topic, partition, config, this.clock, this.options.decompress), logDir: null };
    } else {
      const logDir = this.leastLoadedDir();
      if (topicId !== undefined) for (const dir of this.options.logDirs) this.moveAsideIfPresent(dir, topic, partition);
      const store = PartitionLog.open(logDir, topic, partition, config, this.clock, {
        // A new partition has nothing to recover; if a directory was left behind, validate it.
        hadCleanShutdown: false,
        recoveryPointOffset: 0,
        managed: true,
        recoveryHooks: this.options.recoveryHooks,
        decompress: this.options.decompress,
        strictRecovery: this.options.strictRecoveryTopics?.includes(topic) === true,
      });
      hosted = { store, logDir };
      if (topicId !== undefined) this.tieToTopicId(hosted, topic, partition, topicId);
    }
    this.logs.set(key, hosted);
    return hosted.store;
  }

  /** What the partition's directory says about the topic it belongs to (in memory: missing). */
  topicIdOnDisk(topic: string, partition: number): PartitionMetadata {
    const hosted = this.logs.get(partitionKey(topic, partition));
    if (hosted === undefined || hosted.logDir === null) return { state: 'missing' };
    hosted.partitionMetadata ??= readPartitionMetadata(path.join(hosted.logDir, partitionDirName(topic, partition)));
    return hosted.partitionMetadata;
  }

  /** The partition's directory, or null in memory / when not hosted. */
  partitionDir(topic: string, partition: number): string | null {
    const hosted = this.logs.get(partitionKey(topic, partition));
    return hosted === undefined || hosted.logDir === null ? null : path.join(hosted.logDir, partitionDirName(topic, partition));
  }

  /** Closes a partition and forgets it, leaving its files where they are (not served, no retention). */
  detach(topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const hosted = this.logs.get(key);
    if (hosted === undefined) return;
    if (hosted.logDir !== null) this.cleaner?.forget(hosted.logDir, topic, partition);
    this.logs.delete(key);
    hosted.store.close();
  }

  private tieToTopicId(hosted: HostedLog, topic: string, partition: number, topicId: string): void {
    if (hosted.logDir === null) return;
    const dir = path.join(hosted.logDir, partitionDirName(topic, partition));
    const found = (hosted.partitionMetadata ??= readPartitionMetadata(dir));
    if (found.state === 'present') {
      invariant(found.topicId === topicId, `${dir} belongs to topic id ${found.topicId}, not ${topicId}`);
      return;
    }
    if (found.state === 'damaged') {
      loggerFor('storage').warn({ file: path.join(dir, PARTITION_METADATA_FILE), problem: found.problem, topicId }, 'partition.metadata is damaged; rewriting it from the metadata log');
    }
    writePartitionMetadata(dir, topicId);
    hosted.partitionMetadata = { state: 'present', topicId };
  }

  /** A directory this manager does not host (detach()ed at start-up) gets out of the way. */
  private moveAsideIfPresent(logDir: string, topic: string, partition: number): void {
    const dir = path.join(logDir, partitionDirName(topic, partition));
    if (!fs.existsSync(dir)) return;
    // Kafka's name for a log that belongs to no known topic; not a partition name, so start-up skips it.
    const aside = `${dir}.${this.clock.nowMs()}-stray`;
    fs.renameSync(dir, aside);
    fsyncDir(logDir);
    loggerFor('storage').warn({ dir, movedTo: aside }, 'moved a partition directory of an unknown topic aside to create a new partition of that name');
  }

  /** Every hosted partition. */
  *all(): IterableIterator<{ topic: string; partition: number; store: PartitionStore }> {
    for (const { store } of this.logs.values()) yield { topic: store.topic, partition: store.partition, store };
  }

  deletePartition(topic: string, partition: number): boolean {
    const key = partitionKey(topic, partition);
    const hosted = this.logs.get(key);
    if (hosted === undefined) return false;
    if (hosted.logDir !== null) this.cleaner?.forget(hosted.logDir, topic, partition);
    this.logs.delete(key);
    hosted.store.delete();
    return true;
  }

  /** Applies a topic's new config to all of its partitions. */
  updateConfig(topic: string, config: LogConfig): void {
    for (const { store } of this.logs.values()) if (store.topic === topic) store.updateConfig(config);
  }

  /** Retention on every partition; returns the number of segments deleted. */
  enforceRetention(nowMs: number = this.clock.nowMs()): number {
    let deleted = 0;
    for (const { store } of this.logs.values()) deleted += store.enforceRetention(nowMs);
    return deleted;
  }

  /** fsyncs partitions whose flush.ms has passed; returns how many were flushed. */
  flushDue(nowMs: number = this.clock.nowMs()): number {
    let flushed = 0;
    for (const { store } of this.logs.values()) if (store.flushIfDue(nowMs)) flushed++;
    return flushed;
  }

  /** Writes the recovery-point, log-start-offset and high watermark checkpoints of every log dir (atomically). */
  checkpoint(): void {
    if (this.inMemory) return;
    for (const dir of this.options.logDirs) {
      const recovery: OffsetCheckpoint = new Map();
      const start: OffsetCheckpoint = new Map();
      const highWatermarks: OffsetCheckpoint = new Map();
      for (const [key, hosted] of this.logs) {
        if (hosted.logDir !== dir) continue;
        recovery.set(key, hosted.store.recoveryPointOffset);
        start.set(key, hosted.store.logStartOffset);
        highWatermarks.set(key, hosted.store.highWatermark);
      }
      writeOffsetCheckpoint(path.join(dir, RECOVERY_POINT_CHECKPOINT_FILE), recovery);
      writeOffsetCheckpoint(path.join(dir, LOG_START_OFFSET_CHECKPOINT_FILE), start);
      writeOffsetCheckpoint(path.join(dir, REPLICATION_CHECKPOINT_FILE), highWatermarks);
    }
  }

  /** Retention, flush and checkpoint timers; unref'd so they never keep the process alive. */
  startTimers(): void {
    if (this.timers.length > 0) return;
    const every = (ms: number, fn: () => void): void => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    every(this.options.retentionCheckIntervalMs ?? 300000, () => this.enforceRetention());
    every(this.options.flushCheckIntervalMs ?? 1000, () => this.flushDue());
    if (!this.inMemory) every(this.options.checkpointIntervalMs ?? 60000, () => this.checkpoint());
    this.cleaner?.start();
  }

  /** How many partition logs are open here (the metadata log included). */
  get logCount(): number {
    return this.logs.size;
  }

  /** Clean shutdown: close every log, write checkpoints, then the clean-shutdown marker. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    void this.stopTimers();
    for (const { store } of this.logs.values()) store.close();
    this.markClean();
  }

  /**
   * The same clean shutdown for many logs: every log closes without waiting on the disk, then
   * their fsyncs and producer snapshots run together (DeferredSync), and only then are the
   * checkpoints and the clean-shutdown marker written. Thousands of partitions close in a
   * fraction of the time one fsync after another took.
   */
  async shutdown(concurrency = DEFERRED_SYNC_CONCURRENCY): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    // The cleaner's workers end while the logs close (they only ever write .cleaned files).
    const cleanerStopped = this.stopTimers();
    const deferred = new DeferredSync();
    for (const { store } of this.logs.values()) store.close(deferred);
    await Promise.all([deferred.run(concurrency), cleanerStopped]);
    this.markClean();
  }

  /** Settles once the cleaner's workers have ended. */
  private stopTimers(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
    return this.cleaner?.stop() ?? Promise.resolve();
  }

  /** Checkpoints, then the marker that lets the next start-up trust them. */
  private markClean(): void {
    this.checkpoint();
    if (this.inMemory) return;
    for (const dir of this.options.logDirs) {
      fs.writeFileSync(path.join(dir, CLEAN_SHUTDOWN_FILE), '');
      fsyncDir(dir);
    }
  }

  /**
   * Start-up failed: closes every log (their descriptors go) but writes neither checkpoints nor
   * the clean-shutdown marker, so the next start-up checks everything again.
   */
  abandon(): void {
    if (this.closed) return;
    this.closed = true;
    void this.stopTimers();
    for (const { store } of this.logs.values()) store.close();
    this.logs.clear();
  }

  private loadDir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true });
    const marker = path.join(dir, CLEAN_SHUTDOWN_FILE);
    const hadCleanShutdown = fs.existsSync(marker);
    const recoveryPoints = readRecoveryPoints(path.join(dir, RECOVERY_POINT_CHECKPOINT_FILE));
    const startOffsets = readLogStartOffsets(path.join(dir, LOG_START_OFFSET_CHECKPOINT_FILE));
    const highWatermarks = readHighWatermarks(path.join(dir, REPLICATION_CHECKPOINT_FILE));
    this.cleaner?.loadCheckpoint(dir);
    if (hadCleanShutdown) {
      fs.rmSync(marker);
      fsyncDir(dir);
    }
    let partitions = 0;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (!entry.isDirectory()) continue;
      const parsed = parsePartitionDirName(entry.name);
      if (parsed === null) continue;
      const key = partitionKey(parsed.topic, parsed.partition);
      if (this.logs.has(key)) throw new Error(`partition ${entry.name} found in two log dirs (${this.logs.get(key)!.logDir} and ${dir})`);
      const store = PartitionLog.open(dir, parsed.topic, parsed.partition, this.configFor(parsed.topic), this.clock, {
        recoveryPointOffset: recoveryPoints.get(key) ?? 0,
        logStartOffset: startOffsets.get(key),
        highWatermark: highWatermarks.get(key),
        // A partition missing from the checkpoint was created after it: validate it.
        hadCleanShutdown: hadCleanShutdown && recoveryPoints.has(key),
        managed: true,
        recoveryHooks: this.options.recoveryHooks,
        decompress: this.options.decompress,
        strictRecovery: this.options.strictRecoveryTopics?.includes(parsed.topic) === true,
      });
      this.logs.set(key, { store, logDir: dir });
      partitions++;
    }
    this.startup.push({ logDir: dir, partitions, hadCleanShutdown });
  }

  private configFor(topic: string): LogConfig {
    return this.options.configFor?.(topic) ?? this.options.defaultConfig;
  }

  private leastLoadedDir(): string {
    const counts = new Map<string, number>(this.options.logDirs.map((d) => [d, 0]));
    for (const h of this.logs.values()) if (h.logDir !== null) counts.set(h.logDir, (counts.get(h.logDir) ?? 0) + 1);
    let best: string | undefined;
    for (const [dir, n] of counts) if (best === undefined || n < counts.get(best)!) best = dir;
    if (best === undefined) throw new Error('LogManager has no log dirs');
    return best;
  }

  private ensureOpen(): void {
    if (this.closed) throw new Error('LogManager is closed');
  }
}

/**
 * The recovery points are an optimisation: a damaged file is reported and replaced by none, so
 * every partition of the dir is validated from its first segment (slow, but nothing is lost).
 */
function readRecoveryPoints(file: string): OffsetCheckpoint {
  try {
    return readOffsetCheckpoint(file);
  } catch (err) {
    loggerFor('storage').warn({ file, problem: (err as Error).message }, 'recovery-point checkpoint is damaged; validating every partition of its log dir');
    return new Map();
  }
}

/** The log start offsets say which records were deleted (DeleteRecords, retention): no guessing. */
function readLogStartOffsets(file: string): OffsetCheckpoint {
  try {
    return readOffsetCheckpoint(file);
  } catch (err) {
    throw new StorageStartupError(
      `${file} is damaged (${(err as Error).message}). It holds the log start offset of each partition, below which records were deleted; ` +
        'without it they could reappear. Refusing to start: restore the file, or remove it to start each log at its first segment.',
      file,
    );
  }
}
