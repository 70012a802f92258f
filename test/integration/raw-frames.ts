// Requests assembled by hand over raw TCP, for tests that send hostile or unusual bytes to a
// broker process. Not built on the project's codecs, so a bug mirrored in our encoder and decoder
// cannot hide.
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
