import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  decodeRequestHeader,
  decodeResponseHeader,
  encodeRequestHeader,
  encodeResponseHeader,
  requestHeaderVersion,
  responseHeaderVersion,
} from './headers.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import { ProtocolDecodeError } from './errors.js';
import { Rng } from './test-support.js';
import { RequestHeader } from '../messages/RequestHeader.js';
import { ResponseHeader } from '../messages/ResponseHeader.js';
import { API_KEYS } from '../messages/index.js';

test('header versions follow the api flexible versions, with Kafka\'s two exceptions', () => {
  assert.equal(requestHeaderVersion(0, 8), 1); // Produce, not flexible
  assert.equal(requestHeaderVersion(0, 9), 2);
  assert.equal(responseHeaderVersion(0, 8), 0);
  assert.equal(responseHeaderVersion(0, 9), 1);
  assert.equal(requestHeaderVersion(7, 0), 0); // ControlledShutdown v0 has no client id
  assert.equal(requestHeaderVersion(7, 1), 1);
  assert.equal(requestHeaderVersion(18, 3), 2); // ApiVersions request is flexible from v3...
  assert.equal(responseHeaderVersion(18, 3), 0); // ...but its response header is always v0
  assert.equal(requestHeaderVersion(18, 9), 2); // a too-new version still has a header version
  assert.throws(() => requestHeaderVersion(9999, 0), /unknown api key/);
});

test('an unknown api key still yields apiKey, apiVersion and correlationId from the first 8 bytes', () => {
  const h = decodeRequestHeader(Buffer.from('271000050000002a0003616263', 'hex'));
  assert.deepEqual(h, { apiKey: 10000, apiVersion: 5, correlationId: 42, clientId: null, headerVersion: -1, headerBytes: 8 });
  assert.equal(decodeRequestHeader(Buffer.from('ffff0000000000070000', 'hex')).headerVersion, -1);
  assert.throws(() => decodeRequestHeader(Buffer.from('0012000300', 'hex')), ProtocolDecodeError);
});

test('malformed headers are decode errors', () => {
  // Client id longer than the frame.
  assert.throws(() => decodeRequestHeader(Buffer.from('00030000000000010010616263', 'hex')), /clientId: needs 16 bytes/);
  // Header v2 whose tag section overruns the frame.
  assert.throws(() => decodeRequestHeader(Buffer.from('001200030000000100016101000a', 'hex')), ProtocolDecodeError);
  // Tag sections are skipped: one tag of 2 bytes.
  const h = decodeRequestHeader(Buffer.from('0012000300000001000161010002aabb' + 'ff', 'hex'));
  assert.equal(h.clientId, 'a');
  assert.equal(h.headerBytes, 16);
  const rng = new Rng(3);
  for (let i = 0; i < 5000; i++) {
    const buf = rng.bytes(rng.int(0, 24));
    if (rng.chance(0.7) && buf.length >= 2) buf.writeInt16BE(API_KEYS[rng.int(0, API_KEYS.length - 1)]!.apiKey, 0);
    try {
      decodeRequestHeader(buf);
    } catch (e) {
      assert.ok(e instanceof ProtocolDecodeError, String(e));
    }
  }
});

test('hand-written header codec agrees with the generated RequestHeader and ResponseHeader codecs', () => {
  const rng = new Rng(11);
  for (const api of API_KEYS) {
    for (let version = api.minVersion; version <= api.maxVersion; version++) {
      const hv = requestHeaderVersion(api.apiKey, version);
      const fields = { requestApiKey: api.apiKey, requestApiVersion: version, correlationId: rng.u32() | 0, clientId: hv === 0 ? '' : rng.chance(0.2) ? null : `client-${rng.u32()}` };
      const generated = RequestHeader.toBuffer(hv, fields);
      const w = new Writer();
      encodeRequestHeader(w, hv, { apiKey: api.apiKey, apiVersion: version, correlationId: fields.correlationId, clientId: fields.clientId });
      assert.deepEqual(w.toBuffer(), generated, `${api.name} v${version}`);
      const h = decodeRequestHeader(Buffer.concat([generated, Buffer.from([1, 2, 3])]));
      assert.deepEqual(h, {
        apiKey: api.apiKey,
        apiVersion: version,
        correlationId: fields.correlationId,
        clientId: hv === 0 ? null : fields.clientId,
        headerVersion: hv,
        headerBytes: generated.length,
      });
      const rhv = responseHeaderVersion(api.apiKey, version);
      const rw = new Writer();
      encodeResponseHeader(rw, rhv, fields.correlationId);
      const rbytes = rw.toBuffer();
      assert.deepEqual(rbytes, ResponseHeader.toBuffer(rhv, { correlationId: fields.correlationId }));
      assert.deepEqual(decodeResponseHeader(new Reader(rbytes), rhv), { correlationId: fields.correlationId });
    }
  }
});
