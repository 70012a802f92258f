// Unauthenticated input against a SASL listener, from a seeded generator (the seed is printed
// with every failure and can be set with TRIBUTARY_FUZZ_SEED): random frames, frames declaring
// huge sizes, floods of failed SASL exchanges and senders that trickle a byte at a time. Every
// hostile connection is closed, the broker's memory stays bounded, and an authenticated client
// on the same listener keeps producing and consuming throughout.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BrokerProcess, freePort } from '../helpers/broker-process.js';
import { kcat } from '../helpers/clients.js';
import { API_VERSIONS, exchange, header, int16, int32, rssKiB, sized, str16 } from './raw-frames.js';

const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";';
const SEED = Number(process.env['TRIBUTARY_FUZZ_SEED'] ?? Math.floor(Math.random() * 2 ** 31));

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe(`unauthenticated input on a SASL listener (seed ${SEED})`, () => {
  let broker: BrokerProcess;
  let port = 0;
  const random = rng(SEED);
  const sasl = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanisms=PLAIN', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret'];
  let stopTraffic = false;
  let rounds: Promise<number>;

  before(async () => {
    const plain = await freePort();
    port = await freePort();
    const listeners = `PLAINTEXT://127.0.0.1:${plain},SASL_PLAINTEXT://127.0.0.1:${port}`;
    broker = new BrokerProcess({
      port: plain,
      overrides: {
        listeners,
        'advertised.listeners': listeners,
        'num.partitions': '1',
        'sasl.enabled.mechanisms': 'PLAIN',
        'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS,
        'socket.request.read.timeout.ms': '2000',
      },
    });
    await broker.start();
    // An authenticated client on the attacked listener, for the whole suite.
    rounds = (async () => {
      let round = 0;
      while (!stopTraffic) {
        const p = await kcat(['-P', '-b', `127.0.0.1:${port}`, ...sasl, '-t', 'fuzz-ok', '-p', '0'], { input: `r${round}\n` });
        assert.equal(p.code, 0, `seed ${SEED}: produce round ${round}: ${p.stderr}`);
        round++;
      }
      return round;
    })();
    rounds.catch(() => {});
  });
  after(async () => {
    stopTraffic = true;
    await rounds.catch(() => {});
    await broker?.destroy();
  });

  it('closes connections sending random frames, without answering anything but ApiVersions', async () => {
    const attempts = Array.from({ length: 120 }, () => {
      const size = Math.floor(random() * 600);
      const body = Buffer.alloc(size);
      for (let i = 0; i < size; i++) body[i] = Math.floor(random() * 256);
      // Never a valid ApiVersions or SASL request header: api key above every known key.
      if (size >= 2) body.writeInt16BE(1000 + Math.floor(random() * 30000), 0);
      return exchange(port, sized(body), 3000);
    });
    const outcomes = await Promise.all(attempts);
    outcomes.forEach((o, i) => {
      assert.equal(o.closed, true, `seed ${SEED}: random frame ${i} left its connection open`);
      assert.equal(o.received.length, 0, `seed ${SEED}: random frame ${i} was answered`);
    });
  });

  it('closes connections declaring huge frames at once, without buffering them', async () => {
    const outcomes = await Promise.all(Array.from({ length: 60 }, () => exchange(port, int32(524_289 + Math.floor(random() * 2 ** 30)), 3000)));
    outcomes.forEach((o, i) => assert.equal(o.closed, true, `seed ${SEED}: huge frame ${i} left its connection open`));
  });

  it('closes each connection after its failed SASL exchange, however many', async () => {
    const handshake = sized(Buffer.concat([header(17, 1, 1), str16('PLAIN')]));
    const token = (password: string) => {
      const t = Buffer.from(`\u0000alice\u0000${password}`);
      // SaslAuthenticate v0: bytes auth_bytes (int32 length + bytes); then the next request.
      return sized(Buffer.concat([header(36, 0, 2), int32(t.length), t]));
    };
    const again = sized(Buffer.concat([header(API_VERSIONS, 0, 3)]));
    const outcomes = await Promise.all(Array.from({ length: 80 }, (_, i) => exchange(port, [handshake, token(`wrong-${i}-${Math.floor(random() * 1e9)}`), again], 5000, 20)));
    outcomes.forEach((o, i) => {
      assert.equal(o.closed, true, `seed ${SEED}: failed exchange ${i} left its connection open`);
      // Two answers (handshake, authenticate), then the close instead of the third.
      assert.ok(o.received.length > 0, `seed ${SEED}: exchange ${i} got no answer`);
    });
  });

  it('closes trickling senders at the request read timeout', async () => {
    // 1 byte every 300 ms of an ApiVersions request: 14 bytes would take 4 s, above the 2 s bound.
    const frame = sized(Buffer.concat([header(API_VERSIONS, 0, 9), int16(0)]));
    const bytes = [...frame].map((b) => Buffer.from([b]));
    const outcomes = await Promise.all(Array.from({ length: 20 }, () => exchange(port, bytes, 8000, 300)));
    outcomes.forEach((o, i) => {
      assert.equal(o.closed, true, `seed ${SEED}: trickling sender ${i} was not closed`);
      assert.equal(o.received.length, 0, `seed ${SEED}: trickling sender ${i} was answered`);
    });
  });

  it('kept serving the authenticated client throughout, with bounded memory', async () => {
    stopTraffic = true;
    const done = await rounds;
    assert.ok(done >= 3, `seed ${SEED}: only ${done} authenticated produce rounds completed`);
    const c = await kcat(['-C', '-b', `127.0.0.1:${port}`, ...sasl, '-t', 'fuzz-ok', '-p', '0', '-o', 'beginning', '-e', '-q']);
    assert.deepEqual(c.stdout.trim().split('\n'), Array.from({ length: done }, (_, i) => `r${i}`));
    assert.ok(rssKiB(broker.pid!) < 400 * 1024, `seed ${SEED}: broker RSS ${rssKiB(broker.pid!)} KiB`);
  });
});
