// One client connection: length-prefixed framing, in-order responses with pipelining,
// back-pressure in both directions, and the idle and request-read timeouts.
//
// Kafka answers the requests of one connection in the order they were sent. We start each
// request's handler as soon as its frame is complete (so the synchronous part of handlers, e.g.
// a produce's append, runs in arrival order) but write responses strictly in request order.
// Reading pauses when too many requests are waiting for their turn, when the socket's write
// buffer is full, or when a frame that spans reads cannot get memory from the broker-wide
// request memory pool, so neither one client nor many can make the broker buffer without bound.
//
// Framing keeps no read buffer alive longer than its frames: a frame that arrives whole within
// one read is handed on as a slice of it (no copy, the common case); a frame that spans reads is
// copied, as it arrives, into a buffer of its declared size reserved from the pool; a size prefix
// split across reads goes into a 4-byte buffer of the connection's own. (Keeping the reads
// themselves until a frame completed let a few leftover bytes pin a whole 64 KiB read per
// connection, outside any accounting.)
import type { Socket } from 'node:net';
import type { SaslSession } from './sasl.js';
import type { Logger } from '../logger.js';
import type { MemoryWaiter, RequestMemoryPool } from './request-memory-pool.js';

/** What a handler returns for one request: the encoded response without its size prefix, or
 * null when no response is sent (Produce with acks=0). */
export type ResponseChunks = Buffer[] | null;

/** A response whose chunks hold buffers lent to it (pooled Fetch reads). */
export interface OutgoingResponse {
  readonly chunks: Buffer[];
  /**
   * Run once, after every byte of this response has been handed to the kernel (from the write
   * callback of its last chunk), so they may recycle the chunks' buffers. Never run when the
   * connection closes or the write fails first: the socket may still refer to the chunks, which
   * are then left to the garbage collector.
   */
  readonly afterSent: readonly (() => void)[];
}

export type FrameResult = ResponseChunks | OutgoingResponse;

export interface ConnectionInfo {
  readonly id: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly listenerName: string;
  /** The SASL state on a SASL listener; null on the others. */
  readonly sasl: SaslSession | null;
  /** On an SSL listener, the principal of the verified client certificate (tls-principal.ts);
   * null without one and on every other listener. */
  readonly tlsPrincipal: string | null;
}

/** Called once per complete frame (size prefix removed). Must not throw for bad client input:
 * it should answer with an error response or throw `CloseConnection` to drop the connection. */
export type FrameHandler = (frame: Buffer, conn: ConnectionInfo) => FrameResult | Promise<FrameResult>;

/** Thrown by a frame handler when the frame cannot be answered and the connection must close
 * (malformed header, unknown API key or version, truncated body). */
export class CloseConnection extends Error {
  override readonly name = 'CloseConnection';
  /** How loudly the close is logged: warn for broken clients, info for expected ends. */
  constructor(message: string, readonly level: 'warn' | 'info' = 'warn') {
    super(message);
  }
}

export interface ConnectionLimits {
  /** socket.request.max.bytes: largest frame accepted. */
  maxRequestBytes: number;
  /** Requests read but not yet answered before reading pauses. */
  maxInFlightRequests: number;
  /** Bytes queued on the socket before reading pauses. */
  maxQueuedResponseBytes: number;
}

/** The idle and request-read timeouts, checked by the server's periodic sweep. */
export interface ConnectionTimeouts {
  /** connections.max.idle.ms; Infinity: never. */
  idleTimeoutMs: number;
  /** socket.request.read.timeout.ms, from a frame's first byte to its last; Infinity: never. */
  requestReadTimeoutMs: number;
  /** How stale the clock's reading may be (the sweep interval): added so no close comes early. */
  clockSlackMs: number;
}

/** A clock read on the hot path without a system call: the server's sweep advances it. */
export interface CoarseClock {
  readonly nowMs: number;
}

interface PendingResponse {
  done: boolean;
  result: FrameResult;
}

export class Connection implements ConnectionInfo, MemoryWaiter {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly pending: PendingResponse[] = [];
  // Framing state. Between frames, `sizeFilled` bytes of the next size prefix are in `sizePrefix`.
  private readonly sizePrefix = Buffer.allocUnsafe(4);
  private sizeFilled = 0;
  /** The frame being assembled across reads (its memory reserved), or null. */
  private frame: Buffer | null = null;
  private frameFilled = 0;
  /** Bytes this connection holds reserved in the pool (for `frame`, or granted for the next one). */
  private reservedBytes = 0;
  /** Declared size of the frame waiting for memory (in the pool's queue), or -1. */
  private awaitedSize = -1;
  /** Memory was granted; the bytes read meanwhile are copied in on the next microtask. */
  private grantPending = false;
  /** While waiting for memory: the frame's bytes read so far (a copy, so no read stays pinned). */
  private stalled: Buffer | null = null;
  /** Clock reading when the frame now arriving began (-1 between frames), for the read timeout. */
  private frameStartedMs = -1;
  /** Clock reading of the last complete request or response written, for the idle timeout. */
  private lastActivityMs: number;
  private closed = false;
  private readPaused = false;

  constructor(
    readonly id: number,
    readonly listenerName: string,
    private readonly socket: Socket,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly pool: RequestMemoryPool,
    private readonly clock: CoarseClock,
    private readonly log: Logger,
    private readonly onClose: (conn: Connection) => void,
    readonly sasl: SaslSession | null = null,
    readonly tlsPrincipal: string | null = null,
  ) {
    // An IPv4 peer on a dual-stack socket shows as ::ffff:a.b.c.d; Kafka (Java) shows a.b.c.d.
    this.remoteAddress = (socket.remoteAddress ?? 'unknown').replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');
    this.remotePort = socket.remotePort ?? 0;
    this.lastActivityMs = clock.nowMs;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.updateReading());
    socket.on('error', (err) => this.log.debug({ conn: this.id, err: err.message }, 'socket error'));
    socket.on('close', () => this.handleClosed());
  }

  /** Ends the connection; pending handlers finish but their responses are dropped. */
  close(reason?: string, level: 'warn' | 'info' | 'debug' = 'warn'): void {
    if (this.closed) return;
    if (reason !== undefined) this.log[level]({ conn: this.id, remote: `${this.remoteAddress}:${this.remotePort}` }, reason);
    this.closed = true;
    this.releaseFrameMemory();
    this.socket.destroy();
  }

  /**
   * Called by the server's sweep: closes the connection if its current frame has been arriving
   * for longer than the request-read timeout, or if it has been idle (no request, nothing being
   * answered or written) for longer than the idle timeout.
   */
  expireIfStale(nowMs: number, t: ConnectionTimeouts): void {
    if (this.closed) return;
    if (this.frameStartedMs >= 0) {
      if (nowMs - this.frameStartedMs >= t.requestReadTimeoutMs + t.clockSlackMs) {
        this.close(`closing connection: a request did not arrive completely within ${t.requestReadTimeoutMs} ms (socket.request.read.timeout.ms)`);
      }
      return;
    }
    if (this.pending.length > 0 || this.socket.writableLength > 0) {
      this.lastActivityMs = nowMs; // busy answering: idle time counts from when it is done
      return;
    }
    if (nowMs - this.lastActivityMs >= t.idleTimeoutMs + t.clockSlackMs) {
      this.close(`closing idle connection: no request for ${t.idleTimeoutMs} ms (connections.max.idle.ms)`, 'debug');
    }
  }

  /** MemoryWaiter: the size of the frame waiting for memory. */
  get bytesWanted(): number {
    return this.awaitedSize;
  }

  /** MemoryWaiter: the pool reserved `bytesWanted` for us. Reading resumes on the next microtask,
   * outside the pool's release loop; until then reads keep queueing behind the stalled bytes. */
  memoryGranted(): void {
    this.reservedBytes = this.awaitedSize;
    this.frame = Buffer.allocUnsafe(this.awaitedSize);
    this.frameFilled = 0;
    this.awaitedSize = -1;
    this.grantPending = true;
    queueMicrotask(() => {
      if (this.closed) return;
      this.grantPending = false;
      const stalled = this.stalled;
      this.stalled = null;
      if (stalled !== null) this.consumeRead(stalled);
      else this.afterRead();
    });
  }

  private handleClosed(): void {
    this.closed = true;
    this.pending.length = 0;
    this.releaseFrameMemory();
    this.onClose(this);
  }

  /** Drops the partial frame and gives its memory back (idempotent). */
  private releaseFrameMemory(): void {
    if (this.awaitedSize >= 0) this.pool.cancel(this);
    this.awaitedSize = -1;
    this.frame = null;
    this.stalled = null;
    this.frameStartedMs = -1;
    const reserved = this.reservedBytes;
    this.reservedBytes = 0;
    if (reserved > 0) this.pool.release(reserved);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    if (this.awaitedSize >= 0 || this.grantPending) {
      // Reading is paused, but a read already under way may still be delivered: keep it in order.
      this.stalled = this.stalled === null ? Buffer.from(chunk) : Buffer.concat([this.stalled, chunk]);
      return;
    }
    this.consumeRead(chunk);
  }

  /** Frames the bytes of one read. The common case (whole frames in one read) copies nothing. */
  private consumeRead(chunk: Buffer): void {
    const end = chunk.length;
    let pos = 0;
    while (pos < end && !this.closed) {
      const partial = this.frame;
      if (partial !== null) {
        const take = Math.min(end - pos, partial.length - this.frameFilled);
        chunk.copy(partial, this.frameFilled, pos, pos + take);
        this.frameFilled += take;
        pos += take;
        if (this.frameFilled < partial.length) break;
        this.frame = null;
        const reserved = this.reservedBytes;
        this.reservedBytes = 0;
        this.dispatch(partial);
        // After the handler's synchronous part: what it keeps of the frame (a produce's records
        // waiting for acks) is bounded per connection by queued.max.requests, not by this pool,
        // so a request waiting on other requests (acks=all on follower fetches) cannot starve them.
        this.pool.release(reserved);
        continue;
      }
      let size: number;
      if (this.sizeFilled === 0 && end - pos >= 4) {
        size = chunk.readInt32BE(pos);
        pos += 4;
      } else {
        const take = Math.min(4 - this.sizeFilled, end - pos);
        chunk.copy(this.sizePrefix, this.sizeFilled, pos, pos + take);
        this.sizeFilled += take;
        pos += take;
        if (this.sizeFilled < 4) break;
        this.sizeFilled = 0;
        size = this.sizePrefix.readInt32BE(0);
      }
      if (size < 0 || size > this.limits.maxRequestBytes) {
        this.close(`closing connection: request size ${size} is outside 0..${this.limits.maxRequestBytes} (socket.request.max.bytes)`);
        return;
      }
      if (this.sasl !== null && !this.sasl.authenticated && size > this.sasl.settings.maxReceiveBytes) {
        this.close(`closing connection: request size ${size} before authentication is above ${this.sasl.settings.maxReceiveBytes} (sasl.server.max.receive.size)`, 'info');
        return;
      }
      if (end - pos >= size) {
        const whole = chunk.subarray(pos, pos + size);
        pos += size;
        this.dispatch(whole);
        continue;
      }
      // The frame goes on in later reads: it needs memory for all of it before we read on.
      if (!this.pool.tryReserve(size)) {
        this.awaitedSize = size;
        this.stalled = pos < end ? Buffer.from(chunk.subarray(pos)) : null;
        this.pool.wait(this);
        break;
      }
      this.reservedBytes = size;
      this.frame = Buffer.allocUnsafe(size);
      this.frameFilled = 0;
    }
    if (!this.closed) this.afterRead();
  }

  /** Starts the read timeout when a read ends inside a frame, and pauses or resumes reading. */
  private afterRead(): void {
    const midFrame = this.sizeFilled > 0 || this.frame !== null || this.awaitedSize >= 0 || this.grantPending;
    if (!midFrame) this.frameStartedMs = -1;
    else if (this.frameStartedMs < 0) this.frameStartedMs = this.clock.nowMs;
    this.updateReading();
  }

  private dispatch(frame: Buffer): void {
    this.lastActivityMs = this.clock.nowMs;
    this.frameStartedMs = -1;
    const slot: PendingResponse = { done: false, result: null };
    this.pending.push(slot);
    let result: FrameResult | Promise<FrameResult>;
    try {
      result = this.handler(frame, this);
    } catch (err) {
      this.failRequest(err);
      return;
    }
    if (result instanceof Promise) {
      result.then(
        (res) => this.complete(slot, res),
        (err: unknown) => this.failRequest(err),
      );
    } else {
      this.complete(slot, result);
    }
  }

  private failRequest(err: unknown): void {
    if (err instanceof CloseConnection) {
      this.close(`closing connection: ${err.message}`, err.level);
    } else {
      // A handler bug, not a client error: log loudly with the stack, drop only this connection.
      this.log.error({ conn: this.id, err }, 'request handler failed; closing connection');
      this.close();
    }
  }

  private complete(slot: PendingResponse, result: FrameResult): void {
    if (this.closed) return; // an OutgoingResponse's afterSent never runs: its buffers go to GC
    slot.done = true;
    slot.result = result;
    this.flushInOrder();
  }

  private flushInOrder(): void {
    if (this.pending.length === 0 || !this.pending[0]!.done) return;
    this.socket.cork();
    while (this.pending.length > 0 && this.pending[0]!.done) {
      const { result } = this.pending.shift()!;
      if (result === null) continue;
      const chunks = Array.isArray(result) ? result : result.chunks;
      const afterSent = Array.isArray(result) ? null : result.afterSent;
      let size = 0;
      for (const c of chunks) size += c.length;
      const prefix = Buffer.allocUnsafe(4);
      prefix.writeInt32BE(size, 0);
      // Write callbacks run in order, each after its data (and everything before it) was handed
      // to the kernel, corked or not; an error means it may not have been, so nothing runs then.
      // Node also calls them WITHOUT an error when the socket was destroyed with the write still
      // pending (stream_base_commons onWriteComplete), hence the destroyed check.
      const onLastWritten = afterSent !== null && afterSent.length > 0
        ? (err: Error | null | undefined) => {
            if ((err === null || err === undefined) && !this.closed && !this.socket.destroyed) this.runAfterSent(afterSent);
          }
        : undefined;
      this.socket.write(prefix, chunks.length === 0 ? onLastWritten : undefined);
      for (let i = 0; i < chunks.length; i++) this.socket.write(chunks[i]!, i === chunks.length - 1 ? onLastWritten : undefined);
    }
    this.socket.uncork();
    this.lastActivityMs = this.clock.nowMs;
    this.updateReading();
  }

  private runAfterSent(callbacks: readonly (() => void)[]): void {
    for (const fn of callbacks) {
      try {
        fn();
      } catch (err) {
        this.log.error({ conn: this.id, err }, 'after-response callback failed');
      }
    }
  }

  private updateReading(): void {
    if (this.closed) return;
    const pause =
      this.awaitedSize >= 0 ||
      this.grantPending ||
      this.pending.length >= this.limits.maxInFlightRequests ||
      this.socket.writableLength >= this.limits.maxQueuedResponseBytes;
    if (pause === this.readPaused) return;
    this.readPaused = pause;
    if (pause) this.socket.pause();
    else this.socket.resume();
  }
}
