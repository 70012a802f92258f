// Routes request frames to API handlers registered in a table by api key and version range.
// The ApiVersions answer is built from this table, so the advertised versions are exactly the
// ones with a handler.
//
// Per Kafka's rules: an unknown api key or an unsupported version closes the connection, except
// ApiVersions, which is answered (as v0) with UNSUPPORTED_VERSION and the supported ranges so the
// client can negotiate down. A body that does not decode closes the connection; the event is
// logged and other connections carry on.
import { Reader, Writer, ProtocolDecodeError, decodeRequestHeader, encodeResponseHeader, responseHeaderVersion } from '../protocol/codec/index.js';
import type { MessageCodec } from '../protocol/codec/message.js';
import { ErrorCode } from '../protocol/errors.js';
import { ApiVersionsResponse } from '../protocol/messages/ApiVersionsResponse.js';
import type { Logger } from '../logger.js';
import { PRE_AUTHENTICATION_APIS } from './sasl.js';
import { CloseConnection, type ConnectionInfo, type FrameHandler, type FrameResult, type ResponseChunks } from './connection.js';

const API_VERSIONS_KEY = 18;
const SASL_HANDSHAKE_KEY = 17;
/** Request header v0: api key, api version, correlation id. Every later version is longer. */
const MIN_REQUEST_HEADER_BYTES = 8;

export interface RequestContext {
  readonly connection: ConnectionInfo;
  readonly apiKey: number;
  readonly apiVersion: number;
  readonly correlationId: number;
  readonly clientId: string | null;
  /**
   * Registers `fn` to run once the response has been handed to the kernel (e.g. to give pooled
   * read buffers in the response back). It does not run if the connection closes or the write
   * fails first, nor if the handler fails; with NO_RESPONSE it runs as soon as the handler returns.
   */
  afterResponseSent(fn: () => void): void;
}

/** The value a handler returns: the response, or NO_RESPONSE (Produce with acks=0). */
export const NO_RESPONSE: unique symbol = Symbol('no response');
export type HandlerResult<Res> = Res | typeof NO_RESPONSE;

export interface ApiHandler<Req extends object, Res extends object> {
  readonly request: MessageCodec<Req>;
  readonly response: MessageCodec<Res>;
  /** Lowest and highest versions served; must lie within the specs' validVersions. */
  readonly minVersion: number;
  readonly maxVersion: number;
  handle(ctx: RequestContext, request: Req): HandlerResult<Res> | Promise<HandlerResult<Res>>;
}

// Handlers of different message types live in one table; the router only ever pairs a
// handler with its own codecs, so the element type is erased here.
export type AnyApiHandler = ApiHandler<object, object>;

export function defineHandler<Req extends object, Res extends object>(h: ApiHandler<Req, Res>): AnyApiHandler {
  return h as unknown as AnyApiHandler;
}

export interface SupportedVersions {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** Told of every request answered (or handled without an answer), for metrics. */
export interface RequestObserver {
  requestDone(apiKey: number, apiName: string, seconds: number, requestBytes: number, responseBytes: number): void;
}

export class RequestRouter {
  private readonly handlers = new Map<number, AnyApiHandler>();
  private observer: RequestObserver | null = null;

  /** One observer (the broker's metrics); null stops observing. */
  setObserver(observer: RequestObserver | null): void {
    this.observer = observer;
  }

  constructor(private readonly log: Logger) {}

  register(handler: AnyApiHandler): void {
    const key = handler.request.apiKey;
    if (this.handlers.has(key)) throw new Error(`duplicate handler for api key ${key}`);
    if (!handler.request.validVersions.contains(handler.minVersion) || !handler.request.validVersions.contains(handler.maxVersion)) {
      throw new Error(`${handler.request.name}: versions ${handler.minVersion}-${handler.maxVersion} outside the spec`);
    }
    this.handlers.set(key, handler);
  }

  /** The ranges ApiVersions advertises, sorted by api key. */
  supportedVersions(): SupportedVersions[] {
    return [...this.handlers.values()]
      .map((h) => ({ apiKey: h.request.apiKey, minVersion: h.minVersion, maxVersion: h.maxVersion }))
      .sort((a, b) => a.apiKey - b.apiKey);
  }

  readonly frameHandler: FrameHandler = (frame, conn) => this.route(frame, conn);

  private route(frame: Buffer, conn: ConnectionInfo): FrameResult | Promise<FrameResult> {
    // Key and version come first, before the rest of the header, whose layout depends on them:
    // an unknown key or version is refused as such rather than as a header that fails to decode.
    const sasl = conn.sasl;
    if (sasl !== null && sasl.rawTokenExpected) {
      // SaslHandshake v0: this frame is the bare token, and so is the answer (empty for PLAIN).
      const step = sasl.authenticate(frame);
      if (!step.ok) throw new CloseConnection(`failed SASL authentication on listener ${conn.listenerName}: ${step.message}`);
      return [step.response];
    }
    if (frame.length < MIN_REQUEST_HEADER_BYTES) {
      throw new CloseConnection(`malformed request header: ${frame.length} bytes, shorter than any request header (${MIN_REQUEST_HEADER_BYTES})`);
    }
    const peekedKey = frame.readInt16BE(0);
    const peekedVersion = frame.readInt16BE(2);
    const peekedHandler = this.handlers.get(peekedKey);
    if (peekedHandler === undefined) throw new CloseConnection(`unsupported api key ${peekedKey}`);
    if (peekedKey !== API_VERSIONS_KEY && (peekedVersion < peekedHandler.minVersion || peekedVersion > peekedHandler.maxVersion)) {
      throw new CloseConnection(`unsupported version ${peekedVersion} of ${peekedHandler.request.name} (supported ${peekedHandler.minVersion}-${peekedHandler.maxVersion})`);
    }
    if (sasl !== null && sasl.failed) throw new CloseConnection(`closing the connection after its failed SASL authentication on listener ${conn.listenerName}`);
    // KIP-368, as Kafka decides it: a request (not a timer) finds the session expired; a
    // SaslHandshake that begins a re-authentication is let through.
    if (sasl !== null && sasl.expired() && !(peekedKey === SASL_HANDSHAKE_KEY && sasl.mayBeginReauthentication())) {
      throw new CloseConnection(`SASL session of ${sasl.principal} on listener ${conn.listenerName} expired without re-authentication (connections.max.reauth.ms)`, 'info');
    }
    if (sasl !== null && !sasl.authenticated && !PRE_AUTHENTICATION_APIS.has(peekedKey)) {
      throw new CloseConnection(`unexpected Kafka request of type ${peekedHandler.request.name} during SASL authentication on listener ${conn.listenerName}`);
    }
    let header;
    try {
      header = decodeRequestHeader(frame);
    } catch (err) {
      throw new CloseConnection(`malformed request header: ${(err as Error).message}`);
    }
    const { apiKey, apiVersion, correlationId } = header;
    const handler = peekedHandler;
    if (apiVersion < handler.minVersion || apiVersion > handler.maxVersion) {
      // Only ApiVersions gets here: answered as v0 so the client can negotiate down.
      return this.unsupportedApiVersions(correlationId);
    }
    let request: object;
    try {
      const r = new Reader(frame, header.headerBytes);
      request = handler.request.decode(r, apiVersion);
    } catch (err) {
      if (err instanceof ProtocolDecodeError) throw new CloseConnection(`malformed ${handler.request.name} v${apiVersion}: ${err.message}`);
      throw err;
    }
    const afterSent: (() => void)[] = [];
    const ctx: RequestContext = {
      connection: conn,
      apiKey,
      apiVersion,
      correlationId,
      clientId: header.clientId,
      afterResponseSent: (fn) => void afterSent.push(fn),
    };
    const observer = this.observer;
    const started = observer === null ? 0 : performance.now();
    const result = handler.handle(ctx, request);
    if (observer === null) {
      if (result instanceof Promise) return result.then((res) => this.encode(handler, ctx, res, afterSent));
      return this.encode(handler, ctx, result, afterSent);
    }
    const done = (res: HandlerResult<object>): FrameResult => {
      const out = this.encode(handler, ctx, res, afterSent);
      observer.requestDone(apiKey, handler.request.name, (performance.now() - started) / 1000, frame.length, responseSize(out));
      return out;
    };
    return result instanceof Promise ? result.then(done) : done(result);
  }

  private encode(handler: AnyApiHandler, ctx: RequestContext, res: HandlerResult<object>, afterSent: (() => void)[]): FrameResult {
    if (res === NO_RESPONSE) {
      for (const fn of afterSent) fn(); // nothing is sent, so nothing refers to what they guard
      return null;
    }
    const w = new Writer();
    encodeResponseHeader(w, responseHeaderVersion(ctx.apiKey, ctx.apiVersion), ctx.correlationId);
    handler.response.encode(w, ctx.apiVersion, res);
    return afterSent.length === 0 ? w.chunks() : { chunks: w.chunks(), afterSent };
  }

  /** ApiVersions v0 answer to a version we do not serve: the error plus what we do serve. */
  private unsupportedApiVersions(correlationId: number): ResponseChunks {
    const w = new Writer();
    encodeResponseHeader(w, 0, correlationId);
    const res = ApiVersionsResponse.defaults();
    res.errorCode = ErrorCode.UNSUPPORTED_VERSION;
    res.apiKeys = this.supportedVersions().map((v) => ({ ...ApiVersionsResponse.newStruct('ApiVersion'), ...v }));
    ApiVersionsResponse.encode(w, 0, res);
    this.log.debug({ correlationId }, 'ApiVersions request with an unsupported version; answered with v0');
    return w.chunks();
  }
}

function responseSize(out: FrameResult): number {
  if (out === null) return 0;
  const chunks = Array.isArray(out) ? out : out.chunks;
  let n = 0;
  for (const c of chunks) n += c.length;
  return n;
}
