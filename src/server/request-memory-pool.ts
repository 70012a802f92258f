// The broker-wide budget for request bytes being read from sockets: Kafka's
// `queued.max.request.bytes`. A connection reserves a frame's full size from it once the size
// prefix says the frame will not fit in what has already been read, and gives it back once the
// frame has been handed to its handler (or the connection closes). When the budget is spent the
// connection stops reading (it is muted) and waits in line; released memory goes to the waiters
// in arrival order. Nothing is refused: as in Kafka, memory pressure slows reading down.
//
// Like Kafka's non-strict pool, a reservation succeeds whenever any memory is left, even if it
// overdraws: so a frame of socket.request.max.bytes is never stuck behind a budget smaller than
// itself, and the pool holds at most capacity + one frame. A reserved frame can always complete
// (its memory is there), so the pool cannot deadlock; a peer that reserves and then stalls is
// dropped by the request-read timeout.
//
// Invariant: a connection waits only while the pool is spent (waiters non-empty => used >= capacity).
import type { Logger } from '../logger.js';

/** A connection waiting for memory. */
export interface MemoryWaiter {
  /** How many bytes it waits for (fixed while it waits). */
  readonly bytesWanted: number;
  /** Called once, from `release`, after `bytesWanted` bytes were reserved for it. Must not call
   * back into the pool synchronously. */
  memoryGranted(): void;
}

export class RequestMemoryPool {
  private used = 0;
  // Insertion-ordered: the first to wait is the first served. Bounded by the open connections,
  // each of which waits for at most one frame.
  private readonly waiters = new Set<MemoryWaiter>();
  private exhaustedLogged = false;

  /** `capacityBytes` may be Infinity (queued.max.request.bytes <= 0: unbounded, as in Kafka). */
  constructor(
    readonly capacityBytes: number,
    private readonly log: Logger,
  ) {
    if (!(capacityBytes > 0)) throw new Error(`request memory pool capacity must be positive, got ${capacityBytes}`);
  }

  /** Bytes reserved for frames being read. */
  get usedBytes(): number {
    return this.used;
  }

  /** Connections muted until memory is released. */
  get waitingCount(): number {
    return this.waiters.size;
  }

  /** Reserves `bytes` if any memory is left (possibly overdrawing); false when spent. */
  tryReserve(bytes: number): boolean {
    if (this.used >= this.capacityBytes) return false;
    this.used += bytes;
    return true;
  }

  /** Queues `waiter` for memory; call only after `tryReserve` failed. */
  wait(waiter: MemoryWaiter): void {
    this.check(this.used >= this.capacityBytes, 'waiting while memory is left');
    this.waiters.add(waiter);
    if (!this.exhaustedLogged) {
      this.exhaustedLogged = true;
      this.log.warn({ usedBytes: this.used, capacityBytes: this.capacityBytes }, 'queued.max.request.bytes reached: connections that need memory stop reading until requests in progress complete');
    }
  }

  /** Removes a waiter that no longer needs memory (its connection closed). */
  cancel(waiter: MemoryWaiter): void {
    this.waiters.delete(waiter);
  }

  /** Returns `bytes` and serves waiters, first come first served, while memory is left. */
  release(bytes: number): void {
    this.used -= bytes;
    this.check(this.used >= 0 && bytes >= 0, `released ${bytes} bytes, leaving ${this.used}`);
    for (const waiter of this.waiters) {
      if (this.used >= this.capacityBytes) break;
      this.waiters.delete(waiter);
      this.used += waiter.bytesWanted;
      waiter.memoryGranted();
    }
    if (this.exhaustedLogged && this.waiters.size === 0) {
      this.exhaustedLogged = false;
      this.log.info({ usedBytes: this.used, capacityBytes: this.capacityBytes }, 'queued.max.request.bytes: no connection waits for memory any more');
    }
  }

  private check(condition: boolean, message: string): void {
    if (!condition) throw new Error(`request memory pool invariant violated: ${message}`);
  }
}
