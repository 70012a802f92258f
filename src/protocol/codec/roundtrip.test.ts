// Property test: every generated message (requests, responses, headers, metadata records,
// group coordinator records, other data) at every valid version round-trips random values
// exactly. Values are built from the schema for that version, so fields the version lacks stay
// at their defaults. Fixed seeds: a failure names the message, version and seed to rerun.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, loadAllCodecs, randomObject, versionsOf, defaultObject } from './test-support.js';
import { Reader } from './reader.js';
import { Writer } from './writer.js';
import type { FieldSchema } from './schema.js';
import { API_KEYS } from '../messages/index.js';

const codecs = await loadAllCodecs();
const ROUNDS_PER_VERSION = 25;

test('every spec produced a codec', () => {
  // 241 specs in Kafka 3.9's message folders, plus the 10 of API keys 88-92 (protocol-specs/README.md),
  // plus TransactionLogKey and TransactionLogValue (protocol-specs/transaction-coordinator/).
  assert.equal(codecs.length, 253);
  const names = new Set(codecs.map((c) => c.name));
  for (const n of ['ProduceRequest', 'FetchResponse', 'RequestHeader', 'TopicRecord', 'OffsetCommitValue', 'LeaderChangeMessage', 'ListConfigResourcesRequest', 'StreamsGroupHeartbeatResponse', 'TransactionLogValue']) {
    assert.ok(names.has(n), n);
  }
});

test('the specs reach the versions Kafka 4.x clients send (franz-go adb3a18 max versions), keeping the old ones', () => {
  // Api key -> [lowest version kept, highest version] where the specs were extended.
  const expected: Record<number, [number, number]> = {
    0: [0, 13], 1: [0, 18], 2: [0, 11], 3: [0, 13], 8: [0, 10], 9: [0, 10], 15: [0, 6], 27: [0, 2], 28: [0, 5], 45: [0, 1], 52: [0, 2],
    60: [0, 2], 66: [0, 2], 68: [0, 1], 69: [0, 1], 74: [0, 1], 76: [0, 1], 77: [0, 1], 78: [0, 2], 79: [0, 2], 80: [0, 1], 85: [0, 1],
    87: [0, 1], 88: [0, 0], 89: [0, 0], 90: [0, 1], 91: [0, 0], 92: [0, 0],
  };
  for (const [key, [min, max]] of Object.entries(expected)) {
    const api = API_KEYS.find((a) => a.apiKey === Number(key));
    assert.ok(api !== undefined, `api key ${key}`);
    assert.deepEqual([api.minVersion, api.maxVersion], [min, max], api.name);
  }
  assert.equal(API_KEYS.find((a) => a.apiKey === 68)!.latestVersionUnstable, false, 'ConsumerGroupHeartbeat v1 is stable');
});

test('random values round-trip at every version of every message', () => {
  let checked = 0;
  for (const codec of codecs) {
    for (const version of versionsOf(codec)) {
      const flexible = codec.isFlexible(version);
      for (let round = 0; round < ROUNDS_PER_VERSION; round++) {
        const seed = (codec.apiKey + 1) * 1_000_003 + version * 1009 + round;
        const rng = new Rng(seed ^ hash(codec.name));
        const value = randomObject(rng, codec.schema.fields, version, flexible);
        const w = new Writer(16);
        codec.encode(w, version, value);
        const bytes = w.toBuffer();
        assert.equal(bytes.length, w.length);
        const r = new Reader(bytes);
        let decoded: object;
        try {
          decoded = codec.decode(r, version);
        } catch (e) {
          assert.fail(`${codec.name} v${version} seed ${seed}: ${String(e)}`);
        }
        assert.equal(r.pos, bytes.length, `${codec.name} v${version} seed ${seed}: decode left bytes`);
        assert.deepStrictEqual(decoded, value, `${codec.name} v${version} seed ${seed}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 10_000, `only ${checked} cases`);
});

test('defaults() matches the spec defaults and round-trips at every version', () => {
  for (const codec of codecs) {
    const d = codec.defaults();
    assert.deepStrictEqual(d, defaultObject(codec.schema.fields), codec.name);
    for (const version of versionsOf(codec)) {
      // A defaulted value can only fail to encode where a non-nullable field defaults to null;
      // Kafka's specs never do that outside records, which default to null.
      if (hasRecordsField(codec.schema.fields)) continue;
      const bytes = codec.toBuffer(version, d);
      assert.deepStrictEqual(codec.fromBuffer(bytes, version), d, `${codec.name} v${version}`);
    }
  }
});

function hasRecordsField(fields: readonly FieldSchema[]): boolean {
  return fields.some((f) => f.type === 'records' || (f.fields !== undefined && hasRecordsField(f.fields)));
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}
