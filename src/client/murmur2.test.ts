import { test } from 'node:test';
import assert from 'node:assert/strict';
import { murmur2, partitionForKey, toPositive } from './murmur2.js';
import { python } from '../../test/helpers/clients.js';

// Values of Java's org.apache.kafka.common.utils.Utils.murmur2 (Kafka's UtilsTest).
const JAVA_MURMUR2: [string, number][] = [
  ['21', -973932308],
  ['foobar', -790332482],
  ['a-little-bit-long-string', -985981536],
  ['a-little-bit-longer-string', -1486304829],
  ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
  ['abc', 479470107],
];

test('murmur2 matches the Java client for known keys', () => {
  for (const [key, expected] of JAVA_MURMUR2) assert.equal(murmur2(Buffer.from(key)), expected, key);
});

test('toPositive clears the sign bit (not Math.abs)', () => {
  assert.equal(toPositive(-2147483648), 0);
  assert.equal(toPositive(-1), 0x7fffffff);
  assert.equal(toPositive(5), 5);
});

test("keyed partitions agree with librdkafka's murmur2_random partitioner", async () => {
  // librdkafka implements the Java partitioner as murmur2_random; ask it directly.
  const keys = Array.from({ length: 200 }, (_, i) => `key-${i}-${'x'.repeat(i % 7)}`);
  keys.push('', 'a', 'ab', 'abc', 'äöü-ünïcödé');
  const script = `
import json, sys, ctypes, ctypes.util
lib = ctypes.CDLL(ctypes.util.find_library('rdkafka') or 'librdkafka.so.1')
lib.rd_kafka_msg_partitioner_murmur2_random.restype = ctypes.c_int32
lib.rd_kafka_msg_partitioner_murmur2_random.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int32, ctypes.c_void_p, ctypes.c_void_p]
keys = json.loads(sys.argv[1])
out = {}
for n in (1, 3, 7, 50):
    out[str(n)] = [lib.rd_kafka_msg_partitioner_murmur2_random(None, k.encode(), len(k.encode()), n, None, None) for k in keys]
print(json.dumps(out))
`;
  const expected = await python<Record<string, number[]>>(script, [JSON.stringify(keys)]);
  for (const n of [1, 3, 7, 50]) {
    const ours = keys.map((k) => partitionForKey(Buffer.from(k, 'utf8'), n));
    assert.deepEqual(ours, expected[String(n)], `${n} partitions`);
  }
});
