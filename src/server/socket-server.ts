// TCP listeners: one net.Server per configured listener, each connection framed by Connection;
// the broker-wide request memory pool; and one periodic sweep that closes idle connections and
// connections whose current request does not finish arriving in time (no timer per connection or
// per request: connections stamp a coarse clock that only the sweep advances).
import type { Socket } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { Logger } from '../logger.js';
import { Connection, type ConnectionLimits, type ConnectionTimeouts, type FrameHandler } from './connection.js';
import { ListenerSockets, type BoundListener, type ListenerSpec } from './listener-sockets.js';
import { RequestMemoryPool } from './request-memory-pool.js';
import { NO_SCRAM_CREDENTIALS, SaslSession, type ScramCredentialLookup } from './sasl.js';
import { tlsPrincipalOf } from './tls-principal.js';

export { ListenerBindError, ListenerSockets, type BoundListener, type ListenerSpec } from './listener-sockets.js';

export interface ServerLimits extends ConnectionLimits {
  /** connections.max.idle.ms; Infinity: never close idle connections. */
  idleTimeoutMs: number;
  /** socket.request.read.timeout.ms; Infinity: no bound on reading one request. */
  requestReadTimeoutMs: number;
  /** queued.max.request.bytes; Infinity: unbounded. */
  queuedMaxRequestBytes: number;
}

/** The sweep runs this often relative to the shortest timeout, within these bounds. */
const SWEEP_FRACTION = 10;
const SWEEP_MIN_MS = 10;
const SWEEP_MAX_MS = 1000;

/** Parses Kafka's `listeners` syntax: `NAME://host:port` entries separated by commas; an empty
 * host binds all interfaces. Throws with the offending entry on a malformed value. */
export function parseListeners(value: string): ListenerSpec[] {
  const out: ListenerSpec[] = [];
  for (const raw of value.split(',').map((s) => s.trim()).filter((s) => s.length > 0)) {
    const m = /^([A-Za-z0-9_]+):\/\/(\[[^\]]*\]|[^:/]*):(\d+)$/.exec(raw);
    if (m === null) throw new Error(`malformed listener '${raw}': expected NAME://host:port`);
    const port = Number(m[3]);
    if (port > 65535) throw new Error(`malformed listener '${raw}': port out of range`);
    const host = m[2]!.replace(/^\[|\]$/g, '');
    out.push({ name: m[1]!.toUpperCase(), host, port });
  }
  const names = new Set(out.map((l) => l.name));
  if (names.size !== out.length) throw new Error(`listener names must be unique in '${value}'`);
  return out;
}

export class SocketServer {
  private readonly sockets: ListenerSockets[] = [];
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  /** Set by disconnectAll(): the listeners stay bound, but new connections are dropped at once. */
  private refusing = false;
  readonly bound: BoundListener[] = [];
  readonly requestMemory: RequestMemoryPool;
  private readonly clock = { nowMs: 0 };
  private readonly timeouts: ConnectionTimeouts;
  private sweepTimer: NodeJS.Timeout | null = null;

  /** `nowMs` is a monotonic clock in milliseconds (injectable for tests). */
  constructor(
    private readonly handler: FrameHandler,
    private readonly limits: ServerLimits,
    private readonly log: Logger,
    private readonly nowMs: () => number = () => performance.now(),
  ) {
    this.requestMemory = new RequestMemoryPool(limits.queuedMaxRequestBytes, log);
    const shortest = Math.min(limits.idleTimeoutMs, limits.requestReadTimeoutMs);
    const sweepMs = Number.isFinite(shortest) ? Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, Math.floor(shortest / SWEEP_FRACTION))) : Infinity;
    this.timeouts = { idleTimeoutMs: limits.idleTimeoutMs, requestReadTimeoutMs: limits.requestReadTimeoutMs, clockSlackMs: Number.isFinite(sweepMs) ? sweepMs : 0 };
    this.clock.nowMs = nowMs();
  }

  /** Where SASL/SCRAM finds credentials (the broker points it at its metadata image). */
  scramCredentials: ScramCredentialLookup = NO_SCRAM_CREDENTIALS;

  /** Binds `specs` and serves them (tests; the broker binds first and calls adopt). */
  async listen(specs: ListenerSpec[]): Promise<BoundListener[]> {
    return this.adopt(await ListenerSockets.bind(specs, this.log));
  }

  /** Serves listeners bound earlier; connections that waited for start-up are served first. */
  adopt(sockets: ListenerSockets): BoundListener[] {
    this.sockets.push(sockets);
    this.bound.push(...sockets.bound);
    sockets.serve((socket, listener) => this.onConnection(socket, listener));
    if (this.sweepTimer === null && this.timeouts.clockSlackMs > 0) {
      this.sweepTimer = setInterval(() => this.sweep(), this.timeouts.clockSlackMs);
      this.sweepTimer.unref();
    }
    return this.bound;
  }

  /** New TLS settings for listener `name` (certificate rotation); false when it is not TLS. */
  setSecureContext(name: string, options: TlsOptions): boolean {
    return this.sockets.some((s) => s.setSecureContext(name, options));
  }

  private onConnection(socket: Socket, listener: BoundListener): void {
    if (this.refusing) {
      socket.destroy();
      return;
    }
    let tlsPrincipal: string | null = null;
    if (listener.sslPrincipalMapper !== undefined) {
      const outcome = tlsPrincipalOf(socket as TLSSocket, listener.sslPrincipalMapper);
      if ('refused' in outcome) {
        // Kafka closes such a connection as a failed authentication.
        this.log.info({ listener: listener.name, remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: outcome.refused }, 'SSL authentication failed; connection closed');
        socket.destroy();
        return;
      }
      tlsPrincipal = outcome.principal;
    }
    const sasl = listener.sasl === undefined ? null : new SaslSession(listener.sasl, this.scramCredentials, this.nowMs);
    const conn = new Connection(this.nextConnectionId++, listener.name, socket, this.handler, this.limits, this.requestMemory, this.clock, this.log, (c) => this.connections.delete(c), sasl, tlsPrincipal);
    this.connections.add(conn);
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Advances the coarse clock and closes stale connections (run by the timer; public for tests). */
  sweep(): void {
    const now = this.nowMs();
    this.clock.nowMs = now;
    for (const conn of this.connections) conn.expireIfStale(now, this.timeouts);
  }

  /**
   * Closes every connection and drops new ones as they arrive, but keeps the ports bound: a
   * shutting-down broker holds its port until it is done with its data (see Broker.stop), so a
   * restart that waits for the port cannot start on the same data too early.
   */
  disconnectAll(): void {
    this.refusing = true;
    for (const c of this.connections) c.close();
    this.connections.clear();
  }

  /** Stops accepting, then closes every open connection. */
  async close(): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    const closing = this.sockets.map((s) => s.close());
    for (const c of this.connections) c.close();
    this.connections.clear();
    await Promise.all(closing);
  }
}
