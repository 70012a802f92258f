// Helpers shared by the codec tests: a seeded PRNG, every generated codec, and random values
// built from a schema for one version (fields the version lacks stay at their defaults).
// Written independently of message.ts so the tests do not share its mistakes.

import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MessageCodec, type AnyMessageCodec } from './message.js';
import { VersionRange } from './versions.js';
import type { FieldSchema } from './schema.js';

/** mulberry32: small, fast, good enough to drive property tests from a fixed seed. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  /** Uniform in [0, 2^32). */
  u32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + (this.u32() % (hi - lo + 1));
  }
  chance(p: number): boolean {
    return this.u32() / 0x100000000 < p;
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.u32() & 0xff;
    return b;
  }
}

/** Every codec in src/protocol/messages, sorted by name. */
export async function loadAllCodecs(): Promise<AnyMessageCodec[]> {
  const dir = new URL('../messages/', import.meta.url);
  const codecs: AnyMessageCodec[] = [];
  for (const file of readdirSync(fileURLToPath(dir)).sort()) {
    if (!file.endsWith('.js') || file === 'index.js') continue;
    const mod = (await import(new URL(file, dir).href)) as Record<string, unknown>;
    for (const value of Object.values(mod)) if (value instanceof MessageCodec) codecs.push(value as AnyMessageCodec);
  }
  return codecs;
}

export function versionsOf(codec: AnyMessageCodec): number[] {
  const out: number[] = [];
  for (let v = codec.minVersion; v <= codec.maxVersion; v++) out.push(v);
  return out;
}

const SAMPLE_TEXT = ['', 'a', 'topic-1', 'üñíçødé', '日本語', '🙂', 'x'.repeat(40)];

function elementType(f: FieldSchema): string {
  return f.type.startsWith('[]') ? f.type.slice(2) : f.type;
}

/** The default a field takes when absent, per Kafka's rules (test-side copy). */
export function defaultFor(f: FieldSchema): unknown {
  if (f.default === null) return null;
  if (f.type.startsWith('[]')) return [];
  if (f.fields !== undefined) return defaultObject(f.fields);
  switch (f.type) {
    case 'bool':
      return f.default === true;
    case 'int64':
      return typeof f.default === 'bigint' ? f.default : 0n;
    case 'string':
      return typeof f.default === 'string' ? f.default : '';
    case 'uuid':
      return 'AAAAAAAAAAAAAAAAAAAAAA';
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    default:
      return typeof f.default === 'number' ? f.default : 0;
  }
}

export function defaultObject(fields: readonly FieldSchema[]): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) o[f.name] = defaultFor(f);
  return o;
}

function randomScalar(rng: Rng, type: string): unknown {
  switch (type) {
    case 'bool':
      return rng.chance(0.5);
    case 'int8':
      return rng.int(-128, 127);
    case 'int16':
      return rng.int(-32768, 32767);
    case 'uint16':
      return rng.int(0, 65535);
    case 'int32':
      return rng.u32() | 0;
    case 'uint32':
      return rng.u32();
    case 'int64':
      return BigInt.asIntN(64, (BigInt(rng.u32()) << 32n) | BigInt(rng.u32()));
    case 'float64':
      return rng.chance(0.1) ? -0 : (rng.u32() - 0x80000000) / 7;
    case 'string':
      return SAMPLE_TEXT[rng.int(0, SAMPLE_TEXT.length - 1)]!;
    case 'uuid':
      return rng.bytes(16).toString('base64url');
    case 'bytes':
    case 'records':
      // Now and then above the writer's zero-copy threshold.
      return rng.bytes(rng.chance(0.05) ? 5000 : rng.int(0, 24));
    default:
      throw new Error(`no generator for ${type}`);
  }
}

/** A random value of the struct `fields` as `version` carries it; absent fields hold defaults. */
export function randomObject(rng: Rng, fields: readonly FieldSchema[], version: number, flexible: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const f of fields) {
    const present = VersionRange.parse(f.versions).contains(version);
    const tagged = f.taggedVersions !== undefined && VersionRange.parse(f.taggedVersions).contains(version);
    if (!present || (tagged && !flexible)) {
      o[f.name] = defaultFor(f);
      continue;
    }
    const nullable = f.nullableVersions !== undefined && VersionRange.parse(f.nullableVersions).contains(version);
    if (nullable && rng.chance(0.2)) {
      o[f.name] = null;
      continue;
    }
    o[f.name] = randomValue(rng, f, version, flexible);
  }
  return o;
}

function randomValue(rng: Rng, f: FieldSchema, version: number, flexible: boolean): unknown {
  if (f.type.startsWith('[]')) {
    const n = rng.int(0, 3);
    const out: unknown[] = [];
    for (let i = 0; i < n; i++) {
      out.push(f.fields !== undefined ? randomObject(rng, f.fields, version, flexible) : randomScalar(rng, elementType(f)));
    }
    return out;
  }
  if (f.fields !== undefined) return randomObject(rng, f.fields, version, flexible);
  return randomScalar(rng, f.type);
}
