// One TCP connection to one broker: length-prefixed frames, correlation ids, pipelining (any
// number of requests may be outstanding; Kafka answers them in order), ApiVersions negotiation
// on connect, per-request timeouts and AbortSignal. PLAINTEXT, or SSL (TLS) when `tls` is given.
//
// Ownership: request bodies are encoded into fresh Writers and handed to the socket; record
// buffers inside a request are the caller's and must stay unchanged until the promise settles.
// Response buffers handed to decoders are owned by the response (records are views into them).
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions as TlsConnectOptions } from 'node:tls';
import { EventEmitter } from 'node:events';
import { Reader } from '../protocol/codec/reader.js';
import { Writer } from '../protocol/codec/writer.js';
import { decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../protocol/codec/headers.js';
import { ApiVersionsRequest } from '../protocol/messages/ApiVersionsRequest.js';
import { ApiVersionsResponse } from '../protocol/messages/ApiVersionsResponse.js';
import { SaslAuthenticateRequest } from '../protocol/messages/SaslAuthenticateRequest.js';
import { SaslAuthenticateResponse } from '../protocol/messages/SaslAuthenticateResponse.js';
import { SaslHandshakeRequest } from '../protocol/messages/SaslHandshakeRequest.js';
import { SaslHandshakeResponse } from '../protocol/messages/SaslHandshakeResponse.js';
import { ScramClientExchange, ScramError, scramMechanismByName } from '../protocol/scram.js';
import { ErrorCode } from '../protocol/errors.js';
import { AbortError, ConnectionError, KafkaClientError, RequestTimeoutError } from './errors.js';

/** The encode half of a generated request codec. */
export interface RequestCodec<T> {
  readonly name: string;
  readonly apiKey: number;
  readonly minVersion: number;
  readonly maxVersion: number;
  encode(w: Writer, version: number, v: T): void;
}

/** The decode half of a generated response codec. */
export interface ResponseCodec<T> {
  readonly name: string;
  decode(r: Reader, version: number): T;
}

/** A request/response codec pair for one API. */
export interface Api<Req, Res> {
  request: RequestCodec<Req>;
  response: ResponseCodec<Res>;
}

export interface VersionRangeOf {
  minVersion: number;
  maxVersion: number;
}

export interface ConnectionOptions {
  host: string;
  port: number;
  /** The broker's node id, or -1 for a bootstrap connection. */
  nodeId?: number;
  clientId?: string;
  connectTimeoutMs?: number;
  /** Default timeout for each request (Kafka's request.timeout.ms). */
  requestTimeoutMs?: number;
  /** Highest versions this client will use per api key (lower than the codec's). */
  maxVersions?: ReadonlyMap<number, number>;
  /** TLS options (security.protocol=SSL or SASL_SSL); absent: plaintext. */
  tls?: ConnectionTlsOptions;
  /** SASL credentials (security.protocol=SASL_PLAINTEXT or SASL_SSL); absent: no SASL. */
  sasl?: ConnectionSaslOptions;
}

/** SASL/PLAIN or SASL/SCRAM credentials. */
export interface ConnectionSaslOptions {
  mechanism: 'PLAIN' | 'SCRAM-SHA-256' | 'SCRAM-SHA-512';
  username: string;
  password: string;
}

/** Node's tls.connect options a client may set (host and port come from the connection). */
export type ConnectionTlsOptions = Omit<TlsConnectOptions, 'host' | 'port' | 'socket' | 'path'>;

export interface RequestOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Produce with acks=0: the broker sends no response; resolves once written. */
  expectResponse?: boolean;
}

interface Pending {
  correlationId: number;
  apiKey: number;
  version: number;
  decode: (r: Reader) => unknown;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout | null;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | null;
  /** The caller gave up (timeout, abort): the response is read and dropped. */
  abandoned: boolean;
}

/**
 * Highest versions this client implements where the specs go further: each newer version changes
 * what the client must send or handle (as Kafka's request builders cap theirs).
 * Produce v13, OffsetCommit v10 and OffsetFetch v10 name topics by id; DescribeGroups v6 answers
 * an unknown group with GROUP_ID_NOT_FOUND; Metadata v13 has a top-level error
 * (REBOOTSTRAP_REQUIRED) that the client does not act on yet.
 */
const CLIENT_MAX_VERSIONS: ReadonlyMap<number, number> = new Map([
  [0, 12], // Produce
  [3, 12], // Metadata
  [8, 9], // OffsetCommit
  [9, 9], // OffsetFetch
  [15, 5], // DescribeGroups
  [24, 3], // AddPartitionsToTxn: v4+ is for brokers (KIP-890)
  [26, 4], // EndTxn: v5 is transactions v2
]);

const CLIENT_SOFTWARE_NAME = 'tributary-client';
const CLIENT_SOFTWARE_VERSION = '0.1.0';
const MAX_FRAME_BYTES = 512 * 1024 * 1024;

export class Connection extends EventEmitter {
  readonly host: string;
  readonly port: number;
  readonly nodeId: number;
  readonly clientId: string;
  private readonly requestTimeoutMs: number;
  private readonly maxVersions: ReadonlyMap<number, number>;
  private readonly tls: ConnectionTlsOptions | undefined;
  private socket: Socket | null = null;
  private nextCorrelationId = 1;
  /** Outstanding requests by correlation id; insertion order is send order. */
  private readonly pending = new Map<number, Pending>();
  private brokerVersions = new Map<number, VersionRangeOf>();
  private closedReason: Error | null = null;
  // Frame reassembly.
  private sizeBuf = Buffer.alloc(4);
  private sizeFilled = 0;
  private frame: Buffer | null = null;
  private frameFilled = 0;

  private constructor(opts: ConnectionOptions) {
    super();
    this.host = opts.host;
    this.port = opts.port;
    this.nodeId = opts.nodeId ?? -1;
    this.clientId = opts.clientId ?? 'tributary';
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
    this.maxVersions = opts.maxVersions ?? new Map();
    this.tls = opts.tls;
  }

  get where(): string {
    return this.nodeId >= 0 ? `broker ${this.nodeId} at ${this.host}:${this.port}` : `${this.host}:${this.port}`;
  }

  get isClosed(): boolean {
    return this.closedReason !== null;
  }

  get outstandingRequests(): number {
    return this.pending.size;
  }

  /** Opens a connection and negotiates API versions. */
  static async connect(opts: ConnectionOptions, signal?: AbortSignal): Promise<Connection> {
    const conn = new Connection(opts);
    await conn.open(opts.connectTimeoutMs ?? 10_000, signal);
    try {
      await conn.negotiateVersions();
      if (opts.sasl !== undefined) await conn.authenticate(opts.sasl);
    } catch (err) {
      conn.close();
      throw err;
    }
    return conn;
  }

  private open(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted === true) {
        reject(new AbortError(signal.reason));
        return;
      }
      const tls = this.tls;
      // SNI carries a host name, never an address; the certificate is checked against either.
      const socket: Socket =
        tls === undefined
          ? netConnect({ host: this.host, port: this.port, noDelay: true })
          : tlsConnect({ servername: isIP(this.host) === 0 ? this.host : undefined, ...tls, host: this.host, port: this.port }).setNoDelay(true);
      this.socket = socket;
      let settled = false;
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        this.closedReason = err;
        reject(err);
      };
      const timer = setTimeout(() => fail(new ConnectionError(`connect timed out after ${timeoutMs} ms`, { where: this.where })), timeoutMs);
      const onAbort = (): void => fail(new AbortError(signal?.reason));
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err) => fail(new ConnectionError(`cannot connect: ${err.message}`, { where: this.where, cause: err })));
      socket.once(tls === undefined ? 'connect' : 'secureConnect', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        socket.on('error', (err) => this.shutdown(new ConnectionError(err.message, { where: this.where, cause: err })));
        socket.on('close', () => this.shutdown(new ConnectionError('connection closed by the broker', { where: this.where })));
        socket.on('data', (chunk: Buffer) => this.onData(chunk));
        resolve();
      });
    });
  }

  private async negotiateVersions(): Promise<void> {
    // v3+ carries the client software name; a broker that does not know v3 answers
    // UNSUPPORTED_VERSION with its own ranges, and v0 always works.
    let version = Math.min(3, ApiVersionsRequest.maxVersion);
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await this.send(ApiVersionsRequest, ApiVersionsResponse, version, {
        clientSoftwareName: version >= 3 ? CLIENT_SOFTWARE_NAME : '',
        clientSoftwareVersion: version >= 3 ? CLIENT_SOFTWARE_VERSION : '',
      });
      if (res.errorCode === ErrorCode.UNSUPPORTED_VERSION && attempt === 0) {
        const own = res.apiKeys.find((k) => k.apiKey === ApiVersionsRequest.apiKey);
        version = own === undefined ? 0 : Math.min(own.maxVersion, version);
        continue;
      }
      if (res.errorCode !== ErrorCode.NONE) throw new KafkaClientError(res.errorCode, 'ApiVersions failed', { where: this.where });
      this.brokerVersions = new Map(res.apiKeys.map((k) => [k.apiKey, { minVersion: k.minVersion, maxVersion: k.maxVersion }]));
      return;
    }
  }

  /** SaslHandshake v1 then SaslAuthenticate (KIP-152): PLAIN's one token, or SCRAM's two
   * messages with the server's signature checked at the end. */
  private async authenticate(sasl: ConnectionSaslOptions): Promise<void> {
    const hs = await this.send(SaslHandshakeRequest, SaslHandshakeResponse, 1, { mechanism: sasl.mechanism });
    if (hs.errorCode !== ErrorCode.NONE) {
      throw new KafkaClientError(hs.errorCode, `SASL mechanism ${sasl.mechanism} is not enabled on the broker (it offers ${hs.mechanisms.join(', ') || 'none'})`, { where: this.where });
    }
    const version = Math.min(2, this.brokerVersions.get(SaslAuthenticateRequest.apiKey)?.maxVersion ?? 0);
    const step = async (authBytes: Buffer): Promise<Buffer> => {
      const res = await this.send(SaslAuthenticateRequest, SaslAuthenticateResponse, version, { authBytes });
      if (res.errorCode !== ErrorCode.NONE) throw new KafkaClientError(res.errorCode, res.errorMessage ?? 'SASL authentication failed', { where: this.where });
      return res.authBytes;
    };
    if (sasl.mechanism === 'PLAIN') {
      await step(Buffer.from(`\u0000${sasl.username}\u0000${sasl.password}`, 'utf8'));
      return;
    }
    const scram = new ScramClientExchange(scramMechanismByName(sasl.mechanism)!, sasl.username, sasl.password);
    try {
      const serverFirst = await step(scram.firstMessage());
      scram.verifyServerFinal(await step(scram.finalMessage(serverFirst)));
    } catch (err) {
      if (err instanceof ScramError) throw new KafkaClientError(ErrorCode.SASL_AUTHENTICATION_FAILED, err.message, { where: this.where });
      throw err;
    }
  }

  /** The broker's advertised range for an api key, if it serves it. */
  brokerRange(apiKey: number): VersionRangeOf | undefined {
    return this.brokerVersions.get(apiKey);
  }

  /** Highest version both sides support; throws UNSUPPORTED_VERSION when there is none. */
  versionFor(codec: RequestCodec<unknown>): number {
    const broker = this.brokerVersions.get(codec.apiKey);
    const cap = Math.min(this.maxVersions.get(codec.apiKey) ?? codec.maxVersion, CLIENT_MAX_VERSIONS.get(codec.apiKey) ?? codec.maxVersion);
    const max = Math.min(cap, codec.maxVersion, broker?.maxVersion ?? -1);
    const min = Math.max(codec.minVersion, broker?.minVersion ?? 0);
    if (broker === undefined || max < min) {
      throw new KafkaClientError(ErrorCode.UNSUPPORTED_VERSION, `${codec.name} is not supported by the broker`, { where: this.where });
    }
    return max;
  }

  /**
   * Sends a request at the negotiated version. `build` gets the version so it sets only fields
   * that version has (encoding refuses non-default values in absent fields).
   */
  request<Req, Res>(api: Api<Req, Res>, build: (version: number) => Req, opts: RequestOptions = {}): Promise<Res> {
    let version: number;
    let body: Req;
    try {
      version = this.versionFor(api.request);
      body = build(version);
    } catch (err) {
      return Promise.reject(err);
    }
    return this.send(api.request, api.response, version, body, opts);
  }

  /** Sends at an explicit version. */
  send<Req, Res>(reqCodec: RequestCodec<Req>, resCodec: ResponseCodec<Res>, version: number, body: Req, opts: RequestOptions = {}): Promise<Res> {
    if (this.closedReason !== null) return Promise.reject(this.closedReason);
    const signal = opts.signal;
    if (signal?.aborted === true) return Promise.reject(new AbortError(signal.reason));
    const socket = this.socket!;
    const correlationId = this.nextCorrelationId;
    this.nextCorrelationId = (this.nextCorrelationId + 1) & 0x7fffffff;
    const w = new Writer(1024);
    w.int32(0); // size placeholder, patched below
    encodeRequestHeader(w, requestHeaderVersion(reqCodec.apiKey, version), {
      apiKey: reqCodec.apiKey,
      apiVersion: version,
      correlationId,
      clientId: this.clientId,
    });
    reqCodec.encode(w, version, body);
    const chunks = w.chunks();
    // The size prefix sits at the start of the first chunk (the writer never moves bytes it
    // has written), so patching it there is safe.
    chunks[0]!.writeInt32BE(w.length - 4, 0);
    socket.cork();
    for (const c of chunks) socket.write(c);
    socket.uncork();

    if (opts.expectResponse === false) return Promise.resolve(undefined as Res);
    return new Promise<Res>((resolve, reject) => {
      const p: Pending = {
        correlationId,
        apiKey: reqCodec.apiKey,
        version,
        decode: (r) => resCodec.decode(r, version),
        resolve: resolve as (v: unknown) => void,
        reject,
        timer: null,
        signal,
        onAbort: null,
        abandoned: false,
      };
      const timeoutMs = opts.timeoutMs ?? this.requestTimeoutMs;
      if (timeoutMs > 0 && Number.isFinite(timeoutMs)) {
        p.timer = setTimeout(() => {
          this.abandon(p, new RequestTimeoutError(`${reqCodec.name} got no response within ${timeoutMs} ms`, { where: this.where }));
          // A broker that does not answer one request may be wedged; later requests on this
          // socket would queue behind it, so the connection is dropped (as Kafka's clients do).
          this.shutdown(new ConnectionError(`closed after a request timed out`, { where: this.where }));
        }, timeoutMs);
      }
      if (signal !== undefined) {
        p.onAbort = () => this.abandon(p, new AbortError(signal.reason));
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(correlationId, p);
    });
  }

  private abandon(p: Pending, err: Error): void {
    if (p.abandoned) return;
    p.abandoned = true;
    this.settle(p);
    p.reject(err);
  }

  private settle(p: Pending): void {
    if (p.timer !== null) clearTimeout(p.timer);
    if (p.onAbort !== null) p.signal?.removeEventListener('abort', p.onAbort);
  }

  private onData(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.frame === null) {
        // Fast path: a whole size prefix in this chunk.
        if (this.sizeFilled === 0 && chunk.length - pos >= 4) {
          this.startFrame(chunk.readInt32BE(pos));
          pos += 4;
        } else {
          const n = Math.min(4 - this.sizeFilled, chunk.length - pos);
          chunk.copy(this.sizeBuf, this.sizeFilled, pos, pos + n);
          this.sizeFilled += n;
          pos += n;
          if (this.sizeFilled < 4) return;
          this.sizeFilled = 0;
          this.startFrame(this.sizeBuf.readInt32BE(0));
        }
        if (this.closedReason !== null) return;
        // Whole frame inside this chunk: use a view, no copy.
        const size = this.frame!.length;
        if (this.frameFilled === 0 && chunk.length - pos >= size) {
          const view = chunk.subarray(pos, pos + size);
          this.frame = null;
          pos += size;
          this.onFrame(view);
          continue;
        }
      }
      const frame = this.frame!;
      const n = Math.min(frame.length - this.frameFilled, chunk.length - pos);
      chunk.copy(frame, this.frameFilled, pos, pos + n);
      this.frameFilled += n;
      pos += n;
      if (this.frameFilled === frame.length) {
        this.frame = null;
        this.frameFilled = 0;
        this.onFrame(frame);
      }
    }
  }

  private startFrame(size: number): void {
    if (size < 4 || size > MAX_FRAME_BYTES) {
      this.shutdown(new ConnectionError(`invalid response frame size ${size}`, { where: this.where }));
      return;
    }
    this.frame = Buffer.allocUnsafe(size);
    this.frameFilled = 0;
  }

  private onFrame(frame: Buffer): void {
    const correlationId = frame.readInt32BE(0);
    const p = this.pending.get(correlationId);
    if (p === undefined) {
      this.shutdown(new ConnectionError(`response with unknown correlation id ${correlationId}`, { where: this.where }));
      return;
    }
    this.pending.delete(correlationId);
    if (p.abandoned) return;
    this.settle(p);
    try {
      const r = new Reader(frame);
      decodeResponseHeader(r, responseHeaderVersion(p.apiKey, p.version));
      p.resolve(p.decode(r));
    } catch (err) {
      p.reject(err instanceof Error ? err : new Error(String(err)));
    }
  }

  /** Fails every outstanding request and closes the socket; idempotent. */
  private shutdown(reason: Error): void {
    if (this.closedReason !== null) return;
    this.closedReason = reason;
    this.socket?.destroy();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      if (p.abandoned) continue;
      p.abandoned = true;
      this.settle(p);
      p.reject(reason);
    }
    this.emit('close', reason);
  }

  /** Closes the connection; outstanding requests fail with a ConnectionError. */
  close(): void {
    this.shutdown(new ConnectionError('connection closed by the client', { where: this.where }));
  }
}
