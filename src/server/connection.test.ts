import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { rootLogger } from '../logger.js';
import { CloseConnection, type FrameHandler } from './connection.js';
import { SocketServer, type ServerLimits } from './socket-server.js';

const limits = { maxRequestBytes: 1024, maxInFlightRequests: 8, maxQueuedResponseBytes: 1 << 20, idleTimeoutMs: Infinity, requestReadTimeoutMs: Infinity, queuedMaxRequestBytes: Infinity };
const quiet = rootLogger.child({}, { level: 'silent' });

async function serve(handler: FrameHandler, overrides: Partial<ServerLimits> = {}, nowMs?: () => number): Promise<{ server: SocketServer; port: number }> {
  const server = new SocketServer(handler, { ...limits, ...overrides }, quiet, nowMs);
  const [bound] = await server.listen([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 0 }]);
  return { server, port: bound!.boundPort };
}

function frame(payload: string): Buffer {
  const body = Buffer.from(payload);
  const size = Buffer.alloc(4);
  size.writeInt32BE(body.length);
  return Buffer.concat([size, body]);
}

/** Collects whole response frames as strings until `count` have arrived or the socket closes. */
function responses(sock: Socket, count: number): Promise<{ frames: string[]; closed: boolean }> {
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    const frames: string[] = [];
    const finish = (closed: boolean) => resolve({ frames, closed });
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      while (buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0)) {
        frames.push(buf.subarray(4, 4 + buf.readInt32BE(0)).toString());
        buf = buf.subarray(4 + buf.readInt32BE(0));
      }
      if (frames.length === count) finish(false);
    });
    sock.on('close', () => finish(true));
  });
}

test('pipelined requests are answered in request order even when handlers finish out of order', async (t) => {
  const { server, port } = await serve((f) => {
    const text = f.toString();
    const delayMs = text === 'slow' ? 50 : 0;
    return new Promise((r) => setTimeout(() => r([Buffer.from(`re:${text}`)]), delayMs));
  });
  t.after(() => server.close());
  const sock = connect(port, '127.0.0.1');
  const got = responses(sock, 3);
  // One write holding three frames, the first of them split mid-frame from the rest.
  const all = Buffer.concat([frame('slow'), frame('fast'), frame('last')]);
  sock.write(all.subarray(0, 6));
  sock.write(all.subarray(6));
  const { frames } = await got;
  sock.destroy();
  assert.deepEqual(frames, ['re:slow', 're:fast', 're:last']);
});

test('a null response (acks=0) sends nothing and keeps later responses in order', async (t) => {
  const { server, port } = await serve((f) => (f.toString() === 'silent' ? null : [Buffer.from(f.toString())]));
  t.after(() => server.close());
  const sock = connect(port, '127.0.0.1');
  const got = responses(sock, 2);
  sock.write(Buffer.concat([frame('a'), frame('silent'), frame('b')]));
  const { frames } = await got;
  sock.destroy();
  assert.deepEqual(frames, ['a', 'b']);
});

test('an oversized or negative frame size closes only that connection', async (t) => {
  const { server, port } = await serve((f) => [f]);
  t.after(() => server.close());
  for (const size of [limits.maxRequestBytes + 1, -5]) {
    const bad = connect(port, '127.0.0.1');
    const header = Buffer.alloc(4);
    header.writeInt32BE(size);
    const result = responses(bad, 1);
    bad.write(header);
    assert.equal((await result).closed, true);
  }
  const good = connect(port, '127.0.0.1');
  const got = responses(good, 1);
  good.write(frame('still here'));
  assert.deepEqual((await got).frames, ['still here']);
  good.destroy();
});

test('a zero-length frame reaches the handler as an empty frame, whether or not more bytes follow in the read', async (t) => {
  const { server, port } = await serve((f) => [Buffer.from(`len:${f.length}`)]);
  t.after(() => server.close());
  const sock = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  const got = responses(sock, 3);
  const empty = Buffer.alloc(4);
  sock.write(empty); // the size prefix alone is the whole frame: nothing left in the read
  await new Promise((r) => setTimeout(r, 20));
  sock.write(Buffer.concat([empty, frame('x')]));
  const { frames, closed } = await got;
  sock.destroy();
  assert.equal(closed, false);
  assert.deepEqual(frames, ['len:0', 'len:0', 'len:1']);
});

test('CloseConnection from a handler drops the connection without answering', async (t) => {
  const { server, port } = await serve((f) => {
    if (f.toString() === 'bad') throw new CloseConnection('malformed');
    return [f];
  });
  t.after(() => server.close());
  const sock = connect(port, '127.0.0.1');
  const result = responses(sock, 2);
  sock.write(Buffer.concat([frame('ok'), frame('bad')]));
  const { frames, closed } = await result;
  assert.equal(closed, true);
  assert.ok(frames.length <= 1);
});

/** Resolves once `cond()` holds, checking every 10 ms; rejects after `timeoutMs`. */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('afterSent callbacks of a response run once each, in response order, after its bytes were written', async (t) => {
  const ran: string[] = [];
  const { server, port } = await serve((f) => {
    const text = f.toString();
    const big = Buffer.alloc(256 * 1024, text);
    return { chunks: [Buffer.from(text), big], afterSent: [() => ran.push(`${text}-1`), () => ran.push(`${text}-2`)] };
  });
  t.after(() => server.close());
  const sock = connect(port, '127.0.0.1');
  const got = responses(sock, 3);
  sock.write(Buffer.concat([frame('a'), frame('b'), frame('c')]));
  const { frames } = await got;
  await until(() => ran.length === 6, 'six callbacks');
  sock.destroy();
  assert.deepEqual(frames.map((s) => s.length), [1 + 256 * 1024, 1 + 256 * 1024, 1 + 256 * 1024]);
  assert.deepEqual(ran, ['a-1', 'a-2', 'b-1', 'b-2', 'c-1', 'c-2']);
});

test('afterSent never runs for a response still queued when the connection closes (slow reader)', async (t) => {
  let ran = 0;
  // 48 MiB cannot all be in the kernel's loopback buffers while the client reads nothing.
  const payload = Buffer.alloc(48 * 1024 * 1024, 1);
  const { server, port } = await serve(() => ({ chunks: [payload], afterSent: [() => ran++] }));
  t.after(() => server.close());
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.pause();
  let received = 0;
  sock.on('data', (c: Buffer) => (received += c.length));
  sock.write(frame('x'));
  await until(() => server.connectionCount === 1, 'the connection');
  // Give a wrong implementation (running callbacks on write() rather than on flush) time to run.
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(ran, 0, 'ran while the response was still queued');
  sock.destroy();
  await until(() => server.connectionCount === 0, 'the server to see the close');
  await new Promise((r) => setImmediate(r));
  assert.equal(ran, 0, 'ran although the response was never fully written');
  assert.ok(received < payload.length);
});

test('a slow reader that resumes gets its whole response, then afterSent runs once', async (t) => {
  let ran = 0;
  const payload = Buffer.alloc(32 * 1024 * 1024, 7);
  const { server, port } = await serve(() => ({ chunks: [payload], afterSent: [() => ran++] }));
  t.after(() => server.close());
  const sock = connect(port, '127.0.0.1');
  await new Promise<void>((r) => sock.once('connect', () => r()));
  sock.pause();
  const got = new Promise<number>((resolve) => {
    let n = 0;
    sock.on('data', (c: Buffer) => {
      n += c.length;
      if (n === 4 + payload.length) resolve(n);
    });
  });
  sock.write(frame('x'));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ran, 0);
  sock.resume();
  assert.equal(await got, 4 + payload.length);
  await until(() => ran > 0, 'the callback');
  sock.destroy();
  assert.equal(ran, 1);
});

/** A deterministic generator for split points (xorshift32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

test('frames cut into reads at arbitrary points arrive intact and in order', async (t) => {
  const { server, port } = await serve((f) => [f]);
  t.after(() => server.close());
  const random = seeded(20240611);
  const payloads = Array.from({ length: 40 }, (_, i) => `${i}:${'x'.repeat(Math.floor(random() * 900))}`);
  payloads.push(''); // and a zero-length frame among them
  const all = Buffer.concat(payloads.map(frame));
  const sock = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  const got = responses(sock, payloads.length);
  await new Promise<void>((r) => sock.once('connect', () => r()));
  for (let at = 0; at < all.length; ) {
    const n = 1 + Math.floor(random() * 700);
    sock.write(all.subarray(at, at + n));
    at += n;
    await new Promise((r) => setImmediate(r)); // let most pieces be reads of their own
  }
  const { frames } = await got;
  sock.destroy();
  assert.deepEqual(frames, payloads);
  assert.equal(server.requestMemory.usedBytes, 0);
});

/** Opens a connection and waits for it to be connected. */
async function open(port: number): Promise<Socket> {
  const sock = connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  sock.on('error', () => {});
  await new Promise<void>((r) => sock.once('connect', () => r()));
  return sock;
}

test('queued.max.request.bytes: a frame spanning reads waits for memory, whole frames never do, and closing gives memory back', async (t) => {
  const { server, port } = await serve((f) => [Buffer.from(`len:${f.length}`)], { queuedMaxRequestBytes: 1000 });
  t.after(() => server.close());
  const pool = server.requestMemory;
  const sizePrefix = (n: number) => {
    const b = Buffer.alloc(4);
    b.writeInt32BE(n);
    return b;
  };
  // a and b reserve their frames' full sizes (b overdraws: some memory was left when it asked).
  const a = await open(port);
  a.write(Buffer.concat([sizePrefix(800), Buffer.alloc(100)]));
  await until(() => pool.usedBytes === 800, 'a to reserve 800 bytes');
  const b = await open(port);
  b.write(Buffer.concat([sizePrefix(900), Buffer.alloc(10)]));
  await until(() => pool.usedBytes === 1700, 'b to reserve 900 bytes');
  // c finds the pool spent: it waits, muted, and its frame is not answered even when complete.
  const c = await open(port);
  const cAnswer = responses(c, 1);
  c.write(Buffer.concat([sizePrefix(500), Buffer.alloc(10)]));
  await until(() => pool.waitingCount === 1, 'c to wait for memory');
  c.write(Buffer.alloc(490));
  // d's frames each arrive within one read: they hold no memory beyond that read and are answered.
  const d = await open(port);
  const dAnswers = responses(d, 2);
  d.write(Buffer.concat([frame('hi'), frame('there')]));
  assert.deepEqual((await dAnswers).frames, ['len:2', 'len:5']);
  assert.equal(pool.waitingCount, 1);
  // a completes: its memory goes to c, which is read on and answered.
  const aAnswer = responses(a, 1);
  a.write(Buffer.alloc(700));
  assert.deepEqual((await aAnswer).frames, ['len:800']);
  assert.deepEqual((await cAnswer).frames, ['len:500']);
  await until(() => pool.usedBytes === 900 && pool.waitingCount === 0, 'only b to hold memory');
  // b goes away mid-frame: its reservation is released.
  b.destroy();
  await until(() => pool.usedBytes === 0, 'b to release its memory');
  for (const s of [a, c, d]) s.destroy();
});

test('a connection waiting for memory that closes leaves the queue; the next waiter is served', async (t) => {
  const { server, port } = await serve((f) => [Buffer.from(`len:${f.length}`)], { queuedMaxRequestBytes: 1000 });
  t.after(() => server.close());
  const pool = server.requestMemory;
  const sized = (n: number, sent: number) => {
    const b = Buffer.alloc(4 + sent);
    b.writeInt32BE(n);
    return b;
  };
  const holder = await open(port);
  holder.write(sized(1000, 1));
  await until(() => pool.usedBytes === 1000, 'the holder to reserve');
  const leaver = await open(port);
  leaver.write(sized(600, 1));
  const waiter = await open(port);
  const answer = responses(waiter, 1);
  waiter.write(sized(600, 599));
  await until(() => pool.waitingCount === 2, 'two waiters');
  waiter.write(Buffer.alloc(1)); // the frame's last byte, read only once memory is granted
  leaver.destroy();
  await until(() => pool.waitingCount === 1, 'the leaver to leave the queue');
  holder.destroy();
  assert.deepEqual((await answer).frames, ['len:600']);
  await until(() => pool.usedBytes === 0 && pool.waitingCount === 0, 'all memory back');
  waiter.destroy();
});

test('the sweep closes idle connections and requests that do not arrive within the read timeout, never early', async (t) => {
  let now = 1_000_000;
  const { server, port } = await serve((f) => [Buffer.from(`len:${f.length}`)], { idleTimeoutMs: 10_000, requestReadTimeoutMs: 3_000 }, () => now);
  t.after(() => server.close());
  // Both start at the same clock reading: one sends nothing, the other half a frame.
  const idle = await open(port);
  const idleClosed = responses(idle, 1);
  const trickle = await open(port);
  const trickleClosed = responses(trickle, 1);
  trickle.write(Buffer.concat([Buffer.from([0, 0, 0, 8]), Buffer.from('half')]));
  const busy = await open(port);
  await until(() => server.connectionCount === 3 && server.requestMemory.usedBytes === 8, 'three connections, one mid-frame');
  /** Sweeps, then gives any close it started time to reach the server's count. */
  const sweepAndSettle = async () => {
    server.sweep();
    await new Promise((r) => setTimeout(r, 50));
  };
  server.sweep();
  // More bytes of the same frame do not extend its deadline (the sweep's interval is 300 ms here).
  now += 3_000;
  trickle.write(Buffer.from('m'));
  await sweepAndSettle();
  assert.equal(server.connectionCount, 3, 'closed before its read timeout plus the clock slack');
  now += 300;
  server.sweep();
  assert.equal((await trickleClosed).closed, true);
  // A request resets the idle time of its connection; the silent one closes at 10 s.
  const busyAnswer = responses(busy, 1);
  busy.write(frame('ping!!!!'));
  assert.deepEqual((await busyAnswer).frames, ['len:8']);
  now += 6_000;
  await sweepAndSettle();
  assert.equal(server.connectionCount, 2, 'an idle connection closed early');
  now += 1_100;
  server.sweep();
  assert.equal((await idleClosed).closed, true);
  await until(() => server.connectionCount === 1, 'the server to see the close');
  await sweepAndSettle();
  assert.equal(server.connectionCount, 1, 'the connection that sent a request 7 s ago was closed');
  busy.destroy();
});
