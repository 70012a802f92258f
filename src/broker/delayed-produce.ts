// The delayed-produce purgatory: acks=all (acks=-1) responses whose batches are appended to the
// leader but not yet below the partition's high watermark wait here, as in Kafka's
// DelayedProduce. A parked request completes when the high watermark of every partition it
// waits on reaches the offset it needs (the batch's last offset + 1), or when its timeout runs
// out (REQUEST_TIMED_OUT for the partitions still short), or when the partition stops being led
// here (NOT_LEADER_OR_FOLLOWER).
//
// One timer serves all parked requests: it is armed for the earliest deadline of a min-heap of
// deadlines (indexed, so a request completed early leaves the heap at once). The number of
// parked requests is bounded; past the bound a request is not parked (park returns null) and its
// caller answers REQUEST_TIMED_OUT at once for the partitions not yet committed.
//
// On a single node the high watermark follows the append in the same turn, so requests are
// parked only while a partition has followers (the seam in ReplicaManager.updateHighWatermark).
import { ErrorCode } from '../protocol/errors.js';

export interface DelayTimerHandle {
  cancel(): void;
}

/** Time and one-shot timers for the purgatory (injected; tests drive them by hand). */
export interface DelayScheduler {
  nowMs(): number;
  setTimer(delayMs: number, fn: () => void): DelayTimerHandle;
}

export const realDelayScheduler: DelayScheduler = {
  nowMs: () => performance.now(),
  setTimer(delayMs, fn) {
    const t = setTimeout(fn, Math.max(0, Math.min(delayMs, 2_147_483_647)));
    return { cancel: () => clearTimeout(t) };
  },
};

/** What one partition of a parked request waits for. */
export interface CommitWait<P> {
  readonly partition: P;
  /** The high watermark that commits the append: its last offset + 1. */
  readonly offset: number;
}

interface ParkedPartition<P> {
  readonly request: ParkedRequest<P>;
  readonly index: number;
  readonly partition: P;
  readonly offset: number;
}

interface ParkedRequest<P> {
  readonly deadline: number;
  /** Per wait, in the caller's order: NONE once committed, an error code, or -1 while waiting. */
  readonly codes: number[];
  readonly parts: ParkedPartition<P>[];
  remaining: number;
  heapIndex: number;
  readonly resolve: (codes: number[]) => void;
}

const WAITING = -1;

export class DelayedProducePurgatory<P> {
  private readonly byPartition = new Map<P, ParkedPartition<P>[]>();
  /** Min-heap of parked requests by deadline. */
  private readonly heap: ParkedRequest<P>[] = [];
  private timer: DelayTimerHandle | null = null;
  private timerDeadline = Number.POSITIVE_INFINITY;

  constructor(
    private readonly scheduler: DelayScheduler,
    /** Upper bound on parked requests. */
    readonly maxParked: number,
    /** The partition's current high watermark. */
    private readonly highWatermarkOf: (partition: P) => number,
  ) {
    if (!(maxParked >= 0)) throw new Error(`maxParked must be >= 0, got ${maxParked}`);
  }

  get size(): number {
    return this.heap.length;
  }

  /** Whether any request waits on `partition` (a cheap check for the append path). */
  hasWaiters(partition: P): boolean {
    return this.byPartition.has(partition);
  }

  /**
   * Parks a request until each wait's partition has its high watermark at or past its offset,
   * or `timeoutMs` passes. Resolves to one error code per wait (NONE, REQUEST_TIMED_OUT,
   * NOT_LEADER_OR_FOLLOWER). Returns null, parking nothing, when the purgatory is full.
   */
  park(waits: readonly CommitWait<P>[], timeoutMs: number): Promise<number[]> | null {
    const codes = waits.map((w) => (this.highWatermarkOf(w.partition) >= w.offset ? ErrorCode.NONE : WAITING));
    const remaining = codes.filter((c) => c === WAITING).length;
    if (remaining === 0) return Promise.resolve(codes);
    if (this.heap.length >= this.maxParked) return null;
    return new Promise<number[]>((resolve) => {
      const request: ParkedRequest<P> = {
        deadline: this.scheduler.nowMs() + Math.max(0, timeoutMs),
        codes,
        parts: [],
        remaining,
        heapIndex: -1,
        resolve,
      };
      waits.forEach((w, index) => {
        if (codes[index] !== WAITING) return;
        const part: ParkedPartition<P> = { request, index, partition: w.partition, offset: w.offset };
        request.parts.push(part);
        let list = this.byPartition.get(w.partition);
        if (list === undefined) this.byPartition.set(w.partition, (list = []));
        list.push(part);
      });
      this.heapPush(request);
      this.armTimer();
    });
  }

  /** The partition's high watermark moved to `hwm`: completes the waits it satisfies. */
  onHighWatermark(partition: P, hwm: number): void {
    const list = this.byPartition.get(partition);
    if (list === undefined) return;
    const left = list.filter((part) => {
      if (part.offset > hwm) return true;
      this.settle(part, ErrorCode.NONE);
      return false;
    });
    this.replaceList(partition, list, left);
  }

  /** The partition is no longer led here: its waits fail with `errorCode`. */
  onPartitionLost(partition: P, errorCode: number = ErrorCode.NOT_LEADER_OR_FOLLOWER): void {
    const list = this.byPartition.get(partition);
    if (list === undefined) return;
    this.byPartition.delete(partition);
    for (const part of list) this.settle(part, errorCode);
  }

  /** Answers everything parked with `errorCode` (shutdown). */
  completeAll(errorCode: number = ErrorCode.NOT_LEADER_OR_FOLLOWER): void {
    for (const partition of [...this.byPartition.keys()]) this.onPartitionLost(partition, errorCode);
  }

  private replaceList(partition: P, list: ParkedPartition<P>[], left: ParkedPartition<P>[]): void {
    if (left.length === list.length) return;
    if (left.length === 0) this.byPartition.delete(partition);
    else this.byPartition.set(partition, left);
  }

  private settle(part: ParkedPartition<P>, code: number): void {
    const request = part.request;
    if (request.codes[part.index] !== WAITING) return;
    request.codes[part.index] = code;
    if (--request.remaining === 0) this.finish(request);
  }

  private finish(request: ParkedRequest<P>): void {
    if (request.heapIndex >= 0) this.heapRemove(request);
    if (this.heap.length === 0) this.disarmTimer();
    request.resolve(request.codes);
  }

  private expire(): void {
    this.timer = null;
    this.timerDeadline = Number.POSITIVE_INFINITY;
    const now = this.scheduler.nowMs();
    while (this.heap.length > 0 && this.heap[0]!.deadline <= now) {
      const request = this.heap[0]!;
      this.heapRemove(request);
      for (const part of request.parts) {
        if (request.codes[part.index] !== WAITING) continue;
        request.codes[part.index] = ErrorCode.REQUEST_TIMED_OUT;
        const list = this.byPartition.get(part.partition);
        if (list !== undefined) this.replaceList(part.partition, list, list.filter((p) => p !== part));
      }
      request.remaining = 0;
      request.resolve(request.codes);
    }
    this.armTimer();
  }

  private armTimer(): void {
    const next = this.heap[0]?.deadline ?? Number.POSITIVE_INFINITY;
    if (next === this.timerDeadline) return;
    this.disarmTimer();
    if (next === Number.POSITIVE_INFINITY) return;
    this.timerDeadline = next;
    this.timer = this.scheduler.setTimer(next - this.scheduler.nowMs(), () => this.expire());
  }

  private disarmTimer(): void {
    this.timer?.cancel();
    this.timer = null;
    this.timerDeadline = Number.POSITIVE_INFINITY;
  }

  // ---- indexed binary min-heap by deadline

  private heapPush(r: ParkedRequest<P>): void {
    r.heapIndex = this.heap.length;
    this.heap.push(r);
    this.siftUp(r.heapIndex);
  }

  private heapRemove(r: ParkedRequest<P>): void {
    const i = r.heapIndex;
    const last = this.heap.pop()!;
    r.heapIndex = -1;
    if (last === r) return;
    this.heap[i] = last;
    last.heapIndex = i;
    this.siftUp(i);
    this.siftDown(last.heapIndex);
  }

  private siftUp(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.deadline <= h[i]!.deadline) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let smallest = i;
      if (l < h.length && h[l]!.deadline < h[smallest]!.deadline) smallest = l;
      if (r < h.length && h[r]!.deadline < h[smallest]!.deadline) smallest = r;
      if (smallest === i) return;
      this.swap(i, smallest);
      i = smallest;
    }
  }

  private swap(a: number, b: number): void {
    const h = this.heap;
    const x = h[a]!;
    const y = h[b]!;
    h[a] = y;
    h[b] = x;
    x.heapIndex = b;
    y.heapIndex = a;
  }
}
