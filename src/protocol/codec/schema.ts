// Messages described as data. The generator writes one MessageSchema per Kafka spec; the generic
// codec (message.ts) interprets it for any version. Field names are the TypeScript property
// names (camelCase); types, version strings and tags are spelled as in Kafka's specs.

export type PrimitiveTypeName =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'uint32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'uuid'
  | 'bytes'
  | 'records';

/** A default as the generator normalised it: int64 defaults are bigints, "null" is null. */
export type DefaultValue = number | bigint | boolean | string | null;

export interface FieldSchema {
  /** Property name (camelCase of the spec's name). */
  readonly name: string;
  /**
   * Spec type: a primitive, `[]primitive`, or a struct name / `[]StructName` (then `fields` is
   * set).
   */
  readonly type: string;
  readonly versions: string;
  readonly nullableVersions?: string;
  readonly taggedVersions?: string;
  readonly tag?: number;
  /** Overrides the message's flexibleVersions for this field's encoding (RequestHeader.ClientId). */
  readonly flexibleVersions?: string;
  readonly default?: DefaultValue;
  /** The field may be dropped silently when writing a version that lacks it. */
  readonly ignorable?: boolean;
  /** Bytes fields whose decoded value may be a view of the input rather than a copy. */
  readonly zeroCopy?: boolean;
  /** Fields of the struct (struct and array-of-struct types only). */
  readonly fields?: readonly FieldSchema[];
}

export type MessageKind = 'request' | 'response' | 'header' | 'metadata' | 'data';

export interface MessageSchema {
  readonly name: string;
  readonly type: MessageKind;
  /** Api key of requests and responses; record type of metadata records. */
  readonly apiKey?: number;
  readonly validVersions: string;
  readonly flexibleVersions: string;
  readonly latestVersionUnstable?: boolean;
  /** Where Kafka serves the API: "broker", "controller", "zkBroker". */
  readonly listeners?: readonly string[];
  readonly fields: readonly FieldSchema[];
}
