// The KRaft transport over TCP: Kafka's Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch and
// FetchSnapshot RPCs between the voters of `controller.quorum.voters`.
//
// Client side: one connection per voter, to its controller.quorum.voters endpoint, opened on the
// first request for it. Requests are framed with Kafka's request header (client id
// `raft-client-<nodeId>`) and a connection-level correlation id; the request the core sent is
// kept with it, so the response can be turned back into the core's response (with the core's
// correlation id and the echoed fields, raft-node.ts contract item 3). Bounds: `maxInFlight`
// requests per connection (more are dropped: the core sends again after its request timeout),
// `maxQueuedWhileConnecting` while a connection is being opened, `maxResponseBytes` per frame. A
// request older than `requestTimeoutMs` closes the connection (as Kafka's NetworkClient does).
// After a failed or lost connection the next attempt waits a backoff doubling from
// `reconnectBackoffMs` to `reconnectBackoffMaxMs` (with jitter); requests meanwhile are dropped.
// No timer on this side: the checks run when the core sends.
//
// Server side: the handlers in raft-rpc-handlers.ts decode a request, hand the core's view of it
// to `deliver()`, which gives it to the driver and resolves with the core's response to it (paired
// by a server correlation id). Bounded by `maxPendingInbound`; a request the core does not answer
// within its wait plus `requestTimeoutMs` is failed (the driver may have dropped it).
//
// Messages the core sends fall in two groups: requests go out on the client connection to
// `to`; responses complete the inbound request they answer.
import * as net from 'node:net';
import { Reader, Writer, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../../protocol/codec/index.js';
import type { RaftTransport } from './raft-driver.js';
import type { VoterEndpoint } from './quorum-config.js';
import { decodeRaftResponse, encodeRaftRequest, type WireRequest } from './raft-rpc-codec.js';
import type { RaftMessage, RaftRequest, RaftResponse } from './types.js';

export interface RaftTransportLog {
  warn(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
}

export interface RaftTcpTransportOptions {
  readonly nodeId: number;
  readonly clusterId: string;
  /** controller.quorum.voters: where to reach each voter. */
  readonly voters: readonly VoterEndpoint[];
  /** controller.quorum.request.timeout.ms. */
  readonly requestTimeoutMs: number;
  readonly reconnectBackoffMs?: number;
  readonly reconnectBackoffMaxMs?: number;
  readonly maxInFlight?: number;
  readonly maxQueuedWhileConnecting?: number;
  readonly maxResponseBytes?: number;
  readonly maxPendingInbound?: number;
  /** Monotonic milliseconds. Default performance.now. */
  readonly clock?: () => number;
  /** Uniform in [0, 1), for the reconnect jitter. Default Math.random. */
  readonly random?: () => number;
  readonly log?: RaftTransportLog;
}

const DEFAULTS = {
  reconnectBackoffMs: 50,
  reconnectBackoffMaxMs: 1000,
  maxInFlight: 64,
  maxQueuedWhileConnecting: 64,
  /** A Fetch response carries up to fetchMaxBytes (8 MiB) of batches, plus headers. */
  maxResponseBytes: 16 * 1024 * 1024,
  maxPendingInbound: 1024,
} as const;

/** Kafka's socket.request.max.bytes bound on a frame length read from the wire. */
const LENGTH_PREFIX_BYTES = 4;

export class RaftTransportClosedError extends Error {
  override name = 'RaftTransportClosedError';
}

export class RaftInboundTimeoutError extends Error {
  override name = 'RaftInboundTimeoutError';
}

interface InFlight {
  readonly request: RaftRequest;
  readonly wire: WireRequest;
  readonly sentMs: number;
}

interface PendingInbound {
  readonly resolve: (r: RaftResponse) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

class VoterConnection {
  private socket: net.Socket | undefined;
  private connected = false;
  private readonly inflight = new Map<number, InFlight>();
  private queued: Buffer[][] = [];
  private nextCorrelationId = 1;
  private failures = 0;
  private retryAtMs = 0;
  private readChunks: Buffer[] = [];
  private readBytes = 0;

  constructor(
    private readonly t: RaftTcpTransport,
    private readonly endpoint: VoterEndpoint,
  ) {}

  send(request: RaftRequest): void {
    const o = this.t.settings;
    const now = this.t.now();
    this.expireStale(now);
    if (this.socket === undefined) {
      if (now < this.retryAtMs) return; // backing off: dropped, the core retries
      this.connect();
    }
    if (this.inflight.size >= o.maxInFlight) {
      this.t.log?.debug({ to: this.endpoint.id, type: request.type }, 'raft request dropped: too many in flight');
      return;
    }
    const wire = encodeRaftRequest(request, o.clusterId);
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    const w = new Writer();
    encodeRequestHeader(w, requestHeaderVersion(wire.apiKey, wire.apiVersion), { apiKey: wire.apiKey, apiVersion: wire.apiVersion, correlationId, clientId: `raft-client-${o.nodeId}` });
    wire.request.encode(w, wire.apiVersion, wire.data);
    const size = Buffer.allocUnsafe(LENGTH_PREFIX_BYTES);
    size.writeInt32BE(w.length, 0);
    const frame = [size, ...w.chunks()];
    if (!this.connected) {
      if (this.queued.length >= o.maxQueuedWhileConnecting) return;
      this.queued.push(frame);
    } else {
      this.write(frame);
    }
    this.inflight.set(correlationId, { request, wire, sentMs: now });
  }

  close(): void {
    this.retryAtMs = Infinity;
    this.drop(undefined);
  }

  private connect(): void {
    const socket = net.createConnection({ host: this.endpoint.host, port: this.endpoint.port, noDelay: true });
    this.socket = socket;
    this.connected = false;
    socket.on('connect', () => {
      if (this.socket !== socket) return;
      this.connected = true;
      this.failures = 0;
      for (const f of this.queued) this.write(f);
      this.queued = [];
    });
    socket.on('data', (chunk: Buffer) => {
      if (this.socket === socket) this.onData(chunk);
    });
    socket.on('error', (err) => {
      if (this.socket === socket) this.t.log?.debug({ to: this.endpoint.id, host: this.endpoint.host, port: this.endpoint.port, err: err.message }, 'raft connection failed');
    });
    socket.on('close', () => {
      if (this.socket === socket) this.drop(undefined);
    });
  }

  private write(frame: Buffer[]): void {
    const s = this.socket!;
    s.cork();
    for (const b of frame) s.write(b);
    s.uncork();
  }

  /** Closes the connection; in-flight requests are forgotten (the core times them out). */
  private drop(reason: string | undefined): void {
    const s = this.socket;
    if (s === undefined) return;
    if (reason !== undefined) this.t.log?.warn({ to: this.endpoint.id, reason }, 'raft connection closed');
    this.socket = undefined;
    this.connected = false;
    this.inflight.clear();
    this.queued = [];
    this.readChunks = [];
    this.readBytes = 0;
    s.destroy();
    this.failures++;
    const o = this.t.settings;
    if (this.retryAtMs !== Infinity) {
      const cap = Math.min(o.reconnectBackoffMaxMs, o.reconnectBackoffMs * 2 ** Math.min(this.failures - 1, 20));
      this.retryAtMs = this.t.now() + Math.floor(cap * (0.8 + 0.4 * this.t.random()));
    }
  }

  private expireStale(now: number): void {
    for (const f of this.inflight.values()) {
      // Fetches may be parked by the leader for their MaxWaitMs: they get that on top.
      const wait = f.request.type === 'fetchRequest' ? f.request.maxWaitMs : 0;
      if (now - f.sentMs > this.t.settings.requestTimeoutMs + wait) {
        this.drop(`request ${f.request.type} unanswered for ${Math.round(now - f.sentMs)} ms`);
        return;
      }
    }
  }

  private onData(chunk: Buffer): void {
    this.readChunks.push(chunk);
    this.readBytes += chunk.length;
    for (;;) {
      if (this.readBytes < LENGTH_PREFIX_BYTES) return;
      let buf = this.readChunks.length === 1 ? this.readChunks[0]! : Buffer.concat(this.readChunks, this.readBytes);
      this.readChunks = [buf];
      const size = buf.readInt32BE(0);
      if (size < 0 || size > this.t.settings.maxResponseBytes) {
        this.drop(`response frame of ${size} bytes (limit ${this.t.settings.maxResponseBytes})`);
        return;
      }
      if (this.readBytes < LENGTH_PREFIX_BYTES + size) return;
      const frame = buf.subarray(LENGTH_PREFIX_BYTES, LENGTH_PREFIX_BYTES + size);
      buf = buf.subarray(LENGTH_PREFIX_BYTES + size);
      this.readChunks = buf.length > 0 ? [buf] : [];
      this.readBytes = buf.length;
      if (!this.onFrame(frame)) return;
    }
  }

  /** False when the connection was dropped. */
  private onFrame(frame: Buffer): boolean {
    if (frame.length < 4) {
      this.drop('response shorter than its header');
      return false;
    }
    const f = this.inflight.get(frame.readInt32BE(0));
    if (f === undefined) {
      this.drop(`response with unknown correlation id ${frame.readInt32BE(0)}`);
      return false;
    }
    this.inflight.delete(frame.readInt32BE(0));
    let response: RaftResponse;
    try {
      const r = new Reader(frame);
      decodeResponseHeader(r, responseHeaderVersion(f.wire.apiKey, f.wire.apiVersion));
      response = decodeRaftResponse(f.request, f.wire.response.decode(r, f.wire.apiVersion));
    } catch (err) {
      // A malformed answer, or an error the core has no use for (INCONSISTENT_CLUSTER_ID, ...):
      // the request is as good as lost; the core sends it again.
      this.t.log?.warn({ to: this.endpoint.id, type: f.request.type, err: (err as Error).message }, 'raft response not usable');
      return true;
    }
    this.t.received(response);
    return true;
  }
}

export class RaftTcpTransport implements RaftTransport {
  readonly settings: Required<Omit<RaftTcpTransportOptions, 'clock' | 'random' | 'log' | 'voters'>>;
  readonly log: RaftTransportLog | undefined;
  private readonly clock: () => number;
  readonly random: () => number;
  private readonly connections = new Map<number, VoterConnection>();
  private handler: ((m: RaftMessage) => void) | undefined;
  private readonly pending = new Map<number, PendingInbound>();
  private nextInbound = 1;
  private closed = false;

  constructor(opts: RaftTcpTransportOptions) {
    this.settings = {
      nodeId: opts.nodeId,
      clusterId: opts.clusterId,
      requestTimeoutMs: opts.requestTimeoutMs,
      reconnectBackoffMs: opts.reconnectBackoffMs ?? DEFAULTS.reconnectBackoffMs,
      reconnectBackoffMaxMs: opts.reconnectBackoffMaxMs ?? DEFAULTS.reconnectBackoffMaxMs,
      maxInFlight: opts.maxInFlight ?? DEFAULTS.maxInFlight,
      maxQueuedWhileConnecting: opts.maxQueuedWhileConnecting ?? DEFAULTS.maxQueuedWhileConnecting,
      maxResponseBytes: opts.maxResponseBytes ?? DEFAULTS.maxResponseBytes,
      maxPendingInbound: opts.maxPendingInbound ?? DEFAULTS.maxPendingInbound,
    };
    this.log = opts.log;
    this.clock = opts.clock ?? (() => performance.now());
    this.random = opts.random ?? Math.random;
    for (const v of opts.voters) if (v.id !== opts.nodeId) this.connections.set(v.id, new VoterConnection(this, v));
  }

  now(): number {
    return this.clock();
  }

  setHandler(handler: (m: RaftMessage) => void): void {
    this.handler = handler;
  }

  send(message: RaftMessage): void {
    if (this.closed) return;
    if (isResponse(message)) {
      const p = this.pending.get(message.correlationId);
      if (p === undefined) return; // its request timed out meanwhile
      this.pending.delete(message.correlationId);
      clearTimeout(p.timer);
      p.resolve(message);
      return;
    }
    const c = this.connections.get(message.to);
    if (c === undefined) {
      this.log?.warn({ to: message.to, type: message.type }, 'raft request for a node that is not a voter dropped');
      return;
    }
    c.send(message);
  }

  /** Server side: the id to give the core's view of an inbound request (see deliver). */
  nextInboundCorrelationId(): number {
    const id = this.nextInbound;
    this.nextInbound = (this.nextInbound + 1) & 0x7fffffff;
    return id;
  }

  /**
   * Server side: gives `request` to the core and resolves with the core's response to it.
   * Rejects with RaftInboundTimeoutError when none comes in time (or too many are pending), and
   * with RaftTransportClosedError after close().
   */
  deliver(request: RaftRequest): Promise<RaftResponse> {
    if (this.closed) return Promise.reject(new RaftTransportClosedError(`raft transport of node ${this.settings.nodeId} is closed`));
    if (this.handler === undefined) return Promise.reject(new RaftTransportClosedError(`raft node ${this.settings.nodeId} is not started`));
    if (this.pending.size >= this.settings.maxPendingInbound) return Promise.reject(new RaftInboundTimeoutError(`${this.pending.size} raft requests pending`));
    const handler = this.handler;
    return new Promise((resolve, reject) => {
      const wait = request.type === 'fetchRequest' ? request.maxWaitMs : 0;
      const timer = setTimeout(() => {
        this.pending.delete(request.correlationId);
        reject(new RaftInboundTimeoutError(`${request.type} from ${request.from} unanswered after ${this.settings.requestTimeoutMs + wait} ms`));
      }, this.settings.requestTimeoutMs + wait);
      timer.unref();
      this.pending.set(request.correlationId, { resolve, reject, timer });
      handler(request);
    });
  }

  /** A response from a voter, for the core. */
  received(response: RaftResponse): void {
    if (!this.closed) this.handler?.(response);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const c of this.connections.values()) c.close();
    const err = new RaftTransportClosedError(`raft transport of node ${this.settings.nodeId} is closed`);
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.pending.clear();
  }
}

function isResponse(m: RaftMessage): m is RaftResponse {
  return m.type.endsWith('Response');
}
