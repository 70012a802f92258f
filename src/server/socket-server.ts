// TCP listeners: one net.Server per configured listener, each connection framed by Connection.
import { createServer, type Server } from 'node:net';
import type { Logger } from '../logger.js';
import { Connection, type ConnectionLimits, type FrameHandler } from './connection.js';

export interface ListenerSpec {
  /** Listener name as in `listeners`, e.g. PLAINTEXT or CONTROLLER. */
  name: string;
  host: string;
  /** 0 picks a free port; `boundPort` tells which. */
  port: number;
}

export interface BoundListener extends ListenerSpec {
  boundPort: number;
}

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
  private readonly servers: Server[] = [];
  private readonly connections = new Set<Connection>();
  private nextConnectionId = 1;
  /** Set by disconnectAll(): the listeners stay bound, but new connections are dropped at once. */
  private refusing = false;
  readonly bound: BoundListener[] = [];

  constructor(
    private readonly handler: FrameHandler,
    private readonly limits: ConnectionLimits,
    private readonly log: Logger,
  ) {}

  async listen(specs: ListenerSpec[]): Promise<BoundListener[]> {
    for (const spec of specs) {
      const server = createServer({ noDelay: true }, (socket) => {
        if (this.refusing) {
          socket.destroy();
          return;
        }
        const conn = new Connection(this.nextConnectionId++, spec.name, socket, this.handler, this.limits, this.log, (c) =>
          this.connections.delete(c),
        );
        this.connections.add(conn);
      });
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: spec.host === '' ? undefined : spec.host, port: spec.port }, () => {
          server.off('error', reject);
          resolve();
        });
      });
      server.on('error', (err) => this.log.error({ err, listener: spec.name }, 'listener error'));
      const addr = server.address();
      const boundPort = typeof addr === 'object' && addr !== null ? addr.port : spec.port;
      this.servers.push(server);
      this.bound.push({ ...spec, boundPort });
      this.log.info({ listener: spec.name, host: spec.host, port: boundPort }, 'listening');
    }
    return this.bound;
  }

  get connectionCount(): number {
    return this.connections.size;
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
    const closing = this.servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    for (const c of this.connections) c.close();
    this.connections.clear();
    await Promise.all(closing);
  }
}
