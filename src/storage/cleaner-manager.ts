// The background log cleaner of a LogManager (Kafka's LogCleaner threads plus LogCleanerManager):
// picks the dirtiest compacted log, cleans it in slices on the event loop (each slice at most
// log.cleaner.io.buffer.size of reading or writing, so produce and fetch run between slices),
// throttled to log.cleaner.io.max.bytes.per.second, and records how far each log is clean in a
// `cleaner-offset-checkpoint` file per log dir.
//
// Choosing (Kafka's grabFilthiestCompactedLog): a log whose cleanup.policy includes compact is
// eligible when its dirty ratio reaches min.cleanable.dirty.ratio, when its oldest dirty record is
// older than max.compaction.lag.ms, or when a tombstone it keeps has reached its delete horizon.
// Due logs (max lag or horizon) go first, then the highest ratio. log.cleaner.threads rounds run
// at once, each on its own log. With none eligible, the next look is log.cleaner.backoff.ms later.
//
// Time comes from the injected clock; the timers here only pace the slices (tests call
// cleanOnce(), which runs a whole round synchronously).
import * as path from 'node:path';
import type { CleanerCodec } from './cleaner-batch.js';
import { partitionKey, readOffsetCheckpoint, writeOffsetCheckpoint, type OffsetCheckpoint } from './checkpoint.js';
import type { Clock } from './clock.js';
import { LogCleaner, type CleanStats, type CleanableSection } from './log-cleaner.js';
import { PartitionLog } from './partition-log.js';
import type { SwapHooks } from './segment-swap.js';
import { LogClosedError } from './errors.js';
import { loggerFor } from '../logger.js';

export const CLEANER_OFFSET_CHECKPOINT_FILE = 'cleaner-offset-checkpoint';

export interface CleanerSettings {
  /** log.cleaner.enable */
  enabled: boolean;
  /** log.cleaner.threads: rounds running at once (0 = none). */
  threads: number;
  /** log.cleaner.dedupe.buffer.size, shared by the threads. */
  dedupeBufferBytes: number;
  /** log.cleaner.io.buffer.size */
  ioBufferBytes: number;
  /** log.cleaner.io.buffer.load.factor */
  loadFactor: number;
  /** log.cleaner.io.max.bytes.per.second (Infinity = unthrottled). */
  ioMaxBytesPerSecond: number;
  /** log.cleaner.backoff.ms */
  backoffMs: number;
  codec: CleanerCodec;
  hooks?: SwapHooks;
}

/** One partition's figures, for metrics and tools. */
export interface CleanerPartitionView {
  topic: string;
  partition: number;
  firstDirtyOffset: number;
  dirtyRatio: number;
  cleanBytes: number;
  dirtyBytes: number;
  uncleanable: boolean;
  lastRound: CleanStats | null;
}

export interface CleanerTotals {
  rounds: number;
  bytesRead: number;
  bytesWritten: number;
  recordsRemoved: number;
  /** Sum of the rounds' wall time (ms on the injected clock), for the MB/s figure. */
  busyMs: number;
  /** The largest dirty ratio seen at the last look (Kafka's max-dirty-percent / 100). */
  maxDirtyRatio: number;
}

interface Round {
  log: PartitionLog;
  slices: Generator<number, CleanStats>;
  startedMs: number;
  bytes: number;
}

/** Largest delay used to pace slices: a throttled round still looks at the log twice a second. */
const MAX_THROTTLE_WAIT_MS = 500;

export class CleanerManager {
  private readonly checkpoints = new Map<string, OffsetCheckpoint>();
  private readonly inProgress = new Map<string, Round>();
  private readonly uncleanable = new Set<string>();
  /** Earliest delete horizon of a kept tombstone, per partition (in memory; a restart forgets). */
  private readonly horizons = new Map<string, number>();
  private readonly lastRounds = new Map<string, CleanStats>();
  private readonly cleaners: LogCleaner[] = [];
  private readonly idleCleaners: LogCleaner[] = [];
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  readonly totals: CleanerTotals = { rounds: 0, bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, busyMs: 0, maxDirtyRatio: 0 };

  constructor(
    private readonly settings: CleanerSettings,
    private readonly clock: Clock,
    /** The compacted logs to consider, with the log dir that holds each. */
    private readonly logs: () => Iterable<{ log: PartitionLog; logDir: string }>,
  ) {
    const threads = Math.max(1, settings.threads);
    for (let i = 0; i < threads; i++) {
      const cleaner = new LogCleaner({
        dedupeBufferBytes: Math.floor(settings.dedupeBufferBytes / threads),
        ioBufferBytes: settings.ioBufferBytes,
        loadFactor: settings.loadFactor,
        codec: settings.codec,
        clock,
        hooks: settings.hooks,
      });
      this.cleaners.push(cleaner);
      this.idleCleaners.push(cleaner);
    }
  }

  /** Partitions given up on after an error (until they are deleted or the broker restarts). */
  get uncleanablePartitions(): number {
    return this.uncleanable.size;
  }

  /** Reads the checkpoint file of a log dir (at start-up). A damaged file only costs re-cleaning. */
  loadCheckpoint(logDir: string): void {
    const file = path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE);
    try {
      this.checkpoints.set(logDir, readOffsetCheckpoint(file));
    } catch (err) {
      loggerFor('storage').warn({ file, problem: (err as Error).message }, 'cleaner offset checkpoint is damaged; compacted logs will be cleaned from their start');
      this.checkpoints.set(logDir, new Map());
    }
  }

  /** The cleaner checkpoint of a partition, or null. */
  checkpointOf(logDir: string, topic: string, partition: number): number | null {
    return this.checkpoints.get(logDir)?.get(partitionKey(topic, partition)) ?? null;
  }

  /** Starts the background rounds (no-op when log.cleaner.enable=false or no threads). */
  start(): void {
    if (!this.settings.enabled || this.settings.threads === 0 || !this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    for (const [key, round] of this.inProgress) {
      round.slices.return(undefined as never); // runs the round's finally: its .cleaned files go
      this.inProgress.delete(key);
    }
    this.idleCleaners.length = 0;
    this.idleCleaners.push(...this.cleaners);
  }

  /** Forget a partition that is gone (deleted or detached): its round ends, its checkpoint entry goes. */
  forget(logDir: string, topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const round = this.inProgress.get(key);
    if (round !== undefined) {
      this.inProgress.delete(key);
      try {
        round.slices.return(undefined as never);
      } catch {
        /* the log is closed already; its directory is going */
      }
    }
    this.uncleanable.delete(key);
    this.horizons.delete(key);
    this.lastRounds.delete(key);
    const cp = this.checkpoints.get(logDir);
    if (cp?.delete(key) === true) this.writeCheckpoint(logDir);
  }

  /** Each compacted log's figures now (the tool view and metrics). */
  view(): CleanerPartitionView[] {
    const nowMs = this.clock.nowMs();
    const out: CleanerPartitionView[] = [];
    for (const { log, logDir } of this.logs()) {
      if (log.isClosed || log.config.cleanupPolicy === 'delete') continue;
      const section = LogCleaner.cleanableSection(log, this.checkpointOf(logDir, log.topic, log.partition), nowMs);
      const key = partitionKey(log.topic, log.partition);
      out.push({
        topic: log.topic,
        partition: log.partition,
        firstDirtyOffset: section.firstDirtyOffset,
        dirtyRatio: section.dirtyRatio,
        cleanBytes: section.cleanBytes,
        dirtyBytes: section.dirtyBytes,
        uncleanable: this.uncleanable.has(key),
        lastRound: this.lastRounds.get(key) ?? null,
      });
    }
    return out;
  }

  /** Picks the log to clean next, or null (Kafka's grabFilthiestCompactedLog). */
  filthiest(nowMs: number = this.clock.nowMs()): { log: PartitionLog; logDir: string; section: CleanableSection } | null {
    let best: { log: PartitionLog; logDir: string; section: CleanableSection; due: number } | null = null;
    let maxRatio = 0;
    for (const { log, logDir } of this.logs()) {
      if (log.isClosed || log.config.cleanupPolicy === 'delete') continue;
      const key = partitionKey(log.topic, log.partition);
      if (this.inProgress.has(key) || this.uncleanable.has(key)) continue;
      const section = LogCleaner.cleanableSection(log, this.checkpointOf(logDir, log.topic, log.partition), nowMs);
      maxRatio = Math.max(maxRatio, section.dirtyRatio);
      const horizon = this.horizons.get(key);
      const horizonReached = horizon !== undefined && horizon <= nowMs;
      // How overdue the log is: max.compaction.lag.ms passed, or a tombstone's horizon reached.
      const due = Math.max(section.maxCompactionDelayMs, horizonReached ? nowMs - horizon : 0);
      const byRatio = section.dirtyBytes > 0 && section.dirtyRatio >= log.config.minCleanableDirtyRatio;
      if (due <= 0 && !byRatio && !horizonReached) continue;
      if (best === null || due > best.due || (due === best.due && section.dirtyRatio > best.section.dirtyRatio)) best = { log, logDir, section, due };
    }
    this.totals.maxDirtyRatio = maxRatio;
    return best;
  }

  /**
   * Runs one whole round synchronously on the filthiest log (tests, tools); returns its figures,
   * or null when no log is eligible or every cleaner is in a background round (a cleaner's offset
   * map and write buffer serve one round at a time).
   */
  cleanOnce(): CleanStats | null {
    if (this.idleCleaners.length === 0) return null;
    const chosen = this.filthiest();
    if (chosen === null) return null;
    const cleaner = this.idleCleaners.pop()!;
    try {
      const slices = cleaner.cleanInSlices(chosen.log, this.checkpointOf(chosen.logDir, chosen.log.topic, chosen.log.partition));
      const startedMs = this.clock.nowMs();
      for (;;) {
        const r = this.step(chosen.log, slices);
        if (r === 'failed') return null;
        if (r !== 'more') {
          this.finish(chosen.log, chosen.logDir, r, startedMs);
          return r;
        }
      }
    } finally {
      this.idleCleaners.push(cleaner);
    }
  }

  // ---- background rounds

  private schedule(delayMs: number): void {
    if (this.stopped || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.startRounds();
    }, delayMs);
    this.timer.unref();
  }

  private startRounds(): void {
    if (this.stopped) return;
    let started = 0;
    while (this.idleCleaners.length > 0) {
      const chosen = this.filthiest();
      if (chosen === null) break;
      const cleaner = this.idleCleaners.pop()!;
      const key = partitionKey(chosen.log.topic, chosen.log.partition);
      const round: Round = {
        log: chosen.log,
        slices: cleaner.cleanInSlices(chosen.log, this.checkpointOf(chosen.logDir, chosen.log.topic, chosen.log.partition)),
        startedMs: this.clock.nowMs(),
        bytes: 0,
      };
      this.inProgress.set(key, round);
      started++;
      this.runSlices(key, chosen.logDir, round, cleaner);
    }
    // Nothing to do (or every cleaner busy): look again after the backoff.
    if (started === 0 && this.inProgress.size === 0) this.schedule(this.settings.backoffMs);
  }

  /** One slice now, the next after setImmediate or the throttle's wait. */
  private runSlices(key: string, logDir: string, round: Round, cleaner: LogCleaner): void {
    if (this.stopped || this.inProgress.get(key) !== round) return;
    const r = this.step(round.log, round.slices, round);
    if (r === 'more') {
      const waitMs = this.throttleWaitMs(round);
      const next = () => this.runSlices(key, logDir, round, cleaner);
      if (waitMs > 0) setTimeout(next, Math.min(waitMs, MAX_THROTTLE_WAIT_MS)).unref();
      else setImmediate(next);
      return;
    }
    this.inProgress.delete(key);
    this.idleCleaners.push(cleaner);
    if (r !== 'failed') this.finish(round.log, logDir, r, round.startedMs);
    // Right away: another log may be dirty too.
    this.schedule(0);
  }

  /** Kafka's Throttler: how long to wait so the round's bytes stay under the rate. */
  private throttleWaitMs(round: Round): number {
    const rate = this.settings.ioMaxBytesPerSecond;
    if (!Number.isFinite(rate) || rate <= 0) return 0;
    const elapsedMs = this.clock.nowMs() - round.startedMs;
    return Math.ceil((round.bytes / rate) * 1000 - elapsedMs);
  }

  private step(log: PartitionLog, slices: Generator<number, CleanStats>, round?: Round): 'more' | 'failed' | CleanStats {
    try {
      const r = slices.next();
      if (r.done === true) return r.value;
      if (round !== undefined) round.bytes += r.value;
      return 'more';
    } catch (err) {
      if (err instanceof LogClosedError || log.isClosed) return 'failed'; // deleted or closed under the round
      // Kafka marks the partition uncleanable and goes on with the others.
      const key = partitionKey(log.topic, log.partition);
      this.uncleanable.add(key);
      loggerFor('storage').error({ topic: log.topic, partition: log.partition, err: (err as Error).message }, 'log cleaning failed; the partition is marked uncleanable');
      return 'failed';
    }
  }

  private finish(log: PartitionLog, logDir: string, stats: CleanStats, startedMs: number): void {
    const key = partitionKey(log.topic, log.partition);
    this.totals.rounds++;
    this.totals.bytesRead += stats.bytesRead;
    this.totals.bytesWritten += stats.bytesWritten;
    this.totals.recordsRemoved += stats.recordsRead - stats.recordsKept;
    this.totals.busyMs += this.clock.nowMs() - startedMs;
    this.lastRounds.set(key, stats);
    if (stats.nextTombstoneHorizonMs >= 0) this.horizons.set(key, stats.nextTombstoneHorizonMs);
    else this.horizons.delete(key);
    if (log.isClosed) return;
    let cp = this.checkpoints.get(logDir);
    if (cp === undefined) this.checkpoints.set(logDir, (cp = new Map()));
    cp.set(key, stats.endOffset);
    this.writeCheckpoint(logDir);
    if (stats.recordsRead > 0) {
      // One line per round, as Kafka's log cleaner reports each cleaning (rare: dirty-ratio bound).
      const ms = this.clock.nowMs() - startedMs;
      const mbRead = stats.bytesRead / (1024 * 1024);
      loggerFor('storage').info(
        { topic: log.topic, partition: log.partition, ...stats, ms, mbPerSecond: ms > 0 ? Math.round((mbRead / ms) * 10_000) / 10 : null },
        'cleaned log',
      );
    }
  }

  private writeCheckpoint(logDir: string): void {
    try {
      writeOffsetCheckpoint(path.join(logDir, CLEANER_OFFSET_CHECKPOINT_FILE), this.checkpoints.get(logDir) ?? new Map());
    } catch (err) {
      // Only costs re-cleaning after a restart.
      loggerFor('storage').warn({ logDir, err: (err as Error).message }, 'could not write the cleaner offset checkpoint');
    }
  }
}
