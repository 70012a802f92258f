// A broker's connection to a controller's listener (controller.listener.names): Kafka requests
// with their header, answered in order by correlation id, as the broker's NodeToControllerChannel
// sends BrokerRegistration, BrokerHeartbeat and forwarded admin requests. One connection per
// endpoint, opened on the first request; a failed or closed connection fails what it carried
// and the next request opens a new one.
//
// Bounds: `maxInFlight` requests per connection (more are refused with REQUEST_TIMED_OUT, which
// the forwarder retries), `maxResponseBytes` per frame, and a request not answered within
// `requestTimeoutMs` closes the connection (its requests fail), as Kafka's NetworkClient does.
import * as net from 'node:net';
import { Reader, Writer, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../protocol/codec/index.js';
import type { MessageCodec } from '../protocol/codec/message.js';
import { ErrorCode, KafkaError } from '../protocol/errors.js';

export interface ControllerEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface ControllerConnectionOptions {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  readonly maxInFlight?: number;
  readonly maxResponseBytes?: number;
}

interface Pending {
  readonly apiKey: number;
  readonly version: number;
  readonly decode: (r: Reader) => unknown;
  readonly resolve: (v: unknown) => void;
  readonly reject: (e: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_MAX_IN_FLIGHT = 100;
const DEFAULT_MAX_RESPONSE_BYTES = 64 * 1024 * 1024;
const LENGTH_PREFIX_BYTES = 4;

/** A connection that failed or closed: the request may or may not have been seen (retriable). */
export class ControllerUnreachableError extends KafkaError {
  constructor(endpoint: ControllerEndpoint, reason: string) {
    super(ErrorCode.NETWORK_EXCEPTION, `controller ${endpoint.host}:${endpoint.port}: ${reason}`);
  }
}

class Connection {
  private readonly socket: net.Socket;
  private readonly pending = new Map<number, Pending>();
  private nextCorrelationId = 1;
  private buffered: Buffer[] = [];
  closed = false;

  constructor(
    readonly endpoint: ControllerEndpoint,
    private readonly opts: ControllerConnectionOptions,
  ) {
    this.socket = net.createConnection({ host: endpoint.host, port: endpoint.port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.close(err.message));
    this.socket.on('close', () => this.close('connection closed'));
  }

  send<Req extends object, Res extends object>(apiKey: number, version: number, req: MessageCodec<Req>, res: MessageCodec<Res>, data: Req): Promise<Res> {
    if (this.pending.size >= (this.opts.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT)) {
      return Promise.reject(new KafkaError(ErrorCode.REQUEST_TIMED_OUT, `${this.pending.size} requests in flight to the controller at ${this.endpoint.host}:${this.endpoint.port}`));
    }
    const correlationId = this.nextCorrelationId++;
    const w = new Writer();
    encodeRequestHeader(w, requestHeaderVersion(apiKey, version), { apiKey, apiVersion: version, correlationId, clientId: this.opts.clientId });
    req.encode(w, version, data);
    const size = Buffer.alloc(LENGTH_PREFIX_BYTES);
    size.writeInt32BE(w.length);
    return new Promise<Res>((resolve, reject) => {
      const timer = setTimeout(() => this.close(`no response to api key ${apiKey} within ${this.opts.requestTimeoutMs} ms`), this.opts.requestTimeoutMs);
      timer.unref();
      this.pending.set(correlationId, { apiKey, version, decode: (r) => res.decode(r, version), resolve: resolve as (v: unknown) => void, reject, timer });
      this.socket.write(Buffer.concat([size, ...w.chunks()]));
    });
  }

  private onData(chunk: Buffer): void {
    this.buffered.push(chunk);
    let buf = this.buffered.length === 1 ? this.buffered[0]! : Buffer.concat(this.buffered);
    let pos = 0;
    while (buf.length - pos >= LENGTH_PREFIX_BYTES) {
      const size = buf.readInt32BE(pos);
      if (size < 0 || size > (this.opts.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES)) {
        this.close(`response frame of ${size} bytes`);
        return;
      }
      if (buf.length - pos < LENGTH_PREFIX_BYTES + size) break;
      this.onFrame(buf.subarray(pos + LENGTH_PREFIX_BYTES, pos + LENGTH_PREFIX_BYTES + size));
      if (this.closed) return;
      pos += LENGTH_PREFIX_BYTES + size;
    }
    buf = buf.subarray(pos);
    this.buffered = buf.length > 0 ? [buf] : [];
  }

  private onFrame(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (p === undefined) {
      this.close(`a response with unknown correlation id ${correlationId}`);
      return;
    }
    this.pending.delete(correlationId);
    clearTimeout(p.timer);
    try {
      const r = new Reader(frame);
      decodeResponseHeader(r, responseHeaderVersion(p.apiKey, p.version));
      p.resolve(p.decode(r));
    } catch (err) {
      p.reject(new ControllerUnreachableError(this.endpoint, `undecodable response to api key ${p.apiKey}: ${(err as Error).message}`));
    }
  }

  close(reason: string): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    for (const p of this.pending.values()) {
      clearTimeout(p.timer);
      p.reject(new ControllerUnreachableError(this.endpoint, reason));
    }
    this.pending.clear();
  }
}

/** Connections to controllers, one per endpoint. */
export class ControllerConnections {
  private readonly connections = new Map<string, Connection>();
  private closed = false;

  constructor(private readonly opts: ControllerConnectionOptions) {}

  send<Req extends object, Res extends object>(endpoint: ControllerEndpoint, apiKey: number, version: number, req: MessageCodec<Req>, res: MessageCodec<Res>, data: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new ControllerUnreachableError(endpoint, 'the broker is shutting down'));
    const key = `${endpoint.host}:${endpoint.port}`;
    let c = this.connections.get(key);
    if (c === undefined || c.closed) {
      c = new Connection(endpoint, this.opts);
      this.connections.set(key, c);
    }
    return c.send(apiKey, version, req, res, data);
  }

  close(): void {
    this.closed = true;
    for (const c of this.connections.values()) c.close('the broker is shutting down');
    this.connections.clear();
  }
}
