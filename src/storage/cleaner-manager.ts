// The background log cleaner of a LogManager (Kafka's LogCleaner threads plus LogCleanerManager):
// picks the dirtiest compacted log, has one of its worker threads (log.cleaner.threads of them,
// cleaner-thread.ts) do the reading and writing of the round, throttled there to
// log.cleaner.io.max.bytes.per.second, swaps each cleaned group into the log here on the event
// loop, and records how far each log is clean in a `cleaner-offset-checkpoint` file per log dir.
//
// A round on the event loop is: plan the map (LogCleaner.planMap) -> the worker builds it ->
// for each group: what the group needs (groupTask) -> the worker writes <base>.*.cleaned and the
// swap manifest -> swapGroup, synchronously, which finds out whether the log still holds the group
// (retention, truncation or DeleteRecords may have removed it while the worker wrote: the round
// then ends) and commits the swap; the swap's later steps wait for the disk on the thread pool
// (PartitionLog.finishSwap) while the worker cleans the next group.
// An error of the work marks the partition uncleanable (Kafka's behaviour), except a file gone
// under a log that changed; a worker that dies is logged and replaced, and a partition whose
// rounds kill it twice in a row is marked uncleanable. stop() cancels and ends the workers.
//
// Choosing (Kafka's grabFilthiestCompactedLog): a log whose cleanup.policy includes compact is
// eligible when its dirty ratio reaches min.cleanable.dirty.ratio, when its oldest dirty record is
// older than max.compaction.lag.ms, or when a tombstone it keeps has reached its delete horizon.
// Due logs (max lag or horizon) go first, then the highest ratio. log.cleaner.threads rounds run
// at once, each on its own log. With none eligible, the next look is log.cleaner.backoff.ms later.
//
// reconfigure() applies changed log.cleaner.* broker configs at run time (Kafka restarts its
// cleaner for that): the idle workers end, new ones with the new settings take the next rounds,
// and a busy worker ends after its round; a log in a round is not picked again, so no log ever
// has two rounds at once.
//
// Time comes from the injected clock; the timers here only pace the looks (tests call
// cleanOnce(), which runs a whole round synchronously on the event loop).
import * as path from 'node:path';
import type { CleanerCodec } from './cleaner-batch.js';
import { partitionKey, readOffsetCheckpoint, writeOffsetCheckpoint, type OffsetCheckpoint } from './checkpoint.js';
import type { Clock } from './clock.js';
import { LogCleaner, type CleanStats, type CleanableSection } from './log-cleaner.js';
import { addWorkStats, emptyWorkStats } from './cleaner-work.js';
import { CleanerThread, CleanerWorkError, WorkerCrashedError } from './cleaner-thread.js';
import { LogSegment } from './log-segment.js';
import { PartitionLog } from './partition-log.js';
import { CLEANED_SUFFIX, removeSwapManifest, type SwapHooks } from './segment-swap.js';
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
  /** For cleanOnce() on the event loop; the workers build theirs from maxUncompressedBytes. */
  codec: CleanerCodec;
  /** Bound on one stored batch's records once decompressed (the workers' codec). */
  maxUncompressedBytes: number;
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
  thread: CleanerThread;
}

/** The settings a dynamic broker config change may replace (Kafka's LogCleaner.reconfigure). */
export type CleanerTuning = Pick<CleanerSettings, 'threads' | 'dedupeBufferBytes' | 'ioBufferBytes' | 'loadFactor' | 'ioMaxBytesPerSecond' | 'backoffMs'>;

/** A partition whose rounds killed the worker this many times in a row is marked uncleanable. */
const MAX_WORKER_CRASHES = 2;

export class CleanerManager {
  private readonly checkpoints = new Map<string, OffsetCheckpoint>();
  private readonly inProgress = new Map<string, Round>();
  private readonly uncleanable = new Set<string>();
  /** Earliest delete horizon of a kept tombstone, per partition (in memory; a restart forgets). */
  private readonly horizons = new Map<string, number>();
  private readonly lastRounds = new Map<string, CleanStats>();
  /** Worker crashes of each partition's rounds since its last round that ended. */
  private readonly crashes = new Map<string, number>();
  private settings: CleanerSettings;
  /** The current workers; replaced as a whole by reconfigure(). */
  private threads: CleanerThread[] = [];
  private idleThreads: CleanerThread[] = [];
  /** Workers of older settings still finishing a round; each ends when its round does. */
  private readonly retiring = new Set<CleanerThread>();
  /** start() was called and stop() was not: reconfigure() to threads > 0 starts the rounds. */
  private started = false;
  /** cleanOnce()'s cleaner on the event loop, made on first use. */
  private inlineCleaner: LogCleaner | null = null;
  private timer: NodeJS.Timeout | null = null;
  private stopped = true;
  readonly totals: CleanerTotals = { rounds: 0, bytesRead: 0, bytesWritten: 0, recordsRemoved: 0, busyMs: 0, maxDirtyRatio: 0 };

  constructor(
    settings: CleanerSettings,
    private readonly clock: Clock,
    /** The compacted logs to consider, with the log dir that holds each. */
    private readonly logs: () => Iterable<{ log: PartitionLog; logDir: string }>,
  ) {
    this.settings = { ...settings };
    this.makeThreads();
  }

  /** The workers of the current settings (they start on their first round), each with its
   * share of the dedupe buffer. */
  private makeThreads(): void {
    const settings = this.settings;
    const threads = Math.max(0, settings.threads);
    this.threads = [];
    for (let i = 0; i < threads; i++) {
      const thread = new CleanerThread(
        {
          dedupeBufferBytes: Math.floor(settings.dedupeBufferBytes / threads),
          ioBufferBytes: settings.ioBufferBytes,
          loadFactor: settings.loadFactor,
          maxUncompressedBytes: settings.maxUncompressedBytes,
          ioMaxBytesPerSecond: settings.ioMaxBytesPerSecond,
        },
        (err) => loggerFor('storage').error({ err: err.message }, "the log cleaner's worker thread died; a new one takes the next round"),
      );
      this.threads.push(thread);
    }
    this.idleThreads = [...this.threads];
  }

  /** The current settings (tests, tools). */
  get tuning(): CleanerTuning {
    const { threads, dedupeBufferBytes, ioBufferBytes, loadFactor, ioMaxBytesPerSecond, backoffMs } = this.settings;
    return { threads, dedupeBufferBytes, ioBufferBytes, loadFactor, ioMaxBytesPerSecond, backoffMs };
  }

  /**
   * Applies changed settings at run time; returns whether anything changed. A change the workers
   * carry (threads, buffers, throttle) replaces them: idle ones end now, busy ones after their
   * round (that log stays taken until then), and new ones take the next rounds. Threads 0 stops
   * new rounds; from 0, rounds start (once start() was called).
   */
  reconfigure(next: CleanerTuning): boolean {
    const before = this.tuning;
    const changed = (Object.keys(before) as (keyof CleanerTuning)[]).filter((k) => before[k] !== next[k]);
    if (changed.length === 0) return false;
    this.settings = { ...this.settings, ...next };
    this.inlineCleaner = null;
    if (changed.some((k) => k !== 'backoffMs')) {
      const idle = new Set(this.idleThreads);
      for (const t of this.threads) {
        if (idle.has(t)) void t.stop();
        else this.retiring.add(t);
      }
      this.makeThreads();
    }
    loggerFor('storage').info({ changed, ...this.tuning, finishingRounds: this.retiring.size }, 'log cleaner reconfigured');
    if (this.stopped) {
      if (this.started) this.start();
    } else {
      // The next look under the new settings (a pending backoff may be long).
      if (this.timer !== null) clearTimeout(this.timer);
      this.timer = null;
      this.schedule(0);
    }
    return true;
  }

  /** The worker threads (tests). */
  get workerThreads(): readonly CleanerThread[] {
    return this.threads;
  }

  /** Whether a background round is under way. */
  get busy(): boolean {
    return this.inProgress.size > 0;
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
    this.started = true;
    if (!this.settings.enabled || this.settings.threads === 0 || !this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  /**
   * Stops the background rounds: no swap happens after this call; the workers are cancelled and
   * ended (the promise settles once they are; a worker finishes a blocking system call first).
   */
  stop(): Promise<void> {
    this.started = false;
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.inProgress.clear();
    const all = [...this.threads, ...this.retiring];
    this.retiring.clear();
    return Promise.all(all.map((t) => t.stop())).then(() => undefined);
  }

  /** Forget a partition that is gone (deleted or detached): its round ends, its checkpoint entry goes. */
  forget(logDir: string, topic: string, partition: number): void {
    const key = partitionKey(topic, partition);
    const round = this.inProgress.get(key);
    if (round !== undefined) {
      // The round sees it is no longer current and swaps nothing; the worker stops its work.
      this.inProgress.delete(key);
      round.thread.cancel();
    }
    this.uncleanable.delete(key);
    this.crashes.delete(key);
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
   * Runs one whole round synchronously on the filthiest log, on the event loop (tests, tools);
   * returns its figures, or null when no log is eligible (a log in a background round is not).
   */
  cleanOnce(): CleanStats | null {
    const chosen = this.filthiest();
    if (chosen === null) return null;
    const cleaner = (this.inlineCleaner ??= new LogCleaner({
      dedupeBufferBytes: Math.floor(this.settings.dedupeBufferBytes / Math.max(1, this.settings.threads)),
      ioBufferBytes: this.settings.ioBufferBytes,
      loadFactor: this.settings.loadFactor,
      codec: this.settings.codec,
      clock: this.clock,
      hooks: this.settings.hooks,
    }));
    const startedMs = this.clock.nowMs();
    let stats: CleanStats;
    try {
      stats = cleaner.clean(chosen.log, this.checkpointOf(chosen.logDir, chosen.log.topic, chosen.log.partition));
    } catch (err) {
      this.failed(chosen.log, err as Error);
      return null;
    }
    this.finish(chosen.log, chosen.logDir, stats, startedMs);
    return stats;
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
    // threads = 0 (reconfigured): rounds in flight finish; reconfigure() looks again.
    if (this.threads.length === 0) return;
    let started = 0;
    while (this.idleThreads.length > 0) {
      const chosen = this.filthiest();
      if (chosen === null) break;
      const thread = this.idleThreads.pop()!;
      const key = partitionKey(chosen.log.topic, chosen.log.partition);
      const round: Round = { log: chosen.log, thread };
      this.inProgress.set(key, round);
      started++;
      void this.runRound(key, chosen.logDir, round).finally(() => {
        if (this.inProgress.get(key) === round) this.inProgress.delete(key);
        if (this.retiring.delete(thread)) void thread.stop();
        else if (this.threads.includes(thread)) this.idleThreads.push(thread);
        // Right away: another log may be dirty too.
        this.schedule(0);
      });
    }
    // Nothing to do (or every cleaner busy): look again after the backoff.
    if (started === 0 && this.inProgress.size === 0) this.schedule(this.settings.backoffMs);
  }

  /** One round with its work on `round.thread`; never rejects. */
  private async runRound(key: string, logDir: string, round: Round): Promise<void> {
    const { log, thread } = round;
    const current = () => !this.stopped && this.inProgress.get(key) === round && !log.isClosed;
    const startedMs = this.clock.nowMs();
    const nowMs = startedMs;
    const dir = log.dir;
    const generation = thread.generation;
    let cleanedBase: number | null = null;
    /** The segments the worker reads for the request in flight. */
    let reading: readonly LogSegment[] = [];
    // The round's time on the event loop (planning, swaps), for the log line: what requests wait for.
    const onLoop = { eventLoopMs: 0, maxSwapMs: 0 };
    try {
      let t = this.clock.nowMs();
      const plan = LogCleaner.planMap(log, this.checkpointOf(logDir, log.topic, log.partition), nowMs);
      const stats = LogCleaner.startStats(log, plan.section);
      const work = emptyWorkStats();
      const segmentConfig = { ...log.cleanerSegmentConfig };
      onLoop.eventLoopMs += this.clock.nowMs() - t;
      reading = plan.segments;
      const map = await thread.request({ kind: 'map', generation, dir, segments: plan.segments.map((s) => s.baseOffset), segmentConfig, task: plan.task });
      addWorkStats(work, map.work);
      const endOffset = map.endOffset;
      stats.endOffset = endOffset;
      if (!current()) return;
      /** The previous group's swap steps after its commit, running while the worker cleans the next. */
      let finishing: Promise<void> = Promise.resolve();
      for (const group of LogCleaner.planGroups(log, endOffset)) {
        t = this.clock.nowMs();
        const task = LogCleaner.groupTask(log, group, endOffset, nowMs);
        cleanedBase = group[0]!.baseOffset;
        reading = group;
        onLoop.eventLoopMs += this.clock.nowMs() - t;
        const r = await thread.request({ kind: 'group', generation, dir, segments: group.map((s) => s.baseOffset), segmentConfig, task });
        addWorkStats(work, r.work);
        await finishing;
        if (!current()) return;
        // No await from here to the swap: the check of the group and the swap are one step.
        t = this.clock.nowMs();
        const cleaned = r.dropped ? null : LogSegment.open(dir, cleanedBase, log.cleanerSegmentConfig, nowMs, CLEANED_SUFFIX);
        cleanedBase = null;
        const swapped = LogCleaner.swapGroup(log, group, cleaned, this.settings.hooks, true);
        const swapMs = this.clock.nowMs() - t;
        onLoop.eventLoopMs += swapMs;
        onLoop.maxSwapMs = Math.max(onLoop.maxSwapMs, swapMs);
        if (!swapped) {
          stats.completed = false;
          break;
        }
        finishing = log.finishSwap();
        // Not awaited until the next swap: a failure then is the round's (and it is not unhandled now).
        finishing.catch(() => undefined);
      }
      await finishing;
      addWorkStats(stats, work);
      stats.segmentsAfter = log.segmentCount;
      this.crashes.delete(key);
      if (current()) this.finish(log, logDir, stats, startedMs, onLoop);
    } catch (err) {
      if (err instanceof CleanerWorkError && err.cancelled) return;
      if (err instanceof WorkerCrashedError) {
        if (this.stopped) return;
        const n = (this.crashes.get(key) ?? 0) + 1;
        this.crashes.set(key, n);
        if (n >= MAX_WORKER_CRASHES) this.failed(log, err);
        else loggerFor('storage').warn({ topic: log.topic, partition: log.partition, err: err.message }, 'log cleaning stopped by a worker crash; the partition will be cleaned again');
        return;
      }
      // A segment file gone (retention, DeleteRecords) while the worker read it: the log changed.
      // (A file missing from a segment still in the log is a failure: no retrying in a loop.)
      if (err instanceof CleanerWorkError && err.code === 'ENOENT' && !log.isClosed && reading.some((s) => !log.cleanerSegments().includes(s))) return;
      this.failed(log, err as Error);
    } finally {
      // A cleaned group the round did not swap (stopped, forgotten, crashed) goes now.
      if (cleanedBase !== null) removeCleanedFiles(dir, cleanedBase, log.cleanerSegmentConfig);
    }
  }

  /** Kafka marks a partition uncleanable after an error and goes on with the others. */
  private failed(log: PartitionLog, err: Error): void {
    if (err instanceof LogClosedError || log.isClosed) return; // deleted or closed under the round
    const key = partitionKey(log.topic, log.partition);
    this.uncleanable.add(key);
    loggerFor('storage').error({ topic: log.topic, partition: log.partition, err: err.message }, 'log cleaning failed; the partition is marked uncleanable');
  }

  private finish(log: PartitionLog, logDir: string, stats: CleanStats, startedMs: number, onLoop?: { eventLoopMs: number; maxSwapMs: number }): void {
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
        { topic: log.topic, partition: log.partition, ...stats, ms, mbPerSecond: ms > 0 ? Math.round((mbRead / ms) * 10_000) / 10 : null, ...onLoop },
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

/** The .cleaned files of a group at `base`, if any (a gone directory is fine). */
function removeCleanedFiles(dir: string, base: number, config: { indexIntervalBytes: number; segmentIndexBytes: number }): void {
  try {
    removeSwapManifest(dir); // first: a manifest beside no .cleaned log would name a finished swap
    LogSegment.open(dir, base, config, 0, CLEANED_SUFFIX).delete();
  } catch {
    /* nothing there, or the partition's directory is going */
  }
}
