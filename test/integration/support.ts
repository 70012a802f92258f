// Small helpers shared by the integration tests: kcat output parsing, partitioner functions of
// the real clients (to check where keyed records land), bounded waiting on a condition.
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { kcat, type RunResult } from '../helpers/clients.js';

/** A consumed record as printed by kcat with CONSUME_FORMAT. */
export interface ConsumedRecord {
  partition: number;
  offset: number;
  timestamp: number;
  key: string;
  value: string;
}

/** kcat -f format: one record per line, fields separated by '|' (keys and values never hold it). */
export const CONSUME_FORMAT = '%p|%o|%T|%k|%s\n';

export function parseConsumed(stdout: string): ConsumedRecord[] {
  return stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((line) => {
      const [p, o, ts, key, value] = line.split('|');
      return { partition: Number(p), offset: Number(o), timestamp: Number(ts), key: key ?? '', value: value ?? '' };
    });
}

/** Consumes every record of `topic` from `from` (kcat -o syntax) until the end; asserts kcat succeeded. */
export async function kcatConsume(bootstrap: string, topic: string, from = 'beginning', extra: string[] = []): Promise<ConsumedRecord[]> {
  const r = await kcat(['-C', '-b', bootstrap, '-t', topic, '-o', from, '-e', '-q', '-f', CONSUME_FORMAT, ...extra], { timeoutMs: 30_000 });
  assertOk(r, `kcat -C ${topic}`);
  return parseConsumed(r.stdout);
}

/** Produces `key:value` lines with kcat; asserts kcat succeeded. */
export async function kcatProduce(bootstrap: string, topic: string, lines: string[], extra: string[] = []): Promise<void> {
  const r = await kcat(['-P', '-b', bootstrap, '-t', topic, '-K', ':', ...extra], { input: lines.map((l) => `${l}\n`).join(''), timeoutMs: 30_000 });
  assertOk(r, `kcat -P ${topic}`);
}

export function assertOk(r: RunResult, what: string): void {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstderr: ${r.stderr}\nstdout: ${r.stdout.slice(0, 2000)}`);
}

/** librdkafka's `consistent_random`/`consistent` partitioner (kcat's default): CRC32 of the key. */
export function librdkafkaConsistentPartition(key: string, partitions: number): number {
  return (crc32(Buffer.from(key)) >>> 0) % partitions;
}

/** Kafka's murmur2 (the Java client's, librdkafka's murmur2_random and kafkajs' default partitioner). */
export function murmur2(data: Buffer): number {
  const m = 0x5bd1e995;
  const r = 24;
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const whole = length & ~3;
  for (let i = 0; i < whole; i += 4) {
    let k = data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24);
    k = Math.imul(k, m);
    k ^= k >>> r;
    k = Math.imul(k, m);
    h = Math.imul(h, m);
    h ^= k;
  }
  const tail = length % 4;
  if (tail === 3) h ^= data[whole + 2]! << 16;
  if (tail >= 2) h ^= data[whole + 1]! << 8;
  if (tail >= 1) {
    h ^= data[whole]!;
    h = Math.imul(h, m);
  }
  h ^= h >>> 13;
  h = Math.imul(h, m);
  h ^= h >>> 15;
  return h | 0;
}

/** The Java client's keyed partition: toPositive(murmur2(key)) % partitions. */
export function murmur2Partition(key: string, partitions: number): number {
  return (murmur2(Buffer.from(key)) & 0x7fffffff) % partitions;
}

/** Polls `check` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Waits until the wall clock has moved past `ms`, so a timestamp taken now is strictly later. */
export async function clockPast(ms: number): Promise<void> {
  while (Date.now() <= ms) await new Promise((r) => setTimeout(r, 2));
}

/**
 * Well-behaved kcat traffic beside a test: round after round, one record produced to partition 0
 * of `topic`, then read back, each round asserted. `stop()` ends it after the current round,
 * rethrows the first failure, checks that every record of every round is in the topic in order,
 * and returns how many rounds completed.
 */
export function kcatTraffic(bootstrap: string, topic: string): { stop(): Promise<number> } {
  let stopping = false;
  const rounds = (async () => {
    let round = 0;
    while (!stopping) {
      await kcatProduce(bootstrap, topic, [`k:${round}`], ['-p', '0']);
      const got = await kcatConsume(bootstrap, topic, String(round), ['-p', '0']);
      assert.deepEqual(got.map((r) => r.value), [String(round)], `round ${round}`);
      round++;
    }
    return round;
  })();
  rounds.catch(() => {}); // reported by stop()
  return {
    async stop(): Promise<number> {
      stopping = true;
      const count = await rounds;
      const all = await kcatConsume(bootstrap, topic, 'beginning', ['-p', '0']);
      assert.deepEqual(all.map((r) => r.value), Array.from({ length: count }, (_, i) => String(i)));
      return count;
    },
  };
}
