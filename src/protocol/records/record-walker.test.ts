// The record walker on hand-built bytes: every field of a record truncated or out of range, length
// mismatches, wrong record counts, trailing bytes, bad header counts and keys. Records here are
// assembled byte by byte (test-helpers.ts), not with the project's encoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordWalker } from './record-walker.js';
import { body, record, recordFields, utf8 as bytes, zz } from './test-helpers.js';

/** Walks `section` expecting `count` records; returns the walker after the walk and the records seen. */
function walk(section: number[] | Buffer, count: number): { walker: RecordWalker; seen: number } {
  const buf = Buffer.isBuffer(section) ? section : Buffer.from(section);
  const walker = new RecordWalker().reset(buf, 0, buf.length, count);
  let seen = 0;
  while (walker.next()) seen++;
  return { walker, seen };
}

function assertFails(section: number[] | Buffer, count: number, pattern: RegExp, failedIndex?: number): void {
  const { walker } = walk(section, count);
  assert.equal(walker.ok, false, `walk of ${Buffer.from(section).toString('hex')} passed`);
  const message = walker.failureMessage();
  assert.ok(message !== null);
  assert.match(message, pattern);
  if (failedIndex !== undefined) assert.equal(walker.failedRecordIndex, failedIndex);
}

test('a well-formed section is walked record by record with each field exposed', () => {
  const first = record(body(recordFields({ offsetDelta: 0, timestampDelta: 0, key: 'k', value: 'v', headers: [] })));
  const second = record(body(recordFields({ offsetDelta: 1, timestampDelta: -5, key: null, value: 'value', headers: [['a', null], ['bb', 'xyz']] })));
  const section = Buffer.from([...first, ...second]);
  const walker = new RecordWalker().reset(section, 0, section.length, 2);
  assert.equal(walker.next(), true);
  assert.deepEqual(
    [walker.index, walker.offsetDelta, walker.timestampDelta, walker.keyLength, walker.valueLength, walker.headerCount, walker.recordStart, walker.recordEnd],
    [0, 0, 0, 1, 1, 0, 0, first.length],
  );
  assert.equal(section.toString('latin1', walker.keyStart, walker.keyStart + walker.keyLength), 'k');
  assert.equal(section.toString('latin1', walker.valueStart, walker.valueStart + walker.valueLength), 'v');
  assert.equal(walker.next(), true);
  assert.deepEqual([walker.index, walker.offsetDelta, walker.timestampDelta, walker.keyLength, walker.valueLength, walker.headerCount], [1, 1, -5, -1, 5, 2]);
  assert.equal(section.toString('latin1', walker.valueStart, walker.valueStart + walker.valueLength), 'value');
  assert.equal(walker.next(), false);
  assert.equal(walker.ok, true);
  assert.equal(walker.failureMessage(), null);
});

test('a section may start and end inside a larger buffer', () => {
  const rec = record(body(recordFields()));
  const buf = Buffer.from([0xff, 0xff, ...rec, 0xee]);
  const walker = new RecordWalker().reset(buf, 2, 2 + rec.length, 1);
  assert.equal(walker.next(), true);
  assert.equal(walker.next(), false);
  assert.equal(walker.ok, true);
});

test('an empty section with recordsCount 0 is whole', () => {
  assert.equal(walk([], 0).walker.ok, true);
});

test('the walker checks framing only: offset deltas with gaps (compacted batches) pass', () => {
  const section = [...record(body(recordFields({ offsetDelta: 0 }))), ...record(body(recordFields({ offsetDelta: 7 })))];
  const { walker, seen } = walk(section, 2);
  assert.equal(walker.ok, true);
  assert.equal(seen, 2);
  assert.equal(walker.offsetDelta, 7);
});

test('large timestamp deltas are exact; 10-byte varlongs are accepted, 11 bytes are not', () => {
  const delta = 2 ** 51 + 1;
  const { walker } = walk(record(body(recordFields({ timestampDelta: -delta }))), 1);
  assert.equal(walker.ok, true);
  assert.equal(walker.timestampDelta, -delta);
  // -2^63 is 10 bytes of zig-zag varlong: ff ff ff ff ff ff ff ff ff 01.
  const fields = recordFields();
  fields[1] = { name: /timestampDelta/, bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01] };
  const ten = walk(record(body(fields)), 1).walker;
  assert.equal(ten.ok, true);
  assert.equal(ten.timestampDelta, -(2 ** 63));
  fields[1] = { name: /timestampDelta/, bytes: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x81, 0x00] };
  assertFails(record(body(fields)), 1, /record 0: truncated or overlong timestampDelta varlong at byte 2/);
});

test('every field cut off by the record length is reported by name', () => {
  const fields = recordFields();
  for (let i = 0; i < fields.length; i++) {
    const cut = body(fields.slice(0, i));
    // The record ends just before field i, followed by bytes that belong to no record.
    assertFails([...record(cut), ...body(fields.slice(i))], 1, fields[i]!.name, 0);
  }
});

test('every varint truncated mid-way (a continuation byte at the end) is reported by name', () => {
  // Multi-byte values so each varint can be cut after its first byte.
  const long = 'x'.repeat(200);
  const fields = recordFields({ timestampDelta: 100_000, offsetDelta: 0, key: long, value: long, headers: [[long, long]] });
  fields.splice(5, 1, { name: /header count varint/, bytes: [0x82, 0x00] }); // 1 header, written in two bytes
  const full = body(fields);
  assert.equal(walk(record(full), 1).walker.ok, true);
  for (let i = 1; i < fields.length; i++) {
    if (fields[i]!.bytes.length < 2 || fields[i]!.bytes[0]! < 0x80) continue; // attributes, 1-byte varints
    const cut = [...body(fields.slice(0, i)), fields[i]!.bytes[0]!];
    assertFails(record(cut), 1, fields[i]!.name, 0);
  }
  // The length varint itself: the section ends after a continuation byte, or is six bytes long.
  assertFails([0x80], 1, /record 0: truncated or overlong length varint at byte 0/);
  assertFails([0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 1, /length varint/);
});

test('overlong varints (more than 5 bytes for 32-bit fields) are refused', () => {
  const fields = recordFields();
  fields[2] = { name: /offsetDelta/, bytes: [0x80, 0x80, 0x80, 0x80, 0x80, 0x00] };
  assertFails(record(body(fields)), 1, /offsetDelta varint/);
});

test('a record length beyond the section, or negative, is refused', () => {
  const b = body(recordFields());
  assertFails(record(b, b.length + 1), 1, /record 0: record length out of range at byte 0/);
  assertFails(record(b, -1), 1, /record length out of range/);
  assertFails(record(b, 2 ** 31 - 1), 1, /record length out of range/);
});

test('a record whose fields end before its length says is refused', () => {
  const b = [...body(recordFields()), 0x00, 0x00];
  assertFails(record(b), 1, /record 0: record fields do not end where its length says/, 0);
});

test('a second record is checked like the first, and named by its index', () => {
  const good = record(body(recordFields()));
  const bad = [...body(recordFields({ offsetDelta: 1 })), 0x01];
  assertFails([...good, ...record(bad)], 2, /record 1: record fields do not end/, 1);
});

test('recordsCount above the records present, or below them, is refused', () => {
  const one = record(body(recordFields()));
  assertFails(one, 2, /recordsCount is 2 but the records section ends after 1 records/, -1);
  const two = [...one, ...record(body(recordFields({ offsetDelta: 1 })))];
  assertFails(two, 1, new RegExp(`${two.length - one.length} bytes are left after the last of 1 records, at byte ${one.length}`), -1);
  assertFails(one, 0, /bytes are left after the last of 0 records/);
});

test('trailing bytes after the last record are refused, even one zero byte', () => {
  const one = record(body(recordFields()));
  assertFails([...one, 0x00], 1, /1 bytes are left after the last of 1 records/);
  assertFails([...one, 0xde, 0xad, 0xbe], 1, /3 bytes are left/);
});

test('key and value lengths: -1 is null, below -1 or past the record is refused', () => {
  const withKey = (bytes: number[]) => {
    const f = recordFields();
    f[3] = { name: /key/, bytes };
    return record(body(f));
  };
  assert.equal(walk(withKey(zz(-1)), 1).walker.keyLength, -1);
  assert.equal(walk(withKey(zz(0)), 1).walker.keyLength, 0);
  assertFails(withKey(zz(-2)), 1, /key length out of range/);
  assertFails(withKey([...zz(100), ...bytes('abc')]), 1, /key length out of range/);
  const withValue = (bytes: number[]) => {
    const f = recordFields();
    f[4] = { name: /value/, bytes };
    return record(body(f));
  };
  assert.equal(walk(withValue(zz(-1)), 1).walker.valueLength, -1);
  assertFails(withValue(zz(-2)), 1, /value length out of range/);
  assertFails(withValue([...zz(50), ...bytes('abc')]), 1, /value length out of range/);
});

test('header counts: negative or more than the record can hold is refused', () => {
  const withCount = (n: number, headers: [string, string | null][] = []) => {
    const f = recordFields({ headers });
    f[5] = { name: /header count/, bytes: zz(n) };
    return record(body(f));
  };
  assertFails(withCount(-1), 1, /header count out of range/);
  assertFails(withCount(1_000_000), 1, /header count out of range/);
  // One header declared, two present: the second is left over inside the record.
  assertFails(withCount(1, [['a', 'b'], ['c', 'd']]), 1, /record fields do not end where its length says/);
  // Two declared, one present.
  assertFails(withCount(2, [['a', 'b']]), 1, /header count out of range|header key length varint/);
});

test('header keys must not be null or negative; header values follow the value rules', () => {
  const withHeader = (key: number[], value: number[]) => {
    const f = recordFields({ headers: [] });
    f[5] = { name: /header count/, bytes: zz(1) };
    f.push({ name: /header key/, bytes: key }, { name: /header value/, bytes: value });
    return record(body(f));
  };
  assert.equal(walk(withHeader([...zz(0)], zz(-1)), 1).walker.ok, true); // empty key, null value
  assertFails(withHeader(zz(-1), zz(-1)), 1, /null header key/);
  assertFails(withHeader(zz(-3), zz(-1)), 1, /header key length out of range/);
  assertFails(withHeader([...zz(10), ...bytes('k')], zz(-1)), 1, /header key length out of range/);
  assertFails(withHeader([...zz(1), ...bytes('k')], zz(-2)), 1, /header value length out of range/);
  assertFails(withHeader([...zz(1), ...bytes('k')], [...zz(9), ...bytes('v')]), 1, /header value length out of range/);
});

test('a control record (4-byte key, 6-byte value, no headers) is an ordinary record to the walker', () => {
  const key = [0, 0, 0, 1]; // version 0, COMMIT
  const value = [0, 0, 0, 0, 0, 5]; // version 0, coordinator epoch 5
  const b = [0, ...zz(0), ...zz(0), ...zz(4), ...key, ...zz(6), ...value, ...zz(0)];
  const { walker } = walk(record(b), 1);
  assert.equal(walker.ok, true);
  assert.deepEqual([walker.keyLength, walker.valueLength], [4, 6]);
});

test('after a failure the walker stays failed, and a reset starts afresh', () => {
  const walker = new RecordWalker().reset(Buffer.from([0x80]), 0, 1, 1);
  assert.equal(walker.next(), false);
  assert.equal(walker.next(), false);
  assert.equal(walker.ok, false);
  const good = Buffer.from(record(body(recordFields())));
  walker.reset(good, 0, good.length, 1);
  assert.equal(walker.failureMessage(), null);
  assert.equal(walker.next(), true);
  assert.equal(walker.next(), false);
  assert.equal(walker.ok, true);
});

test('every prefix of a good two-record section fails cleanly (never throws, never reads past the end)', () => {
  const section = [...record(body(recordFields())), ...record(body(recordFields({ offsetDelta: 1, key: null, headers: [['k', null]] })))];
  for (let len = 0; len < section.length; len++) {
    // A buffer longer than the section, with 0xff after `len`: reads past `end` would see it.
    const buf = Buffer.from([...section.slice(0, len), 0xff, 0xff, 0xff]);
    const walker = new RecordWalker().reset(buf, 0, len, 2);
    while (walker.next());
    assert.equal(walker.ok, false, `prefix of ${len} bytes passed`);
    assert.ok(walker.failureMessage() !== null);
  }
});
