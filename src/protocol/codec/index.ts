// The protocol codec runtime: reader, writer, schema types, the generic message codec, headers.
export { Reader, ZERO_UUID, EMPTY_BUFFER } from './reader.js';
export { Writer, ZERO_COPY_MIN_BYTES } from './writer.js';
export { VersionRange, MAX_VERSION } from './versions.js';
export { ProtocolDecodeError, ProtocolEncodeError, UnsupportedVersionError } from './errors.js';
export type { FieldSchema, MessageSchema, MessageKind, PrimitiveTypeName, DefaultValue } from './schema.js';
export { MessageCodec, defineMessage, type AnyMessageCodec } from './message.js';
export {
  decodeRequestHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  decodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  REQUEST_HEADER_FIXED_BYTES,
  type RequestHeader,
  type RequestHeaderFields,
} from './headers.js';
