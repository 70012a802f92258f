// Proof of safety for the pooled Fetch read buffers: a buffer given back to the pool before its
// response reached the kernel would be overwritten by a later read while the socket still sends
// it, so some consumer would receive bytes of another partition or offset. Here, while a producer
// appends to 3 partitions of an on-disk log, these run at once against one in-process broker:
// - 2 "followers" on their own connections, fetching all partitions in sequence (next offset from
//   the previous response), as consumers do;
// - 3 "slow readers" that pipeline many 1 MiB fetches at random offsets and stop reading their
//   socket for a while, so responses queue in the broker's socket buffers holding pool buffers;
// - 1 "quitter" that does the same and then drops the connection with responses still queued
//   (their buffers must never go back to the pool);
// - our Consumer, reading everything.
// Every batch received must pass its CRC32C, start where asked, follow the previous one without a
// gap, and be byte-identical (CRC and size) every time the same (partition, base offset) is seen.
// The pool's counters show that buffers were reused and that many were held at once.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32c } from '@node-rs/crc32';
import { Broker } from '../../src/node/broker.js';
import { Admin, Consumer, Producer } from '../../src/client/index.js';
import { Reader, Writer, decodeResponseHeader, encodeRequestHeader, requestHeaderVersion, responseHeaderVersion } from '../../src/protocol/codec/index.js';
import { FetchRequest, type FetchRequestData } from '../../src/protocol/messages/FetchRequest.js';
import { FetchResponse, type FetchResponseData } from '../../src/protocol/messages/FetchResponse.js';

const TOPIC = 'pooled-fetch';
const PARTITIONS = 3;
const FETCH_VERSION = 12; // topic names, flexible
const PREFILL_RECORDS = 6000; // per partition, 1 KiB each
const LIVE_RECORDS = 6000; // per partition, appended while the fetchers run
const VALUE_BYTES = 1024;

/** A pipelined Fetch client over a raw socket: many requests in flight, responses by correlation id. */
class FetchConnection {
  private inbound: Buffer = Buffer.alloc(0);
  private nextCorrelationId = 1;
  private readonly waiting = new Map<number, { resolve: (r: FetchResponseData) => void; reject: (e: Error) => void }>();
  private closedError: Error | null = null;

  private constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closedError = new Error('connection closed');
      for (const w of this.waiting.values()) w.reject(this.closedError);
      this.waiting.clear();
    });
  }

  static open(bootstrap: string): Promise<FetchConnection> {
    const [host, port] = bootstrap.split(':');
    return new Promise((resolve, reject) => {
      const socket = connect({ host: host!, port: Number(port) }, () => resolve(new FetchConnection(socket)));
      socket.once('error', reject);
    });
  }

  fetch(partitions: { partition: number; offset: number; maxBytes: number }[], maxWaitMs: number): Promise<FetchResponseData> {
    if (this.closedError !== null) return Promise.reject(this.closedError);
    const req: FetchRequestData = FetchRequest.defaults();
    req.maxWaitMs = maxWaitMs;
    req.minBytes = 1;
    req.maxBytes = 8 * 1024 * 1024;
    req.topics = [{
      ...FetchRequest.newStruct('FetchTopic'),
      topic: TOPIC,
      partitions: partitions.map((p) => ({ ...FetchRequest.newStruct('FetchPartition'), partition: p.partition, fetchOffset: BigInt(p.offset), partitionMaxBytes: p.maxBytes })),
    }];
    const correlationId = this.nextCorrelationId++;
    const w = new Writer();
    encodeRequestHeader(w, requestHeaderVersion(FetchRequest.apiKey, FETCH_VERSION), { apiKey: FetchRequest.apiKey, apiVersion: FETCH_VERSION, correlationId, clientId: 'pool-stress' });
    FetchRequest.encode(w, FETCH_VERSION, req);
    const body = w.toBuffer();
    const size = Buffer.alloc(4);
    size.writeInt32BE(body.length);
    return new Promise((resolve, reject) => {
      this.waiting.set(correlationId, { resolve, reject });
      this.socket.write(Buffer.concat([size, body]));
    });
  }

  close(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    this.inbound = this.inbound.length === 0 ? chunk : Buffer.concat([this.inbound, chunk]);
    while (this.inbound.length >= 4 && this.inbound.length >= 4 + this.inbound.readInt32BE(0)) {
      const frame = this.inbound.subarray(4, 4 + this.inbound.readInt32BE(0));
      this.inbound = this.inbound.subarray(4 + frame.length);
      const r = new Reader(frame);
      const header = decodeResponseHeader(r, responseHeaderVersion(FetchRequest.apiKey, FETCH_VERSION));
      const res = FetchResponse.decode(r, FETCH_VERSION);
      const w = this.waiting.get(header.correlationId);
      this.waiting.delete(header.correlationId);
      w?.resolve(res);
    }
  }
}

/** Everything every fetcher saw; problems are collected, not thrown, so one run reports them all. */
class Checker {
  readonly problems: string[] = [];
  /** `${partition}:${baseOffset}` -> `${crc}:${size}` of the first time it was seen. */
  private readonly seen = new Map<string, string>();
  batches = 0;
  bytes = 0;

  /**
   * Checks the batches returned for `partition` at `fetchOffset`; returns the offset after the
   * last whole batch (fetchOffset when none).
   */
  check(who: string, partition: number, fetchOffset: number, errorCode: number, records: Buffer | null): number {
    if (errorCode !== 0) {
      this.problems.push(`${who}: error ${errorCode} for ${partition}@${fetchOffset}`);
      return fetchOffset;
    }
    if (records === null || records.length === 0) return fetchOffset;
    let pos = 0;
    let next = fetchOffset;
    let first = true;
    while (pos + 61 <= records.length) {
      const base = Number(records.readBigInt64BE(pos));
      const size = records.readInt32BE(pos + 8) + 12;
      if (size < 61 || pos + size > records.length) break; // a trailing partial batch is allowed
      const batch = records.subarray(pos, pos + size);
      const last = base + batch.readInt32BE(23);
      const where = `${who}: ${partition}@${fetchOffset}, batch ${base}..${last} at byte ${pos}`;
      if (batch.readUInt32BE(17) !== crc32c(batch.subarray(21))) this.problems.push(`${where}: CRC32C mismatch`);
      if (first ? !(base <= fetchOffset && fetchOffset <= last) : base !== next) this.problems.push(`${where}: expected offset ${next}`);
      const key = `${partition}:${base}`;
      const identity = `${batch.readUInt32BE(17)}:${size}`;
      const before = this.seen.get(key);
      if (before === undefined) this.seen.set(key, identity);
      else if (before !== identity) this.problems.push(`${where}: differs from an earlier fetch of the same batch (${before} vs ${identity})`);
      next = last + 1;
      first = false;
      pos += size;
      this.batches++;
      this.bytes += size;
    }
    if (first) this.problems.push(`${who}: ${partition}@${fetchOffset}: ${records.length} bytes without a whole batch`);
    return next;
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('pooled Fetch read buffers under concurrent, slow and vanishing readers', () => {
  let broker: Broker;
  let dataDir: string;
  let bootstrap: string;

  before(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'tributary-pool-stress-'));
    broker = await Broker.start({ dataDir });
    bootstrap = broker.bootstrapServers;
    const admin = new Admin({ bootstrapServers: bootstrap });
    try {
      await admin.createTopics([{ topic: TOPIC, numPartitions: PARTITIONS }]);
    } finally {
      await admin.close();
    }
  });
  after(async () => {
    await broker?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  });

  it('every fetched batch is intact and in place while buffers are recycled', { timeout: 90_000 }, async () => {
    const producer = new Producer({ bootstrapServers: bootstrap, lingerMs: 2, batchSize: 64 * 1024, compression: 'none' });
    let seq = 0;
    const produce = async (perPartition: number, pauseEvery: number) => {
      for (let i = 0; i < perPartition; i++) {
        if (pauseEvery > 0 && i % pauseEvery === pauseEvery - 1) await sleep(10);
        for (let p = 0; p < PARTITIONS; p++) {
          // Content differs per partition and record, so a batch served in the wrong place shows.
          const value = Buffer.alloc(VALUE_BYTES, (p * 31 + seq) & 0xff);
          value.write(`p${p}-s${seq++}`);
          const wait = producer.produce({ topic: TOPIC, partition: p, value });
          if (wait !== undefined) await wait;
        }
      }
      await producer.flush();
    };
    await produce(PREFILL_RECORDS, 0);

    const pool = broker.replicas.readBuffers;
    const poolBefore = pool.stats();
    const checker = new Checker();
    let producing = true;
    let maxOutstanding = 0;
    const sampler = setInterval(() => (maxOutstanding = Math.max(maxOutstanding, pool.stats().outstandingBuffers - poolBefore.outstandingBuffers)), 5);
    const endOffsets = (): number[] => Array.from({ length: PARTITIONS }, (_, p) => broker.replicas.get(TOPIC, p)!.store.highWatermark);

    // Followers: in sequence from 0 to the end, all partitions per request, 256 KiB or 1 MiB each.
    const follower = async (name: string, maxBytes: number): Promise<number[]> => {
      const conn = await FetchConnection.open(bootstrap);
      const offsets = new Array<number>(PARTITIONS).fill(0);
      try {
        for (;;) {
          const ends = endOffsets();
          if (!producing && offsets.every((o, p) => o >= ends[p]!)) return offsets;
          const res = await conn.fetch(offsets.map((offset, partition) => ({ partition, offset, maxBytes })), 20);
          for (const part of res.responses[0]!.partitions) {
            offsets[part.partitionIndex] = checker.check(name, part.partitionIndex, offsets[part.partitionIndex]!, part.errorCode, part.records);
          }
        }
      } finally {
        conn.close();
      }
    };

    // Slow readers: many 1 MiB fetches in flight, socket not read for a while, then drained.
    const slowReader = async (name: string, rounds: number, quit: boolean): Promise<number> => {
      let answered = 0;
      let conn = await FetchConnection.open(bootstrap);
      try {
        for (let round = 0; round < rounds && (producing || round < 3); round++) {
          const ends = endOffsets();
          const asked = Array.from({ length: 16 }, (_, i) => {
            const partition = (round + i) % PARTITIONS;
            return { partition, offset: Math.floor(Math.random() * ends[partition]!), maxBytes: 1024 * 1024 };
          });
          conn.socket.pause();
          const pending = asked.map((a) => conn.fetch([a], 0));
          await sleep(60 + Math.random() * 100);
          if (quit && round % 2 === 1) {
            // Vanish with responses queued: their buffers must not go back to the pool.
            for (const p of pending) p.catch(() => {});
            conn.close();
            conn = await FetchConnection.open(bootstrap);
            continue;
          }
          conn.socket.resume();
          const responses = await Promise.all(pending);
          responses.forEach((res, i) => {
            const part = res.responses[0]!.partitions[0]!;
            checker.check(name, asked[i]!.partition, asked[i]!.offset, part.errorCode, part.records);
            answered++;
          });
        }
      } finally {
        conn.close();
      }
      return answered;
    };

    // Our Consumer over everything, checking order and counts on its own.
    const consumeAll = async (): Promise<number> => {
      const total = (PREFILL_RECORDS + LIVE_RECORDS) * PARTITIONS;
      const consumer = new Consumer({ bootstrapServers: bootstrap, autoOffsetReset: 'earliest', maxWaitMs: 50 });
      consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
      const next = new Array<bigint>(PARTITIONS).fill(0n);
      let count = 0;
      const deadline = Date.now() + 60_000;
      try {
        while (count < total && Date.now() < deadline) {
          for (const b of await consumer.poll({ timeoutMs: 200 })) {
            for (const r of b.records) {
              if (r.offset !== next[b.partition]) checker.problems.push(`consumer: ${b.partition} offset ${r.offset}, expected ${next[b.partition]}`);
              if (!r.value?.toString('latin1').startsWith(`p${b.partition}-`)) checker.problems.push(`consumer: ${b.partition}@${r.offset} holds a record of another partition`);
              next[b.partition] = r.offset + 1n;
              count++;
            }
          }
        }
      } finally {
        await consumer.close();
      }
      return count;
    };

    const fetchers = Promise.all([
      follower('follower-256k', 256 * 1024),
      follower('follower-1m', 1024 * 1024),
      slowReader('slow-1', 1000, false),
      slowReader('slow-2', 1000, false),
      slowReader('slow-3', 1000, false),
      slowReader('quitter', 1000, true),
      consumeAll(),
    ]);
    try {
      // Paced (~6 s), so fetchers run against a growing log for a while.
      await produce(LIVE_RECORDS, 10);
    } finally {
      producing = false;
      await producer.close();
    }
    const [f1, f2, s1, s2, s3, , consumed] = await fetchers;
    clearInterval(sampler);

    const ends = endOffsets();
    assert.deepEqual(checker.problems.slice(0, 20), [], `${checker.problems.length} problems`);
    assert.deepEqual(ends, new Array(PARTITIONS).fill(PREFILL_RECORDS + LIVE_RECORDS));
    assert.deepEqual(f1, ends, 'the 256 KiB follower read every partition to its end');
    assert.deepEqual(f2, ends, 'the 1 MiB follower read every partition to its end');
    assert.equal(consumed, (PREFILL_RECORDS + LIVE_RECORDS) * PARTITIONS);
    assert.ok(s1 + s2 + s3 >= 3 * 16 * 3, `slow readers answered ${s1 + s2 + s3}`);
    const poolAfter = pool.stats();
    const reused = poolAfter.reused - poolBefore.reused;
    // Non-vacuous: buffers went round the pool many times, and many were held at once while
    // responses sat in socket buffers.
    assert.ok(reused > 100, `pool reuses: ${reused}`);
    assert.ok(maxOutstanding >= 8, `most pool buffers held at once: ${maxOutstanding}`);
    assert.ok(poolAfter.idleBytes <= 64 * 1024 * 1024);
    console.log(JSON.stringify({ batchesChecked: checker.batches, mbChecked: Math.round(checker.bytes / 1e6), reused, maxOutstanding, pool: poolAfter }));
  });
});
