// The subject of an X.509 certificate as the distinguished-name string Kafka builds principals
// from: Java's X500Principal.getName(), the RFC 2253 form. Read from the certificate's DER
// rather than from Node's subject string, whose order (most general first), multi-value
// separator and escaping are OpenSSL's, not Java's. Java's rules, kept here:
// - RDNs most specific first (the reverse of the certificate's order), joined by ',' with no
//   spaces; the values of a multi-valued RDN joined by '+' in their DER order;
// - only CN, C, L, ST, O, OU, STREET, DC and UID are named; any other attribute is its dotted
//   OID, and its value (like a value that is not a string type) is '#' + the hex of its DER;
// - in a string value, each of , = + < > # ; " \ is escaped with a backslash wherever it is,
//   NUL is \00, and spaces (and CRs) leading or trailing the escaped value are escaped too;
//   other characters, non-ASCII included, are written as they are.
// Malformed DER throws X500NameError; it never reads past the buffer.

export class X500NameError extends Error {
  override readonly name = 'X500NameError';
}

/** One DER element: its tag and where its header and contents lie in the buffer. */
interface Element {
  readonly tag: number;
  readonly headerStart: number;
  readonly contentStart: number;
  readonly end: number;
}

const SEQUENCE = 0x30;
const SET = 0x31;
const OBJECT_IDENTIFIER = 0x06;
const INTEGER = 0x02;
const VERSION_TAG = 0xa0;

/** The string types whose value Java writes as text (AVA.isDerString, non-canonical). */
const STRING_TAGS = new Set([0x13 /* PrintableString */, 0x14 /* T61String */, 0x16 /* IA5String */, 0x1b /* GeneralString */, 0x0c /* UTF8String */, 0x1e /* BMPString */]);

/** The attribute keywords of Java's RFC 2253 output; every other type is written as its OID. */
const RFC2253_KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'],
  ['2.5.4.6', 'C'],
  ['2.5.4.7', 'L'],
  ['2.5.4.8', 'ST'],
  ['2.5.4.10', 'O'],
  ['2.5.4.11', 'OU'],
  ['2.5.4.9', 'STREET'],
  ['0.9.2342.19200300.100.1.25', 'DC'],
  ['0.9.2342.19200300.100.1.1', 'UID'],
]);

/** Characters Java's RFC 2253 output escapes wherever they appear in a value. */
const ESCAPED = ',=+<>#;"\\';

function readElement(der: Uint8Array, pos: number, limit: number, what: string): Element {
  if (pos + 2 > limit) throw new X500NameError(`${what}: truncated header at byte ${pos}`);
  const tag = der[pos]!;
  if ((tag & 0x1f) === 0x1f) throw new X500NameError(`${what}: multi-byte tag at byte ${pos}`);
  let length = der[pos + 1]!;
  let contentStart = pos + 2;
  if (length & 0x80) {
    const lengthBytes = length & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4) throw new X500NameError(`${what}: unsupported length form at byte ${pos}`);
    if (contentStart + lengthBytes > limit) throw new X500NameError(`${what}: truncated length at byte ${pos}`);
    length = 0;
    for (let i = 0; i < lengthBytes; i++) length = length * 256 + der[contentStart + i]!;
    contentStart += lengthBytes;
  }
  const end = contentStart + length;
  if (end > limit) throw new X500NameError(`${what}: length ${length} at byte ${pos} runs past its container`);
  return { tag, headerStart: pos, contentStart, end };
}

function expect(der: Uint8Array, pos: number, limit: number, tag: number, what: string): Element {
  const e = readElement(der, pos, limit, what);
  if (e.tag !== tag) throw new X500NameError(`${what}: expected tag 0x${tag.toString(16)}, found 0x${e.tag.toString(16)} at byte ${pos}`);
  return e;
}

function decodeOid(der: Uint8Array, e: Element): string {
  if (e.end === e.contentStart) throw new X500NameError(`empty OID at byte ${e.headerStart}`);
  const arcs: number[] = [];
  let value = 0;
  for (let i = e.contentStart; i < e.end; i++) {
    const b = der[i]!;
    value = value * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (arcs.length === 0) {
        const first = value < 40 ? 0 : value < 80 ? 1 : 2;
        arcs.push(first, value - first * 40);
      } else {
        arcs.push(value);
      }
      value = 0;
    } else if (i === e.end - 1) {
      throw new X500NameError(`OID at byte ${e.headerStart} ends inside an arc`);
    }
  }
  return arcs.join('.');
}

function hex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex');
}

/** A string attribute value escaped as Java's X500Principal.getName() writes it. */
export function escapeRfc2253Value(value: string): string {
  let escaped = '';
  for (const c of value) {
    if (ESCAPED.includes(c)) escaped += '\\' + c;
    else if (c === '\u0000') escaped += '\\00';
    else escaped += c;
  }
  // Java escapes spaces and CRs at either end of the already-escaped value.
  const isPad = (c: string) => c === ' ' || c === '\r';
  let lead = 0;
  while (lead < escaped.length && isPad(escaped[lead]!)) lead++;
  let trail = escaped.length - 1;
  while (trail >= 0 && isPad(escaped[trail]!)) trail--;
  if (lead === 0 && trail === escaped.length - 1) return escaped;
  let out = '';
  for (let i = 0; i < escaped.length; i++) out += (i < lead || i > trail ? '\\' : '') + escaped[i];
  return out;
}

const utf8 = new TextDecoder('utf-8');

function formatAttribute(der: Uint8Array, ava: Element): string {
  const oidElement = expect(der, ava.contentStart, ava.end, OBJECT_IDENTIFIER, 'attribute type');
  const value = readElement(der, oidElement.end, ava.end, 'attribute value');
  if (value.end !== ava.end) throw new X500NameError(`extra bytes after the attribute value at byte ${value.end}`);
  const oid = decodeOid(der, oidElement);
  const keyword = RFC2253_KEYWORDS.get(oid);
  if (keyword === undefined || !STRING_TAGS.has(value.tag)) return `${keyword ?? oid}=#${hex(der.subarray(value.headerStart, value.end))}`;
  // Java decodes every string type's bytes as UTF-8 (so does this, to give the same name).
  return `${keyword}=${escapeRfc2253Value(utf8.decode(der.subarray(value.contentStart, value.end)))}`;
}

/** The RFC 2253 form of a DER-encoded Name (a SEQUENCE of RDN SETs) at `pos`. */
function formatName(der: Uint8Array, name: Element): string {
  const rdns: string[] = [];
  for (let pos = name.contentStart; pos < name.end; ) {
    const rdn = expect(der, pos, name.end, SET, 'relative distinguished name');
    const values: string[] = [];
    for (let p = rdn.contentStart; p < rdn.end; ) {
      const ava = expect(der, p, rdn.end, SEQUENCE, 'attribute');
      values.push(formatAttribute(der, ava));
      p = ava.end;
    }
    if (values.length === 0) throw new X500NameError(`empty relative distinguished name at byte ${pos}`);
    rdns.push(values.join('+'));
    pos = rdn.end;
  }
  return rdns.reverse().join(',');
}

/** The RFC 2253 form of a DER-encoded X.500 Name, as Java's X500Principal.getName(). */
export function rfc2253NameOf(nameDer: Uint8Array): string {
  const name = expect(nameDer, 0, nameDer.length, SEQUENCE, 'name');
  if (name.end !== nameDer.length) throw new X500NameError(`extra bytes after the name at byte ${name.end}`);
  return formatName(nameDer, name);
}

/** The subject of a DER-encoded X.509 certificate in RFC 2253 form (see the file header). */
export function rfc2253SubjectOf(certificateDer: Uint8Array): string {
  const certificate = expect(certificateDer, 0, certificateDer.length, SEQUENCE, 'certificate');
  const tbs = expect(certificateDer, certificate.contentStart, certificate.end, SEQUENCE, 'tbsCertificate');
  let pos = tbs.contentStart;
  const first = readElement(certificateDer, pos, tbs.end, 'tbsCertificate field');
  if (first.tag === VERSION_TAG) pos = first.end;
  pos = expect(certificateDer, pos, tbs.end, INTEGER, 'serial number').end;
  pos = expect(certificateDer, pos, tbs.end, SEQUENCE, 'signature algorithm').end;
  pos = expect(certificateDer, pos, tbs.end, SEQUENCE, 'issuer').end;
  pos = expect(certificateDer, pos, tbs.end, SEQUENCE, 'validity').end;
  return formatName(certificateDer, expect(certificateDer, pos, tbs.end, SEQUENCE, 'subject'));
}
