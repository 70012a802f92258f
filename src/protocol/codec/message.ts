// The one generic codec: it interprets a MessageSchema for any version, as Kafka's generated
// classes do for their message (one type for every version; the version is a parameter).
//
// For each (struct, version) the schema is compiled once into a plan: which fields are on the
// wire, which are tagged (sorted by tag), which are absent, and how each is encoded (compact or
// not, nullable or not). Encode and decode then only walk plans; nothing is allocated per field
// besides the values themselves.
//
// Rules, from Kafka's message specs (messages/README.md there):
// - A field absent from a version decodes to its default; encoding a version that lacks a field
//   holding a non-default value is an error unless the field is ignorable.
// - Flexible versions use compact lengths (unsigned varint of length + 1, 0 for null) and end
//   every struct with tagged fields: count, then (tag, size, value) in ascending tag order. A
//   tagged field is written only when it differs from its default; unknown tags are skipped.
// - A nullable struct carries a presence marker: int8 (-1 null, 1 present), or an unsigned
//   varint (0 null, 1 present) when the struct is a tagged field.
// - Non-flexible: int16 string lengths, int32 array/bytes/records lengths, -1 for null.

import { Reader, ZERO_UUID, EMPTY_BUFFER } from './reader.js';
import { Writer } from './writer.js';
import { VersionRange } from './versions.js';
import { ProtocolDecodeError, ProtocolEncodeError, UnsupportedVersionError } from './errors.js';
import type { DefaultValue, FieldSchema, MessageSchema } from './schema.js';

// Field kinds, as small integers so the interpreter switches on numbers.
const K_BOOL = 0;
const K_INT8 = 1;
const K_INT16 = 2;
const K_UINT16 = 3;
const K_INT32 = 4;
const K_UINT32 = 5;
const K_INT64 = 6;
const K_FLOAT64 = 7;
const K_STRING = 8;
const K_UUID = 9;
const K_BYTES = 10;
const K_RECORDS = 11;
const K_STRUCT = 12;

const KIND_BY_TYPE: Readonly<Record<string, number>> = {
  bool: K_BOOL,
  int8: K_INT8,
  int16: K_INT16,
  uint16: K_UINT16,
  int32: K_INT32,
  uint32: K_UINT32,
  int64: K_INT64,
  float64: K_FLOAT64,
  string: K_STRING,
  uuid: K_UUID,
  bytes: K_BYTES,
  records: K_RECORDS,
};

/** Encoded size of fixed-size kinds. */
const FIXED_BYTES: readonly number[] = [1, 1, 2, 2, 4, 4, 8, 8, 0, 16, 0, 0, 0];

const MAX_STRING_BYTES = 0x7fff;

// How a field appears in one version.
const MODE_REGULAR = 0;
const MODE_TAGGED = 1;
const MODE_ABSENT = 2;

type Obj = Record<string, unknown>;

/** A field as described by the schema, independent of version. */
class FieldInfo {
  readonly key: string;
  /** Dotted path from the message root, for error messages. */
  readonly label: string;
  readonly kind: number;
  readonly isArray: boolean;
  readonly versions: VersionRange;
  readonly nullableVersions: VersionRange;
  readonly taggedVersions: VersionRange;
  readonly tag: number;
  readonly flexibleOverride: VersionRange | null;
  readonly ignorable: boolean;
  readonly zeroCopy: boolean;
  readonly struct: StructInfo | null;
  /** The default is null (spec default "null", and records, which Kafka defaults to null). */
  readonly nullDefault: boolean;
  /** Default of scalar kinds; immutable values only (arrays and structs are built fresh). */
  readonly scalarDefault: unknown;

  constructor(schema: FieldSchema, parentLabel: string, message: MessageInfo) {
    this.key = schema.name;
    this.label = parentLabel === '' ? schema.name : `${parentLabel}.${schema.name}`;
    this.isArray = schema.type.startsWith('[]');
    const elementType = this.isArray ? schema.type.slice(2) : schema.type;
    const kind = KIND_BY_TYPE[elementType];
    if (schema.fields !== undefined) {
      this.kind = K_STRUCT;
      this.struct = new StructInfo(elementType, schema.fields, this.label, message);
    } else if (kind !== undefined) {
      this.kind = kind;
      this.struct = null;
    } else {
      throw new Error(`${message.name}.${this.label}: unknown type ${schema.type}`);
    }
    this.versions = VersionRange.parse(schema.versions);
    this.nullableVersions = VersionRange.parse(schema.nullableVersions ?? 'none');
    this.taggedVersions = VersionRange.parse(schema.taggedVersions ?? 'none');
    this.tag = schema.tag ?? -1;
    this.flexibleOverride = schema.flexibleVersions === undefined ? null : VersionRange.parse(schema.flexibleVersions);
    this.ignorable = schema.ignorable === true;
    this.zeroCopy = schema.zeroCopy === true;
    this.nullDefault = schema.default === null || (!this.isArray && this.kind === K_RECORDS);
    this.scalarDefault = this.isArray || this.kind === K_STRUCT ? undefined : scalarDefault(this.kind, schema.default);
  }
}

function scalarDefault(kind: number, d: DefaultValue | undefined): unknown {
  switch (kind) {
    case K_BOOL:
      return d === true;
    case K_INT64:
      return typeof d === 'bigint' ? d : BigInt(typeof d === 'number' ? d : 0);
    case K_STRING:
      return typeof d === 'string' ? d : '';
    case K_UUID:
      return typeof d === 'string' ? d : ZERO_UUID;
    case K_BYTES:
      return EMPTY_BUFFER;
    case K_RECORDS:
      return null;
    default:
      return typeof d === 'number' ? d : 0;
  }
}

/** A field as it is encoded in one version. */
interface FieldPlan {
  readonly info: FieldInfo;
  readonly key: string;
  /** "<Message> v<version> <path>", for error messages. */
  readonly where: string;
  readonly label: string;
  readonly mode: number;
  readonly kind: number;
  readonly isArray: boolean;
  readonly nullable: boolean;
  readonly compact: boolean;
  readonly tag: number;
  readonly ignorable: boolean;
  readonly zeroCopy: boolean;
  readonly struct: StructPlan | null;
  /** Least bytes one array element takes (arrays only), to reject impossible counts early. */
  readonly elementMinBytes: number;
}

interface StructPlan {
  readonly version: number;
  readonly flexible: boolean;
  /** Every field in spec order, so decoded objects always get the same shape. */
  readonly fields: readonly FieldPlan[];
  /** Tagged fields of this version in ascending tag order. */
  readonly tagged: readonly FieldPlan[];
  readonly byTag: ReadonlyMap<number, FieldPlan>;
  readonly minBytes: number;
}

class MessageInfo {
  readonly flexibleVersions: VersionRange;
  constructor(
    readonly name: string,
    flexibleVersions: string,
  ) {
    this.flexibleVersions = VersionRange.parse(flexibleVersions);
  }
}

class StructInfo {
  readonly fields: readonly FieldInfo[];
  private readonly plans: (StructPlan | undefined)[] = [];

  constructor(
    readonly name: string,
    fields: readonly FieldSchema[],
    label: string,
    private readonly message: MessageInfo,
  ) {
    this.fields = fields.map((f) => new FieldInfo(f, label, message));
  }

  /** Every struct below (and including) this one, by spec name; the first occurrence wins. */
  collect(into: Map<string, StructInfo>): void {
    if (!into.has(this.name)) into.set(this.name, this);
    for (const f of this.fields) f.struct?.collect(into);
  }

  plan(version: number): StructPlan {
    let p = this.plans[version];
    if (p === undefined) {
      p = this.compile(version);
      this.plans[version] = p;
    }
    return p;
  }

  private compile(version: number): StructPlan {
    const flexible = this.message.flexibleVersions.contains(version);
    const fields: FieldPlan[] = [];
    let minBytes = flexible ? 1 : 0;
    for (const info of this.fields) {
      let mode = MODE_ABSENT;
      if (info.versions.contains(version)) {
        if (info.taggedVersions.contains(version)) mode = flexible ? MODE_TAGGED : MODE_ABSENT;
        else mode = MODE_REGULAR;
      }
      const compact = mode === MODE_TAGGED || (info.flexibleOverride ?? this.message.flexibleVersions).contains(version);
      const struct = info.struct !== null && mode !== MODE_ABSENT ? info.struct.plan(version) : null;
      const nullable = info.nullableVersions.contains(version);
      const plan: FieldPlan = {
        info,
        key: info.key,
        where: `${this.message.name} v${version} ${info.label}`,
        label: info.label,
        mode,
        kind: info.kind,
        isArray: info.isArray,
        nullable,
        compact,
        tag: info.tag,
        ignorable: info.ignorable,
        zeroCopy: info.zeroCopy,
        struct,
        elementMinBytes: info.isArray ? valueMinBytes(info.kind, compact, false, struct) : 0,
      };
      fields.push(plan);
      if (mode === MODE_REGULAR) {
        minBytes += info.isArray ? (compact ? 1 : 4) : valueMinBytes(info.kind, compact, nullable, struct);
      }
    }
    const tagged = fields.filter((f) => f.mode === MODE_TAGGED).sort((a, b) => a.tag - b.tag);
    const byTag = new Map<number, FieldPlan>();
    for (const f of tagged) {
      if (byTag.has(f.tag)) throw new Error(`${this.message.name} v${version}: tag ${f.tag} used twice`);
      byTag.set(f.tag, f);
    }
    return { version, flexible, fields, tagged, byTag, minBytes };
  }
}

function valueMinBytes(kind: number, compact: boolean, nullable: boolean, struct: StructPlan | null): number {
  switch (kind) {
    case K_STRING:
      return compact ? 1 : 2;
    case K_BYTES:
    case K_RECORDS:
      return compact ? 1 : 4;
    case K_STRUCT:
      return nullable ? 1 : struct === null ? 0 : struct.minBytes;
    default:
      return FIXED_BYTES[kind]!;
  }
}

// ---------------------------------------------------------------------------------------------
// Defaults

function makeDefault(f: FieldInfo): unknown {
  if (f.nullDefault) return null;
  if (f.isArray) return [];
  if (f.kind === K_STRUCT) return defaultStruct(f.struct!);
  return f.scalarDefault;
}

function defaultStruct(s: StructInfo): Obj {
  const obj: Obj = {};
  for (const f of s.fields) obj[f.key] = makeDefault(f);
  return obj;
}

/** Whether `v` equals the field's default (undefined counts as the default). */
function isDefault(f: FieldInfo, v: unknown): boolean {
  if (v === undefined) return true;
  if (v === null) return f.nullDefault;
  if (f.nullDefault) return false;
  if (f.isArray) return Array.isArray(v) && v.length === 0;
  switch (f.kind) {
    case K_STRUCT:
      return isDefaultStruct(f.struct!, v as Obj);
    case K_BYTES:
      return Buffer.isBuffer(v) && v.length === 0;
    case K_FLOAT64:
      return Object.is(v, f.scalarDefault); // -0 is not the default 0: it must survive a round trip
    default:
      return v === f.scalarDefault;
  }
}

function isDefaultStruct(s: StructInfo, v: Obj): boolean {
  if (typeof v !== 'object') return false;
  for (const f of s.fields) if (!isDefault(f, v[f.key])) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Decoding. Reads never throw; failures are recorded in the reader and checked once at the end.

function readStruct(r: Reader, p: StructPlan): Obj {
  const obj: Obj = {};
  const fields = p.fields;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    if (f.mode === MODE_REGULAR) {
      r.where = f.label;
      obj[f.key] = f.isArray ? readArray(r, f) : readValue(r, f, false);
    } else {
      obj[f.key] = makeDefault(f.info);
    }
  }
  if (p.flexible) readTaggedFields(r, p, obj);
  return obj;
}

function readTaggedFields(r: Reader, p: StructPlan, obj: Obj): void {
  const count = r.uvarint();
  // Each tagged field takes at least two bytes (tag and size).
  if (count * 2 > r.end - r.pos) {
    r.fail(`${count} tagged fields cannot fit in ${r.end - r.pos} bytes`);
    return;
  }
  for (let i = 0; i < count && r.error === null; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    if (size > r.end - r.pos) {
      r.fail(`tagged field ${tag} of ${size} bytes overruns the ${r.end - r.pos} left`);
      return;
    }
    const fieldEnd = r.pos + size;
    const f = p.byTag.get(tag);
    if (f === undefined) {
      r.pos = fieldEnd; // unknown tag: skip it, as Kafka's readers do
      continue;
    }
    const outerEnd = r.end;
    r.end = fieldEnd;
    r.where = f.label;
    const v = f.isArray ? readArray(r, f) : readValue(r, f, true);
    r.end = outerEnd;
    if (r.error !== null) {
      r.pos = outerEnd; // keep the failure sticky now that the wider bound is back
      return;
    }
    obj[f.key] = v;
    r.pos = fieldEnd;
  }
}

/** Reads a length prefix; returns -1 for null, -2 after a failure (already recorded). */
function readLength(r: Reader, compact: boolean, isString: boolean, nullable: boolean): number {
  const n = compact ? r.uvarint() - 1 : isString ? r.int16() : r.int32();
  if (n >= 0) return n;
  if (r.error !== null) return -2;
  if (n !== -1) r.fail(`invalid length ${n}`);
  else if (!nullable) r.fail('null in a non-nullable field');
  return n === -1 && nullable ? -1 : -2;
}

function readValue(r: Reader, f: FieldPlan, tagged: boolean): unknown {
  switch (f.kind) {
    case K_BOOL:
      return r.uint8() !== 0;
    case K_INT8:
      return r.int8();
    case K_INT16:
      return r.int16();
    case K_UINT16:
      return r.uint16();
    case K_INT32:
      return r.int32();
    case K_UINT32:
      return r.uint32();
    case K_INT64:
      return r.int64();
    case K_FLOAT64:
      return r.float64();
    case K_UUID:
      return r.uuid();
    case K_STRING:
      return readString(r, f.compact, f.nullable);
    case K_BYTES: {
      const n = readLength(r, f.compact, false, f.nullable);
      if (n < 0) return n === -1 ? null : EMPTY_BUFFER;
      return f.zeroCopy ? r.view(n) : r.copy(n);
    }
    case K_RECORDS: {
      // Record batches stay raw bytes: a view of the input, never copied.
      const n = readLength(r, f.compact, false, f.nullable);
      if (n < 0) return null;
      return r.view(n);
    }
    default: {
      if (f.nullable) {
        const present = tagged ? r.uvarint() !== 0 : r.int8() >= 0;
        if (!present) return null;
      }
      return readStruct(r, f.struct!);
    }
  }
}

function readString(r: Reader, compact: boolean, nullable: boolean): string | null {
  const n = readLength(r, compact, true, nullable);
  if (n < 0) return n === -1 ? null : '';
  if (n > MAX_STRING_BYTES) {
    r.fail(`string length ${n} exceeds ${MAX_STRING_BYTES}`);
    return '';
  }
  return r.utf8(n);
}

function readArray(r: Reader, f: FieldPlan): unknown[] | null {
  const n = readLength(r, f.compact, false, f.nullable);
  if (n < 0) return n === -1 ? null : [];
  const left = r.end - r.pos;
  // Checked before allocating: every element takes at least one byte in practice, and at least
  // elementMinBytes by the schema.
  if (n > left || n * f.elementMinBytes > left) {
    r.fail(`array of ${n} elements cannot fit in ${left} bytes`);
    return [];
  }
  const out: unknown[] = new Array(n);
  const kind = f.kind;
  for (let i = 0; i < n; i++) {
    let v: unknown;
    switch (kind) {
      case K_STRUCT:
        v = readStruct(r, f.struct!);
        break;
      case K_STRING:
        v = readString(r, f.compact, false);
        break;
      case K_INT32:
        v = r.int32();
        break;
      default:
        v = readElement(r, f);
    }
    out[i] = v;
    if (r.error !== null) return out.slice(0, i + 1);
  }
  return out;
}

function readElement(r: Reader, f: FieldPlan): unknown {
  switch (f.kind) {
    case K_BYTES: {
      const n = readLength(r, f.compact, false, false);
      if (n < 0) return EMPTY_BUFFER;
      return f.zeroCopy ? r.view(n) : r.copy(n);
    }
    case K_RECORDS: {
      const n = readLength(r, f.compact, false, false);
      return n < 0 ? EMPTY_BUFFER : r.view(n);
    }
    default:
      return readValue(r, f, false);
  }
}

// ---------------------------------------------------------------------------------------------
// Encoding. Encode errors are programmer errors (the value does not fit the version); they throw.

function writeStruct(w: Writer, p: StructPlan, obj: Obj, where: string): void {
  if (obj === null || typeof obj !== 'object') throw new ProtocolEncodeError(`${where}: expected an object, got ${String(obj)}`);
  const fields = p.fields;
  let taggedCount = 0;
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i]!;
    let v = obj[f.key];
    if (f.mode === MODE_REGULAR) {
      if (v === undefined) v = makeDefault(f.info);
      if (f.isArray) writeArray(w, f, v);
      else writeValue(w, f, v, false);
    } else if (f.mode === MODE_TAGGED) {
      if (!isDefault(f.info, v)) taggedCount++;
    } else if (!f.ignorable && !isDefault(f.info, v)) {
      throw new ProtocolEncodeError(
        `${f.where}: field holds a non-default value but version ${p.version} does not have it (and it is not ignorable)`,
      );
    }
  }
  if (!p.flexible) return;
  w.uvarint(taggedCount);
  if (taggedCount === 0) return;
  for (const f of p.tagged) {
    const v = obj[f.key];
    if (isDefault(f.info, v)) continue;
    // The size precedes the value, so the value is written aside first. Tagged fields are rare
    // and small, unlike the fields on the hot path.
    const aside = new Writer(64);
    if (f.isArray) writeArray(aside, f, v);
    else writeValue(aside, f, v, true);
    w.uvarint(f.tag);
    w.uvarint(aside.length);
    w.writer(aside);
  }
}

function nullNotAllowed(f: FieldPlan): ProtocolEncodeError {
  return new ProtocolEncodeError(`${f.where}: null is not allowed in this version`);
}

function writeValue(w: Writer, f: FieldPlan, v: unknown, tagged: boolean): void {
  switch (f.kind) {
    case K_BOOL:
      w.bool(v as boolean);
      return;
    case K_INT8:
      w.int8(v as number);
      return;
    case K_INT16:
      w.int16(v as number);
      return;
    case K_UINT16:
      w.uint16(v as number);
      return;
    case K_INT32:
      w.int32(v as number);
      return;
    case K_UINT32:
      w.uint32(v as number);
      return;
    case K_INT64:
      w.int64(v as bigint);
      return;
    case K_FLOAT64:
      w.float64(v as number);
      return;
    case K_UUID:
      w.uuid(v as string);
      return;
    case K_STRING:
      writeString(w, f, v as string | null, f.nullable);
      return;
    case K_BYTES:
    case K_RECORDS:
      writeBytes(w, f, v as Buffer | null, f.nullable);
      return;
    default:
      if (v === null) {
        if (!f.nullable) throw nullNotAllowed(f);
        if (tagged) w.uvarint(0);
        else w.int8(-1);
        return;
      }
      if (f.nullable) {
        if (tagged) w.uvarint(1);
        else w.int8(1);
      }
      writeStruct(w, f.struct!, v as Obj, f.where);
  }
}

function writeString(w: Writer, f: FieldPlan, v: string | null, nullable: boolean): void {
  if (v === null) {
    if (!nullable) throw nullNotAllowed(f);
    if (f.compact) w.uvarint(0);
    else w.int16(-1);
    return;
  }
  if (typeof v !== 'string') throw new ProtocolEncodeError(`${f.where}: expected a string`);
  const n = Buffer.byteLength(v, 'utf8');
  if (n > MAX_STRING_BYTES) throw new ProtocolEncodeError(`${f.where}: string of ${n} bytes exceeds ${MAX_STRING_BYTES}`);
  if (f.compact) w.uvarint(n + 1);
  else w.int16(n);
  w.utf8(v, n);
}

function writeBytes(w: Writer, f: FieldPlan, v: Buffer | null, nullable: boolean): void {
  if (v === null) {
    if (!nullable) throw nullNotAllowed(f);
    if (f.compact) w.uvarint(0);
    else w.int32(-1);
    return;
  }
  if (!Buffer.isBuffer(v)) throw new ProtocolEncodeError(`${f.where}: expected a Buffer`);
  if (f.compact) w.uvarint(v.length + 1);
  else w.int32(v.length);
  w.bytes(v);
}

function writeArray(w: Writer, f: FieldPlan, v: unknown): void {
  if (v === null) {
    if (!f.nullable) throw nullNotAllowed(f);
    if (f.compact) w.uvarint(0);
    else w.int32(-1);
    return;
  }
  if (!Array.isArray(v)) throw new ProtocolEncodeError(`${f.where}: expected an array`);
  const n = v.length;
  if (f.compact) w.uvarint(n + 1);
  else w.int32(n);
  switch (f.kind) {
    case K_STRUCT:
      for (let i = 0; i < n; i++) writeStruct(w, f.struct!, v[i] as Obj, f.where);
      return;
    case K_STRING:
      for (let i = 0; i < n; i++) writeString(w, f, v[i] as string, false);
      return;
    case K_BYTES:
    case K_RECORDS:
      for (let i = 0; i < n; i++) writeBytes(w, f, v[i] as Buffer, false);
      return;
    default:
      for (let i = 0; i < n; i++) writeValue(w, f, v[i], false);
  }
}

// ---------------------------------------------------------------------------------------------
// The typed codec object the generated files export.

/**
 * Codec for one message, every version. `T` is the message's data interface; `S` maps the spec
 * names of its nested structs to their interfaces (for `newStruct`).
 */
export class MessageCodec<T extends object = object, S extends object = object> {
  readonly name: string;
  readonly schema: MessageSchema;
  /** Api key (requests, responses) or record type (metadata records); -1 when the spec has none. */
  readonly apiKey: number;
  readonly validVersions: VersionRange;
  readonly flexibleVersions: VersionRange;
  private readonly root: StructInfo;
  private readonly structs = new Map<string, StructInfo>();

  constructor(schema: MessageSchema) {
    this.name = schema.name;
    this.schema = schema;
    this.apiKey = schema.apiKey ?? -1;
    this.validVersions = VersionRange.parse(schema.validVersions);
    this.flexibleVersions = VersionRange.parse(schema.flexibleVersions);
    const message = new MessageInfo(schema.name, schema.flexibleVersions);
    this.root = new StructInfo(schema.name, schema.fields, '', message);
    for (const f of this.root.fields) f.struct?.collect(this.structs);
  }

  get minVersion(): number {
    return this.validVersions.min;
  }

  get maxVersion(): number {
    return this.validVersions.max;
  }

  isFlexible(version: number): boolean {
    return this.flexibleVersions.contains(version);
  }

  /** Writes `v` as `version`. Throws ProtocolEncodeError if `v` does not fit that version. */
  encode(w: Writer, version: number, v: T): void {
    if (!Number.isInteger(version) || !this.validVersions.contains(version)) {
      throw new ProtocolEncodeError(`${this.name}: cannot encode unsupported version ${version} (valid ${this.validVersions})`);
    }
    writeStruct(w, this.root.plan(version), v as Obj, `${this.name} v${version}`);
  }

  /**
   * Reads a `version` value at the reader's position. Throws ProtocolDecodeError, and nothing
   * else, for bytes that do not decode. `records` fields (and zeroCopy bytes) are views of the
   * reader's buffer.
   */
  decode(r: Reader, version: number): T {
    if (!Number.isInteger(version) || !this.validVersions.contains(version)) {
      throw new UnsupportedVersionError(this.name, version);
    }
    let v: Obj;
    try {
      v = readStruct(r, this.root.plan(version));
    } catch (e) {
      // Not expected for any input; kept so a bug surfaces as a decode failure, not a crash.
      throw new ProtocolDecodeError(`${this.name} v${version}: internal decoder error: ${String(e)}`, { cause: e });
    }
    if (r.error !== null) throw new ProtocolDecodeError(`${this.name} v${version}: ${r.error}`);
    return v as T;
  }

  /** Encodes into one Buffer (convenience; servers should write `chunks()` instead). */
  toBuffer(version: number, v: T): Buffer {
    const w = new Writer();
    this.encode(w, version, v);
    return w.toBuffer();
  }

  /** Decodes a whole buffer; bytes left over are an error. */
  fromBuffer(buf: Buffer, version: number): T {
    const r = new Reader(buf);
    const v = this.decode(r, version);
    if (r.pos !== r.end) throw new ProtocolDecodeError(`${this.name} v${version}: ${r.end - r.pos} bytes left over`);
    return v;
  }

  /**
   * A value with every field at its default, fresh on each call. Defaults do not depend on the
   * version in Kafka; the optional version is only checked.
   */
  defaults(version?: number): T {
    if (version !== undefined && !this.validVersions.contains(version)) {
      throw new ProtocolEncodeError(`${this.name}: unsupported version ${version}`);
    }
    return defaultStruct(this.root) as T;
  }

  /** A nested struct (by its spec name, e.g. 'PartitionProduceResponse') with every field at its default. */
  newStruct<K extends keyof S & string>(structName: K): S[K] {
    const s = this.structs.get(structName);
    if (s === undefined) throw new Error(`${this.name} has no struct ${structName}`);
    return defaultStruct(s) as S[K];
  }
}

/** Builds the codec for a generated schema. */
export function defineMessage<T extends object, S extends object = object>(schema: MessageSchema): MessageCodec<T, S> {
  return new MessageCodec<T, S>(schema);
}

/** A codec of any message, for tables keyed by api key. */
export type AnyMessageCodec = MessageCodec<object, object>;
