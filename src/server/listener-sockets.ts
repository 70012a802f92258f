// The broker's listening sockets, bound before any other start-up work: a port already in use
// must stop start-up with one line naming the listener, before data directories are locked,
// created or read. Connections that arrive while the broker is still loading wait here (their
// bytes stay in the socket's bounded read buffer) and are handed over when serving starts.
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type Server as TlsServer, type TlsOptions } from 'node:tls';
import type { Logger } from '../logger.js';
import type { SaslListenerSettings } from './sasl.js';
import type { SslPrincipalMapper } from './ssl-principal-mapper.js';

export interface ListenerSpec {
  /** Listener name as in `listeners`, e.g. PLAINTEXT or CONTROLLER. */
  name: string;
  host: string;
  /** 0 picks a free port; `boundPort` tells which. */
  port: number;
  /** An SSL or SASL_SSL listener's TLS server options; absent for PLAINTEXT. */
  tls?: TlsOptions;
  /** A SASL_PLAINTEXT or SASL_SSL listener's SASL settings. */
  sasl?: SaslListenerSettings;
  /** An SSL listener's ssl.principal.mapping.rules: its connections' principals come from their
   * client certificates. Absent on SASL_SSL, where SASL names the principal. */
  sslPrincipalMapper?: SslPrincipalMapper;
}

export interface BoundListener extends ListenerSpec {
  boundPort: number;
}

/** A listener that could not bind; the message names it, its address and the OS reason. */
export class ListenerBindError extends Error {
  constructor(
    readonly listener: ListenerSpec,
    readonly code: string | undefined,
    reason: string,
  ) {
    super(`Socket server failed to bind listener ${listener.name} to ${listener.host === '' ? '0.0.0.0' : listener.host}:${listener.port}: ${reason}`);
    this.name = 'ListenerBindError';
  }
}

const BIND_REASONS: Record<string, string> = {
  EADDRINUSE: 'address already in use',
  EACCES: 'permission denied (ports below 1024 need privileges)',
  EADDRNOTAVAIL: 'address not available on this machine',
};

/** Why a listening socket could not bind, in words (the OS message for rarer errors). */
export function bindFailureReason(err: NodeJS.ErrnoException): string {
  return (err.code !== undefined ? BIND_REASONS[err.code] : undefined) ?? err.message;
}

/** Connections held before serving starts; more are closed (clients retry). */
const MAX_WAITING_CONNECTIONS = 1024;

type Accept = (socket: Socket, listener: BoundListener) => void;

export class ListenerSockets {
  private accept: Accept | null = null;
  private readonly waiting = new Map<Socket, { listener: BoundListener; onError: () => void }>();
  private closed = false;

  private constructor(
    private readonly servers: Server[],
    readonly bound: BoundListener[],
  ) {}

  /** Binds every listener, in order; on the first failure the ones already bound are closed. */
  static async bind(specs: readonly ListenerSpec[], log: Logger): Promise<ListenerSockets> {
    const servers: Server[] = [];
    const bound: BoundListener[] = [];
    const sockets = new ListenerSockets(servers, bound);
    try {
      for (const spec of specs) {
        const server: Server = spec.tls === undefined ? createServer({ noDelay: true }) : createTlsServer({ ...spec.tls, noDelay: true });
        await new Promise<void>((resolve, reject) => {
          server.once('error', (err: NodeJS.ErrnoException) => {
            reject(new ListenerBindError(spec, err.code, bindFailureReason(err)));
          });
          server.listen({ host: spec.host === '' ? undefined : spec.host, port: spec.port }, () => resolve());
        });
        server.removeAllListeners('error');
        server.on('error', (err) => log.error({ err, listener: spec.name }, 'listener error'));
        const addr = server.address();
        const listener: BoundListener = { ...spec, boundPort: typeof addr === 'object' && addr !== null ? addr.port : spec.port };
        if (spec.tls === undefined) {
          server.on('connection', (socket) => sockets.onConnection(socket, listener));
        } else {
          // Served once the handshake is done; a failed one (a plaintext client, an untrusted
          // certificate) closes the connection with one line saying why.
          server.on('secureConnection', (socket: Socket) => sockets.onConnection(socket, listener));
          server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: Socket) => {
            log.info({ listener: spec.name, remote: `${socket.remoteAddress}:${socket.remotePort}`, reason: err.code ?? err.message }, 'SSL handshake failed; connection closed');
            socket.destroy();
          });
        }
        servers.push(server);
        bound.push(listener);
        log.info({ listener: spec.name, host: spec.host, port: listener.boundPort, tls: spec.tls !== undefined }, 'listening');
      }
    } catch (err) {
      await sockets.close();
      throw err;
    }
    return sockets;
  }

  /** Replaces the certificate and key (and trust) of a TLS listener: new handshakes use them,
   * open connections keep theirs. False when `name` is not a TLS listener here. */
  setSecureContext(name: string, options: TlsOptions): boolean {
    const i = this.bound.findIndex((b) => b.name === name && b.tls !== undefined);
    if (i < 0) return false;
    (this.servers[i] as TlsServer).setSecureContext(options);
    return true;
  }

  /** Starts handing connections to `accept`, the waiting ones first. */
  serve(accept: Accept): void {
    if (this.accept !== null) throw new Error('ListenerSockets.serve called twice');
    this.accept = accept;
    for (const [socket, { listener, onError }] of this.waiting) {
      socket.off('error', onError);
      socket.off('close', onError);
      accept(socket, listener);
    }
    this.waiting.clear();
  }

  private onConnection(socket: Socket, listener: BoundListener): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (this.accept !== null) {
      this.accept(socket, listener);
      return;
    }
    if (this.waiting.size >= MAX_WAITING_CONNECTIONS) {
      socket.destroy();
      return;
    }
    const onError = () => {
      socket.destroy();
      this.waiting.delete(socket);
    };
    socket.on('error', onError);
    socket.on('close', onError);
    this.waiting.set(socket, { listener, onError });
  }

  /** Stops accepting and closes connections still waiting; resolves when the ports are free. */
  async close(): Promise<void> {
    this.closed = true;
    for (const socket of this.waiting.keys()) socket.destroy();
    this.waiting.clear();
    await Promise.all(this.servers.map((s) => new Promise<void>((resolve) => (s.listening ? s.close(() => resolve()) : resolve()))));
  }
}
