// Hostile input: random bytes and every truncation of valid encodings must decode to a
// ProtocolDecodeError (or, for random bytes, to a value), never to any other exception; huge
// declared counts must fail before anything is allocated.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, loadAllCodecs, randomObject, versionsOf } from './test-support.js';
import { Reader } from './reader.js';
import { ProtocolDecodeError } from './errors.js';
import type { AnyMessageCodec } from './message.js';
import { MetadataRequest } from '../messages/MetadataRequest.js';
import { ProduceRequest } from '../messages/ProduceRequest.js';
import { ApiVersionsRequest } from '../messages/ApiVersionsRequest.js';
import { FetchResponse } from '../messages/FetchResponse.js';

const codecs = await loadAllCodecs();

/** Decodes and classifies: 'ok', or the ProtocolDecodeError; anything else fails the test. */
function decodeOrError(codec: AnyMessageCodec, buf: Buffer, version: number, context: string): 'ok' | ProtocolDecodeError {
  try {
    codec.decode(new Reader(buf), version);
    return 'ok';
  } catch (e) {
    if (!(e instanceof ProtocolDecodeError)) assert.fail(`${context}: threw ${String(e)}`);
    assert.doesNotMatch(e.message, /internal decoder error/, context);
    return e;
  }
}

test('random bytes decode to a value or a ProtocolDecodeError for every message and version', () => {
  const rng = new Rng(0xdecade);
  let errors = 0;
  for (const codec of codecs) {
    for (const version of versionsOf(codec)) {
      for (let i = 0; i < 20; i++) {
        const buf = rng.bytes(rng.int(0, 64));
        // Bias towards small varints and lengths so decoding gets past the first field.
        if (rng.chance(0.5)) for (let j = 0; j < buf.length; j++) if (rng.chance(0.6)) buf[j] = buf[j]! & 0x03;
        if (decodeOrError(codec, buf, version, `${codec.name} v${version} ${buf.toString('hex')}`) !== 'ok') errors++;
      }
    }
  }
  assert.ok(errors > 0);
});

test('every truncation of a valid encoding is a ProtocolDecodeError', () => {
  const rng = new Rng(7);
  let cases = 0;
  for (const codec of codecs) {
    for (const version of versionsOf(codec)) {
      const value = randomObject(rng, codec.schema.fields, version, codec.isFlexible(version));
      const bytes = codec.toBuffer(version, value);
      for (let n = 0; n < bytes.length; n++) {
        const context = `${codec.name} v${version} cut at ${n} of ${bytes.length}`;
        const result = decodeOrError(codec, Buffer.from(bytes.subarray(0, n)), version, context);
        assert.notEqual(result, 'ok', context);
        cases++;
      }
    }
  }
  assert.ok(cases > 10_000, `${cases}`);
});

test('a declared array count of 2^31-1 with 10 bytes left fails without allocating', () => {
  const body = Buffer.concat([Buffer.from('7fffffff', 'hex'), Buffer.alloc(10)]);
  const before = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed;
  assert.throws(() => MetadataRequest.fromBuffer(body, 1), (e: Error) => e instanceof ProtocolDecodeError && /topics: array of 2147483647 elements cannot fit in 10 bytes/.test(e.message));
  const grown = process.memoryUsage().arrayBuffers + process.memoryUsage().heapUsed - before;
  assert.ok(grown < 64 * 1024 * 1024, `grew by ${grown} bytes`);
});

test('a compact count of 2^32-2 fails without allocating', () => {
  // MetadataRequest v12: topics compact array with uvarint 0xffffffff (count 2^32 - 2).
  const body = Buffer.concat([Buffer.from('ffffffff0f', 'hex'), Buffer.alloc(10)]);
  assert.throws(() => MetadataRequest.fromBuffer(body, 12), /cannot fit in 10 bytes/);
});

test('huge string, bytes, records and tagged-field lengths fail before reading', () => {
  // ApiVersionsRequest v3: clientSoftwareName compact string of 2^31 bytes.
  assert.throws(() => ApiVersionsRequest.fromBuffer(Buffer.from('8080808008', 'hex'), 3), /clientSoftwareName: string length 2147483647 exceeds 32767/);
  // Non-flexible string length beyond the buffer.
  assert.throws(() => MetadataRequest.fromBuffer(Buffer.from('00000001 7fff 6162'.replace(/ /g, ''), 'hex'), 1), /topics.name: needs 32767 bytes for string, 2 left/);
  // ProduceRequest v3 records length 2^31-1.
  const produce = Buffer.from('ffff ffff 00000000 00000001 0001 74 00000001 00000000 7fffffff 00'.replace(/ /g, ''), 'hex');
  assert.throws(() => ProduceRequest.fromBuffer(produce, 3), /records: needs 2147483647 bytes for bytes, 1 left/);
  // ApiVersionsRequest v3 with a tag section declaring 2^28 tagged fields.
  assert.throws(() => ApiVersionsRequest.fromBuffer(Buffer.from('0101' + '80808080 01'.replace(/ /g, ''), 'hex'), 3), /268435456 tagged fields cannot fit/);
  // A tagged field whose size overruns the buffer.
  assert.throws(() => ApiVersionsRequest.fromBuffer(Buffer.from('0101 01 05 7f 00'.replace(/ /g, ''), 'hex'), 3), /tagged field 5 of 127 bytes overruns/);
});

test('null where the version does not allow it, and invalid lengths, are decode errors', () => {
  // MetadataRequest v0: topics is not nullable before v1.
  assert.throws(() => MetadataRequest.fromBuffer(Buffer.from('ffffffff', 'hex'), 0), /topics: null in a non-nullable field/);
  assert.throws(() => MetadataRequest.fromBuffer(Buffer.from('fffffffe', 'hex'), 1), /topics: invalid length -2/);
  // A version the message does not have.
  assert.throws(() => FetchResponse.decode(new Reader(Buffer.alloc(0)), 99), ProtocolDecodeError);
  assert.throws(() => FetchResponse.decode(new Reader(Buffer.alloc(0)), -1), ProtocolDecodeError);
});

test('the sticky error names the first failure and later reads return defaults', () => {
  const r = new Reader(Buffer.from('0102', 'hex'));
  r.where = 'first';
  assert.equal(r.int32(), 0);
  r.where = 'second';
  assert.equal(r.int8(), 0);
  assert.equal(r.uuid(), 'AAAAAAAAAAAAAAAAAAAAAA');
  assert.equal(r.int64(), 0n);
  assert.match(r.error!, /^first: needs 4 bytes for int32, 2 left at byte 0$/);
  assert.equal(r.ok, false);
});
