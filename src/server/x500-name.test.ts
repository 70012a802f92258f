import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { X500NameError, escapeRfc2253Value, rfc2253NameOf, rfc2253SubjectOf } from './x500-name.js';

// A tiny DER writer for hand-built names (short and long length forms).
const tlv = (tag: number, content: Buffer): Buffer => {
  const n = content.length;
  const len = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), len, content]);
};
const oid = (dotted: string): Buffer => {
  const [a, b, ...rest] = dotted.split('.').map(Number);
  const bytes = [a! * 40 + b!];
  for (const arc of rest) {
    const groups: number[] = [];
    let v = arc;
    do {
      groups.unshift(v & 0x7f);
      v = Math.floor(v / 128);
    } while (v > 0);
    bytes.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Buffer.from(bytes));
};
const UTF8 = 0x0c;
const PRINTABLE = 0x13;
const ava = (type: string, value: string, tag = UTF8) => tlv(0x30, Buffer.concat([oid(type), tlv(tag, Buffer.from(value, 'utf8'))]));
const rdn = (...avas: Buffer[]) => tlv(0x31, Buffer.concat(avas));
const name = (...rdns: Buffer[]) => tlv(0x30, Buffer.concat(rdns));
const CN = '2.5.4.3';
const OU = '2.5.4.11';
const O = '2.5.4.10';
const C = '2.5.4.6';

test('RDNs are written most specific first, joined by commas without spaces (Java X500Principal.getName())', () => {
  // Certificate order is most general first: C, O, OU, CN.
  const der = name(rdn(ava(C, 'US', PRINTABLE)), rdn(ava(O, 'Acme')), rdn(ava(OU, 'eng')), rdn(ava(CN, 'alice')));
  assert.equal(rfc2253NameOf(der), 'CN=alice,OU=eng,O=Acme,C=US');
});

test('a multi-valued RDN joins its values with + in DER order', () => {
  const der = name(rdn(ava(O, 'Acme')), rdn(ava(CN, 'alice'), ava('0.9.2342.19200300.100.1.1', 'a1')));
  assert.equal(rfc2253NameOf(der), 'CN=alice+UID=a1,O=Acme');
});

test('only Java\'s RFC 2253 keywords are named; other types are OIDs with #hex DER values, as are non-string values', () => {
  const email = ava('1.2.840.113549.1.9.1', 'a@b.c', 0x16);
  const der = name(rdn(ava('2.5.4.9', 'Main St')), rdn(ava('0.9.2342.19200300.100.1.25', 'example')), rdn(ava('2.5.4.7', 'Town')), rdn(ava('2.5.4.8', 'State')), rdn(email), rdn(tlv(0x30, Buffer.concat([oid(CN), tlv(0x04, Buffer.from([1, 2]))]))));
  assert.equal(rfc2253NameOf(der), 'CN=#04020102,1.2.840.113549.1.9.1=#16056140622e63,ST=State,L=Town,DC=example,STREET=Main St');
});

test('escaping: , = + < > # ; " \\ anywhere, NUL as \\00, leading and trailing spaces; other characters as they are', () => {
  const table: [string, string][] = [
    ['Smith, John', 'Smith\\, John'],
    ['a+b', 'a\\+b'],
    ['say "hi"', 'say \\"hi\\"'],
    ['back\\slash', 'back\\\\slash'],
    ['<x>;y=z', '\\<x\\>\\;y\\=z'],
    ['#1 fan#', '\\#1 fan\\#'],
    [' padded ', '\\ padded\\ '],
    ['   ', '\\ \\ \\ '],
    ['nul\u0000', 'nul\\00'],
    ['Zoë & Ünïcode_!@*', 'Zoë & Ünïcode_!@*'],
    ['', ''],
  ];
  for (const [value, expected] of table) assert.equal(escapeRfc2253Value(value), expected, JSON.stringify(value));
  assert.equal(rfc2253NameOf(name(rdn(ava(O, 'Acme, Inc.')), rdn(ava(CN, 'Tkac, "Adam" + co')))), 'CN=Tkac\\, \\"Adam\\" \\+ co,O=Acme\\, Inc.');
});

test('long DER lengths are read (a 300-byte value)', () => {
  const long = 'x'.repeat(300);
  assert.equal(rfc2253NameOf(name(rdn(ava(CN, long)))), `CN=${long}`);
});

test('malformed names throw X500NameError, never read past the buffer', () => {
  const good = name(rdn(ava(O, 'Acme')), rdn(ava(CN, 'alice')));
  for (let cut = 0; cut < good.length; cut++) assert.throws(() => rfc2253NameOf(good.subarray(0, cut)), X500NameError, `cut at ${cut}`);
  assert.throws(() => rfc2253NameOf(Buffer.concat([good, Buffer.from([0])])), X500NameError);
  assert.throws(() => rfc2253NameOf(name(tlv(0x31, Buffer.alloc(0)))), X500NameError);
  assert.throws(() => rfc2253NameOf(name(rdn(tlv(0x30, tlv(0x0c, Buffer.from('no type')))))), X500NameError);
});

test('the subject of an openssl certificate, multi-valued and escaped, matches what Java prints', () => {
  const pem = execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', '/dev/null', '-days', '1', '-utf8', '-multivalue-rdn',
    '-subj', '/C=US/O=Acme\\, Inc./OU=eng+OU=ops/CN=Bob "B" Smith+UID=b1'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const certificate = new X509Certificate(pem);
  const dn = rfc2253SubjectOf(certificate.raw);
  // DER sorts a SET's members by their encoding (the shorter UID first); Java keeps that order.
  assert.equal(dn, 'UID=b1+CN=Bob \\"B\\" Smith,OU=eng+OU=ops,O=Acme\\, Inc.,C=US');
  assert.throws(() => rfc2253SubjectOf(certificate.raw.subarray(0, 40)), X500NameError);
});
