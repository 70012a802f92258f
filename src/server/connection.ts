// One client connection: length-prefixed framing, in-order responses with pipelining, and
// back-pressure in both directions.
//
// Kafka answers the requests of one connection in the order they were sent. We start each
// request's handler as soon as its frame is complete (so the synchronous part of handlers, e.g.
// a produce's append, runs in arrival order) but write responses strictly in request order.
// Reading pauses when too many requests are waiting for their turn or when the socket's write
// buffer is full, so a slow or hostile client cannot make the broker buffer without bound.
import type { Socket } from 'node:net';
import type { Logger } from '../logger.js';

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
}

/** Called once per complete frame (size prefix removed). Must not throw for bad client input:
 * it should answer with an error response or throw `CloseConnection` to drop the connection. */
export type FrameHandler = (frame: Buffer, conn: ConnectionInfo) => FrameResult | Promise<FrameResult>;

/** Thrown by a frame handler when the frame cannot be answered and the connection must close
 * (malformed header, unknown API key or version, truncated body). */
export class CloseConnection extends Error {
  override readonly name = 'CloseConnection';
}

export interface ConnectionLimits {
  /** socket.request.max.bytes: largest frame accepted. */
  maxRequestBytes: number;
  /** Requests read but not yet answered before reading pauses. */
  maxInFlightRequests: number;
  /** Bytes queued on the socket before reading pauses. */
  maxQueuedResponseBytes: number;
}

const EMPTY_FRAME = Buffer.alloc(0);

interface PendingResponse {
  done: boolean;
  result: FrameResult;
}

export class Connection implements ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  private readonly pending: PendingResponse[] = [];
  // Bytes received but not yet framed. Chunks are kept as they came to avoid a concat per read.
  private readonly inbound: Buffer[] = [];
  private inboundBytes = 0;
  private nextFrameSize = -1;
  private closed = false;
  private readPaused = false;

  constructor(
    readonly id: number,
    readonly listenerName: string,
    private readonly socket: Socket,
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
    private readonly onClose: (conn: Connection) => void,
  ) {
    this.remoteAddress = socket.remoteAddress ?? 'unknown';
    this.remotePort = socket.remotePort ?? 0;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => this.maybeResume());
    socket.on('error', (err) => this.log.debug({ conn: this.id, err: err.message }, 'socket error'));
    socket.on('close', () => this.handleClosed());
  }

  /** Ends the connection; pending handlers finish but their responses are dropped. */
  close(reason?: string): void {
    if (this.closed) return;
    if (reason !== undefined) this.log.warn({ conn: this.id, remote: `${this.remoteAddress}:${this.remotePort}` }, reason);
    this.closed = true;
    this.socket.destroy();
  }

  private handleClosed(): void {
    this.closed = true;
    this.pending.length = 0;
    this.onClose(this);
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.inbound.push(chunk);
    this.inboundBytes += chunk.length;
    while (!this.closed) {
      if (this.nextFrameSize < 0) {
        if (this.inboundBytes < 4) break;
        const size = this.peekInt32();
        if (size < 0 || size > this.limits.maxRequestBytes) {
          this.close(`closing connection: request size ${size} is outside 0..${this.limits.maxRequestBytes} (socket.request.max.bytes)`);
          return;
        }
        this.consume(4);
        this.nextFrameSize = size;
      }
      if (this.inboundBytes < this.nextFrameSize) break;
      const frame = this.consume(this.nextFrameSize);
      this.nextFrameSize = -1;
      this.dispatch(frame);
    }
    this.maybePause();
  }

  private peekInt32(): number {
    const first = this.inbound[0]!;
    if (first.length >= 4) return first.readInt32BE(0);
    const head = Buffer.concat(this.inbound, Math.min(4, this.inboundBytes)); // rare: size split across reads
    return head.readInt32BE(0);
  }

  /** Removes and returns the next `n` inbound bytes; copies only when they span chunks. */
  private consume(n: number): Buffer {
    // A zero-length frame leaves nothing to take, and possibly no chunk at all to take it from.
    if (n === 0) return EMPTY_FRAME;
    const first = this.inbound[0]!;
    this.inboundBytes -= n;
    if (first.length > n) {
      this.inbound[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    if (first.length === n) {
      this.inbound.shift();
      return first;
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const c = this.inbound[0]!;
      const take = Math.min(c.length, n - filled);
      c.copy(out, filled, 0, take);
      filled += take;
      if (take === c.length) this.inbound.shift();
      else this.inbound[0] = c.subarray(take);
    }
    return out;
  }

  private dispatch(frame: Buffer): void {
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
      this.close(`closing connection: ${err.message}`);
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
    this.maybeResume();
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

  private maybePause(): void {
    if (this.readPaused || this.closed) return;
    if (this.pending.length >= this.limits.maxInFlightRequests || this.socket.writableLength >= this.limits.maxQueuedResponseBytes) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  private maybeResume(): void {
    if (!this.readPaused || this.closed) return;
    if (this.pending.length < this.limits.maxInFlightRequests && this.socket.writableLength < this.limits.maxQueuedResponseBytes) {
      this.readPaused = false;
      this.socket.resume();
    }
  }
}
