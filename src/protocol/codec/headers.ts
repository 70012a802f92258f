// Request and response headers. They are decoded by hand rather than through the generic codec:
// every request passes through here, the header version depends on the api key, and a request
// for an api key we do not know must still yield its correlation id so it can be answered.
//
//   RequestHeader v0: apiKey int16, apiVersion int16, correlationId int32
//                 v1: + clientId nullable string (int16 length, never compact, even in v2)
//                 v2: + tagged fields
//   ResponseHeader v0: correlationId int32;  v1: + tagged fields

import { apiByKey } from '../messages/index.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { ProtocolDecodeError, ProtocolEncodeError } from './errors.js';

const API_KEY_CONTROLLED_SHUTDOWN = 7;
const API_KEY_API_VERSIONS = 18;

/** Bytes every request header starts with: apiKey, apiVersion, correlationId. */
export const REQUEST_HEADER_FIXED_BYTES = 8;

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** 0, 1 or 2; -1 when the api key is unknown (then only the first 8 bytes were read). */
  headerVersion: number;
  /** Where the request body starts. */
  headerBytes: number;
}

/**
 * Header version of a request. For a known api key this holds for any version number, even one
 * outside the supported range, because flexible versions are open-ended ("N+"). Throws for an
 * unknown api key.
 */
export function requestHeaderVersion(apiKey: number, apiVersion: number): number {
  const api = apiByKey(apiKey);
  if (api === undefined) throw new Error(`unknown api key ${apiKey}`);
  // ControlledShutdown v0 predates the client id field.
  if (apiKey === API_KEY_CONTROLLED_SHUTDOWN && apiVersion === 0) return 0;
  return api.flexibleVersions.contains(apiVersion) ? 2 : 1;
}

/** Header version of a response; throws for an unknown api key. */
export function responseHeaderVersion(apiKey: number, apiVersion: number): number {
  const api = apiByKey(apiKey);
  if (api === undefined) throw new Error(`unknown api key ${apiKey}`);
  // ApiVersions responses always use v0 so a client that sent a too-new version can read the
  // answer (which lists the versions the broker does support).
  if (apiKey === API_KEY_API_VERSIONS) return 0;
  return api.flexibleVersions.contains(apiVersion) ? 1 : 0;
}

/**
 * Decodes the header at the start of a request frame (without its size prefix). Throws
 * ProtocolDecodeError for malformed headers; a frame of at least 8 bytes always yields apiKey,
 * apiVersion and correlationId, the api key unknown or not.
 */
export function decodeRequestHeader(buf: Buffer): RequestHeader {
  const r = new Reader(buf);
  r.where = 'request header';
  const apiKey = r.int16();
  const apiVersion = r.int16();
  const correlationId = r.int32();
  if (r.error !== null) throw new ProtocolDecodeError(r.error);
  const api = apiKey >= 0 ? apiByKey(apiKey) : undefined;
  if (api === undefined) {
    return { apiKey, apiVersion, correlationId, clientId: null, headerVersion: -1, headerBytes: REQUEST_HEADER_FIXED_BYTES };
  }
  const headerVersion = requestHeaderVersion(apiKey, apiVersion);
  let clientId: string | null = null;
  if (headerVersion >= 1) {
    r.where = 'request header clientId';
    const n = r.int16();
    if (n >= 0) clientId = r.utf8(n);
    else if (n !== -1) r.fail(`invalid length ${n}`);
  }
  if (headerVersion >= 2) {
    r.where = 'request header tagged fields';
    skipTaggedFields(r);
  }
  if (r.error !== null) throw new ProtocolDecodeError(r.error);
  return { apiKey, apiVersion, correlationId, clientId, headerVersion, headerBytes: r.pos };
}

/** Header tagged fields are all unknown to us (Kafka defines none that a broker must read). */
function skipTaggedFields(r: Reader): void {
  const count = r.uvarint();
  if (count * 2 > r.remaining) {
    r.fail(`${count} tagged fields cannot fit in ${r.remaining} bytes`);
    return;
  }
  for (let i = 0; i < count && r.error === null; i++) {
    r.uvarint(); // tag
    r.skip(r.uvarint());
  }
}

export interface RequestHeaderFields {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Writes a request header (for clients). */
export function encodeRequestHeader(w: Writer, headerVersion: number, h: RequestHeaderFields): void {
  if (headerVersion < 0 || headerVersion > 2) throw new ProtocolEncodeError(`request header version ${headerVersion}`);
  w.int16(h.apiKey);
  w.int16(h.apiVersion);
  w.int32(h.correlationId);
  if (headerVersion >= 1) {
    if (h.clientId === null) {
      w.int16(-1);
    } else {
      const n = Buffer.byteLength(h.clientId, 'utf8');
      if (n > 0x7fff) throw new ProtocolEncodeError(`client id of ${n} bytes is too long`);
      w.int16(n);
      w.utf8(h.clientId, n);
    }
  }
  if (headerVersion >= 2) w.uvarint(0);
}

/** Writes a response header. */
export function encodeResponseHeader(w: Writer, headerVersion: number, correlationId: number): void {
  if (headerVersion !== 0 && headerVersion !== 1) throw new ProtocolEncodeError(`response header version ${headerVersion}`);
  w.int32(correlationId);
  if (headerVersion === 1) w.uvarint(0);
}

/** Reads a response header (for clients); leaves the reader at the response body. */
export function decodeResponseHeader(r: Reader, headerVersion: number): { correlationId: number } {
  r.where = 'response header';
  const correlationId = r.int32();
  if (headerVersion >= 1) skipTaggedFields(r);
  if (r.error !== null) throw new ProtocolDecodeError(r.error);
  return { correlationId };
}
