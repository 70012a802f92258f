import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { rootLogger } from '../logger.js';
import { CloseConnection, type FrameHandler } from './connection.js';
import { SocketServer } from './socket-server.js';

const limits = { maxRequestBytes: 1024, maxInFlightRequests: 8, maxQueuedResponseBytes: 1 << 20 };
const quiet = rootLogger.child({}, { level: 'silent' });

async function serve(handler: FrameHandler): Promise<{ server: SocketServer; port: number }> {
  const server = new SocketServer(handler, limits, quiet);
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
