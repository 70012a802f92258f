import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  readUnsignedVarint, readVarint, readVarlong, sizeOfUnsignedVarint, sizeOfVarint, sizeOfVarlong,
  writeUnsignedVarint, writeVarint, writeVarlong,
} from './varint.js';

test('signed varints round-trip across the 32-bit range', () => {
  const buf = Buffer.alloc(10);
  for (const v of [0, 1, -1, 63, -64, 64, 300, -300, 2 ** 31 - 1, -(2 ** 31)]) {
    const end = writeVarint(buf, 0, v);
    assert.equal(end, sizeOfVarint(v));
    assert.deepEqual(readVarint(buf, 0), { value: v, next: end });
  }
});

test('unsigned varints round-trip and stop at 5 bytes', () => {
  const buf = Buffer.alloc(10);
  for (const v of [0, 127, 128, 16383, 16384, 2 ** 32 - 1]) {
    const end = writeUnsignedVarint(buf, 0, v);
    assert.equal(end, sizeOfUnsignedVarint(v));
    assert.equal(readUnsignedVarint(buf, 0)!.value, v);
  }
  assert.equal(readUnsignedVarint(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), 0), null);
});

test('varlongs round-trip across the 64-bit range', () => {
  const buf = Buffer.alloc(10);
  for (const v of [0n, -1n, 1n, 2n ** 63n - 1n, -(2n ** 63n), 1234567890123n]) {
    const end = writeVarlong(buf, 0, v);
    assert.equal(end, sizeOfVarlong(v));
    assert.equal(readVarlong(buf, 0)!.value, v);
  }
});

test('truncated varints read as null instead of throwing', () => {
  assert.equal(readVarint(Buffer.from([0x80]), 0), null);
  assert.equal(readVarlong(Buffer.from([0x80, 0x80]), 0), null);
  assert.equal(readUnsignedVarint(Buffer.alloc(0), 0), null);
});
