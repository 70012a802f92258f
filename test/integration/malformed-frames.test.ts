// Hostile input over raw TCP (node:net) against a broker process: every malformed frame closes
// its own connection (or gets Kafka's error answer), the broker logs it, kcat on other connections
// keeps producing and consuming throughout, and the broker's memory stays bounded.
// Frames are assembled by hand here (raw-frames.ts), not with the project's codecs, so a bug
// mirrored in our encoder and decoder cannot hide.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import { batch } from '../../src/protocol/records/test-helpers.js';
import { freePort, startBroker, type BrokerProcess } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';
import { API_METADATA, API_PRODUCE, API_VERSIONS, countMatches, exchange, header, int16, int32, produceBody, rssKiB, sized, str16 } from './raw-frames.js';
import { assertOk, kcatConsume, kcatProduce, kcatTraffic } from './support.js';

const MAX_REQUEST_BYTES = 1024 * 1024;

/** gzip of `totalBytes` zero bytes, produced in chunks so the test itself stays small. */
async function gzipOfZeros(totalBytes: number): Promise<Buffer> {
  const gz = createGzip({ level: zlibConstants.Z_BEST_COMPRESSION });
  const out: Buffer[] = [];
  gz.on('data', (c: Buffer) => out.push(c));
  const done = new Promise<void>((r) => gz.on('end', () => r()));
  const chunk = Buffer.alloc(1024 * 1024);
  for (let written = 0; written < totalBytes; written += chunk.length) {
    if (!gz.write(chunk)) await new Promise<void>((r) => gz.once('drain', () => r()));
  }
  gz.end();
  await done;
  return Buffer.concat(out);
}

describe('malformed frames', () => {
  let broker: BrokerProcess;
  let traffic: { stop(): Promise<number> } | null = null;
  let controllerPort = 0;

  before(async () => {
    // Two listeners, as a combined broker/controller has: hostile bytes must be harmless on both.
    const port = await freePort();
    controllerPort = await freePort();
    broker = await startBroker({
      port,
      overrides: {
        listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
        'socket.request.max.bytes': String(MAX_REQUEST_BYTES),
        'num.partitions': '1',
      },
    });
    // Well-behaved traffic on other connections for the whole suite.
    traffic = kcatTraffic(broker.bootstrap, 'well-behaved');
  });

  after(async () => {
    await traffic?.stop().catch(() => {});
    await broker?.destroy();
  });

  /** Sends `bytes`, expects the broker to drop the connection without answering, and to log it. */
  async function expectClosed(bytes: Buffer | Buffer[], logPattern: RegExp, port = broker.port, gapMs = 0): Promise<void> {
    const logged = countMatches(broker.logs, logPattern);
    const out = await exchange(port, bytes, 3000, gapMs);
    // A broker that died closes the connection too: check it is still there.
    assert.ok(broker.running, `the broker exited:\n${broker.logs.slice(-2000)}`);
    assert.equal(out.closed, true, 'connection left open');
    assert.equal(out.received.length, 0, `unexpected answer ${out.received.toString('hex')}`);
    // The broker's log line arrives on its stderr, possibly just after the close.
    const deadline = Date.now() + 5000;
    while (countMatches(broker.logs, logPattern) <= logged) {
      assert.ok(Date.now() < deadline, `no log line matching ${logPattern}:\n${broker.logs.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  it('closes only the connection on a frame too short for a request header (0..7 bytes), on both listeners, whole or split', async () => {
    for (const port of [broker.port, controllerPort]) {
      for (let size = 0; size <= 7; size++) {
        const bytes = Buffer.concat([int32(size), Buffer.alloc(size, 0x01)]);
        const logged = new RegExp(`malformed request header: ${size} bytes`);
        await expectClosed(bytes, logged, port);
        // The size prefix split in two reads, then the rest; then every byte a read of its own.
        await expectClosed([bytes.subarray(0, 2), bytes.subarray(2)], logged, port, 20);
        await expectClosed([...bytes].map((b) => Buffer.from([b])), logged, port, 10);
      }
    }
    // The size prefix of the next frame in the same read as a zero-length frame.
    await expectClosed(Buffer.concat([int32(0), int32(8)]), /malformed request header: 0 bytes/);
  });

  it('closes the connection on a negative frame size', async () => {
    await expectClosed(int32(-5), /request size -5 is outside/);
  });

  it('closes the connection on a frame above socket.request.max.bytes without buffering it', async () => {
    await expectClosed(Buffer.concat([int32(MAX_REQUEST_BYTES + 1), Buffer.alloc(1024)]), new RegExp(`request size ${MAX_REQUEST_BYTES + 1} is outside`));
    await expectClosed(int32(0x7fffffff), /request size 2147483647 is outside/);
  });

  it('closes the connection on garbage after a valid size', async () => {
    const garbage = Buffer.from('\xde\xad\xbe\xef not a kafka request at all \x00\xff\x00\xff', 'latin1');
    await expectClosed(sized(garbage), /closing connection/);
  });

  it('closes the connection on an unknown api key', async () => {
    await expectClosed(sized(header(9999, 0, 1)), /unsupported api key 9999/);
  });

  it('closes the connection on an unsupported Metadata version', async () => {
    await expectClosed(sized(Buffer.concat([header(API_METADATA, 99, 2), int32(-1)])), /unsupported version 99 of MetadataRequest/);
  });

  it('closes the connection on a truncated body', async () => {
    // Metadata v1 declaring five topics, carrying half of the first one's name.
    await expectClosed(sized(Buffer.concat([header(API_METADATA, 1, 3), int32(5), int16(20), Buffer.from('abc')])), /malformed MetadataRequest v1/);
    // A size prefix promising more than is sent, then the client goes away: nothing to answer.
    const out = await exchange(broker.port, Buffer.concat([int32(100), header(API_METADATA, 1, 4)]), 300);
    assert.equal(out.received.length, 0);
  });

  it('closes the connection on a ProduceRequest declaring 2^31-1 topics without allocating for them', async () => {
    const rssBefore = rssKiB(broker.pid!);
    const body = Buffer.concat([header(API_PRODUCE, 3, 5), int16(-1), int16(1), int32(1000), int32(0x7fffffff), str16('t')]);
    await expectClosed(sized(body), /malformed ProduceRequest v3/);
    // The same declared count for a flexible version (v9): a compact array length as a varint.
    const flexHeader = Buffer.concat([header(API_PRODUCE, 9, 6), Buffer.from([0])]);
    const flexBody = Buffer.concat([flexHeader, Buffer.from([0]), int16(1), int32(1000), Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07])]);
    await expectClosed(sized(flexBody), /malformed ProduceRequest v9/);
    assert.ok(rssKiB(broker.pid!) - rssBefore < 64 * 1024, 'RSS grew by more than 64 MiB');
  });

  it('refuses a gzip bomb on produce with CORRUPT_MESSAGE, inflating no more than the bound', async () => {
    // Auto-create the topic first.
    await kcatProduce(broker.bootstrap, 'bomb', ['k:v'], ['-p', '0']);
    const payload = await gzipOfZeros(512 * 1024 * 1024); // about 500 KiB on the wire
    assert.ok(payload.length < MAX_REQUEST_BYTES);
    const rssBefore = rssKiB(broker.pid!);
    const request = sized(Buffer.concat([header(API_PRODUCE, 3, 7), produceBody('bomb', 0, batch(payload, { count: 1000, attributes: 1, baseTimestamp: BigInt(Date.now()) }), 1)]));
    const out = await exchange(broker.port, request, 5000);
    // The broker answers (acks=1) and stays small: the records are walked after a decompression
    // bounded by 64 x max.message.bytes, which the bomb passes.
    assert.ok(out.received.length >= 8, `no produce response (closed: ${out.closed})`);
    assert.equal(out.received.readInt32BE(4), 7, 'correlation id');
    assert.ok(rssKiB(broker.pid!) - rssBefore < 128 * 1024, `RSS grew from ${rssBefore} KiB to ${rssKiB(broker.pid!)} KiB`);
    // v3 body: topics count, name (int16 + 4 bytes), partitions count, index, then the error code.
    assert.equal(out.received.readInt16BE(8 + 4 + 2 + 4 + 4 + 4), 2, 'produce error code (CORRUPT_MESSAGE)');
    // Nothing of it was stored: the partition holds the one good record.
    const got = await kcatConsume(broker.bootstrap, 'bomb', 'beginning', ['-p', '0']);
    assert.deepEqual(got.map((r) => r.value), ['v']);
    assert.doesNotMatch(broker.logs, /request handler failed/);
  });

  it('answers ApiVersions with a too-high version as v0 with UNSUPPORTED_VERSION and the supported ranges', async () => {
    const out = await exchange(broker.port, sized(Buffer.concat([header(API_VERSIONS, 127, 42), Buffer.from([0, 0, 0])])), 1000);
    assert.ok(out.received.length >= 12, 'no answer');
    const size = out.received.readInt32BE(0);
    assert.equal(out.received.length, size + 4, 'exactly one response frame');
    assert.equal(out.received.readInt32BE(4), 42, 'correlation id');
    // v0 body: error code int16, then an int32-counted array of (key, min, max) int16 triples.
    assert.equal(out.received.readInt16BE(8), 35, 'UNSUPPORTED_VERSION');
    const count = out.received.readInt32BE(10);
    assert.ok(count >= 8 && size === 4 + 2 + 4 + count * 6, `array of ${count} entries in a body of ${size}`);
    const ranges = new Map<number, [number, number]>();
    for (let i = 0; i < count; i++) {
      const at = 14 + i * 6;
      ranges.set(out.received.readInt16BE(at), [out.received.readInt16BE(at + 2), out.received.readInt16BE(at + 4)]);
    }
    assert.deepEqual(ranges.get(API_VERSIONS), [0, 4]);
    assert.ok(ranges.has(API_PRODUCE) && ranges.has(API_METADATA));
    assert.equal(out.closed, false, 'the connection stays open after the ApiVersions answer');
  });

  it('kept serving well-behaved clients throughout, with bounded memory', async () => {
    const rounds = await traffic!.stop();
    traffic = null;
    assert.ok(rounds >= 3, `only ${rounds} produce/consume rounds completed`);
    assert.ok(rssKiB(broker.pid!) < 512 * 1024, `broker RSS ${rssKiB(broker.pid!)} KiB`);
  });
});
