// The coordinator runtime: runs state machines kept in an internal topic (the group coordinator
// on __consumer_offsets now, the transaction coordinator next), one shard per partition of that
// topic, as Kafka's CoordinatorRuntime does.
//
// Per coordinator partition:
//  - Lifecycle. becomeLeader(p, epoch) -> loading: the partition's batches are replayed into the
//    shard, a chunk per scheduler turn (an empty log at once) -> active. resign(p) -> gone: the
//    shard drops the partition's state and every write still waiting for its commit fails with
//    NOT_COORDINATOR. errorFor(p) says what a request for the partition gets meanwhile:
//    NOT_COORDINATOR (not led here) or COORDINATOR_LOAD_IN_PROGRESS (still replaying).
//  - A serial event queue (bounded): submit(p, event) runs events of one partition strictly one
//    after the other. Events are synchronous; one submitted while another runs (a timer firing
//    inside a write, a callback of a commit) waits its turn instead of interleaving.
//  - Writes: write(p, batch) appends one batch through the replica manager and returns a
//    CommitTicket that settles when the partition's high watermark passes the batch
//    (onHighWatermark), or fails when leadership goes first. Appending is not committing: an
//    answer that depends on the write is given from the ticket, never from the append's return.
//
// State changes are applied optimistically by the shard (before the commit) where a following
// event of the same partition must see them (a group's generation, its members), and the answer
// is held until the ticket settles; values only read by others (committed offsets) are applied at
// commit. A write that was appended but never commits can only fail by losing the partition,
// and that unloads the whole partition: the optimistic state is dropped and, when the partition
// is led here again, rebuilt from the log, which then holds only what the new leader kept. So
// "revert" is "unload and replay", with no undo log to keep in step.
//
// No clock or timers inside: load slices are deferred through the injected scheduler.
import { ErrorCode } from '../../protocol/errors.js';

/** The internal topic as the runtime sees it (one partition at a time). */
export interface CoordinatorLog {
  /** Appends one batch; the produce error code and, on success, the high watermark that commits it. */
  append(partition: number, batch: Buffer): { errorCode: number; commitOffset: number };
  highWatermark(partition: number): number;
  /** Whether the partition holds no batch (it is loaded at once). */
  isEmpty(partition: number): boolean;
  /** The partition's whole batches from its log start, in chunks, in order (replay). */
  readAll(partition: number): Iterable<Buffer>;
}

/** The state machine of one internal topic, for every partition led here. */
export interface CoordinatorShard {
  /** Replays one chunk of whole batches of `partition`, in log order. */
  replay(partition: number, batches: Buffer): void;
  /** The replay is complete: the partition's state is live. */
  loaded(partition: number): void;
  /** Forgets the state of `partition` (leadership lost); parked requests get NOT_COORDINATOR. */
  unload(partition: number): void;
}

export interface CoordinatorRuntimeScheduler {
  /** Runs `fn` after pending I/O callbacks (setImmediate). */
  defer(fn: () => void): void;
}

export const realCoordinatorRuntimeScheduler: CoordinatorRuntimeScheduler = {
  defer: (fn) => void setImmediate(fn),
};

export interface CoordinatorRuntimeLimits {
  /** Events a partition's queue holds at most; past it submit() refuses. */
  maxQueuedEvents: number;
  /** Appended, not yet committed writes per partition; past it write() refuses before appending. */
  maxPendingWrites: number;
}

export const DEFAULT_RUNTIME_LIMITS: CoordinatorRuntimeLimits = { maxQueuedEvents: 10_000, maxPendingWrites: 10_000 };

type TicketState = 'pending' | 'committed' | 'failed';

/** A write to the internal topic: pending until committed, or failed (with an error code). */
export class CommitTicket {
  private state: TicketState;
  private code: number;
  private callbacks: ((errorCode: number) => void)[] = [];

  constructor(
    /** The high watermark that commits the write (-1 for a write refused before appending). */
    readonly commitOffset: number,
    refusedWith: number = ErrorCode.NONE,
  ) {
    this.state = refusedWith === ErrorCode.NONE ? 'pending' : 'failed';
    this.code = refusedWith;
  }

  /** The append's own error (NONE once appended; the ticket may still fail later). */
  get appendError(): number {
    return this.commitOffset < 0 ? this.code : ErrorCode.NONE;
  }

  get settled(): boolean {
    return this.state !== 'pending';
  }

  /** NONE once committed, the error once failed; only meaningful once settled. */
  get errorCode(): number {
    return this.code;
  }

  /** Calls `fn` with the outcome once settled: at once when it already is. */
  onSettled(fn: (errorCode: number) => void): void {
    if (this.state === 'pending') this.callbacks.push(fn);
    else fn(this.code);
  }

  /** A promise of the outcome (NONE or an error code). */
  settledPromise(): Promise<number> {
    return new Promise((resolve) => this.onSettled(resolve));
  }

  /** Runtime only. */
  settle(errorCode: number): void {
    if (this.state !== 'pending') return;
    this.state = errorCode === ErrorCode.NONE ? 'committed' : 'failed';
    this.code = errorCode;
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const fn of callbacks) fn(errorCode);
  }
}

interface PartitionRuntime {
  readonly partition: number;
  readonly epoch: number;
  status: 'loading' | 'active';
  /** Appended writes in offset order, waiting for the high watermark. */
  pending: CommitTicket[];
  /** Serial event queue; `running` while one event executes. */
  queue: (() => void)[];
  running: boolean;
  /** The replay in progress (loading only). */
  replay: Iterator<Buffer> | null;
}

export class CoordinatorRuntime {
  private readonly partitions = new Map<number, PartitionRuntime>();

  constructor(
    private readonly log: CoordinatorLog,
    private readonly shard: CoordinatorShard,
    private readonly scheduler: CoordinatorRuntimeScheduler = realCoordinatorRuntimeScheduler,
    private readonly limits: CoordinatorRuntimeLimits = DEFAULT_RUNTIME_LIMITS,
  ) {}

  /** NONE when requests for `partition` can be served here, else the error they get. */
  errorFor(partition: number): number {
    const p = this.partitions.get(partition);
    if (p === undefined) return ErrorCode.NOT_COORDINATOR;
    return p.status === 'loading' ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NONE;
  }

  /** Whether `partition` is led here (loaded or loading): FindCoordinator's answer. */
  isLeader(partition: number): boolean {
    return this.partitions.has(partition);
  }

  /** Partitions whose state is live. */
  activePartitions(): number[] {
    return [...this.partitions.values()].filter((p) => p.status === 'active').map((p) => p.partition);
  }

  /** This broker now leads `partition` at `epoch`: loads its state (again, after an epoch change). */
  becomeLeader(partition: number, epoch: number): void {
    const existing = this.partitions.get(partition);
    if (existing !== undefined) {
      if (existing.epoch === epoch) return;
      this.resign(partition);
    }
    const p: PartitionRuntime = { partition, epoch, status: 'loading', pending: [], queue: [], running: false, replay: null };
    this.partitions.set(partition, p);
    if (this.log.isEmpty(partition)) return this.finishLoad(p);
    p.replay = this.log.readAll(partition)[Symbol.iterator]();
    this.scheduler.defer(() => this.loadSlice(p));
  }

  /** This broker no longer leads `partition`: its state goes, waiting writes fail. */
  resign(partition: number): void {
    const p = this.partitions.get(partition);
    if (p === undefined) return;
    this.partitions.delete(partition);
    p.replay = null;
    p.queue = [];
    const pending = p.pending;
    p.pending = [];
    this.shard.unload(partition);
    for (const t of pending) t.settle(ErrorCode.NOT_COORDINATOR);
  }

  /** Finishes every load in progress now (start-up, before requests are served). */
  loadAllNow(): void {
    for (const p of [...this.partitions.values()]) while (p.status === 'loading' && this.partitions.get(p.partition) === p) this.loadStep(p);
  }

  private loadSlice(p: PartitionRuntime): void {
    if (this.partitions.get(p.partition) !== p || p.status !== 'loading') return; // resigned meanwhile, or loaded by loadAllNow
    this.loadStep(p);
    if (p.status === 'loading' && this.partitions.get(p.partition) === p) this.scheduler.defer(() => this.loadSlice(p));
  }

  /** Replays one chunk, or finishes the load when none is left. */
  private loadStep(p: PartitionRuntime): void {
    const next = p.replay!.next();
    if (next.done === true) return this.finishLoad(p);
    this.shard.replay(p.partition, next.value);
  }

  private finishLoad(p: PartitionRuntime): void {
    p.replay = null;
    p.status = 'active';
    this.shard.loaded(p.partition);
  }

  /**
   * Runs `event` on the partition's serial queue: now when the queue is idle, else after the
   * events before it. Returns NONE, or the error when the partition cannot take it (not led,
   * loading, or its queue is full); then `event` never runs.
   */
  submit(partition: number, event: () => void): number {
    const error = this.errorFor(partition);
    if (error !== ErrorCode.NONE) return error;
    const p = this.partitions.get(partition)!;
    if (p.queue.length >= this.limits.maxQueuedEvents) return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    p.queue.push(event);
    if (!p.running) this.drain(p);
    return ErrorCode.NONE;
  }

  private drain(p: PartitionRuntime): void {
    p.running = true;
    try {
      while (p.queue.length > 0 && this.partitions.get(p.partition) === p) p.queue.shift()!();
    } finally {
      p.running = false;
    }
  }

  /**
   * Appends `batch` to the partition's log. The ticket is refused (failed at once) when the
   * partition is not active here, too many writes wait, or the append fails; otherwise it settles
   * when the high watermark passes the batch (at once on a single node).
   */
  write(partition: number, batch: Buffer): CommitTicket {
    const p = this.partitions.get(partition);
    if (p === undefined) return new CommitTicket(-1, ErrorCode.NOT_COORDINATOR);
    if (p.status !== 'active') return new CommitTicket(-1, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    if (p.pending.length >= this.limits.maxPendingWrites) return new CommitTicket(-1, ErrorCode.COORDINATOR_NOT_AVAILABLE);
    const r = this.log.append(partition, batch);
    if (r.errorCode !== ErrorCode.NONE) return new CommitTicket(-1, r.errorCode);
    const ticket = new CommitTicket(r.commitOffset);
    // The append may have moved the high watermark already (the single-node case).
    if (this.log.highWatermark(partition) >= r.commitOffset) ticket.settle(ErrorCode.NONE);
    else p.pending.push(ticket);
    return ticket;
  }

  /** The partition's high watermark moved: settles the writes below it, in order. */
  onHighWatermark(partition: number, highWatermark: number): void {
    const p = this.partitions.get(partition);
    if (p === undefined || p.pending.length === 0) return;
    let n = 0;
    while (n < p.pending.length && p.pending[n]!.commitOffset <= highWatermark) n++;
    if (n === 0) return;
    const done = p.pending.splice(0, n);
    for (const t of done) t.settle(ErrorCode.NONE);
  }

  /** Writes appended and not yet committed, over all partitions (tests, metrics). */
  get pendingWrites(): number {
    let n = 0;
    for (const p of this.partitions.values()) n += p.pending.length;
    return n;
  }

  /** Resigns every partition (shutdown). */
  close(): void {
    for (const partition of [...this.partitions.keys()]) this.resign(partition);
  }
}
