// Requests assembled by hand over raw TCP, for tests that send hostile or unusual bytes to a
// broker process (malformed-frames, record-validation, connection-limits): request headers,
// Produce requests and the Produce response fields those tests read. Not built on the project's
// codecs, so a bug mirrored in our encoder and decoder cannot hide.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';

export const API_PRODUCE = 0;
export const API_METADATA = 3;
export const API_VERSIONS = 18;

/** A request header v1 (non-flexible): api key, version, correlation id, client id. */
export function header(apiKey: number, apiVersion: number, correlationId: number): Buffer {
  const clientId = Buffer.from('hostile');
  const h = Buffer.alloc(10);
  h.writeInt16BE(apiKey, 0);
  h.writeInt16BE(apiVersion, 2);
  h.writeInt32BE(correlationId, 4);
  h.writeInt16BE(clientId.length, 8);
  return Buffer.concat([h, clientId]);
}

export function sized(body: Buffer): Buffer {
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length, 0);
  return Buffer.concat([size, body]);
}

export function int16(v: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeInt16BE(v, 0);
  return b;
}
export function int32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeInt32BE(v, 0);
  return b;
}
export function str16(s: string): Buffer {
  return Buffer.concat([int16(Buffer.byteLength(s)), Buffer.from(s)]);
}

/**
 * Produce body for one partition with `records` as its record set. The layout is the same for
 * every non-flexible version, v3 to v8: transactional id, acks, timeout, topics, partitions.
 */
export function produceBody(topic: string, partition: number, records: Buffer, acks = 1): Buffer {
  return Buffer.concat([int16(-1), int16(acks), int32(10_000), int32(1), str16(topic), int32(1), int32(partition), int32(records.length), records]);
}

/** A whole Produce request frame of `version` (3-8) for one partition. */
export function produceRequest(version: number, correlationId: number, topic: string, partition: number, records: Buffer, acks = 1): Buffer {
  return sized(Buffer.concat([header(API_PRODUCE, version, correlationId), produceBody(topic, partition, records, acks)]));
}

export interface PartitionProduceAnswer {
  correlationId: number;
  errorCode: number;
  baseOffset: bigint;
  /** v8+: Produce's record_errors and error_message. */
  recordErrors: { batchIndex: number; message: string | null }[];
  errorMessage: string | null;
}

/**
 * Reads the answer for the single partition of a Produce response frame (v3-v8): size,
 * correlation id, one topic with one partition.
 */
export function parseProduceResponse(frame: Buffer, version: number): PartitionProduceAnswer {
  let pos = 0;
  const i16 = () => ((pos += 2), frame.readInt16BE(pos - 2));
  const i32 = () => ((pos += 4), frame.readInt32BE(pos - 4));
  const i64 = () => ((pos += 8), frame.readBigInt64BE(pos - 8));
  const nullableString = (): string | null => {
    const n = i16();
    if (n < 0) return null;
    pos += n;
    return frame.toString('utf8', pos - n, pos);
  };
  const size = i32();
  assert.equal(frame.length, size + 4, 'exactly one whole response frame');
  const correlationId = i32();
  assert.equal(i32(), 1, 'one topic');
  nullableString(); // topic name
  assert.equal(i32(), 1, 'one partition');
  i32(); // partition index
  const errorCode = i16();
  const baseOffset = i64();
  i64(); // log append time (v2+)
  if (version >= 5) i64(); // log start offset
  const recordErrors: PartitionProduceAnswer['recordErrors'] = [];
  let errorMessage: string | null = null;
  if (version >= 8) {
    const n = i32();
    for (let i = 0; i < n; i++) recordErrors.push({ batchIndex: i32(), message: nullableString() });
    errorMessage = nullableString();
  }
  return { correlationId, errorCode, baseOffset, recordErrors, errorMessage };
}

export interface RawOutcome {
  closed: boolean;
  received: Buffer;
}

/**
 * Opens a connection, sends `bytes`, and collects what comes back until the broker closes it or
 * `waitMs` passes. With `gapMs`, each buffer is its own TCP write, `gapMs` after the previous one
 * (Nagle off), so the broker reads them separately.
 */
export function exchange(port: number, bytes: Buffer | Buffer[], waitMs = 3000, gapMs = 0): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port, noDelay: true });
    const received: Buffer[] = [];
    let settled = false;
    const finish = (closed: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ closed, received: Buffer.concat(received) });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    socket.on('connect', () => {
      const parts = Array.isArray(bytes) ? bytes : [bytes];
      if (gapMs === 0) {
        for (const b of parts) socket.write(b);
        return;
      }
      let next = 0;
      const writeNext = () => {
        if (settled || next === parts.length) return;
        socket.write(parts[next++]!);
        setTimeout(writeNext, gapMs);
      };
      writeNext();
    });
    socket.on('data', (c: Buffer) => received.push(c));
    socket.on('close', () => finish(true));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      // A reset by the broker while we are still writing counts as closed.
      if (err.code === 'ECONNRESET' || err.code === 'EPIPE') finish(true);
      else if (!settled) {
        settled = true;
        reject(err);
      }
    });
  });
}

export function rssKiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m !== null);
  return Number(m[1]);
}

export function countMatches(text: string, re: RegExp): number {
  return (text.match(new RegExp(re.source, 'g')) ?? []).length;
}

/** Sends one request and resolves with the first whole response frame (the connection stays up until then). */
export function request(port: number, frame: Buffer, waitMs = 10_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect({ host: '127.0.0.1', port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no whole response within ${waitMs} ms (${received.length} bytes received)`));
    }, waitMs);
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (c: Buffer) => {
      received = Buffer.concat([received, c]);
      if (received.length >= 4 && received.length >= received.readInt32BE(0) + 4) {
        clearTimeout(timer);
        socket.destroy();
        resolve(received.subarray(0, received.readInt32BE(0) + 4));
      }
    });
    socket.on('close', () => {
      clearTimeout(timer);
      reject(new Error(`connection closed after ${received.length} bytes`));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
