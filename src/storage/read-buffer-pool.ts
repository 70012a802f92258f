// A bounded pool of buffers for Fetch reads, so that serving a fetch does not allocate (and
// later garbage-collect) a fresh buffer of up to max.partition.fetch.bytes each time.
//
// Ownership: acquire() hands a buffer to exactly one owner; it comes back only through release()
// by that owner, once nothing refers to its bytes any more (for a Fetch: after the response was
// handed to the kernel). A buffer that is never released is simply garbage-collected, so
// forgetting to release costs an allocation later, never correctness. Releasing one twice is a
// programmer error and throws, since it would let two owners share one buffer.
//
// Bounds: buffers come in power-of-two size classes from minClassBytes to maxClassBytes;
// requests above the largest class, or below minPooledBytes, are plain allocations that are
// never pooled. Idle buffers kept by the pool total at most maxIdleBytes; what is released past
// that is dropped. Buffers in use are bounded by their owners (in-flight fetches).

export interface ReadBufferPoolOptions {
  /** Smallest size class (a power of two). */
  minClassBytes?: number;
  /** Largest size class (a power of two); larger requests are plain allocations. */
  maxClassBytes?: number;
  /** Requests below this are plain allocations (small ones are cheap and would waste a class). */
  minPooledBytes?: number;
  /** Upper bound on the bytes of idle buffers the pool keeps. */
  maxIdleBytes?: number;
}

export interface ReadBufferPoolStats {
  idleBytes: number;
  idleBuffers: number;
  /** Pooled-class buffers handed out minus those released (abandoned ones stay counted). */
  outstandingBuffers: number;
  /** Acquires served from an idle buffer. */
  reused: number;
  /** Acquires that allocated (a pooled class with no idle buffer, or an unpooled size). */
  allocated: number;
  /** Releases dropped because the pool was full. */
  dropped: number;
}

export const DEFAULT_READ_BUFFER_POOL_OPTIONS: Required<ReadBufferPoolOptions> = {
  minClassBytes: 64 * 1024,
  maxClassBytes: 16 * 1024 * 1024,
  minPooledBytes: 16 * 1024,
  maxIdleBytes: 64 * 1024 * 1024,
};

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export class ReadBufferPool {
  private readonly minClassBytes: number;
  private readonly maxClassBytes: number;
  private readonly minPooledBytes: number;
  private readonly maxIdleBytes: number;
  /** Idle buffers per class size, used last-in first-out (the most recently used is warm). */
  private readonly idle = new Map<number, Buffer[]>();
  /** Every pooled-class buffer currently handed out; release() checks membership. Weak, so an
   *  owner that drops a buffer without releasing it (a closed connection) lets GC take it. */
  private readonly inUse = new WeakSet<Buffer>();
  private outstanding = 0;
  private idleBytesTotal = 0;
  private reusedCount = 0;
  private allocatedCount = 0;
  private droppedCount = 0;

  constructor(options: ReadBufferPoolOptions = {}) {
    const o = { ...DEFAULT_READ_BUFFER_POOL_OPTIONS, ...options };
    if (!isPowerOfTwo(o.minClassBytes) || !isPowerOfTwo(o.maxClassBytes) || o.minClassBytes > o.maxClassBytes) {
      throw new Error(`read buffer pool: size classes must be powers of two with min <= max, got ${o.minClassBytes}..${o.maxClassBytes}`);
    }
    if (o.maxIdleBytes < 0 || o.minPooledBytes < 0) throw new Error('read buffer pool: negative bound');
    this.minClassBytes = o.minClassBytes;
    this.maxClassBytes = o.maxClassBytes;
    this.minPooledBytes = o.minPooledBytes;
    this.maxIdleBytes = o.maxIdleBytes;
  }

  /** The class size that serves `n` bytes, or -1 when `n` is not pooled. */
  classFor(n: number): number {
    if (n < this.minPooledBytes || n > this.maxClassBytes) return -1;
    let size = this.minClassBytes;
    while (size < n) size *= 2;
    return size;
  }

  /**
   * A buffer of length >= n whose contents are unspecified (stale bytes of earlier reads: never
   * send more than what was read into it). Pass it to release() when done if isPooled() says so.
   */
  acquire(n: number): Buffer {
    const size = this.classFor(n);
    if (size < 0) {
      this.allocatedCount++;
      return Buffer.allocUnsafe(n);
    }
    const free = this.idle.get(size);
    let buf = free?.pop();
    if (buf !== undefined) {
      this.idleBytesTotal -= size;
      this.reusedCount++;
    } else {
      // allocUnsafeSlow: our own ArrayBuffer, never a slice of Node's shared small-buffer pool.
      buf = Buffer.allocUnsafeSlow(size);
      this.allocatedCount++;
    }
    this.inUse.add(buf);
    this.outstanding++;
    return buf;
  }

  /** Whether `buf` is a pooled buffer currently handed out (so release() must be called once). */
  isPooled(buf: Buffer): boolean {
    return this.inUse.has(buf);
  }

  /**
   * Gives back a buffer from acquire(). Unpooled sizes are ignored. The caller must not touch the
   * buffer (or any subarray of it) afterwards.
   */
  release(buf: Buffer): void {
    if (this.classFor(buf.length) !== buf.length) return; // an unpooled size: nothing to do
    if (!this.inUse.delete(buf)) {
      throw new Error(`read buffer pool: release of a ${buf.length}-byte buffer that is not handed out (double release?)`);
    }
    this.outstanding--;
    if (this.idleBytesTotal + buf.length > this.maxIdleBytes) {
      this.droppedCount++;
      return;
    }
    let free = this.idle.get(buf.length);
    if (free === undefined) this.idle.set(buf.length, (free = []));
    free.push(buf);
    this.idleBytesTotal += buf.length;
  }

  stats(): ReadBufferPoolStats {
    let idleBuffers = 0;
    for (const free of this.idle.values()) idleBuffers += free.length;
    return {
      idleBytes: this.idleBytesTotal,
      idleBuffers,
      outstandingBuffers: this.outstanding,
      reused: this.reusedCount,
      allocated: this.allocatedCount,
      dropped: this.droppedCount,
    };
  }
}
